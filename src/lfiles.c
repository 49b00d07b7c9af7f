/*
** lfiles.c: the Lua side of the file formats (mat.save).
*/
#include <errno.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "files.h"
#include "lmat.h"

/* mat.save(path, m [, opts]): opts.format overrides the extension,
** opts.sep is the one-character text separator. */
static int l_save(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  mpl_mat *m = mpl__check_mat(L, 2, "mat.save");
  const char *format = NULL;
  char sep = 0;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    if (lua_getfield(L, 3, "format") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "mat.save: opts.format must be a string (got %s)",
                          luaL_typename(L, -1));
      format = lua_tostring(L, -1);
    }
    if (lua_getfield(L, 3, "sep") != LUA_TNIL) {
      size_t n;
      const char *s = lua_tolstring(L, -1, &n);
      if (lua_type(L, -1) != LUA_TSTRING || n != 1 || strchr("\n\r", s[0]))
        return luaL_error(L, "mat.save: opts.sep must be one character");
      sep = s[0];
    }
  }
  if (mpl__format_of(path, format) < 0) {
    if (format)
      return luaL_error(L, "mat.save: unknown format '%s'", format);
    return luaL_error(L, "mat.save: cannot tell the format of '%s' (use .csv, "
                         ".tsv, .txt, .npy or .mtx, or opts.format)", path);
  }
  int err = mpl_save(path, m, format, sep);
  if (err == MPL_EIO)
    return luaL_error(L, "mat.save: cannot write '%s': %s", path,
                      strerror(errno));
  if (err) return luaL_error(L, "mat.save: '%s': %s", path, mpl_strerror(err));
  return 0;
}

void mpl__open_files(lua_State *L, int mod, int mt, int methods) {
  (void)mt;
  (void)methods;
  lua_pushcfunction(L, l_save);
  lua_setfield(L, mod, "save");
}
