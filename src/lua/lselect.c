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
  mpl__arg args[3];
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

/* l_<name>: op over n operands at 1..n, opts at n + 1. */
#define FIXED(name, fn, OP, n)                                                 \
  static int l_##name(lua_State *L) {                                          \
    return run_op(L, OP, n, fn, 0, 0, n + 1);                                  \
  }
FIXED(lt, "m:lt", MPL__S_LT, 2)
FIXED(le, "m:le", MPL__S_LE, 2)
FIXED(gt, "m:gt", MPL__S_GT, 2)
FIXED(ge, "m:ge", MPL__S_GE, 2)
FIXED(eq, "m:eq", MPL__S_EQ, 2)
FIXED(ne, "m:ne", MPL__S_NE, 2)
FIXED(maximum, "mat.maximum", MPL__S_MAX, 2)
FIXED(minimum, "mat.minimum", MPL__S_MIN, 2)
FIXED(where, "mat.where", MPL__S_WHERE, 3)
FIXED(isnan, "mat.isnan", MPL__S_ISNAN, 1)
FIXED(isinf, "mat.isinf", MPL__S_ISINF, 1)
FIXED(isfinite, "mat.isfinite", MPL__S_ISFINITE, 1)

/* m:clip(lo, hi [, opts]): either bound may be nil (none on that side). */
static int l_clip(lua_State *L) {
  const char *fn = "m:clip";
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
    return luaL_error(L, "%s: give lo, hi or both", fn);
  double lo =
      lua_isnoneornil(L, 2) ? -HUGE_VAL : mpl__check_num(L, 2, fn, "lo");
  double hi = lua_isnoneornil(L, 3) ? HUGE_VAL : mpl__check_num(L, 3, fn, "hi");
  return run_op(L, MPL__S_CLIP, 1, fn, lo, hi, 4);
}

/* kind 0: count, 1: any, 2: all.  Without dim a number (count) or a
** boolean; with dim a 1 x c or r x 1 matrix of counts or 0/1. */
static int counting(lua_State *L, const char *fn, int kind) {
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  int dim = mpl__check_dim(L, 2, fn);
  size_t len = dim == 1 ? m->rows : dim == 2 ? m->cols : m->rows * m->cols;
  if (!dim) {
    size_t k;
    int err = mpl__count_nz(m, &k);
    if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
    if (kind == 0)
      lua_pushinteger(L, (lua_Integer)k);
    else
      lua_pushboolean(L, kind == 1 ? k > 0 : k == len);
    return 1;
  }
  mpl_mat *out = mpl__dim_result(L, m, dim, fn);
  int err = mpl__count_nz_dim(m, dim, out);
  if (!err && kind) {
    mpl__arg args[2] = {{out, 0}, {NULL, kind == 1 ? 0 : (double)len}};
    err = mpl__select(kind == 1 ? MPL__S_GT : MPL__S_EQ, args, 0, 0, out);
  }
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  return 1;
}

static int l_count(lua_State *L) { return counting(L, "m:count", 0); }
static int l_any(lua_State *L) { return counting(L, "m:any", 1); }
static int l_all(lua_State *L) { return counting(L, "m:all", 2); }

/* Both mat.f(m, ...) and m:f(...). */
static const luaL_Reg both[] = {
    {"lt", l_lt},       {"le", l_le},       {"gt", l_gt},
    {"ge", l_ge},       {"eq", l_eq},       {"ne", l_ne},
    {"isnan", l_isnan}, {"isinf", l_isinf}, {"isfinite", l_isfinite},
    {"clip", l_clip},   {"any", l_any},     {"all", l_all},
    {"count", l_count}, {NULL, NULL}};

static const luaL_Reg mod_only[] = {{"where", l_where},
                                    {"maximum", l_maximum},
                                    {"minimum", l_minimum},
                                    {NULL, NULL}};

void mpl__open_select(lua_State *L, int mod, int mt, int meth) {
  (void)mt;
  mpl__register(L, mod, meth, both, mod_only);
}
