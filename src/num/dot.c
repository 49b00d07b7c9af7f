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
**
** Products with few rows and a long inner dimension (split_along_k
** decides, from the shape alone) are cut along k instead: row slices would
** make every worker stream and pack all of b for a thin share of the work.
** The inner dimension is cut into chunks fixed by k; each chunk's partial
** product a[:, chunk] * b[chunk, :] goes to its own block of an arena
** scratch matrix, and the caller then adds the blocks in chunk order into
** the result.  Whoever computes a chunk makes the same BLAS call, and the
** sum has one order, so these products too have the same bits for every
** procs, in-process included.  That also lets the workers take chunks one
** at a time from a shared counter rather than fixed shares: a worker that
** starts late, or shares its CPU with another process, leaves more of the
** chunks to the others.
*/
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* Which products are cut along k (see split_along_k).  Rows: up to 64.
** Measured with 2 workers at k = 100000, n = 60, the cut takes 0.56 of the
** row split's time at 8 rows (which the row split cannot share out), 0.84
** at 50, 0.90 at 64 and 128, 0.97 at 256; past 64 rows the gain is small
** and the scratch would grow.  k: at least 8192, so that there are 8
** chunks of about 1024 or more.  Work: at least the default parallel
** threshold, since below it the product runs in-process, where cutting it
** only costs.  Chunks: about 4096 long, 8 to 96 of them, enough for the
** workers to even out.  The scratch holds nc blocks of m x n: with these
** bounds at most 1/16 of the inputs. */
const size_t mpl__ksplit_rows = 64, mpl__ksplit_min_k = 8192;
#define KSPLIT_MIN_FLOPS 6.0e7
#define KSPLIT_CHUNK 4096
#define KSPLIT_MAX_CHUNKS 96

/* Whether a product is cut along k: from the shape only, never from procs,
** which is what keeps the bits the same for every procs. */
static int split_along_k(size_t m, size_t n, size_t k) {
  return m > 0 && n > 0 && m <= mpl__ksplit_rows && k >= mpl__ksplit_min_k &&
         2.0 * (double)m * (double)n * (double)k >= KSPLIT_MIN_FLOPS;
}

/* How many chunks k is cut into: a function of k alone (the workers
** recompute it from the job's shape). */
static size_t chunk_count(size_t k) {
  size_t nc = k / KSPLIT_CHUNK;
  if (nc < 8) nc = 8;
  return nc > KSPLIT_MAX_CHUNKS ? KSPLIT_MAX_CHUNKS : nc;
}

/* Where chunk c of nc starts: an even share of k, rounded down to a
** multiple of 256, OpenBLAS's k blocking on current x86 kernels (so only
** the last chunk has a short block); chunk nc "starts" at k. */
static size_t chunk_start(size_t k, size_t nc, size_t c) {
  if (c >= nc) return k;
  return k * c / nc / 256 * 256; /* k <= INT_MAX: no overflow */
}

/* The counter of chunks taken, shared by the workers of one product: in
** the last row of the scratch matrix s, which no partial product uses. */
static _Atomic size_t *chunk_counter(const mpl_mat *s, size_t nc, size_t m) {
  return (_Atomic size_t *)(void *)&MPL_AT(s, nc * m, 0);
}

/* Partial products of the chunks of k this process takes from the shared
** counter, until none is left: chunk c's into rows [c*m, (c+1)*m) of the
** scratch matrix s (contiguous, n columns). */
static void dot_chunks(const mpl_mat *a, const mpl_mat *b, mpl_mat *s) {
  size_t m = a->rows, k = a->cols, nc = chunk_count(k), c;
  _Atomic size_t *next = chunk_counter(s, nc, m);
  while ((c = atomic_fetch_add(next, 1)) < nc) {
    size_t k0 = chunk_start(k, nc, c), k1 = chunk_start(k, nc, c + 1);
    mpl_mat pa = *a, pb = *b, ps = *s;
    pa.data = &MPL_AT(a, 0, k0);
    pa.cols = k1 - k0;
    pb.data = &MPL_AT(b, k0, 0);
    pb.rows = k1 - k0;
    ps.data = &MPL_AT(s, c * m, 0);
    ps.rows = m;
    dot_rows(&pa, &pb, &ps, 0, m);
  }
}

static void one_blas_thread(double work);

void mpl__job_run(const mpl__job *j) {
  double work = (double)j->a.rows * (double)j->a.cols * (double)j->b.cols;
  one_blas_thread(work); /* a no-op in workers; the caller may run jobs */
  if (j->kind == MPL__JOB_DOT_K)
    dot_chunks(&j->a, &j->b, (mpl_mat *)&j->out);
  else
    dot_rows(&j->a, &j->b, (mpl_mat *)&j->out, j->r0, j->r1);
}

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
** never switched back and forth under another thread's feet.  A forked
** child inherits the "made" state, so the pool's workers (whose
** forkserver made it) never call into OpenBLAS's thread setup again: that
** would restart the BLAS thread pool fork shut down, an idle thread per
** worker, and under RLIMIT_NPROC OpenBLAS raises SIGINT when it fails. */
static pthread_once_t one_thread_once = PTHREAD_ONCE_INIT;

static void set_one_thread(void) { openblas_set_num_threads(1); }

void mpl__blas_single_thread(void) {
  pthread_once(&one_thread_once, set_one_thread);
}

static void one_blas_thread(double work) {
  if (work >= 262144.0) mpl__blas_single_thread();
}

static void dot_here(const mpl_mat *a, const mpl_mat *b, mpl_mat *out) {
  one_blas_thread((double)out->rows * (double)out->cols * (double)a->cols);
  dot_rows(a, b, out, 0, out->rows);
}

/* a*b cut along k into out: the chunks' partial products in an arena
** scratch matrix, by p workers taking chunks as they go (in-process when
** p is 1), then their sum in chunk order.  out is written only once every
** chunk is done, so it may overlap a or b, and a failed call leaves it
** untouched. */
static int dot_split_k(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                       size_t p) {
  size_t m = out->rows, n = out->cols, k = a->cols;
  size_t nc = chunk_count(k);
  mpl_mat *s;
  int err = mpl__mat_alloc(&s, nc * m + 1, n); /* + the counter's row */
  if (err) return err;
  atomic_store(chunk_counter(s, nc, m), 0);
  if (p > nc) p = nc;
  mpl__job jobs[KSPLIT_MAX_CHUNKS]; /* p <= nc <= KSPLIT_MAX_CHUNKS */
  for (size_t w = 0; w < p; w++) {
    jobs[w].kind = MPL__JOB_DOT_K;
    jobs[w].a = *a;
    jobs[w].b = *b;
    jobs[w].out = *s;
    jobs[w].r0 = 0;
    jobs[w].r1 = nc;
  }
  err = mpl__pool_run(jobs, (int)p);
  if (!err) {
    double *acc = s->data;
    size_t mn = m * n;
    for (size_t c = 1; c < nc; c++) {
      const double *part = s->data + c * mn;
      for (size_t e = 0; e < mn; e++) acc[e] += part[e];
    }
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) MPL_AT(out, i, j) = acc[i * n + j];
  }
  mpl_mat_release(s);
  return err;
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
  int split_k = split_along_k(m, n, k);
  int parallel = procs > 1 && (m > 1 || split_k) &&
                 flops >= mpl__parallel_min_flops && !mpl__pool_disabled();
  if (parallel && openblas_get_parallel() == 2) {
    mpl__set_errmsg("parallel calls need OpenBLAS built with pthreads; this "
                    "one uses OpenMP, which can hang after fork (use procs = 1)");
    return MPL_ESYS;
  }
  const mpl_mat *ua, *ub;
  mpl_mat *ta = NULL, *tb = NULL, *to = NULL, *uo = out;
  enum CBLAS_TRANSPOSE t;
  int ld;
  const mpl_mat *avoid = split_k ? NULL : out; /* split_k writes out last */
  if ((err = blas_ready(a, avoid, parallel, &ua, &ta)) != 0) goto done;
  if ((err = blas_ready(b, avoid, parallel, &ub, &tb)) != 0) goto done;
  if (split_k) {
    size_t p = parallel ? (size_t)(procs > MAX_PROCS ? MAX_PROCS : procs) : 1;
    err = dot_split_k(ua, ub, out, p);
    goto done;
  }
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
