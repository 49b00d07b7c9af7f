/*
** lshape.c: joining and shaping -- mat.hcat, mat.vcat, mat.cat,
** m:flatten, m:tile, m:tril, m:triu, mat.full, mat.outer, mat.kron.
**
** Every result is a new matrix made as a Lua value first; blocks are
** copied into views of it with the core's copy and fill (which stop at
** an interrupt), products by the elementwise kernels.
*/
#include <limits.h>

#include "arith.h"
#include "lmat.h"

#define SHAPE(m) (LUAI_UACINT)(m)->rows, (LUAI_UACINT)(m)->cols

/* Raise fn's error for a core failure. */
static void check(lua_State *L, const char *fn, int err) {
  if (err) luaL_error(L, "%s: %s", fn, mpl_strerror(err));
}

/* Copy src into the block of out at (r0, c0) of src's shape. */
static void put_block(lua_State *L, const char *fn, mpl_mat *out, size_t r0,
                      size_t c0, const mpl_mat *src) {
  mpl_mat *v;
  int err = mpl_mat_sub(&v, out, r0, c0, src->rows, src->cols);
  if (!err) err = mpl_mat_assign(v, src);
  mpl_mat_release(v);
  check(L, fn, err);
}

/* The items of the array at t (matrices or numbers), joined along dim (1:
** stacked downwards, 2: side by side).  A number is a block as long as
** the matrices across the joint and one wide (or tall) along it; items
** name their position as "argument" or "item" says. */
static int join(lua_State *L, int t, int dim, const char *fn,
                const char *item) {
  size_t n = (size_t)lua_rawlen(L, t), across = 0, along = 0;
  int have = 0;
  size_t first = 0;
  for (size_t k = 1; k <= n; k++) {
    lua_rawgeti(L, t, (lua_Integer)k);
    if (lua_type(L, -1) == LUA_TNUMBER) {
      along++;
    } else {
      if (!mpl__matud(L, -1))
        luaL_error(L, "%s: %s %I must be a matrix or a number (got %s)", fn,
                   item, (LUAI_UACINT)k, mpl__typename(L, -1));
      mpl_mat *m = mpl__check_mat(L, lua_gettop(L), fn);
      size_t a = dim == 1 ? m->cols : m->rows;
      if (!have) {
        have = 1, across = a, first = k;
      } else if (a != across) {
        luaL_error(L, "%s: %s %I is %Ix%I, %s %I has %I %s", fn, item,
                   (LUAI_UACINT)k, SHAPE(m), item, (LUAI_UACINT)first,
                   (LUAI_UACINT)across, dim == 1 ? "columns" : "rows");
      }
      if (__builtin_add_overflow(along, dim == 1 ? m->rows : m->cols, &along))
        luaL_error(L, "%s: result too large", fn);
    }
    lua_pop(L, 1);
  }
  if (!have) across = n ? 1 : 0;
  mpl_mat *out = dim == 1 ? mpl__new_mat(L, fn, along, across, 0)
                          : mpl__new_mat(L, fn, across, along, 0);
  size_t at = 0;
  for (size_t k = 1; k <= n; k++) {
    lua_rawgeti(L, t, (lua_Integer)k);
    mpl_mat *m = lua_type(L, -1) == LUA_TNUMBER
                     ? NULL
                     : mpl__check_mat(L, lua_gettop(L), fn);
    if (m) {
      put_block(L, fn, out, dim == 1 ? at : 0, dim == 1 ? 0 : at, m);
      at += dim == 1 ? m->rows : m->cols;
    } else {
      mpl_mat *v;
      int err = dim == 1 ? mpl_mat_sub(&v, out, at, 0, 1, across)
                         : mpl_mat_sub(&v, out, 0, at, across, 1);
      if (!err) err = mpl_mat_fill(v, lua_tonumber(L, -1));
      mpl_mat_release(v);
      check(L, fn, err);
      at++;
    }
    lua_pop(L, 1);
  }
  return 1;
}

/* The arguments as a table at the top. */
static int args_table(lua_State *L) {
  int n = lua_gettop(L);
  lua_createtable(L, n, 0);
  for (int i = 1; i <= n; i++) {
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i);
  }
  return lua_gettop(L);
}

int mpl__l_hcat(lua_State *L) {
  return join(L, args_table(L), 2, "mat.hcat", "argument");
}

int mpl__l_vcat(lua_State *L) {
  return join(L, args_table(L), 1, "mat.vcat", "argument");
}

/* mat.cat(list [, dim]): dim 1 (default, as NumPy's axis 0) stacks
** downwards, 2 side by side. */
int mpl__l_cat(lua_State *L) {
  const char *fn = "mat.cat";
  if (lua_type(L, 1) != LUA_TTABLE)
    return luaL_error(L,
                      "%s: bad argument #1 (table of matrices expected, "
                      "got %s)",
                      fn, mpl__typename(L, 1));
  lua_Integer dim = lua_isnoneornil(L, 2) ? 1 : mpl__check_int(L, 2, fn, "dim");
  if (dim != 1 && dim != 2)
    return luaL_error(L, "%s: dim must be 1 or 2 (got %I)", fn,
                      (LUAI_UACINT)dim);
  return join(L, 1, (int)dim, fn, "item");
}

/* A new 1 x n copy of m in row order, pushed. */
static mpl_mat *flat_copy(lua_State *L, mpl_mat *m, const char *fn) {
  mpl_mat *out = mpl__new_mat(L, fn, 1, m->rows * m->cols, 0), *v;
  int err = mpl_mat_reshape(&v, out, m->rows, m->cols);
  if (!err) err = mpl_mat_assign(v, m);
  mpl_mat_release(v);
  check(L, fn, err);
  return out;
}

int mpl__l_flatten(lua_State *L) {
  flat_copy(L, mpl__check_mat(L, 1, "m:flatten"), "m:flatten");
  return 1;
}

/* m:tile(rr, cc): rr x cc copies of m. */
int mpl__l_tile(lua_State *L) {
  const char *fn = "m:tile";
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  size_t rr = mpl__check_size(L, 2, fn, "row count");
  size_t cc =
      lua_isnoneornil(L, 3) ? 1 : mpl__check_size(L, 3, fn, "column count");
  size_t r, c;
  if (__builtin_mul_overflow(m->rows, rr, &r) ||
      __builtin_mul_overflow(m->cols, cc, &c))
    return luaL_error(L, "%s: result too large", fn);
  mpl_mat *out = mpl__new_mat(L, fn, r, c, 0);
  if (!r || !c) return 1;
  for (size_t i = 0; i < rr; i++)
    for (size_t j = 0; j < cc; j++)
      put_block(L, fn, out, i * m->rows, j * m->cols, m);
  return 1;
}

/* A copy of m (into opts.out when given, which may be m) with the
** elements below (op 1, upper: m:triu) or above the k-th diagonal zeroed: tril
** keeps j - i <= k, triu keeps j - i >= k.  An options table may stand in
** place of k. */
int mpl__l_triangle(lua_State *L) {
  const char *fn;
  int upper = mpl__row_op(L, &fn);
  static const char *const known[] = {"out", NULL};
  mpl_mat *m = mpl__check_mat(L, 1, fn), *out = NULL;
  int opts = lua_type(L, 2) == LUA_TTABLE ? 2 : 3;
  lua_Integer k =
      opts == 2 || lua_isnoneornil(L, 2) ? 0 : mpl__check_int(L, 2, fn, "k");
  if (mpl__check_opts(L, opts, fn, known) &&
      lua_getfield(L, opts, "out") != LUA_TNIL) {
    if (!mpl__matud(L, -1))
      return luaL_error(L, "%s: opts.out must be a matrix (got %s)", fn,
                        mpl__typename(L, -1));
    out = mpl__check_mat(L, lua_gettop(L), fn); /* pushed: the result */
    if (out->rows != m->rows || out->cols != m->cols)
      return luaL_error(L, "%s: out is %Ix%I, the matrix is %Ix%I", fn,
                        SHAPE(out), SHAPE(m));
    check(L, fn, mpl_mat_assign(out, m));
  } else {
    int err = mpl_mat_copy(&out, m);
    mpl__push_result(L, fn, err, out);
  }
  for (size_t i = 0; i < m->rows && m->cols; i++)
    for (size_t j = 0; j < m->cols; j++) {
      lua_Integer d = (lua_Integer)j - (lua_Integer)i;
      if (upper ? d < k : d > k) MPL_AT(out, i, j) = 0;
    }
  return 1;
}

/* mat.full(r, c, v). */
int mpl__l_full(lua_State *L) {
  size_t r = mpl__check_size(L, 1, "mat.full", "rows");
  size_t c = mpl__check_size(L, 2, "mat.full", "cols");
  double v = mpl__check_num(L, 3, "mat.full", "fill value");
  if (mpl_mat_fill(mpl__new_mat(L, "mat.full", r, c, 0), v))
    return luaL_error(L, "mat.full: interrupted");
  return 1;
}

/* The elements of the matrix at idx as a column (col 1) or row: a view of
** a vector, else a copy in row order; pushed. */
static mpl_mat *as_line(lua_State *L, int idx, const char *fn, int col) {
  mpl_mat *m = mpl__check_mat(L, idx, fn), *v;
  if (m->rows != 1 && m->cols != 1) m = flat_copy(L, m, fn);
  int err = (m->cols == 1) == col ? mpl_mat_sub(&v, m, 0, 0, m->rows, m->cols)
                                  : mpl_mat_transpose(&v, m);
  mpl__push_result(L, fn, err, v);
  return v;
}

/* mat.outer(u, v): u's elements times v's, a #u x #v matrix. */
int mpl__l_outer(lua_State *L) {
  const char *fn = "mat.outer";
  mpl_mat *u = as_line(L, 1, fn, 1), *v = as_line(L, 2, fn, 0);
  mpl_mat *out = mpl__new_mat(L, fn, u->rows, v->cols, 0);
  mpl__arg a = {u, 0}, b = {v, 0};
  check(L, fn, mpl__ew_binary(MPL__B_MUL, a, b, out));
  return 1;
}

/* mat.kron(a, b): block (i, j) is a[i][j] * b. */
int mpl__l_kron(lua_State *L) {
  const char *fn = "mat.kron";
  mpl_mat *a = mpl__check_mat(L, 1, fn), *b = mpl__check_mat(L, 2, fn);
  size_t r, c;
  if (__builtin_mul_overflow(a->rows, b->rows, &r) ||
      __builtin_mul_overflow(a->cols, b->cols, &c))
    return luaL_error(L, "%s: result too large", fn);
  mpl_mat *out = mpl__new_mat(L, fn, r, c, 0);
  if (!r || !c) return 1;
  for (size_t i = 0; i < a->rows; i++)
    for (size_t j = 0; j < a->cols; j++) {
      mpl_mat *v;
      int err =
          mpl_mat_sub(&v, out, i * b->rows, j * b->cols, b->rows, b->cols);
      mpl__arg x = {b, 0}, s = {NULL, MPL_AT(a, i, j)};
      if (!err) err = mpl__ew_binary(MPL__B_MUL, x, s, v);
      mpl_mat_release(v);
      check(L, fn, err);
    }
  return 1;
}
