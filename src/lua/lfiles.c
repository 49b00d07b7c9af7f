/*
** lfiles.c: the Lua side of the file formats: mat.load and mat.save.
**
** mat.load owns what the core hands back (the matrix, the header line)
** through a "box" userdata created before the core is called: if pushing
** the results raises a memory error, the box's __gc still releases them.
** Errors name the file and where the problem is:
**   mat.load: 'data.csv', line 3: 2 fields, expected 3 as on line 1
**   mat.load: 'a.npy', byte 8: header length 60000 is more than 10000 ...
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "files.h"
#include "lmat.h"

#define BOX_MT "mat.loadbox"

typedef struct box {
  mpl_mat *m;
  char *header;
} box;

static int box_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, BOX_MT);
  mpl_mat_release(b->m);
  free(b->header);
  b->m = NULL;
  b->header = NULL;
  return 0;
}

/* opts.format: a string or nil. */
static const char *opt_format(lua_State *L, int opts, const char *fn) {
  const char *format = NULL;
  if (lua_getfield(L, opts, "format") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s: opts.format must be a string (got %s)", fn,
                 mpl__typename(L, -1));
    format = lua_tostring(L, -1);
  }
  lua_pop(L, 1); /* the string stays alive in the options table */
  return format;
}

/* opts.sep: one character, not a line break. */
static char opt_sep(lua_State *L, int opts, const char *fn) {
  char sep = 0;
  if (lua_getfield(L, opts, "sep") != LUA_TNIL) {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    if (lua_type(L, -1) != LUA_TSTRING || n != 1 || strchr("\n\r", s[0]))
      luaL_error(L, "%s: opts.sep must be one character", fn);
    sep = s[0];
  }
  lua_pop(L, 1);
  return sep;
}

static int opt_bool(lua_State *L, int opts, const char *key, const char *fn) {
  int t = lua_getfield(L, opts, key), v = lua_toboolean(L, -1);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_error(L, "%s: opts.%s must be a boolean (got %s)", fn, key,
               mpl__typename(L, -1));
  lua_pop(L, 1);
  return v;
}

/* The unknown-format error shared by load and save. */
static void check_format(lua_State *L, const char *fn, const char *path,
                         const char *format) {
  if (mpl__format_of(path, format) >= 0) return;
  if (format) luaL_error(L, "%s: unknown format '%s'", fn, format);
  luaL_error(L, "%s: cannot tell the format of '%s' (use .csv, .tsv, .txt, "
                ".npy or .mtx, or opts.format)", fn, path);
}

/* mat.load(path [, opts]) -> m [, header]: opts.format, opts.sep,
** opts.header (also returns the header line), opts.mmap (.npy). */
static int l_load(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "mat.load: bad argument #1 (path expected, got %s)",
                      mpl__typename(L, 1));
  const char *path = lua_tostring(L, 1);
  const char *format = NULL;
  mpl_load_opts o = {0, 0, 0};
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_istable(L, 2))
      return luaL_error(L, "mat.load: opts must be a table (got %s)",
                        mpl__typename(L, 2));
    format = opt_format(L, 2, "mat.load");
    o.sep = opt_sep(L, 2, "mat.load");
    o.header = opt_bool(L, 2, "header", "mat.load");
    o.mmap = opt_bool(L, 2, "mmap", "mat.load");
  }
  check_format(L, "mat.load", path, format);
  lua_settop(L, 2);
  box *b = lua_newuserdatauv(L, sizeof *b, 0); /* index 3 */
  b->m = NULL;
  b->header = NULL;
  luaL_setmetatable(L, BOX_MT);

  mpl_load_info info;
  int err = mpl_load(&b->m, path, format, &o, &info);
  if (err) { /* nothing was allocated */
    if (info.line)
      return luaL_error(L, "mat.load: '%s', line %I: %s", path,
                        (LUAI_UACINT)info.line, info.msg);
    if (info.offset >= 0)
      return luaL_error(L, "mat.load: '%s', byte %I: %s", path,
                        (LUAI_UACINT)info.offset, info.msg);
    return luaL_error(L, "mat.load: '%s': %s", path, info.msg);
  }
  b->header = info.header;
  mpl_push(L, b->m); /* index 4, with its own reference; the box keeps
                        ours until here, so a memory error cannot leak it */
  mpl_mat_release(b->m);
  b->m = NULL;
  if (!o.header) return 1;
  if (b->header) lua_pushstring(L, b->header);
  else lua_pushnil(L);
  free(b->header);
  b->header = NULL;
  return 2;
}

/* mat.save(path, m [, opts]): opts.format overrides the extension,
** opts.sep is the one-character text separator, opts.header a line
** written before the data of a text file. */
static int l_save(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "mat.save: bad argument #1 (path expected, got %s)",
                      mpl__typename(L, 1));
  const char *path = lua_tostring(L, 1);
  mpl_mat *m = mpl__check_mat(L, 2, "mat.save");
  const char *format = NULL;
  mpl_save_opts o = {0, NULL};
  if (!lua_isnoneornil(L, 3)) {
    if (!lua_istable(L, 3))
      return luaL_error(L, "mat.save: opts must be a table (got %s)",
                        mpl__typename(L, 3));
    format = opt_format(L, 3, "mat.save");
    o.sep = opt_sep(L, 3, "mat.save");
    if (lua_getfield(L, 3, "header") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "mat.save: opts.header must be a string (got %s)",
                          mpl__typename(L, -1));
      o.header = lua_tostring(L, -1);
      if (strpbrk(o.header, "\r\n"))
        return luaL_error(L, "mat.save: opts.header must be a single line");
    }
    lua_pop(L, 1);
  }
  check_format(L, "mat.save", path, format);
  int fmt = mpl__format_of(path, format);
  if (o.header && fmt > MPL__FMT_TXT)
    return luaL_error(L, "mat.save: opts.header is only for text files "
                         "(.csv, .tsv, .txt)");
  int err = mpl_save_ex(path, m, format, &o);
  if (err == MPL_EIO || err == MPL_EINTR || err == MPL_EINVAL ||
      err == MPL_ENOMEM) /* the core said which file and why */
    return luaL_error(L, "mat.save: %s", mpl_errmsg());
  if (err) return luaL_error(L, "mat.save: '%s': %s", path, mpl_strerror(err));
  return 0;
}

void mpl__open_files(lua_State *L, int mod, int mt, int methods) {
  (void)mt;
  (void)methods;
  if (luaL_newmetatable(L, BOX_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  static const luaL_Reg funcs[] = {
      {"load", l_load}, {"save", l_save}, {NULL, NULL}};
  lua_pushvalue(L, mod);
  mpl__setfuncs(L, funcs);
  lua_pop(L, 1);
}
