/*
** picture.h: the numeric parts of pictures -- histograms (mat.histogram),
** the finite range of a matrix, a large matrix reduced to the resolution
** of its picture, and lines or points rasterised as braille dots for the
** terminal.  The drawing itself is lua/plot.lua's (and gnuplot's).
*/
#ifndef MPL_PICTURE_H
#define MPL_PICTURE_H

#include "internal.h"

/* The smallest and largest finite elements of m (only the positive ones
** when positive is set) and how many there are (*count 0: *lo, *hi
** untouched).  0 or MPL_EINTR. */
int mpl__finite_range(const mpl_mat *m, int positive, double *lo, double *hi,
                      size_t *count);

/* NumPy's histogram of m's elements with counts->cols equal bins:
** range [*lo, *hi] (NULL: the finite range of m, [0, 1] without finite
** elements; equal ends are widened by 0.5 each way), edges (1 x bins+1)
** as np.linspace gives them, the last bin closed on the right; NaN, +-inf
** and values outside the range are not counted.  0 or MPL_EINTR. */
int mpl__histogram(const mpl_mat *m, const double *lo, const double *hi,
                   mpl_mat *counts, mpl_mat *edges);

/* out (at most m's size) gets the mean of the finite elements of each
** block of m (NaN where a block has none); out's row i covers m's rows
** [i*R/r, (i+1)*R/r), columns likewise.  The same pass finds what
** mpl__finite_range finds (r->lo, r->hi, r->count).  0, MPL_EINVAL,
** MPL_ENOMEM or MPL_EINTR. */
typedef struct mpl__range {
  double lo, hi;
  size_t count;
} mpl__range;
int mpl__block_mean(const mpl_mat *m, mpl_mat *out, mpl__range *r);

/* Braille dots of the n points (x_i, y_i) (x NULL: x_i = i, 1-based) in
** the box x0..x1, y0..y1 on a grid of w x h cells (2w x 4h dots, y up),
** joined by lines unless points is set; a point that is not finite (or
** not positive with logy, where y is drawn as log10 y and y0, y1 are
** log10 too) breaks the line.  cells[k*w + j] gets cell (k, j)'s eight
** dots as the low byte of its code point U+2800 + bits. */
typedef struct mpl__canvas {
  size_t w, h;
  double x0, x1, y0, y1;
  int points, logy;
} mpl__canvas;
int mpl__braille(const mpl__canvas *cv, const mpl_mat *x, const mpl_mat *y,
                 unsigned char *cells);

#endif
