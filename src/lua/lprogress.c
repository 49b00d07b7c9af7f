/*
** lprogress.c: the terminal under progress bars, for lua/progress.lua:
** whether stderr is a terminal, and writing to it without the io library
** (a host may open `mat` in a state without it).
*/
#include <stdio.h>
#include <unistd.h>

#include "lmat.h"

/* C.stderr_isatty() -> whether a bar may be drawn by default. */
static int l_stderr_isatty(lua_State *L) {
  lua_pushboolean(L, isatty(2));
  return 1;
}

/* C.stderr_write(s): s on stderr, flushed at once. */
static int l_stderr_write(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  fwrite(s, 1, len, stderr);
  fflush(stderr);
  return 0;
}

static const luaL_Reg private_funcs[] = {{"stderr_isatty", l_stderr_isatty},
                                         {"stderr_write", l_stderr_write},
                                         {NULL, NULL}};

void mpl__open_progress(lua_State *L, int mod, int mt, int methods) {
  (void)mod, (void)mt, (void)methods;
  mpl__setprivate(L, private_funcs);
}
