/*
** test_core.c: tests of the C API and the shared-memory arena.
*/
#include <dirent.h>
#include <math.h>
#include <sys/resource.h>

#include "ctest.h"
#include "internal.h"
#include "mpl.h"

static mpl_mat *filled(size_t r, size_t c) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, r, c) == 0);
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++)
      mpl_mat_data(m)[i * c + j] = (double)(i * 10 + j);
  return m;
}

static double at(const mpl_mat *m, size_t i, size_t j) {
  return mpl_mat_data(
      m)[(ptrdiff_t)i * mpl_mat_rstride(m) + (ptrdiff_t)j * mpl_mat_cstride(m)];
}

static void test_new_is_zeroed_and_shaped(void) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, 3, 4) == 0);
  CHECK_EQ_INT(mpl_mat_rows(m), 3);
  CHECK_EQ_INT(mpl_mat_cols(m), 4);
  CHECK_EQ_INT(mpl_mat_rstride(m), 4);
  CHECK_EQ_INT(mpl_mat_cstride(m), 1);
  CHECK(mpl_mat_is_contiguous(m));
  CHECK((uintptr_t)mpl_mat_data(m) % 64 == 0);
  for (int k = 0; k < 12; k++) CHECK(mpl_mat_data(m)[k] == 0.0);
  mpl_mat_release(m);
  /* a reused block must be zeroed again */
  for (int round = 0; round < 3; round++) {
    CHECK(mpl_mat_new(&m, 100, 100) == 0);
    for (int k = 0; k < 10000; k++) CHECK(mpl_mat_data(m)[k] == 0.0);
    mpl_mat_fill(m, 7.5);
    mpl_mat_release(m);
  }
}

static void test_empty_shapes(void) {
  mpl_mat *m, *v;
  CHECK(mpl_mat_new(&m, 0, 5) == 0);
  CHECK_EQ_INT(mpl_mat_rows(m), 0);
  CHECK(mpl_mat_transpose(&v, m) == 0);
  CHECK_EQ_INT(mpl_mat_rows(v), 5);
  CHECK_EQ_INT(mpl_mat_cols(v), 0);
  char *s;
  CHECK(mpl_mat_format(&s, v) == 0);
  CHECK(strcmp(s, "mat 5x0\n[]") == 0);
  free(s);
  mpl_mat_release(v);
  mpl_mat_release(m);
}

static void test_overflow_and_enomem(void) {
  mpl_mat *m = (mpl_mat *)1;
  CHECK_EQ_INT(mpl_mat_new(&m, (size_t)1 << 32, (size_t)1 << 32),
               MPL_EOVERFLOW);
  CHECK(m == NULL);
  CHECK_EQ_INT(mpl_mat_new(&m, SIZE_MAX, 2), MPL_EOVERFLOW);
  CHECK_EQ_INT(mpl_mat_new(&m, (size_t)1 << 61, 1), MPL_EOVERFLOW);
  /* 320 GB: more than the arena and the machine */
  CHECK_EQ_INT(mpl_mat_new(&m, 200000, 200000), MPL_ENOMEM);
  /* larger than available memory but smaller than the arena: refused up
  ** front, no SIGBUS, nothing left populated */
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  size_t before = st.resident;
  size_t n = (size_t)sqrt((double)st.size / 8 * 0.9);
  CHECK_EQ_INT(mpl_mat_new(&m, n, n), MPL_ENOMEM);
  mpl__arena_get_stats(&st);
  CHECK(st.resident <= before + ((size_t)1 << 20));
  /* and the arena still works afterwards */
  CHECK(mpl_mat_new(&m, 10, 10) == 0);
  mpl_mat_release(m);
}

static void test_views_share_and_keep_alive(void) {
  mpl_mat *m = filled(4, 5), *s, *t, *tt, *r;
  CHECK(mpl_mat_sub(&s, m, 1, 2, 2, 3) == 0);
  CHECK(at(s, 0, 0) == 12 && at(s, 1, 2) == 24);
  CHECK(mpl_mat_transpose(&t, m) == 0);
  CHECK_EQ_INT(mpl_mat_rows(t), 5);
  CHECK(at(t, 4, 3) == 34);
  CHECK(!mpl_mat_is_contiguous(t));
  CHECK(mpl_mat_transpose(&tt, t) == 0);
  CHECK(mpl_mat_equal(tt, m));
  CHECK(mpl_mat_reshape(&r, m, 2, 10) == 0);
  CHECK(at(r, 1, 0) == 20);
  mpl_mat *bad = (mpl_mat *)1;
  CHECK_EQ_INT(mpl_mat_reshape(&bad, t, 10, 2), MPL_ENOTCONTIG);
  CHECK(bad == NULL);
  CHECK_EQ_INT(mpl_mat_reshape(&bad, m, 3, 3), MPL_ESHAPE);
  CHECK_EQ_INT(mpl_mat_sub(&bad, m, 3, 0, 2, 1), MPL_ERANGE);
  CHECK_EQ_INT(mpl_mat_sub(&bad, m, 0, 5, 1, 1), MPL_ERANGE);
  CHECK_EQ_INT(mpl_mat_sub(&bad, m, SIZE_MAX, 0, 2, 1), MPL_ERANGE);
  /* writes through a view land in the parent */
  mpl_mat_data(s)[0] = -1;
  CHECK(at(m, 1, 2) == -1);
  /* release the parent: the views still read the storage */
  mpl_mat_release(m);
  mpl_mat_release(tt);
  CHECK(at(t, 2, 1) == -1);
  CHECK(at(s, 1, 2) == 24);
  CHECK(at(r, 1, 9) == 34);
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  CHECK_EQ_INT(st.blocks, 1);
  mpl_mat_release(s);
  mpl_mat_release(t);
  mpl_mat_release(r);
  mpl__arena_get_stats(&st);
  CHECK_EQ_INT(st.blocks, 0);
  CHECK_EQ_INT(st.in_use, 0);
}

static void test_retain_release(void) {
  mpl_mat *m = filled(2, 2);
  CHECK(mpl_mat_retain(m) == m);
  mpl_mat_release(m);
  CHECK(at(m, 1, 1) == 11);
  mpl_mat_release(m);
  mpl_mat_release(NULL);
  CHECK(mpl_mat_retain(NULL) == NULL);
}

static void test_copy_assign_equal(void) {
  mpl_mat *m = filled(3, 3), *t, *c;
  CHECK(mpl_mat_transpose(&t, m) == 0);
  CHECK(mpl_mat_copy(&c, t) == 0);
  CHECK(mpl_mat_is_contiguous(c));
  CHECK(mpl_mat_equal(c, t));
  CHECK(!mpl_mat_equal(c, m));
  /* overlapping assignment: m = m^T in place */
  CHECK(mpl_mat_assign(m, t) == 0);
  CHECK(at(m, 0, 1) == 10 && at(m, 1, 0) == 1 && at(m, 2, 1) == 12);
  mpl_mat *small;
  CHECK(mpl_mat_new(&small, 2, 3) == 0);
  CHECK_EQ_INT(mpl_mat_assign(small, m), MPL_ESHAPE);
  mpl_mat_data(c)[4] = NAN;
  CHECK(!mpl_mat_equal(c, c));
  mpl_mat_release(small);
  mpl_mat_release(c);
  mpl_mat_release(t);
  mpl_mat_release(m);
}

static void test_format(void) {
  mpl_mat *m;
  char *s;
  CHECK(mpl_mat_new(&m, 2, 3) == 0);
  double v[] = {1, -2.5, 0.125, 3, 1e-1, -7};
  memcpy(mpl_mat_data(m), v, sizeof v);
  CHECK(mpl_mat_format(&s, m) == 0);
  CHECK(
      strcmp(s, "mat 2x3\n[[ 1.    -2.5    0.125]\n [ 3.     0.1   -7.   ]]") ==
      0);
  free(s);
  mpl_mat_release(m);
  CHECK(mpl_mat_new(&m, 100, 100) == 0);
  mpl_mat_data(m)[0] = 1;
  CHECK(mpl_mat_format(&s, m) == 0);
  CHECK(strncmp(
            s,
            "mat 100x100\n[[1. 0. 0. ... 0. 0. 0.]\n [0. 0. 0. ... 0. 0. 0.]\n"
            " [0. 0. 0. ... 0. 0. 0.]\n ...\n [0. 0. 0. ... 0. 0. 0.]",
            90) == 0);
  free(s);
  mpl_mat_release(m);
}

static void test_dot(void) {
  mpl_mat *a = filled(2, 3), *b = filled(3, 2), *c, *bt, *ct;
  CHECK(mpl_mat_new(&c, 2, 2) == 0);
  CHECK(mpl_dot(a, b, c, 1) == 0);
  /* a = [[0 1 2][10 11 12]], b = [[0 1][10 11][20 21]] */
  CHECK(at(c, 0, 0) == 50 && at(c, 0, 1) == 53);
  CHECK(at(c, 1, 0) == 350 && at(c, 1, 1) == 383);
  CHECK_EQ_INT(mpl_dot(a, a, c, 1), MPL_ESHAPE);
  CHECK_EQ_INT(mpl_dot(a, b, a, 1), MPL_ESHAPE);
  /* transposed views and a transposed output */
  CHECK(mpl_mat_transpose(&bt, b) == 0);
  CHECK(mpl_mat_transpose(&ct, c) == 0);
  mpl_mat *btt;
  CHECK(mpl_mat_transpose(&btt, bt) == 0);
  CHECK(mpl_dot(a, btt, ct, 2) == 0);
  CHECK(at(ct, 0, 1) == 53 && at(c, 0, 1) == 350 && at(c, 1, 1) == 383);
  mpl_mat_release(btt);
  mpl_mat_release(bt);
  mpl_mat_release(ct);
  mpl_mat_release(c);
  mpl_mat_release(a);
  mpl_mat_release(b);
}

static void test_strerror(void) {
  CHECK(strcmp(mpl_strerror(MPL_ENOMEM), "out of memory") == 0);
  CHECK(strcmp(mpl_strerror(MPL_ESHAPE), "shape mismatch") == 0);
  CHECK(strcmp(mpl_strerror(0), "success") == 0);
  CHECK(strcmp(mpl_strerror(-999), "unknown error") == 0);
  CHECK(strcmp(mpl_version(), MPL_VERSION) == 0);
}

/* Freed large matrices give their pages back, all but the retention cap
** (memory kept populated for reuse); small churn stays bounded; with a
** zero cap everything is returned. */
static void test_memory_returned(void) {
  mpl__arena_stats st;
  mpl_mat *m;
  size_t cap = (size_t)64 << 20, slack = (size_t)4 << 20;
  mpl__arena_set_retain(cap);
  mpl__arena_get_stats(&st);
  size_t base = st.resident;
  CHECK(mpl_mat_new(&m, 8192, 8192) == 0); /* 512 MiB */
  mpl_mat_fill(m, 1);
  mpl__arena_get_stats(&st);
  CHECK(st.resident >= base + ((size_t)500 << 20));
  mpl_mat_release(m);
  mpl__arena_get_stats(&st);
  CHECK(st.resident < base + cap + slack);
  CHECK(mpl__arena_retained() <= cap);
  /* a live small block below a freed large one: beyond the cap, the large
  ** one is punched */
  mpl_mat *keep, *big, *after;
  CHECK(mpl_mat_new(&keep, 4, 4) == 0);
  CHECK(mpl_mat_new(&big, 4096, 4096) == 0);
  CHECK(mpl_mat_new(&after, 4, 4) == 0);
  mpl_mat_release(big);
  mpl__arena_get_stats(&st);
  CHECK(st.resident < base + cap + slack);
  for (int i = 0; i < 5000; i++) {
    CHECK(mpl_mat_new(&m, 1 + (size_t)(i % 97), 1 + (size_t)(i % 13) * 50) ==
          0);
    mpl_mat_release(m);
  }
  mpl_mat_release(keep);
  mpl_mat_release(after);
  mpl__arena_get_stats(&st);
  CHECK_EQ_INT(st.blocks, 0);
  CHECK_EQ_INT(st.top, 0);
  CHECK(st.resident < base + cap + slack);
  mpl__arena_set_retain(0);
  mpl__arena_get_stats(&st);
  CHECK(st.resident < base + slack);
  /* and with no retention, a freed block is returned at once */
  CHECK(mpl_mat_new(&m, 4096, 4096) == 0);
  mpl_mat_release(m);
  mpl__arena_get_stats(&st);
  CHECK(st.resident < base + slack);
}

/* A child forked before a matrix exists still sees it: the arena is one
** shared mapping at the same address in every process. */
static void test_visible_to_earlier_fork(void) {
  mpl_mat *first, *late;
  CHECK(mpl_mat_new(&first, 1, 1) == 0); /* maps the arena */
  int to_child[2], to_parent[2];
  CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    double *p;
    size_t n;
    if (read(to_child[0], &p, sizeof p) != sizeof p) _exit(2);
    if (read(to_child[0], &n, sizeof n) != sizeof n) _exit(2);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += p[i];
    p[0] = -42; /* write back through the shared mapping */
    if (write(to_parent[1], &sum, sizeof sum) != sizeof sum) _exit(2);
    _exit(0);
  }
  CHECK(mpl_mat_new(&late, 1000, 1000) == 0);
  double *p = mpl_mat_data(late);
  size_t n = 1000000;
  for (size_t i = 0; i < n; i++) p[i] = (double)i;
  CHECK(write(to_child[1], &p, sizeof p) == sizeof p);
  CHECK(write(to_child[1], &n, sizeof n) == sizeof n);
  double sum = 0;
  CHECK(read(to_parent[0], &sum, sizeof sum) == sizeof sum);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0);
  CHECK(sum == (double)n * (double)(n - 1) / 2);
  CHECK(p[0] == -42);
  mpl_mat_release(late);
  mpl_mat_release(first);
}

/* A forked child allocates from an arena of its own and never frees into
** the parent's: the parent's matrices and free lists stay intact. */
static void test_child_allocates_apart(void) {
  mpl_mat *p, *q;
  CHECK(mpl_mat_new(&p, 100, 100) == 0);
  mpl_mat_fill(p, 1);
  CHECK(mpl_mat_new(&q, 100, 100) == 0);
  mpl_mat_release(q); /* leaves a free block the child must not reuse */
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    mpl_mat *c[50];
    for (int i = 0; i < 50; i++) {
      if (mpl_mat_new(&c[i], 100, 100)) _exit(2);
      if (mpl__arena_contains(mpl_mat_data(p))) _exit(3);
      mpl_mat_fill(c[i], 9);
    }
    for (int i = 0; i < 50; i++) mpl_mat_release(c[i]);
    mpl_mat_data(p)[0] = 5; /* writes to inherited matrices are shared */
    mpl_mat_release(p);     /* ignored: the parent owns the block */
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
  CHECK_EQ_INT(WEXITSTATUS(status), 0);
  CHECK(mpl_mat_data(p)[0] == 5);
  for (int k = 1; k < 10000; k++) CHECK(mpl_mat_data(p)[k] == 1);
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  CHECK_EQ_INT(st.blocks, 1);
  CHECK(mpl_mat_new(&q, 100, 100) == 0);
  for (int k = 0; k < 10000; k++) CHECK(mpl_mat_data(q)[k] == 0);
  mpl_mat_release(q);
  mpl_mat_release(p);
}

static int count_dev_shm(void) {
  DIR *d = opendir("/dev/shm");
  int n = 0;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* Nothing named: a crashing process leaves no segment behind. */
static void test_nothing_in_dev_shm(void) {
  int before = count_dev_shm();
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    mpl_mat *m;
    if (mpl_mat_new(&m, 1000, 1000)) _exit(1);
    mpl_mat_fill(m, 3);
    abort();
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
  CHECK_EQ_INT(count_dev_shm(), before);
}

static void test_save(void) {
  char dir[] = "/tmp/mpl-test-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256];
  mpl_mat *m = filled(2, 3);
  mpl_mat_data(m)[1] = 0.1;
  snprintf(path, sizeof path, "%s/m.csv", dir);
  CHECK(mpl_save(path, m, NULL, 0) == 0);
  FILE *f = fopen(path, "r");
  char text[256] = {0};
  CHECK(f && fread(text, 1, sizeof text - 1, f) > 0);
  fclose(f);
  CHECK(strcmp(text, "0,0.10000000000000001,2\n10,11,12\n") == 0);
  snprintf(path, sizeof path, "%s/m.unknown", dir);
  CHECK_EQ_INT(mpl_save(path, m, NULL, 0), MPL_EFORMAT);
  CHECK_EQ_INT(mpl_save(path, m, "tsv", 0), 0);
  snprintf(path, sizeof path, "%s/missing/m.csv", dir);
  CHECK_EQ_INT(mpl_save(path, m, NULL, 0), MPL_EIO);
  mpl_mat_release(m);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
}

/* Page faults this process took so far. */
static long minflt(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

/* A steady loop of 80 KB temporaries after a free larger than the
** retention cap reuses populated memory: it takes no page faults (each
** allocation used to land on punched memory and fault its 20 pages in
** again); and memory above the cap is still returned. */
static void test_churn_after_large_free(void) {
  size_t cap = (size_t)6 << 20, slack = (size_t)2 << 20;
  mpl__arena_set_retain(cap);
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  size_t base = st.resident;
  enum { N = 250 }; /* fits the 32 MiB arena of the valgrind run */
  static mpl_mat *t[N];
  for (int i = 0; i < N; i++) /* 20 MB of 40-120 KB matrices */
    CHECK(mpl_mat_new(&t[i], 1, 5000 + (size_t)(i * 7919) % 10001) == 0);
  mpl_mat *keep;
  CHECK(mpl_mat_new(&keep, 10, 10) == 0); /* above them */
  for (int i = 0; i < N; i++) mpl_mat_release(t[(i * 337) % N]);
  mpl__arena_get_stats(&st);
  CHECK(st.resident <= base + st.in_use + cap + slack);
  CHECK(mpl__arena_retained() <= cap);
  /* the arena's own calls: a matrix's handle is malloc'd, and under
  ** AddressSanitizer each malloc gets fresh pages */
  long f0 = minflt();
  for (int i = 0; i < 2000; i++) {
    int err;
    double *d = mpl__arena_alloc(80000, 1, &err);
    CHECK(d != NULL);
    d[9999] = i;
    mpl__arena_free(d);
  }
  long faults = minflt() - f0;
  if (faults >= 100)
    fprintf(stderr, "# %ld page faults in 2000 allocations\n", faults);
  CHECK(faults < 100);
  mpl_mat_release(keep);
  mpl__arena_get_stats(&st);
  CHECK_EQ_INT(st.blocks, 0);
  CHECK(st.resident <= base + cap + slack);
  mpl__arena_set_retain(0);
  mpl__arena_get_stats(&st);
  CHECK(st.resident < base + slack);
}

/* Retained memory that nobody reuses goes back to the system by itself
** (the reaper thread), with no further call into the arena. */
static void test_idle_memory_returned(void) {
  mpl__arena_set_retain((size_t)64 << 20);
  uint64_t decay = mpl__arena_set_decay(1000);
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  size_t base = st.resident;
  mpl_mat *m, *sep, *top;
  CHECK(mpl_mat_new(&m, 1000, 1000) == 0); /* 8 MB, kept when freed */
  CHECK(mpl_mat_new(&sep, 1, 1) == 0);
  CHECK(mpl_mat_new(&top, 500, 500) == 0); /* 2 MB: the warm zone */
  mpl_mat_release(m);
  mpl_mat_release(top);
  /* kept for now: memory goes back after a second unused (long enough for
  ** valgrind to get from the frees to here) */
  CHECK(mpl__arena_retained() >= (size_t)9 << 20);
  /* wait for the reaper: a second plus its period, far less than this */
  for (int i = 0; i < 1500 && mpl__arena_retained(); i++) usleep(10000);
  CHECK_EQ_INT(mpl__arena_retained(), 0);
  mpl__arena_get_stats(&st);
  CHECK(st.resident < base + ((size_t)1 << 20));
  mpl_mat_release(sep);
  mpl__arena_set_decay(decay);
  mpl__arena_set_retain(0);
}

/* A malformed MPL_ARENA_SIZE or MPL_ARENA_RETAIN is an error for a host,
** naming the variable, on every call (never a hang or a silent default);
** the worker count is 1..4096. */
static void test_env_strict(void) {
  static const char *bad[][2] = {
      {"MPL_ARENA_SIZE", "-1"},
      {"MPL_ARENA_SIZE", "18446744073709551615"},
      {"MPL_ARENA_SIZE", "99999999999999999999999"},
      {"MPL_ARENA_SIZE", "1e12"},
      {"MPL_ARENA_SIZE", "100000"},
      {"MPL_ARENA_RETAIN", "abc"},
      {"MPL_ARENA_RETAIN", "-5m"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      alarm(20);
      setenv(bad[k][0], bad[k][1], 1);
      mpl_mat *m = (mpl_mat *)1;
      for (int round = 0; round < 2; round++) {
        if (mpl_mat_new(&m, 2, 2) != MPL_EINVAL || m != NULL) _exit(2);
        if (!strstr(mpl_errmsg(), bad[k][0]) ||
            !strstr(mpl_errmsg(), bad[k][1]) ||
            !strstr(mpl_errmsg(), "expected a byte count"))
          _exit(3);
      }
      _exit(mpl__arena_ensure() == MPL_EINVAL ? 0 : 4);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
  }
  int old = mpl_procs();
  CHECK_EQ_INT(mpl_set_procs(0), MPL_EINVAL);
  CHECK_EQ_INT(mpl_set_procs(MPL_MAX_PROCS + 1), MPL_EINVAL);
  CHECK(strstr(mpl_errmsg(), "4096") != NULL);
  CHECK_EQ_INT(mpl_procs(), old);
  CHECK_EQ_INT(mpl_set_procs(MPL_MAX_PROCS), 0);
  CHECK_EQ_INT(mpl_procs(), MPL_MAX_PROCS);
  CHECK_EQ_INT(mpl_set_procs(old), 0);
}

static const ctest tests[] = {
    {"new_is_zeroed_and_shaped", test_new_is_zeroed_and_shaped},
    {"empty_shapes", test_empty_shapes},
    {"overflow_and_enomem", test_overflow_and_enomem},
    {"views_share_and_keep_alive", test_views_share_and_keep_alive},
    {"retain_release", test_retain_release},
    {"copy_assign_equal", test_copy_assign_equal},
    {"format", test_format},
    {"dot", test_dot},
    {"strerror", test_strerror},
    {"memory_returned", test_memory_returned},
    {"churn_after_large_free", test_churn_after_large_free},
    {"idle_memory_returned", test_idle_memory_returned},
    {"env_strict", test_env_strict},
    {"visible_to_earlier_fork", test_visible_to_earlier_fork},
    {"child_allocates_apart", test_child_allocates_apart},
    {"nothing_in_dev_shm", test_nothing_in_dev_shm},
    {"save", test_save},
};

CTEST_MAIN(tests, 60)
