/*
** test_pool.c: the worker pool under failure: workers killed or crashing
** mid-call, interruption, the caller killed, hosts that ignore SIGCHLD or
** reap children themselves, fork failing part-way, OpenBLAS threads before
** and after the fork, an OpenMP OpenBLAS, and a thousand calls with
** failures leaving no process, descriptor or mapping behind.  Every case
** runs in its own process under an alarm (ctest.h).
*/
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include <cblas.h>

#include "ctest.h"
#include "proc.h"
#include "internal.h"
#include "mpl.h"

static char *self_path;

static mpl_mat *filled(size_t r, size_t c, double v) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, r, c) == 0);
  double *d = mpl_mat_data(m);
  for (size_t i = 0; i < r * c; i++) d[i] = v + (double)(i % 7);
  return m;
}

/* A product that keeps two workers busy for about two seconds: its size
** comes from this process's own rate on a single-threaded product (the
** machine, its kernel and its load vary), at least 1000 rows. */
typedef struct job {
  mpl_mat *a, *b, *c;
} job;

static size_t long_job_n(void) {
  static size_t n;
  if (n) return n;
  mpl_mat *a = filled(400, 400, 1), *c;
  CHECK(mpl_mat_new(&c, 400, 400) == 0);
  CHECK(mpl_dot(a, a, c, 1) == 0); /* warm */
  double best = 1e9;
  for (int r = 0; r < 3; r++) {
    double t0 = now();
    CHECK(mpl_dot(a, a, c, 1) == 0);
    if (now() - t0 < best) best = now() - t0;
  }
  double rate = 2.0 * 400 * 400 * 400 / best; /* flops per second, 1 core */
  n = (size_t)cbrt(rate * 2 * 2.0 / 2.0);     /* 2 s on 2 workers */
  if (n < 1000) n = 1000;
  if (n > 8000) n = 8000;
  mpl_mat_release(a);
  mpl_mat_release(c);
  return n;
}

static job long_job(void) {
  size_t n = long_job_n();
  job j = {filled(n, n, 1), filled(n, n, 2), NULL};
  CHECK(mpl_mat_new(&j.c, n, n) == 0);
  return j;
}

/* A product of shape rows x 5 * 5 x 7 checked against procs = 1, sent to
** the workers however small: rows make three of the engine's row blocks,
** so up to three workers take part. */
static void small_call_is_right(int procs) {
  mpl__parallel_min_flops = 0;
  size_t rows = 2 * mpl__dot_block_rows(0, 0, 0) + 1;
  CHECK((rows + mpl__dot_block_rows(rows, 5, 7) - 1) /
            mpl__dot_block_rows(rows, 5, 7) ==
        3);
  mpl_mat *a = filled(rows, 5, 1), *b = filled(5, 7, 2), *c, *r;
  CHECK(mpl_mat_new(&c, rows, 7) == 0);
  CHECK(mpl_mat_new(&r, rows, 7) == 0);
  CHECK(mpl_dot(a, b, r, 1) == 0);
  CHECK(mpl_dot(a, b, c, procs) == 0);
  CHECK(mpl_mat_equal(c, r));
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
  mpl_mat_release(r);
  mpl__parallel_min_flops = 6.0e7;
}

/* Run the long job while `l` fires; return the call's code and check it
** came back within a second of the event. */
static int long_call_with(later *l) {
  job j = long_job();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, do_later, l) == 0);
  int rc = mpl_dot(j.a, j.b, j.c, 2);
  double back = now();
  pthread_join(t, NULL);
  CHECK(l->at > 0); /* the event happened during the call */
  CHECK(back - l->at < 1.0);
  mpl_mat_release(j.a);
  mpl_mat_release(j.b);
  mpl_mat_release(j.c);
  return rc;
}

static void killed_worker(int sig, const char *expect) {
  int pids[8];
  CHECK(mpl__pool_start(2) == 0);
  CHECK_EQ_INT(mpl__pool_pids(pids, 8), 2);
  later l = {0.3, pids[1], sig, 0};
  CHECK_EQ_INT(long_call_with(&l), MPL_EWORKER);
  if (!strstr(mpl_errmsg(), expect)) {
    fprintf(stderr, "message: %s\n", mpl_errmsg());
    CHECK(0);
  }
  CHECK(gone_within(pids[0], 1.0)); /* the other worker was stopped too */
  CHECK(!alive(pids[1]));
  small_call_is_right(2); /* the pool is rebuilt and right */
  int again[8];
  CHECK_EQ_INT(mpl__pool_pids(again, 8), 2);
  CHECK(again[0] != pids[0] && again[1] != pids[1]);
}

static void test_worker_sigkill(void) {
  killed_worker(SIGKILL, "worker 2 (pid ");
  killed_worker(SIGKILL, "killed by signal 9 (Killed)");
}

static void test_worker_segfault(void) {
  killed_worker(SIGSEGV, "killed by signal 11 (Segmentation fault)");
}

static void test_interrupt(void) {
  int pids[8];
  CHECK(mpl__pool_start(2) == 0);
  CHECK_EQ_INT(mpl__pool_pids(pids, 8), 2);
  later l = {0.3, 0, 0, 0};
  CHECK_EQ_INT(long_call_with(&l), MPL_EINTR);
  CHECK(gone_within(pids[0], 1.0) && gone_within(pids[1], 1.0));
  small_call_is_right(2);
}

/* The caller killed with SIGKILL mid-call: the forkserver and the workers
** are gone within a second.  This process is made a subreaper so the
** orphans come to it and their pids cannot linger as zombies. */
static void test_parent_killed(void) {
  int fd[2];
  CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  CHECK(pipe(fd) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    int pids[8];
    if (mpl__pool_start(2) != 0 || mpl__pool_pids(pids, 8) != 2) _exit(2);
    if (write(fd[1], pids, sizeof(int) * 2) != (ssize_t)(sizeof(int) * 2))
      _exit(2);
    job j = long_job();
    for (;;) mpl_dot(j.a, j.b, j.c, 2);
  }
  int pids[2];
  CHECK(read(fd[0], pids, sizeof pids) == sizeof pids);
  pid_t server = 0;
  { /* the workers' parent is the forkserver */
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pids[0]);
    FILE *f = fopen(path, "r");
    CHECK(f && fgets(buf, sizeof buf, f));
    fclose(f);
    char *p = strrchr(buf, ')');
    CHECK(p && sscanf(p + 2, "%*c %d", &server) == 1);
  }
  usleep(300000);
  CHECK(kill(child, SIGKILL) == 0);
  CHECK(waitpid(child, NULL, 0) == child);
  CHECK(gone_within(server, 1.0));
  CHECK(gone_within(pids[0], 1.0));
  CHECK(gone_within(pids[1], 1.0));
}

static void test_sigchld_ignored(void) {
  signal(SIGCHLD, SIG_IGN);
  small_call_is_right(2);
  killed_worker(SIGKILL, "killed by signal 9");
  small_call_is_right(3);
}

/* A host whose SIGCHLD handler reaps every child, even the forkserver when
** it is killed: the next call starts a new one. */
static void test_host_reaps_children(void) {
  reap_children_on_sigchld();
  small_call_is_right(2);
  killed_worker(SIGKILL, "killed by signal 9");
  int pids[8];
  CHECK_EQ_INT(mpl__pool_pids(pids, 8), 2);
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pids[0]);
  FILE *f = fopen(path, "r");
  CHECK(f && fgets(buf, sizeof buf, f));
  fclose(f);
  pid_t server = 0;
  CHECK(sscanf(strrchr(buf, ')') + 2, "%*c %d", &server) == 1);
  later l = {0.3, server, SIGKILL, 0};
  CHECK_EQ_INT(long_call_with(&l), MPL_EWORKER);
  CHECK(strstr(mpl_errmsg(), "helper process died") != NULL);
  CHECK(gone_within(pids[0], 1.0) && gone_within(pids[1], 1.0));
  small_call_is_right(2);
}

/* RLIMIT_NPROC lets the forkserver and one worker start, not two: the
** call fails cleanly, the one started is reaped, a later call works.  As
** root (whom the limit does not bind) the test first becomes nobody. */
static void test_fork_fails_partway(void) {
  mpl_mat *warm = filled(2, 2, 0); /* the arena exists before the switch */
  if (geteuid() == 0) CHECK(setgid(65534) == 0 && setuid(65534) == 0);
  uid_t me = getuid();
  int base = count_user_procs(me);
  struct rlimit rl = {(rlim_t)base + 2, (rlim_t)base + 10};
  CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
  CHECK_EQ_INT(mpl__pool_start(3), MPL_ESYS);
  if (!strstr(mpl_errmsg(), "cannot start 3 worker processes: Resource "
                            "temporarily unavailable")) {
    fprintf(stderr, "message: %s\n", mpl_errmsg());
    CHECK(0);
  }
  int pids[8];
  CHECK_EQ_INT(mpl__pool_pids(pids, 8), 0);
  CHECK_EQ_INT(count_user_procs(me), base); /* workers and forkserver gone */
  rl.rlim_cur = rl.rlim_max;
  CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
  CHECK(mpl__pool_start(3) == 0);
  CHECK_EQ_INT(mpl__pool_pids(pids, 8), 3);
  small_call_is_right(3);
  mpl_mat_release(warm);
}

/* OpenBLAS's own threads run before the pool forks and after. */
static void test_blas_threads_around_fork(void) {
  static double a[400 * 400], b[400 * 400], c[400 * 400];
  for (int i = 0; i < 400 * 400; i++) a[i] = b[i] = (double)(i % 13);
  openblas_set_num_threads(2);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 400, 400, 400, 1, a,
              400, b, 400, 0, c, 400);
  CHECK(mpl__pool_start(2) == 0);
  small_call_is_right(2);
  openblas_set_num_threads(2);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 400, 400, 400, 1, a,
              400, b, 400, 0, c, 400);
  small_call_is_right(2);
}

/* A worker killed while idle, found dead before the next call (or not
** yet: killed just before it), is replaced: the call succeeds with the
** right result and new workers. */
static void test_idle_worker_replaced(void) {
  for (int wait = 1; wait >= 0; wait--) {
    int pids[8], again[8];
    CHECK(mpl__pool_start(2) == 0);
    CHECK_EQ_INT(mpl__pool_pids(pids, 8), 2);
    CHECK(kill(pids[wait], SIGKILL) == 0);
    if (wait) CHECK(gone_within(pids[1], 2.0));
    small_call_is_right(2);
    CHECK(mpl__pool_pids(again, 8) >= 1);
    small_call_is_right(2); /* renewed by now whichever way it went */
    CHECK_EQ_INT(mpl__pool_pids(again, 8), 2);
    CHECK(again[0] != pids[wait] && again[1] != pids[wait]);
  }
}

static void test_thousand_calls_no_leaks(void) {
  CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  size_t rows = 2 * mpl__dot_block_rows(0, 0, 0) + 1; /* three row blocks */
  mpl_mat *a = filled(rows, 20, 1), *b = filled(20, 20, 2), *c;
  CHECK(mpl_mat_new(&c, rows, 20) == 0);
  /* one round of everything first (a death, a renewal), so allocators
  ** (ASan's too) have made the mappings they keep */
  int pids[8];
  CHECK(mpl__pool_start(2) == 0 && mpl__pool_pids(pids, 8) == 2);
  kill(pids[0], SIGKILL);
  usleep(20000);
  mpl__parallel_min_flops = 0;
  CHECK(mpl_dot(a, b, c, 2) == 0);
  small_call_is_right(2);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  int fds = count_dir("/proc/self/fd"), maps = count_maps();
  int procs = count_descendants(getpid());
  CHECK_EQ_INT(procs, 3); /* the forkserver and two workers */
  mpl__parallel_min_flops = 0;
  for (int i = 0; i < 1000; i++) {
    if (i % 100 == 50) { /* killed between calls: replaced, not an error */
      CHECK(mpl__pool_pids(pids, 8) == 2);
      kill(pids[i % 2], SIGKILL);
      if (i % 200 == 50) usleep(20000);
    }
    CHECK_EQ_INT(mpl_dot(a, b, c, 2), 0);
  }
  small_call_is_right(2);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  CHECK_EQ_INT(count_dir("/proc/self/fd"), fds);
  CHECK_EQ_INT(count_maps(), maps);
  CHECK_EQ_INT(count_descendants(getpid()), procs);
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
}

/* With an OpenMP build of OpenBLAS (Debian's libopenblas0-openmp, loaded
** through LD_LIBRARY_PATH in a child), parallel calls refuse. */
static void test_openmp_refused(void) {
  const char *dir = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
  char lib[256];
  snprintf(lib, sizeof lib, "%s/libopenblas.so.0", dir);
  if (access(lib, R_OK) != 0) {
    fprintf(stderr, "%s missing: install libopenblas0-openmp\n", lib);
    CHECK(0);
  }
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    setenv("LD_LIBRARY_PATH", dir, 1);
    setenv("MPL_TEST_OPENMP_CHILD", "1", 1);
    if (!freopen("/dev/null", "w", stdout)) _exit(4); /* its own summary */
    execl(self_path, self_path, "openmp_child", (char *)NULL);
    _exit(3);
  }
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_openmp_child(void) {
  if (!getenv("MPL_TEST_OPENMP_CHILD"))
    return; /* only as openmp_refused's child */
  CHECK_EQ_INT(openblas_get_parallel(), 2);
  mpl_mat *a = filled(400, 400, 1), *b = filled(400, 400, 2), *c;
  CHECK(mpl_mat_new(&c, 400, 400) == 0);
  CHECK_EQ_INT(mpl_dot(a, b, c, 2), MPL_ESYS);
  CHECK(strstr(mpl_errmsg(), "OpenMP") != NULL);
  CHECK_EQ_INT(mpl_dot(a, b, c, 1), 0); /* in-process still works */
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
}

static const ctest tests[] = {
    {"worker_sigkill", test_worker_sigkill},
    {"worker_segfault", test_worker_segfault},
    {"idle_worker_replaced", test_idle_worker_replaced},
    {"interrupt", test_interrupt},
    {"parent_killed", test_parent_killed},
    {"sigchld_ignored", test_sigchld_ignored},
    {"host_reaps_children", test_host_reaps_children},
    {"fork_fails_partway", test_fork_fails_partway},
    {"blas_threads_around_fork", test_blas_threads_around_fork},
    {"thousand_calls_no_leaks", test_thousand_calls_no_leaks},
    {"openmp_refused", test_openmp_refused},
    {"openmp_child", test_openmp_child},
};

int main(int argc, char **argv) {
  self_path = argv[0];
  return ctest_main(tests, sizeof tests / sizeof tests[0], argc, argv, 60);
}
