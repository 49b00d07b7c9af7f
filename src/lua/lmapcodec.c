/*
** lmapcodec.c: the format a mat.map result travels in, from the worker
** that computed it to the caller.
**
** Encoding (one tag byte, then the value in this machine's byte order):
** 'n' nil, 'f' false, 't' true, 'i' int64, 'd' double, 's' u64 length
** and bytes, 'T' u64 n then n array values (keys 1..n) then u64 m and m
** key/value pairs, 'm' u64 rows, u64 cols and rows*cols doubles, 'M' u64
** offset, rows, cols of a matrix in the results region, 'R' u64 k: the
** k-th table or matrix of this result (counted from 1 in the order they
** start), met again.  References keep a result's sharing: a sub-table
** referenced from many places (or a cycle) is encoded once and arrives as
** one table, as pickle would restore it, so {t, t} nested 20 deep is 21
** tables, not 2 million.  Matrices of 64 KiB or more are written into the
** call's shared results region instead, and only their offset travels.
*/
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lmap.h"

#define BIG_RESULT ((size_t)64 << 10) /* matrices this large skip the pipe */
#define MAX_DEPTH 200                 /* nesting of result tables */

typedef mpl__map_enc enc;
typedef mpl__map_dec dec;

enum {
  T_NIL = 'n',
  T_FALSE = 'f',
  T_TRUE = 't',
  T_INT = 'i',
  T_FLT = 'd',
  T_STR = 's',
  T_TAB = 'T',
  T_MAT = 'm',
  T_BIG = 'M',
  T_REF = 'R'
};

/* ---------------------------------------------------------------------- */
/* encoding, in a worker                                                  */
/* ---------------------------------------------------------------------- */

static int enc_fail(enc *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->err, sizeof e->err, fmt, ap);
  va_end(ap);
  return -1;
}

static int put(enc *e, const void *s, size_t n) {
  if (n > e->cap - e->len) {
    size_t cap = e->cap ? e->cap : 256;
    while (cap - e->len < n) {
      if (cap > SIZE_MAX / 2) return enc_fail(e, "result too large");
      cap *= 2;
    }
    char *p = realloc(e->p, cap);
    if (!p) return enc_fail(e, "not enough memory for the result");
    e->p = p;
    e->cap = cap;
  }
  memcpy(e->p + e->len, s, n);
  e->len += n;
  return 0;
}

static int put_tag(enc *e, char tag) { return put(e, &tag, 1); }

static int put_u64(enc *e, uint64_t v) { return put(e, &v, sizeof v); }

/* Copy m's elements, row-major, to the contiguous d. */
static void copy_rows(const mpl_mat *m, double *d) {
  if (mpl_mat_is_contiguous(m)) {
    memcpy(d, m->data, m->rows * m->cols * sizeof(double));
    return;
  }
  for (size_t i = 0; i < m->rows; i++)
    for (size_t j = 0; j < m->cols; j++) *d++ = MPL_AT(m, i, j);
}

/* A small matrix goes inline; a large one into the results region (one
** copy, no pipe), and only where it is goes inline. */
static int enc_mat(enc *e, const mpl_mat *m) {
  size_t r = m->rows, c = m->cols, bytes = r * c * sizeof(double);
  if (bytes >= BIG_RESULT) {
    size_t off;
    void *p;
    if (mpl__team_reserve(e->t, bytes, &off, &p) != 0)
      return enc_fail(e, "not enough memory for a %zux%zu result", r, c);
    copy_rows(m, p);
    if (put_tag(e, T_BIG) || put_u64(e, off) || put_u64(e, r) || put_u64(e, c))
      return -1;
    return 0;
  }
  if (put_tag(e, T_MAT) || put_u64(e, r) || put_u64(e, c)) return -1;
  if (mpl_mat_is_contiguous(m)) return bytes ? put(e, m->data, bytes) : 0;
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++)
      if (put(e, &MPL_AT(m, i, j), sizeof(double))) return -1;
  return 0;
}

static int enc_value(enc *e, int idx, int depth);

/* 1 when the table or matrix at idx was met before in this result (its
** reference is then written), else 0 after numbering it; -1 on failure. */
static int enc_ref(enc *e, int idx) {
  lua_State *L = e->L;
  lua_pushvalue(L, idx);
  int known = lua_rawget(L, e->seen) == LUA_TNUMBER;
  uint64_t k = known ? (uint64_t)lua_tointeger(L, -1) : ++e->nref;
  lua_pop(L, 1);
  if (known) return put_tag(e, T_REF) || put_u64(e, k) ? -1 : 1;
  lua_pushvalue(L, idx);
  lua_pushinteger(L, (lua_Integer)k);
  lua_rawset(L, e->seen);
  return 0;
}

/* A table: its array part 1..#t, then every other pair; a table met
** again (shared, or a cycle) is a reference. */
static int enc_table(enc *e, int idx, int depth) {
  lua_State *L = e->L;
  if (!lua_checkstack(L, 8)) return enc_fail(e, "stack overflow");
  int known = enc_ref(e, idx);
  if (known) return known < 0 ? -1 : 0;
  if (depth >= MAX_DEPTH)
    return enc_fail(e, "cannot return tables nested more than %d deep",
                    MAX_DEPTH);
  size_t n = (size_t)lua_rawlen(L, idx);
  if (put_tag(e, T_TAB) || put_u64(e, n)) return -1;
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i);
    int rc = enc_value(e, lua_gettop(L), depth + 1);
    lua_pop(L, 1);
    if (rc) return -1;
  }
  size_t at = e->len;
  uint64_t count = 0;
  if (put_u64(e, 0)) return -1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_isinteger(L, -2)) {
      lua_Integer k = lua_tointeger(L, -2);
      if (k >= 1 && (lua_Unsigned)k <= n) {
        lua_pop(L, 1);
        continue;
      }
    }
    int top = lua_gettop(L);
    if (enc_value(e, top - 1, depth + 1) || enc_value(e, top, depth + 1)) {
      lua_pop(L, 2);
      return -1;
    }
    count++;
    lua_pop(L, 1);
  }
  memcpy(e->p + at, &count, sizeof count);
  return 0;
}

/* Encode the value at the absolute index idx, or fail naming what cannot
** travel. */
static int enc_value(enc *e, int idx, int depth) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    return put_tag(e, T_NIL);
  case LUA_TBOOLEAN:
    return put_tag(e, lua_toboolean(L, idx) ? T_TRUE : T_FALSE);
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      int64_t v = (int64_t)lua_tointeger(L, idx);
      return put_tag(e, T_INT) || put(e, &v, sizeof v) ? -1 : 0;
    } else {
      double v = (double)lua_tonumber(L, idx);
      return put_tag(e, T_FLT) || put(e, &v, sizeof v) ? -1 : 0;
    }
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return put_tag(e, T_STR) || put_u64(e, len) || put(e, s, len) ? -1 : 0;
  }
  case LUA_TTABLE:
    return enc_table(e, idx, depth);
  case LUA_TUSERDATA:
    if (mpl__matud(L, idx)) {
      mpl_mat *m = mpl_tomat(L, idx);
      if (!m) return enc_fail(e, "cannot return a closed matrix");
      int known = enc_ref(e, idx);
      return known ? (known < 0 ? -1 : 0) : enc_mat(e, m);
    }
    if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) {
      enc_fail(e, "cannot return a %s", lua_tostring(L, -1));
      lua_pop(L, 1);
      return -1;
    }
    return enc_fail(e, "cannot return a userdata");
  default:
    return enc_fail(e, "cannot return a %s", luaL_typename(L, idx));
  }
}

int mpl__map_encode(enc *e, int idx) { return enc_value(e, idx, 0); }

/* ---------------------------------------------------------------------- */
/* decoding, in the caller                                                */
/* ---------------------------------------------------------------------- */

static void dec_number(dec *d) {
  lua_State *L = d->L;
  if (d->nref == 0) {
    lua_newtable(L);
    lua_replace(L, d->refs);
  }
  lua_pushvalue(L, -1);
  lua_rawseti(L, d->refs, (lua_Integer)++d->nref);
}

static int get(dec *d, void *out, size_t n) {
  if ((size_t)(d->end - d->p) < n) return -1;
  memcpy(out, d->p, n);
  d->p += n;
  return 0;
}

static int dec_value(dec *d, int depth);

/* A table: its array part, then key-value pairs (a nil or NaN key is
** malformed); kept apart from the scalars because it recurses. */
static int dec_table(dec *d, int depth) {
  lua_State *L = d->L;
  uint64_t a, b;
  if (get(d, &a, sizeof a) || a > (uint64_t)(d->end - d->p)) return -1;
  lua_createtable(L, a > INT_MAX ? 0 : (int)a, 0);
  dec_number(d);
  for (uint64_t i = 0; i < a; i++) {
    if (dec_value(d, depth + 1)) return -1;
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  if (get(d, &b, sizeof b) || b > (uint64_t)(d->end - d->p)) return -1;
  for (uint64_t i = 0; i < b; i++) {
    if (dec_value(d, depth + 1)) return -1;
    if (lua_isnil(L, -1) ||
        (lua_type(L, -1) == LUA_TNUMBER && isnan(lua_tonumber(L, -1))))
      return -1;
    if (dec_value(d, depth + 1)) return -1;
    lua_rawset(L, -3);
  }
  return 0;
}

/* A small matrix, its elements in the frame: copied into a new matrix. */
static int dec_mat(dec *d) {
  uint64_t a, b;
  size_t bytes;
  if (get(d, &a, sizeof a) || get(d, &b, sizeof b) ||
      mpl__mat_bytes((size_t)a, (size_t)b, &bytes) ||
      bytes > (size_t)(d->end - d->p))
    return -1;
  mpl_mat *m = mpl__new_mat(d->L, "mat.map", (size_t)a, (size_t)b, 0);
  if (bytes) memcpy(m->data, d->p, bytes);
  d->p += bytes;
  dec_number(d);
  return 0;
}

/* A large matrix, left in the team's results region: only its place and
** shape are in the frame. */
static int dec_big(dec *d) {
  uint64_t a, b, c;
  if (get(d, &a, sizeof a) || get(d, &b, sizeof b) || get(d, &c, sizeof c))
    return -1;
  mpl_mat *m;
  int err = mpl__team_result_mat(d->t, &m, (size_t)a, (size_t)b, (size_t)c);
  if (err == MPL_EINVAL || err == MPL_EOVERFLOW) return -1;
  mpl__push_result(d->L, "mat.map", err, m);
  dec_number(d);
  return 0;
}

/* Push the value encoded at d->p; -1 when the bytes are malformed (a
** matrix that cannot be allocated raises instead). */
static int dec_value(dec *d, int depth) {
  lua_State *L = d->L;
  char tag;
  uint64_t a;
  if (depth > MAX_DEPTH + 1 || !lua_checkstack(L, 4) || get(d, &tag, 1))
    return -1;
  switch (tag) {
  case T_NIL:
    lua_pushnil(L);
    return 0;
  case T_FALSE:
  case T_TRUE:
    lua_pushboolean(L, tag == T_TRUE);
    return 0;
  case T_INT: {
    int64_t v;
    if (get(d, &v, sizeof v)) return -1;
    lua_pushinteger(L, (lua_Integer)v);
    return 0;
  }
  case T_FLT: {
    double v;
    if (get(d, &v, sizeof v)) return -1;
    lua_pushnumber(L, (lua_Number)v);
    return 0;
  }
  case T_STR:
    if (get(d, &a, sizeof a) || a > (uint64_t)(d->end - d->p)) return -1;
    lua_pushlstring(L, d->p, (size_t)a);
    d->p += a;
    return 0;
  case T_TAB:
    return dec_table(d, depth);
  case T_MAT:
    return dec_mat(d);
  case T_REF:
    if (get(d, &a, sizeof a) || a < 1 || a > d->nref) return -1;
    lua_rawgeti(L, d->refs, (lua_Integer)a);
    return 0;
  case T_BIG:
    return dec_big(d);
  default:
    return -1;
  }
}

int mpl__map_decode(dec *d) { return dec_value(d, 0); }
