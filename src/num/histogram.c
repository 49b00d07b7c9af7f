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

/* row(p, cs, cols, ctx) for each row of m (p its first element, cs the
** stride), polling for an interrupt: MPL_EINTR when one came.  An N x 0
** matrix has no rows. */
static inline int
each_row(const mpl_mat *m,
         void (*row)(const double *, ptrdiff_t, size_t, void *), void *ctx) {
  size_t mask = mpl__tick_mask(m->cols), rows = m->cols ? m->rows : 0;
  mpl__interrupt_clear();
  for (size_t i = 0; i < rows; i++) {
    if (!(i & mask) && mpl__interrupt_pending()) break;
    row(m->data + (ptrdiff_t)i * m->rs, m->cs, m->cols, ctx);
  }
  return mpl__interrupt_check();
}

typedef struct range {
  int positive;
  double a, b; /* smallest and largest counted */
  size_t n;    /* values counted */
} range;

static void range_row(const double *p, ptrdiff_t cs, size_t cols, void *ctx) {
  range *r = ctx;
  for (size_t j = 0; j < cols; j++) {
    double v = p[(ptrdiff_t)j * cs];
    if (!isfinite(v) || (r->positive && !(v > 0))) continue;
    r->n++;
    if (v < r->a) r->a = v;
    if (v > r->b) r->b = v;
  }
}

int mpl__finite_range(const mpl_mat *m, int positive, double *lo, double *hi,
                      size_t *count) {
  range r = {positive, INFINITY, -INFINITY, 0};
  int err = each_row(m, range_row, &r);
  *count = r.n;
  if (r.n) *lo = r.a, *hi = r.b;
  return err;
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

typedef struct binning {
  double a, b, norm; /* the range and its width */
  size_t bins;
  const double *e; /* the bins + 1 edges */
  double *c;       /* the counts */
} binning;

static void bin_row(const double *p, ptrdiff_t cs, size_t cols, void *ctx) {
  binning *h = ctx;
  for (size_t j = 0; j < cols; j++) {
    double v = p[(ptrdiff_t)j * cs];
    if (v >= h->a && v <= h->b)
      h->c[bin_of(v, h->a, h->norm, h->bins, h->e)] += 1;
  }
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
  binning h = {a, b, b - a, bins, edges->data, counts->data};
  edges_of(a, b, bins, edges->data);
  for (size_t k = 0; k < bins; k++) h.c[k] = 0;
  return each_row(m, bin_row, &h);
}
