/*
** lragged.c: mat.ragged, arrays of different lengths in one shared buffer.
**
** A ragged is a userdata "mat.ragged" holding one 1 x total matrix (all
** items back to back, in the shared arena or on whatever storage the
** caller's values matrix has) and the n + 1 offsets of its items, stored
** inside the userdata itself so that nothing but the matrix needs
** releasing.  R[i] is a 1 x len view of that matrix: one handle, no copy
** and no per-element Lua work, so it is cheap enough for the inner loop of
** a Monte Carlo item.  Forked mat.map workers see the matrix at the same
** address and read it without copying.
**
** mat.ragged itself is Lua (lua/ragged.lua: its two forms and what it
** says about a bad item); the helpers here measure the items, make the
** ragged and copy the numbers in, with no Lua per item or element.
**
** As with matrices, the userdata is created closed with its metatable set
** before the storage is acquired, so a raised error never leaks it; __gc
** and __close are one function, safe to run twice.
*/
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include "lmat.h"

#define RAGGED_MT "mat.ragged"

typedef struct lragged {
  mpl_mat *all; /* 1 x total; NULL when closed */
  size_t n;     /* items */
  size_t off[]; /* n + 1 offsets into all */
} lragged;

/* A closed ragged with room for n items, on the stack. */
static lragged *push_ragged(lua_State *L, size_t n) {
  if (n > (((size_t)1 << 60) / sizeof(size_t)))
    luaL_error(L, "mat.ragged: too many items (%I)", (LUAI_UACINT)n);
  lragged *r = lua_newuserdatauv(L, sizeof *r + (n + 1) * sizeof(size_t), 0);
  r->all = NULL;
  r->n = n;
  r->off[0] = 0;
  luaL_setmetatable(L, RAGGED_MT);
  return r;
}

static lragged *check_ragged(lua_State *L, int idx, const char *fn) {
  lragged *r = luaL_testudata(L, idx, RAGGED_MT);
  if (!r)
    luaL_error(L, "%s: bad argument #%d (mat.ragged expected, got %s)", fn, idx,
               mpl__typename(L, idx));
  if (!r->all) luaL_error(L, "attempt to use a closed ragged");
  return r;
}

/* C.ragged_wrap(values, lengths), for mat.ragged(values, lengths): items
** are consecutive runs of a contiguous matrix; no copy, the ragged shares
** values' storage. */
int mpl__l_ragged_wrap(lua_State *L) {
  mpl_mat *v = mpl__check_mat(L, 1, "mat.ragged");
  if (!mpl_mat_is_contiguous(v))
    return luaL_error(L, "mat.ragged: values must be a contiguous matrix "
                         "(use values:copy())");
  mpl_mat *lm = mpl__test_mat(L, 2); /* pinned: push_ragged may collect */
  size_t n;
  if (lua_type(L, 2) == LUA_TTABLE) {
    n = (size_t)lua_rawlen(L, 2);
  } else if (lm && (lm->rows == 1 || lm->cols == 1)) {
    n = lm->rows * lm->cols;
  } else {
    if (mpl__matud(L, 2) && !lm)
      return luaL_error(L, "attempt to use a closed matrix");
    return luaL_error(L,
                      "mat.ragged: bad argument #2 (table or vector of "
                      "lengths expected, got %s)",
                      mpl__typename(L, 2));
  }
  lragged *r = push_ragged(L, n);
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (lm)
      lua_pushnumber(L, lm->rows == 1 ? MPL_AT(lm, 0, i) : MPL_AT(lm, i, 0));
    else
      lua_rawgeti(L, 2, (lua_Integer)i + 1);
    lua_Integer len = 0;
    if (!mpl__to_int(L, -1, &len) || len < 0)
      return luaL_error(L,
                        "mat.ragged: length %I must be a non-negative "
                        "integer (got %s)",
                        (LUAI_UACINT)(i + 1), mpl__got(L, -1));
    lua_pop(L, 1);
    if (__builtin_add_overflow(total, (size_t)len, &total))
      return luaL_error(L, "mat.ragged: lengths are too large");
    r->off[i + 1] = total;
  }
  size_t have = v->rows * v->cols;
  if (total != have)
    return luaL_error(L,
                      "mat.ragged: lengths add up to %I, values has %I "
                      "numbers",
                      (LUAI_UACINT)total, (LUAI_UACINT)have);
  int err = mpl_mat_reshape(&r->all, v, 1, total);
  if (err) return luaL_error(L, "mat.ragged: %s", mpl_strerror(err));
  return 1;
}

/* What is wrong with an item, for ragged.lua to say: pushes nil, the
** item's number and the fault ("type"; "shape", rows, cols; "element", its
** number) and returns the count of values pushed. */
static int bad_item(lua_State *L, size_t i, const char *what, size_t a,
                    size_t b) {
  lua_pushnil(L);
  lua_pushinteger(L, (lua_Integer)i);
  lua_pushstring(L, what);
  lua_pushinteger(L, (lua_Integer)a);
  lua_pushinteger(L, (lua_Integer)b);
  return 5;
}

/* The element count of the item at the top of the stack (a table of
** numbers or a vector); SIZE_MAX for anything else, with *m the matrix
** when it is one. */
static size_t item_length(lua_State *L, mpl_mat **m) {
  *m = NULL;
  if (lua_type(L, -1) == LUA_TTABLE) return (size_t)lua_rawlen(L, -1);
  if (!mpl__matud(L, -1)) return SIZE_MAX;
  *m = mpl__test_mat(L, -1); /* a closed matrix raises */
  return (*m)->rows == 1 || (*m)->cols == 1 ? (*m)->rows * (*m)->cols
                                            : SIZE_MAX;
}

/* Copy item i (at the top of the stack) to d; 0, or the 1-based number of
** an element that is not a number. */
static size_t item_copy(lua_State *L, double *d, size_t len) {
  mpl_mat *m = mpl__test_mat(L, -1);
  if (m) {
    ptrdiff_t st = m->rows == 1 ? m->cs : m->rs;
    for (size_t j = 0; j < len; j++) d[j] = m->data[(ptrdiff_t)j * st];
    return 0;
  }
  for (size_t j = 0; j < len; j++) {
    if (lua_rawgeti(L, -1, (lua_Integer)j + 1) != LUA_TNUMBER) return j + 1;
    d[j] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  return 0;
}

/* C.ragged_pack(t) -> a new ragged holding the items of t (tables of
** numbers or vectors) copied in, or nil and what is wrong with the first
** bad item (bad_item): every item is measured before any is copied. */
int mpl__l_ragged_pack(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  size_t n = (size_t)lua_rawlen(L, 1);
  lragged *r = push_ragged(L, n);
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    mpl_mat *m;
    size_t len = item_length(L, &m);
    if (len == SIZE_MAX)
      return m ? bad_item(L, i + 1, "shape", m->rows, m->cols)
               : bad_item(L, i + 1, "type", 0, 0);
    lua_pop(L, 1);
    if (__builtin_add_overflow(total, len, &total))
      return luaL_error(L, "mat.ragged: items are too large");
    r->off[i + 1] = total;
  }
  int err = mpl__mat_alloc(&r->all, 1, total);
  if (err == MPL_ENOMEM)
    return luaL_error(L, "mat.ragged: not enough memory for %I numbers",
                      (LUAI_UACINT)total);
  if (err) return luaL_error(L, "mat.ragged: %s", mpl_strerror(err));
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    size_t j =
        item_copy(L, r->all->data + r->off[i], r->off[i + 1] - r->off[i]);
    if (j) return bad_item(L, i + 1, "element", j, 0);
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  return 1;
}

/* R[i]: item i as a 1 x len view (nil out of range, as for a Lua array,
** so ipairs works); string keys are the methods. */
static int r_index(lua_State *L) {
  lragged *r = luaL_checkudata(L, 1, RAGGED_MT);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    if (!r->all) return luaL_error(L, "attempt to use a closed ragged");
    int ok;
    lua_Integer i = lua_tointegerx(L, 2, &ok);
    if (!ok || i < 1 || (size_t)i > r->n) {
      lua_pushnil(L);
      return 1;
    }
    size_t a = r->off[i - 1], b = r->off[i];
    mpl_mat *v;
    int err = mpl_mat_sub(&v, r->all, 0, a, 1, b - a);
    mpl__push_result(L, "R[i]", err, v);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

/* R[i] = v and R.k = v: a ragged has a fixed set of items and no
** fields. */
static int r_newindex(lua_State *L) {
  if (lua_type(L, 2) != LUA_TNUMBER)
    return luaL_error(L,
                      "R[k] = v: a ragged has no settable fields (got key "
                      "%s)",
                      lua_type(L, 2) == LUA_TSTRING
                          ? lua_pushfstring(L, "'%s'", lua_tostring(L, 2))
                          : mpl__got(L, 2));
  return luaL_error(L, "R[i] = v: a ragged's items cannot be replaced "
                       "(write into the view R[i] instead)");
}

static int r_len(lua_State *L) {
  lragged *r = check_ragged(L, 1, "#R");
  lua_pushinteger(L, (lua_Integer)r->n);
  return 1;
}

static int r_lengths(lua_State *L) {
  lragged *r = check_ragged(L, 1, "R:lengths");
  lua_createtable(L, r->n > 0x7fffffff ? 0 : (int)r->n, 0);
  for (size_t i = 0; i < r->n; i++) {
    lua_pushinteger(L, (lua_Integer)(r->off[i + 1] - r->off[i]));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* R:values(): every item back to back, a 1 x total view. */
static int r_values(lua_State *L) {
  lragged *r = check_ragged(L, 1, "R:values");
  mpl_mat *v;
  int err = mpl_mat_sub(&v, r->all, 0, 0, 1, r->all->cols);
  mpl__push_result(L, "R:values", err, v);
  return 1;
}

/* __gc and __close. */
static int r_gc(lua_State *L) {
  lragged *r = luaL_checkudata(L, 1, RAGGED_MT);
  mpl__drop_mat(&r->all);
  return 0;
}

/* R:close(); R.close() says how to call it. */
static int r_close(lua_State *L) {
  if (!luaL_testudata(L, 1, RAGGED_MT))
    return mpl__close_misuse(L, "R", "mat.ragged");
  return r_gc(L);
}

static int r_tostring(lua_State *L) {
  lragged *r = luaL_checkudata(L, 1, RAGGED_MT);
  if (!r->all) {
    lua_pushliteral(L, "ragged (closed)");
    return 1;
  }
  lua_pushfstring(L, "ragged %I %s, %I %s", (LUAI_UACINT)r->n,
                  r->n == 1 ? "item" : "items", (LUAI_UACINT)r->all->cols,
                  r->all->cols == 1 ? "number" : "numbers");
  return 1;
}

static const luaL_Reg r_methods[] = {{"lengths", r_lengths},
                                     {"values", r_values},
                                     {"close", r_close},
                                     {NULL, NULL}};

static const luaL_Reg r_meta[] = {{"__len", r_len},
                                  {"__tostring", r_tostring},
                                  {"__newindex", r_newindex},
                                  {NULL, NULL}};

/* The ragged's metatable and methods. */
void mpl__open_ragged(lua_State *L) {
  luaL_newmetatable(L, RAGGED_MT);
  mpl__setfuncs(L, r_meta);
  lua_pushcfunction(L, r_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, r_gc);
  lua_setfield(L, -2, "__close");
  lua_newtable(L);
  mpl__setfuncs(L, r_methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__methods");
  lua_pushcclosure(L, r_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
