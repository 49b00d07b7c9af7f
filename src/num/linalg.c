/*
** linalg.c: solving, inverting, determinants and factorisations through
** OpenBLAS's LAPACK.
**
** LAPACK is column-major and overwrites its input, so every function first
** copies its operands into private buffers (the inputs are never touched)
** and reads its results out of them.  A row-major copy of A is, to LAPACK,
** the transpose of A; where that is all that is needed the copy is a plain
** one: det(A^T) = det(A); the inverse of A^T, read back row-major, is the
** inverse of A; a solve factors A^T and asks LAPACK for the transposed
** solve; a symmetric matrix is its own transpose; and the SVD of A^T gives
** the SVD of A with U and V exchanged.  Only least squares copies A
** column by column.
**
** Beyond LAPACK's own checks (an exactly zero pivot, a non-positive pivot
** in Cholesky, no convergence), solve and inv estimate the reciprocal
** condition number and refuse a matrix whose estimate is below machine
** epsilon: such a matrix is singular to working precision and the "answer"
** would be noise.  chol and eigh refuse a matrix that is not symmetric to
** within sqrt(epsilon) times its largest element, and eigh, svd and lstsq
** refuse NaN and infinity, on which LAPACK's iterations are undefined.
**
** The Fortran routines are declared here with the hidden length argument
** gfortran passes after the others for each character argument.  LAPACK
** integers are 32 bits in Debian's OpenBLAS, so sizes beyond INT_MAX are
** MPL_EOVERFLOW.
*/
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "blas.h"

typedef mpl__la_int la_int;

/* LAPACK through the loaded OpenBLAS (blas.c). */
#define LAPACK(f) (mpl__blas_or_die()->f)

static void fail(mpl__la_info *info, int why) {
  if (info) info->why = why;
}

/* A malloc'd buffer of n doubles (n a product that must not overflow). */
static double *dalloc(size_t a, size_t b, int *err) {
  size_t n;
  if (__builtin_mul_overflow(a, b, &n) || n > SIZE_MAX / sizeof(double)) {
    *err = MPL_EOVERFLOW;
    return NULL;
  }
  double *p = malloc((n ? n : 1) * sizeof(double));
  if (!p) *err = MPL_ENOMEM;
  return p;
}

/* m's elements into buf: row-major (ld = row length), or column-major
** with leading dimension ld. */
static void pack(const mpl_mat *m, double *buf, int colmajor, size_t ld) {
  for (size_t i = 0; i < m->rows; i++)
    for (size_t j = 0; j < m->cols; j++)
      buf[colmajor ? i + j * ld : i * ld + j] = MPL_AT(m, i, j);
}

/* out's elements from buf, laid out like pack's. */
static void unpack(mpl_mat *out, const double *buf, int colmajor, size_t ld) {
  for (size_t i = 0; i < out->rows; i++)
    for (size_t j = 0; j < out->cols; j++)
      MPL_AT(out, i, j) = buf[colmajor ? i + j * ld : i * ld + j];
}

static int fits(size_t n) { return n <= (size_t)INT_MAX; }

/* A LAPACK workspace size from a query, with room to spare, or 0 when it
** does not fit an int. */
static la_int work_size(double q, double least) {
  if (q < least) q = least;
  if (!(q < (double)INT_MAX)) return 0;
  return (la_int)q + 1;
}

static int all_finite(const mpl_mat *m) {
  for (size_t i = 0; i < m->rows; i++)
    for (size_t j = 0; j < m->cols; j++)
      if (!isfinite(MPL_AT(m, i, j))) return 0;
  return 1;
}

/* Symmetric to within sqrt(eps) of the largest magnitude. */
static int symmetric(const mpl_mat *m) {
  double amax = 0;
  size_t n = m->rows;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double v = fabs(MPL_AT(m, i, j));
      if (v > amax) amax = v;
    }
  double tol = sqrt(DBL_EPSILON) * amax;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++)
      if (!(fabs(MPL_AT(m, i, j) - MPL_AT(m, j, i)) <= tol)) return 0;
  return 1;
}

/* The checks every square-matrix function starts with. */
static int square(const mpl_mat *a, mpl__la_info *info) {
  if (info) {
    info->why = MPL__LA_OK;
    info->rcond = 0;
  }
  if (!a) return MPL_EINVAL;
  if (a->rows != a->cols) {
    fail(info, MPL__LA_NOTSQUARE);
    return MPL_EINVAL;
  }
  return fits(a->rows) ? 0 : MPL_EOVERFLOW;
}

/* LU-factor the n x n buf in place (it holds A^T, so the factors are of
** A^T); refuse exactly or numerically singular matrices.  anorm is the
** 1-norm of what buf holds. */
static int lu(double *buf, la_int n, la_int *ipiv, double anorm,
              mpl__la_info *info) {
  la_int inf = 0;
  LAPACK(dgetrf)(&n, &n, buf, &n, ipiv, &inf);
  if (inf > 0) {
    fail(info, MPL__LA_SINGULAR);
    return MPL_EINVAL;
  }
  if (inf < 0) return MPL_EINVAL;
  int err = 0;
  double *work = dalloc(4, (size_t)n, &err);
  la_int *iwork = malloc(sizeof(la_int) * (size_t)n);
  if (!work || !iwork) {
    free(work);
    free(iwork);
    return err ? err : MPL_ENOMEM;
  }
  double rcond = 0;
  LAPACK(dgecon)("1", &n, buf, &n, &anorm, &rcond, work, iwork, &inf, 1);
  free(work);
  free(iwork);
  if (inf == 0 && rcond < DBL_EPSILON) {
    if (info) {
      info->why = MPL__LA_ILLCOND;
      info->rcond = rcond;
    }
    return MPL_EINVAL;
  }
  return 0;
}

/* The 1-norm of A^T, i.e. the largest absolute row sum of A. */
static double row_norm(const mpl_mat *a) {
  double best = 0;
  for (size_t i = 0; i < a->rows; i++) {
    double s = 0;
    for (size_t j = 0; j < a->cols; j++) s += fabs(MPL_AT(a, i, j));
    if (!(s <= best)) best = s;
  }
  return best;
}

int mpl__la_solve(const mpl_mat *a, const mpl_mat *b, mpl_mat *x,
                  mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  if (!b || !x) return MPL_EINVAL;
  if (b->rows != a->rows) {
    fail(info, MPL__LA_SHAPE);
    return MPL_EINVAL;
  }
  if (x->rows != a->cols || x->cols != b->cols) return MPL_ESHAPE;
  size_t n = a->rows, k = b->cols;
  if (!fits(k)) return MPL_EOVERFLOW;
  if (n == 0) return 0;
  double *fa = dalloc(n, n, &err), *fb = fa ? dalloc(n, k, &err) : NULL;
  la_int *ipiv = malloc(sizeof(la_int) * n);
  if (!fa || !fb || !ipiv) {
    err = err ? err : MPL_ENOMEM;
    goto done;
  }
  pack(a, fa, 0, n);
  la_int ln = (la_int)n, lk = (la_int)k, inf = 0;
  if ((err = lu(fa, ln, ipiv, row_norm(a), info)) != 0) goto done;
  if (k) {
    pack(b, fb, 1, n);
    LAPACK(dgetrs)("T", &ln, &lk, fa, &ln, ipiv, fb, &ln, &inf, 1);
    if (inf) {
      err = MPL_EINVAL;
      goto done;
    }
    unpack(x, fb, 1, n);
  }
done:
  free(fa);
  free(fb);
  free(ipiv);
  return err;
}

int mpl__la_inv(const mpl_mat *a, mpl_mat *x, mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  if (!x) return MPL_EINVAL;
  if (x->rows != a->rows || x->cols != a->cols) return MPL_ESHAPE;
  size_t n = a->rows;
  if (n == 0) return 0;
  double *fa = dalloc(n, n, &err), *work = NULL;
  la_int *ipiv = malloc(sizeof(la_int) * n);
  if (!fa || !ipiv) {
    err = err ? err : MPL_ENOMEM;
    goto done;
  }
  pack(a, fa, 0, n);
  la_int ln = (la_int)n, inf = 0, lwork = -1;
  if ((err = lu(fa, ln, ipiv, row_norm(a), info)) != 0) goto done;
  double q = 0;
  LAPACK(dgetri)(&ln, fa, &ln, ipiv, &q, &lwork, &inf);
  lwork = work_size(q, (double)n);
  if (!lwork) {
    err = MPL_EOVERFLOW;
    goto done;
  }
  if (!(work = dalloc((size_t)lwork, 1, &err))) goto done;
  LAPACK(dgetri)(&ln, fa, &ln, ipiv, work, &lwork, &inf);
  if (inf > 0) {
    fail(info, MPL__LA_SINGULAR);
    err = MPL_EINVAL;
    goto done;
  }
  if (inf < 0) {
    err = MPL_EINVAL;
    goto done;
  }
  unpack(x, fa, 0, n);
done:
  free(fa);
  free(work);
  free(ipiv);
  return err;
}

/* The product of U's diagonal, kept as a fraction and a power of two so
** that no partial product overflows or underflows; the sign follows the
** row exchanges. */
int mpl__la_det(const mpl_mat *a, double *det, mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  size_t n = a->rows;
  *det = 1;
  if (n == 0) return 0;
  double *fa = dalloc(n, n, &err);
  la_int *ipiv = malloc(sizeof(la_int) * n);
  if (!fa || !ipiv) {
    free(fa);
    free(ipiv);
    return err ? err : MPL_ENOMEM;
  }
  pack(a, fa, 0, n);
  la_int ln = (la_int)n, inf = 0;
  LAPACK(dgetrf)(&ln, &ln, fa, &ln, ipiv, &inf);
  if (inf < 0) {
    err = MPL_EINVAL;
  } else {
    double frac = 1;
    long e2 = 0;
    for (size_t i = 0; i < n; i++) {
      int e;
      frac = frexp(frac * fa[i * n + i], &e);
      e2 += e;
      if (ipiv[i] != (la_int)(i + 1)) frac = -frac;
    }
    if (e2 > INT_MAX) e2 = INT_MAX;
    if (e2 < INT_MIN) e2 = INT_MIN;
    *det = frac == 0 ? 0.0 : ldexp(frac, (int)e2);
  }
  free(fa);
  free(ipiv);
  return err;
}

int mpl__la_chol(const mpl_mat *a, mpl_mat *r, mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  if (!r) return MPL_EINVAL;
  if (r->rows != a->rows || r->cols != a->cols) return MPL_ESHAPE;
  size_t n = a->rows;
  if (!all_finite(a)) {
    fail(info, MPL__LA_NONFINITE);
    return MPL_EINVAL;
  }
  if (!symmetric(a)) {
    fail(info, MPL__LA_NOTSYM);
    return MPL_EINVAL;
  }
  if (n == 0) return 0;
  double *fa = dalloc(n, n, &err);
  if (!fa) return err;
  pack(a, fa, 0, n);
  la_int ln = (la_int)n, inf = 0;
  /* "L" of the column-major view is, read row-major, the upper factor. */
  LAPACK(dpotrf)("L", &ln, fa, &ln, &inf, 1);
  if (inf != 0) {
    free(fa);
    fail(info, inf > 0 ? MPL__LA_NOTPD : MPL__LA_OK);
    return MPL_EINVAL;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) fa[i * n + j] = 0;
  unpack(r, fa, 0, n);
  free(fa);
  return 0;
}

int mpl__la_eigh(const mpl_mat *a, mpl_mat *w, mpl_mat *v,
                 mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  size_t n = a->rows;
  if (!w || !v) return MPL_EINVAL;
  if (w->rows != 1 || w->cols != n || v->rows != n || v->cols != n)
    return MPL_ESHAPE;
  if (!all_finite(a)) {
    fail(info, MPL__LA_NONFINITE);
    return MPL_EINVAL;
  }
  if (!symmetric(a)) {
    fail(info, MPL__LA_NOTSYM);
    return MPL_EINVAL;
  }
  if (n == 0) return 0;
  double *fa = dalloc(n, n, &err), *fw = fa ? dalloc(n, 1, &err) : NULL;
  double *work = NULL;
  la_int *iwork = NULL;
  if (!fa || !fw) goto done;
  pack(a, fa, 0, n);
  la_int ln = (la_int)n, inf = 0, lwork = -1, liwork = -1, qi = 0;
  double q = 0;
  LAPACK(dsyevd)
  ("V", "L", &ln, fa, &ln, fw, &q, &lwork, &qi, &liwork, &inf, 1, 1);
  lwork = work_size(q, 1.0);
  liwork = qi > 0 ? qi : 1;
  if (!lwork) {
    err = MPL_EOVERFLOW;
    goto done;
  }
  if (!(work = dalloc((size_t)lwork, 1, &err))) goto done;
  if (!(iwork = malloc(sizeof(la_int) * (size_t)liwork))) {
    err = MPL_ENOMEM;
    goto done;
  }
  LAPACK(dsyevd)
  ("V", "L", &ln, fa, &ln, fw, work, &lwork, iwork, &liwork, &inf, 1, 1);
  if (inf != 0) {
    fail(info, inf > 0 ? MPL__LA_NOCONV : MPL__LA_OK);
    err = MPL_EINVAL;
    goto done;
  }
  for (size_t j = 0; j < n; j++) MPL_AT(w, 0, j) = fw[j];
  unpack(v, fa, 1, n); /* column j of the buffer is eigenvector j */
done:
  free(fa);
  free(fw);
  free(work);
  free(iwork);
  return err;
}

/* dgesdd on the n x m column-major buf (A^T); dgesvd when it fails to
** converge. */
static int svd_run(char job, la_int m, la_int n, double *buf, double *s,
                   double *u, la_int ldu, double *vt, la_int ldvt,
                   mpl__la_info *info) {
  la_int inf = 0, lwork = -1, k = m < n ? m : n;
  double q = 0;
  int err = 0;
  la_int *iwork = malloc(sizeof(la_int) * 8 * (size_t)(k ? k : 1));
  double *copy = dalloc((size_t)m, (size_t)n, &err), *work = NULL;
  if (!iwork || !copy) {
    err = err ? err : MPL_ENOMEM;
    goto done;
  }
  memcpy(copy, buf, sizeof(double) * (size_t)m * (size_t)n);
  LAPACK(dgesdd)
  (&job, &m, &n, buf, &m, s, u, &ldu, vt, &ldvt, &q, &lwork, iwork, &inf, 1);
  lwork = work_size(q, 1.0);
  if (!lwork) {
    err = MPL_EOVERFLOW;
    goto done;
  }
  if (!(work = dalloc((size_t)lwork, 1, &err))) goto done;
  LAPACK(dgesdd)
  (&job, &m, &n, buf, &m, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &inf, 1);
  if (inf > 0) { /* retry with the slower, more robust driver */
    free(work);
    work = NULL;
    lwork = -1;
    LAPACK(dgesvd)
    (&job, &job, &m, &n, copy, &m, s, u, &ldu, vt, &ldvt, &q, &lwork, &inf, 1,
     1);
    lwork = work_size(q, 1.0);
    if (!lwork) {
      err = MPL_EOVERFLOW;
      goto done;
    }
    if (!(work = dalloc((size_t)lwork, 1, &err))) goto done;
    LAPACK(dgesvd)
    (&job, &job, &m, &n, copy, &m, s, u, &ldu, vt, &ldvt, work, &lwork, &inf, 1,
     1);
  }
  if (inf != 0) {
    fail(info, inf > 0 ? MPL__LA_NOCONV : MPL__LA_OK);
    err = MPL_EINVAL;
  }
done:
  free(iwork);
  free(copy);
  free(work);
  return err;
}

int mpl__la_svd(const mpl_mat *a, int full, mpl_mat *u, mpl_mat *s,
                mpl_mat *v, mpl__la_info *info) {
  if (info) {
    info->why = MPL__LA_OK;
    info->rcond = 0;
  }
  if (!a || !u || !s || !v) return MPL_EINVAL;
  size_t m = a->rows, n = a->cols, k = m < n ? m : n;
  size_t uc = full ? m : k, vc = full ? n : k;
  if (u->rows != m || u->cols != uc || s->rows != 1 || s->cols != k ||
      v->rows != n || v->cols != vc)
    return MPL_ESHAPE;
  if (!fits(m) || !fits(n)) return MPL_EOVERFLOW;
  if (!all_finite(a)) {
    fail(info, MPL__LA_NONFINITE);
    return MPL_EINVAL;
  }
  if (k == 0) { /* nothing to decompose: full bases are identities */
    int err = mpl_mat_fill(u, 0);
    if (!err) err = mpl_mat_fill(v, 0);
    if (err) return err;
    for (size_t i = 0; i < u->rows && i < u->cols; i++) MPL_AT(u, i, i) = 1;
    for (size_t i = 0; i < v->rows && i < v->cols; i++) MPL_AT(v, i, i) = 1;
    return 0;
  }
  int err = 0;
  /* LAPACK sees A^T (n x m) = U' S VT'; then U = VT'^T and V = U'. */
  double *fa = dalloc(m, n, &err);
  double *fs = fa ? dalloc(k, 1, &err) : NULL;
  double *fu = fs ? dalloc(n, vc, &err) : NULL;   /* U': n x vc */
  double *fvt = fu ? dalloc(uc, m, &err) : NULL;  /* VT': uc x m */
  if (!fvt) goto done;
  pack(a, fa, 0, n);
  err = svd_run(full ? 'A' : 'S', (la_int)n, (la_int)m, fa, fs, fu, (la_int)n,
                fvt, (la_int)uc, info);
  if (err) goto done;
  for (size_t j = 0; j < k; j++) MPL_AT(s, 0, j) = fs[j];
  unpack(u, fvt, 0, uc); /* U(i, p) = VT'(p, i) = fvt[p + i*uc] */
  unpack(v, fu, 1, n);   /* V(j, p) = U'(j, p) = fu[j + p*n] */
done:
  free(fa);
  free(fs);
  free(fu);
  free(fvt);
  return err;
}

/* lstsq's argument checks, in the order callers rely on for which error
** a call with several wrong arguments gets. */
static int lstsq_check(const mpl_mat *a, const mpl_mat *b, const mpl_mat *x,
                       const int *rank, const mpl_mat *s, mpl__la_info *info) {
  if (info) {
    info->why = MPL__LA_OK;
    info->rcond = 0;
  }
  if (!a || !b || !x || !rank) return MPL_EINVAL;
  size_t m = a->rows, n = a->cols, k = b->cols, mn = m < n ? m : n;
  if (b->rows != m) {
    fail(info, MPL__LA_SHAPE);
    return MPL_EINVAL;
  }
  if (x->rows != n || x->cols != k) return MPL_ESHAPE;
  if (s && (s->rows != 1 || s->cols != mn)) return MPL_ESHAPE;
  if (!fits(m) || !fits(n) || !fits(k)) return MPL_EOVERFLOW;
  if (!all_finite(a) || !all_finite(b)) {
    fail(info, MPL__LA_NONFINITE);
    return MPL_EINVAL;
  }
  return 0;
}

/* dgelsd with the workspace it asks for (a query first), on packed
** column-major copies: fb (ldb x k) becomes the solution. */
static int gelsd_run(la_int m, la_int n, la_int k, double *fa, double *fb,
                     la_int ldb, double *fs, double rcond, la_int *rk,
                     mpl__la_info *info) {
  la_int inf = 0, lwork = -1, qi = 0;
  double q = 0, *work = NULL;
  la_int *iwork = NULL;
  int err = 0;
  LAPACK(dgelsd)
  (&m, &n, &k, fa, &m, fb, &ldb, fs, &rcond, rk, &q, &lwork, &qi, &inf);
  lwork = work_size(q, 1.0);
  if (!lwork) return MPL_EOVERFLOW;
  if (!(work = dalloc((size_t)lwork, 1, &err))) return err;
  if (!(iwork = malloc(sizeof(la_int) * (size_t)(qi > 0 ? qi : 1)))) {
    free(work);
    return MPL_ENOMEM;
  }
  LAPACK(dgelsd)
  (&m, &n, &k, fa, &m, fb, &ldb, fs, &rcond, rk, work, &lwork, iwork, &inf);
  free(work);
  free(iwork);
  if (inf != 0) {
    fail(info, inf > 0 ? MPL__LA_NOCONV : MPL__LA_OK);
    return MPL_EINVAL;
  }
  return 0;
}

/* Least squares through dgelsd (SVD-based): x, the rank and, when asked,
** the singular values. */
int mpl__la_lstsq(const mpl_mat *a, const mpl_mat *b, double rcond, mpl_mat *x,
                  int *rank, mpl_mat *s, mpl__la_info *info) {
  int err = lstsq_check(a, b, x, rank, s, info);
  if (err) return err;
  size_t m = a->rows, n = a->cols, k = b->cols, mn = m < n ? m : n;
  *rank = 0;
  if (mn == 0) return mpl_mat_fill(x, 0);
  size_t ldb = m > n ? m : n;
  double *fa = dalloc(m, n, &err);
  double *fb = fa ? dalloc(ldb, k ? k : 1, &err) : NULL;
  double *fs = fb ? dalloc(mn, 1, &err) : NULL;
  if (!fs) goto done;
  pack(a, fa, 1, m);
  memset(fb, 0, sizeof(double) * ldb * (k ? k : 1));
  pack(b, fb, 1, ldb);
  if (rcond < 0) rcond = DBL_EPSILON * (double)(m > n ? m : n);
  la_int rk = 0;
  err = gelsd_run((la_int)m, (la_int)n, (la_int)k, fa, fb, (la_int)ldb, fs,
                  rcond, &rk, info);
  if (err) goto done;
  *rank = (int)rk;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < k; j++) MPL_AT(x, i, j) = fb[i + j * ldb];
  if (s)
    for (size_t j = 0; j < mn; j++) MPL_AT(s, 0, j) = fs[j];
done:
  free(fa);
  free(fb);
  free(fs);
  return err;
}
