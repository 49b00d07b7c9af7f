/*
** gnuplot.c: one gnuplot process per picture, driven over a pipe.
**
** DESIGN.  gnuplot is spawned (posix_spawnp: no fork of this possibly
** large process) with its standard input a pipe, its standard output the
** picture's file and its standard error a second pipe.  It runs
** `gnuplot /dev/stdin`: stdin is then a script file, so gnuplot stops at
** the first error instead of reading on (data that followed a command it
** failed to parse could otherwise be taken for commands).  The data
** follows the `plot '-' binary ...` command that reads it, as raw native
** float64 -- every double exact.  One poll loop writes the script and data
** while it collects stderr, so neither side can block the other when a
** pipe is full; SIGPIPE is blocked in this thread meanwhile (a gnuplot
** that quits early gives EPIPE instead) and a SIGPIPE it raised is taken
** back before the mask is restored.  Closing stdin ends the script; the
** call then waits for gnuplot to exit, so the file is complete when it
** returns.  The file is written beside its path and renamed over it only
** when gnuplot succeeded.  Ctrl-C (mpl_interrupt) kills gnuplot.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gnuplot.h"

extern char **environ;

/* The bytes still to send: part k, its byte or element i, and a buffer. */
typedef struct feed {
  const mpl__gp_part *parts;
  size_t n, k, i, len, off;
  char buf[1 << 16];
} feed;

static double elem(const mpl_mat *v, size_t i) {
  return v->rows == 1 ? v->data[(ptrdiff_t)i * v->cs]
                      : v->data[(ptrdiff_t)i * v->rs];
}

/* Put the numbers of data part p from element f->i on into the buffer;
** 1 when the part is done. */
static int fill_data(feed *f, const mpl__gp_part *p) {
  const mpl_mat *a = p->a;
  size_t total = a->rows * a->cols, per = p->b ? 16 : 8;
  for (; f->i < total && f->len + per <= sizeof f->buf; f->i++) {
    double v[2];
    v[0] = p->b ? elem(a, f->i) : MPL_AT(a, f->i / a->cols, f->i % a->cols);
    if (p->b) v[1] = elem(p->b, f->i);
    memcpy(f->buf + f->len, v, per);
    f->len += per;
  }
  return f->i == total;
}

/* Refill the buffer from the parts; returns its length (0: all sent). */
static size_t refill(feed *f) {
  f->len = f->off = 0;
  while (f->k < f->n && f->len < sizeof f->buf) {
    const mpl__gp_part *p = &f->parts[f->k];
    int done;
    if (p->text) {
      size_t take = p->len - f->i;
      if (take > sizeof f->buf - f->len) take = sizeof f->buf - f->len;
      memcpy(f->buf + f->len, p->text + f->i, take);
      f->len += take, f->i += take;
      done = f->i == p->len;
    } else {
      done = fill_data(f, p);
    }
    if (!done) break;
    f->k++, f->i = 0;
  }
  return f->len;
}

/* Where the picture goes: fd, and tmp (to rename to path) unless path is
** not a regular file (a FIFO, /dev/stdout), which is written in place. */
typedef struct outfile {
  int fd;
  char *tmp;
} outfile;

static int open_out(const char *path, outfile *o, char *msg, size_t msglen) {
  struct stat st;
  int exists = stat(path, &st) == 0;
  o->tmp = NULL;
  if (exists && !S_ISREG(st.st_mode)) {
    o->fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  } else {
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    o->tmp = malloc(strlen(path) + 32);
    if (!o->tmp) return MPL_ENOMEM;
    o->fd = -1;
    for (int tries = 0; o->fd < 0 && tries < 100; tries++) {
      snprintf(o->tmp, strlen(path) + 32, "%.*s.%s.%08x", (int)dl, path,
               path + dl, (unsigned)mpl__rng_entropy());
      o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (o->fd < 0 && errno != EEXIST) break;
    }
    if (o->fd >= 0 && exists) (void)fchmod(o->fd, st.st_mode & 07777);
  }
  if (o->fd >= 0) return 0;
  snprintf(msg, msglen, "cannot write '%s': %s", path, strerror(errno));
  free(o->tmp);
  o->tmp = NULL;
  return MPL_EIO;
}

/* Start `gnuplot /dev/stdin` on the given descriptors. */
static int spawn(int in, int out, int err, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  int sigs[] = {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
    sigaddset(&def, sigs[i]);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  posix_spawn_file_actions_adddup2(&fa, err, 2);
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
  posix_spawnattr_init(&at);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char *argv[] = {"gnuplot", "/dev/stdin", NULL};
  int r = posix_spawnp(pid, "gnuplot", &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return r;
}

/* Keep what gnuplot says (as much as fits). */
static void keep(char *msg, size_t msglen, const char *s, size_t n) {
  size_t have = strlen(msg);
  if (have + n >= msglen) n = msglen - 1 - have;
  memcpy(msg + have, s, n);
  msg[have + n] = 0;
}

/* Send the script and data to fd in while reading fd err into msg, until
** both are closed; 0, MPL_ESYS or MPL_EINTR (gnuplot killed). */
static int pump(feed *f, int in, int err, pid_t pid, char *msg, size_t msglen) {
  int in_open = refill(f) > 0, err_open = 1;
  if (!in_open) close(in);
  while (in_open || err_open) {
    struct pollfd pf[2] = {{in_open ? in : -1, POLLOUT, 0},
                           {err_open ? err : -1, POLLIN, 0}};
    int r = poll(pf, 2, 100);
    if (mpl__interrupt_pending()) {
      kill(pid, SIGKILL);
      if (in_open) close(in);
      return MPL_EINTR;
    }
    if (r < 0 && errno != EINTR) return MPL_ESYS;
    if (r <= 0) continue;
    if (in_open && pf[0].revents) {
      ssize_t w = write(in, f->buf + f->off, f->len - f->off);
      if (w > 0) f->off += (size_t)w;
      if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
          (f->off == f->len && !refill(f)))
        close(in), in_open = 0; /* EPIPE: gnuplot left; stderr says why */
    }
    if (err_open && pf[1].revents) {
      char tmp[4096];
      ssize_t n = read(err, tmp, sizeof tmp);
      if (n > 0) keep(msg, msglen, tmp, (size_t)n);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) err_open = 0;
    }
  }
  return 0;
}

/* Wait for gnuplot; 0 when it succeeded, else MPL_EIO with msg saying why
** (gnuplot's own words when it said something). */
static int reap(pid_t pid, char *msg, size_t msglen) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return MPL_ESYS;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  if (!msg[0] && WIFEXITED(st))
    snprintf(msg, msglen, "gnuplot exited with status %d", WEXITSTATUS(st));
  else if (!msg[0])
    snprintf(msg, msglen, "gnuplot was killed by signal %d", WTERMSIG(st));
  return MPL_EIO;
}

/* Run gnuplot with SIGPIPE blocked in this thread (see DESIGN). */
static int run(feed *f, int out, char *msg, size_t msglen, int *notfound) {
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC)) return MPL_ESYS;
  if (pipe2(err, O_CLOEXEC)) {
    close(in[0]), close(in[1]);
    return MPL_ESYS;
  }
  pid_t pid;
  int r = spawn(in[0], out, err[1], &pid);
  close(in[0]), close(err[1]);
  if (r) {
    close(in[1]), close(err[0]);
    *notfound = r == ENOENT;
    errno = r;
    return MPL_ESYS;
  }
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigpending(&pending);
  int had_pipe = sigismember(&pending, SIGPIPE);
  int e = pump(f, in[1], err[0], pid, msg, msglen);
  close(err[0]);
  if (!had_pipe) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  int w = reap(pid, msg, msglen);
  return e ? e : w;
}

int mpl__gnuplot(const char *path, const mpl__gp_part *parts, size_t n,
                 char *msg, size_t msglen, int *notfound) {
  *notfound = 0;
  msg[0] = 0;
  feed *f = calloc(1, sizeof *f);
  if (!f) return MPL_ENOMEM;
  f->parts = parts, f->n = n;
  outfile o;
  int e = open_out(path, &o, msg, msglen);
  if (!e) {
    mpl__interrupt_clear();
    e = run(f, o.fd, msg, msglen, notfound);
    if (close(o.fd) && !e) {
      snprintf(msg, msglen, "cannot write '%s': %s", path, strerror(errno));
      e = MPL_EIO;
    }
    int intr = mpl__interrupt_check(); /* Ctrl-C that also killed gnuplot */
    if (intr) e = intr;
    if (o.tmp && !e && rename(o.tmp, path)) {
      snprintf(msg, msglen, "cannot write '%s': %s", path, strerror(errno));
      e = MPL_EIO;
    }
    if (o.tmp && e) unlink(o.tmp);
  }
  free(o.tmp);
  free(f);
  return e;
}
