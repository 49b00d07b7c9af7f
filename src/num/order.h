/*
** order.h: private interface of sorting, selection and order statistics
** (order.c) and of the other statistics (stats.c), for their Lua binding
** (lstats.c).
**
** `dim` is 0, 1 or 2 throughout: 1 works down each column, 2 along each
** row, 0 over every element in row order (a result then has n = r*c
** elements, read and written in row order of a contiguous out).  Like the
** rest of the core nothing here raises: functions return 0 or a negative
** MPL_E* code, MPL_EINTR when mpl_interrupt() stopped them.
*/
#ifndef MPL_ORDER_H
#define MPL_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ---- order.c ---- */

/* The lines of m for dim: count lines of len elements, the first at p,
** lines ls apart, elements es apart (dim 0: one line of every element,
** which m must then hold as one contiguous run: see mpl__as_run). */
typedef struct mpl__lines {
  double *p;
  size_t count, len;
  ptrdiff_t ls, es;
} mpl__lines;
mpl__lines mpl__lines_of(const mpl_mat *m, int dim);

/* For dim 0, m as one run of its elements in row order: itself when it is
** contiguous, else a copy left in *tmp (the caller releases it). */
int mpl__as_run(const mpl_mat **m, int dim, mpl_mat **tmp);

/* Sorted values into vals and/or 1-based positions into idx (either may
** be NULL; each has m's shape, or n elements for dim 0).  Stable: equal
** elements keep their order (-0 equals 0); NaN last, also when desc. */
int mpl__sort(const mpl_mat *m, int dim, int desc, mpl_mat *vals, mpl_mat *idx);

/* The distinct values of m, ascending (one NaN last when m has any), into
** out (room for r*c values); *k is how many. */
int mpl__unique(const mpl_mat *m, double *out, size_t *k);

/* The q-quantile (0 <= q <= 1) by linear interpolation between the order
** statistics around (n - 1) q, as NumPy's default; median: the middle
** element or the mean of the middle two.  NaN when a line holds a NaN.
** res gets the one result of dim 0, out (1 x c or r x 1) those of dim 1
** or 2.  Lines must not be empty (MPL_EINVAL). */
int mpl__quantile(const mpl_mat *m, int dim, double q, int median, double *res,
                  mpl_mat *out);

/* 1-based position of the first largest (max) or smallest element of
** each line, or of the first NaN; lines must not be empty. */
int mpl__argext(const mpl_mat *m, int dim, int max, double *res, mpl_mat *out);

/* ---- stats.c ---- */

/* Product of the elements of each line (1 for an empty one). */
int mpl__prod(const mpl_mat *m, int dim, double *res, mpl_mat *out);

/* Variance of each line: the sum of squared deviations from the mean over
** max(n - ddof, 0), as NumPy computes it. */
int mpl__var(const mpl_mat *m, int dim, double ddof, double *res, mpl_mat *out);

/* Running sums (prod 0) or products (prod 1) along each line into out. */
int mpl__cumulate(const mpl_mat *m, int dim, int prod, mpl_mat *out);

/* Differences of neighbours along each line (dim 1 or 2): out is
** (r-1) x c or r x (c-1). */
int mpl__diff(const mpl_mat *m, int dim, mpl_mat *out);

/* Covariance of the columns of m (rows are observations) into the c x c
** out, normalised by r - 1; corr: the correlation coefficients instead,
** clipped to [-1, 1]. */
int mpl__cov(const mpl_mat *m, int corr, mpl_mat *out);

/* ---- sample.c: from the seeded streams of mat.rand ---- */

/* A uniform integer in [0, n), n >= 1, without bias. */
uint64_t mpl__rng_below(mpl__rng *g, uint64_t n);

/* out[i] = lo + a uniform integer in [0, span] for i < n. */
void mpl__randint(mpl__rng *g, double lo, uint64_t span, double *out, size_t n);

/* A random order of 1..n into out (Fisher-Yates). */
int mpl__permutation(mpl__rng *g, double *out, size_t n);

/* k elements of src (n of them, in order) into out: with replacement
** (replace), else k <= n distinct positions (a partial Fisher-Yates). */
int mpl__choice(mpl__rng *g, const double *src, size_t n, size_t k, int replace,
                double *out);

#endif
