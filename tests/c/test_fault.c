/*
** test_fault.c: every failure rule of SPEC section 4, through the public
** API only (mpl.h and Lua, linked against the shared library): workers of
** mat.dot and mat.map killed or crashing mid-call, the host killed, hosts
** that ignore SIGCHLD or reap every child, fork failing part-way, matrices
** larger than memory, a thousand calls with failures leaving nothing
** behind, and buffered output printed exactly once.  Worker processes are
** found in /proc as descendants of the host named "mpl-worker" (mat.dot's
** pool) or "mpl-map" (mat.map's team).  Every case runs in its own process
** under an alarm (ctest.h).
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <mpl.h>

#include "ctest.h"
#include "proc.h"

/* ---------------------------------------------------------------------- */
/* processes                                                              */
/* ---------------------------------------------------------------------- */

typedef struct pinfo {
  int pid, ppid;
  char state;
  char comm[32];
} pinfo;

/* Every process in /proc (at most max). */
static int scan_procs(pinfo *all, int max) {
  DIR *d = opendir("/proc");
  int n = 0;
  CHECK(d != NULL);
  for (struct dirent *e; (e = readdir(d)) && n < max;) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    char *open = NULL, *close_ = NULL;
    if (fgets(buf, sizeof buf, f)) {
      open = strchr(buf, '(');
      close_ = strrchr(buf, ')');
    }
    fclose(f);
    if (!open || !close_ || close_ < open) continue;
    pinfo *p = &all[n];
    size_t len = (size_t)(close_ - open - 1);
    if (len >= sizeof p->comm) len = sizeof p->comm - 1;
    memcpy(p->comm, open + 1, len);
    p->comm[len] = '\0';
    p->pid = atoi(e->d_name);
    if (sscanf(close_ + 2, "%c %d", &p->state, &p->ppid) != 2) continue;
    n++;
  }
  closedir(d);
  return n;
}

/* Running (not zombie) descendants of root named comm (any when NULL). */
static int find_desc(pid_t root, const char *comm, int *pids, int max) {
  enum { MAXP = 8192 };
  pinfo *all = malloc(MAXP * sizeof *all);
  char *in = calloc(MAXP, 1);
  CHECK(all && in);
  int n = scan_procs(all, MAXP), k = 0;
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < n; i++) {
      if (in[i]) continue;
      int parent_in = all[i].ppid == root;
      for (int j = 0; j < n && !parent_in; j++)
        parent_in = in[j] && all[j].pid == all[i].ppid;
      if (parent_in) in[i] = changed = 1;
    }
  }
  for (int i = 0; i < n; i++)
    if (in[i] && all[i].state != 'Z' && (!comm || !strcmp(all[i].comm, comm)) &&
        k < max)
      pids[k++] = all[i].pid;
  free(all);
  free(in);
  return k;
}

/* ---------------------------------------------------------------------- */
/* descriptors, mappings, the arena                                       */
/* ---------------------------------------------------------------------- */

typedef struct snapshot {
  int fds, maps, procs;
  long long arena;
} snapshot;

static snapshot take_snapshot(void) {
  int pids[64];
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  snapshot s = {count_dir("/proc/self/fd"), count_maps(),
                find_desc(getpid(), NULL, pids, 64), memfd_blocks("mpl-arena")};
  return s;
}

static void check_same(snapshot a, snapshot b) {
  if (a.fds != b.fds || a.maps != b.maps || a.procs != b.procs ||
      a.arena != b.arena) {
    fprintf(stderr,
            "before: %d fds, %d maps, %d procs, %lld arena blocks\n"
            "after:  %d fds, %d maps, %d procs, %lld arena blocks\n",
            a.fds, a.maps, a.procs, a.arena, b.fds, b.maps, b.procs, b.arena);
    CHECK(0);
  }
}

/* ---------------------------------------------------------------------- */
/* Lua                                                                    */
/* ---------------------------------------------------------------------- */

/* A real crash: a write to a read-only page. */
static int l_crash(lua_State *L) {
  (void)L;
  volatile char *p =
      mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) p[0] = 1;
  return 0;
}

/* Set by started() in Lua just before the call a killer waits for. */
static volatile sig_atomic_t call_started;

static int l_started(lua_State *L) {
  (void)L;
  call_started = 1;
  return 0;
}

static lua_State *host_state(void) {
  lua_State *L = NULL;
  CHECK(mpl_lua_newstate(&L) == 0 && L);
  lua_pushcfunction(L, l_crash);
  lua_setglobal(L, "crash");
  lua_pushcfunction(L, l_started);
  lua_setglobal(L, "started");
  return L;
}

/* Run code, which must succeed. */
static void lua_ok(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    fprintf(stderr, "lua error: %s\nin: %s\n", lua_tostring(L, -1), code);
    CHECK(0);
  }
  lua_settop(L, 0);
}

/* Run code, which must raise; its message (static buffer). */
static const char *lua_fails(lua_State *L, const char *code) {
  static char msg[2048];
  if (luaL_dostring(L, code) == LUA_OK) {
    fprintf(stderr, "no error from: %s\n", code);
    CHECK(0);
  }
  const char *s = lua_tostring(L, -1);
  snprintf(msg, sizeof msg, "%s", s ? s : "(not a string)");
  lua_settop(L, 0);
  return msg;
}

static void expect_in(const char *msg, const char *part) {
  if (!strstr(msg, part)) {
    fprintf(stderr, "message: %s\nexpected to contain: %s\n", msg, part);
    CHECK(0);
  }
}

/* Matrices a and b (N x N: a product of about two seconds on two workers,
** N from this process's own rate on a single-threaded product, whatever
** the CPU, its kernel or its load) and x, y (400x400: small, yet above the
** parallel threshold). */
static void make_operands(lua_State *L) {
  lua_ok(L, "mat.seed(7) x = mat.rand(400, 400) y = mat.rand(400, 400) "
            "ref = mat.dot(x, y, {procs = 1}) local best = math.huge "
            "for _ = 1, 3 do local t = mat.clock() mat.dot(x, y, {procs = 1}) "
            "best = math.min(best, mat.clock() - t) end "
            "local n = math.floor((2 * 400 ^ 3 / best * 2) ^ (1 / 3)) "
            "N = math.max(1000, math.min(8000, n)) "
            "a = mat.new(N, N, 0.5) b = mat.new(N, N, 2)");
}

/* The pool computes right again, with workers of its own. */
static void dot_is_right(lua_State *L) {
  lua_ok(L, "assert(mat.dot(x, y, {procs = 2}) == ref, 'wrong product')");
}

static void map_is_right(lua_State *L) {
  lua_ok(L, "local r = mat.map(function(i) return i * i end, 6, {procs = 2})\n"
            "assert(#r == 6) for i = 1, 6 do assert(r[i] == i * i) end");
}

/* ---------------------------------------------------------------------- */
/* a thread that kills a worker                                           */
/* ---------------------------------------------------------------------- */

typedef struct killer {
  const char *comm; /* "mpl-worker" or "mpl-map" */
  int sig;
  double delay;
  pid_t host;
  pid_t pid; /* the one killed */
  double at; /* when */
} killer;

/* CPU time used by pid so far, in clock ticks (-1 when it is gone). */
static long cpu_ticks(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char *p = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
  fclose(f);
  unsigned long ut, st;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                   &ut, &st) != 2)
    return -1;
  return (long)(ut + st);
}

/* Once the call started and a worker has been computing for a while (its
** CPU time grew by 5 ticks since: it has the job in hand, whatever the
** time the call took to post it), wait the delay and kill that worker. */
static void *do_kill(void *p) {
  killer *k = p;
  int pids[64], n = 0;
  double t0 = now();
  while (now() - t0 < 20) {
    if (call_started && (n = find_desc(k->host, k->comm, pids, 64)) >= 2) break;
    usleep(2000);
  }
  if (n < 1) return NULL;
  pid_t victim = pids[n - 1];
  long base = cpu_ticks(victim);
  while (now() - t0 < 20 && cpu_ticks(victim) >= 0 &&
         cpu_ticks(victim) < base + 5)
    usleep(2000);
  usleep((useconds_t)(k->delay * 1e6));
  k->pid = victim;
  k->at = now();
  kill(k->pid, k->sig);
  return NULL;
}

/* Run code (which must raise) while a worker named comm is killed with
** sig; the message, after checking that the call ended within a second of
** the kill and names the killed worker and the signal (or, when the host
** reaps children itself and may take the wait status first, that it
** exited unexpectedly). */
static const char *killed_during(lua_State *L, const char *code,
                                 const char *comm, int sig, int status_known) {
  killer k = {comm, sig, 0.2, getpid(), 0, 0};
  call_started = 0;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, do_kill, &k) == 0);
  const char *msg = lua_fails(L, code);
  double back = now();
  pthread_join(t, NULL);
  CHECK(k.at > 0); /* a worker was killed, during the call */
  if (back - k.at >= 1.0) {
    fprintf(stderr, "returned %.3f s after the kill\n", back - k.at);
    CHECK(0);
  }
  char part[64];
  snprintf(part, sizeof part, "(pid %d) was killed by signal %d", (int)k.pid,
           sig);
  if (!status_known && !strstr(msg, part))
    snprintf(part, sizeof part, "(pid %d) exited unexpectedly", (int)k.pid);
  expect_in(msg, part);
  CHECK(gone_within(k.pid, 1.0));
  return msg;
}

static const char *long_dot = "started() mat.dot(a, b, {procs = 2})";
static const char *long_map =
    "started() mat.map(function(i) local s = 0 while true do s = s + 1 end "
    "end, 2, {procs = 2})";

/* A pool worker killed mid-product: an error naming it, then right. */
static void dot_worker_killed(lua_State *L, int sig) {
  int before[64], after[64];
  const char *msg = killed_during(L, long_dot, "mpl-worker", sig, 1);
  expect_in(msg, "mat.dot: worker ");
  int nb = find_desc(getpid(), "mpl-worker", before, 64);
  CHECK(nb == 0); /* the other worker was stopped too */
  dot_is_right(L);
  CHECK_EQ_INT(find_desc(getpid(), "mpl-worker", after, 64), 2);
}

/* A map worker killed mid-item: an error naming it and its item. */
static void map_worker_killed(lua_State *L, int status_known) {
  int pids[64];
  const char *msg =
      killed_during(L, long_map, "mpl-map", SIGKILL, status_known);
  expect_in(msg, "mat.map: item ");
  CHECK_EQ_INT(find_desc(getpid(), "mpl-map", pids, 64), 0);
  map_is_right(L);
}

/* An item whose f crashes: the error names the item, worker and signal. */
static void map_worker_crashes(lua_State *L, int status_known) {
  int pids[64];
  double t0 = now();
  const char *msg = lua_fails(
      L, "mat.map(function(i) if i == 3 then crash() end return i end, 4, "
         "{procs = 2})");
  CHECK(now() - t0 < 1.0);
  expect_in(msg, "mat.map: item 3: worker ");
  if (status_known)
    expect_in(msg, "was killed by signal 11 (Segmentation fault)");
  else if (!strstr(msg, "was killed by signal 11"))
    expect_in(msg, "exited unexpectedly");
  CHECK_EQ_INT(find_desc(getpid(), "mpl-map", pids, 64), 0);
  map_is_right(L);
}

/* A Lua error in an item: the item, the message, the worker's traceback. */
static void map_item_error(lua_State *L) {
  const char *msg = lua_fails(
      L, "mat.map(function(i) if i == 2 then error('boom') end return i end, "
         "4, {procs = 2})");
  expect_in(msg, "mat.map: item 2: ");
  expect_in(msg, "boom");
  expect_in(msg, "stack traceback");
  map_is_right(L);
}

/* ---------------------------------------------------------------------- */
/* the cases                                                              */
/* ---------------------------------------------------------------------- */

/* Whether, within secs, two workers run and neither is dead_pid (their
** pids in again). */
static int replaced_within(int dead_pid, int *again, double secs) {
  double t0 = now();
  do {
    if (find_desc(getpid(), "mpl-worker", again, 64) == 2 &&
        again[0] != dead_pid && again[1] != dead_pid)
      return 1;
    usleep(10000);
  } while (now() - t0 < secs);
  return 0;
}

static void test_dot_worker_sigkill(void) {
  mpl_set_procs(2);
  lua_State *L = host_state();
  make_operands(L);
  dot_worker_killed(L, SIGKILL);
  /* a worker killed between calls is replaced: the next call is right */
  int pids[64], again[64];
  CHECK_EQ_INT(find_desc(getpid(), "mpl-worker", pids, 64), 2);
  CHECK(kill(pids[1], SIGKILL) == 0);
  CHECK(gone_within(pids[1], 2.0));
  dot_is_right(L);
  /* its replacement is forked by the first call that knows of the death:
  ** that one, or the next when the pool's helper had not reaped the dead
  ** worker yet (the call then ran without it); it names itself soon after,
  ** since the call does not wait for it */
  if (!replaced_within(pids[1], again, 2.0)) {
    dot_is_right(L);
    CHECK(replaced_within(pids[1], again, 5.0));
  }
  dot_is_right(L);
  lua_close(L);
}

static void test_dot_worker_sigsegv(void) {
  mpl_set_procs(2);
  lua_State *L = host_state();
  make_operands(L);
  dot_worker_killed(L, SIGSEGV);
  lua_close(L);
}

static void test_map_worker_sigkill(void) {
  mpl_set_procs(2);
  lua_State *L = host_state();
  map_worker_killed(L, 1);
  lua_close(L);
}

static void test_map_worker_crash(void) {
  mpl_set_procs(2);
  lua_State *L = host_state();
  map_worker_crashes(L, 1);
  map_item_error(L);
  lua_close(L);
}

/* mpl_dot from C: a killed worker is MPL_EWORKER with the detail in
** mpl_errmsg, then the pool is right again. */
static void test_c_dot_worker_killed(void) {
  mpl_mat *a, *b, *c, *r;
  CHECK(mpl_mat_new(&a, 4000, 4000) == 0 && mpl_mat_new(&b, 4000, 4000) == 0);
  CHECK(mpl_mat_new(&c, 4000, 4000) == 0);
  double *pa = mpl_mat_data(a), *pb = mpl_mat_data(b);
  for (size_t i = 0; i < 4000 * 4000; i++) {
    pa[i] = (double)(i % 13) - 6;
    pb[i] = (double)(i % 7) * 0.5;
  }
  killer k = {"mpl-worker", SIGKILL, 0.2, getpid(), 0, 0};
  pthread_t t;
  call_started = 1;
  CHECK(pthread_create(&t, NULL, do_kill, &k) == 0);
  int rc = mpl_dot(a, b, c, 2);
  double back = now();
  pthread_join(t, NULL);
  CHECK_EQ_INT(rc, MPL_EWORKER);
  CHECK(k.at > 0 && back - k.at < 1.0);
  char part[64];
  snprintf(part, sizeof part, "(pid %d) was killed by signal 9", (int)k.pid);
  expect_in(mpl_errmsg(), part);
  mpl_mat *sa, *sb;
  CHECK(mpl_mat_sub(&sa, a, 0, 0, 400, 400) == 0);
  CHECK(mpl_mat_sub(&sb, b, 0, 0, 400, 400) == 0);
  CHECK(mpl_mat_new(&r, 400, 400) == 0);
  mpl_mat *c2;
  CHECK(mpl_mat_new(&c2, 400, 400) == 0);
  CHECK_EQ_INT(mpl_dot(sa, sb, r, 1), 0);
  CHECK_EQ_INT(mpl_dot(sa, sb, c2, 2), 0);
  CHECK(mpl_mat_equal(r, c2));
  mpl_mat_release(sa);
  mpl_mat_release(sb);
  mpl_mat_release(c2);
  mpl_mat_release(r);
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
}

/* The host killed with SIGKILL mid-call (code runs forever in it): its
** forkserver and workers are gone within a second.  This process is a
** subreaper, so the orphans come to it and their zombies are reaped. */
static void host_killed(const char *code, const char *comm) {
  CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  fflush(NULL);
  pid_t host = fork();
  CHECK(host >= 0);
  if (host == 0) {
    mpl_set_procs(2);
    lua_State *L = host_state();
    make_operands(L);
    luaL_dostring(L, code);
    _exit(3);
  }
  int pids[64], n = 0;
  double t0 = now();
  while (now() - t0 < 20 && find_desc(host, comm, pids, 64) < 2) usleep(5000);
  usleep(300000);
  n = find_desc(host, NULL, pids, 64);
  int workers = find_desc(host, comm, pids + n, 64 - n);
  CHECK(workers == 2 && n >= 3); /* the workers and the forkserver */
  CHECK(kill(host, SIGKILL) == 0);
  int st;
  CHECK(waitpid(host, &st, 0) == host);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL); /* it was still running */
  for (int i = 0; i < n; i++) {
    if (!gone_within(pids[i], 1.0)) {
      fprintf(stderr, "pid %d outlived its host\n", pids[i]);
      CHECK(0);
    }
  }
}

static void test_host_killed_mid_dot(void) {
  host_killed("while true do mat.dot(a, b, {procs = 2}) end", "mpl-worker");
}

static void test_host_killed_mid_map(void) { host_killed(long_map, "mpl-map"); }

/* Everything a host sees of failures, in a host that handles SIGCHLD its
** own way.  status_known: whether a map worker's wait status can reach the
** library (a host that reaps every child takes it first). */
static void host_checks(int status_known) {
  mpl_set_procs(2);
  lua_State *L = host_state();
  make_operands(L);
  dot_is_right(L);
  map_is_right(L);
  dot_worker_killed(L, SIGKILL);
  map_worker_killed(L, status_known);
  map_worker_crashes(L, status_known);
  map_item_error(L);
  dot_is_right(L);
  lua_close(L);
}

static void test_sigchld_ignored(void) {
  signal(SIGCHLD, SIG_IGN);
  host_checks(0);
}

static void test_host_reaps_in_handler(void) {
  reap_children_on_sigchld();
  host_checks(0);
}

static void *reaper(void *p) {
  (void)p;
  for (;;) {
    if (waitpid(-1, NULL, 0) < 0) usleep(1000);
  }
  return NULL;
}

static void test_host_reaps_in_thread(void) {
  pthread_t t;
  CHECK(pthread_create(&t, NULL, reaper, NULL) == 0);
  host_checks(0);
}

/* A host whose signal handlers run all the time (a profiler's timer, say,
** installed without SA_RESTART): system calls of the library see EINTR,
** even a poll that does not wait, and that must not be taken for a dead
** worker pool (it was: the pool's healthy helper process was killed). */
static volatile sig_atomic_t ticks;

static void on_tick(int sig) {
  (void)sig;
  ticks++;
}

static void test_host_with_busy_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_tick;
  sigaction(SIGPROF, &sa, NULL);
  lua_State *L = host_state();
  lua_ok(L, "mat.seed(7) x = mat.rand(400, 400) y = mat.rand(400, 400) "
            "ref = mat.dot(x, y, {procs = 1})");
  timer_t tm;
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGPROF;
  CHECK(timer_create(CLOCK_MONOTONIC, &ev, &tm) == 0);
  struct itimerspec every = {{0, 200000}, {0, 200000}}; /* 200 us */
  CHECK(timer_settime(tm, 0, &every, NULL) == 0);
  lua_ok(L,
         "for i = 1, 600 do\n"
         "  assert(mat.dot(x, y, {procs = 2}) == ref, 'wrong product')\n"
         "  if i % 60 == 0 then\n"
         "    local r = mat.map(function(j) return j * j end, 6, {procs = 2})\n"
         "    for j = 1, 6 do assert(r[j] == j * j, 'wrong map') end\n"
         "  end\n"
         "end");
  timer_delete(tm);
  CHECK(ticks > 100); /* the handler did interrupt, often */
  lua_close(L);
}

/* Allow `more` tasks beyond what uid runs now. */
static void allow_more(uid_t uid, int more) {
  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NPROC, &rl) == 0);
  rl.rlim_cur = (rlim_t)(count_user_tasks(uid, 1) + more);
  CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
}

/* RLIMIT_NPROC lets the forkserver and some workers of mat.dot start,
** not three, and two of mat.map, not three: each call fails clearly, the
** started ones are gone, and once the limit is lifted calls work.  The
** test runs as a uid of its own (so no other process counts against the
** limit), which needs root. */
static void test_fork_fails_partway(void) {
  if (geteuid() != 0) {
    printf("# skipped fork_fails_partway: RLIMIT_NPROC does not bind root "
           "and an unprivileged test cannot switch to a uid of its own\n");
    return;
  }
  uid_t uid = (uid_t)(50000 + getpid() % 10000);
  CHECK(setgroups(0, NULL) == 0 && setgid(uid) == 0 && setuid(uid) == 0);
  prctl(PR_SET_DUMPABLE, 1); /* a sanitizer's leak check traces itself */
  mpl_set_procs(1); /* no forkserver yet: it takes the limit at its birth */
  lua_State *L = host_state();
  lua_ok(L, "x = mat.rand(400, 400) y = mat.rand(400, 400) "
            "ref = mat.dot(x, y, {procs = 1})");
  int pids[64];
  /* a fork shuts OpenBLAS's threads down (they restart when used): so
  ** this process has the threads it will have during the calls */
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  CHECK(pid > 0 && waitpid(pid, NULL, 0) == pid);
  int base = count_user_tasks(uid, 1);
  /* the forkserver (and, for a moment, its BLAS thread) and two workers;
  ** should that thread still count at a fork, only one worker starts */
  allow_more(uid, 3);
  const char *msg = lua_fails(L, "mat.dot(x, y, {procs = 3})");
  expect_in(msg, "mat.dot: cannot start 3 worker processes: Resource "
                 "temporarily unavailable");
  CHECK_EQ_INT(find_desc(getpid(), NULL, pids, 64), 0);
  CHECK_EQ_INT(count_user_tasks(uid, 1), base);

  allow_more(uid, 2); /* two map workers */
  msg = lua_fails(L, "mat.map(function(i) return i end, 3, {procs = 3})");
  expect_in(msg, "mat.map: cannot start 3 worker processes: Resource "
                 "temporarily unavailable");
  CHECK_EQ_INT(find_desc(getpid(), NULL, pids, 64), 0);
  CHECK_EQ_INT(count_user_tasks(uid, 1), base);

  /* room for the forkserver and two workers (and that BLAS thread) is
  ** enough for two workers: they start no threads of their own */
  allow_more(uid, 4);
  dot_is_right(L);
  int n = find_desc(getpid(), "mpl-worker", pids, 64);
  CHECK_EQ_INT(n, 2);
  for (int i = 0; i < n; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pids[i]);
    CHECK_EQ_INT(count_dir(path), 1);
  }

  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NPROC, &rl) == 0);
  rl.rlim_cur = rl.rlim_max;
  CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
  dot_is_right(L);
  lua_ok(L, "local r = mat.map(function(i) return i end, 3, {procs = 3}) "
            "assert(r[1] == 1 and r[2] == 2 and r[3] == 3)");
  lua_close(L);
}

static size_t mem_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  char line[256];
  unsigned long long kb = 0;
  CHECK(f != NULL);
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
  fclose(f);
  CHECK(kb > 0);
  return (size_t)kb * 1024;
}

/* An .npy header (version 1.0) claiming a float64 shape rows x cols. */
static void write_npy(const char *path, size_t rows, size_t cols,
                      size_t data_bytes, int sparse) {
  char dict[128], hdr[256];
  snprintf(dict, sizeof dict,
           "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %zu), }",
           rows, cols);
  size_t len = strlen(dict) + 1, total = (10 + len + 63) / 64 * 64;
  memset(hdr, ' ', sizeof hdr);
  memcpy(hdr, "\x93NUMPY\x01\x00", 8);
  hdr[8] = (char)((total - 10) & 0xff);
  hdr[9] = (char)((total - 10) >> 8);
  memcpy(hdr + 10, dict, strlen(dict));
  hdr[total - 1] = '\n';
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0);
  CHECK(write(fd, hdr, total) == (ssize_t)total);
  if (sparse) {
    CHECK(ftruncate(fd, (off_t)(total + data_bytes)) == 0);
  } else {
    double zero[16] = {0};
    CHECK(data_bytes <= sizeof zero);
    CHECK(write(fd, zero, data_bytes) == (ssize_t)data_bytes);
  }
  close(fd);
}

/* Matrices larger than memory fail at creation with a clear error, leave
** nothing allocated, and a normal matrix works afterwards. */
static void test_larger_than_memory(void) {
  setenv("MPL_ARENA_RETAIN", "0", 1);
  mpl_set_procs(2);
  lua_State *L = host_state();
  lua_ok(L, "small = mat.ones(100, 100)");
  map_is_right(L);
  size_t avail = mem_available();
  size_t big_cols = avail / 8 / 4 * 5; /* 1 x big_cols: 1.25 x available */
  snapshot s0 = take_snapshot();
  CHECK(s0.arena >= 0);

  mpl_mat *m = (mpl_mat *)&m;
  CHECK_EQ_INT(mpl_mat_new(&m, 1, big_cols), MPL_ENOMEM);
  CHECK(m == NULL);
  m = (mpl_mat *)&m;
  CHECK_EQ_INT(mpl_mat_new(&m, (size_t)1 << 22, (size_t)1 << 22), MPL_ENOMEM);
  CHECK(m == NULL);
  CHECK_EQ_INT(mpl_mat_new(&m, SIZE_MAX / 4, 4), MPL_EOVERFLOW);
  CHECK(m == NULL);

  char code[512], part[128];
  snprintf(code, sizeof code, "mat.zeros(1, %zu)", big_cols);
  snprintf(part, sizeof part, "mat.zeros: not enough memory for a 1x%zu matrix",
           big_cols);
  expect_in(lua_fails(L, code), part);
  expect_in(lua_fails(L, "mat.zeros(4194304, 4194304)"),
            "mat.zeros: not enough memory for a 4194304x4194304 matrix");
  expect_in(lua_fails(L, "mat.ones(4194304, 4194304)"),
            "mat.ones: not enough memory");
  expect_in(lua_fails(L, "mat.new(4194304, 4194304, 1)"),
            "mat.new: not enough memory");
  expect_in(lua_fails(L, "mat.zeros(2^62, 4)"), "mat.zeros: ");
  expect_in(lua_fails(L, "mat.zeros(2^62, 4)"), "is too large");
  snprintf(code, sizeof code, "mat.rand(%zu, 1)", big_cols);
  expect_in(lua_fails(L, code), "mat.rand: not enough memory");

  /* an .npy whose header claims 80 GB, with 16 bytes of data */
  char path[128], code2[1024];
  snprintf(path, sizeof path, "/tmp/mpl-fault-%d.npy", (int)getpid());
  write_npy(path, 100000, 100000, 16, 0);
  snprintf(code2, sizeof code2, "mat.load('%s')", path);
  const char *msg = lua_fails(L, code2);
  expect_in(msg, path);
  expect_in(msg, "truncated");
  snprintf(code2, sizeof code2, "mat.load('%s', {mmap = true})", path);
  msg = lua_fails(L, code2);
  expect_in(msg, path);
  expect_in(msg, "truncated");

  /* a worker returning a matrix larger than memory: a sparse file mapped
  ** (no memory behind it) that the result would have to copy */
  write_npy(path, 1, big_cols, big_cols * 8, 1);
  snprintf(code2, sizeof code2,
           "local huge = mat.load('%s', {mmap = true})\n"
           "assert(huge.cols == %zu)\n"
           "local ok, err = pcall(mat.map, function(i) return huge end, 1, "
           "{procs = 2})\n"
           "assert(not ok)\n"
           "huge = nil collectgarbage() collectgarbage()\n"
           "error(err, 0)",
           path, big_cols);
  msg = lua_fails(L, code2);
  expect_in(msg, "mat.map: item 1: ");
  expect_in(msg, "memory");
  unlink(path);

  lua_gc(L, LUA_GCCOLLECT, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
  check_same(s0, take_snapshot());
  lua_ok(L, "local m = mat.ones(300, 300) assert(m:sum() == 90000)");
  lua_ok(L, "local m = mat.ones(300, 300) "
            "assert(mat.dot(m, m, {procs = 2}):get(1, 1) == 300)");
  map_is_right(L);
  CHECK_EQ_INT(mpl_mat_new(&m, 500, 500), 0);
  mpl_mat_fill(m, 2);
  CHECK(mpl_mat_data(m)[500 * 500 - 1] == 2);
  mpl_mat_release(m);
  lua_close(L);
}

/* ---------------------------------------------------------------------- */
/* a thousand calls                                                       */
/* ---------------------------------------------------------------------- */

static volatile sig_atomic_t stop_interrupts;
static pthread_t main_thread;

static void on_usr1(int sig) {
  (void)sig;
  mpl_interrupt();
}

/* Interrupt whatever runs every few milliseconds: from this thread, or
** from a signal handler in the calling thread. */
static void *interrupter(void *p) {
  (void)p;
  for (int i = 0; !stop_interrupts; i++) {
    usleep(7000 + (useconds_t)(i % 5) * 3000);
    if (i % 2)
      mpl_interrupt();
    else
      pthread_kill(main_thread, SIGUSR1);
  }
  return NULL;
}

typedef struct tally {
  int ok, shape, intr, killed, item;
  int victim; /* the worker killed last */
} tally;

/* One call of the mix: i picks which. */
static void one_call(lua_State *L, int i, tally *t) {
  const char *code;
  int pids[64];
  int n = i % 100 == 42 ? find_desc(getpid(), "mpl-worker", pids, 64) : 0;
  if (n > 0) {
    t->victim = pids[i / 100 % 2 ? 0 : n - 1];
    kill(t->victim, SIGKILL);
  }
  if (i % 50 == 7)
    code = "mat.dot(x, x)";
  else if (i % 20 == 3)
    code = "mat.map(function(i) if i == 2 then error('bad item') end "
           "return i end, 4, {procs = 2})";
  else if (i % 10 == 5)
    code = "local r = mat.map(function(i) return mat.new(2, 2, i) end, 4, "
           "{procs = 2}) for i = 1, 4 do assert(r[i]:get(2, 2) == i) end";
  else
    code = "assert(mat.dot(x, y, {procs = 2}) == ref, 'wrong product')";
  if (luaL_dostring(L, code) == LUA_OK) {
    t->ok++;
  } else {
    const char *msg = lua_tostring(L, -1);
    if (strstr(msg, "shape mismatch"))
      t->shape++;
    else if (strstr(msg, "interrupted"))
      t->intr++;
    else if (strstr(msg, "was killed by signal 9")) {
      /* a pool worker killed between calls is replaced; a map worker
      ** killed with an item in hand is named */
      char part[32];
      snprintf(part, sizeof part, "(pid %d)", t->victim);
      expect_in(msg, part);
      expect_in(msg, "mat.map: ");
      t->killed++;
    } else if (strstr(msg, "mat.map: item 2: ") && strstr(msg, "bad item"))
      t->item++;
    else {
      fprintf(stderr, "call %d: unexpected error: %s\n", i, msg);
      CHECK(0);
    }
  }
  lua_settop(L, 0);
}

static void test_thousand_calls_no_leaks(void) {
  setenv("MPL_ARENA_RETAIN", "0", 1);
  CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  mpl_set_procs(2);
  main_thread = pthread_self();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1; /* no SA_RESTART: system calls see EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  lua_State *L = host_state();
  lua_ok(L, "mat.seed(3) x = mat.rand(200, 750) y = mat.rand(750, 200) "
            "ref = mat.dot(x, y, {procs = 1})");
  tally warm = {0};
  /* one round of everything first, so allocators have made what they keep */
  for (int i = 0; i < 100; i++) one_call(L, i, &warm);
  mpl_interrupt();
  one_call(L, 0, &warm); /* a fresh start clears it */
  lua_gc(L, LUA_GCCOLLECT, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
  snapshot s0 = take_snapshot();
  CHECK_EQ_INT(s0.procs, 3); /* the forkserver and two workers */
  CHECK(s0.arena > 0);

  tally t = {0};
  pthread_t th;
  double t0 = now();
  CHECK(pthread_create(&th, NULL, interrupter, NULL) == 0);
  for (int i = 0; i < 1000; i++) one_call(L, i, &t);
  stop_interrupts = 1;
  pthread_join(th, NULL);
  printf("# 1000 calls in %.2f s: %d right, %d shape mismatches, %d "
         "interrupted, %d killed workers, %d item errors\n",
         now() - t0, t.ok, t.shape, t.intr, t.killed, t.item);
  CHECK(t.ok >= 100); /* most, unless the machine is very loaded */
  CHECK(t.shape >= 15 && t.item >= 1 && t.intr >= 1);
  one_call(L, 0, &t);
  lua_gc(L, LUA_GCCOLLECT, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
  check_same(s0, take_snapshot());
  lua_close(L);
}

/* ---------------------------------------------------------------------- */
/* buffered output                                                        */
/* ---------------------------------------------------------------------- */

/* In a host whose stdout is fd: text printed before each parallel call,
** by C stdio and by io.write, must appear once.  lua_first: the pool is
** first started by a Lua call (else by mpl_dot from C). */
static void printing_host(int fd, int lua_first) {
  dup2(fd, 1);
  close(fd);
  mpl_mat *a, *b, *c;
  CHECK(mpl_mat_new(&a, 400, 400) == 0 && mpl_mat_new(&b, 400, 400) == 0);
  CHECK(mpl_mat_new(&c, 400, 400) == 0);
  mpl_mat_fill(a, 1);
  mpl_mat_fill(b, 2);
  if (!lua_first) {
    printf("c-before-first-dot\n");
    CHECK_EQ_INT(mpl_dot(a, b, c, 2), 0);
  }
  mpl_set_procs(lua_first ? 1 : 2); /* 1: opening Lua starts no pool */
  lua_State *L = host_state();
  make_operands(L);
  lua_ok(L, "io.write('lua-before-dot\\n') assert(mat.dot(x, y, {procs = 2}) "
            "== ref)");
  printf("c-before-dot\n");
  CHECK_EQ_INT(mpl_dot(a, b, c, 2), 0);
  lua_ok(L,
         "io.write('lua-before-map\\n') "
         "assert(mat.map(function(i) return i end, 4, {procs = 2})[4] == 4)");
  printf("c-before-map\n");
  lua_ok(L,
         "assert(mat.map(function(i) return i end, 4, {procs = 2})[4] == 4)");
  lua_ok(
      L,
      "io.write('lua-before-crash\\n') assert(not pcall(mat.map, "
      "function(i) if i == 2 then crash() end return i end, 4, {procs = 2}))");
  printf("c-before-killed-dot\n");
  lua_ok(L, "io.write('lua-before-killed-dot\\n')");
  mpl_set_procs(2);
  killed_during(L, long_dot, "mpl-worker", SIGKILL, 1);
  lua_ok(L, "io.write('lua-before-killed-map\\n')");
  printf("c-before-killed-map\n");
  killed_during(L, long_map, "mpl-map", SIGKILL, 1);
  printf("c-last\n");
  lua_ok(L, "io.write('lua-last\\n')");
  lua_close(L);
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
  exit(0);
}

static const char *printed[2] = {
    "c-before-first-dot\nlua-before-dot\nc-before-dot\nlua-before-map\n"
    "c-before-map\nlua-before-crash\nc-before-killed-dot\n"
    "lua-before-killed-dot\nlua-before-killed-map\nc-before-killed-map\n"
    "c-last\nlua-last\n",
    "lua-before-dot\nc-before-dot\nlua-before-map\n"
    "c-before-map\nlua-before-crash\nc-before-killed-dot\n"
    "lua-before-killed-dot\nlua-before-killed-map\nc-before-killed-map\n"
    "c-last\nlua-last\n"};

/* stdout a pipe (to_file 0) or a file: the host's output, exactly. */
static void output_once(int lua_first, int to_file) {
  int fd[2];
  char path[128];
  snprintf(path, sizeof path, "/tmp/mpl-fault-out-%d", (int)getpid());
  if (to_file) {
    fd[1] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    fd[0] = open(path, O_RDONLY);
    CHECK(fd[0] >= 0 && fd[1] >= 0);
    unlink(path);
  } else {
    CHECK(pipe(fd) == 0);
  }
  fflush(NULL);
  pid_t host = fork();
  CHECK(host >= 0);
  if (host == 0) {
    close(fd[0]);
    printing_host(fd[1], lua_first);
  }
  close(fd[1]);
  int st;
  CHECK(waitpid(host, &st, 0) == host);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  static char out[8192];
  size_t len = 0;
  for (ssize_t got; (got = read(fd[0], out + len, sizeof out - 1 - len)) > 0;)
    len += (size_t)got;
  close(fd[0]);
  out[len] = '\0';
  if (strcmp(out, printed[lua_first]) != 0) {
    fprintf(stderr, "output:\n%s---\nexpected:\n%s---\n", out,
            printed[lua_first]);
    CHECK(0);
  }
}

static void test_output_once_pipe(void) {
  output_once(0, 0);
  output_once(1, 0);
}

static void test_output_once_file(void) { output_once(1, 1); }

static const ctest tests[] = {
    {"dot_worker_sigkill", test_dot_worker_sigkill},
    {"dot_worker_sigsegv", test_dot_worker_sigsegv},
    {"c_dot_worker_killed", test_c_dot_worker_killed},
    {"map_worker_sigkill", test_map_worker_sigkill},
    {"map_worker_crash", test_map_worker_crash},
    {"host_killed_mid_dot", test_host_killed_mid_dot},
    {"host_killed_mid_map", test_host_killed_mid_map},
    {"sigchld_ignored", test_sigchld_ignored},
    {"host_reaps_in_handler", test_host_reaps_in_handler},
    {"host_reaps_in_thread", test_host_reaps_in_thread},
    {"host_with_busy_signals", test_host_with_busy_signals},
    {"fork_fails_partway", test_fork_fails_partway},
    {"larger_than_memory", test_larger_than_memory},
    {"thousand_calls_no_leaks", test_thousand_calls_no_leaks},
    {"output_once_pipe", test_output_once_pipe},
    {"output_once_file", test_output_once_file},
};

CTEST_MAIN(tests, 60)
