/*
** team.c: call-time worker teams, the core of mat.map.
**
** DESIGN
** A team lives for one call.  The caller maps a small shared control block
** (MAP_SHARED | MAP_ANONYMOUS) and a sparse results region (a memfd, see
** below), then forks the workers, so each one is a copy of the caller at
** the moment of the call: the script's tables, closures and matrices are
** all there, copy-on-write, and the arena (and any other shared mapping)
** at the same address.  Nothing is sent to start the work.
**
** Forking.  Through mpl__fork (fork.c: signals blocked around the fork,
** stdio flushed; in the child PR_SET_PDEATHSIG, a check that the parent
** is still the caller, handlers reset with SIGINT ignored, a worker
** context without pool or threads).  The call is synchronous, so the
** forking thread outlives the team.  The child closes the other workers'
** descriptors and then waits at a gate in the control block until the caller
** has forked everyone and holds a pidfd of each: so a failure to start the
** team stops children that have run no user code, and no child can exit
** (and be reaped by a host that ignores SIGCHLD) before the caller can
** watch it.  A worker leaves only with _exit: the caller's atexit handlers
** and Lua state are not its to close.
**
** Work.  Items are taken from an atomic counter in the control block, in
** chunks (fixed, or guided: a quarter of the remaining items per worker,
** so chunks shrink towards the end and uneven items balance).  Each worker
** also publishes the item it is running, so its death can name that item.
**
** Results travel as frames (magic, kind, item, length, payload) over one
** pipe per worker, batched in the worker (written when 64 KiB piled up or
** 20 ms passed) so tiny items do not cost a system call each.  The caller
** polls every pipe and every pidfd (50 ms timeouts, checking
** mpl__interrupt_pending() on each wakeup; EINTR wakes it too) and reads
** whatever arrives, so a pipe never fills up and blocks its worker.
** Payloads are opaque here; an ERROR frame stops the team at once.
**
** Large results do not go through a pipe.  The results region is a memfd
** of twice the physical memory (sparse, MAP_SHARED | MAP_NORESERVE)
** mapped before the fork; a worker reserves a page-aligned range with an
** atomic bump pointer, populates it (MADV_POPULATE_WRITE, or fallocate),
** so that running out of memory is an error in the worker and never a
** SIGBUS, copies its data there and sends only the offset.  The caller
** makes a matrix on that range whose release punches the range out of the
** file and drops a reference to the region; the last reference unmaps and
** closes it, so results may outlive the team.
**
** Reaping.  The caller never calls waitpid(-1): a host may reap children
** itself or ignore SIGCHLD.  Each worker is watched through its pidfd and
** reaped with waitid(P_PIDFD); when someone else reaped it first, its
** status is unknown and the death is reported as "exited unexpectedly".
** A worker that finished sets a flag in the control block just before
** _exit, so any other end (a signal, an exit status, os.exit in user code)
** is a failure, named with the item the worker held.  On any failure, on
** an interrupt and on destruction the remaining workers are killed through
** their pidfds (no risk of hitting a recycled pid) and reaped before the
** call returns.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "team.h"

#define FRAME_MAGIC 0x4d6c706du /* "mplM" little-endian */
#define FLUSH_BYTES                                                            \
  ((size_t)64 << 10)       /* a worker writes when this piled up               \
                            */
#define FLUSH_NS 20000000L /* ... or this long passed */
#define READ_STEP ((size_t)64 << 10)
#define READ_MAX ((size_t)4 << 20) /* per pipe per wakeup: fairness */
#define MAX_FRAME ((uint64_t)1 << 40)
#define POLL_MS 50

typedef struct frame_hdr {
  uint32_t magic, kind;
  uint64_t item, len;
} frame_hdr;

typedef struct wslot {
  _Atomic uint64_t cur;      /* 1-based item being run, 0 when none */
  _Atomic uint32_t finished; /* set just before a normal _exit */
} __attribute__((aligned(64))) wslot;

typedef struct ctl {
  _Atomic uint64_t next; /* next item to hand out */
  _Atomic uint64_t rtop; /* bump pointer of the results region */
  _Atomic uint32_t go;   /* the gate: 0 wait, 1 start, 2 leave */
  uint64_t n, chunk;
  uint64_t procs;
  wslot w[];
} ctl;

typedef struct region {
  atomic_long refs;
  mpl__region m; /* the memfd and its mapping */
  pid_t owner;
} region;

enum { HOW_UNKNOWN = 0, HOW_EXITED, HOW_SIGNALED };

typedef struct worker {
  pid_t pid;
  int pidfd, rfd;
  int eof, dead, reaped;
  int how, code; /* how it ended (HOW_*) and the status or signal */
  char *buf;
  size_t len, cap, pos; /* bytes in buf; frames consumed up to pos */
} worker;

struct mpl__team {
  ctl *c;
  size_t cbytes;
  region *rg;
  size_t n;
  int procs;
  pid_t owner;
  worker *w;
  struct pollfd *pfd;
  int *pw; /* worker of each pollfd */
  size_t received;
  int scan; /* round-robin start of frame delivery */
  /* in a worker */
  int me, wfd;
  char *out;
  size_t olen, ocap;
  long last_flush;
};

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

/* ---------------------------------------------------------------------- */
/* the results region                                                     */
/* ---------------------------------------------------------------------- */

/* A sparse memfd of twice the physical memory, mapped shared; a failed
** large mapping (an address-space limit) is retried at half the size. */
static region *region_new(void) {
  region *r = malloc(sizeof *r);
  if (!r) return NULL;
  long pages = sysconf(_SC_PHYS_PAGES);
  size_t pg = mpl__page_size();
  size_t size = pages > 0 ? 2 * (size_t)pages * pg : ((size_t)16 << 30);
  if (mpl__region_map(&r->m, "mpl-map-results", size, (size_t)64 << 20)) {
    int e = errno;
    free(r);
    errno = e;
    return NULL;
  }
  atomic_init(&r->refs, 1);
  r->owner = getpid();
  return r;
}

static void region_unref(region *r) {
  if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
    mpl__region_unmap(&r->m);
    free(r);
  }
}

/* A result matrix's storage went: give its pages back (only in the process
** that owns the region: a forked copy collecting its garbage must not
** punch the caller's results), then drop the region reference. */
static void region_release(mpl__storage *st) {
  region *r = st->ctx;
  if (getpid() == r->owner)
    mpl__region_punch(&r->m, st->fd_off, round_up(st->bytes, mpl__page_size()));
  region_unref(r);
}

/* ---------------------------------------------------------------------- */
/* workers                                                                */
/* ---------------------------------------------------------------------- */

static void futex_wake_all(_Atomic uint32_t *addr) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Write all of p, retrying short writes and EINTR. */
static int write_all(int fd, const void *p, size_t len) {
  const char *s = p;
  while (len > 0) {
    ssize_t k = write(fd, s, len);
    if (k < 0) {
      if (errno == EINTR) continue;
      return MPL_ESYS;
    }
    s += k;
    len -= (size_t)k;
  }
  return 0;
}

static int flush_out(mpl__team *t) {
  int err = t->olen ? write_all(t->wfd, t->out, t->olen) : 0;
  t->olen = 0;
  t->last_flush = mpl__now_ns();
  return err;
}

int mpl__team_send(mpl__team *t, int kind, size_t item, const void *data,
                   size_t len) {
  frame_hdr h = {FRAME_MAGIC, (uint32_t)kind, item, len};
  if (len >= FLUSH_BYTES) { /* large: no copy into the batch */
    int err = flush_out(t);
    if (!err) err = write_all(t->wfd, &h, sizeof h);
    if (!err) err = write_all(t->wfd, data, len);
    t->last_flush = mpl__now_ns();
    return err;
  }
  size_t need = t->olen + sizeof h + len;
  if (need > t->ocap) {
    size_t cap = t->ocap ? t->ocap : FLUSH_BYTES * 2;
    while (cap < need) cap *= 2;
    char *p = realloc(t->out, cap);
    if (!p) return MPL_ENOMEM;
    t->out = p;
    t->ocap = cap;
  }
  memcpy(t->out + t->olen, &h, sizeof h);
  if (len) memcpy(t->out + t->olen + sizeof h, data, len);
  t->olen = need;
  if (kind != MPL__FRAME_RESULT || t->olen >= FLUSH_BYTES ||
      mpl__now_ns() - t->last_flush >= FLUSH_NS)
    return flush_out(t);
  return 0;
}

int mpl__team_take(mpl__team *t, size_t *lo, size_t *hi) {
  ctl *c = t->c;
  uint64_t cur = atomic_load(&c->next);
  for (;;) {
    if (cur >= c->n) return 0;
    uint64_t rem = c->n - cur, k = c->chunk;
    if (k == 0) {
      k = rem / (4 * c->procs);
      if (k == 0) k = 1;
    }
    if (k > rem) k = rem;
    if (atomic_compare_exchange_weak(&c->next, &cur, cur + k)) {
      *lo = (size_t)cur;
      *hi = (size_t)(cur + k);
      return 1;
    }
  }
}

void mpl__team_running(mpl__team *t, size_t item) {
  atomic_store(&t->c->w[t->me].cur, item == SIZE_MAX ? 0 : (uint64_t)item + 1);
}

int mpl__team_reserve(mpl__team *t, size_t bytes, size_t *off, void **p) {
  mpl__region *r = &t->rg->m;
  size_t len = round_up(bytes ? bytes : 1, mpl__page_size());
  if (len < bytes) return MPL_ENOMEM; /* overflow */
  uint64_t o = atomic_fetch_add(&t->c->rtop, len);
  if (o > r->size || len > r->size - o) return MPL_ENOMEM;
  if (mpl__region_too_much(len)) return MPL_ENOMEM;
  if (mpl__region_populate(r, (size_t)o, len) != 0) {
    /* give back what was populated: the region may outlive the call */
    mpl__region_punch(r, (size_t)o, len);
    return MPL_ENOMEM;
  }
  *off = (size_t)o;
  *p = r->base + o;
  return 0;
}

/* The child's life: detach from the caller's signal handling and the
** other workers' descriptors, wait at the gate, run the body, send what
** is left, and leave with _exit. */
static void child_main(mpl__team *t, int w, int rfd, int wfd,
                       mpl__team_body body, void *ctx, pid_t parent) {
  for (int k = 0; k < w; k++) {
    close(t->w[k].rfd);
    close(t->w[k].pidfd);
  }
  close(rfd);
  prctl(PR_SET_NAME, "mpl-map");
  ctl *c = t->c;
  while (atomic_load(&c->go) == 0) {
    mpl__futex_wait_ms(&c->go, 0, 100);
    if (getppid() != parent) _exit(127);
  }
  if (atomic_load(&c->go) != 1) _exit(127);
  t->me = w;
  t->wfd = wfd;
  t->out = NULL;
  t->olen = t->ocap = 0;
  t->last_flush = mpl__now_ns();
  int rc = body(t, w, ctx);
  if (flush_out(t) != 0 && rc == 0) rc = 1;
  fflush(NULL);
  if (rc == 0) atomic_store(&c->w[w].finished, 1);
  _exit(rc);
}

/* ---------------------------------------------------------------------- */
/* the caller's side                                                      */
/* ---------------------------------------------------------------------- */

static void reap(worker *k) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  while ((rc = waitid(P_PIDFD, (id_t)k->pidfd, &si, WEXITED)) < 0 &&
         errno == EINTR) {
  }
  k->how = HOW_UNKNOWN;
  if (rc == 0 && si.si_pid != 0) {
    k->how = si.si_code == CLD_EXITED ? HOW_EXITED : HOW_SIGNALED;
    k->code = si.si_status;
  }
  k->dead = k->reaped = 1;
}

/* SIGKILL every worker still running and reap them all. */
static void stop_all(mpl__team *t) {
  for (int i = 0; i < t->procs; i++) {
    worker *k = &t->w[i];
    if (k->pid <= 0 || k->reaped) continue;
    if (!k->dead) syscall(SYS_pidfd_send_signal, k->pidfd, SIGKILL, NULL, 0);
  }
  for (int i = 0; i < t->procs; i++) {
    worker *k = &t->w[i];
    if (k->pid > 0 && !k->reaped) reap(k);
  }
}

static void team_free(mpl__team *t) {
  for (int i = 0; i < t->procs; i++) {
    if (t->w[i].rfd >= 0) close(t->w[i].rfd);
    if (t->w[i].pidfd >= 0) close(t->w[i].pidfd);
    free(t->w[i].buf);
  }
  if (t->c) munmap(t->c, t->cbytes);
  region_unref(t->rg);
  free(t->w);
  free(t->pfd);
  free(t->pw);
  free(t);
}

void mpl__team_destroy(mpl__team *t) {
  if (!t || getpid() != t->owner) return;
  stop_all(t);
  team_free(t);
}

/* Undo a start that failed: the children forked so far wait at the gate,
** so they are told to leave, killed and reaped. */
static void abort_start(mpl__team *t) {
  atomic_store(&t->c->go, 2);
  futex_wake_all(&t->c->go);
  for (int i = 0; i < t->procs; i++) {
    worker *k = &t->w[i];
    if (k->pid <= 0 || k->pidfd >= 0) continue;
    /* no pidfd: the child is still ours and alive (held at the gate), so
    ** its pid cannot have been recycled */
    kill(k->pid, SIGKILL);
    while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    k->pid = 0;
  }
  stop_all(t);
  team_free(t);
}

/* The team and its per-worker arrays, zeroed; NULL when out of memory. */
static mpl__team *team_alloc(size_t n, int procs) {
  mpl__team *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->n = n;
  t->procs = procs;
  t->owner = getpid();
  t->me = -1;
  t->wfd = -1;
  t->w = calloc((size_t)procs, sizeof *t->w);
  t->pfd = calloc(2 * (size_t)procs, sizeof *t->pfd);
  t->pw = calloc(2 * (size_t)procs, sizeof *t->pw);
  if (!t->w || !t->pfd || !t->pw) {
    free(t->w);
    free(t->pfd);
    free(t->pw);
    free(t);
    return NULL;
  }
  for (int i = 0; i < procs; i++) t->w[i].rfd = t->w[i].pidfd = -1;
  return t;
}

/* What the workers share with the caller before the fork: the control
** block and the results region.  On failure the caller frees the team. */
static int team_map_shared(mpl__team *t, size_t chunk) {
  t->cbytes = round_up(sizeof(ctl) + (size_t)t->procs * sizeof(wslot),
                       mpl__page_size());
  void *m = mmap(NULL, t->cbytes, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    mpl__set_errmsg("cannot map the workers' control block: %s",
                    strerror(errno));
    return MPL_ESYS;
  }
  t->c = m;
  t->c->n = t->n;
  t->c->chunk = chunk;
  t->c->procs = (uint64_t)t->procs;
  t->rg = region_new();
  if (!t->rg) {
    mpl__set_errmsg("cannot map the results region: %s", strerror(errno));
    return MPL_ESYS;
  }
  return 0;
}

/* Fork worker i with its result pipe and a pidfd to watch it; returns what
** failed (NULL when it started), the errno in *e. */
static const char *start_one(mpl__team *t, int i, mpl__team_body body,
                             void *ctx, pid_t self, int *e) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    *e = errno;
    return "cannot create a pipe";
  }
  (void)fcntl(p[1], F_SETPIPE_SZ, 256 << 10); /* fewer wakeups; best effort */
  pid_t pid = mpl__fork(MPL__FORK_TEAM_WORKER);
  if (pid == 0) child_main(t, i, p[0], p[1], body, ctx, self);
  *e = errno;
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    return "cannot start";
  }
  worker *k = &t->w[i];
  k->pid = pid;
  k->rfd = p[0];
  (void)fcntl(p[0], F_SETFL, O_NONBLOCK);
  k->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (k->pidfd < 0) {
    *e = errno;
    return "cannot watch";
  }
  (void)fcntl(k->pidfd, F_SETFD, FD_CLOEXEC);
  return NULL;
}

/* Fork every worker (through mpl__fork: signals and stdio are its
** concern).  Returns MPL_ESYS with the message set when one could not
** start; the caller then aborts the start. */
static int fork_workers(mpl__team *t, mpl__team_body body, void *ctx) {
  pid_t self = getpid();
  const char *what = NULL;
  int e = 0;
  for (int i = 0; i < t->procs && !what; i++)
    what = start_one(t, i, body, ctx, self, &e);
  if (!what) return 0;
  if (strcmp(what, "cannot create a pipe") == 0)
    mpl__set_errmsg("cannot create a pipe: %s", strerror(e));
  else
    mpl__set_errmsg("%s %d worker processes: %s", what, t->procs, strerror(e));
  return MPL_ESYS;
}

/* Allocate, share, fork, then open the gate the workers wait at. */
int mpl__team_start(mpl__team **out, size_t n, int procs, size_t chunk,
                    mpl__team_body body, void *ctx) {
  *out = NULL;
  if (n == 0 || procs < 1 || procs > MPL_MAX_PROCS || !body) return MPL_EINVAL;
  mpl__team *t = team_alloc(n, procs);
  if (!t) return MPL_ENOMEM;
  int err = team_map_shared(t, chunk);
  if (err) {
    team_free(t);
    return err;
  }
  if ((err = fork_workers(t, body, ctx)) != 0) {
    abort_start(t);
    return err;
  }
  atomic_store(&t->c->go, 1);
  futex_wake_all(&t->c->go);
  *out = t;
  return 0;
}

/* Read what the worker's pipe holds now (up to READ_MAX), growing its
** buffer to fit the frame being received. */
static void read_some(worker *k) {
  if (k->eof) return;
  if (k->pos > 0) { /* consumed frames: compact */
    memmove(k->buf, k->buf + k->pos, k->len - k->pos);
    k->len -= k->pos;
    k->pos = 0;
  }
  size_t total = 0;
  while (total < READ_MAX) {
    size_t want = k->len + READ_STEP;
    if (k->len >= sizeof(frame_hdr)) {
      frame_hdr h;
      memcpy(&h, k->buf, sizeof h);
      if (h.len <= MAX_FRAME && sizeof h + h.len > want)
        want = sizeof h + h.len;
    }
    if (want > k->cap) {
      size_t cap = k->cap ? k->cap : READ_STEP * 2;
      while (cap < want) cap *= 2;
      char *p = realloc(k->buf, cap);
      if (!p) return; /* retried on the next wakeup */
      k->buf = p;
      k->cap = cap;
    }
    ssize_t got = read(k->rfd, k->buf + k->len, k->cap - k->len);
    if (got > 0) {
      k->len += (size_t)got;
      total += (size_t)got;
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got == 0 || errno != EAGAIN) k->eof = 1;
    return;
  }
}

/* Everything a dead worker left in its pipe. */
static void drain(worker *k) {
  while (!k->eof) {
    size_t before = k->len - k->pos;
    read_some(k);
    if (k->len - k->pos == before) break; /* EAGAIN: nothing more */
  }
}

static void describe(mpl__team *t, int i, uint64_t cur) {
  worker *k = &t->w[i];
  char item[48] = "";
  if (cur) snprintf(item, sizeof item, "item %llu: ", (unsigned long long)cur);
  if (k->how == HOW_SIGNALED)
    mpl__set_errmsg("%sworker %d (pid %d) was killed by signal %d (%s)", item,
                    i + 1, (int)k->pid, k->code, strsignal(k->code));
  else if (k->how == HOW_EXITED)
    mpl__set_errmsg("%sworker %d (pid %d) exited with status %d", item, i + 1,
                    (int)k->pid, k->code);
  else
    mpl__set_errmsg("%sworker %d (pid %d) exited unexpectedly", item, i + 1,
                    (int)k->pid);
}

/* The next complete frame in any worker's buffer, round robin: 1 with ev
** set, 0 when none, MPL_EWORKER for a malformed one. */
static int next_frame(mpl__team *t, mpl__team_event *ev) {
  for (int s = 0; s < t->procs; s++) {
    int i = (t->scan + s) % t->procs;
    worker *k = &t->w[i];
    size_t have = k->len - k->pos;
    if (have < sizeof(frame_hdr)) continue;
    frame_hdr h;
    memcpy(&h, k->buf + k->pos, sizeof h);
    if (h.magic != FRAME_MAGIC || h.item >= t->n || h.len > MAX_FRAME ||
        (h.kind != MPL__FRAME_RESULT && h.kind != MPL__FRAME_ERROR)) {
      mpl__set_errmsg("worker %d (pid %d) sent a malformed message", i + 1,
                      (int)k->pid);
      return MPL_EWORKER;
    }
    if (have - sizeof h < h.len) continue;
    ev->kind =
        h.kind == MPL__FRAME_RESULT ? MPL__TEAM_RESULT : MPL__TEAM_FAILED;
    ev->item = (size_t)h.item;
    ev->data = k->buf + k->pos + sizeof h;
    ev->len = (size_t)h.len;
    k->pos += sizeof h + (size_t)h.len;
    t->scan = (i + 1) % t->procs;
    return 1;
  }
  return 0;
}

/* Reap the workers that died and have nothing left to deliver; one that
** did not finish normally fails the call.  Returns 0 or MPL_EWORKER. */
static int check_deaths(mpl__team *t, mpl__team_event *ev) {
  for (int i = 0; i < t->procs; i++) {
    worker *k = &t->w[i];
    if (!k->dead || k->reaped) continue;
    reap(k);
    if (atomic_load(&t->c->w[i].finished) && k->len == k->pos) continue;
    uint64_t cur = atomic_load(&t->c->w[i].cur);
    if (atomic_load(&t->c->w[i].finished))
      mpl__set_errmsg("worker %d (pid %d) sent a truncated message", i + 1,
                      (int)k->pid);
    else
      describe(t, i, cur);
    ev->item = cur ? (size_t)cur - 1 : SIZE_MAX;
    stop_all(t);
    return MPL_EWORKER;
  }
  return 0;
}

/* Sleep in poll until a pipe has bytes or a worker dies (at most left ns,
** capped at POLL_MS), then read the pipes and mark the dead.  Returns 0 or
** MPL_ESYS with the team stopped. */
static int poll_workers(mpl__team *t, long left) {
  int np = 0;
  for (int i = 0; i < t->procs; i++) {
    worker *k = &t->w[i];
    if (!k->eof && !k->dead) {
      t->pfd[np] = (struct pollfd){k->rfd, POLLIN, 0};
      t->pw[np++] = i;
    }
    if (!k->dead) {
      t->pfd[np] = (struct pollfd){k->pidfd, POLLIN, 0};
      t->pw[np++] = -1 - i;
    }
  }
  long ms = (left + 999999) / 1000000;
  int pr = poll(t->pfd, (nfds_t)np, (int)(ms < POLL_MS ? ms : POLL_MS));
  if (pr < 0 && errno != EINTR) {
    int e = errno;
    stop_all(t);
    mpl__set_errmsg("cannot wait for the workers: %s", strerror(e));
    return MPL_ESYS;
  }
  for (int j = 0; pr > 0 && j < np; j++) {
    if (!t->pfd[j].revents) continue;
    if (t->pw[j] >= 0) {
      read_some(&t->w[t->pw[j]]);
    } else {
      worker *k = &t->w[-1 - t->pw[j]];
      k->dead = 1;
      drain(k);
    }
  }
  return 0;
}

/* The next event: a frame, a failure, the end, an interrupt or a tick when
** timeout_ms passed; between checks it sleeps in poll_workers. */
int mpl__team_wait(mpl__team *t, mpl__team_event *ev, int timeout_ms) {
  long deadline = mpl__now_ns() + (long)timeout_ms * 1000000L;
  ev->kind = 0;
  ev->item = SIZE_MAX;
  ev->data = NULL;
  ev->len = 0;
  for (;;) {
    int r = next_frame(t, ev);
    if (r < 0) {
      stop_all(t);
      return r;
    }
    if (r > 0) {
      if (ev->kind == MPL__TEAM_FAILED)
        stop_all(t);
      else
        t->received++;
      return ev->kind;
    }
    r = check_deaths(t, ev);
    if (r) return r;
    int live = 0;
    for (int i = 0; i < t->procs; i++) live += !t->w[i].reaped;
    if (!live) {
      if (t->received == t->n) return ev->kind = MPL__TEAM_DONE;
      mpl__set_errmsg("the workers finished without returning every result");
      return MPL_EWORKER;
    }
    if (mpl__interrupt_pending()) {
      stop_all(t);
      mpl__interrupt_used();
      mpl__set_errmsg("interrupted");
      return MPL_EINTR;
    }
    long left = deadline - mpl__now_ns();
    if (left <= 0) return ev->kind = MPL__TEAM_TICK;
    if ((r = poll_workers(t, left)) != 0) return r;
  }
}

size_t mpl__team_received(const mpl__team *t) { return t->received; }

int mpl__team_result_mat(mpl__team *t, mpl_mat **out, size_t off, size_t rows,
                         size_t cols) {
  size_t bytes;
  *out = NULL;
  int err = mpl__mat_bytes(rows, cols, &bytes);
  if (err) return err;
  region *r = t->rg;
  uint64_t top = atomic_load(&t->c->rtop);
  if (off % mpl__page_size() != 0 || off > r->m.size ||
      bytes > r->m.size - off || off + bytes > top)
    return MPL_EINVAL;
  atomic_fetch_add(&r->refs, 1);
  err = mpl__mat_external(out, (double *)(void *)(r->m.base + off), bytes, rows,
                          cols, (ptrdiff_t)cols, 1, region_release, r, r->m.fd,
                          off);
  if (err) region_unref(r);
  return err;
}

int mpl__team_pids(const mpl__team *t, int *pids, int max) {
  int k = 0;
  for (int i = 0; i < t->procs && k < max; i++)
    if (t->w[i].pid > 0 && !t->w[i].reaped) pids[k++] = (int)t->w[i].pid;
  return k;
}
