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

/* A refusal for a reason the binding names (MPL__LA_*). */
static int refuse(mpl__la_info *info, int why) {
  fail(info, why);
  return MPL_EINVAL;
}

/* Every function's info starts as "nothing found". */
static void clear(mpl__la_info *info) {
  if (info) {
    info->why = MPL__LA_OK;
    info->rcond = 0;
  }
}

/* A LAPACK routine's info: 0 is success, > 0 the routine's own failure
** (why), < 0 a bad argument (no reason to name). */
static int status(la_int inf, int why, mpl__la_info *info) {
  if (inf == 0) return 0;
  return refuse(info, inf > 0 ? why : MPL__LA_OK);
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

/* The workspace a LAPACK routine asked for in its size query (q elements,
** at least `least`), allocated, its size in *lwork; NULL with *err set
** when that size does not fit LAPACK's integers or memory runs out. */
static double *workspace(double q, double least, la_int *lwork, int *err) {
  if (q < least) q = least;
  if (!(q < (double)INT_MAX)) {
    *err = MPL_EOVERFLOW;
    return NULL;
  }
  *lwork = (la_int)q + 1;
  return dalloc((size_t)*lwork, 1, err);
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

/* chol's and eigh's refusals: NaN or infinity, then asymmetry. */
static int finite_symmetric(const mpl_mat *a, mpl__la_info *info) {
  if (!all_finite(a)) return refuse(info, MPL__LA_NONFINITE);
  return symmetric(a) ? 0 : refuse(info, MPL__LA_NOTSYM);
}

/* The checks every square-matrix function starts with. */
static int square(const mpl_mat *a, mpl__la_info *info) {
  clear(info);
  if (!a) return MPL_EINVAL;
  if (a->rows != a->cols) return refuse(info, MPL__LA_NOTSQUARE);
  return fits(a->rows) ? 0 : MPL_EOVERFLOW;
}

/* square's checks for a function whose result x has A's shape. */
static int square_into(const mpl_mat *a, const mpl_mat *x, mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  if (!x) return MPL_EINVAL;
  return x->rows != a->rows || x->cols != a->cols ? MPL_ESHAPE : 0;
}

/* LU-factor the n x n buf in place (it holds A^T, so the factors are of
** A^T); refuse exactly or numerically singular matrices.  anorm is the
** 1-norm of what buf holds. */
static int lu(double *buf, la_int n, la_int *ipiv, double anorm,
              mpl__la_info *info) {
  la_int inf = 0;
  LAPACK(dgetrf)(&n, &n, buf, &n, ipiv, &inf);
  int err = status(inf, MPL__LA_SINGULAR, info);
  if (err) return err;
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

/* An n x n matrix A as LAPACK's LU routines take it and leave it: fa, a
** copy of A (row-major: A^T to LAPACK), then its factors; ipiv, room for n
** pivots.  Zeroed, then filled by lu_buffers; lu_free frees both, also
** after a failure. */
typedef struct lu_t {
  double *fa;
  la_int *ipiv;
} lu_t;

static int lu_buffers(const mpl_mat *a, size_t n, lu_t *f) {
  int err = 0;
  f->fa = dalloc(n, n, &err);
  f->ipiv = malloc(sizeof(la_int) * n);
  if (!f->fa || !f->ipiv) return err ? err : MPL_ENOMEM;
  pack(a, f->fa, 0, n);
  return 0;
}

static void lu_free(lu_t *f) {
  free(f->fa);
  free(f->ipiv);
}

/* lu_buffers, then the LU factors of A^T in f->fa (singular refused). */
static int lu_of(const mpl_mat *a, size_t n, lu_t *f, mpl__la_info *info) {
  int err = lu_buffers(a, n, f);
  return err ? err : lu(f->fa, (la_int)n, f->ipiv, row_norm(a), info);
}

int mpl__la_solve(const mpl_mat *a, const mpl_mat *b, mpl_mat *x,
                  mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  if (!b || !x) return MPL_EINVAL;
  if (b->rows != a->rows) return refuse(info, MPL__LA_SHAPE);
  if (x->rows != a->cols || x->cols != b->cols) return MPL_ESHAPE;
  size_t n = a->rows, k = b->cols;
  if (!fits(k)) return MPL_EOVERFLOW;
  if (n == 0) return 0;
  lu_t f = {NULL, NULL};
  double *fb = dalloc(n, k, &err);
  if (fb && (err = lu_of(a, n, &f, info)) == 0 && k) {
    la_int ln = (la_int)n, lk = (la_int)k, inf = 0;
    pack(b, fb, 1, n);
    LAPACK(dgetrs)("T", &ln, &lk, f.fa, &ln, f.ipiv, fb, &ln, &inf, 1);
    if (inf)
      err = MPL_EINVAL;
    else
      unpack(x, fb, 1, n);
  }
  lu_free(&f);
  free(fb);
  return err;
}

int mpl__la_inv(const mpl_mat *a, mpl_mat *x, mpl__la_info *info) {
  int err = square_into(a, x, info);
  if (err) return err;
  size_t n = a->rows;
  if (n == 0) return 0;
  lu_t f = {NULL, NULL};
  double *work = NULL;
  if ((err = lu_of(a, n, &f, info)) != 0) goto done;
  la_int ln = (la_int)n, inf = 0, lwork = -1;
  double q = 0;
  LAPACK(dgetri)(&ln, f.fa, &ln, f.ipiv, &q, &lwork, &inf);
  if (!(work = workspace(q, (double)n, &lwork, &err))) goto done;
  LAPACK(dgetri)(&ln, f.fa, &ln, f.ipiv, work, &lwork, &inf);
  if ((err = status(inf, MPL__LA_SINGULAR, info)) == 0) unpack(x, f.fa, 0, n);
done:
  lu_free(&f);
  free(work);
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
  lu_t f = {NULL, NULL};
  la_int ln = (la_int)n, inf = 0;
  if ((err = lu_buffers(a, n, &f)) == 0)
    LAPACK(dgetrf)(&ln, &ln, f.fa, &ln, f.ipiv, &inf);
  if (inf < 0) {
    err = MPL_EINVAL;
  } else if (!err) {
    double frac = 1;
    long e2 = 0;
    for (size_t i = 0; i < n; i++) {
      int e;
      frac = frexp(frac * f.fa[i * n + i], &e);
      e2 += e;
      if (f.ipiv[i] != (la_int)(i + 1)) frac = -frac;
    }
    if (e2 > INT_MAX) e2 = INT_MAX;
    if (e2 < INT_MIN) e2 = INT_MIN;
    *det = frac == 0 ? 0.0 : ldexp(frac, (int)e2);
  }
  lu_free(&f);
  return err;
}

int mpl__la_chol(const mpl_mat *a, mpl_mat *r, mpl__la_info *info) {
  int err = square_into(a, r, info);
  if (err) return err;
  size_t n = a->rows;
  if ((err = finite_symmetric(a, info)) != 0) return err;
  if (n == 0) return 0;
  double *fa = dalloc(n, n, &err);
  if (!fa) return err;
  pack(a, fa, 0, n);
  la_int ln = (la_int)n, inf = 0;
  /* "L" of the column-major view is, read row-major, the upper factor. */
  LAPACK(dpotrf)("L", &ln, fa, &ln, &inf, 1);
  if ((err = status(inf, MPL__LA_NOTPD, info)) == 0) {
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < i; j++) fa[i * n + j] = 0;
    unpack(r, fa, 0, n);
  }
  free(fa);
  return err;
}

int mpl__la_eigh(const mpl_mat *a, mpl_mat *w, mpl_mat *v, mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  size_t n = a->rows;
  if (!w || !v) return MPL_EINVAL;
  if (w->rows != 1 || w->cols != n || v->rows != n || v->cols != n)
    return MPL_ESHAPE;
  if ((err = finite_symmetric(a, info)) != 0) return err;
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
  liwork = qi > 0 ? qi : 1;
  if (!(work = workspace(q, 1.0, &lwork, &err))) goto done;
  if (!(iwork = malloc(sizeof(la_int) * (size_t)liwork))) {
    err = MPL_ENOMEM;
    goto done;
  }
  LAPACK(dsyevd)
  ("V", "L", &ln, fa, &ln, fw, work, &lwork, iwork, &liwork, &inf, 1, 1);
  if ((err = status(inf, MPL__LA_NOCONV, info)) != 0) goto done;
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
  if (!(work = workspace(q, 1.0, &lwork, &err))) goto done;
  LAPACK(dgesdd)
  (&job, &m, &n, buf, &m, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &inf, 1);
  if (inf > 0) { /* retry with the slower, more robust driver */
    free(work);
    work = NULL;
    lwork = -1;
    LAPACK(dgesvd)
    (&job, &job, &m, &n, copy, &m, s, u, &ldu, vt, &ldvt, &q, &lwork, &inf, 1,
     1);
    if (!(work = workspace(q, 1.0, &lwork, &err))) goto done;
    LAPACK(dgesvd)
    (&job, &job, &m, &n, copy, &m, s, u, &ldu, vt, &ldvt, work, &lwork, &inf, 1,
     1);
  }
  err = status(inf, MPL__LA_NOCONV, info);
done:
  free(iwork);
  free(copy);
  free(work);
  return err;
}

int mpl__la_svd(const mpl_mat *a, int full, mpl_mat *u, mpl_mat *s, mpl_mat *v,
                mpl__la_info *info) {
  clear(info);
  if (!a || !u || !s || !v) return MPL_EINVAL;
  size_t m = a->rows, n = a->cols, k = m < n ? m : n;
  size_t uc = full ? m : k, vc = full ? n : k;
  if (u->rows != m || u->cols != uc || s->rows != 1 || s->cols != k ||
      v->rows != n || v->cols != vc)
    return MPL_ESHAPE;
  if (!fits(m) || !fits(n)) return MPL_EOVERFLOW;
  if (!all_finite(a)) return refuse(info, MPL__LA_NONFINITE);
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
  double *fu = fs ? dalloc(n, vc, &err) : NULL;  /* U': n x vc */
  double *fvt = fu ? dalloc(uc, m, &err) : NULL; /* VT': uc x m */
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
  clear(info);
  if (!a || !b || !x || !rank) return MPL_EINVAL;
  size_t m = a->rows, n = a->cols, k = b->cols, mn = m < n ? m : n;
  if (b->rows != m) return refuse(info, MPL__LA_SHAPE);
  if (x->rows != n || x->cols != k) return MPL_ESHAPE;
  if (s && (s->rows != 1 || s->cols != mn)) return MPL_ESHAPE;
  if (!fits(m) || !fits(n) || !fits(k)) return MPL_EOVERFLOW;
  if (!all_finite(a) || !all_finite(b)) return refuse(info, MPL__LA_NONFINITE);
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
  if (!(work = workspace(q, 1.0, &lwork, &err))) return err;
  if (!(iwork = malloc(sizeof(la_int) * (size_t)(qi > 0 ? qi : 1)))) {
    free(work);
    return MPL_ENOMEM;
  }
  LAPACK(dgelsd)
  (&m, &n, &k, fa, &m, fb, &ldb, fs, &rcond, rk, work, &lwork, iwork, &inf);
  free(work);
  free(iwork);
  return status(inf, MPL__LA_NOCONV, info);
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

/* dgeqrf then dorgqr on the column-major m x n copy fa: R is read out
** before Q overwrites it. */
static int qr_run(la_int m, la_int n, double *fa, double *tau, mpl_mat *q,
                  mpl_mat *r, mpl__la_info *info) {
  la_int k = m < n ? m : n, inf = 0, lwork = -1;
  double w1 = 0, w2 = 0, *work = NULL;
  int err = 0;
  LAPACK(dgeqrf)(&m, &n, fa, &m, tau, &w1, &lwork, &inf);
  LAPACK(dorgqr)(&m, &k, &k, fa, &m, tau, &w2, &lwork, &inf);
  work = workspace(w1 > w2 ? w1 : w2, (double)(n > 1 ? n : 1), &lwork, &err);
  if (!work) return err;
  LAPACK(dgeqrf)(&m, &n, fa, &m, tau, work, &lwork, &inf);
  if (inf == 0) {
    for (size_t i = 0; i < (size_t)k; i++)
      for (size_t j = 0; j < (size_t)n; j++)
        MPL_AT(r, i, j) = j >= i ? fa[i + j * (size_t)m] : 0;
    LAPACK(dorgqr)(&m, &k, &k, fa, &m, tau, work, &lwork, &inf);
  }
  free(work);
  if ((err = status(inf, MPL__LA_OK, info)) != 0) return err;
  unpack(q, fa, 1, (size_t)m);
  return 0;
}

int mpl__la_qr(const mpl_mat *a, mpl_mat *q, mpl_mat *r, mpl__la_info *info) {
  clear(info);
  if (!a || !q || !r) return MPL_EINVAL;
  size_t m = a->rows, n = a->cols, k = m < n ? m : n;
  if (q->rows != m || q->cols != k || r->rows != k || r->cols != n)
    return MPL_ESHAPE;
  if (!fits(m) || !fits(n)) return MPL_EOVERFLOW;
  if (!all_finite(a)) return refuse(info, MPL__LA_NONFINITE);
  if (k == 0) return mpl_mat_fill(r, 0); /* q is m x 0 or 0 x 0 */
  int err = 0;
  double *fa = dalloc(m, n, &err), *tau = fa ? dalloc(k, 1, &err) : NULL;
  if (tau) {
    pack(a, fa, 1, m);
    err = qr_run((la_int)m, (la_int)n, fa, tau, q, r, info);
  }
  free(fa);
  free(tau);
  return err;
}

/* Eigenvector columns from dgeev's packed form: a complex pair j, j+1
** (wi[j] > 0) stores the real part in column j and the imaginary part in
** column j+1; the second of the pair is the conjugate. */
static void eig_vectors(const double *fv, const double *fwi, size_t n,
                        mpl_mat *vr, mpl_mat *vi) {
  for (size_t j = 0; j < n; j++) {
    int pair = fwi[j] != 0 && j + 1 < n;
    for (size_t i = 0; i < n; i++) {
      double re = fv[i + j * n], im = pair ? fv[i + (j + 1) * n] : 0;
      MPL_AT(vr, i, j) = re;
      MPL_AT(vi, i, j) = im;
      if (pair) {
        MPL_AT(vr, i, j + 1) = re;
        MPL_AT(vi, i, j + 1) = -im;
      }
    }
    if (pair) j++;
  }
}

int mpl__la_eig(const mpl_mat *a, mpl_mat *wr, mpl_mat *wi, mpl_mat *vr,
                mpl_mat *vi, mpl__la_info *info) {
  int err = square(a, info);
  if (err) return err;
  size_t n = a->rows;
  if (!wr || !wi || !vr || !vi) return MPL_EINVAL;
  if (wr->rows != 1 || wr->cols != n || wi->rows != 1 || wi->cols != n ||
      vr->rows != n || vr->cols != n || vi->rows != n || vi->cols != n)
    return MPL_ESHAPE;
  if (!all_finite(a)) return refuse(info, MPL__LA_NONFINITE);
  if (n == 0) return 0;
  la_int ln = (la_int)n, inf = 0, lwork = -1, one = 1;
  double q = 0, dummy = 0;
  double *fa = dalloc(n, n, &err), *fv = fa ? dalloc(n, n, &err) : NULL;
  double *fr = fv ? dalloc(n, 1, &err) : NULL;
  double *fi = fr ? dalloc(n, 1, &err) : NULL, *work = NULL;
  if (!fi) goto done;
  pack(a, fa, 1, n);
  LAPACK(dgeev)
  ("N", "V", &ln, fa, &ln, fr, fi, &dummy, &one, fv, &ln, &q, &lwork, &inf, 1,
   1);
  if (!(work = workspace(q, 4.0 * (double)n, &lwork, &err))) goto done;
  LAPACK(dgeev)
  ("N", "V", &ln, fa, &ln, fr, fi, &dummy, &one, fv, &ln, work, &lwork, &inf, 1,
   1);
  if ((err = status(inf, MPL__LA_NOCONV, info)) != 0) goto done;
  for (size_t j = 0; j < n; j++) {
    MPL_AT(wr, 0, j) = fr[j];
    MPL_AT(wi, 0, j) = fi[j];
  }
  eig_vectors(fv, fi, n, vr, vi);
done:
  free(fa);
  free(fv);
  free(fr);
  free(fi);
  free(work);
  return err;
}

int mpl__la_svals(const mpl_mat *a, mpl_mat *s, mpl__la_info *info) {
  clear(info);
  if (!a || !s) return MPL_EINVAL;
  size_t m = a->rows, n = a->cols, k = m < n ? m : n;
  if (s->rows != 1 || s->cols != k) return MPL_ESHAPE;
  if (!fits(m) || !fits(n)) return MPL_EOVERFLOW;
  if (!all_finite(a)) return refuse(info, MPL__LA_NONFINITE);
  if (k == 0) return 0;
  int err = 0;
  double dummy = 0, *fa = dalloc(m, n, &err);
  double *fs = fa ? dalloc(k, 1, &err) : NULL;
  if (fs) {
    pack(a, fa, 0, n); /* A^T, column-major: same singular values */
    err =
        svd_run('N', (la_int)n, (la_int)m, fa, fs, &dummy, 1, &dummy, 1, info);
    for (size_t j = 0; !err && j < k; j++) MPL_AT(s, 0, j) = fs[j];
  }
  free(fa);
  free(fs);
  return err;
}

int mpl__la_pinv(const mpl_mat *a, double rcond, mpl_mat *x,
                 mpl__la_info *info) {
  if (!a || !x) return MPL_EINVAL;
  size_t m = a->rows, n = a->cols, k = m < n ? m : n;
  if (x->rows != n || x->cols != m) return MPL_ESHAPE;
  if (k == 0) return mpl_mat_fill(x, 0);
  mpl_mat *u = NULL, *s = NULL, *v = NULL, *ut = NULL;
  int err = mpl__mat_alloc(&u, m, k);
  if (!err) err = mpl__mat_alloc(&s, 1, k);
  if (!err) err = mpl__mat_alloc(&v, n, k);
  if (!err) err = mpl__la_svd(a, 0, u, s, v, info);
  if (!err) {
    double cut = rcond * MPL_AT(s, 0, 0);
    for (size_t j = 0; j < k; j++) { /* V diag(1/s) */
      double sj = MPL_AT(s, 0, j), f = sj > cut ? 1 / sj : 0;
      for (size_t i = 0; i < n; i++) MPL_AT(v, i, j) *= f;
    }
    err = mpl_mat_transpose(&ut, u);
  }
  if (!err) err = mpl_dot(v, ut, x, 1);
  mpl_mat_release(u);
  mpl_mat_release(s);
  mpl_mat_release(v);
  mpl_mat_release(ut);
  return err;
}

/* The largest sum of magnitudes over columns (cols) or rows. */
static double abs_sums(const mpl_mat *a, int cols) {
  size_t len = cols ? a->cols : a->rows;
  double *acc = calloc(len ? len : 1, sizeof *acc), best = 0;
  if (!acc) return NAN;
  for (size_t i = 0; i < a->rows; i++)
    for (size_t j = 0; j < a->cols; j++)
      acc[cols ? j : i] += fabs(MPL_AT(a, i, j));
  for (size_t i = 0; i < len; i++)
    if (!(acc[i] <= best)) best = acc[i];
  free(acc);
  return best;
}

int mpl__la_norm(const mpl_mat *a, int ord, double *res, mpl__la_info *info) {
  *res = 0;
  if (info) info->why = MPL__LA_OK;
  if (ord == MPL__NORM_FRO) return mpl__norm(a, res);
  if (!a->rows || !a->cols) return 0; /* N x 0 of any N: O(1) */
  if (ord == MPL__NORM_1 || ord == MPL__NORM_INF) {
    *res = abs_sums(a, ord == MPL__NORM_1);
    return *res == *res || !all_finite(a) ? 0 : MPL_ENOMEM;
  }
  size_t k = a->rows < a->cols ? a->rows : a->cols;
  if (k == 0) return 0;
  mpl_mat *s;
  int err = mpl__mat_alloc(&s, 1, k);
  if (!err) err = mpl__la_svals(a, s, info);
  if (!err && ord == MPL__NORM_2) *res = MPL_AT(s, 0, 0);
  for (size_t j = 0; !err && ord == MPL__NORM_NUC && j < k; j++)
    *res += MPL_AT(s, 0, j);
  mpl_mat_release(s);
  return err;
}
