/*
** lhelp.c: what the Lua part lua/help.lua needs from C: the reference
** pages (docs/lua/\*.md, embedded at build time), the Lua parts compiled
** on first use (lua/lazy/\*.lua), and the registry.  The pages are the
** one source of the reference: `help` shows their entries, so what the
** binary says and what the docs say agree.
*/
#include <string.h>

#include "lmat.h"

/* C.doc_pages() -> {["arith.md"] = text, ...} */
int mpl__l_doc_pages(lua_State *L) {
  lua_newtable(L);
  for (const mpl__lua_chunk *p = mpl__doc_pages; p->name; p++) {
    lua_pushlstring(L, p->code, p->len);
    lua_setfield(L, -2, p->name);
  }
  return 1;
}

/* C.load_lazy(name) -> the compiled chunk lua/lazy/<name>. */
int mpl__l_load_lazy(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  for (const mpl__lua_chunk *c = mpl__lua_lazy; c->name; c++) {
    if (strcmp(c->name + sizeof "=mat/lazy/" - 1, name) != 0) continue;
    if (luaL_loadbufferx(L, c->code, c->len, c->name, "t") != LUA_OK)
      return lua_error(L);
    return 1;
  }
  return luaL_error(L, "mat: no Lua part lazy/%s", name);
}

/* C.registry(): the registry, where the REPL finds lua/help.lua's hooks
** (a host may open mat without the debug library). */
int mpl__l_registry(lua_State *L) {
  lua_pushvalue(L, LUA_REGISTRYINDEX);
  return 1;
}
