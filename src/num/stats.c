/*
** stats.c: products, variances, running sums and products, differences,
** covariance and correlation.
**
** A variance is NumPy's two passes: the mean (a pairwise sum over n), then
** the pairwise sum of the squared deviations, over max(n - ddof, 0).  The
** pairwise tree is the one reduce.c and NumPy use (leaves of at most 128
** elements added with eight accumulators, longer runs cut in two at a
** multiple of 8), so a whole contiguous matrix gives NumPy's bits; it is
** reduce.c's own (mpl__pairwise), so long lines share out their subtrees
** over the helper threads as sums do, without changing a bit.
** Products use eight accumulators too (a chain of dependent multiplies
** would run at a quarter of the speed), and a long contiguous one is cut
** into 64 pieces fixed by its length, multiplied on the helper threads
** and then in order.  Running sums and products are sequential, as
** NumPy's, and so are their bits.  Covariance centres a copy of the
** matrix and hands the product to OpenBLAS.
*/
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "blas.h"
#include "order.h"

/* The product of a contiguous run: eight accumulators as four vectors of
** two, lane k multiplying exactly what a[k] does in line_prod. */
static double run_prod(const double *x, size_t n) {
  mpl__v2d a0 = {1, 1}, a1 = a0, a2 = a0, a3 = a0, v0, v1, v2, v3;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&v0, x + i, sizeof v0);
    memcpy(&v1, x + i + 2, sizeof v1);
    memcpy(&v2, x + i + 4, sizeof v2);
    memcpy(&v3, x + i + 6, sizeof v3);
    a0 *= v0, a1 *= v1, a2 *= v2, a3 *= v3;
  }
  double t =
      ((a0[0] * a0[1]) * (a1[0] * a1[1])) * ((a2[0] * a2[1]) * (a3[0] * a3[1]));
  for (; i < n; i++) t *= x[i];
  return t;
}

static double line_prod(const double *x, ptrdiff_t s, size_t n) {
  if (s == 1) return run_prod(x, n);
  double a[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) a[k] *= x[(ptrdiff_t)(i + (size_t)k) * s];
  double t = ((a[0] * a[1]) * (a[2] * a[3])) * ((a[4] * a[5]) * (a[6] * a[7]));
  for (; i < n; i++) t *= x[(ptrdiff_t)i * s];
  return t;
}

/* A long contiguous product over the helper threads: PROD_PIECES pieces
** fixed by n alone (the last one takes the rest), each multiplied by
** run_prod, then the pieces' products in order, so the bits never depend
** on how many threads ran. */
#define PROD_MIN ((size_t)1 << 20)
#define PROD_PIECES 64

typedef struct prodjob {
  const double *x;
  size_t n, piece;
  double res[PROD_PIECES];
} prodjob;

static void prod_piece(void *ctx, size_t lo, size_t hi) {
  prodjob *j = ctx;
  for (size_t p = lo; p < hi; p++) {
    size_t len = p + 1 < PROD_PIECES ? j->piece : j->n - p * j->piece;
    j->res[p] = run_prod(j->x + p * j->piece, len);
  }
}

static double long_prod(const double *x, size_t n) {
  prodjob j = {x, n, n / PROD_PIECES / 8 * 8, {0}};
  if (mpl__parfor(PROD_PIECES, 1, 1, prod_piece, &j)) return 0;
  double t = 1;
  for (int p = 0; p < PROD_PIECES; p++) t *= j.res[p];
  return t;
}

static double line_var(const double *x, ptrdiff_t s, size_t n, double ddof) {
  double mu = mpl__pairwise(x, s, n, 0, 0) / (double)n;
  double d = (double)n - ddof;
  return mpl__pairwise(x, s, n, 1, mu) / (d > 0 ? d : 0);
}

static double prod_of(const double *x, ptrdiff_t s, size_t n) {
  return s == 1 && n >= PROD_MIN ? long_prod(x, n) : line_prod(x, s, n);
}

/* One result per line of m, by f (0: product, 1: variance). */
static int per_line(const mpl_mat *m, int dim, int what, double ddof,
                    double *res, mpl_mat *out) {
  if (!m || dim < 0 || dim > 2) return MPL_EINVAL;
  mpl_mat *tmp;
  int err = mpl__as_run(&m, dim, &tmp);
  if (err) return err;
  mpl__lines l = mpl__lines_of(m, dim);
  ptrdiff_t os = out ? (dim == 1 ? out->cs : out->rs) : 0;
  size_t mask = mpl__tick_mask(l.len);
  mpl__interrupt_clear();
  for (size_t c = 0; c < l.count; c++) {
    if (!(c & mask) && mpl__interrupt_pending()) break;
    const double *x = l.p + (ptrdiff_t)c * l.ls;
    double v = what ? (l.len ? line_var(x, l.es, l.len, ddof) : NAN)
                    : prod_of(x, l.es, l.len);
    if (dim == 0)
      *res = v;
    else
      out->data[(ptrdiff_t)c * os] = v;
  }
  mpl_mat_release(tmp);
  return mpl__interrupt_check();
}

int mpl__prod(const mpl_mat *m, int dim, double *res, mpl_mat *out) {
  if (dim == 0) *res = 1;
  return per_line(m, dim, 0, 0, res, out);
}

int mpl__var(const mpl_mat *m, int dim, double ddof, double *res,
             mpl_mat *out) {
  if (dim == 0) *res = NAN;
  return per_line(m, dim, 1, ddof, res, out);
}

int mpl__cumulate(const mpl_mat *m, int dim, int prod, mpl_mat *out) {
  if (!m || !out || dim < 0 || dim > 2) return MPL_EINVAL;
  if (out->rows * out->cols != m->rows * m->cols) return MPL_ESHAPE;
  if (dim && (out->rows != m->rows || out->cols != m->cols)) return MPL_ESHAPE;
  if (dim == 0 && !mpl_mat_is_contiguous(out)) return MPL_EINVAL;
  if (!m->rows || !m->cols) return 0; /* N x 0 of any N: O(1) */
  mpl_mat *tmp = NULL;
  int err = 0;
  if (out->st == m->st && out->data != m->data)
    err = mpl_mat_copy(&tmp, m);
  else
    err = mpl__as_run(&m, dim, &tmp);
  if (err) return err;
  if (tmp) m = tmp;
  mpl__lines l = mpl__lines_of(m, dim), o = mpl__lines_of(out, dim);
  size_t mask = mpl__tick_mask(l.len);
  mpl__interrupt_clear();
  for (size_t c = 0; c < l.count; c++) {
    if (!(c & mask) && mpl__interrupt_pending()) break;
    const double *x = l.p + (ptrdiff_t)c * l.ls;
    double *y = (double *)o.p + (ptrdiff_t)c * o.ls, acc = prod ? 1 : 0;
    if (l.es == 1 && o.es == 1) {
      if (prod)
        for (size_t e = 0; e < l.len; e++) y[e] = acc *= x[e];
      else
        for (size_t e = 0; e < l.len; e++) y[e] = acc += x[e];
      continue;
    }
    for (size_t e = 0; e < l.len; e++) {
      double v = x[(ptrdiff_t)e * l.es];
      acc = prod ? acc * v : (e ? acc + v : v);
      y[(ptrdiff_t)e * o.es] = acc;
    }
  }
  mpl_mat_release(tmp);
  return mpl__interrupt_check();
}

int mpl__diff(const mpl_mat *m, int dim, mpl_mat *out) {
  if (!m || !out || (dim != 1 && dim != 2)) return MPL_EINVAL;
  size_t r = m->rows, c = m->cols;
  size_t er = dim == 1 ? (r ? r - 1 : 0) : r,
         ec = dim == 2 ? (c ? c - 1 : 0) : c;
  if (out->rows != er || out->cols != ec) return MPL_ESHAPE;
  if (!er || !ec) return 0; /* N x 0 of any N: O(1) */
  for (size_t i = 0; i < er; i++)
    for (size_t j = 0; j < ec; j++)
      MPL_AT(out, i, j) = dim == 1 ? MPL_AT(m, i + 1, j) - MPL_AT(m, i, j)
                                   : MPL_AT(m, i, j + 1) - MPL_AT(m, i, j);
  return 0;
}

int mpl__cov(const mpl_mat *m, int corr, mpl_mat *out) {
  if (!m || !out) return MPL_EINVAL;
  size_t r = m->rows, c = m->cols;
  if (out->rows != c || out->cols != c) return MPL_ESHAPE;
  if (r > INT_MAX || c > INT_MAX) return MPL_EOVERFLOW;
  if (!mpl__blas()) return MPL_ESYS;
  double *x = malloc((r * c + 1) * sizeof *x);
  double *g = malloc((c * c + 1) * sizeof *g);
  if (!x || !g) {
    free(x);
    free(g);
    return MPL_ENOMEM;
  }
  for (size_t j = 0; j < c; j++) {
    double mu = mpl__pairwise(&MPL_AT(m, 0, j), m->rs, r, 0, 0) / (double)r;
    for (size_t i = 0; i < r; i++) x[i * c + j] = MPL_AT(m, i, j) - mu;
  }
  if (c)
    mpl__blas_or_die()->dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c,
                              (int)c, (int)r, 1.0, x, (int)c, x, (int)c, 0.0, g,
                              (int)c);
  if (!r) memset(g, 0, c * c * sizeof *g);
  double f = (double)r - 1;
  f = 1 / (f > 0 ? f : 0);
  for (size_t i = 0; i < c * c; i++) g[i] *= f;
  for (size_t i = 0; corr && i < c; i++) x[i] = sqrt(g[i * c + i]);
  for (size_t i = 0; i < c; i++)
    for (size_t j = 0; j < c; j++) {
      double v = g[i * c + j];
      if (corr) {
        v = v / x[i] / x[j];
        v = v < -1 ? -1 : v > 1 ? 1 : v;
      }
      MPL_AT(out, i, j) = v;
    }
  free(x);
  free(g);
  return 0;
}
