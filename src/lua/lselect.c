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

#define BINARY(name, OP)                                                       \
  static int l_##name(lua_State *L) {                                          \
    return run_op(L, OP, 2, "m:" #name, 0, 0, 3);                              \
  }
BINARY(lt, MPL__S_LT)
BINARY(le, MPL__S_LE)
BINARY(gt, MPL__S_GT)
BINARY(ge, MPL__S_GE)
BINARY(eq, MPL__S_EQ)
BINARY(ne, MPL__S_NE)

static int l_maximum(lua_State *L) {
  return run_op(L, MPL__S_MAX, 2, "mat.maximum", 0, 0, 3);
}
static int l_minimum(lua_State *L) {
  return run_op(L, MPL__S_MIN, 2, "mat.minimum", 0, 0, 3);
}
static int l_where(lua_State *L) {
  return run_op(L, MPL__S_WHERE, 3, "mat.where", 0, 0, 4);
}

#define TEST(name, OP)                                                         \
  static int l_##name(lua_State *L) {                                          \
    return run_op(L, OP, 1, "mat." #name, 0, 0, 2);                            \
  }
TEST(isnan, MPL__S_ISNAN)
TEST(isinf, MPL__S_ISINF)
TEST(isfinite, MPL__S_ISFINITE)

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

/* The optional dim at idx: 0 (none), 1 or 2. */
static int dim_arg(lua_State *L, int idx, const char *fn) {
  if (lua_isnoneornil(L, idx)) return 0;
  lua_Integer d = mpl__check_int(L, idx, fn, "dim");
  if (d != 1 && d != 2)
    luaL_error(L, "%s: dim must be 1 or 2 (got %I)", fn, (LUAI_UACINT)d);
  return (int)d;
}

/* kind 0: count, 1: any, 2: all.  Without dim a number (count) or a
** boolean; with dim a 1 x c or r x 1 matrix of counts or 0/1. */
static int counting(lua_State *L, const char *fn, int kind) {
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  int dim = dim_arg(L, 2, fn);
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
  mpl_mat *out = dim == 1 ? mpl__new_mat(L, fn, 1, m->cols, 0)
                          : mpl__new_mat(L, fn, m->rows, 1, 0);
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
