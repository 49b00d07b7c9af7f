/*
** internal.h: private declarations shared by the C core and the binding.
** Internal names use the mpl__ prefix and hidden visibility.
*/
#ifndef MPL_INTERNAL_H
#define MPL_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mpl.h"

/* ---- arena.c: the shared-memory heap every matrix lives in ---- */

/* Allocate n bytes (64-byte aligned) in the shared arena; zero-filled when
** zero is set.  Returns NULL with *err set to MPL_ENOMEM/MPL_EOVERFLOW. */
void *mpl__arena_alloc(size_t n, int zero, int *err);
void mpl__arena_free(void *p);

/* Allocate n bytes (not zeroed) whose bytes [*lo, *hi) -- whole pages,
** multiples of 64 bytes from p, possibly empty -- have no memory yet: the
** caller writes them with mpl__arena_write / mpl__arena_fill_fd (never
** through the pointer), the rest through the pointer as usual, then calls
** mpl__arena_filled(p); freed before that, the block's pages are punched.
** Both fillers return 0, or MPL_ENOMEM (errno set) when the arena cannot
** take the bytes; mpl__arena_fill_fd copies n bytes of the file fd from
** offset off inside the kernel, sets *done to the bytes copied, and also
** returns MPL_EIO for a read error (errno set) or an early end of the file
** (errno 0), or MPL_ESYS with nothing copied when the file cannot be
** spliced. */
void *mpl__arena_alloc_unfilled(size_t n, size_t *lo, size_t *hi, int *err);
/* Give memory now to the pages of [p, p + n), inside [lo, hi) of an
** unfilled block, so they may be written through the pointer after all;
** 0 or MPL_ENOMEM.  Safe in another thread than allocations. */
int mpl__arena_populate(void *p, size_t n);
int mpl__arena_write(void *dst, const void *src, size_t n);
int mpl__arena_fill_fd(void *dst, int fd, size_t off, size_t n, size_t *done);
void mpl__arena_filled(void *p);

/* Statistics for tests and benchmarks. */
typedef struct mpl__arena_stats {
  size_t size;     /* virtual size of the arena mapping */
  size_t in_use;   /* bytes handed out and not yet freed (with headers) */
  size_t blocks;   /* live allocations */
  size_t top;      /* high-water offset of the block area */
  size_t resident; /* bytes of memory behind the arena right now */
} mpl__arena_stats;
void mpl__arena_get_stats(mpl__arena_stats *st);

/* 1 when p points into this process's own arena. */
int mpl__arena_contains(const void *p);

/* Map the arena now (before forking workers that must see it). */
int mpl__arena_ensure(void);

/* ---- region.c: shared-memory regions (the arena's, map's results) ---- */

/* A sparse memfd mapped shared (see the DESIGN note of region.c). */
typedef struct mpl__region {
  char *base;
  size_t size;
  int fd;
} mpl__region;

/* Map a new region of size bytes (rounded up to whole pages); when the
** mapping fails (an address-space limit) retry at half the size, down to
** least.  0; MPL_ESYS when no memfd could be made, MPL_ENOMEM when no
** size could be mapped (errno set, r left empty with fd -1). */
int mpl__region_map(mpl__region *r, const char *name, size_t size,
                    size_t least);

/* Unmap and close r; it is left empty (fd -1). */
void mpl__region_unmap(mpl__region *r);

/* Give memory now to the pages [off, off + len) (page-aligned), so that
** touching them cannot fault for lack of memory: 0 or MPL_ENOMEM. */
int mpl__region_populate(const mpl__region *r, size_t off, size_t len);

/* Give the pages [off, off + len) (page-aligned) back to the system, in
** every process that maps r. */
void mpl__region_punch(const mpl__region *r, size_t off, size_t len);

/* Whether populating len bytes would go past what the kernel can give
** without swapping (asked only for large len, as it reads /proc). */
int mpl__region_too_much(size_t len);

/* Bytes the kernel reports as allocatable without swapping (MemAvailable),
** SIZE_MAX when it cannot tell. */
size_t mpl__mem_available(void);

/* The system's page size. */
size_t mpl__page_size(void);

/* ---- matrix.c ---- */

/* A refcounted block of element storage.  Views point into it.  Arena
** storage has release == NULL; other storage (a mapped file, memory a C
** host wrapped) is given back by release(st) when the last view goes.  fd
** is a descriptor of a file whose bytes from fd_off on are the storage
** (-1 when none), so workers that cannot see the mapping can map it. */
typedef struct mpl__storage {
  atomic_long refs;
  double *base;
  size_t bytes;
  void (*release)(struct mpl__storage *st);
  void *ctx;
  int fd;
  size_t fd_off;
} mpl__storage;

struct mpl_mat {
  atomic_long refs;
  mpl__storage *st;
  double *data; /* element (0, 0) */
  size_t rows, cols;
  ptrdiff_t rs, cs; /* strides in elements */
};

/* Element (i, j), unchecked. */
#define MPL_AT(m, i, j)                                                        \
  ((m)->data[(ptrdiff_t)(i) * (m)->rs + (ptrdiff_t)(j) * (m)->cs])

/* A new matrix without zero-filling (every element is about to be set). */
int mpl__mat_alloc(mpl_mat **out, size_t rows, size_t cols);

/* A matrix on storage that is not in the arena: rows x cols with strides
** rs, cs over base (bytes long).  On success the storage (release, ctx,
** fd, fd_off) belongs to the matrix; on failure nothing is released.  With
** release NULL, base is a block of this process's arena (mpl__arena_free
** releases it): an arena matrix like any other. */
int mpl__mat_external(mpl_mat **out, double *base, size_t bytes, size_t rows,
                      size_t cols, ptrdiff_t rs, ptrdiff_t cs,
                      void (*release)(mpl__storage *), void *ctx, int fd,
                      size_t fd_off);

/* A view of nr x nc elements of m from (r0, c0), every rstep-th row and
** cstep-th column (negative steps go backwards); bounds are the caller's. */
int mpl__mat_view(mpl_mat **out, const mpl_mat *m, size_t r0, size_t c0,
                  size_t nr, size_t nc, ptrdiff_t rstep, ptrdiff_t cstep);

/* Byte count of a rows x cols float64 matrix, or MPL_EOVERFLOW. */
int mpl__mat_bytes(size_t rows, size_t cols, size_t *bytes);

/* ---- files.c ---- */

/* Give the complete file tmp, about to be renamed onto path (a save made
** by several processes), what mat.save gives its temporary: the mode of
** the regular file at path (links followed) and its owner when this
** process may set it.  0 when path does not exist; MPL_EIO with a
** message when the mode cannot be set. */
int mpl__save_like(const char *tmp, const char *path);

/* path with its symbolic links followed (at most 40, as open(2) does), in
** a malloc'd *out: where a save to path writes.  MPL_EIO (errno set) for
** a link that cannot be read, MPL_ENOMEM. */
int mpl__follow(const char *path, char **out);

/* ---- dot.c ---- */

/* 0, or the error mpl_dot would give for these shapes (out may be NULL). */
int mpl__dot_check(const mpl_mat *a, const mpl_mat *b, const mpl_mat *out);

/* ---- error.c ---- */

/* Set this thread's detail message (mpl_errmsg). */
void mpl__set_errmsg(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* ---- fork.c: the one fork entry point and the worker context ---- */

/* Why a process is forked; each purpose has its own child set-up (see
** the DESIGN note of src/par/fork.c). */
enum {
  MPL__FORK_SERVER = 1,  /* the pool's forkserver, forked by the caller */
  MPL__FORK_POOL_WORKER, /* a pool worker, forked by the forkserver */
  MPL__FORK_TEAM_WORKER  /* a worker of mat.map, forked by the caller */
};

/* Fork with stdio flushed and every signal blocked around the fork.  In
** the parent: the child's pid, or -1 with errno set.  In the child: 0,
** once it is set up for purpose (it has _exit-ed if its parent went). */
pid_t mpl__fork(int purpose);

/* The worker context: what this process may do.  The host process may
** do everything; a child of mpl__fork only what its purpose allows. */
enum {
  MPL__MAY_POOL = 1u,   /* run products on the worker pool */
  MPL__MAY_THREADS = 2u /* split loops over helper threads (parfor.c) */
};

/* 1 when this process may do every one of what (MPL__MAY_* bits). */
int mpl__may(unsigned what);

/* Take what (MPL__MAY_* bits) from this process and its later children
** for good. */
void mpl__context_drop(unsigned what);

/* ---- parfor.c: short-lived helper threads (mpl__parfor: arith.h) ---- */

/* The most tasks mpl__par_tasks runs at once. */
#define MPL__MAX_TASKS 64

/* Run fn(ctx, k) for every k in 0..n-1 (n <= MPL__MAX_TASKS) at once:
** task 0 in the calling thread, each other task in a helper thread of its
** own that lives only for the call, with every signal blocked (signals
** stay with the caller).  A task whose thread cannot be made runs in the
** calling thread after task 0.  Returns when every task is done. */
typedef void (*mpl__task_fn)(void *ctx, size_t k);
void mpl__par_tasks(size_t n, mpl__task_fn fn, void *ctx);

/* ---- pool.c: the persistent pool of worker processes ---- */

/* One item of a pooled operation: item i of the job whose argument is
** arg.  It runs in a worker or in the caller, and must make the same
** computation whoever runs it (that is what keeps results the same for
** every procs).  Items write only to shared memory (the arena): the
** worker's copy of anything else is lost.  The function is the same
** address in every worker, as they are forks of the caller. */
typedef void (*mpl__op)(const void *arg, size_t i);

/* The most bytes of argument a pooled operation may have: the argument
** is copied into the pool's control block, so pointers in it must point
** into the arena (or to code). */
#define MPL__OP_ARG_MAX 512

/* A progress hook: while a long call waits for its work, it calls
** fn(ctx, done, total) at most every MPL__PROGRESS_MS milliseconds, in the
** calling thread, with the units done so far (in any order, so done only
** grows) and their total.  fn must not call into mpl (the call holds the
** pool); it may call mpl_interrupt() to stop the call. */
typedef struct mpl__progress {
  void (*fn)(void *ctx, size_t done, size_t total);
  void *ctx;
} mpl__progress;
#define MPL__PROGRESS_MS 100

/* Run items 0..items-1 of op(arg, i) on up to n workers at once, each
** taking items one at a time from a shared queue (in the calling process
** when n or items is 1); 0 when all succeeded, else MPL_EWORKER,
** MPL_EINTR or MPL_ESYS with mpl_errmsg set.  Thread-safe; a call made
** while another thread's call holds the pool, or in a process whose
** worker context does not allow the pool, runs in the calling process
** instead (same items, same calls).  A worker found dead before it took
** the job is replaced.  pr (may be NULL) is told of the items done. */
int mpl__pool_run(mpl__op op, const void *arg, size_t arg_len, size_t items,
                  int n, const mpl__progress *pr);

/* Start the pool's helper process now (while the process is small); 0 or
** MPL_ESYS.  Workers are forked from it later, on demand. */
int mpl__pool_prepare(void);

/* Make sure n workers are running (mat.procs(n)). */
int mpl__pool_start(int n);

/* Fill pids with the running workers' pids; returns their count. */
int mpl__pool_pids(int *pids, int max);

/* Whether mpl_interrupt() was called since the last clear; every waiting
** loop of a parallel call checks it, and a call clears it as it starts. */
int mpl__interrupt_pending(void);
void mpl__interrupt_clear(void);

/* An interrupt is delivered once: a call that turns one into its error
** (MPL_EINTR) marks every interrupt so far as used, and a host that would
** also raise it later (mpl's SIGINT hook) first asks whether the one it
** saw, numbered by mpl__interrupt_count() right after mpl_interrupt(),
** was used.  Both are async-signal-safe. */
unsigned mpl__interrupt_count(void);
void mpl__interrupt_used(void);
int mpl__interrupt_was_used(unsigned count);

/* Long loops over elements (reductions, elementwise work, copy, fill,
** equal) look at mpl__interrupt_pending() once per block of about
** MPL__TICK elements, never per element, and stop early when it is set;
** their call clears it as it starts and ends with mpl__interrupt_check(),
** which is MPL_EINTR (the interrupt marked used) when it was set, else 0.
** A loop over lines of len elements looks when (line & mask) == 0, mask
** from mpl__tick_mask(len). */
#define MPL__TICK ((size_t)1 << 20)
int mpl__interrupt_check(void);

static inline size_t mpl__tick_mask(size_t len) {
  size_t every = len >= MPL__TICK ? 1 : MPL__TICK / (len ? len : 1), m = 1;
  while (m <= every / 2) m *= 2;
  return m - 1;
}

/* ---- dot.c ---- */

/* Rows per block of an m x k by k x n product cut into row blocks (dot.c):
** from the shape alone; a product of at most this many rows is one BLAS
** call.  Tests use it to make products that reach several workers. */
size_t mpl__dot_block_rows(size_t m, size_t k, size_t n);

/* Products of fewer flops run in the calling process (tests lower it to
** send tiny products through the workers). */
extern double mpl__parallel_min_flops;

/* Products of at most mpl__ksplit_rows rows with an inner dimension of at
** least mpl__ksplit_min_k are cut along the inner dimension (dot.c). */
extern const size_t mpl__ksplit_rows, mpl__ksplit_min_k;

/* mpl_dot with a progress hook (pr may be NULL): pr->fn(ctx, rows, m) is
** told how many of the result's m rows are done (for a product cut along
** the inner dimension: m times the share of the chunks done), at most
** every MPL__PROGRESS_MS, while the product runs in the workers or, with
** procs 1, in the calling thread (between row blocks: a product of one
** block reports nothing).  The result is the same bits as mpl_dot's. */
int mpl__dot_progress(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                      int procs, const mpl__progress *pr);

/* out += a*b, as mpl_dot cuts it: each row block's product is added onto
** out by its BLAS call (beta = 1), with no temporary, when out is in the
** arena with a BLAS layout; otherwise through a temporary.  The same bits
** for every procs. */
int mpl__dot_add(const mpl_mat *a, const mpl_mat *b, mpl_mat *out, int procs);

/* Make BLAS in this process single-threaded, once (a forked child
** inherits it: see dot.c). */
void mpl__blas_single_thread(void);

/* ---- rng.c: xoshiro256** generator ---- */

typedef struct mpl__rng {
  uint64_t s[4];
  int has_spare; /* a second normal deviate is kept from the last pair */
  double spare;
} mpl__rng;

void mpl__rng_seed(mpl__rng *r, uint64_t seed, uint64_t stream);
uint64_t mpl__rng_next(mpl__rng *r);
double mpl__rng_uniform(mpl__rng *r); /* [0, 1), 53 random bits */
void mpl__rng_fill_uniform(mpl__rng *r, double *out, size_t n);
double mpl__rng_normal(mpl__rng *r); /* mean 0, variance 1 */
uint64_t mpl__rng_entropy(void);     /* a seed from the OS */

/* ---- arena.c: retention of freed memory (arithmetic issue) ---- */

/* Set how many bytes of freed memory the arena may keep populated for
** reuse (trimming at once when below what it keeps); SIZE_MAX only reads.
** Returns the previous cap.  mpl__arena_retained: bytes kept now. */
size_t mpl__arena_set_retain(size_t cap);
size_t mpl__arena_retained(void);

/* Set after how many ms of idleness retained memory is returned (0: only
** when over the cap); UINT64_MAX only asks.  Returns the previous value. */
uint64_t mpl__arena_set_decay(uint64_t ms);

/* ---- os.c: operating-system helpers shared by pool, teams and map ---- */

/* CLOCK_MONOTONIC in nanoseconds. */
long mpl__now_ns(void);

/* Sleep while *addr == val, at most ms milliseconds (any wake may be
** spurious: callers re-check).  Returns the futex call's result. */
long mpl__futex_wait_ms(_Atomic uint32_t *addr, uint32_t val, long ms);

#endif
