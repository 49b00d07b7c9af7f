/*
** lindex.c: table indexing and masks -- m[{i, j}], m[{rows, cols}] with
** ranges {a, b [, step]}, {} and negative indices, m[mask], their
** assignments, and m:index, m:fill, m:assign.
**
** DESIGN.  lmat.c's __index and __newindex keep their number and string
** paths as they were (m[i] and m[i][j] cost what they did); only a table
** or a matrix key comes here.  A key is read into one span per dimension:
** the first index, a step and a count, or a single index (which a number
** gives).  Two single indices name an element; anything else a strided
** view of the matrix (mpl__mat_view), negative steps included, so a read
** shares memory with m and a write goes through the view: a number fills
** it, a matrix is broadcast into it by select.c's where (a copy of each
** value's bits, -0 and NaN included).  A
** vector given a one-entry key indexes its elements, as v[i] does.  A mask
** (a matrix of m's shape, nonzero = selected) reads as a 1 x k copy in row
** order (select.c) and writes a number, a matrix of m's shape (elementwise
** where) or a vector of k values.
*/
#include <string.h>

#include "arith.h"
#include "lmat.h"
#include "select.h"

#define SHAPE(m) (LUAI_UACINT)(m)->rows, (LUAI_UACINT)(m)->cols

/* One dimension of a key: `count` indices from `first` (0-based) by
** `step`; `single` when a plain number named it. */
typedef struct span {
  size_t first, count;
  ptrdiff_t step;
  int single;
} span;

/* Raise the out-of-range error for index v of a dimension of length n. */
static int out_of_range(lua_State *L, const char *fn, const char *what,
                        lua_Integer v, size_t n, const mpl_mat *m) {
  if (n == 0)
    return luaL_error(L,
                      "%s: %s index %I out of range (no %ss) for a %Ix%I "
                      "matrix",
                      fn, what, (LUAI_UACINT)v, what, SHAPE(m));
  return luaL_error(L,
                    "%s: %s index %I out of range (1..%I or -%I..-1) for "
                    "a %Ix%I matrix",
                    fn, what, (LUAI_UACINT)v, (LUAI_UACINT)n, (LUAI_UACINT)n,
                    SHAPE(m));
}

/* The integer at idx (a key entry), negative ones counted from the end
** (-1 is n), not range-checked. */
static lua_Integer entry(lua_State *L, int idx, const char *fn,
                         const char *what, size_t n) {
  lua_Integer v = 0;
  if (!mpl__to_int(L, idx, &v))
    luaL_error(L, "%s: %s index must be an integer (got %s)", fn, what,
               mpl__got(L, idx));
  return v < 0 ? v + (lua_Integer)n + 1 : v;
}

/* The entry at idx of a key (a number or a range table) for a dimension
** of length n. */
static span read_span(lua_State *L, int idx, const char *fn, const char *what,
                      size_t n, const mpl_mat *m) {
  span s = {0, n, 1, 0};
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer given = lua_tointeger(L, idx);
    lua_Integer i = entry(L, idx, fn, what, n);
    if (i < 1 || (size_t)i > n) out_of_range(L, fn, what, given, n, m);
    s.first = (size_t)i - 1;
    s.count = 1;
    s.single = 1;
    return s;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L,
               "%s: %s index must be an integer or a range table "
               "({a, b}, {a, b, step} or {}) (got %s)",
               fn, what, mpl__typename(L, idx));
  lua_Unsigned len = lua_rawlen(L, idx);
  if (len == 0) return s;
  if (len > 3)
    luaL_error(L,
               "%s: a %s range has at most 3 entries {a, b, step} (got "
               "%I)",
               fn, what, (LUAI_UACINT)len);
  lua_rawgeti(L, idx, 1);
  lua_rawgeti(L, idx, len >= 2 ? 2 : 1);
  lua_rawgeti(L, idx, 3);
  lua_Integer ga = lua_tointeger(L, -3), gb = lua_tointeger(L, -2);
  lua_Integer a = entry(L, -3, fn, what, n), b = entry(L, -2, fn, what, n);
  lua_Integer st = 1;
  if (len == 3) {
    st = mpl__check_int(L, -1, fn, "step");
    if (st == 0) luaL_error(L, "%s: %s step must not be zero", fn, what);
  }
  lua_pop(L, 3);
  /* 0 and n + 1 may bound an empty range; the count needs no overflow
  ** care once both ends are within them, and a step longer than the
  ** dimension counts as one just longer */
  lua_Integer top = (lua_Integer)n + 1, big = top + 1;
  if (a < 0 || a > top) out_of_range(L, fn, what, ga, n, m);
  if (b < 0 || b > top) out_of_range(L, fn, what, gb, n, m);
  lua_Integer sc = st > big ? big : st < -big ? -big : st;
  lua_Integer cnt = sc > 0 ? (b >= a ? (b - a) / sc + 1 : 0)
                           : (a >= b ? (a - b) / -sc + 1 : 0);
  if (cnt && (a < 1 || a > top - 1)) out_of_range(L, fn, what, ga, n, m);
  if (cnt && (b < 1 || b > top - 1)) out_of_range(L, fn, what, gb, n, m);
  s.first = cnt ? (size_t)a - 1 : 0;
  s.count = (size_t)cnt;
  s.step = cnt > 1 ? (ptrdiff_t)st : 1;
  return s;
}

/* The spans of the table key at 2: rows in *r, columns in *c.  A vector's
** one-entry key names its elements. */
static void read_key(lua_State *L, mpl_mat *m, const char *fn, span *r,
                     span *c) {
  lua_Unsigned len = lua_rawlen(L, 2);
  *r = (span){0, m->rows, 1, 0};
  *c = (span){0, m->cols, 1, 0};
  if (len > 2)
    luaL_error(L, "%s: a matrix has 2 dimensions (got %I indices)", fn,
               (LUAI_UACINT)len);
  int vec = len == 1 && (m->rows == 1 || m->cols == 1);
  if (len >= 1) {
    lua_rawgeti(L, 2, 1);
    if (vec && m->rows == 1) {
      *c = read_span(L, -1, fn, "element", m->cols, m);
      r->single = c->single;
    } else if (vec) {
      *r = read_span(L, -1, fn, "element", m->rows, m);
      c->single = r->single;
    } else {
      *r = read_span(L, -1, fn, "row", m->rows, m);
    }
    lua_pop(L, 1);
  }
  if (len == 2) {
    lua_rawgeti(L, 2, 2);
    *c = read_span(L, -1, fn, "column", m->cols, m);
    lua_pop(L, 1);
  }
}

/* Push the view the spans name. */
static mpl_mat *push_view(lua_State *L, mpl_mat *m, const char *fn,
                          const span *r, const span *c) {
  mpl_mat *v;
  int err = mpl__mat_view(&v, m, r->first, c->first, r->count, c->count,
                          r->step, c->step);
  mpl__push_result(L, fn, err, v);
  return v;
}

static void check_mask(lua_State *L, mpl_mat *m, mpl_mat *mask,
                       const char *fn) {
  if (mask->rows != m->rows || mask->cols != m->cols)
    luaL_error(L, "%s: mask is %Ix%I, the matrix is %Ix%I", fn, SHAPE(mask),
               SHAPE(m));
}

/* m[mask]: the selected elements as a 1 x k copy. */
static int mask_get(lua_State *L, mpl_mat *m) {
  const char *fn = "m[mask]";
  mpl_mat *mask = mpl__check_mat(L, 2, fn);
  check_mask(L, m, mask, fn);
  size_t k, nb = mpl__mask_blocks(mask);
  size_t *offs = lua_newuserdatauv(L, (nb + 1) * sizeof *offs, 0);
  int err = mpl__mask_plan(mask, offs, &k);
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  mpl_mat *out = mpl__new_mat(L, fn, 1, k, 0);
  err = mpl__mask_select(m, mask, offs, out);
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  return 1;
}

/* Called by __index (lmat.c) for a table or matrix key at 2. */
int mpl__index_get(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m[k]");
  if (lua_type(L, 2) != LUA_TTABLE) {
    if (!mpl__matud(L, 2)) {
      lua_pushnil(L);
      return 1;
    }
    return mask_get(L, m);
  }
  span r, c;
  read_key(L, m, "m[{...}]", &r, &c);
  if (r.single && c.single) {
    lua_pushnumber(L, MPL_AT(m, r.first, c.first));
    return 1;
  }
  push_view(L, m, "m[{...}]", &r, &c);
  return 1;
}

/* dst = the number or matrix (broadcast) at idx; fn names the call. */
static void assign_into(lua_State *L, mpl_mat *dst, int idx, const char *fn) {
  int err;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    err = mpl_mat_fill(dst, lua_tonumber(L, idx));
  } else {
    if (!mpl__matud(L, idx))
      luaL_error(L, "%s: value must be a number or a matrix (got %s)", fn,
                 mpl__typename(L, idx));
    mpl_mat *src = mpl__check_mat(L, idx, fn);
    size_t r, c;
    if (mpl__bcast_shape(src->rows, src->cols, dst->rows, dst->cols, &r, &c) ||
        r != dst->rows || c != dst->cols)
      luaL_error(L, "%s: cannot assign a %Ix%I matrix to a %Ix%I one", fn,
                 SHAPE(src), SHAPE(dst));
    mpl__arg args[3] = {{NULL, 1}, {src, 0}, {dst, 0}}; /* src where 1 */
    err = mpl__select(MPL__S_WHERE, args, 0, 0, dst);
  }
  if (err) luaL_error(L, "%s: %s", fn, mpl_strerror(err));
}

/* m[mask] = v: a number, a matrix of m's shape or a vector of k values. */
static int mask_set(lua_State *L, mpl_mat *m) {
  const char *fn = "m[mask] = v";
  mpl_mat *mask = mpl__check_mat(L, 2, fn);
  check_mask(L, m, mask, fn);
  mpl__arg args[3] = {{mask, 0}, {NULL, 0}, {m, 0}};
  if (lua_type(L, 3) == LUA_TNUMBER) {
    args[1].s = lua_tonumber(L, 3);
  } else if (mpl__matud(L, 3)) {
    mpl_mat *src = mpl__check_mat(L, 3, fn);
    if (src->rows != m->rows || src->cols != m->cols) {
      size_t k, n = src->rows * src->cols;
      int err = mpl__count_nz(mask, &k);
      if (!err && (k != n || (src->rows != 1 && src->cols != 1)))
        return luaL_error(L,
                          "%s: value is %Ix%I; give a number, a %Ix%I "
                          "matrix or a vector of %I (the selected count)",
                          fn, SHAPE(src), SHAPE(m), (LUAI_UACINT)k);
      if (!err) err = mpl__mask_put(m, mask, src);
      if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
      return 0;
    }
    args[1].m = src;
  } else {
    return luaL_error(L, "%s: value must be a number or a matrix (got %s)", fn,
                      mpl__typename(L, 3));
  }
  int err = mpl__select(MPL__S_WHERE, args, 0, 0, m);
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  return 0;
}

/* Called by __newindex (lmat.c) for a table or matrix key at 2. */
int mpl__index_set(lua_State *L) {
  const char *fn = "m[{...}] = v";
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  lua_settop(L, 3);
  if (lua_type(L, 2) != LUA_TTABLE) return mask_set(L, m);
  span r, c;
  read_key(L, m, fn, &r, &c);
  if (r.single && c.single) {
    MPL_AT(m, r.first, c.first) = mpl__check_num(L, 3, fn, "value");
    return 0;
  }
  mpl_mat *v = push_view(L, m, fn, &r, &c);
  assign_into(L, v, 3, fn);
  return 0;
}

/* m:index(dim, idx): the rows (dim 1) or columns (dim 2) idx names (a
** table or a vector of indices, negative from the end), as a copy. */
int mpl__l_index(lua_State *L) {
  const char *fn = "m:index";
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  lua_Integer dim = mpl__check_int(L, 2, fn, "dim");
  if (dim != 1 && dim != 2)
    return luaL_error(L, "%s: dim must be 1 or 2 (got %I)", fn,
                      (LUAI_UACINT)dim);
  mpl_mat *iv = mpl__test_mat(L, 3);
  if (!iv && lua_type(L, 3) != LUA_TTABLE)
    return luaL_error(L, "%s: indices must be a table or a vector (got %s)", fn,
                      mpl__typename(L, 3));
  if (iv && iv->rows != 1 && iv->cols != 1)
    return luaL_error(L, "%s: indices must be a vector (got a %Ix%I matrix)",
                      fn, SHAPE(iv));
  size_t k = iv ? iv->rows * iv->cols : (size_t)lua_rawlen(L, 3);
  size_t n = dim == 1 ? m->rows : m->cols;
  const char *what = dim == 1 ? "row" : "column";
  mpl_mat *out = dim == 1 ? mpl__new_mat(L, fn, k, m->cols, 0)
                          : mpl__new_mat(L, fn, m->rows, k, 0);
  for (size_t t = 0; t < k; t++) {
    if (iv)
      lua_pushnumber(
          L, iv->data[(ptrdiff_t)t * (iv->rows == 1 ? iv->cs : iv->rs)]);
    else
      lua_rawgeti(L, 3, (lua_Integer)t + 1);
    lua_Integer given = lua_tointeger(L, -1);
    lua_Integer i = entry(L, -1, fn, what, n);
    if (i < 1 || (size_t)i > n) out_of_range(L, fn, what, given, n, m);
    lua_pop(L, 1);
    size_t s = (size_t)i - 1;
    if (dim == 1)
      for (size_t j = 0; j < m->cols; j++) MPL_AT(out, t, j) = MPL_AT(m, s, j);
    else
      for (size_t j = 0; j < m->rows; j++) MPL_AT(out, j, t) = MPL_AT(m, j, s);
  }
  return 1;
}

/* m:fill(v): every element v, in place; returns m. */
int mpl__l_fill(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:fill");
  double v = mpl__check_num(L, 2, "m:fill", "value");
  if (mpl_mat_fill(m, v)) return luaL_error(L, "m:fill: interrupted");
  lua_settop(L, 1);
  return 1;
}

/* m:assign(src): src (a number or a matrix, broadcast) into m, in place;
** returns m. */
int mpl__l_assign(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:assign");
  if (lua_isnoneornil(L, 2))
    return luaL_error(L,
                      "m:assign: value must be a number or a matrix (got "
                      "%s)",
                      mpl__typename(L, 2));
  assign_into(L, m, 2, "m:assign");
  lua_settop(L, 1);
  return 1;
}
