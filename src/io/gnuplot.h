/*
** gnuplot.h: one gnuplot process per picture (gnuplot.c).
*/
#ifndef MPL_GNUPLOT_H
#define MPL_GNUPLOT_H

#include "internal.h"

/* A piece of gnuplot's input, in order: text when text is set; else the
** elements of the matrix a in row order as native float64, or with b the
** pairs (a_i, b_i) of the vectors a and b (of one length). */
typedef struct mpl__gp_part {
  const char *text;
  size_t len;
  const mpl_mat *a, *b;
} mpl__gp_part;

/* Run gnuplot on the script made of parts, its output (the terminal's
** bytes) going to the file path, which is complete when this returns 0.
** A regular file is written beside path and renamed over it, so a
** failure leaves path as it was.  Otherwise: MPL_EIO with msg holding
** gnuplot's error output (or why path cannot be written), MPL_ESYS with
** *notfound set when there is no gnuplot on PATH, MPL_ESYS, MPL_ENOMEM,
** MPL_EINTR (gnuplot is killed). */
int mpl__gnuplot(const char *path, const mpl__gp_part *parts, size_t n,
                 char *msg, size_t msglen, int *notfound);

#endif
