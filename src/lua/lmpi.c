/*
** lmpi.c: the C helpers of mat.mpi (lua/mpi.lua writes the API on them).
**
** Values travel in two forms.  A matrix goes as a header (rows, cols)
** then its elements, straight from its memory when its rows have unit
** column stride (any row stride), else from a contiguous copy; it arrives
** in a new matrix.  Any other value of the kinds mat.map returns (nil,
** booleans, numbers, strings, matrices and tables of these) is encoded
** into one string (tags below) and sent as a header (0, length) then the
** bytes.  Encoding: 'n' nil, 'f' false, 't' true, 'i' int64, 'd' double,
** 's' u64 length and bytes, 'm' u64 rows, cols, then the elements, 'T'
** u64 n, n values (keys 1..n), u64 p, p key/value pairs.
**
** Collectives agree before they move anything: the Lua part calls
** C.mpi_agree after each rank's local preparation (which may fail), so an
** error on one rank raises on every rank instead of leaving the others
** waiting (lua/mpi.lua).
**
** Built without MPI (CMake MPL_MPI=OFF) the helpers are those of one
** rank: stubs below stand in for src/mpi.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "blas.h"
#include "lmat.h"

#ifdef MPL_HAVE_MPI
#include "comm.h"
#else
static int mpl__mpi_launched(void) { return 0; }
static int mpl__mpi_start(void) { return 0; }
static int mpl__mpi_active(void) { return 0; }
static int mpl__mpi_rank(void) { return 0; }
static int mpl__mpi_size(void) { return 1; }
static int mpl__mpi_barrier(void) { return 0; }
static int mpl__mpi_agree(int failed, int *who) {
  *who = failed ? 0 : -1;
  return 0;
}
static int mpl__mpi_bcast_bytes(void *b, size_t n, int r) {
  (void)b, (void)n, (void)r;
  return 0;
}
static int mpl__mpi_send_bytes(const void *b, size_t n, int d, int t) {
  (void)b, (void)n, (void)d, (void)t;
  mpl__set_errmsg("no rank to send to without MPI");
  return MPL_EINVAL;
}
static int mpl__mpi_recv_bytes(void *b, size_t n, int s, int t) {
  (void)b, (void)n, (void)s, (void)t;
  mpl__set_errmsg("no rank to receive from without MPI");
  return MPL_EINVAL;
}
static int mpl__mpi_bcast_mat(mpl_mat *m, int r) {
  (void)m, (void)r;
  return 0;
}
static int mpl__mpi_send_mat(const mpl_mat *m, int d, int t) {
  return mpl__mpi_send_bytes(m, 0, d, t);
}
static int mpl__mpi_recv_mat(mpl_mat *m, int s, int t) {
  return mpl__mpi_recv_bytes(m, 0, s, t);
}
static int mpl__mpi_pread_rows(const char *path, uint64_t off, mpl_mat *m) {
  (void)path, (void)off, (void)m;
  mpl__set_errmsg("reading a block of rows needs MPI");
  return MPL_EINVAL;
}
static int mpl__mpi_pwrite_rows(const char *path, uint64_t off,
                                const mpl_mat *m) {
  return mpl__mpi_pread_rows(path, off, (mpl_mat *)m);
}
static size_t mpl__mpi_group(size_t n) { return n; }
static void mpl__mpi_block(size_t n, int r, int s, size_t *r0, size_t *r1) {
  (void)r, (void)s;
  *r0 = 0;
  *r1 = n;
}
static int mpl__mpi_dot(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                        size_t m, int procs) {
  (void)m;
  return mpl_dot(a, b, out, procs);
}
static int mpl__mpi_gram(const mpl_mat *a, mpl_mat *out, size_t m, int procs) {
  mpl_mat *t = NULL;
  (void)m;
  int err = mpl_mat_transpose(&t, a);
  if (!err) err = mpl_dot(t, a, out, procs);
  mpl_mat_release(t);
  return err;
}
#endif

#define MAX_DEPTH 200

/* Raise "fn: <detail>" for a failed core call. */
static int fail(lua_State *L, const char *fn, int err) {
  const char *d = mpl_errmsg();
  return luaL_error(L, "%s: %s", fn, d && *d ? d : mpl_strerror(err));
}

static const char *fname(lua_State *L, int idx) {
  return luaL_optstring(L, idx, "mat.mpi");
}

/* ---- encoding Lua values ---- */

/* The encoding grows in a buffer owned by a userdata (freed by its __gc
** whatever raises), so values may sit on the stack while it grows. */
typedef struct wbuf {
  lua_State *L;
  char *p;
  size_t len, cap;
} wbuf;

static int wbuf_gc(lua_State *L) {
  wbuf *b = lua_touserdata(L, 1);
  free(b->p);
  b->p = NULL;
  return 0;
}

static void put(wbuf *b, const void *p, size_t n) {
  if (b->cap - b->len < n) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) luaL_error(b->L, "mat.mpi: not enough memory to encode a value");
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

static void put_char(wbuf *b, char c) { put(b, &c, 1); }

static void put_u64(wbuf *b, uint64_t v) { put(b, &v, sizeof v); }

static void enc(lua_State *L, wbuf *b, int idx, int depth, const char *fn);

static void enc_table(lua_State *L, wbuf *b, int idx, int depth,
                      const char *fn) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), pairs = 0;
  put_char(b, 'T');
  put_u64(b, (uint64_t)n);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    enc(L, b, lua_gettop(L), depth + 1, fn);
    lua_pop(L, 1);
  }
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1))
    if (!(lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
          lua_tointeger(L, -2) <= n))
      pairs++;
  put_u64(b, (uint64_t)pairs);
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
        lua_tointeger(L, -2) <= n)
      continue;
    enc(L, b, lua_gettop(L) - 1, depth + 1, fn);
    enc(L, b, lua_gettop(L), depth + 1, fn);
  }
}

static void enc_mat(wbuf *b, mpl_mat *m) {
  put_char(b, 'm');
  put_u64(b, m->rows);
  put_u64(b, m->cols);
  for (size_t i = 0; i < m->rows; i++)
    for (size_t j = 0; j < m->cols; j++)
      put(b, &MPL_AT(m, i, j), sizeof(double));
}

/* The value at idx appended to b (the buffer sits below it on the stack:
** every push here is popped before the next addition). */
static void enc(lua_State *L, wbuf *b, int idx, int depth, const char *fn) {
  if (depth > MAX_DEPTH)
    luaL_error(L, "%s: value nested more than %d deep (a cycle?)", fn,
               MAX_DEPTH);
  luaL_checkstack(L, 8, fn);
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    put_char(b, 'n');
    return;
  case LUA_TBOOLEAN:
    put_char(b, lua_toboolean(L, idx) ? 't' : 'f');
    return;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      int64_t v = (int64_t)lua_tointeger(L, idx);
      put_char(b, 'i');
      put(b, &v, sizeof v);
    } else {
      double v = (double)lua_tonumber(L, idx);
      put_char(b, 'd');
      put(b, &v, sizeof v);
    }
    return;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    put_char(b, 's');
    put_u64(b, len);
    put(b, s, len);
    return;
  }
  case LUA_TTABLE:
    enc_table(L, b, idx, depth, fn);
    return;
  default: {
    mpl_mat *m = mpl__test_mat(L, idx);
    if (m) {
      enc_mat(b, m);
      return;
    }
    luaL_error(L, "%s: cannot send a %s value", fn, mpl__typename(L, idx));
  }
  }
}

/* ---- decoding ---- */

typedef struct dec {
  lua_State *L;
  const char *p, *end, *fn;
} dec;

static void take(dec *d, void *out, size_t n) {
  if ((size_t)(d->end - d->p) < n)
    luaL_error(d->L, "%s: malformed message", d->fn);
  memcpy(out, d->p, n);
  d->p += n;
}

static uint64_t take_u64(dec *d) {
  uint64_t v;
  take(d, &v, sizeof v);
  return v;
}

static void dec_value(dec *d, int depth);

static void dec_table(dec *d, int depth) {
  lua_State *L = d->L;
  uint64_t n = take_u64(d);
  lua_createtable(L, n < 1024 ? (int)n : 1024, 0);
  for (uint64_t i = 1; i <= n; i++) {
    dec_value(d, depth + 1);
    lua_rawseti(L, -2, (lua_Integer)i);
  }
  uint64_t p = take_u64(d);
  for (uint64_t i = 0; i < p; i++) {
    dec_value(d, depth + 1);
    dec_value(d, depth + 1);
    if (lua_isnil(L, -2)) luaL_error(L, "%s: malformed message", d->fn);
    lua_rawset(L, -3);
  }
}

static void dec_value(dec *d, int depth) {
  lua_State *L = d->L;
  char tag;
  luaL_checkstack(L, 8, d->fn);
  if (depth > MAX_DEPTH) luaL_error(L, "%s: malformed message", d->fn);
  take(d, &tag, 1);
  switch (tag) {
  case 'n':
    lua_pushnil(L);
    return;
  case 'f':
    lua_pushboolean(L, 0);
    return;
  case 't':
    lua_pushboolean(L, 1);
    return;
  case 'i': {
    int64_t v;
    take(d, &v, sizeof v);
    lua_pushinteger(L, (lua_Integer)v);
    return;
  }
  case 'd': {
    double v;
    take(d, &v, sizeof v);
    lua_pushnumber(L, v);
    return;
  }
  case 's': {
    uint64_t n = take_u64(d);
    if (n > (uint64_t)(d->end - d->p))
      luaL_error(L, "%s: malformed message", d->fn);
    lua_pushlstring(L, d->p, (size_t)n);
    d->p += n;
    return;
  }
  case 'm': {
    uint64_t r = take_u64(d), c = take_u64(d);
    if (c && r > (uint64_t)(d->end - d->p) / sizeof(double) / c)
      luaL_error(L, "%s: malformed message", d->fn);
    mpl_mat *m = mpl__new_mat(L, d->fn, (size_t)r, (size_t)c, 0);
    for (size_t i = 0; i < r; i++)
      for (size_t j = 0; j < c; j++) take(d, &MPL_AT(m, i, j), sizeof(double));
    return;
  }
  case 'T':
    dec_table(d, depth);
    return;
  default:
    luaL_error(L, "%s: malformed message", d->fn);
  }
}

/* ---- helpers for lua/mpi.lua ---- */

/* C.mpi_pack(x [, fn]) -> what travels: x itself (a matrix whose rows
** have unit column stride), a contiguous copy (another view), or the
** encoded string of any other value. */
int mpl__l_mpi_pack(lua_State *L) {
  const char *fn = fname(L, 2);
  mpl_mat *m = mpl__test_mat(L, 1);
  if (m && (m->cs == 1 || m->cols <= 1)) {
    lua_settop(L, 1);
    return 1;
  }
  if (m) {
    mpl_mat *c = mpl__new_mat(L, fn, m->rows, m->cols, 0);
    int err = mpl_mat_assign(c, m);
    if (err) return fail(L, fn, err);
    return 1;
  }
  lua_settop(L, 1);
  wbuf *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->L = L, b->p = NULL, b->len = b->cap = 0;
  lua_newtable(L);
  lua_pushcfunction(L, wbuf_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  enc(L, b, 1, 0, fn);
  lua_pushlstring(L, b->p ? b->p : "", b->len);
  free(b->p);
  b->p = NULL;
  return 1;
}

/* The header of a packed value: {1, rows, cols} or {0, length, 0}. */
static void header(lua_State *L, int idx, uint64_t h[3]) {
  mpl_mat *m = mpl__test_mat(L, idx);
  if (m) {
    h[0] = 1, h[1] = m->rows, h[2] = m->cols;
  } else {
    size_t len = 0;
    lua_tolstring(L, idx, &len);
    h[0] = 0, h[1] = len, h[2] = 0;
  }
}

/* Make room for a value of header h (pushed: a matrix or a buffer
** userdata) and return where its bytes go (NULL for a matrix). */
static void *receiver(lua_State *L, const uint64_t h[3], const char *fn,
                      mpl_mat **m) {
  *m = NULL;
  if (h[0] == 1) {
    *m = mpl__new_mat(L, fn, (size_t)h[1], (size_t)h[2], 0);
    return NULL;
  }
  return lua_newuserdatauv(L, h[1] ? (size_t)h[1] : 1, 0);
}

/* The value received (on top, as receiver made it) turned into Lua's. */
static void unpack(lua_State *L, const uint64_t h[3], const char *fn) {
  if (h[0] == 1) return;
  dec d = {L, lua_touserdata(L, -1), NULL, fn};
  d.end = d.p + h[1];
  int buf = lua_gettop(L);
  dec_value(&d, 0);
  if (d.p != d.end) luaL_error(L, "%s: malformed message", fn);
  lua_remove(L, buf);
}

/* C.mpi_bcast(packed_or_nil, root [, fn]) -> the value at every rank
** (root: its packed value; others: a new one). */
int mpl__l_mpi_bcast(lua_State *L) {
  int root = (int)luaL_checkinteger(L, 2);
  const char *fn = fname(L, 3);
  uint64_t h[3] = {0, 0, 0};
  mpl_mat *m;
  void *p;
  int me = mpl__mpi_rank() == root, err;
  if (me) header(L, 1, h);
  if ((err = mpl__mpi_bcast_bytes(h, sizeof h, root)) != 0)
    return fail(L, fn, err);
  if (me) {
    m = mpl__test_mat(L, 1);
    p = m ? NULL : (void *)lua_tostring(L, 1);
    lua_pushvalue(L, 1);
  } else {
    p = receiver(L, h, fn, &m);
  }
  err = m ? mpl__mpi_bcast_mat(m, root)
          : mpl__mpi_bcast_bytes(p, (size_t)h[1], root);
  if (err) return fail(L, fn, err);
  if (!me) unpack(L, h, fn);
  return 1;
}

/* C.mpi_send(packed, dest, tag [, fn]); tag -1: mpl's own messages. */
int mpl__l_mpi_send(lua_State *L) {
  int dest = (int)luaL_checkinteger(L, 2), tag = (int)luaL_checkinteger(L, 3);
  const char *fn = fname(L, 4);
  uint64_t h[3];
  header(L, 1, h);
  mpl_mat *m = mpl__test_mat(L, 1);
  int err = mpl__mpi_send_bytes(h, sizeof h, dest, tag);
  if (!err)
    err = m ? mpl__mpi_send_mat(m, dest, tag)
            : mpl__mpi_send_bytes(lua_tostring(L, 1), (size_t)h[1], dest, tag);
  return err ? fail(L, fn, err) : 0;
}

/* C.mpi_recv(src, tag [, fn]) -> the value. */
int mpl__l_mpi_recv(lua_State *L) {
  int src = (int)luaL_checkinteger(L, 1), tag = (int)luaL_checkinteger(L, 2);
  const char *fn = fname(L, 3);
  uint64_t h[3];
  mpl_mat *m;
  int err = mpl__mpi_recv_bytes(h, sizeof h, src, tag);
  if (err) return fail(L, fn, err);
  void *p = receiver(L, h, fn, &m);
  err = m ? mpl__mpi_recv_mat(m, src, tag)
          : mpl__mpi_recv_bytes(p, (size_t)h[1], src, tag);
  if (err) return fail(L, fn, err);
  unpack(L, h, fn);
  return 1;
}

/* C.mpi_agree(ok, msg) -> nil, or the lowest failed rank and its
** message, at every rank. */
int mpl__l_mpi_agree(lua_State *L) {
  int ok = lua_toboolean(L, 1), who;
  int err = mpl__mpi_agree(!ok, &who);
  if (err) return fail(L, "mat.mpi", err);
  if (who < 0) return 0;
  size_t len = 0;
  const char *msg = ok ? "" : luaL_tolstring(L, 2, &len);
  uint64_t n = len;
  if ((err = mpl__mpi_bcast_bytes(&n, sizeof n, who)) != 0)
    return fail(L, "mat.mpi", err);
  char *buf = lua_newuserdatauv(L, n ? (size_t)n : 1, 0);
  if (mpl__mpi_rank() == who) memcpy(buf, msg, (size_t)n);
  if ((err = mpl__mpi_bcast_bytes(buf, (size_t)n, who)) != 0)
    return fail(L, "mat.mpi", err);
  lua_pushinteger(L, who);
  lua_pushlstring(L, buf, (size_t)n);
  return 2;
}

int mpl__l_mpi_info(lua_State *L) {
  lua_pushinteger(L, mpl__mpi_rank());
  lua_pushinteger(L, mpl__mpi_size());
  lua_pushboolean(L, mpl__mpi_active());
  return 3;
}

int mpl__l_mpi_barrier(lua_State *L) {
  int err = mpl__mpi_barrier();
  return err ? fail(L, "mat.mpi.barrier", err) : 0;
}

/* C.mpi_block(n [, rank]) -> r0, r1: rank's rows [r0, r1), 0-based. */
int mpl__l_mpi_block(lua_State *L) {
  size_t n = mpl__check_size(L, 1, "mat.mpi.rows", "n"), r0, r1;
  int r = (int)luaL_optinteger(L, 2, mpl__mpi_rank());
  mpl__mpi_block(n, r, mpl__mpi_size(), &r0, &r1);
  lua_pushinteger(L, (lua_Integer)r0);
  lua_pushinteger(L, (lua_Integer)r1);
  lua_pushinteger(L, (lua_Integer)mpl__mpi_group(n));
  return 3;
}

/* C.mpi_dot(a, b, m, n, procs) -> this rank's rows of the product. */
int mpl__l_mpi_dot(lua_State *L) {
  mpl_mat *a = mpl__check_mat(L, 1, "mat.mpi.dot");
  mpl_mat *b = mpl__check_mat(L, 2, "mat.mpi.dot");
  size_t m = (size_t)luaL_checkinteger(L, 3),
         n = (size_t)luaL_checkinteger(L, 4);
  int procs = (int)luaL_checkinteger(L, 5);
  mpl_mat *out = mpl__new_mat(L, "mat.mpi.dot", a->rows, n, 0);
  int err = mpl__mpi_dot(a, b, out, m, procs);
  return err ? fail(L, "mat.mpi.dot", err) : 1;
}

/* C.mpi_gram(a, m, procs) -> A^T A at every rank. */
int mpl__l_mpi_gram(lua_State *L) {
  mpl_mat *a = mpl__check_mat(L, 1, "mat.mpi.gram");
  size_t m = (size_t)luaL_checkinteger(L, 2);
  int procs = (int)luaL_checkinteger(L, 3);
  mpl_mat *out = mpl__new_mat(L, "mat.mpi.gram", a->cols, a->cols, 0);
  int err = mpl__mpi_gram(a, out, m, procs);
  return err ? fail(L, "mat.mpi.gram", err) : 1;
}

/* C.mpi_seed_item(seed, i): the random stream mat.map gives item i. */
int mpl__l_mpi_seed_item(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1), i = luaL_checkinteger(L, 2);
  mpl__rng_seed(mpl__get_rng(L), (uint64_t)seed, (uint64_t)i);
  return 0;
}

/* C.mpi_set_rows(dst, r0, src): copy src into rows r0.. of dst (vcat). */
int mpl__l_mpi_set_rows(lua_State *L) {
  mpl_mat *d = mpl__check_mat(L, 1, "mat.mpi.vcat");
  size_t r0 = (size_t)luaL_checkinteger(L, 2);
  mpl_mat *s = mpl__check_mat(L, 3, "mat.mpi.vcat");
  for (size_t i = 0; i < s->rows; i++)
    for (size_t j = 0; j < s->cols; j++) MPL_AT(d, r0 + i, j) = MPL_AT(s, i, j);
  return 0;
}

/* C.mpi_bcast_into(m, root): m's elements from root, in place (vcat's
** receiving end: rows of the result). */
int mpl__l_mpi_bcast_into(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "mat.mpi");
  int err = mpl__mpi_bcast_mat(m, (int)luaL_checkinteger(L, 2));
  return err ? fail(L, "mat.mpi", err) : 0;
}

/* C.mpi_combine(acc, v, op): acc = acc op v elementwise, in place (same
** shapes: the caller checked); op "sum", "prod", "min" or "max". */
int mpl__l_mpi_combine(lua_State *L) {
  mpl_mat *a = mpl__check_mat(L, 1, "mat.mpi.allreduce");
  mpl_mat *v = mpl__check_mat(L, 2, "mat.mpi.allreduce");
  const char *op = luaL_checkstring(L, 3);
  int k = op[0] == 's' ? 0 : op[0] == 'p' ? 1 : op[1] == 'i' ? 2 : 3;
  for (size_t i = 0; i < a->rows; i++)
    for (size_t j = 0; j < a->cols; j++) {
      double *x = &MPL_AT(a, i, j), y = MPL_AT(v, i, j);
      if (k == 0)
        *x += y;
      else if (k == 1)
        *x *= y;
      else if (k == 2)
        *x = (y < *x || y != y) ? y : *x;
      else
        *x = (y > *x || y != y) ? y : *x;
    }
  return 0;
}

/* C.mpi_pread(path, off, rows, cols) -> a new matrix read from off. */
int mpl__l_mpi_pread(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer off = luaL_checkinteger(L, 2);
  size_t r = mpl__check_size(L, 3, "mat.load", "rows");
  size_t c = mpl__check_size(L, 4, "mat.load", "cols");
  mpl_mat *m = mpl__new_mat(L, "mat.load", r, c, 0);
  int err = mpl__mpi_pread_rows(path, (uint64_t)off, m);
  return err ? fail(L, "mat.load", err) : 1;
}

/* C.mpi_pwrite(path, off, m): m's rows written from off. */
int mpl__l_mpi_pwrite(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer off = luaL_checkinteger(L, 2);
  mpl_mat *m = mpl__check_mat(L, 3, "mat.save");
  int err = mpl__mpi_pwrite_rows(path, (uint64_t)off, m);
  return err ? fail(L, "mat.save", err) : 0;
}

/* C.mpi_save_like(tmp, path): tmp gets the mode (and owner) of the file
** it replaces. */
int mpl__l_mpi_save_like(lua_State *L) {
  int err = mpl__save_like(luaL_checkstring(L, 1), luaL_checkstring(L, 2));
  return err ? fail(L, "mat.save", err) : 0;
}

/* C.mpi_follow(path): where a save to path writes, its links followed. */
int mpl__l_mpi_follow(lua_State *L) {
  char *target = NULL;
  int err = mpl__follow(luaL_checkstring(L, 1), &target);
  if (err) return fail(L, "mat.save", err);
  lua_pushstring(L, target);
  free(target);
  return 1;
}

/* Start MPI under a launcher, after the product pool's helper (see
** src/mpi/comm.c's DESIGN); MPI ends at the process's exit. */
void mpl__open_mpi(lua_State *L) {
  if (!mpl__mpi_launched() || mpl__mpi_active()) return;
  int err = mpl__blas() ? mpl__arena_ensure() : MPL_ESYS;
  if (!err) err = mpl__pool_prepare();
  if (!err) err = mpl__mpi_start();
  if (err) fail(L, "mat", err);
}
