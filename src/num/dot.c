/*
** dot.c: the matrix product through OpenBLAS.
**
** Views reach BLAS without copies whenever their layout allows: a view with
** unit column stride is row-major with ld = row stride; one with unit row
** stride is the transpose of a row-major matrix (a transpose flag).  Any
** other stride pattern, and an output that overlaps an input, go through a
** contiguous temporary.
**
** DESIGN: the bits of a product never depend on procs, by construction.
** Every product is cut into items fixed by its shape alone, and each item
** is one single-threaded BLAS call whose arguments (pointers, sizes,
** leading dimensions) are the same whoever runs it: in the calling process
** (procs = 1, a product below the parallel threshold, a forked child) or in
** any worker of the pool (pool.c, which runs dot_item for each item: dot.c
** is its client).  OpenBLAS's kernels may give different
** last bits for a row depending on the call's row count or where the call
** starts (unrolls of 4, 8 or 16 rows; the AVX-512 kernels also switch to
** small-matrix code by the call's size), so cutting "one slice per
** worker" cannot be made safe for every kernel; fixed items can.
**
** Row blocks.  The rows of the result are cut into blocks of
** mpl__dot_block_rows(m, k, n) rows: about m/8, a multiple of 64, enough
** blocks for the workers to share and even out.  Each block is one BLAS
** call, which packs all of b again, so a block must be long enough for
** that to cost little.  Measured single-threaded on Zen (one call against
** blocks, best of several): with b of 8 MB or less, 128-row blocks cost
** 1-4 % and 256-row ones about 1 %; with b of 15-70 MB (k = n = 1500 to
** 3000), 128 rows cost 3-16 %, 256 rows 2-7 %, 384 to 1024 rows 0-3 %.
** On an AVX-512 Xeon (SkylakeX kernel), whose arithmetic is faster, the
** same packing weighs more: 128 rows 7-17 %, 256 rows 3-9 %, 512 rows
** 1-5 %, 1024 rows 1-5 % (k = n = 1000 to 4000).
** So a block is an eighth of m, or a quarter when b is over 8 MB and an
** eighth would be under 384 rows, between 128 and 512 rows.  The count of
** blocks matters as much as their length: 8 or 4 equal blocks share out
** evenly on 2, 4 or 8 workers (6 blocks of 384 rows for m = 2000 left one
** of 2 workers a block more than the other, 10 % slower).  Fewer and
** longer blocks cost less on 2 cores (two blocks of m/2 there: 1.00-1.04
** of OpenBLAS's two threads, against 1.03-1.08 for these, on SkylakeX),
** but the count of blocks caps how many workers share a product on any
** machine, and an eighth keeps eight busy.  A product of at most 128 rows
** is one call.  Workers take blocks one at a time from a shared queue, so
** one that starts late, or shares its CPU with another process, leaves
** more to the others.
*/
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "blas.h"
#include "internal.h"

#define BLOCK_MIN_ROWS 128
#define BLOCK_UNIT 64
#define BLOCK_MAX_ROWS 512
#define BLOCK_BIG_B_ROWS 384
#define BLOCK_BIG_B_ELEMS ((size_t)1 << 20) /* 8 MB of doubles */

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
  if (a1 < a0) {
    const double *t = a0;
    a0 = a1;
    a1 = t;
  }
  if (b1 < b0) {
    const double *t = b0;
    b0 = b1;
    b1 = t;
  }
  return !(a1 < b0 || b1 < a0);
}

int mpl__dot_check(const mpl_mat *a, const mpl_mat *b, const mpl_mat *out) {
  if (!a || !b) return MPL_EINVAL;
  if (a->cols != b->rows) {
    mpl__set_errmsg("shape mismatch: %zux%zu * %zux%zu", a->rows, a->cols,
                    b->rows, b->cols);
    return MPL_ESHAPE;
  }
  if (out && (out->rows != a->rows || out->cols != b->cols)) {
    mpl__set_errmsg("out is %zux%zu, the product is %zux%zu", out->rows,
                    out->cols, a->rows, b->cols);
    return MPL_ESHAPE;
  }
  if (a->rows > INT_MAX || a->cols > INT_MAX || b->cols > INT_MAX) {
    mpl__set_errmsg("a dimension of %zux%zu * %zux%zu exceeds BLAS's int",
                    a->rows, a->cols, b->rows, b->cols);
    return MPL_EOVERFLOW;
  }
  return 0;
}

/* Rows [r0, r1) of a*b into the same rows of out (beta 0), or added onto
** them (beta 1: BLAS adds in its kernel, no temporary).  a, b and out must
** all have BLAS layouts and out must not overlap them (mpl_dot arranges
** it). */
static void dot_rows(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                     size_t r0, size_t r1, double beta) {
  enum CBLAS_TRANSPOSE ta, tb, to;
  int lda, ldb, ldo;
  size_t k = a->cols;
  if (r1 <= r0 || out->cols == 0) return;
  blas_layout(a, &ta, &lda);
  blas_layout(b, &tb, &ldb);
  blas_layout(out, &to, &ldo);
  if (k == 0) {
    for (size_t i = r0; i < r1 && beta == 0.0; i++)
      for (size_t j = 0; j < out->cols; j++) MPL_AT(out, i, j) = 0;
    return;
  }
  const double *pa = &MPL_AT(a, r0, 0);
  double *po = &MPL_AT(out, r0, 0);
  int m = (int)(r1 - r0), n = (int)out->cols;
  const mpl__blas_t *B = mpl__blas_or_die();
  if (to == CblasNoTrans) {
    B->dgemm(CblasRowMajor, ta, tb, m, n, (int)k, 1.0, pa, lda, b->data, ldb,
             beta, po, ldo);
  } else { /* out stored column-major: compute (a*b)^T = b^T a^T */
    enum CBLAS_TRANSPOSE fa = ta == CblasNoTrans ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE fb = tb == CblasNoTrans ? CblasTrans : CblasNoTrans;
    B->dgemm(CblasRowMajor, fb, fa, n, m, (int)k, 1.0, b->data, ldb, pa, lda,
             beta, po, ldo);
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

/* Chunk c's partial product a[:, chunk] * b[chunk, :] into rows
** [c*m, (c+1)*m) of the scratch matrix s (contiguous, n columns). */
static void dot_chunk(const mpl_mat *a, const mpl_mat *b, mpl_mat *s,
                      size_t c) {
  size_t m = a->rows, k = a->cols, nc = chunk_count(k);
  size_t k0 = chunk_start(k, nc, c), k1 = chunk_start(k, nc, c + 1);
  mpl_mat pa = *a, pb = *b, ps = *s;
  pa.data = &MPL_AT(a, 0, k0);
  pa.cols = k1 - k0;
  pb.data = &MPL_AT(b, k0, 0);
  pb.rows = k1 - k0;
  ps.data = &MPL_AT(s, c * m, 0);
  ps.rows = m;
  dot_rows(&pa, &pb, &ps, 0, m, 0.0);
}

/* n rounded up to a multiple of BLOCK_UNIT. */
static size_t round_unit(size_t n) {
  return (n + BLOCK_UNIT - 1) / BLOCK_UNIT * BLOCK_UNIT;
}

/* Rows per block: an eighth of m rounded up to a multiple of 64, or a
** quarter when b is large and an eighth is under 384 rows, within [128,
** 512] (see DESIGN); a function of the shape alone. */
size_t mpl__dot_block_rows(size_t m, size_t k, size_t n) {
  size_t r = round_unit(m / 8);
  if (r < BLOCK_BIG_B_ROWS && k > 0 && n > BLOCK_BIG_B_ELEMS / k)
    r = round_unit(m / 4);
  if (r < BLOCK_MIN_ROWS) r = BLOCK_MIN_ROWS;
  return r > BLOCK_MAX_ROWS ? BLOCK_MAX_ROWS : r;
}

/* A product as the pool's workers see it (see mpl__pool_run): matrices
** travel as their geometry (data pointer, shape, strides), as the data is
** in the shared arena at the same address in every process.  DOT: a*b
** into out (beta 0) or added onto it (beta 1), item i is rows
** [i*step, (i+1)*step) of out.  DOT_K: item c is chunk c's partial
** product into rows [c*m, (c+1)*m) of out, a scratch matrix.  Both cuts
** come from the product's shape alone. */
typedef struct dot_job {
  enum { DOT = 1, DOT_K = 2 } kind;
  mpl_mat a, b, out; /* only data, rows, cols, rs, cs are meaningful */
  size_t step;       /* rows per block (DOT) */
  double beta;       /* DOT: 0 writes out, 1 adds onto it */
} dot_job;
_Static_assert(sizeof(dot_job) <= MPL__OP_ARG_MAX, "dot_job fits the pool");

static void one_blas_thread(double work);

/* One item of a product: the pool's operation for products. */
static void dot_item(const void *arg, size_t i) {
  const dot_job *j = arg;
  double work = (double)j->a.rows * (double)j->a.cols * (double)j->b.cols;
  one_blas_thread(work); /* a no-op in workers; the caller may run items */
  if (j->kind == DOT_K) {
    dot_chunk(&j->a, &j->b, (mpl_mat *)&j->out, i);
  } else {
    size_t r0 = i * j->step, r1 = r0 + j->step;
    dot_rows(&j->a, &j->b, (mpl_mat *)&j->out, r0,
             r1 < j->out.rows ? r1 : j->out.rows, j->beta);
  }
}

/* A caller's progress hook, told rows where the pool counts items. */
typedef struct rows_hook {
  const mpl__progress *user;
  const dot_job *job;
} rows_hook;

static void items_to_rows(void *ctx, size_t done, size_t items) {
  const rows_hook *h = ctx;
  size_t m = h->job->a.rows, rows;
  if (h->job->kind == DOT)
    rows = done < m / h->job->step + 1 ? done * h->job->step : m;
  else
    rows = (size_t)((double)m * (double)done / (double)items);
  h->user->fn(h->user->ctx, rows < m ? rows : m, m);
}

/* Run job's items on p processes (in-process when p is 1), telling pr. */
static int run_job(const dot_job *job, size_t items, size_t p,
                   const mpl__progress *pr) {
  rows_hook h = {pr, job};
  mpl__progress rows = {items_to_rows, &h};
  return mpl__pool_run(dot_item, job, sizeof *job, items, (int)p,
                       pr && pr->fn ? &rows : NULL);
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

static void set_one_thread(void) { mpl__blas_or_die()->set_num_threads(1); }

void mpl__blas_single_thread(void) {
  pthread_once(&one_thread_once, set_one_thread);
}

static void one_blas_thread(double work) {
  if (work >= 262144.0) mpl__blas_single_thread();
}

/* a*b cut along k into out (add: onto out): the chunks' partial products
** in an arena scratch matrix, by p workers taking chunks as they go
** (in-process when p is 1), then their sum in chunk order.  out is written
** only once every chunk is done, so it may overlap a or b, and a failed
** call leaves it untouched. */
static int dot_split_k(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                       size_t p, const mpl__progress *pr, int add) {
  size_t m = out->rows, n = out->cols, k = a->cols;
  size_t nc = chunk_count(k);
  mpl_mat *s;
  int err = mpl__mat_alloc(&s, nc * m, n);
  if (err) return err;
  dot_job job = {DOT_K, *a, *b, *s, 0, 0.0};
  err = run_job(&job, nc, p, pr);
  if (!err) {
    double *acc = s->data;
    size_t mn = m * n;
    for (size_t c = 1; c < nc; c++) {
      const double *part = s->data + c * mn;
      for (size_t e = 0; e < mn; e++) acc[e] += part[e];
    }
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++)
        MPL_AT(out, i, j) =
            add ? MPL_AT(out, i, j) + acc[i * n + j] : acc[i * n + j];
  }
  mpl_mat_release(s);
  return err;
}

/* Arena storage is what the workers can reach. */
static int shared(const mpl_mat *m) {
  return m->st->release == NULL && mpl__arena_contains(m->st->base);
}

/* a*b by row blocks into out (add: onto out), on p processes.  An output
** BLAS cannot take, or (when workers or an addition need it in the arena)
** one outside the arena, goes through a temporary: for an addition that
** choice depends on out alone, never on p, so its bits do not either. */
static int dot_by_rows(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                       size_t p, const mpl__progress *pr, int add) {
  size_t m = out->rows, n = out->cols;
  enum CBLAS_TRANSPOSE t;
  int ld, err;
  mpl_mat *to = NULL, *uo = out;
  if (!blas_layout(out, &t, &ld) || ((p > 1 || add) && !shared(out))) {
    if ((err = mpl__mat_alloc(&to, m, n)) != 0) return err;
    uo = to;
  }
  size_t step = mpl__dot_block_rows(m, a->cols, n);
  dot_job job = {DOT, *a, *b, *uo, step, add && !to ? 1.0 : 0.0};
  err = run_job(&job, (m + step - 1) / step, p, pr);
  if (!err && to && add) {
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) MPL_AT(out, i, j) += MPL_AT(to, i, j);
  } else if (!err && to) {
    err = mpl_mat_assign(out, to);
  }
  mpl_mat_release(to);
  return err;
}

/* mpl__dot_progress, or (add) its product added onto out. */
static int dot_any(const mpl_mat *a, const mpl_mat *b, mpl_mat *out, int procs,
                   const mpl__progress *pr, int add) {
  int err = mpl__dot_check(a, b, out);
  if (err) return err;
  if (!out) return MPL_EINVAL;
  if (!mpl__blas()) return MPL_ESYS;
  if (procs <= 0) procs = mpl_procs();
  size_t m = out->rows, n = out->cols, k = a->cols;
  double flops = 2.0 * (double)m * (double)n * (double)k;
  int split_k = split_along_k(m, n, k);
  int parallel = procs > 1 && (m > 1 || split_k) &&
                 flops >= mpl__parallel_min_flops && mpl__may(MPL__MAY_POOL);
  if (parallel && mpl__blas_or_die()->get_parallel() == 2) {
    mpl__set_errmsg(
        "parallel calls need OpenBLAS built with pthreads; this "
        "one uses OpenMP, which can hang after fork (use procs = 1)");
    return MPL_ESYS;
  }
  const mpl_mat *ua, *ub;
  mpl_mat *ta = NULL, *tb = NULL;
  const mpl_mat *avoid = split_k ? NULL : out; /* split_k writes out last */
  size_t p =
      parallel ? (size_t)(procs > MPL_MAX_PROCS ? MPL_MAX_PROCS : procs) : 1;
  if ((err = blas_ready(a, avoid, parallel, &ua, &ta)) == 0 &&
      (err = blas_ready(b, avoid, parallel, &ub, &tb)) == 0)
    err = split_k ? dot_split_k(ua, ub, out, p, pr, add)
                  : dot_by_rows(ua, ub, out, p, pr, add);
  mpl_mat_release(ta);
  mpl_mat_release(tb);
  return err;
}

int mpl_dot(const mpl_mat *a, const mpl_mat *b, mpl_mat *out, int procs) {
  return dot_any(a, b, out, procs, NULL, 0);
}

int mpl__dot_progress(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                      int procs, const mpl__progress *pr) {
  return dot_any(a, b, out, procs, pr, 0);
}

int mpl__dot_add(const mpl_mat *a, const mpl_mat *b, mpl_mat *out, int procs) {
  return dot_any(a, b, out, procs, NULL, 1);
}
