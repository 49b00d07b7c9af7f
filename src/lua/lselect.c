/*
** lselect.c: the Lua side of comparison and selection -- a:lt(b) and the
** other comparisons, mat.isnan/isinf/isfinite, mat.where,
** mat.maximum/minimum, m:clip, m:any/all/count.  The work is select.c's.
**
** Every function whose result has the (broadcast) shape of its inputs
** takes opts.out; options tables are checked (only `out` is known).
*/
#include <math.h>

#include "arith.h"
#include "lmat.h"
#include "select.h"

#define SHAPE(m) (LUAI_UACINT)(m)->rows, (LUAI_UACINT)(m)->cols

static size_t rows_of(mpl__arg a) { return a.m ? a.m->rows : 1; }
static size_t cols_of(mpl__arg a) { return a.m ? a.m->cols : 1; }

/* op over the n operands at 1..n into opts.out (at n + 1) or a new matrix;
** numbers alone give a number. */
static int run_op(lua_State *L, int op, int n, const char *fn, double lo,
                  double hi, int opts) {
  mpl__arg args[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
  for (int i = 0; i < n; i++) args[i] = mpl__operand(L, i + 1, fn);
  size_t r, c;
  if (mpl__bcast_n(args, n, &r, &c)) {
    lua_pushfstring(L, "%s: shape mismatch: %Ix%I", fn,
                    (LUAI_UACINT)rows_of(args[0]),
                    (LUAI_UACINT)cols_of(args[0]));
    for (int i = 1; i < n; i++)
      lua_pushfstring(L, "%s %Ix%I", i == n - 1 ? " and" : ",",
                      (LUAI_UACINT)rows_of(args[i]),
                      (LUAI_UACINT)cols_of(args[i]));
    lua_concat(L, n);
    return luaL_error(L, "%s", lua_tostring(L, -1));
  }
  mpl_mat *out = mpl__opt_out(L, opts, fn);
  int any = 0;
  for (int i = 0; i < n; i++) any |= args[i].m != NULL;
  if (!any && !out) {
    mpl_mat *one = mpl__new_mat(L, fn, 1, 1, 0);
    int err = mpl__select(op, args, lo, hi, one);
    if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
    lua_pushnumber(L, one->data[0]);
    return 1;
  }
  if (out && (out->rows != r || out->cols != c))
    return luaL_error(L, "%s: out is %Ix%I, the result is %Ix%I", fn,
                      SHAPE(out), (LUAI_UACINT)r, (LUAI_UACINT)c);
  if (!out) out = mpl__new_mat(L, fn, r, c, 0);
  int err = mpl__select(op, args, lo, hi, out);
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  return 1;
}

/* The comparisons, mat.where, mat.maximum/minimum and the tests of one
** operand: the op (lfuncs.h's row) over its operands at 1..n, opts at
** n + 1. */
int mpl__l_select(lua_State *L) {
  const char *fn;
  int op = mpl__row_op(L, &fn), n = mpl__select_arity(op);
  return run_op(L, op, n, fn, 0, 0, n + 1);
}

/* m:clip(lo, hi [, opts]): either bound may be nil (none on that side). */
int mpl__l_clip(lua_State *L) {
  const char *fn = "m:clip";
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
    return luaL_error(L, "%s: give lo, hi or both", fn);
  double lo =
      lua_isnoneornil(L, 2) ? -HUGE_VAL : mpl__check_num(L, 2, fn, "lo");
  double hi = lua_isnoneornil(L, 3) ? HUGE_VAL : mpl__check_num(L, 3, fn, "hi");
  return run_op(L, MPL__S_CLIP, 1, fn, lo, hi, 4);
}

/* m:count([dim]) (op 0), m:any (1), m:all (2).  Without dim a number (count) or
 *a
 ** boolean; with dim a 1 x c or r x 1 matrix of counts or 0/1. */
int mpl__l_count(lua_State *L) {
  mpl__reduction a = mpl__reduction_args(L);
  if (!a.dim) {
    size_t k;
    int err = mpl__count_nz(a.m, &k);
    if (err) return luaL_error(L, "%s: %s", a.fn, mpl_strerror(err));
    if (a.op == 0)
      lua_pushinteger(L, (lua_Integer)k);
    else
      lua_pushboolean(L, a.op == 1 ? k > 0 : k == a.len);
    return 1;
  }
  mpl_mat *out = mpl__dim_result(L, a.m, a.dim, a.fn);
  int err = mpl__count_nz_dim(a.m, a.dim, out);
  if (!err && a.op) {
    mpl__arg args[2] = {{out, 0}, {NULL, a.op == 1 ? 0 : (double)a.len}};
    err = mpl__select(a.op == 1 ? MPL__S_GT : MPL__S_EQ, args, 0, 0, out);
  }
  if (err) return luaL_error(L, "%s: %s", a.fn, mpl_strerror(err));
  return 1;
}
