/*
** lhistogram.c: mat.histogram (histogram.c counts).
*/
#include <math.h>

#include <lauxlib.h>
#include <lua.h>

#include "lmat.h"
#include "picture.h"

/* opts.range as lo, hi: two finite numbers, lo <= hi; 0 when absent. */
static int get_range(lua_State *L, int opts, const char *fn, double *lo,
                     double *hi) {
  if (!opts || lua_getfield(L, opts, "range") == LUA_TNIL) return 0;
  int ok = lua_istable(L, -1) && luaL_len(L, -1) == 2;
  for (int i = 1; ok && i <= 2; i++) {
    ok = lua_geti(L, -1, i) == LUA_TNUMBER;
    *(i == 1 ? lo : hi) = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  if (!ok)
    return luaL_error(L, "%s: opts.range must be {lo, hi} (two numbers)", fn);
  if (!isfinite(*lo) || !isfinite(*hi))
    return luaL_error(L, "%s: opts.range must be finite (got {%f, %f})", fn,
                      *lo, *hi);
  if (*lo > *hi)
    return luaL_error(L, "%s: opts.range must have lo <= hi (got {%f, %f})", fn,
                      *lo, *hi);
  return 1;
}

/* mat.histogram(m [, bins] [, opts]) -> counts, edges. */
int mpl__l_histogram(lua_State *L) {
  static const char *const known[] = {"range", NULL};
  const char *fn = "mat.histogram";
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  lua_Integer bins = 10;
  int oi = 3;
  if (lua_istable(L, 2))
    oi = 2;
  else if (!lua_isnoneornil(L, 2)) {
    bins = mpl__check_int(L, 2, fn, "bins");
    if (bins < 1 || bins > ((lua_Integer)1 << 40))
      return luaL_error(L, "%s: bins must be a positive integer (got %I)", fn,
                        (LUAI_UACINT)bins);
  }
  int opts = mpl__check_opts(L, oi, fn, known) ? oi : 0;
  if (oi == 2 && !lua_isnoneornil(L, 3))
    return luaL_error(L, "%s: bad argument #3 (nothing expected after opts)",
                      fn);
  double lo = 0, hi = 1;
  int ranged = get_range(L, opts, fn, &lo, &hi);
  mpl_mat *c = mpl__new_mat(L, fn, 1, (size_t)bins, 0);
  mpl_mat *e = mpl__new_mat(L, fn, 1, (size_t)bins + 1, 0);
  int err = mpl__histogram(m, ranged ? &lo : NULL, ranged ? &hi : NULL, c, e);
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  return 2;
}
