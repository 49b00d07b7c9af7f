/*
** test_team.c: the call-time worker teams of mat.map (src/par/team.c) from C:
** every item delivered once, chunking, uneven items, ERROR frames, workers
** killed or exiting mid-item, interruption, the caller killed, hosts that
** ignore SIGCHLD or reap children themselves, fork failing part-way, large
** frames and results in the shared region, stdio not duplicated, and many
** calls with failures leaving no process, descriptor or mapping behind.
** Every case runs in its own process under an alarm (ctest.h).
*/
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "ctest.h"
#include "proc.h"
#include "internal.h"
#include "mpl.h"
#include "team.h"

static int maps_mention(const char *what) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int n = 0;
  CHECK(f != NULL);
  while (fgets(line, sizeof line, f)) n += strstr(line, what) != NULL;
  fclose(f);
  return n;
}

/* Mappings of the kinds a team makes: shared anonymous memory (its
** control block) and memfds (its results region).  (The total count is no
** measure: the heap's mapping splits when it grows after a fork.) */
static int shared_maps(void) {
  return maps_mention("/dev/zero") + maps_mention("memfd:");
}

/* Children of this process (not zombies). */
static int count_children(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(),
           (int)getpid());
  FILE *f = fopen(path, "r");
  int n = 0, pid;
  CHECK(f != NULL);
  while (fscanf(f, "%d", &pid) == 1) n += alive(pid);
  fclose(f);
  return n;
}

/* What a test's workers do.  Items other than `at` are echoed back (item
** * 3 + 1, and the worker's number) unless `hang_others` is set; item `at`
** does `what`.  `flag` is shared memory the test may use. */
enum {
  DO_ECHO,
  DO_KILL,
  DO_EXIT,
  DO_ERROR,
  DO_HANG,
  DO_WAIT_FLAG,
  DO_BIG,
  DO_HUGE_FRAME,
  DO_PRINT,
  DO_RESERVE_TOO_MUCH
};

typedef struct spec {
  int what;
  size_t at;
  int hang_others;
  _Atomic long *flag;
} spec;

typedef struct echo {
  uint64_t value;
  int32_t worker;
} echo;

static void hang(void) {
  for (;;) pause();
}

static int body(mpl__team *t, int w, void *ctx) {
  spec *s = ctx;
  size_t lo, hi;
  while (mpl__team_take(t, &lo, &hi)) {
    for (size_t i = lo; i < hi; i++) {
      mpl__team_running(t, i);
      if (i == s->at || s->what == DO_BIG || s->what == DO_HUGE_FRAME ||
          s->what == DO_PRINT) {
        switch (s->what) {
        case DO_KILL:
          raise(SIGKILL);
          break;
        case DO_EXIT:
          _exit(7);
        case DO_ERROR:
          mpl__team_send(t, MPL__FRAME_ERROR, i, "bad item", 8);
          return 0;
        case DO_HANG:
          hang();
          break;
        case DO_WAIT_FLAG: /* until the last item ran */
          while (atomic_load(s->flag) == 0) usleep(1000);
          break;
        case DO_BIG: {
          size_t off;
          void *p;
          if (mpl__team_reserve(t, 256 * 256 * sizeof(double), &off, &p))
            return 3;
          double *d = p;
          for (size_t k = 0; k < 256 * 256; k++) d[k] = (double)i + (double)k;
          uint64_t msg[3] = {off, 256, 256};
          if (mpl__team_send(t, MPL__FRAME_RESULT, i, msg, sizeof msg))
            return 3;
          mpl__team_running(t, SIZE_MAX);
          continue;
        }
        case DO_HUGE_FRAME: {
          size_t len = ((size_t)3 << 20) + i;
          unsigned char *b = malloc(len);
          if (!b) return 3;
          for (size_t k = 0; k < len; k++) b[k] = (unsigned char)(k * 7 + i);
          int rc = mpl__team_send(t, MPL__FRAME_RESULT, i, b, len);
          free(b);
          if (rc) return 3;
          mpl__team_running(t, SIZE_MAX);
          continue;
        }
        case DO_PRINT:
          printf("child item %zu\n", i);
          break;
        case DO_RESERVE_TOO_MUCH: {
          size_t off;
          void *p;
          int rc = mpl__team_reserve(t, (size_t)1 << 60, &off, &p);
          char m[64];
          snprintf(m, sizeof m, "reserve: %d", rc);
          mpl__team_send(t, MPL__FRAME_ERROR, i, m, strlen(m));
          return 0;
        }
        default:
          break;
        }
      } else if (s->hang_others) {
        hang();
      }
      if (s->what == DO_WAIT_FLAG && i == 99) atomic_store(s->flag, 1);
      echo e = {i * 3 + 1, w};
      if (mpl__team_send(t, MPL__FRAME_RESULT, i, &e, sizeof e)) return 3;
      mpl__team_running(t, SIZE_MAX);
    }
  }
  return 0;
}

/* Run a team to its end; per-item worker numbers go to `who` (may be
** NULL).  Returns the final code of mpl__team_wait. */
static int run(size_t n, int procs, size_t chunk, spec *s, int *who,
               mpl__team_event *last) {
  mpl__team *t;
  CHECK_EQ_INT(mpl__team_start(&t, n, procs, chunk, body, s), 0);
  int rc;
  mpl__team_event ev;
  for (;;) {
    rc = mpl__team_wait(t, &ev, 50);
    if (rc == MPL__TEAM_RESULT) {
      CHECK(ev.item < n);
      if (s->what != DO_BIG && s->what != DO_HUGE_FRAME) {
        echo e;
        CHECK_EQ_INT(ev.len, sizeof e);
        memcpy(&e, ev.data, sizeof e);
        CHECK_EQ_INT(e.value, ev.item * 3 + 1);
        if (who) {
          CHECK_EQ_INT(who[ev.item], -1); /* delivered once */
          who[ev.item] = e.worker;
        }
      }
      continue;
    }
    if (rc == MPL__TEAM_TICK) continue;
    break;
  }
  if (last) *last = ev;
  mpl__team_destroy(t);
  return rc;
}

static void test_every_item_once(void) {
  static int who[1000];
  spec s = {DO_ECHO, SIZE_MAX, 0, NULL};
  for (int procs = 1; procs <= 4; procs++) {
    memset(who, -1, sizeof who);
    CHECK_EQ_INT(run(1000, procs, 0, &s, who, NULL), MPL__TEAM_DONE);
    for (int i = 0; i < 1000; i++) CHECK(who[i] >= 0 && who[i] < procs);
  }
  CHECK_EQ_INT(count_children(), 0);
}

/* Fixed chunks: every run of 7 items aligned on 7 went to one worker. */
static void test_fixed_chunks(void) {
  int who[100];
  memset(who, -1, sizeof who);
  spec s = {DO_ECHO, SIZE_MAX, 0, NULL};
  CHECK_EQ_INT(run(100, 3, 7, &s, who, NULL), MPL__TEAM_DONE);
  for (int i = 0; i < 100; i++) CHECK_EQ_INT(who[i], who[i / 7 * 7]);
}

/* Item 0 cannot finish before item 99 ran: only guided chunks taken by
** the other worker get there, and the blocked worker ran its first chunk
** only (100 / (4 * 2) = 12 items). */
static void test_uneven_items_balance(void) {
  _Atomic long *flag = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(flag != MAP_FAILED);
  int who[100];
  memset(who, -1, sizeof who);
  spec s = {DO_WAIT_FLAG, 0, 0, flag};
  CHECK_EQ_INT(run(100, 2, 0, &s, who, NULL), MPL__TEAM_DONE);
  int blocked = who[0], mine = 0;
  for (int i = 0; i < 100; i++) mine += who[i] == blocked;
  CHECK_EQ_INT(mine, 12);
  for (int i = 0; i < 12; i++) CHECK_EQ_INT(who[i], blocked);
  munmap((void *)flag, 4096);
}

/* An ERROR frame ends the call with FAILED at once; the other worker,
** stuck in its item, is killed and reaped. */
static void test_error_frame_stops_the_others(void) {
  spec s = {DO_ERROR, 0, 1, NULL};
  mpl__team *t;
  CHECK_EQ_INT(mpl__team_start(&t, 2, 2, 0, body, &s), 0);
  int pids[4];
  CHECK_EQ_INT(mpl__team_pids(t, pids, 4), 2);
  mpl__team_event ev;
  int rc;
  while ((rc = mpl__team_wait(t, &ev, 50)) == MPL__TEAM_TICK) {
  }
  CHECK_EQ_INT(rc, MPL__TEAM_FAILED);
  CHECK_EQ_INT(ev.item, 0);
  CHECK(ev.len == 8 && memcmp(ev.data, "bad item", 8) == 0);
  CHECK(!alive(pids[0]) && !alive(pids[1]));
  CHECK_EQ_INT(mpl__team_pids(t, pids, 4), 0);
  mpl__team_destroy(t);
  CHECK_EQ_INT(count_children(), 0);
}

static void expect_msg(const char *want) {
  if (!strstr(mpl_errmsg(), want)) {
    fprintf(stderr, "message: %s\nwanted: %s\n", mpl_errmsg(), want);
    CHECK(0);
  }
}

static void test_worker_killed_names_item(void) {
  spec s = {DO_KILL, 3, 0, NULL};
  mpl__team_event ev;
  double t0 = now();
  CHECK_EQ_INT(run(10, 2, 1, &s, NULL, &ev), MPL_EWORKER);
  CHECK(now() - t0 < 1.0);
  expect_msg("item 4: worker ");
  expect_msg(") was killed by signal 9 (Killed)");
  CHECK_EQ_INT(ev.item, 3);
  CHECK_EQ_INT(count_children(), 0);
}

/* Run a team whose workers all hang while `l` fires (at a worker when
** which >= 0, else an interrupt); return the code and check it came back
** within a second of the event. */
static int hung_team_with(later *l, int which, int *pids) {
  spec s = {DO_HANG, 0, 1, NULL};
  mpl__team *t;
  mpl__interrupt_clear();
  CHECK_EQ_INT(mpl__team_start(&t, 4, 2, 1, body, &s), 0);
  CHECK_EQ_INT(mpl__team_pids(t, pids, 4), 2);
  if (which >= 0) {
    l->pid = pids[which];
    l->sig = SIGKILL;
  }
  pthread_t th;
  CHECK(pthread_create(&th, NULL, do_later, l) == 0);
  mpl__team_event ev;
  int rc;
  while ((rc = mpl__team_wait(t, &ev, 50)) == MPL__TEAM_TICK) {
  }
  double back = now();
  pthread_join(th, NULL);
  CHECK(l->at > 0 && back - l->at < 1.0);
  mpl__team_destroy(t);
  CHECK(!alive(pids[0]) && !alive(pids[1]));
  return rc;
}

static void test_worker_killed_from_outside(void) {
  later l = {0.3, 0, 0, 0};
  int pids[4];
  CHECK_EQ_INT(hung_team_with(&l, 1, pids), MPL_EWORKER);
  char want[96];
  snprintf(want, sizeof want, "worker 2 (pid %d) was killed by signal 9",
           pids[1]);
  expect_msg(want);
  CHECK(strncmp(mpl_errmsg(), "item ", 5) == 0); /* it held an item */
}

static void test_exit_status(void) {
  spec s = {DO_EXIT, 2, 0, NULL};
  CHECK_EQ_INT(run(10, 2, 1, &s, NULL, NULL), MPL_EWORKER);
  expect_msg("item 3: worker ");
  expect_msg(") exited with status 7");
}

static void test_interrupt(void) {
  later l = {0.3, 0, 0, 0};
  int pids[4];
  CHECK_EQ_INT(hung_team_with(&l, -1, pids), MPL_EINTR);
  expect_msg("interrupted");
  CHECK_EQ_INT(count_children(), 0);
}

static void test_sigchld_ignored(void) {
  signal(SIGCHLD, SIG_IGN);
  int who[300];
  memset(who, -1, sizeof who);
  spec s = {DO_ECHO, SIZE_MAX, 0, NULL};
  CHECK_EQ_INT(run(300, 3, 0, &s, who, NULL), MPL__TEAM_DONE);
  spec k = {DO_KILL, 3, 0, NULL};
  CHECK_EQ_INT(run(10, 2, 1, &k, NULL, NULL), MPL_EWORKER);
  expect_msg("item 4: worker ");
  expect_msg(") exited unexpectedly");
  CHECK_EQ_INT(run(300, 3, 0, &s, NULL, NULL), MPL__TEAM_DONE);
}

static void test_host_reaps_children(void) {
  reap_children_on_sigchld();
  spec s = {DO_ECHO, SIZE_MAX, 0, NULL};
  for (int i = 0; i < 20; i++)
    CHECK_EQ_INT(run(100, 2, 0, &s, NULL, NULL), MPL__TEAM_DONE);
  spec k = {DO_KILL, 3, 0, NULL};
  CHECK_EQ_INT(run(10, 2, 1, &k, NULL, NULL), MPL_EWORKER);
  expect_msg("item 4: worker ");
}

/* The caller killed with SIGKILL mid-call: its workers are gone within a
** second (PR_SET_PDEATHSIG).  This process is a subreaper, so the orphans
** come to it and cannot linger as zombies. */
static void test_caller_killed(void) {
  int fd[2];
  CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  CHECK(pipe(fd) == 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    spec s = {DO_HANG, 0, 1, NULL};
    mpl__team *t;
    int pids[2];
    if (mpl__team_start(&t, 2, 2, 1, body, &s) != 0) _exit(2);
    if (mpl__team_pids(t, pids, 2) != 2) _exit(2);
    if (write(fd[1], pids, sizeof pids) != (ssize_t)sizeof pids) _exit(2);
    mpl__team_event ev;
    for (;;) mpl__team_wait(t, &ev, 50);
  }
  int pids[2];
  CHECK(read(fd[0], pids, sizeof pids) == sizeof pids);
  usleep(100000);
  CHECK(alive(pids[0]) && alive(pids[1]));
  CHECK(kill(child, SIGKILL) == 0);
  CHECK(waitpid(child, NULL, 0) == child);
  double t0 = now();
  while (now() - t0 < 1.0 && (alive(pids[0]) || alive(pids[1]))) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    usleep(5000);
  }
  CHECK(!alive(pids[0]) && !alive(pids[1]));
}

/* RLIMIT_NPROC lets one worker start, not three: the call fails cleanly
** (the one started never ran an item and is reaped); with the limit
** lifted the next call works.  As root the test first becomes nobody. */
static void test_fork_fails_partway(void) {
  if (geteuid() == 0) CHECK(setgid(65534) == 0 && setuid(65534) == 0);
  uid_t me = getuid();
  int base = count_user_procs(me);
  struct rlimit rl = {(rlim_t)base + 1, (rlim_t)base + 10};
  CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
  spec s = {DO_ECHO, SIZE_MAX, 0, NULL};
  mpl__team *t = (mpl__team *)&s;
  CHECK_EQ_INT(mpl__team_start(&t, 10, 3, 0, body, &s), MPL_ESYS);
  CHECK(t == NULL);
  expect_msg(
      "cannot start 3 worker processes: Resource temporarily unavailable");
  CHECK_EQ_INT(count_user_procs(me), base);
  rl.rlim_cur = rl.rlim_max;
  CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
  CHECK_EQ_INT(run(10, 3, 0, &s, NULL, NULL), MPL__TEAM_DONE);
}

/* Large results go through the shared region: the matrices outlive the
** team, and the region goes with the last of them. */
static void test_big_results_in_region(void) {
  spec s = {DO_BIG, SIZE_MAX, 0, NULL};
  mpl__team *t;
  mpl_mat *m[6] = {NULL};
  CHECK_EQ_INT(mpl__team_start(&t, 6, 3, 1, body, &s), 0);
  mpl__team_event ev;
  int rc;
  while ((rc = mpl__team_wait(t, &ev, 50)) != MPL__TEAM_DONE) {
    if (rc == MPL__TEAM_TICK) continue;
    CHECK_EQ_INT(rc, MPL__TEAM_RESULT);
    uint64_t msg[3];
    CHECK_EQ_INT(ev.len, sizeof msg);
    memcpy(msg, ev.data, sizeof msg);
    CHECK_EQ_INT(mpl__team_result_mat(t, &m[ev.item], msg[0], msg[1], msg[2]),
                 0);
    mpl_mat *bad;
    CHECK_EQ_INT(mpl__team_result_mat(t, &bad, msg[0] + 8, 2, 2), MPL_EINVAL);
  }
  mpl__team_destroy(t);
  CHECK_EQ_INT(maps_mention("mpl-map-results"), 1);
  for (int i = 0; i < 6; i++) {
    CHECK(m[i] && mpl_mat_rows(m[i]) == 256 && mpl_mat_cols(m[i]) == 256);
    double *d = mpl_mat_data(m[i]);
    for (size_t k = 0; k < 256 * 256; k += 97)
      CHECK(d[k] == (double)i + (double)k);
    CHECK(!mpl_mat_is_shared(m[i]));
  }
  for (int i = 0; i < 6; i++) mpl_mat_release(m[i]);
  CHECK_EQ_INT(maps_mention("mpl-map-results"), 0);
}

static void test_reserve_too_much(void) {
  spec s = {DO_RESERVE_TOO_MUCH, 0, 0, NULL};
  mpl__team_event ev;
  mpl__team *t;
  CHECK_EQ_INT(mpl__team_start(&t, 1, 1, 0, body, &s), 0);
  int rc;
  while ((rc = mpl__team_wait(t, &ev, 50)) == MPL__TEAM_TICK) {
  }
  CHECK_EQ_INT(rc, MPL__TEAM_FAILED);
  char want[32];
  snprintf(want, sizeof want, "reserve: %d", MPL_ENOMEM);
  CHECK(ev.len == strlen(want) && memcmp(ev.data, want, ev.len) == 0);
  mpl__team_destroy(t);
}

/* Frames of several megabytes arrive whole, whatever the pipe size. */
static void test_huge_frames(void) {
  spec s = {DO_HUGE_FRAME, SIZE_MAX, 0, NULL};
  mpl__team *t;
  CHECK_EQ_INT(mpl__team_start(&t, 5, 2, 1, body, &s), 0);
  mpl__team_event ev;
  int rc, got = 0;
  while ((rc = mpl__team_wait(t, &ev, 50)) != MPL__TEAM_DONE) {
    if (rc == MPL__TEAM_TICK) continue;
    CHECK_EQ_INT(rc, MPL__TEAM_RESULT);
    CHECK_EQ_INT(ev.len, ((size_t)3 << 20) + ev.item);
    const unsigned char *b = ev.data;
    for (size_t k = 0; k < ev.len; k++)
      if (b[k] != (unsigned char)(k * 7 + ev.item)) CHECK(0);
    got++;
  }
  CHECK_EQ_INT(got, 5);
  mpl__team_destroy(t);
}

/* Output the caller buffered before the call is written once, by the
** caller; what the workers print is written too. */
static void test_stdio_not_duplicated(void) {
  char path[] = "/tmp/mpl-team-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK(dup2(fd, 1) == 1);
  close(fd);
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  printf("parent line\n");
  spec s = {DO_PRINT, SIZE_MAX, 0, NULL};
  CHECK_EQ_INT(run(4, 2, 1, &s, NULL, NULL), MPL__TEAM_DONE);
  fflush(stdout);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  char line[128];
  int parent = 0, child = 0;
  while (fgets(line, sizeof line, f)) {
    parent += strcmp(line, "parent line\n") == 0;
    child += strncmp(line, "child item ", 11) == 0;
  }
  fclose(f);
  unlink(path);
  CHECK_EQ_INT(parent, 1);
  CHECK_EQ_INT(child, 4);
}

static void test_bad_arguments(void) {
  spec s = {DO_ECHO, SIZE_MAX, 0, NULL};
  mpl__team *t;
  CHECK_EQ_INT(mpl__team_start(&t, 0, 2, 0, body, &s), MPL_EINVAL);
  CHECK_EQ_INT(mpl__team_start(&t, 5, 0, 0, body, &s), MPL_EINVAL);
  CHECK_EQ_INT(mpl__team_start(&t, 5, 4097, 0, body, &s), MPL_EINVAL);
  CHECK_EQ_INT(mpl__team_start(&t, 5, 2, 0, NULL, &s), MPL_EINVAL);
  mpl__team_destroy(NULL);
}

static void test_many_calls_no_leaks(void) {
  spec ok = {DO_ECHO, SIZE_MAX, 0, NULL};
  CHECK_EQ_INT(run(50, 2, 0, &ok, NULL, NULL), MPL__TEAM_DONE);
  int fds = count_dir("/proc/self/fd"), maps = shared_maps();
  spec bad[] = {{DO_KILL, 3, 0, NULL},
                {DO_ERROR, 1, 0, NULL},
                {DO_EXIT, 0, 0, NULL},
                {DO_BIG, SIZE_MAX, 0, NULL}};
  for (int i = 0; i < 200; i++) {
    int rc = run(20, 1 + i % 3, (size_t)(i % 4), i % 2 ? &ok : &bad[i / 2 % 4],
                 NULL, NULL);
    CHECK(rc == MPL__TEAM_DONE || rc == MPL_EWORKER || rc == MPL__TEAM_FAILED);
  }
  CHECK_EQ_INT(count_dir("/proc/self/fd"), fds);
  CHECK_EQ_INT(shared_maps(), maps);
  CHECK_EQ_INT(count_children(), 0);
}

static const ctest tests[] = {
    {"every_item_once", test_every_item_once},
    {"fixed_chunks", test_fixed_chunks},
    {"uneven_items_balance", test_uneven_items_balance},
    {"error_frame_stops_the_others", test_error_frame_stops_the_others},
    {"worker_killed_names_item", test_worker_killed_names_item},
    {"worker_killed_from_outside", test_worker_killed_from_outside},
    {"exit_status", test_exit_status},
    {"interrupt", test_interrupt},
    {"sigchld_ignored", test_sigchld_ignored},
    {"host_reaps_children", test_host_reaps_children},
    {"caller_killed", test_caller_killed},
    {"fork_fails_partway", test_fork_fails_partway},
    {"big_results_in_region", test_big_results_in_region},
    {"reserve_too_much", test_reserve_too_much},
    {"huge_frames", test_huge_frames},
    {"stdio_not_duplicated", test_stdio_not_duplicated},
    {"bad_arguments", test_bad_arguments},
    {"many_calls_no_leaks", test_many_calls_no_leaks},
};

CTEST_MAIN(tests, 60)
