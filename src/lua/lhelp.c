/*
** lhelp.c: what the Lua part lua/help.lua needs from C: the reference
** pages (docs/lua/\*.md, embedded at build time) and the registry.  The pages
*are the one
** source of the reference: `help` shows their entries, so what the binary
** says and what the docs say agree.
*/
#include "lmat.h"

/* C.doc_pages() -> {["arith.md"] = text, ...} */
static int l_doc_pages(lua_State *L) {
  lua_newtable(L);
  for (const mpl__lua_chunk *p = mpl__doc_pages; p->name; p++) {
    lua_pushlstring(L, p->code, p->len);
    lua_setfield(L, -2, p->name);
  }
  return 1;
}

/* C.registry(): the registry, where the REPL finds lua/help.lua's hooks
** (a host may open mat without the debug library). */
static int l_registry(lua_State *L) {
  lua_pushvalue(L, LUA_REGISTRYINDEX);
  return 1;
}

static const luaL_Reg private_funcs[] = {
    {"doc_pages", l_doc_pages}, {"registry", l_registry}, {NULL, NULL}};

void mpl__open_help(lua_State *L, int mod, int mt, int methods) {
  (void)mod;
  (void)mt;
  (void)methods;
  mpl__setprivate(L, private_funcs);
}
