/*
** host.c: a C program that embeds the mpl engine.
**
** It owns an array in C and wraps it as a matrix without copying, makes a
** second matrix in the engine's shared memory, hands both to a Lua script
** that multiplies them with a parallel mat.dot and writes into the host's
** array, then takes the script's result back into C and checks it against
** a product computed here.  Build it with CMake (see CMakeLists.txt) or in
** one line with pkg-config:
**
**   cc -std=c11 -o host host.c $(pkg-config --cflags --libs mpl)
**
** It prints "host: ok" and exits 0, or says what went wrong and exits 1.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <mpl.h>

/* A is N x K, B is K x M: large enough (77 million flops) for the engine
** to hand mat.dot's rows to worker processes. */
enum { N = 400, K = 300, M = 320 };

/* The script sees the host's matrices as the globals A and B. */
static const char script[] =
    "assert(A.rows == 400 and B.cols == 320)\n"
    "local C = mat.dot(A, B, {procs = 2})  -- in workers when they pay\n"
    "A:set(1, 1, -1)    -- lands in the host's own array\n"
    "return C, C:get(2, 3)\n";

static int fail(const char *what, const char *why) {
  fprintf(stderr, "host: %s: %s\n", what, why);
  return 1;
}

/* Small whole numbers: every partial sum is exact, so a product computed
** in any order (any BLAS, any number of workers) is bitwise the same. */
static double a_val(size_t i, size_t j) {
  return (double)((i * 7 + j * 3) % 11) - 5;
}
static double b_val(size_t i, size_t j) {
  return (double)((i * 5 + j) % 7) - 3;
}

int main(void) {
  int err;

  /* A: the host's own array, wrapped in place; `free` runs when the last
  ** view goes, so the engine owns it from here on. */
  double *a = malloc(sizeof(double) * N * K);
  if (!a) return fail("malloc", "out of memory");
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < K; j++) a[i * K + j] = a_val(i, j);
  mpl_mat *A, *B;
  if ((err = mpl_mat_wrap(&A, a, N, K, K, 1, free, a)) != 0) {
    free(a);
    return fail("mpl_mat_wrap", mpl_strerror(err));
  }

  /* B: made by the engine in shared memory, filled through its data
  ** pointer and strides. */
  if ((err = mpl_mat_new(&B, K, M)) != 0)
    return fail("mpl_mat_new", mpl_strerror(err));
  double *b = mpl_mat_data(B);
  ptrdiff_t rs = mpl_mat_rstride(B), cs = mpl_mat_cstride(B);
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < M; j++)
      b[(ptrdiff_t)i * rs + (ptrdiff_t)j * cs] = b_val(i, j);

  /* A Lua state with the standard libraries and `mat`; the matrices go in
  ** as globals (each Lua value holds its own reference). */
  lua_State *L;
  if ((err = mpl_lua_newstate(&L)) != 0)
    return fail("mpl_lua_newstate", mpl_strerror(err));
  mpl_push(L, A);
  lua_setglobal(L, "A");
  mpl_push(L, B);
  lua_setglobal(L, "B");

  if (luaL_loadbuffer(L, script, strlen(script), "=script") != LUA_OK ||
      lua_pcall(L, 0, 2, 0) != LUA_OK)
    return fail("script", lua_tostring(L, -1));

  /* Take the result back out: borrowed from Lua, so retain it to keep it
  ** after the state is closed. */
  mpl_mat *C = mpl_tomat(L, -2);
  if (!C) return fail("script", "did not return a matrix");
  mpl_mat_retain(C);
  double c23 = lua_tonumber(L, -1);
  lua_close(L);

  if (mpl_mat_rows(C) != N || mpl_mat_cols(C) != M)
    return fail("result", "wrong shape");
  for (size_t i = 0; i < N; i++) {
    for (size_t j = 0; j < M; j++) {
      double want = 0;
      for (size_t k = 0; k < K; k++)
        want += (i == 0 && k == 0 ? a_val(0, 0) : a[i * K + k]) * b_val(k, j);
      double got = mpl_mat_data(C)[(ptrdiff_t)i * mpl_mat_rstride(C) +
                                   (ptrdiff_t)j * mpl_mat_cstride(C)];
      if (got != want) return fail("result", "wrong element");
    }
  }
  if (c23 != mpl_mat_data(C)[1 * mpl_mat_rstride(C) + 2 * mpl_mat_cstride(C)])
    return fail("result", "C:get(2, 3) disagrees with the C view");
  if (a[0] != -1) return fail("A:set", "did not write the host's array");

  /* The engine without Lua: the same product from C, serial and with two
  ** workers, bitwise equal to what the script got (A changed, so put the
  ** element back first). */
  a[0] = a_val(0, 0);
  for (int procs = 1; procs <= 2; procs++) {
    mpl_mat *D;
    if ((err = mpl_mat_new(&D, N, M)) != 0 ||
        (err = mpl_dot(A, B, D, procs)) != 0)
      return fail("mpl_dot", mpl_strerror(err));
    if (mpl_mat_equal(C, D) != 1) /* 0, or MPL_EINTR */
      return fail("mpl_dot", "differs from the script");
    mpl_mat_release(D);
  }

  mpl_mat_release(C);
  mpl_mat_release(B);
  mpl_mat_release(A); /* the last view of A: free(a) runs here */
  printf("host: ok (%dx%d times %dx%d, mpl %s)\n", N, K, K, M, mpl_version());
  return 0;
}
