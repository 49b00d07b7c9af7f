/*
** test_capi.c: the C API as a host program uses it.
**
** Every public function of mpl.h, its error codes, memory the host owns
** (mpl_mat_wrap, mpl_mat_from), Lua states made and fed from C, and a host
** that uses the engine from two places in one process: two Lua states in
** one thread sharing a matrix, and several threads, each with its own Lua
** state, creating and multiplying matrices while the main thread calls the
** engine directly.  As in test_core.c each test runs in its own forked
** process under an alarm; the last line is "N passed, N failed".
*/
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ctest.h"
#include "internal.h"
#include "mpl.h"

#define CHECK_STR(a, b)                                                        \
  do {                                                                         \
    const char *a_ = (a), *b_ = (b);                                           \
    if (!a_ || strcmp(a_, b_) != 0) {                                          \
      fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,      \
              __LINE__, #a, a_ ? a_ : "(null)", b_);                           \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static double at(const mpl_mat *m, size_t i, size_t j) {
  return mpl_mat_data(
      m)[(ptrdiff_t)i * mpl_mat_rstride(m) + (ptrdiff_t)j * mpl_mat_cstride(m)];
}

/* Small whole numbers, so products are exact in any summation order. */
static double val(size_t i, size_t j, unsigned salt) {
  return (double)((i * 7 + j * 3 + salt) % 11) - 5;
}

static mpl_mat *filled(size_t r, size_t c, unsigned salt) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, r, c) == 0);
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) mpl_mat_data(m)[i * c + j] = val(i, j, salt);
  return m;
}

/* 1 when out == a * b exactly (integer-valued operands). */
static int is_product(const mpl_mat *a, const mpl_mat *b, const mpl_mat *out) {
  for (size_t i = 0; i < mpl_mat_rows(a); i++)
    for (size_t j = 0; j < mpl_mat_cols(b); j++) {
      double s = 0;
      for (size_t k = 0; k < mpl_mat_cols(a); k++)
        s += at(a, i, k) * at(b, k, j);
      if (at(out, i, j) != s) return 0;
    }
  return 1;
}

static size_t live_blocks(void) {
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  return st.blocks;
}

/* Run Lua code in L; fail the test with Lua's message if it raises. */
static void run(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    fprintf(stderr, "lua error: %s\n", lua_tostring(L, -1));
    exit(1);
  }
}

/* ---------------------------------------------------------------------- */
/* errors and version                                                     */
/* ---------------------------------------------------------------------- */

static void test_strerror_every_code(void) {
  static const int codes[] = {
#define CODE(name, num, msg) MPL_##name,
      MPL_ERRNO_MAP(CODE)
#undef CODE
  };
  size_t n = sizeof codes / sizeof codes[0];
  CHECK(n >= 11);
  for (size_t i = 0; i < n; i++) {
    CHECK(codes[i] < 0);
    const char *s = mpl_strerror(codes[i]);
    CHECK(s && *s && strcmp(s, "unknown error") != 0);
    for (size_t j = 0; j < i; j++) {
      CHECK(codes[j] != codes[i]);
      CHECK(strcmp(mpl_strerror(codes[j]), s) != 0);
    }
  }
  CHECK_STR(mpl_strerror(MPL_OK), "success");
  CHECK_STR(mpl_strerror(MPL_EINVAL), "invalid argument");
  CHECK_STR(mpl_strerror(MPL_EOVERFLOW), "size too large");
  CHECK_STR(mpl_strerror(1), "unknown error");
  CHECK_STR(mpl_strerror(-1000), "unknown error");
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", MPL_VERSION_MAJOR, MPL_VERSION_MINOR,
           MPL_VERSION_PATCH);
  CHECK_STR(mpl_version(), v);
  CHECK_STR(MPL_VERSION, v);
}

/* ---------------------------------------------------------------------- */
/* matrices made by the engine                                            */
/* ---------------------------------------------------------------------- */

static void test_new_shape_stride_data(void) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, 3, 5) == 0);
  CHECK_EQ_INT(mpl_mat_rows(m), 3);
  CHECK_EQ_INT(mpl_mat_cols(m), 5);
  CHECK_EQ_INT(mpl_mat_rstride(m), 5);
  CHECK_EQ_INT(mpl_mat_cstride(m), 1);
  CHECK(mpl_mat_is_contiguous(m));
  CHECK(mpl_mat_is_shared(m));
  CHECK(!mpl_mat_is_shared(NULL));
  CHECK(mpl__arena_contains(mpl_mat_data(m)));
  mpl_mat_fill(m, 2.5);
  for (size_t k = 0; k < 15; k++) CHECK(mpl_mat_data(m)[k] == 2.5);
  mpl_mat *big = (mpl_mat *)1;
  CHECK_EQ_INT(mpl_mat_new(&big, SIZE_MAX / 4, 3), MPL_EOVERFLOW);
  CHECK(big == NULL);
  CHECK_EQ_INT(mpl_mat_new(&big, 300000, 300000), MPL_ENOMEM);
  CHECK(big == NULL);
  mpl_mat_release(m);
  CHECK_EQ_INT(live_blocks(), 0);
}

static void test_views_and_their_errors(void) {
  mpl_mat *m = filled(4, 6, 0), *v = (mpl_mat *)1;
  CHECK_EQ_INT(mpl_mat_sub(&v, NULL, 0, 0, 1, 1), MPL_EINVAL);
  CHECK(v == NULL);
  CHECK_EQ_INT(mpl_mat_sub(&v, m, 0, 0, 5, 1), MPL_ERANGE);
  CHECK_EQ_INT(mpl_mat_sub(&v, m, 2, 5, 2, 2), MPL_ERANGE);
  CHECK(strcmp(mpl_errmsg(), "rows 3..4, columns 6..7 are outside a 4x6 "
                             "matrix") == 0);
  CHECK_EQ_INT(mpl_mat_transpose(&v, NULL), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_reshape(&v, NULL, 1, 1), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_reshape(&v, m, 5, 5), MPL_ESHAPE);
  CHECK(strcmp(mpl_errmsg(), "cannot reshape a 4x6 matrix into 5x5") == 0);
  CHECK(mpl_mat_sub(&v, m, 1, 2, 3, 4) == 0);
  CHECK_EQ_INT(mpl_mat_rstride(v), 6);
  CHECK(!mpl_mat_is_contiguous(v));
  CHECK(mpl_mat_is_shared(v));
  mpl_mat *r = (mpl_mat *)1;
  CHECK_EQ_INT(mpl_mat_reshape(&r, v, 4, 3), MPL_ENOTCONTIG);
  CHECK(r == NULL);
  mpl_mat *t;
  CHECK(mpl_mat_transpose(&t, v) == 0);
  CHECK_EQ_INT(mpl_mat_rows(t), 4);
  CHECK_EQ_INT(mpl_mat_rstride(t), 1);
  CHECK_EQ_INT(mpl_mat_cstride(t), 6);
  CHECK(at(t, 3, 2) == at(m, 3, 5));
  CHECK(mpl_mat_reshape(&r, m, 3, 8) == 0);
  CHECK(at(r, 2, 7) == at(m, 3, 5));
  mpl_mat_release(m); /* views keep the storage */
  CHECK(at(t, 0, 0) == val(1, 2, 0));
  mpl_mat_release(t);
  mpl_mat_release(v);
  mpl_mat_release(r);
  CHECK_EQ_INT(live_blocks(), 0);
}

static void test_copy_assign_equal_format(void) {
  mpl_mat *m = filled(2, 3, 1), *c = (mpl_mat *)1, *t;
  CHECK_EQ_INT(mpl_mat_copy(&c, NULL), MPL_EINVAL);
  CHECK(c == NULL);
  CHECK(mpl_mat_transpose(&t, m) == 0);
  CHECK(mpl_mat_copy(&c, t) == 0);
  CHECK(mpl_mat_is_contiguous(c) && mpl_mat_equal(c, t));
  CHECK(!mpl_mat_equal(c, m));
  CHECK_EQ_INT(mpl_mat_assign(NULL, m), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_assign(m, NULL), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_assign(m, c), MPL_ESHAPE);
  CHECK(strcmp(mpl_errmsg(), "shape mismatch: 2x3 and 3x2") == 0);
  mpl_mat_fill(c, 0);
  CHECK(mpl_mat_assign(c, t) == 0 && mpl_mat_equal(c, t));
  char *s = NULL;
  mpl_mat *e;
  CHECK(mpl_mat_new(&e, 1, 2) == 0);
  mpl_mat_data(e)[1] = 0.5;
  CHECK(mpl_mat_format(&s, e) == 0);
  CHECK_STR(s, "mat 1x2\n[[0.  0.5]]");
  free(s);
  mpl_mat_release(e);
  mpl_mat_release(c);
  mpl_mat_release(t);
  mpl_mat_release(m);
}

static void test_retain_release_counts(void) {
  mpl_mat *m = filled(2, 2, 0);
  for (int i = 0; i < 10; i++) CHECK(mpl_mat_retain(m) == m);
  for (int i = 0; i < 10; i++) mpl_mat_release(m);
  CHECK(at(m, 1, 1) == val(1, 1, 0));
  CHECK_EQ_INT(live_blocks(), 1);
  mpl_mat_release(m);
  CHECK_EQ_INT(live_blocks(), 0);
  mpl_mat_release(NULL);
  CHECK(mpl_mat_retain(NULL) == NULL);
}

/* ---------------------------------------------------------------------- */
/* memory the host owns                                                   */
/* ---------------------------------------------------------------------- */

static int released;
static void *released_ctx;
static void on_release(void *ctx) {
  released++;
  released_ctx = ctx;
}

static void test_wrap_is_in_place(void) {
  double a[3][4];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) a[i][j] = i * 10 + j;
  mpl_mat *m, *v;
  released = 0;
  CHECK(mpl_mat_wrap(&m, &a[0][0], 3, 4, 4, 1, on_release, a) == 0);
  CHECK(mpl_mat_data(m) == &a[0][0]);
  CHECK_EQ_INT(mpl_mat_rows(m), 3);
  CHECK_EQ_INT(mpl_mat_cols(m), 4);
  CHECK_EQ_INT(mpl_mat_rstride(m), 4);
  CHECK_EQ_INT(mpl_mat_cstride(m), 1);
  CHECK(mpl_mat_is_contiguous(m));
  CHECK(!mpl_mat_is_shared(m));
  CHECK(!mpl__arena_contains(mpl_mat_data(m)));
  /* both directions: the host's writes show in the matrix, the engine's
  ** in the host's array */
  a[2][3] = -7;
  CHECK(at(m, 2, 3) == -7);
  CHECK(mpl_mat_sub(&v, m, 1, 1, 2, 2) == 0);
  CHECK(!mpl_mat_is_shared(v));
  mpl_mat_fill(v, 9);
  CHECK(a[1][1] == 9 && a[2][2] == 9 && a[1][0] == 10 && a[0][1] == 1);
  /* a copy lands in shared memory */
  mpl_mat *c;
  CHECK(mpl_mat_copy(&c, m) == 0);
  CHECK(mpl_mat_is_shared(c) && mpl_mat_equal(c, m));
  mpl_mat_release(c);
  /* the callback runs once, with the last view */
  mpl_mat_release(m);
  CHECK_EQ_INT(released, 0);
  CHECK(at(v, 0, 0) == 9);
  mpl_mat_release(v);
  CHECK_EQ_INT(released, 1);
  CHECK(released_ctx == a);
  CHECK_EQ_INT(live_blocks(), 0);
}

static void test_wrap_layouts(void) {
  /* column-major 3 x 2, and a padded row-major 2 x 3 (row stride 5) */
  double cm[6] = {1, 2, 3, 4, 5, 6};
  double pad[10] = {1, 2, 3, -1, -1, 4, 5, 6, -1, -1};
  mpl_mat *c, *p, *out, *want;
  CHECK(mpl_mat_wrap(&c, cm, 3, 2, 1, 3, NULL, NULL) == 0);
  CHECK(at(c, 0, 1) == 4 && at(c, 2, 0) == 3);
  CHECK(!mpl_mat_is_contiguous(c));
  CHECK(mpl_mat_wrap(&p, pad, 2, 3, 5, 1, NULL, NULL) == 0);
  CHECK(at(p, 1, 0) == 4);
  CHECK(mpl_mat_new(&out, 3, 3) == 0);
  CHECK(mpl_dot(c, p, out, 1) == 0);
  CHECK(is_product(c, p, out));
  /* an empty matrix needs no memory */
  mpl_mat *e;
  released = 0;
  CHECK(mpl_mat_wrap(&e, NULL, 0, 5, 0, 0, on_release, NULL) == 0);
  CHECK_EQ_INT(mpl_mat_rows(e), 0);
  CHECK_EQ_INT(mpl_mat_cols(e), 5);
  CHECK(mpl_mat_is_contiguous(e));
  mpl_mat_release(e);
  CHECK_EQ_INT(released, 1);
  /* a vector's unused stride may be anything */
  double vec[4] = {1, 2, 3, 4};
  CHECK(mpl_mat_wrap(&e, vec, 1, 4, 0, 1, NULL, NULL) == 0);
  CHECK(mpl_mat_new(&want, 1, 4) == 0);
  memcpy(mpl_mat_data(want), vec, sizeof vec);
  CHECK(mpl_mat_equal(e, want));
  mpl_mat_release(want);
  mpl_mat_release(e);
  mpl_mat_release(out);
  mpl_mat_release(p);
  mpl_mat_release(c);
}

static void test_wrap_errors(void) {
  double a[16] = {0};
  mpl_mat *m = (mpl_mat *)1;
  released = 0;
  CHECK_EQ_INT(mpl_mat_wrap(NULL, a, 2, 2, 2, 1, on_release, NULL), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_wrap(&m, NULL, 2, 2, 2, 1, on_release, NULL),
               MPL_EINVAL);
  CHECK(m == NULL);
  CHECK_EQ_INT(
      mpl_mat_wrap(&m, (double *)((char *)a + 1), 2, 2, 2, 1, on_release, NULL),
      MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_wrap(&m, a, 2, 2, -2, 1, on_release, NULL), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_wrap(&m, a, 2, 2, 2, -1, on_release, NULL), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_wrap(&m, a, 2, 2, 0, 1, on_release, NULL), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_wrap(&m, a, 2, 2, 2, 0, on_release, NULL), MPL_EINVAL);
  /* overlapping elements: (0,1) and (1,0) share an address */
  CHECK_EQ_INT(mpl_mat_wrap(&m, a, 2, 2, 1, 1, on_release, NULL), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_wrap(&m, a, 3, 3, 2, 1, on_release, NULL), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_wrap(&m, a, (size_t)1 << 40, (size_t)1 << 40,
                            (ptrdiff_t)1 << 40, 1, on_release, NULL),
               MPL_EOVERFLOW);
  CHECK_EQ_INT(mpl_mat_wrap(&m, a, 2, 2, PTRDIFF_MAX, 1, on_release, NULL),
               MPL_EOVERFLOW);
  CHECK(m == NULL);
  CHECK_EQ_INT(released, 0); /* failures never call it */
}

/* The callback belongs to the process that wrapped the memory: a forked
** child dropping its inherited handle must not run it.  The calls are
** counted in a shared page, so the parent sees the child's too. */
static void count_call(void *ctx) { atomic_fetch_add((atomic_int *)ctx, 1); }

static void test_wrap_release_not_in_child(void) {
  atomic_int *calls = mmap(NULL, sizeof *calls, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(calls != MAP_FAILED);
  atomic_init(calls, 0);
  double a[4] = {1, 2, 3, 4};
  mpl_mat *m;
  CHECK(mpl_mat_wrap(&m, a, 2, 2, 2, 1, count_call, calls) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    if (at(m, 1, 0) != 3) _exit(2); /* the child's copy reads the same */
    mpl_mat_release(m);
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
  CHECK_EQ_INT(WEXITSTATUS(status), 0);
  CHECK_EQ_INT(atomic_load(calls), 0);
  mpl_mat_release(m);
  CHECK_EQ_INT(atomic_load(calls), 1);
}

/* Handing a malloc'd array over: `free` as the callback. */
static void test_wrap_hands_over_malloc(void) {
  double *a = malloc(6 * sizeof *a);
  CHECK(a != NULL);
  for (int k = 0; k < 6; k++) a[k] = k;
  mpl_mat *m, *t;
  CHECK(mpl_mat_wrap(&m, a, 2, 3, 3, 1, free, a) == 0);
  CHECK(mpl_mat_transpose(&t, m) == 0);
  mpl_mat_release(m);
  CHECK(at(t, 2, 1) == 5);
  mpl_mat_release(t); /* frees a; the sanitizer build checks nothing leaks */
}

static void test_from_copies(void) {
  double a[2][3] = {{1, 2, 3}, {4, 5, 6}};
  mpl_mat *m = (mpl_mat *)1, *t;
  CHECK(mpl_mat_from(&m, &a[0][0], 2, 3, 3, 1) == 0);
  CHECK(mpl_mat_is_shared(m) && mpl_mat_is_contiguous(m));
  CHECK(mpl_mat_data(m) != &a[0][0]);
  a[0][0] = 100;
  CHECK(at(m, 0, 0) == 1 && at(m, 1, 2) == 6);
  mpl_mat_release(m);
  /* column-major source: the transpose of a */
  CHECK(mpl_mat_from(&t, &a[0][0], 3, 2, 1, 3) == 0);
  CHECK(at(t, 2, 1) == 6 && at(t, 0, 1) == 4);
  mpl_mat_release(t);
  /* a zero stride repeats a row, as a broadcast does */
  double row[3] = {7, 8, 9};
  CHECK(mpl_mat_from(&m, row, 4, 3, 0, 1) == 0);
  CHECK(at(m, 3, 2) == 9 && at(m, 0, 0) == 7);
  mpl_mat_release(m);
  CHECK(mpl_mat_from(&m, NULL, 0, 0, 0, 0) == 0);
  CHECK_EQ_INT(mpl_mat_rows(m), 0);
  mpl_mat_release(m);
  m = (mpl_mat *)1;
  CHECK_EQ_INT(mpl_mat_from(NULL, row, 1, 3, 3, 1), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_from(&m, NULL, 1, 3, 3, 1), MPL_EINVAL);
  CHECK(m == NULL);
  CHECK_EQ_INT(mpl_mat_from(&m, row, 1, 3, 3, -1), MPL_EINVAL);
  CHECK_EQ_INT(mpl_mat_from(&m, row, SIZE_MAX, 3, 3, 1), MPL_EOVERFLOW);
  CHECK_EQ_INT(live_blocks(), 0);
}

/* ---------------------------------------------------------------------- */
/* products, files, worker count                                          */
/* ---------------------------------------------------------------------- */

static void test_dot(void) {
  mpl__parallel_min_flops = 0; /* small products take the parallel path too */
  mpl_mat *a = filled(150, 120, 1), *b = filled(120, 90, 2), *out, *ref;
  CHECK(mpl_mat_new(&ref, 150, 90) == 0);
  CHECK(mpl_dot(a, b, ref, 1) == 0);
  CHECK(is_product(a, b, ref));
  /* every worker count, and the default, gives the same bits */
  for (int procs = 0; procs <= 4; procs++) {
    CHECK(mpl_mat_new(&out, 150, 90) == 0);
    CHECK(mpl_dot(a, b, out, procs) == 0);
    CHECK(memcmp(mpl_mat_data(out), mpl_mat_data(ref),
                 150 * 90 * sizeof(double)) == 0);
    mpl_mat_release(out);
  }
  /* wrapped operands and a wrapped output, in place */
  double *wa = malloc(150 * 120 * sizeof *wa),
         *wo = calloc(150 * 90, sizeof *wo);
  CHECK(wa && wo);
  memcpy(wa, mpl_mat_data(a), 150 * 120 * sizeof *wa);
  mpl_mat *A, *O;
  CHECK(mpl_mat_wrap(&A, wa, 150, 120, 120, 1, free, wa) == 0);
  CHECK(mpl_mat_wrap(&O, wo, 150, 90, 90, 1, free, wo) == 0);
  CHECK(mpl_dot(A, b, O, 2) == 0);
  CHECK(memcmp(wo, mpl_mat_data(ref), 150 * 90 * sizeof(double)) == 0);
  /* errors */
  CHECK_EQ_INT(mpl_dot(NULL, b, O, 1), MPL_EINVAL);
  CHECK_EQ_INT(mpl_dot(a, NULL, O, 1), MPL_EINVAL);
  CHECK_EQ_INT(mpl_dot(a, b, NULL, 1), MPL_EINVAL);
  CHECK_EQ_INT(mpl_dot(a, a, O, 1), MPL_ESHAPE);
  CHECK(strcmp(mpl_errmsg(), "shape mismatch: 150x120 * 150x120") == 0);
  CHECK_EQ_INT(mpl_dot(a, b, A, 1), MPL_ESHAPE);
  CHECK(strcmp(mpl_errmsg(), "out is 150x120, the product is 150x90") == 0);
  mpl_mat_release(A);
  mpl_mat_release(O);
  mpl_mat_release(ref);
  mpl_mat_release(a);
  mpl_mat_release(b);
  CHECK_EQ_INT(live_blocks(), 0);
}

static void test_save_errors_and_wrapped(void) {
  char dir[] = "/tmp/mpl-capi-XXXXXX", path[256];
  CHECK(mkdtemp(dir) != NULL);
  double a[2][2] = {{1, 0.5}, {-2, 3}};
  mpl_mat *m;
  CHECK(mpl_mat_wrap(&m, &a[0][0], 2, 2, 2, 1, NULL, NULL) == 0);
  snprintf(path, sizeof path, "%s/w.csv", dir);
  CHECK(mpl_save(path, m, NULL, 0) == 0);
  FILE *f = fopen(path, "r");
  char text[64] = {0};
  CHECK(f && fread(text, 1, sizeof text - 1, f) > 0);
  fclose(f);
  CHECK_STR(text, "1,0.5\n-2,3\n");
  CHECK_EQ_INT(mpl_save(NULL, m, NULL, 0), MPL_EINVAL);
  CHECK_EQ_INT(mpl_save(path, NULL, NULL, 0), MPL_EINVAL);
  CHECK_EQ_INT(mpl_save(path, m, "xls", 0), MPL_EFORMAT);
  snprintf(path, sizeof path, "%s/none/w.npy", dir);
  CHECK_EQ_INT(mpl_save(path, m, NULL, 0), MPL_EIO);
  mpl_mat_release(m);
  snprintf(path, sizeof path, "rm -rf %s", dir);
  CHECK(system(path) == 0);
}

static void test_procs(void) {
  CHECK(mpl_procs() >= 1);
  CHECK_EQ_INT(mpl_set_procs(0), MPL_EINVAL);
  CHECK_EQ_INT(mpl_set_procs(-3), MPL_EINVAL);
  CHECK(mpl_set_procs(3) == 0);
  CHECK_EQ_INT(mpl_procs(), 3);
  lua_State *L;
  CHECK(mpl_lua_newstate(&L) == 0);
  run(L, "assert(mat.procs() == 3); mat.procs(2)");
  CHECK_EQ_INT(mpl_procs(), 2); /* one setting for the process */
  lua_close(L);
}

/* ---------------------------------------------------------------------- */
/* Lua from C                                                             */
/* ---------------------------------------------------------------------- */

static void test_lua_newstate(void) {
  CHECK_EQ_INT(mpl_lua_newstate(NULL), MPL_EINVAL);
  lua_State *L;
  CHECK(mpl_lua_newstate(&L) == 0 && L != NULL);
  CHECK_EQ_INT(lua_gettop(L), 0);
  run(L, "assert(require('mat') == mat and package.loaded.mat == mat)\n"
         "assert(string.format('%d', 3) == '3' and io and os and math)\n"
         "assert(mat.version == '" MPL_VERSION "')\n"
         "assert(tostring(mat.eye(2)) == 'mat 2x2\\n[[1. 0.]\\n [0. 1.]]')");
  lua_close(L);
}

/* luaopen_mat as a host's own state opens it, and mpl_push into a state
** that never opened `mat` (it is opened on the way). */
static void test_luaopen_mat_and_push_into_bare_state(void) {
  lua_State *L = luaL_newstate();
  CHECK(L != NULL);
  luaL_openlibs(L);
  luaL_requiref(L, "mat", luaopen_mat, 1);
  CHECK(lua_istable(L, -1));
  lua_pop(L, 1);
  run(L, "assert(mat.ones(2, 2):get(2, 2) == 1)");
  lua_close(L);

  L = luaL_newstate();
  CHECK(L != NULL);
  luaL_openlibs(L);
  mpl_mat *m = filled(2, 3, 0);
  CHECK(mpl_push(L, m) == 0);
  lua_setglobal(L, "m");
  run(L, "assert(m.rows == 2 and m:t().rows == 3 and m:get(2, 3) == -3)");
  mpl_mat_release(m);
  lua_close(L);
  CHECK_EQ_INT(live_blocks(), 0);
}

static void test_push_and_take_back(void) {
  lua_State *L;
  CHECK(mpl_lua_newstate(&L) == 0);
  CHECK_EQ_INT(mpl_push(L, NULL), MPL_EINVAL);
  CHECK_EQ_INT(lua_gettop(L), 0); /* nothing pushed */
  mpl_mat *m = filled(3, 3, 0);
  CHECK(mpl_push(L, m) == 0);
  CHECK(mpl_tomat(L, -1) == m);
  lua_setglobal(L, "m");
  mpl_mat_release(m); /* Lua holds its own reference */
  run(L, "m:set(1, 1, 42); r = m:row(2); return m * mat.eye(3)");
  mpl_mat *p = mpl_tomat(L, -1);
  CHECK(p != NULL && mpl_mat_rows(p) == 3);
  CHECK(at(p, 0, 0) == 42);
  mpl_mat_retain(p); /* keep it past lua_close */
  /* what is not an open matrix gives NULL */
  lua_pushnumber(L, 1);
  CHECK(mpl_tomat(L, -1) == NULL);
  lua_newtable(L);
  CHECK(mpl_tomat(L, -1) == NULL);
  lua_newuserdatauv(L, sizeof(void *), 0);
  CHECK(mpl_tomat(L, -1) == NULL);
  CHECK(mpl_tomat(L, 100) == NULL); /* an empty slot */
  lua_settop(L, 0);
  lua_getglobal(L, "m");
  mpl_mat *held = mpl_mat_retain(mpl_tomat(L, -1));
  run(L, "m:close()");
  CHECK(mpl_tomat(L, -1) == NULL);
  CHECK(at(held, 0, 0) == 42); /* our reference outlives the Lua close */
  lua_close(L);
  CHECK(at(p, 0, 0) == 42);
  mpl_mat_release(held);
  mpl_mat_release(p);
  CHECK_EQ_INT(live_blocks(), 0);
}

/* A C function a host registers, taking a matrix argument. */
static int l_trace(lua_State *L) {
  mpl_mat *m = mpl_checkmat(L, 1);
  double s = 0;
  for (size_t i = 0; i < mpl_mat_rows(m) && i < mpl_mat_cols(m); i++)
    s += at(m, i, i);
  lua_pushnumber(L, s);
  return 1;
}

static void test_checkmat(void) {
  lua_State *L;
  CHECK(mpl_lua_newstate(&L) == 0);
  lua_register(L, "trace", l_trace);
  run(L, "assert(trace(mat.eye(4)) == 4)\n"
         "local ok, e = pcall(trace, 3)\n"
         "assert(not ok and e:find(\"bad argument #1 to 'trace' (matrix "
         "expected, got number)\", 1, true), e)\n"
         "ok, e = pcall(trace, {})\n"
         "assert(not ok and e:find('matrix expected, got table', 1, true), e)\n"
         "local m = mat.eye(2); m:close()\n"
         "ok, e = pcall(trace, m)\n"
         "assert(not ok and e:find('attempt to use a closed matrix', 1, true), "
         "e)");
  lua_close(L);
}

/* ---------------------------------------------------------------------- */
/* one process, two places                                                */
/* ---------------------------------------------------------------------- */

/* Two Lua states in one thread hold the same matrix: a write in one is
** read in the other, and closing one leaves the other working. */
static void test_two_states_share_a_matrix(void) {
  lua_State *L1, *L2;
  CHECK(mpl_lua_newstate(&L1) == 0 && mpl_lua_newstate(&L2) == 0);
  double host[2][2] = {{1, 2}, {3, 4}};
  mpl_mat *m;
  CHECK(mpl_mat_wrap(&m, &host[0][0], 2, 2, 2, 1, NULL, NULL) == 0);
  CHECK(mpl_push(L1, m) == 0);
  lua_setglobal(L1, "shared");
  CHECK(mpl_push(L2, m) == 0);
  lua_setglobal(L2, "shared");
  mpl_mat_release(m);
  run(L1, "shared:set(1, 2, 20)");
  run(L2, "assert(shared:get(1, 2) == 20); shared[2][1] = 30");
  run(L1, "assert(shared[2][1] == 30)");
  CHECK(host[0][1] == 20 && host[1][0] == 30);
  /* a view made in one state, handed to the other */
  run(L1, "return shared:t()");
  CHECK(mpl_push(L2, mpl_tomat(L1, -1)) == 0);
  lua_setglobal(L2, "view");
  lua_close(L1);
  run(L2, "assert(view:get(2, 1) == 20 and (shared * view):get(1, 1) == 401)\n"
          "collectgarbage()");
  lua_close(L2);
  CHECK_EQ_INT(live_blocks(), 0);
}

/* Each thread runs scripts in its own state: creating, multiplying
** (procs = 2), viewing and dropping matrices, reading a matrix every
** thread shares, and writing its own row of a shared result. */
typedef struct worker {
  pthread_t tid;
  int index;
  mpl_mat *shared; /* read by every thread */
  mpl_mat *result; /* thread i writes row i */
  double expect;   /* the sum of shared's elements */
  int ok;
  char err[256];
} worker;

static const char thread_script[] =
    "local index, shared, result = ...\n"
    "mat.seed(index)\n"
    "local sum = 0\n"
    "for i = 1, shared.rows do for j = 1, shared.cols do\n"
    "  sum = sum + shared:get(i, j) end end\n"
    "for round = 1, 60 do\n"
    "  local r, t = 40 + round, {}\n"
    "  for i = 1, r do\n"
    "    local row = {}\n"
    "    for j = 1, 30 do row[j] = (i * 7 + j * 3 + index + round) % 11 - 5 "
    "end\n"
    "    t[i] = row\n"
    "  end\n"
    "  local a = mat.from(t)\n"
    "  local b = mat.from(a:t():totable())\n"
    "  local c = mat.dot(a, b, {procs = 2})\n"
    "  assert(c == a * a:t(), 'product differs')\n"
    "  local s = c:sub(1, 10, 1, 10):copy()\n"
    "  assert(s:get(3, 3) == c:get(3, 3))\n"
    "  local u = mat.rand(r, 30)\n"
    "  assert(u:get(r, 30) >= 0 and u:get(r, 30) < 1)\n"
    "  if round % 10 == 0 then collectgarbage() end\n"
    "end\n"
    "local row = result:row(index)\n"
    "for j = 1, result.cols do row[j] = sum + index end\n"
    "return sum\n";

static void *thread_main(void *arg) {
  worker *w = arg;
  lua_State *L;
  if (mpl_lua_newstate(&L) != 0) {
    snprintf(w->err, sizeof w->err, "mpl_lua_newstate failed");
    return NULL;
  }
  if (luaL_loadstring(L, thread_script) == LUA_OK) {
    lua_pushinteger(L, w->index + 1);
    mpl_push(L, w->shared);
    mpl_push(L, w->result);
    if (lua_pcall(L, 3, 1, 0) == LUA_OK)
      w->ok = lua_tonumber(L, -1) == w->expect;
  }
  if (!w->ok)
    snprintf(w->err, sizeof w->err, "%s",
             lua_isstring(L, -1) ? lua_tostring(L, -1) : "wrong sum");
  lua_close(L);
  return NULL;
}

static void test_threads_each_with_a_state(void) {
  enum { T = 4, ROUNDS = 400 };
  mpl__parallel_min_flops = 0; /* every procs = 2 product uses the workers */
  /* the pool starts here, in the thread that lives longest (see
  ** pool_outlives_the_thread_that_started_it for the other order) */
  CHECK(mpl__pool_start(2) == 0);
  size_t base = live_blocks();
  mpl_mat *shared = filled(8, 9, 5), *result;
  double expect = 0;
  for (size_t i = 0; i < 8; i++)
    for (size_t j = 0; j < 9; j++) expect += at(shared, i, j);
  CHECK(mpl_mat_new(&result, T, 16) == 0);
  worker w[T];
  for (int i = 0; i < T; i++) {
    w[i] = (worker){
        .index = i, .shared = shared, .result = result, .expect = expect};
    CHECK(pthread_create(&w[i].tid, NULL, thread_main, &w[i]) == 0);
  }
  /* meanwhile, the engine straight from C in this thread */
  /* 130 rows: several of the engine's row blocks (mpl__dot_block_rows) */
  CHECK(mpl__dot_block_rows(130, 50, 40) < 130);
  mpl_mat *a = filled(130, 50, 1), *b = filled(50, 40, 2);
  for (int r = 0; r < ROUNDS; r++) {
    mpl_mat *o, *t;
    double *host = malloc(130 * 50 * sizeof *host);
    CHECK(host != NULL);
    memcpy(host, mpl_mat_data(a), 130 * 50 * sizeof *host);
    mpl_mat *wa;
    CHECK(mpl_mat_wrap(&wa, host, 130, 50, 50, 1, free, host) == 0);
    CHECK(mpl_mat_new(&o, 130, 40) == 0);
    CHECK(mpl_dot(wa, b, o, 2) == 0);
    if (r % 50 == 0) CHECK(is_product(a, b, o));
    CHECK(mpl_mat_transpose(&t, o) == 0);
    mpl_mat_release(o);
    CHECK(at(t, 39, 129) == at(t, 39, 129));
    mpl_mat_release(t);
    mpl_mat_release(wa);
  }
  for (int i = 0; i < T; i++) {
    CHECK(pthread_join(w[i].tid, NULL) == 0);
    if (!w[i].ok) fprintf(stderr, "thread %d: %s\n", i, w[i].err);
    CHECK(w[i].ok);
    for (size_t j = 0; j < 16; j++)
      CHECK(at(result, (size_t)i, j) == expect + i + 1);
  }
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(result);
  mpl_mat_release(shared);
  CHECK_EQ_INT(live_blocks(), base); /* every thread's matrices were freed */
}

/* 1 while process pid runs (not gone, not a zombie). */
static int running(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')');
  return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void *start_pool_and_exit(void *arg) {
  int *pids = arg;
  lua_State *L;
  if (mpl_lua_newstate(&L) != 0) return NULL;
  /* 130 rows: several row blocks (mpl__dot_block_rows), several workers */
  if (luaL_dostring(L,
                    "local a = mat.ones(130, 64)\n"
                    "assert(mat.dot(a, a:t(), {procs = 2}):get(1, 1) == 64)") ==
      LUA_OK)
    mpl__pool_pids(pids, 2);
  lua_close(L);
  return NULL; /* the thread ends here */
}

/* The pool belongs to the process, not to the thread that happened to
** start it: a host thread that opens a state (which starts the pool), runs
** a parallel product and ends must leave the workers running for the rest
** of the process. */
static void test_pool_outlives_the_thread_that_started_it(void) {
  mpl__parallel_min_flops = 0;
  int pids[2] = {0, 0};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, start_pool_and_exit, pids) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(pids[0] > 0 && pids[1] > 0);
  usleep(300 * 1000); /* time for a death signal to land, if one was sent */
  CHECK(running(pids[0]));
  CHECK(running(pids[1]));
  mpl_mat *a = filled(130, 130, 1), *o;
  CHECK(mpl_mat_new(&o, 130, 130) == 0);
  CHECK(mpl_dot(a, a, o, 2) == 0);
  CHECK(is_product(a, a, o));
  mpl_mat_release(o);
  mpl_mat_release(a);
}

/* Products and mat.map from a host thread with a 128 KB stack: no call
** keeps more than a few KB on the stack (a product once kept its job
** slots there, some 800 KB). */
static void *small_stack_main(void *arg) {
  int *ok = arg;
  size_t rows = 2 * mpl__dot_block_rows(0, 0, 0) + 1; /* several row blocks */
  mpl_mat *a = filled(rows, 40, 1), *b = filled(40, 30, 2), *o;
  if (mpl_mat_new(&o, rows, 30) != 0) return NULL;
  for (int procs = 1; procs <= 3; procs++)
    if (mpl_dot(a, b, o, procs) != 0 || !is_product(a, b, o)) return NULL;
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(o);
  lua_State *L;
  if (mpl_lua_newstate(&L) != 0) return NULL;
  *ok =
      luaL_dostring(
          L, "local a = mat.rand(300, 200)\n"
             "local c = mat.dot(a, a:t(), {procs = 2})\n"
             "assert(c == mat.dot(a, a:t(), {procs = 1}))\n"
             "local r = mat.map(function(i) return i * 2 end, 5, {procs = 2})\n"
             "assert(r[5] == 10)\n"
             "assert((a * 2):sum() == a:sum() * 2)") == LUA_OK;
  if (!*ok) fprintf(stderr, "small stack: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return NULL;
}

static void test_small_stack_thread(void) {
  mpl__parallel_min_flops = 0; /* the products reach the workers */
  pthread_attr_t at;
  pthread_t t;
  int ok = 0;
  CHECK(pthread_attr_init(&at) == 0);
  CHECK(pthread_attr_setstacksize(&at, 128 * 1024) == 0);
  CHECK(pthread_create(&t, &at, small_stack_main, &ok) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  pthread_attr_destroy(&at);
  CHECK(ok);
}

static const ctest tests[] = {
    {"small_stack_thread", test_small_stack_thread},
    {"strerror_every_code", test_strerror_every_code},
    {"new_shape_stride_data", test_new_shape_stride_data},
    {"views_and_their_errors", test_views_and_their_errors},
    {"copy_assign_equal_format", test_copy_assign_equal_format},
    {"retain_release_counts", test_retain_release_counts},
    {"wrap_is_in_place", test_wrap_is_in_place},
    {"wrap_layouts", test_wrap_layouts},
    {"wrap_errors", test_wrap_errors},
    {"wrap_release_not_in_child", test_wrap_release_not_in_child},
    {"wrap_hands_over_malloc", test_wrap_hands_over_malloc},
    {"from_copies", test_from_copies},
    {"dot", test_dot},
    {"save_errors_and_wrapped", test_save_errors_and_wrapped},
    {"procs", test_procs},
    {"lua_newstate", test_lua_newstate},
    {"luaopen_mat_and_push_into_bare_state",
     test_luaopen_mat_and_push_into_bare_state},
    {"push_and_take_back", test_push_and_take_back},
    {"checkmat", test_checkmat},
    {"two_states_share_a_matrix", test_two_states_share_a_matrix},
    {"threads_each_with_a_state", test_threads_each_with_a_state},
    {"pool_outlives_the_thread_that_started_it",
     test_pool_outlives_the_thread_that_started_it},
};

CTEST_MAIN(tests, 120)
