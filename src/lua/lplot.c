/*
** lplot.c: the C helpers of lua/plot.lua (the private table C): finite
** ranges, matrices reduced to a picture's resolution, braille dots,
** the terminal's size, and gnuplot (picture.c, gnuplot.c do the work).
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "gnuplot.h"
#include "lmat.h"
#include "picture.h"

/* C.finite_range(m [, positive]) -> lo, hi (nothing when m has no finite
** element, or no positive one). */
int mpl__l_finite_range(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "finite_range");
  double lo, hi;
  size_t n;
  int err = mpl__finite_range(m, lua_toboolean(L, 2), &lo, &hi, &n);
  if (err) return luaL_error(L, "%s", mpl_strerror(err));
  if (!n) return 0;
  lua_pushnumber(L, lo);
  lua_pushnumber(L, hi);
  return 2;
}

/* C.block_mean(m, r, c) -> an r x c matrix of block means (plot.lua
** passes r, c no larger than m's), and m's finite range (as finite_range). */
int mpl__l_block_mean(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "block_mean");
  size_t r = mpl__check_size(L, 2, "block_mean", "r");
  size_t c = mpl__check_size(L, 3, "block_mean", "c");
  mpl_mat *out = mpl__new_mat(L, "block_mean", r, c, 0);
  mpl__range rg;
  int err = mpl__block_mean(m, out, &rg);
  if (err) return luaL_error(L, "%s", mpl_strerror(err));
  if (!rg.count) return 1;
  lua_pushnumber(L, rg.lo);
  lua_pushnumber(L, rg.hi);
  return 3;
}

/* C.braille(x or nil, y, w, h, x0, x1, y0, y1, points, logy) -> a string
** of w*h bytes, each cell's dots (row by row from the top). */
int mpl__l_braille(lua_State *L) {
  const char *fn = "braille";
  mpl_mat *x = lua_isnil(L, 1) ? NULL : mpl__check_mat(L, 1, fn);
  mpl_mat *y = mpl__check_mat(L, 2, fn);
  mpl__canvas cv = {mpl__check_size(L, 3, fn, "w"),
                    mpl__check_size(L, 4, fn, "h"),
                    luaL_checknumber(L, 5),
                    luaL_checknumber(L, 6),
                    luaL_checknumber(L, 7),
                    luaL_checknumber(L, 8),
                    lua_toboolean(L, 9),
                    lua_toboolean(L, 10)};
  if (!cv.w || !cv.h || cv.w > 4096 || cv.h > 4096)
    return luaL_error(L, "braille: bad canvas size");
  unsigned char *cells = lua_newuserdatauv(L, cv.w * cv.h, 0);
  memset(cells, 0, cv.w * cv.h);
  int err = mpl__braille(&cv, x, y, cells);
  if (err) return luaL_error(L, "%s", mpl_strerror(err));
  lua_pushlstring(L, (const char *)cells, cv.w * cv.h);
  return 1;
}

/* C.term_size() -> columns, rows of the terminal on stdout (nothing when
** stdout is not a terminal). */
int mpl__l_term_size(lua_State *L) {
  struct winsize ws;
  if (!isatty(STDOUT_FILENO)) return 0;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || !ws.ws_col || !ws.ws_row)
    ws.ws_col = 80, ws.ws_row = 24;
  lua_pushinteger(L, ws.ws_col);
  lua_pushinteger(L, ws.ws_row);
  return 2;
}

/* The parts of C.gnuplot's table (strings, matrices, {a, b} pairs) as
** mpl__gp_part, their matrices pinned on the stack. */
static mpl__gp_part *get_parts(lua_State *L, int t, size_t *n) {
  *n = (size_t)luaL_len(L, t);
  mpl__gp_part *p = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *p, 0);
  memset(p, 0, (*n ? *n : 1) * sizeof *p);
  for (size_t i = 0; i < *n; i++) {
    luaL_checkstack(L, 3, "gnuplot");
    int k = lua_geti(L, t, (lua_Integer)i + 1);
    if (k == LUA_TSTRING) {
      p[i].text = lua_tolstring(L, -1, &p[i].len);
    } else if (k == LUA_TTABLE) {
      int pair = lua_gettop(L);
      lua_geti(L, pair, 1);
      lua_geti(L, pair, 2);
      p[i].a = mpl__check_mat(L, -2, "gnuplot");
      p[i].b = mpl__check_mat(L, -1, "gnuplot");
    } else {
      p[i].a = mpl__check_mat(L, -1, "gnuplot");
    }
  }
  return p;
}

/* C.gnuplot(path, parts) -> true, or false, message, notfound. */
int mpl__l_gnuplot(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  size_t n;
  mpl__gp_part *parts = get_parts(L, 2, &n);
  char *msg = lua_newuserdatauv(L, 4096, 0);
  int notfound;
  int err = mpl__gnuplot(path, parts, n, msg, 4096, &notfound);
  if (!err) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushboolean(L, 0);
  if (err == MPL_EIO)
    lua_pushstring(L, msg);
  else if (err == MPL_ESYS)
    lua_pushfstring(L, "cannot run gnuplot: %s", strerror(errno));
  else
    lua_pushstring(L, mpl_strerror(err));
  lua_pushboolean(L, notfound);
  return 3;
}
