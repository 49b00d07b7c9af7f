/*
** pool.c: the persistent pool of worker processes that runs products.
**
** DESIGN
** Shape.  The first time the pool is wanted (when the `mat` module is
** opened, or the first parallel call of a C host) the calling process maps
** a small shared control block and forks one helper, the "forkserver".  It
** is forked while the process is still small and then touches almost
** nothing, so it pins none of its parent's later heap through copy-on-write;
** workers are forked from it, on demand, never from the (possibly large)
** caller.  The arena is mapped before the forkserver exists, so every
** worker sees every matrix, whenever it was made, at the same address.
**
** Dispatch.  A job is an operation (a function every worker has, as a
** fork of the caller), its argument (for products, dot.c: the matrices'
** geometry and how the product is cut into items, a few hundred bytes)
** and its number of items.  The caller writes it once into the control block,
** resets the job's queue of items and bumps the `post` counter of each
** worker's slot; the worker, spinning on that counter for a while after
** each job and sleeping on it (futex) after that, marks the job `taken`,
** runs items from the queue (for products: single-threaded OpenBLAS
** straight into the shared result) until none is left, and publishes
** `done`.  A hot pool therefore dispatches through shared memory with no
** system call; only a sleeping party costs a futex wake.  The
** caller does not compute a share itself: it waits (briefly spinning, then
** sleeping in 50 ms futex waits), so it stays responsive to Ctrl-C and to
** dying workers whatever the size of the job.
**
** Failures.  The forkserver is every worker's parent: it reaps them (so a
** host that ignores SIGCHLD or reaps children itself changes nothing),
** records how a worker died in its slot and wakes the caller, which kills
** the other workers (through the forkserver) and reports the dead one by
** number, pid and signal.  A worker that died before it took the job
** (killed while idle) took no item, so the others' work is complete: it is
** not an error: items nobody took are run by the caller, and the
** forkserver forks a worker into the dead one's slot; a worker already
** known dead is replaced that way before the job is posted.  Ctrl-C
** (mpl_interrupt) is handled the same way: the workers are killed mid-job
** and forked afresh on the next call, which is cheap from the small
** forkserver.  Workers carry PR_SET_PDEATHSIG to
** their (single-threaded) forkserver; the forkserver sees its creator die
** as EOF on its socket, and both check their parent every 250 ms while
** idle, so none outlives the process that started them.  Where
** pidfd_open is missing (kernels before 5.3, valgrind 3.19) the caller
** watches the forkserver through its socket instead (see forget_server).
** The forkserver and its workers are in their own process group: a
** terminal's Ctrl-C goes to the caller only.
**
** Forked children of the caller (a fork of the host, mat.map's workers)
** inherit none of this: their worker context (fork.c) does not allow the
** pool, and their parallel calls run in-process.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blas.h"
#include "internal.h"

/* Under valgrind the forkserver turns its leak check off (see server_main);
** the request is a no-op marker instruction when valgrind is absent. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef VALGRIND_CLO_CHANGE
#define VALGRIND_CLO_CHANGE(option) ((void)0)
#endif

#define CMD_MAGIC 0x6d706c50u
#define WORKER_SPIN_NS 1000000L /* a worker spins this long after a job */
#define CALLER_SPIN_NS 50000L   /* the caller spins this long, then sleeps */
#define IDLE_CHECK_MS 250       /* idle processes check their parent */

typedef struct slot {
  _Atomic uint32_t post;     /* jobs posted (caller) */
  _Atomic uint32_t done;     /* jobs finished (worker) */
  _Atomic uint32_t taken;    /* jobs started (worker) */
  _Atomic uint32_t sleeping; /* the worker is in, or entering, futex_wait */
  _Atomic int32_t pid;       /* the worker, 0 when none */
  _Atomic int32_t death;     /* wait status + 1 once it died, else 0 */
  _Atomic int32_t dead_pid;  /* the worker `death` is about */
} __attribute__((aligned(64))) slot;

/* A job: an operation, its argument (a copy) and its number of items. */
typedef struct job {
  mpl__op op;
  size_t items;
  _Alignas(max_align_t) unsigned char arg[MPL__OP_ARG_MAX];
} job;

/* The items of a job, taken one at a time by its participants. */
typedef struct queue {
  _Atomic size_t next;     /* items taken */
  _Atomic size_t finished; /* items done */
} queue;

typedef struct ctl {
  _Atomic uint32_t waiting; /* the caller sleeps on `wake` */
  _Atomic uint32_t wake;    /* bumped by finishing workers and deaths */
  job job;                  /* the job posted last */
  queue queue;              /* its items */
  slot slots[MPL_MAX_PROCS];
} ctl;

enum { OP_SPAWN = 1, OP_STOP = 2 };

typedef struct cmd {
  uint32_t magic, op;
  int32_t n;
} cmd;

typedef struct reply {
  uint32_t magic;
  int32_t status; /* 0, or an errno from fork */
  int32_t count;  /* workers running now */
} reply;

static struct {
  pthread_mutex_t lock;
  ctl *c;
  pid_t owner;  /* the process this pool belongs to */
  pid_t zpid;   /* the forkserver */
  int zsock;    /* our end of its command socket */
  int zpidfd;   /* a pidfd of the forkserver: readable once it died */
  int nworkers; /* workers the forkserver has running */
  uint32_t seq[MPL_MAX_PROCS]; /* last job posted to each slot */
} P = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, -1, -1, 0, {0}};

static atomic_uint interrupted;
static atomic_uint interrupts;      /* mpl_interrupt() calls so far */
static atomic_uint interrupts_used; /* that count when one became an error */

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void pool_after_fork(void);

static void register_atfork(void) {
  pthread_atfork(NULL, NULL, pool_after_fork);
}

/* Counted before it is seen: a call that sees it marks it used. */
void mpl_interrupt(void) {
  atomic_fetch_add(&interrupts, 1);
  atomic_store(&interrupted, 1);
}

unsigned mpl__interrupt_count(void) { return atomic_load(&interrupts); }

void mpl__interrupt_used(void) {
  atomic_store(&interrupts_used, atomic_load(&interrupts));
}

int mpl__interrupt_was_used(unsigned count) {
  return (int)(atomic_load(&interrupts_used) - count) >= 0;
}

int mpl__interrupt_pending(void) { return atomic_load(&interrupted) != 0; }

void mpl__interrupt_clear(void) { atomic_store(&interrupted, 0); }

int mpl__interrupt_check(void) {
  if (!atomic_load(&interrupted)) return 0;
  mpl__interrupt_used();
  mpl__set_errmsg("interrupted");
  return MPL_EINTR;
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val,
                  const struct timespec *ts) {
  return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr) {
  futex(addr, FUTEX_WAKE, INT_MAX, NULL);
}

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* The caller's view of a job's progress: the hook and when it was called
** last (see mpl__progress). */
typedef struct watch {
  const mpl__progress *pr;
  long last;
} watch;

/* Call the progress hook with the items done so far, if it is set and was
** not called in the last MPL__PROGRESS_MS. */
static void tick(watch *w, const job *j, queue *q) {
  if (!w || !w->pr || !w->pr->fn) return;
  long now = mpl__now_ns();
  if (now - w->last < MPL__PROGRESS_MS * 1000000L) return;
  w->last = now;
  w->pr->fn(w->pr->ctx, atomic_load(&q->finished), j->items);
}

/* Run the job's items taken from q in this process, until none is left;
** the caller (w set) looks at its progress hook between items, and when
** stoppable at mpl_interrupt() (then MPL_EINTR, items left undone). */
static int run_items(const job *j, queue *q, watch *w, int stoppable) {
  size_t i;
  while ((i = atomic_fetch_add(&q->next, 1)) < j->items) {
    if (stoppable && mpl__interrupt_pending()) return MPL_EINTR;
    j->op(j->arg, i);
    atomic_fetch_add(&q->finished, 1);
    tick(w, j, q);
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* workers                                                                */
/* ---------------------------------------------------------------------- */

/* Pin worker w to the w-th CPU this process may use (after the first, so
** a lone worker and the caller start on different CPUs). */
static void pin(int w) {
  cpu_set_t allowed, one;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  int n = CPU_COUNT(&allowed);
  if (n <= 1) return;
  int want = (w + 1) % n, k = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (k++ == want) {
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      sched_setaffinity(0, sizeof one, &one);
      return;
    }
  }
}

/* A worker's life: wait for a job on its slot, run it, publish it. */
static void worker_main(ctl *c, int w, pid_t server) {
  slot *s = &c->slots[w];
  prctl(PR_SET_NAME, "mpl-worker");
  pin(w); /* one BLAS thread: set once in the forkserver (see there) */
  uint32_t last = atomic_load(&s->done); /* posts beyond it are for us */
  for (;;) {
    long t0 = mpl__now_ns();
    int spins = 0;
    while (atomic_load(&s->post) == last) {
      if (mpl__now_ns() - t0 < WORKER_SPIN_NS) {
        cpu_relax();
        if (++spins % 64 == 0) sched_yield(); /* let the caller have the CPU */
        continue;
      }
      atomic_store(&s->sleeping, 1);
      if (atomic_load(&s->post) == last)
        mpl__futex_wait_ms(&s->post, last, IDLE_CHECK_MS);
      atomic_store(&s->sleeping, 0);
      if (getppid() != server) _exit(0);
      t0 = mpl__now_ns();
    }
    last = atomic_load(&s->post);
    atomic_store(&s->taken, last);
    job j = c->job;
    run_items(&j, &c->queue, NULL, 0);
    atomic_store(&s->done, last);
    if (atomic_load(&c->waiting)) {
      atomic_fetch_add(&c->wake, 1);
      futex_wake(&c->wake);
    }
  }
}

/* ---------------------------------------------------------------------- */
/* the forkserver                                                         */
/* ---------------------------------------------------------------------- */

/* SIGKILL every worker and reap it; the slots are cleared first so their
** deaths are not reported as failures. */
static void stop_workers(ctl *c, int *count) {
  for (int w = 0; w < *count; w++) {
    pid_t pid = atomic_exchange(&c->slots[w].pid, 0);
    if (pid > 0) {
      kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
      }
    }
    atomic_store(&c->slots[w].death, 0);
  }
  *count = 0;
}

/* Record how reaped workers died and wake the caller. */
static void reap(ctl *c, int count) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (int w = 0; w < count; w++) {
      if (atomic_load(&c->slots[w].pid) != pid) continue;
      atomic_store(&c->slots[w].pid, 0);
      atomic_store(&c->slots[w].dead_pid, pid);
      atomic_store(&c->slots[w].death, st + 1);
      atomic_fetch_add(&c->wake, 1);
      futex_wake(&c->wake);
    }
  }
}

/* Fork workers into the empty slots among the first n: those past *count
** and those whose worker died.  On a failed fork every worker is stopped,
** so the caller gets all or nothing. */
static int spawn(ctl *c, int *count, int n, pid_t self) {
  for (int w = 0; w < n; w++) {
    slot *s = &c->slots[w];
    if (w < *count && atomic_load(&s->pid) > 0) continue;
    atomic_store(&s->death, 0);
    atomic_store(&s->sleeping, 0);
    atomic_store(&s->done, atomic_load(&s->post));
    atomic_store(&s->taken, atomic_load(&s->post));
    pid_t pid = mpl__fork(MPL__FORK_POOL_WORKER);
    if (pid < 0) {
      int e = errno;
      stop_workers(c, count);
      return e;
    }
    if (pid == 0) {
      closefrom(3); /* the forkserver's socket and signalfd */
      worker_main(c, w, self);
    }
    atomic_store(&s->pid, pid);
    if (w >= *count) *count = w + 1;
  }
  return 0;
}

/* The forkserver's loop: commands from its creator, deaths of its
** workers.  It leaves when its creator goes (EOF or a changed parent). */
static void server_main(ctl *c, int sock, pid_t creator) {
  pid_t self = getpid();
  int count = 0;
  prctl(PR_SET_NAME, "mpl-pool");
  setpgid(0, 0);
  /* Our heap is a copy of the creator's, live objects included, which we
  ** never free (they are not ours to free, and we end with _exit): a
  ** memcheck leak check at our exit would report the creator's objects
  ** (a Lua state, reachable only through interior pointers, as "possibly
  ** lost").  Other errors are still reported. */
  VALGRIND_CLO_CHANGE("--leak-check=no");
  /* Workers inherit one BLAS thread from here.  Set in a worker, it would
  ** restart the BLAS thread pool that fork shut down (OpenBLAS does that
  ** lazily): an idle thread per worker, and when RLIMIT_NPROC is reached,
  ** OpenBLAS raising SIGINT and killing the worker.  Here that pool is
  ** shut down again before the first worker is forked. */
  mpl__blas_single_thread();
  if (sock != 3) {
    dup2(sock, 3);
    sock = 3;
  }
  closefrom(4);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) _exit(1);
  for (;;) {
    struct pollfd pf[2] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}};
    int r = poll(pf, 2, IDLE_CHECK_MS);
    if (getppid() != creator) break;
    if (r < 0) continue;
    if (pf[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {
      }
      reap(c, count);
    }
    if (!pf[0].revents) continue;
    cmd m;
    ssize_t got = recv(sock, &m, sizeof m, 0);
    if (got == 0 || (got < 0 && errno != EINTR)) break;
    if (got != sizeof m || m.magic != CMD_MAGIC) continue;
    reply rep = {CMD_MAGIC, 0, 0};
    if (m.op == OP_SPAWN)
      rep.status = spawn(c, &count, m.n, self);
    else if (m.op == OP_STOP)
      stop_workers(c, &count);
    rep.count = count;
    if (send(sock, &rep, sizeof rep, MSG_NOSIGNAL) != sizeof rep) break;
  }
  stop_workers(c, &count);
  _exit(0);
}

/* ---------------------------------------------------------------------- */
/* the caller's side                                                      */
/* ---------------------------------------------------------------------- */

/* Whether the forkserver still runs: its pidfd turns readable when it
** dies; without a pidfd (see start_server) its end of the socket, which
** only it holds (its workers close theirs), hangs up. */
static int server_alive(void) {
  if (P.zpid <= 0) return 0;
  struct pollfd pf = {P.zpidfd >= 0 ? P.zpidfd : P.zsock,
                      P.zpidfd >= 0 ? POLLIN : 0, 0};
  /* Even with no timeout, poll fails with EINTR when a signal with a
  ** handler is pending: that says nothing about the forkserver (taken as
  ** its death, it killed a healthy one, in hosts with signal handlers). */
  int r;
  while ((r = poll(&pf, 1, 0)) < 0 && errno == EINTR) {
  }
  return r <= 0;
}

/* Drop a forkserver that is gone or unwanted: kill it through its pidfd
** (no risk of hitting a recycled pid) and reap exactly it, unless the host
** already did.  Without a pidfd it is signalled by pid only while its
** socket shows it alive: a process that has not exited cannot have been
** reaped, so its pid is still its own. */
static void forget_server(void) {
  if (P.zpidfd >= 0) {
    siginfo_t si;
    syscall(SYS_pidfd_send_signal, P.zpidfd, SIGKILL, NULL, 0);
    while (waitid(P_PIDFD, (id_t)P.zpidfd, &si, WEXITED) < 0 &&
           errno == EINTR) {
    }
    close(P.zpidfd);
  } else if (P.zpid > 0) {
    if (server_alive()) kill(P.zpid, SIGKILL);
    while (waitpid(P.zpid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  if (P.zsock >= 0) close(P.zsock);
  P.zsock = P.zpidfd = -1;
  P.zpid = 0;
  P.nworkers = 0;
}

/* In a child forked from the owner: the pool is the parent's, and so are
** the cores; the child's products and loops run in it alone (and in its
** own children). */
static void pool_after_fork(void) {
  if (P.owner != 0) mpl__context_drop(MPL__MAY_POOL | MPL__MAY_THREADS);
  pthread_mutex_init(&P.lock, NULL);
  if (P.zsock >= 0) close(P.zsock);
  if (P.zpidfd >= 0) close(P.zpidfd);
  P.zsock = P.zpidfd = -1;
  P.zpid = 0;
  P.nworkers = 0;
}

/* Whether this process may run products on the pool (the worker
** context); the fork handler that keeps a child off its parent's pool is
** registered on the first look. */
static int pool_allowed(void) {
  pthread_once(&atfork_once, register_atfork);
  return mpl__may(MPL__MAY_POOL);
}

/* Fork the forkserver (through mpl__fork, so no handler of the host runs
** in it); called with the lock held. */
static int start_server(void) {
  pthread_once(&atfork_once, register_atfork);
  if (!mpl__blas()) return MPL_ESYS; /* workers inherit OpenBLAS too */
  int err = mpl__arena_ensure();     /* workers must inherit the arena */
  if (err) return err;
  if (!P.c) {
    void *m = mmap(NULL, sizeof(ctl), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      mpl__set_errmsg("cannot map the pool's control block: %s",
                      strerror(errno));
      return MPL_ESYS;
    }
    P.c = m;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    mpl__set_errmsg("cannot create the pool's socket: %s", strerror(errno));
    return MPL_ESYS;
  }
  /* The creator's death shows as EOF on the socket (the kernel closes its
  ** end) and as a changed parent (see fork.c on PR_SET_PDEATHSIG). */
  pid_t creator = getpid();
  pid_t pid = mpl__fork(MPL__FORK_SERVER);
  if (pid == 0) {
    close(sv[0]);
    server_main(P.c, sv[1], creator); /* keeps every signal blocked */
  }
  int e = errno;
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    mpl__set_errmsg("cannot start the worker pool: %s", strerror(e));
    return MPL_ESYS;
  }
  P.owner = creator;
  P.zpid = pid;
  P.zsock = sv[0];
  /* No pidfd_open (ENOSYS: a kernel before 5.3, or valgrind 3.19, which
  ** does not know the call) leaves the socket to watch it by. */
  P.zpidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (P.zpidfd >= 0) fcntl(P.zpidfd, F_SETFD, FD_CLOEXEC);
  P.nworkers = 0;
  if (P.zpidfd < 0 && errno != ENOSYS) {
    mpl__set_errmsg("cannot watch the worker pool: %s", strerror(errno));
    kill(pid, SIGKILL); /* still ours, unreaped: the pid is its own */
    forget_server();
    return MPL_ESYS;
  }
  return 0;
}

/* One command to the forkserver and its reply. */
static int server_call(int op, int n, reply *rep) {
  cmd m = {CMD_MAGIC, (uint32_t)op, n};
  ssize_t sent;
  while ((sent = send(P.zsock, &m, sizeof m, MSG_NOSIGNAL)) < 0 &&
         errno == EINTR) {
  }
  if (sent != (ssize_t)sizeof m) return -1;
  for (;;) {
    ssize_t got = recv(P.zsock, rep, sizeof *rep, 0);
    if (got == (ssize_t)sizeof *rep && rep->magic == CMD_MAGIC) return 0;
    if (got < 0 && errno == EINTR) continue;
    return -1;
  }
}

/* Whether a worker among the first n died since it was started (killed
** while idle): the forkserver cleared its slot. */
static int dead_among(int n) {
  for (int w = 0; w < n && w < P.nworkers; w++)
    if (atomic_load(&P.c->slots[w].death) || !atomic_load(&P.c->slots[w].pid))
      return 1;
  return 0;
}

/* A forkserver and n live workers, ready (dead ones replaced); called with
** the lock held. */
static int ensure_workers(int n) {
  if (n > MPL_MAX_PROCS) n = MPL_MAX_PROCS;
  if (P.zpid > 0 && !server_alive()) forget_server();
  if (P.zpid <= 0) {
    int err = start_server();
    if (err) return err;
  }
  if (P.nworkers >= n && !dead_among(n)) return 0;
  reply rep;
  if (server_call(OP_SPAWN, n, &rep) != 0) {
    forget_server();
    mpl__set_errmsg("the worker pool's helper process died");
    return MPL_EWORKER;
  }
  P.nworkers = rep.count;
  for (int w = 0; w < P.nworkers; w++)
    P.seq[w] = atomic_load(&P.c->slots[w].post);
  if (rep.status) {
    /* The forkserver keeps the limits it was born with (RLIMIT_NPROC, for
    ** one): drop it, so the next attempt starts from today's. */
    forget_server();
    mpl__set_errmsg("cannot start %d worker processes: %s", n,
                    strerror(rep.status));
    return MPL_ESYS;
  }
  return 0;
}

/* Kill every worker (they are restarted on demand). */
static void stop_all(void) {
  reply rep;
  if (P.zpid > 0 && server_call(OP_STOP, 0, &rep) != 0) forget_server();
  P.nworkers = 0;
}

int mpl__pool_prepare(void) {
  if (!pool_allowed()) return 0;
  pthread_mutex_lock(&P.lock);
  int err = 0;
  if (P.zpid <= 0 || !server_alive()) {
    if (P.zpid > 0) forget_server();
    err = start_server();
  }
  pthread_mutex_unlock(&P.lock);
  return err;
}

int mpl__pool_start(int n) {
  if (!pool_allowed() || n < 1) return 0;
  pthread_mutex_lock(&P.lock);
  int err = ensure_workers(n);
  pthread_mutex_unlock(&P.lock);
  return err;
}

int mpl__pool_pids(int *pids, int max) {
  int k = 0;
  if (!pool_allowed()) return 0;
  pthread_mutex_lock(&P.lock);
  for (int w = 0; P.c && w < P.nworkers && k < max; w++) {
    pid_t pid = atomic_load(&P.c->slots[w].pid);
    if (pid > 0) pids[k++] = pid;
  }
  pthread_mutex_unlock(&P.lock);
  return k;
}

/* Describe how worker w died, from its wait status. */
static void describe_death(int w, pid_t pid, int st) {
  if (WIFSIGNALED(st))
    mpl__set_errmsg("worker %d (pid %d) was killed by signal %d (%s)", w + 1,
                    (int)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
  else
    mpl__set_errmsg("worker %d (pid %d) exited with status %d", w + 1, (int)pid,
                    WEXITSTATUS(st));
}

/* Whether worker w is through with the job posted last: 1 when it
** published it, or died before it took it (having taken no item, it lost
** nothing: *lost is set); 0 while it works; MPL_EWORKER when it died with
** the job in hand. */
static int through(int w, int *lost) {
  slot *s = &P.c->slots[w];
  if (atomic_load(&s->done) == P.seq[w]) return 1;
  int death = atomic_load(&s->death);
  if (!death) return 0;
  if (atomic_load(&s->taken) != P.seq[w]) {
    *lost = 1;
    return 1;
  }
  /* its pid from the forkserver: the slot's is cleared at its death */
  describe_death(w, atomic_load(&s->dead_pid), death - 1);
  return MPL_EWORKER;
}

/* Wait until workers 0..n-1 are through with their job, calling the
** progress hook on the way; a death with the job in hand, the end of the
** forkserver or an interrupt ends the wait with an error instead. */
static int wait_done(int n, int *lost, watch *wt) {
  ctl *c = P.c;
  long t0 = mpl__now_ns();
  for (;;) {
    tick(wt, &c->job, &c->queue);
    uint32_t w0 = atomic_load(&c->wake);
    int pending = 0;
    for (int w = 0; w < n; w++) {
      int r = through(w, lost);
      if (r < 0) return r;
      if (!r) pending = 1;
    }
    if (!pending) return 0;
    if (atomic_load(&interrupted)) {
      mpl__interrupt_used();
      mpl__set_errmsg("interrupted");
      return MPL_EINTR;
    }
    if (mpl__now_ns() - t0 < CALLER_SPIN_NS) {
      cpu_relax();
      continue;
    }
    if (!server_alive()) {
      mpl__set_errmsg("the worker pool's helper process died");
      return MPL_EWORKER;
    }
    atomic_store(&c->waiting, 1);
    int still = 0, ignore = 0;
    for (int w = 0; w < n; w++) still |= through(w, &ignore) == 0;
    if (still) mpl__futex_wait_ms(&c->wake, w0, 50);
    atomic_store(&c->waiting, 0);
  }
}

/* Run a job's items in-process; mpl_interrupt() stops it between items
** (MPL_EINTR), as it stops the workers' path, so a long product with one
** process still ends within an item's time of Ctrl-C. */
static int run_here(const job *j, watch *w) {
  queue q = {0, 0};
  mpl__interrupt_clear();
  return run_items(j, &q, w, 1) ? mpl__interrupt_check() : 0;
}

/* Post the job in the control block to workers 0..n-1 and wait for them;
** called with the lock held and the workers ready. */
static int post_and_wait(int n, watch *wt) {
  ctl *c = P.c;
  int lost = 0;
  atomic_store(&c->queue.next, 0);
  atomic_store(&c->queue.finished, 0);
  for (int w = 0; w < n; w++) {
    slot *s = &c->slots[w];
    P.seq[w] = atomic_fetch_add(&s->post, 1) + 1;
    if (atomic_load(&s->sleeping)) futex_wake(&s->post);
  }
  int err = wait_done(n, &lost, wt);
  if (err)
    stop_all(); /* the others are mid-job: stop them now */
  else if (lost)
    run_items(&c->job, &c->queue, wt, 0); /* items nobody took */
  return err;
}

int mpl__pool_run(mpl__op op, const void *arg, size_t arg_len, size_t items,
                  int n, const mpl__progress *pr) {
  job j = {op, items, {0}};
  watch w = {pr, mpl__now_ns()};
  if (arg_len > sizeof j.arg) {
    mpl__set_errmsg("a pooled operation's argument is too large");
    return MPL_EINVAL;
  }
  memcpy(j.arg, arg, arg_len);
  if ((size_t)n > items) n = (int)items;
  if (n <= 1 || !pool_allowed()) return run_here(&j, &w);
  if (pthread_mutex_trylock(&P.lock) != 0) return run_here(&j, &w);
  mpl__interrupt_clear();
  int err = ensure_workers(n);
  if (!err) {
    P.c->job = j;
    err = post_and_wait(n, &w);
  }
  pthread_mutex_unlock(&P.lock);
  return err;
}
