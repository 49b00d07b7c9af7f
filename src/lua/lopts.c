/*
** lopts.c: options tables.  Every function that takes an options table
** refuses keys it does not know, so a misspelt option is an error instead
** of a silent default; the message lists the keys it knows, sorted.  The
** check is also a private helper of the Lua parts of the module
** (C.check_opts).
*/
#include <stdlib.h>
#include <string.h>

#include "lmat.h"

/* Whether key is one of the NULL-terminated known names. */
static int is_known(const char *key, const char *const known[]) {
  for (const char *const *k = known; *k; k++)
    if (strcmp(key, *k) == 0) return 1;
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Push the known names, sorted, as "a, b, c". */
static void push_known(lua_State *L, const char *const known[]) {
  size_t n = 0;
  while (known[n]) n++;
  const char **sorted = lua_newuserdatauv(L, (n + 1) * sizeof *sorted, 0);
  memcpy(sorted, known, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, by_name);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < n; i++) {
    if (i) luaL_addstring(&b, ", ");
    luaL_addstring(&b, sorted[i]);
  }
  luaL_pushresult(&b);
}

/* Raise "fn: unknown option 'key' (known: a, b)". */
static int unknown(lua_State *L, const char *fn, int keyidx,
                   const char *const known[]) {
  push_known(L, known);
  const char *names = known[0] ? lua_tostring(L, -1) : "none";
  const char *what = lua_type(L, keyidx) == LUA_TSTRING
                         ? lua_pushfstring(L, "'%s'", lua_tostring(L, keyidx))
                         : mpl__got(L, keyidx);
  return luaL_error(L, "%s: unknown option %s (known: %s)", fn, what, names);
}

int mpl__check_opts(lua_State *L, int idx, const char *fn,
                    const char *const known[]) {
  if (lua_isnoneornil(L, idx)) return 0;
  if (!lua_istable(L, idx))
    return luaL_error(L, "%s: opts must be a table (got %s)", fn,
                      mpl__typename(L, idx));
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || !is_known(lua_tostring(L, -1), known))
      unknown(L, fn, lua_gettop(L), known);
  }
  return 1;
}

/* C.check_opts(fn, opts, {"a", "b"}): the same check for the Lua parts. */
int mpl__l_check_opts(lua_State *L) {
  const char *fn = luaL_checkstring(L, 1);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 3);
  if (n > 64) return luaL_error(L, "check_opts: too many names");
  const char *known[65];
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 3, i);
    known[i - 1] = luaL_checkstring(L, -1); /* stays on the stack */
  }
  known[n] = NULL;
  lua_pushboolean(L, mpl__check_opts(L, 2, fn, known));
  return 1;
}

/* C.check_int(v, fn, what) -> v as an integer, else "fn: what must be an
** integer (got x)", as mpl__check_int says it. */
int mpl__l_check_int(lua_State *L) {
  const char *fn = luaL_checkstring(L, 2), *what = luaL_checkstring(L, 3);
  lua_pushinteger(L, mpl__check_int(L, 1, fn, what));
  return 1;
}

/* C.typename(v) -> "matrix", a userdata's __name or Lua's type name. */
int mpl__l_typename(lua_State *L) {
  luaL_checkany(L, 1);
  lua_pushstring(L, mpl__typename(L, 1));
  return 1;
}
