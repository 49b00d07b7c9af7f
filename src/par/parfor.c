/*
** parfor.c: splitting one large elementwise loop over helper threads.
**
** Elementwise work on big arrays (exp of ten million numbers) is compute
** bound, so it scales with cores.  The helpers are plain threads that live
** only for the call: nothing is left running when it returns, so a later
** fork (the worker pool) never inherits a half-alive thread, and there is no
** pool state to repair in a child.  Creating a thread costs tens of
** microseconds, so callers ask for threads only when every piece has work
** worth far more than that (`grain`).  Every signal is blocked in the
** helpers: SIGINT and friends keep going to the thread running Lua.  The
** range is cut into a few chunks per thread, taken in turn, so a thread
** whose core is busy elsewhere does less instead of delaying the call.  The
** count follows mpl_procs() (the user's -p / mat.procs), capped by the
** online CPUs, and is 1 inside a worker of mat.map, whose siblings already
** use the cores.  The split never changes a result: the kernels compute
** each element alone.  A chunk is at most a few grains, and no thread
** takes another once mpl_interrupt() was called (with one thread too), so
** Ctrl-C stops a long loop within milliseconds: mpl__parfor then returns
** MPL_EINTR, the range only partly done.
**
** mpl__par_tasks is the one way src/ starts threads for a call (besides
** the arena's idle-memory reaper): mpl__parfor runs its loop on it, and
** the file loaders (csv.c: segments of a text file parsed at once; npy.c:
** the tail of a large fill) give it their few fixed tasks.
*/
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "arith.h"

#define MAX_PARTS MPL__MAX_TASKS
#define CHUNKS_PER_PART 8
#define CHUNK_GRAINS 4 /* largest chunk, in grains: Ctrl-C waits for one */

/* The shared state of one call: the range is cut into chunks that the
** threads take in turn, so a thread slowed down (its core busy with
** something else) takes fewer chunks instead of holding everyone up. */
typedef struct loop {
  mpl__range_fn fn;
  void *ctx;
  size_t n, chunk, nchunks;
  atomic_size_t next;
} loop;

static void *worker(void *arg) {
  loop *l = arg;
  for (;;) {
    if (mpl__interrupt_pending()) break;
    size_t k = atomic_fetch_add(&l->next, 1);
    if (k >= l->nchunks) break;
    size_t lo = k * l->chunk, hi = lo + l->chunk;
    l->fn(l->ctx, lo, hi < l->n ? hi : l->n);
  }
  return NULL;
}

static void loop_task(void *ctx, size_t k) {
  (void)k;
  worker(ctx);
}

/* One task of mpl__par_tasks and its thread. */
typedef struct task {
  mpl__task_fn fn;
  void *ctx;
  size_t k;
  pthread_t tid;
} task;

static void *run_task(void *arg) {
  task *t = arg;
  t->fn(t->ctx, t->k);
  return NULL;
}

/* The online CPUs, asked once (sysconf reads a file each time). */
static long online_cpus(void) {
  static atomic_long cpus;
  long n = atomic_load_explicit(&cpus, memory_order_relaxed);
  if (n == 0) {
    n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    atomic_store_explicit(&cpus, n, memory_order_relaxed);
  }
  return n;
}

int mpl__parfor_parts(size_t n, size_t grain) {
  if (grain == 0) grain = 1;
  size_t most = n / grain;
  if (most < 2) return 1; /* too little work: decided before any syscall */
  if (!mpl__may(MPL__MAY_THREADS)) return 1; /* e.g. a mat.map worker */
  long cpus = online_cpus();
  long parts = mpl_procs();
  if (parts > cpus) parts = cpus;
  if (parts > MAX_PARTS) parts = MAX_PARTS;
  if (parts < 1) return 1;
  if ((size_t)parts > most) parts = (long)most;
  return (int)parts;
}

int mpl__parfor(size_t n, size_t grain, size_t align, mpl__range_fn fn,
                void *ctx) {
  if (n == 0) return 0;
  int parts = mpl__parfor_parts(n, grain);
  if (align == 0) align = 1;
  if (grain == 0) grain = 1;
  loop l = {fn, ctx, n, 0, 0, 0};
  size_t want = (size_t)parts * CHUNKS_PER_PART;
  l.chunk = (n + want - 1) / want;
  if (l.chunk / CHUNK_GRAINS > grain) l.chunk = grain * CHUNK_GRAINS;
  l.chunk = (l.chunk + align - 1) / align * align;
  l.nchunks = (n + l.chunk - 1) / l.chunk;
  atomic_init(&l.next, 0);
  if (parts <= 1) {
    worker(&l);
    return mpl__interrupt_check();
  }
  /* a thread that cannot be made leaves its chunks to the others */
  mpl__par_tasks((size_t)parts, loop_task, &l);
  return mpl__interrupt_check();
}

void mpl__par_tasks(size_t n, mpl__task_fn fn, void *ctx) {
  if (n > MPL__MAX_TASKS) n = MPL__MAX_TASKS;
  task t[MPL__MAX_TASKS];
  int started[MPL__MAX_TASKS] = {0};
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  for (size_t k = 1; k < n; k++) {
    t[k] = (task){.fn = fn, .ctx = ctx, .k = k};
    started[k] = pthread_create(&t[k].tid, NULL, run_task, &t[k]) == 0;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (n > 0) fn(ctx, 0);
  for (size_t k = 1; k < n; k++) {
    if (started[k])
      pthread_join(t[k].tid, NULL);
    else
      fn(ctx, k);
  }
}
