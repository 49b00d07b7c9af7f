/*
** histogram.c: mat.histogram, counted as NumPy's np.histogram counts with
** equal bins, so that the two agree bin for bin: the edges are
** np.linspace's (i * step + lo, the last one exactly hi), a value's bin is
** first guessed as (v - lo) / (hi - lo) * bins and then moved by one when
** the edges say the guess was rounded the wrong way, and the last bin
** holds its right edge.  NumPy refuses to guess a range from data with
** NaN or infinities; here the range is that of the finite values, which
** are the only ones counted (with a range given, NumPy counts the same).
*/
#include <math.h>

#include "picture.h"

int mpl__finite_range(const mpl_mat *m, int positive, double *lo, double *hi,
                      size_t *count) {
  double a = INFINITY, b = -INFINITY;
  size_t n = 0, mask = mpl__tick_mask(m->cols);
  size_t rows = m->cols ? m->rows : 0; /* an N x 0 matrix has no rows */
  mpl__interrupt_clear();
  for (size_t i = 0; i < rows; i++) {
    if (!(i & mask) && mpl__interrupt_pending()) break;
    const double *p = m->data + (ptrdiff_t)i * m->rs;
    for (size_t j = 0; j < m->cols; j++) {
      double v = p[(ptrdiff_t)j * m->cs];
      if (!isfinite(v) || (positive && !(v > 0))) continue;
      n++;
      if (v < a) a = v;
      if (v > b) b = v;
    }
  }
  *count = n;
  if (n) *lo = a, *hi = b;
  return mpl__interrupt_check();
}

/* NumPy's linspace(lo, hi, bins + 1) into e. */
static void edges_of(double lo, double hi, size_t bins, double *e) {
  double delta = hi - lo, step = delta / (double)bins;
  for (size_t i = 0; i < bins; i++)
    e[i] = step == 0 ? (double)i / (double)bins * delta + lo
                     : (double)i * step + lo;
  e[bins] = hi;
}

/* The bin of v, lo <= v <= hi, as np.histogram finds it. */
static size_t bin_of(double v, double lo, double norm, size_t bins,
                     const double *e) {
  double f = (v - lo) / norm * (double)bins;
  size_t k = f >= 0 ? (f < (double)bins ? (size_t)f : bins) : 0;
  if (k == bins) k--;
  if (v < e[k]) k--;
  if (v >= e[k + 1] && k != bins - 1) k++;
  return k;
}

int mpl__histogram(const mpl_mat *m, const double *lo, const double *hi,
                   mpl_mat *counts, mpl_mat *edges) {
  size_t bins = counts->cols, n = 0;
  double a = 0, b = 1;
  if (lo) {
    a = *lo, b = *hi;
  } else {
    int err = mpl__finite_range(m, 0, &a, &b, &n);
    if (err) return err;
    if (!n) a = 0, b = 1;
  }
  if (a == b) a -= 0.5, b += 0.5;
  double *e = edges->data, *c = counts->data, norm = b - a;
  edges_of(a, b, bins, e);
  for (size_t k = 0; k < bins; k++) c[k] = 0;
  size_t mask = mpl__tick_mask(m->cols), rows = m->cols ? m->rows : 0;
  mpl__interrupt_clear();
  for (size_t i = 0; i < rows; i++) {
    if (!(i & mask) && mpl__interrupt_pending()) break;
    const double *p = m->data + (ptrdiff_t)i * m->rs;
    for (size_t j = 0; j < m->cols; j++) {
      double v = p[(ptrdiff_t)j * m->cs];
      if (v >= a && v <= b) c[bin_of(v, a, norm, bins, e)] += 1;
    }
  }
  return mpl__interrupt_check();
}
