/*
** dot.c: the matrix product through OpenBLAS.
**
** Views reach BLAS without copies whenever their layout allows: a view with
** unit column stride is row-major with ld = row stride; one with unit row
** stride is the transpose of a row-major matrix (a transpose flag).  Any
** other stride pattern, and an output that overlaps an input, go through a
** contiguous temporary.  Large products are cut into row slices, one per
** worker of the pool (pool.c), each computed by dot_rows with
** single-threaded OpenBLAS straight into the shared result.  Every element
** of the result is computed by the same kernel over the same k in every
** case, so the bits do not depend on the number of workers.
*/
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <cblas.h>

#include "internal.h"

#define MAX_PROCS 4096

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

static int shared(const mpl_mat *m);

/* A contiguous copy of m in *tmp when BLAS cannot take m as it is, when it
** overlaps the output, or when workers must read it but cannot see it. */
static int blas_ready(const mpl_mat *m, const mpl_mat *avoid, int parallel,
                      const mpl_mat **use, mpl_mat **tmp) {
  enum CBLAS_TRANSPOSE t;
  int ld;
  *tmp = NULL;
  *use = m;
  if (blas_layout(m, &t, &ld) && !(avoid && overlaps(m, avoid)) &&
      !(parallel && !shared(m)))
    return 0;
  int err = mpl_mat_copy(tmp, m);
  if (!err) *use = *tmp;
  return err;
}

/* Products below this many flops run in the calling process: dispatch
** and page faults in the workers would cost more than they gain (measured
** with tests/bench/dot.lua on the 2-core machine: see the README). */
double mpl__parallel_min_flops = 6.0e7;

void mpl__job_run(const mpl__job *j) {
  dot_rows(&j->a, &j->b, (mpl_mat *)&j->out, j->r0, j->r1);
}

void mpl__blas_single_thread(void) { openblas_set_num_threads(1); }

/* OpenBLAS gives the same bits for a row whatever the call's row count
** only while slices start on a multiple of its kernel's unroll (4 rows
** and 8 columns for the Haswell/Zen kernels: measured, a split at an odd
** row changes the last bits of the rows after it).  Slices, and the
** columns of a transposed output, start on multiples of this. */
static size_t slice_align(void) {
  const char *core = openblas_get_corename();
  if (core && (strcasestr(core, "haswell") || strcasestr(core, "zen")))
    return 8;
  return 16;
}

/* OpenBLAS's own threads split a product at boundaries that change the
** last bits of the result (measured at n = 500), so products run with one
** BLAS thread in the calling process too: that is what keeps every procs
** bitwise identical, and parallelism is what procs is for.  The setting is
** process-wide, so it is made once, before the first product that OpenBLAS
** would thread (below its own threshold there is nothing to switch), and
** never switched back and forth under another thread's feet. */
static pthread_once_t one_thread_once = PTHREAD_ONCE_INIT;

static void dot_here(const mpl_mat *a, const mpl_mat *b, mpl_mat *out) {
  double work = (double)out->rows * (double)out->cols * (double)a->cols;
  if (work >= 262144.0) pthread_once(&one_thread_once, mpl__blas_single_thread);
  dot_rows(a, b, out, 0, out->rows);
}

/* Arena storage is what the workers can reach. */
static int shared(const mpl_mat *m) {
  return m->st->release == NULL && mpl__arena_contains(m->st->base);
}

int mpl_dot(const mpl_mat *a, const mpl_mat *b, mpl_mat *out, int procs) {
  int err = mpl__dot_check(a, b, out);
  if (err) return err;
  if (!out) return MPL_EINVAL;
  if (procs <= 0) procs = mpl_procs();
  size_t m = out->rows, n = out->cols, k = a->cols;
  double flops = 2.0 * (double)m * (double)n * (double)k;
  int parallel = procs > 1 && m > 1 && flops >= mpl__parallel_min_flops &&
                 !mpl__pool_disabled();
  if (parallel && openblas_get_parallel() == 2) {
    mpl__set_errmsg("parallel calls need OpenBLAS built with pthreads; this "
                    "one uses OpenMP, which can hang after fork (use procs = 1)");
    return MPL_ESYS;
  }
  const mpl_mat *ua, *ub;
  mpl_mat *ta = NULL, *tb = NULL, *to = NULL, *uo = out;
  enum CBLAS_TRANSPOSE t;
  int ld;
  if ((err = blas_ready(a, out, parallel, &ua, &ta)) != 0) goto done;
  if ((err = blas_ready(b, out, parallel, &ub, &tb)) != 0) goto done;
  if (!blas_layout(out, &t, &ld) || (parallel && !shared(out))) {
    if ((err = mpl__mat_alloc(&to, m, n)) != 0) goto done;
    uo = to;
  }
  if (!parallel) {
    dot_here(ua, ub, uo);
  } else {
    size_t align = slice_align(), p = (size_t)(procs > MAX_PROCS ? MAX_PROCS : procs);
    if (p > (m + align - 1) / align) p = (m + align - 1) / align;
    mpl__job jobs[MAX_PROCS];
    size_t r0 = 0;
    int nj = 0;
    for (size_t i = 1; i <= p; i++) {
      size_t r1 = i == p ? m : (m * i / p + align / 2) / align * align;
      if (r1 <= r0) continue;
      jobs[nj].kind = MPL__JOB_DOT;
      jobs[nj].a = *ua;
      jobs[nj].b = *ub;
      jobs[nj].out = *uo;
      jobs[nj].r0 = r0;
      jobs[nj].r1 = r1;
      nj++;
      r0 = r1;
    }
    err = mpl__pool_run(jobs, nj);
  }
  if (!err && to) err = mpl_mat_assign(out, to);
done:
  mpl_mat_release(ta);
  mpl_mat_release(tb);
  mpl_mat_release(to);
  return err;
}
