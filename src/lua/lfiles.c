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
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>

#include "files.h"
#include "lmat.h"

/* Loads and saves of at least this many bytes may show a progress bar
** when they run long (smaller ones cannot take two seconds). */
#define BIG_FILE ((size_t)8 << 20)

#define BOX_MT "mat.loadbox"

typedef struct box {
  mpl_mat *m;
  char *header;
} box;

static int box_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, BOX_MT);
  mpl__drop_mat(&b->m);
  free(b->header);
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

#define NAMED_MT "mat.npzbox"

/* The matrices of a .npz load or save, released by __gc if a Lua error
** cuts the call short. */
typedef struct named_box {
  mpl__named *v;
  size_t n;
  int owned; /* load: the names and matrices are ours */
} named_box;

static int named_gc(lua_State *L) {
  named_box *b = luaL_checkudata(L, 1, NAMED_MT);
  if (b->owned)
    mpl__named_free(b->v, b->n);
  else
    free(b->v);
  b->v = NULL;
  b->n = 0;
  return 0;
}

static named_box *new_named_box(lua_State *L, int owned) {
  named_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->v = NULL;
  b->n = 0;
  b->owned = owned;
  luaL_setmetatable(L, NAMED_MT);
  return b;
}

/* A failed load's error: the file, then the line or byte, then why. */
static int load_error(lua_State *L, const char *path,
                      const mpl_load_info *info) {
  if (info->line)
    return luaL_error(L, "mat.load: '%s', line %I: %s", path,
                      (LUAI_UACINT)info->line, info->msg);
  if (info->offset >= 0)
    return luaL_error(L, "mat.load: '%s', byte %I: %s", path,
                      (LUAI_UACINT)info->offset, info->msg);
  return luaL_error(L, "mat.load: '%s': %s", path, info->msg);
}

/* mat.load of a .npz: a table name -> matrix, or with opts.name the
** matrix of that name. */
static int load_npz(lua_State *L, const char *path) {
  const char *name = NULL;
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "name") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "mat.load: opts.name must be a string (got %s)",
                          luaL_typename(L, -1));
      name = lua_tostring(L, -1);
    }
    lua_pop(L, 1);
    if (opt_bool(L, 2, "header", "mat.load") || opt_sep(L, 2, "mat.load"))
      return luaL_error(L, "mat.load: opts.header and opts.sep are only for "
                           "text files (.csv, .tsv, .txt)");
    if (opt_bool(L, 2, "mmap", "mat.load"))
      return luaL_error(L, "mat.load: the mmap option is only for .npy "
                           "files");
  }
  lua_settop(L, 2);
  named_box *b = new_named_box(L, 1); /* index 3 */
  mpl_load_info info;
  if (mpl__load_npz(path, name, &b->v, &b->n, &info) != 0)
    return load_error(L, path, &info);
  if (name) {
    mpl_push(L, b->v[0].m);
  } else {
    lua_createtable(L, 0, (int)b->n);
    for (size_t i = 0; i < b->n; i++) {
      mpl_push(L, b->v[i].m);
      lua_setfield(L, -2, b->v[i].name);
    }
  }
  mpl__named_free(b->v, b->n); /* the pushed matrices hold their own */
  b->v = NULL;
  b->n = 0;
  return 1;
}

/* The unknown-format error shared by load and save. */
static void check_format(lua_State *L, const char *fn, const char *path,
                         const char *format) {
  if (mpl__format_of(path, format) >= 0) return;
  if (format) luaL_error(L, "%s: unknown format '%s'", fn, format);
  luaL_error(L,
             "%s: cannot tell the format of '%s' (use .csv, .tsv, .txt, "
             ".npy, .npz or .mtx, or opts.format)",
             fn, path);
}

/* A list option (a string or a table of them; opts.cols also takes
** integers) as an array in a userdata pushed on the stack; the strings
** stay alive in the options table.  Returns its length. */
static size_t opt_list(lua_State *L, int opts, const char *key, int ints,
                       mpl__text_opts *x) {
  int t = lua_getfield(L, opts, key); /* index top */
  int at = lua_gettop(L);
  size_t n = t == LUA_TSTRING ? 1 : t == LUA_TTABLE ? lua_rawlen(L, at) : 0;
  if (t != LUA_TNIL && t != LUA_TSTRING && t != LUA_TTABLE)
    luaL_error(L, "mat.load: opts.%s must be a %s (got %s)", key,
               ints ? "table of column numbers or names"
                    : "string or a table of strings",
               luaL_typename(L, at));
  const char **names =
      lua_newuserdatauv(L, (n + 1) * (sizeof(char *) + sizeof(size_t)), 0);
  size_t *idx = (size_t *)(names + n + 1);
  for (size_t k = 0; k < n; k++) {
    int et = t == LUA_TSTRING ? (lua_pushvalue(L, at), LUA_TSTRING)
                              : lua_rawgeti(L, at, (lua_Integer)k + 1);
    lua_Integer v = 0;
    if (et == LUA_TSTRING) {
      names[k] = lua_tostring(L, -1);
      idx[k] = 0;
    } else if (ints && lua_isinteger(L, -1) &&
               (v = lua_tointeger(L, -1)) >= 1) {
      names[k] = NULL;
      idx[k] = (size_t)v;
    } else {
      luaL_error(L, "mat.load: opts.%s[%d] must be a %s", key, (int)k + 1,
                 ints ? "column number (from 1) or a header name" : "string");
    }
    lua_pop(L, 1);
  }
  lua_remove(L, at); /* the table keeps the strings alive */
  if (ints) {
    x->names = names;
    x->idx = idx;
    x->ncols = n;
  } else {
    x->na = names;
    x->nna = n;
  }
  return n;
}

/* opts.cols, opts.na, opts.skip into x; their arrays stay on the stack. */
static void opt_text(lua_State *L, int opts, mpl__text_opts *x) {
  memset(x, 0, sizeof *x);
  opt_list(L, opts, "cols", 1, x);
  opt_list(L, opts, "na", 0, x);
  if (lua_getfield(L, opts, "skip") != LUA_TNIL) {
    lua_Integer v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
    if (v < 0)
      luaL_error(L, "mat.load: opts.skip must be a number of lines (>= 0)");
    x->skip = (size_t)v;
  }
  lua_pop(L, 1);
}

#define NAMES_MT "mat.namesbox"

/* The header's fields while they become Lua strings: freed by __gc if a
** memory error cuts that short. */
typedef struct names_box {
  char **v;
  size_t n;
} names_box;

static void names_gc_now(names_box *b) {
  for (size_t k = 0; k < b->n; k++) free(b->v[k]);
  free(b->v);
  b->v = NULL;
  b->n = 0;
}

static int names_gc(lua_State *L) {
  names_gc_now(luaL_checkudata(L, 1, NAMES_MT));
  return 0;
}

/* The header line split into its fields, as a table of strings. */
static void push_names(lua_State *L, const char *line, char sep) {
  names_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->v = NULL;
  b->n = 0;
  luaL_setmetatable(L, NAMES_MT);
  if (mpl__split_fields(line, sep, &b->v, &b->n) != 0)
    luaL_error(L, "mat.load: out of memory");
  lua_createtable(L, (int)b->n, 0);
  for (size_t k = 0; k < b->n; k++) {
    lua_pushstring(L, b->v[k]);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  lua_remove(L, -2); /* the box: collected, or freed at once below */
  names_gc_now(b);
}

/* mat.load(path [, opts]) -> m [, names]: opts.format, opts.sep,
** opts.header (also returns the header's names), opts.cols, opts.na,
** opts.skip (text), opts.mmap (.npy), opts.name (.npz). */
int mpl__l_load(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "mat.load: bad argument #1 (path expected, got %s)",
                      mpl__typename(L, 1));
  const char *path = lua_tostring(L, 1);
  const char *format = NULL;
  mpl_load_opts o = {0, 0, 0};
  mpl__text_opts x;
  memset(&x, 0, sizeof x);
  static const char *const known[] = {"cols", "format", "header",   "mmap",
                                      "na",   "name",   "progress", "sep",
                                      "skip", NULL};
  if (mpl__check_opts(L, 2, "mat.load", known))
    format = opt_format(L, 2, "mat.load");
  check_format(L, "mat.load", path, format);
  if (mpl__format_of(path, format) == MPL__FMT_NPZ) {
    mpl__opt_progress(L, 2, "mat.load"); /* checked; archives show no bar */
    return load_npz(L, path);
  }
  lua_settop(L, 2);
  if (!lua_isnoneornil(L, 2)) {
    o.sep = opt_sep(L, 2, "mat.load");
    o.header = opt_bool(L, 2, "header", "mat.load");
    o.mmap = opt_bool(L, 2, "mmap", "mat.load");
    opt_text(L, 2, &x); /* pushes two arrays: indices 3 and 4 */
  }
  lua_settop(L, 4);
  box *b = lua_newuserdatauv(L, sizeof *b, 0); /* index 5 */
  b->m = NULL;
  b->header = NULL;
  luaL_setmetatable(L, BOX_MT);

  struct stat st;
  size_t size = stat(path, &st) == 0 ? (size_t)st.st_size : 0;
  mpl__bar bar;
  mpl__progress pr;
  mpl__bar_open(L, 2, "mat.load", "mat.load", size, 1000000, "MB",
                size >= BIG_FILE, &bar, &pr);
  mpl_load_info info;
  mpl__io_progress_set(&pr);
  int err = mpl__load_x(&b->m, path, format, &o, &x, &info);
  mpl__io_progress_set(NULL);
  mpl__bar_close(&bar, "mat.load", err, bar.total); /* b->m: the box's */
  if (err) return load_error(L, path, &info);       /* nothing was allocated */
  b->header = info.header;
  mpl_push(L, b->m); /* with its own reference; the box keeps ours until
                        here, so a memory error cannot leak it */
  mpl_mat_release(b->m);
  b->m = NULL;
  if (!o.header) return 1;
  int fmt = mpl__format_of(path, format);
  char sep = o.sep                 ? o.sep
             : fmt == MPL__FMT_CSV ? ','
             : fmt == MPL__FMT_TSV ? '\t'
                                   : 0;
  if (b->header)
    push_names(L, b->header, sep);
  else
    lua_pushnil(L);
  free(b->header);
  b->header = NULL;
  return 2;
}

static int cmp_named(const void *a, const void *b) {
  return strcmp(((const mpl__named *)a)->name, ((const mpl__named *)b)->name);
}

/* mat.save(path, {name = m, ...} [, {compress = true}]) for a .npz: the
** matrices stay alive in the table (index 2) while they are written. */
static int save_npz(lua_State *L, const char *path) {
  int compress = 0;
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) {
    compress = opt_bool(L, 3, "compress", "mat.save");
    if (lua_getfield(L, 3, "header") != LUA_TNIL || opt_sep(L, 3, "mat.save"))
      return luaL_error(L, "mat.save: opts.header and opts.sep are only for "
                           "text files (.csv, .tsv, .txt)");
    lua_pop(L, 1);
  }
  lua_settop(L, 3);
  named_box *b = new_named_box(L, 0); /* index 4 */
  size_t cap = 0;
  for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      return luaL_error(L,
                        "mat.save: a .npz archive's keys must be names "
                        "(got a %s key)",
                        luaL_typename(L, -2));
    mpl_mat *m = mpl__check_mat(L, -1, "mat.save");
    if (b->n == cap) {
      cap = cap ? 2 * cap : 8;
      mpl__named *nv = realloc(b->v, cap * sizeof *nv);
      if (!nv) return luaL_error(L, "mat.save: out of memory");
      b->v = nv;
    }
    b->v[b->n].name = (char *)lua_tostring(L, -2); /* alive in the table */
    b->v[b->n++].m = m;
  }
  if (b->n) qsort(b->v, b->n, sizeof *b->v, cmp_named);
  int err = mpl__save_npz(path, b->v, b->n, compress);
  if (err == MPL_EIO || err == MPL_EINTR || err == MPL_EINVAL ||
      err == MPL_ENOMEM)
    return luaL_error(L, "mat.save: %s", mpl_errmsg());
  if (err) return luaL_error(L, "mat.save: '%s': %s", path, mpl_strerror(err));
  return 0;
}

/* mat.save(path, m [, opts]): opts.format overrides the extension,
** opts.sep is the one-character text separator, opts.header a line
** written before the data of a text file. */
int mpl__l_save(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "mat.save: bad argument #1 (path expected, got %s)",
                      mpl__typename(L, 1));
  const char *path = lua_tostring(L, 1);
  /* the matrix is taken (pinned) before opts' metamethods can run */
  mpl_mat *m = lua_istable(L, 2) ? NULL : mpl__check_mat(L, 2, "mat.save");
  static const char *const known[] = {"compress", "format", "header",
                                      "progress", "sep",    NULL};
  mpl__check_opts(L, 3, "mat.save", known);
  if (lua_istable(L, 3)) {
    int compress = lua_getfield(L, 3, "compress") != LUA_TNIL;
    lua_pop(L, 1);
    if (compress &&
        mpl__format_of(path, opt_format(L, 3, "mat.save")) != MPL__FMT_NPZ)
      return luaL_error(L, "mat.save: opts.compress is only for .npz files");
  }
  if (mpl__format_of(path, lua_istable(L, 3) ? opt_format(L, 3, "mat.save")
                                             : NULL) == MPL__FMT_NPZ) {
    mpl__opt_progress(L, 3, "mat.save"); /* checked; archives show no bar */
    return save_npz(L, path);
  }
  if (!m) m = mpl__check_mat(L, 2, "mat.save");
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
  mpl__bar bar;
  mpl__progress pr;
  mpl__bar_open(L, 3, "mat.save", "mat.save", m->rows, 1, "rows",
                (double)m->rows * (double)m->cols * 8 >= BIG_FILE, &bar, &pr);
  mpl__io_progress_set(&pr);
  int err = mpl_save_ex(path, m, format, &o);
  mpl__io_progress_set(NULL);
  mpl__bar_close(&bar, "mat.save", err, m->rows);
  if (err == MPL_EIO || err == MPL_EINTR || err == MPL_EINVAL ||
      err == MPL_ENOMEM) /* the core said which file and why */
    return luaL_error(L, "mat.save: %s", mpl_errmsg());
  if (err) return luaL_error(L, "mat.save: '%s': %s", path, mpl_strerror(err));
  return 0;
}

/* The metatables of the boxes that release a load's or save's C resources
** when a Lua error cuts it short. */
void mpl__open_files(lua_State *L) {
  if (luaL_newmetatable(L, BOX_MT)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, NAMES_MT)) {
    lua_pushcfunction(L, names_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, NAMED_MT)) {
    lua_pushcfunction(L, named_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
