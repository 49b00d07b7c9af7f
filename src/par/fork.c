/*
** fork.c: the one place mpl forks, and the worker context.
**
** DESIGN
** Every process mpl makes comes from mpl__fork(purpose): the pool's
** forkserver (forked by the caller), the pool's workers (forked by the
** forkserver) and mat.map's team workers (forked by the caller at the
** call).  The discipline is the same for all three.  Before the fork,
** stdio is flushed (a child must not print the caller's buffered text
** again) and every signal is blocked, so no handler of the host runs in a
** child half set up.  In the child, the set-up depends on the purpose:
**
**   purpose      death of parent     handlers       signals after
**   server       EOF on its socket   all default    all blocked
**   pool worker  PR_SET_PDEATHSIG    (inherited)    unblocked
**   team worker  PR_SET_PDEATHSIG    default,       unblocked
**                                    SIGINT ignored
**
** The forkserver gets no PR_SET_PDEATHSIG: it fires when the forking
** *thread* ends, and a host thread that opened a Lua state may end while
** the process goes on.  Workers do get it (their parent is a single
** thread, or a synchronous call), and a child whose parent already went
** leaves at once.  A team worker ignores SIGINT: the caller handles Ctrl-C
** and stops the team.  In the parent, the mask is restored after the
** fork.
**
** The worker context says what the current process may do: run products
** on the pool (MPL__MAY_POOL) and split loops over helper threads
** (MPL__MAY_THREADS).  The host process may do both.  mpl__fork sets the
** child's context from its purpose: a team worker may do neither, as its
** siblings already use the cores and the pool belongs to the caller; the
** forkserver and the pool's workers run only the pool's jobs.  A plain
** fork of a host whose pool runs (not through mpl__fork) loses both too
** (pool.c's fork handler drops them): the pool is the parent's.
*/
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "internal.h"

static atomic_uint may = MPL__MAY_POOL | MPL__MAY_THREADS;

int mpl__may(unsigned what) { return (atomic_load(&may) & what) == what; }

void mpl__context_drop(unsigned what) { atomic_fetch_and(&may, ~what); }

/* The child's side of mpl__fork: the set-up its purpose needs (see
** DESIGN); returns only when the child should go on. */
static void child_setup(int purpose, pid_t parent) {
  if (purpose != MPL__FORK_SERVER && prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    _exit(purpose == MPL__FORK_TEAM_WORKER ? 127 : 0);
  if (getppid() != parent) _exit(purpose == MPL__FORK_TEAM_WORKER ? 127 : 0);
  mpl__context_drop(MPL__MAY_POOL | MPL__MAY_THREADS);
  if (purpose == MPL__FORK_SERVER) {
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    return; /* the forkserver keeps every signal blocked */
  }
  if (purpose == MPL__FORK_TEAM_WORKER) {
    for (int sig = 1; sig < NSIG; sig++) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      signal(sig, sig == SIGINT ? SIG_IGN : SIG_DFL);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

pid_t mpl__fork(int purpose) {
  fflush(NULL);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    child_setup(purpose, parent);
    return 0;
  }
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  return pid;
}
