/*
** lembed.c: the Lua side of the C API for hosts that embed the engine:
** a ready state with `mat` in it, and checked access to a matrix argument.
** (mpl_push and mpl_tomat live with the userdata they make, in lmat.c.)
*/
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lmat.h"

/* Run under lua_pcall so that a failure while opening (out of memory)
** becomes a status instead of a panic. */
static int open_all(lua_State *L) {
  luaL_openlibs(L);
  luaL_requiref(L, "mat", luaopen_mat, 1);
  return 0;
}

int mpl_lua_newstate(lua_State **out) {
  if (!out) return MPL_EINVAL;
  *out = NULL;
  lua_State *L = luaL_newstate();
  if (!L) return MPL_ENOMEM;
  lua_pushcfunction(L, open_all); /* a light function: allocates nothing */
  int status = lua_pcall(L, 0, 0, 0);
  if (status != LUA_OK) {
    lua_close(L);
    /* anything but memory would be a broken build of the module */
    return status == LUA_ERRMEM ? MPL_ENOMEM : MPL_EINVAL;
  }
  *out = L;
  return 0;
}

/* Tell "not a matrix" (a type error naming the argument, as luaL_check*
** functions do) from "a closed matrix" (the module's usual message). */
mpl_mat *mpl_checkmat(lua_State *L, int idx) {
  if (!mpl__matud(L, idx)) luaL_typeerror(L, idx, "matrix");
  mpl_mat *m = mpl_tomat(L, idx);
  if (!m) luaL_error(L, "attempt to use a closed matrix");
  return m;
}
