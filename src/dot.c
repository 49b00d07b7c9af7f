/*
** dot.c: the matrix product through OpenBLAS.
**
** Views reach BLAS without copies whenever their layout allows: a view with
** unit column stride is row-major with ld = row stride; one with unit row
** stride is the transpose of a row-major matrix (a transpose flag).  Any
** other stride pattern, and an output that overlaps an input, go through a
** contiguous temporary.  The parallel path (row slices in worker processes)
** is to be layered on dot_rows, which computes rows [r0, r1) of the product
** into out.
*/
#include <limits.h>

#include <cblas.h>

#include "internal.h"

/* How m can be given to BLAS: 0 none, else its transpose flag and ld. */
static int blas_layout(const mpl_mat *m, enum CBLAS_TRANSPOSE *tr, int *ld) {
  size_t r = m->rows, c = m->cols;
  if (r > INT_MAX || c > INT_MAX) return 0;
  if ((m->cs == 1 || c <= 1) && m->rs >= (ptrdiff_t)(c ? c : 1) &&
      m->rs <= INT_MAX) {
    *tr = CblasNoTrans;
    *ld = (int)m->rs;
    return 1;
  }
  if ((m->rs == 1 || r <= 1) && m->cs >= (ptrdiff_t)(r ? r : 1) &&
      m->cs <= INT_MAX) {
    *tr = CblasTrans;
    *ld = (int)m->cs;
    return 1;
  }
  if (r <= 1 && c <= 1) {
    *tr = CblasNoTrans;
    *ld = 1;
    return 1;
  }
  return 0;
}

/* Do two views of one storage touch common bytes?  Conservative: compare
** the address ranges they span. */
static int overlaps(const mpl_mat *a, const mpl_mat *b) {
  if (a->st != b->st || !a->rows || !a->cols || !b->rows || !b->cols) return 0;
  const double *a0 = a->data, *a1 = &MPL_AT(a, a->rows - 1, a->cols - 1);
  const double *b0 = b->data, *b1 = &MPL_AT(b, b->rows - 1, b->cols - 1);
  if (a1 < a0) { const double *t = a0; a0 = a1; a1 = t; }
  if (b1 < b0) { const double *t = b0; b0 = b1; b1 = t; }
  return !(a1 < b0 || b1 < a0);
}

int mpl__dot_check(const mpl_mat *a, const mpl_mat *b, const mpl_mat *out) {
  if (!a || !b) return MPL_EINVAL;
  if (a->cols != b->rows) return MPL_ESHAPE;
  if (out && (out->rows != a->rows || out->cols != b->cols)) return MPL_ESHAPE;
  if (a->rows > INT_MAX || a->cols > INT_MAX || b->cols > INT_MAX)
    return MPL_EOVERFLOW;
  return 0;
}

/* Rows [r0, r1) of a*b into the same rows of out.  a, b and out must all
** have BLAS layouts and out must not overlap them (mpl_dot arranges it). */
static void dot_rows(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                   size_t r0, size_t r1) {
  enum CBLAS_TRANSPOSE ta, tb, to;
  int lda, ldb, ldo;
  size_t k = a->cols;
  if (r1 <= r0 || out->cols == 0) return;
  blas_layout(a, &ta, &lda);
  blas_layout(b, &tb, &ldb);
  blas_layout(out, &to, &ldo);
  if (k == 0) {
    for (size_t i = r0; i < r1; i++)
      for (size_t j = 0; j < out->cols; j++) MPL_AT(out, i, j) = 0;
    return;
  }
  const double *pa = &MPL_AT(a, r0, 0);
  double *po = &MPL_AT(out, r0, 0);
  int m = (int)(r1 - r0), n = (int)out->cols;
  if (to == CblasNoTrans) {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, (int)k, 1.0, pa, lda, b->data,
                ldb, 0.0, po, ldo);
  } else { /* out stored column-major: compute (a*b)^T = b^T a^T */
    enum CBLAS_TRANSPOSE fa = ta == CblasNoTrans ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE fb = tb == CblasNoTrans ? CblasTrans : CblasNoTrans;
    cblas_dgemm(CblasRowMajor, fb, fa, n, m, (int)k, 1.0, b->data, ldb, pa,
                lda, 0.0, po, ldo);
  }
}

/* A contiguous copy of m in *tmp when BLAS cannot take m as it is. */
static int blas_ready(const mpl_mat *m, const mpl_mat *avoid,
                      const mpl_mat **use, mpl_mat **tmp) {
  enum CBLAS_TRANSPOSE t;
  int ld;
  *tmp = NULL;
  *use = m;
  if (blas_layout(m, &t, &ld) && !(avoid && overlaps(m, avoid))) return 0;
  int err = mpl_mat_copy(tmp, m);
  if (!err) *use = *tmp;
  return err;
}

int mpl_dot(const mpl_mat *a, const mpl_mat *b, mpl_mat *out, int procs) {
  int err = mpl__dot_check(a, b, out);
  if (err) return err;
  if (!out) return MPL_EINVAL;
  (void)procs;
  const mpl_mat *ua, *ub;
  mpl_mat *ta = NULL, *tb = NULL, *to = NULL, *uo = out;
  enum CBLAS_TRANSPOSE t;
  int ld;
  if ((err = blas_ready(a, out, &ua, &ta)) != 0) goto done;
  if ((err = blas_ready(b, out, &ub, &tb)) != 0) goto done;
  if (!blas_layout(out, &t, &ld)) {
    if ((err = mpl__mat_alloc(&to, out->rows, out->cols)) != 0) goto done;
    uo = to;
  }
  dot_rows(ua, ub, uo, 0, uo->rows);
  if (to) err = mpl_mat_assign(out, to);
done:
  mpl_mat_release(ta);
  mpl_mat_release(tb);
  mpl_mat_release(to);
  return err;
}
