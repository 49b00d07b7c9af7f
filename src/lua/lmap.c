/*
** lmap.c: mat.map, a parallel map over worker processes forked for the
** call (the processes themselves are team.c's business).
**
** Each worker is a fork of the caller inside this very C function, so it
** runs f on its own copy of the Lua state: f's upvalues, the script's
** tables and every matrix are there, matrices at the same address in
** shared memory.  Per item it calls f(items[i], i) (f(i) for a count)
** under lua_pcall with a message handler that adds the worker's traceback,
** encodes the first result in a compact tagged format (below) and sends it
** as one frame; matrices of 64 KiB or more are written into the call's
** shared results region instead, and only their offset travels.  The
** caller decodes each frame as it arrives into the results table, draws
** the progress bar, and raises "mat.map: item i: message" when a worker
** fails.
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
** tables, not 2 million.
**
** The team is owned by a to-be-closed userdata on the caller's stack, so
** whatever raises (a decode that runs out of memory, the error of a
** failed item) the workers are stopped and reaped before the error leaves
** mat.map.
*/
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "lmat.h"
#include "team.h"

#define TEAM_MT "mat.map.team"
#define BIG_RESULT ((size_t)64 << 10) /* matrices this large skip the pipe */
#define MAX_DEPTH 200                 /* nesting of result tables */
#define WORKER_RETAIN ((size_t)16 << 20)
#define PRESSURE_STEP                                                          \
  ((size_t)4 << 20) /* below WORKER_RETAIN: pages are reused */
#define PRESSURE_NS 5000000L
#define INC_HEAP                                                               \
  ((size_t)4 << 20) /* larger inherited heaps: generational GC                 \
                     */
#define WAIT_MS 50
#define PREALLOC (1 << 16) /* result slots made before any result came */

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

typedef struct enc {
  lua_State *L;
  mpl__team *t;
  char *p;
  size_t len, cap;
  int seen;      /* stack index of a table: value -> its reference number */
  uint64_t nref; /* tables and matrices numbered so far in this result */
  char err[160];
} enc;

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
    if (luaL_testudata(L, idx, MPL_MT)) {
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

/* ---------------------------------------------------------------------- */
/* decoding, in the caller                                                */
/* ---------------------------------------------------------------------- */

typedef struct dec {
  lua_State *L;
  mpl__team *t;
  const char *p, *end;
  int refs;      /* stack index of the tables and matrices numbered so far
                    (nil until the first) */
  uint64_t nref; /* their count */
} dec;

/* Number the table or matrix on top of the stack, as the encoder did. */
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

/* ---------------------------------------------------------------------- */
/* the worker                                                             */
/* ---------------------------------------------------------------------- */

typedef struct map_ctx {
  lua_State *L;
  int count;    /* items is a count: f(i) */
  int has_seed;
  uint64_t seed;
} map_ctx;

/* A worker's message handler: the message (as lua.c renders any error
** object) and the worker's traceback. */
static int worker_msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            mpl__typename(L, 1));
  }
  luaL_traceback(L, L, NULL, 1);
  lua_pushfstring(L, "%s\nworker %s", msg, lua_tostring(L, -1));
  return 1;
}

/* One item, under pcall: f(items[i], i), or f(i) for a count; fetching
** items[i] may run a metamethod, so it is protected too. */
static int call_item(lua_State *L) {
  if (lua_isnil(L, 2)) {
    lua_remove(L, 2);
    lua_call(L, 1, 1);
    return 1;
  }
  lua_pushvalue(L, 1);
  lua_geti(L, 2, lua_tointeger(L, 3));
  lua_pushvalue(L, 3);
  lua_call(L, 2, 1);
  return 1;
}

/* os.exit in a worker: the caller's atexit handlers and Lua state are not
** the worker's to run or close; leave at once (the caller reports it). */
static int worker_exit(lua_State *L) {
  int status = lua_isboolean(L, 1) ? !lua_toboolean(L, 1)
                                   : (int)luaL_optinteger(L, 1, 0);
  fflush(NULL);
  _exit(status);
}

/* Matrices are small handles to the garbage collector, so a loop making
** temporaries could pile up many megabytes of them in the worker's arena
** before a cycle runs: every few milliseconds, when the arena grew by
** PRESSURE_STEP, take a (young, in generational mode) collection step.
** Temporaries that lived through two young collections (which the size
** each result adds to the collector's debt makes frequent) are old, and
** only a full collection frees them: if the young step gave back less
** than half the growth and the Lua heap is small next to it (a full
** collection walks the whole heap, the caller's inherited objects
** included), run one, so the worker's arena stays within its retained
** memory and reuses the same warm pages item after item. */
typedef struct pressure {
  long last;
  size_t base;
} pressure;

static void relieve(lua_State *L, pressure *p) {
  long t = mpl__now_ns();
  if (t - p->last < PRESSURE_NS) return;
  p->last = t;
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  if (st.in_use < p->base) p->base = st.in_use;
  if (st.in_use - p->base < PRESSURE_STEP) return;
  size_t grown = st.in_use - p->base;
  lua_gc(L, LUA_GCSTEP, 0);
  mpl__arena_get_stats(&st);
  size_t heap = (size_t)lua_gc(L, LUA_GCCOUNT) << 10;
  if (st.in_use > p->base + grown / 2 && heap <= grown / 4) {
    lua_gc(L, LUA_GCCOLLECT);
    mpl__arena_get_stats(&st);
  }
  p->base = st.in_use;
}

/* Set the forked copy up to be a worker: one BLAS thread and no thread
** pools of our own (the siblings use the cores), little memory kept for
** reuse, its own random stream, a safe os.exit, and the generational
** collector (whose young collections leave the objects inherited from
** the caller, and so their copy-on-write pages, alone) -- unless the
** inherited heap is small (INC_HEAP): then the incremental collector,
** whose cycles (one per PRESSURE_STEP of results or so) free each item's
** temporaries before they can age, costs little and keeps the worker's
** arena within its retained memory. */
static void worker_setup(lua_State *L, const map_ctx *c) {
  mpl_set_procs(1);
  mpl__blas_single_thread();
  size_t cap = mpl__arena_set_retain(SIZE_MAX);
  if (cap > WORKER_RETAIN) mpl__arena_set_retain(WORKER_RETAIN);
  if (!c->has_seed) mpl__rng_seed(mpl__get_rng(L), mpl__rng_entropy(), 0);
  if (lua_getglobal(L, "os") == LUA_TTABLE) {
    lua_pushcfunction(L, worker_exit);
    lua_setfield(L, -2, "exit");
  }
  lua_pop(L, 1);
  size_t heap = (size_t)lua_gc(L, LUA_GCCOUNT) << 10;
  if (heap > INC_HEAP) {
    lua_gc(L, LUA_GCGEN, 0, 0);
  } else { /* a cycle per PRESSURE_STEP of new debt, within 1x..10x the heap */
    size_t p = PRESSURE_STEP / (heap / 100 + 1);
    int pause = p < 100 ? 100 : p > 1000 ? 1000 : (int)p;
    lua_gc(L, LUA_GCINC, pause, 0, 0);
  }
}

/* What a worker's protected life shares with map_worker. */
typedef struct work {
  mpl__team *t;
  map_ctx *c;
  size_t item; /* the item running or being sent; SIZE_MAX: none */
  int rc;      /* the exit status when it returns normally */
} work;

/* A worker's life, under lua_pcall (f at 1, items at 2, its work at 3):
** take chunks of items, run f on each, send each result; the first
** failure of an item is sent as an ERROR frame and ends the worker. */
static int worker_run(lua_State *L) {
  work *wk = lua_touserdata(L, 3);
  mpl__team *t = wk->t;
  map_ctx *c = wk->c;
  worker_setup(L, c);
  mpl__rng *rng = mpl__get_rng(L);
  if (!lua_checkstack(L, 16)) return 0;
  lua_pushcfunction(L, worker_msgh);
  int h = lua_gettop(L);
  lua_pushcfunction(L, call_item);
  lua_newtable(L);
  int base = lua_gettop(L);
  enc e = {L, t, NULL, 0, 0, base, 0, ""};
  pressure pr = {mpl__now_ns(), 0};
  size_t lo, hi;
  while (mpl__team_take(t, &lo, &hi)) {
    for (size_t i = lo; i < hi; i++) {
      wk->item = i;
      mpl__team_running(t, i);
      if (c->has_seed) mpl__rng_seed(rng, c->seed, (uint64_t)i + 1);
      lua_pushvalue(L, h + 1);
      lua_pushvalue(L, 1);
      if (c->count) lua_pushnil(L);
      else lua_pushvalue(L, 2);
      lua_pushinteger(L, (lua_Integer)i + 1);
      if (lua_pcall(L, 3, 1, h) != LUA_OK) {
        size_t len;
        const char *msg = lua_tolstring(L, -1, &len);
        if (!msg) msg = "(error object is not a string)", len = strlen(msg);
        mpl__team_send(t, MPL__FRAME_ERROR, i, msg, len);
        wk->rc = 0;
        return 0;
      }
      e.len = 0;
      if (enc_value(&e, lua_gettop(L), 0) != 0) {
        mpl__team_send(t, MPL__FRAME_ERROR, i, e.err, strlen(e.err));
        wk->rc = 0;
        return 0;
      }
      lua_settop(L, base);
      if (e.nref) { /* a fresh numbering for the next result */
        lua_newtable(L);
        lua_replace(L, base);
        e.nref = 0;
      }
      if (mpl__team_send(t, MPL__FRAME_RESULT, i, e.p, e.len) != 0) {
        wk->rc = 1;
        return 0;
      }
      mpl__team_running(t, SIZE_MAX);
      wk->item = SIZE_MAX;
      relieve(L, &pr);
    }
  }
  wk->rc = 0;
  return 0;
}

/* A worker's life (in the forked child).  An error outside an item's own
** protected call (Lua out of memory while setting up or encoding) must not
** unwind into the caller's frames, which this copy of the process shares:
** it is caught here and sent as the failure of the item at hand, or of
** the next one when none was running.  f is at stack index 1, items at 2. */
static int map_worker(mpl__team *t, int w, void *vctx) {
  lua_State *L = ((map_ctx *)vctx)->L;
  work wk = {t, vctx, SIZE_MAX, 1};
  (void)w;
  lua_pushcfunction(L, worker_run); /* light values: nothing allocated */
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushlightuserdata(L, &wk);
  if (lua_pcall(L, 3, 0, 0) == LUA_OK) return wk.rc;
  size_t len, lo, hi;
  const char *msg = lua_tolstring(L, -1, &len);
  if (!msg) msg = "(error object is not a string)", len = strlen(msg);
  size_t item = wk.item;
  if (item == SIZE_MAX) {
    if (!mpl__team_take(t, &lo, &hi)) return 0; /* nothing was lost */
    item = lo;
  }
  mpl__team_send(t, MPL__FRAME_ERROR, item, msg, len);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* the progress bar                                                       */
/* ---------------------------------------------------------------------- */

typedef struct bar {
  int mode; /* 0 off, 1 automatic (a terminal, after a second), 2 forced */
  int shown;
  long t0, last;
  size_t n;
} bar;

static void fmt_rate(char *s, size_t size, double rate) {
  if (rate >= 100) snprintf(s, size, "%.0f", rate);
  else if (rate >= 10) snprintf(s, size, "%.1f", rate);
  else snprintf(s, size, "%.2f", rate);
}

static void fmt_time(char *s, size_t size, double sec) {
  long t = (long)(sec + 0.5);
  if (sec < 9.95) snprintf(s, size, "%.1fs", sec);
  else if (t < 60) snprintf(s, size, "%lds", t);
  else if (t < 3600) snprintf(s, size, "%ldm%02lds", t / 60, t % 60);
  else snprintf(s, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
}

/* Redraw at most five times a second: count, rate, time left; the final
** draw shows the elapsed time and ends the line. */
static void bar_draw(bar *b, size_t done, int final) {
  if (!b->mode) return;
  long t = mpl__now_ns();
  if (!final) {
    if (b->mode == 1 && !b->shown && t - b->t0 < 1000000000L) return;
    if (b->shown && t - b->last < 200000000L) return;
  } else if (!b->shown && b->mode == 1) {
    return; /* fast enough: never drawn */
  }
  b->shown = 1;
  b->last = t;
  double el = (double)(t - b->t0) * 1e-9;
  double rate = el > 0 ? (double)done / el : 0;
  char fill[21], rs[32], ts[32];
  size_t k = b->n ? done * 20 / b->n : 20;
  for (size_t i = 0; i < 20; i++) fill[i] = i < k ? '#' : '.';
  fill[20] = 0;
  fmt_rate(rs, sizeof rs, rate);
  if (final) {
    fmt_time(ts, sizeof ts, el);
    fprintf(stderr, "\rmat.map [%s] %zu/%zu %3d%% %s items/s, %s      \n",
            fill, done, b->n, (int)(b->n ? done * 100 / b->n : 100), rs, ts);
  } else {
    if (rate > 0) fmt_time(ts, sizeof ts, (double)(b->n - done) / rate);
    else snprintf(ts, sizeof ts, "?");
    fprintf(stderr, "\rmat.map [%s] %zu/%zu %3d%% %s items/s, %s left   ",
            fill, done, b->n, (int)(done * 100 / b->n), rs, ts);
  }
  fflush(stderr);
}

/* Before an error: end the bar's line so the message starts on its own. */
static void bar_abort(bar *b) {
  if (b->shown) {
    fputc('\n', stderr);
    fflush(stderr);
  }
}

/* ---------------------------------------------------------------------- */
/* mat.map                                                                */
/* ---------------------------------------------------------------------- */

typedef struct holder {
  mpl__team *t;
} holder;

/* __gc and __close of the team holder: stop and reap the workers. */
static int holder_close(lua_State *L) {
  holder *h = luaL_checkudata(L, 1, TEAM_MT);
  mpl__team *t = h->t;
  h->t = NULL;
  mpl__team_destroy(t);
  return 0;
}

static int callable(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TFUNCTION) return 1;
  if (luaL_getmetafield(L, idx, "__call") == LUA_TNIL) return 0;
  lua_pop(L, 1);
  return 1;
}

typedef struct map_opts {
  int procs;
  size_t chunk;
  int has_seed;
  uint64_t seed;
  int progress; /* -1 default, 0, 1 */
} map_opts;

static void read_opts(lua_State *L, int idx, map_opts *o) {
  const char *fn = "mat.map";
  o->procs = mpl_procs();
  o->chunk = 0;
  o->has_seed = 0;
  o->seed = 0;
  o->progress = -1;
  if (lua_isnoneornil(L, idx)) return;
  if (!lua_istable(L, idx))
    luaL_error(L, "%s: opts must be a table (got %s)", fn,
               mpl__typename(L, idx));
  if (lua_getfield(L, idx, "procs") != LUA_TNIL) {
    lua_Integer p = mpl__check_int(L, -1, fn, "opts.procs");
    if (p < 1 || p > MPL_MAX_PROCS)
      luaL_error(L, "%s: opts.procs must be between 1 and %d (got %I)", fn,
                 MPL_MAX_PROCS, (LUAI_UACINT)p);
    o->procs = (int)p;
  }
  if (lua_getfield(L, idx, "chunk") != LUA_TNIL) {
    lua_Integer c = mpl__check_int(L, -1, fn, "opts.chunk");
    if (c < 1)
      luaL_error(L, "%s: opts.chunk must be a positive integer (got %I)", fn,
                 (LUAI_UACINT)c);
    o->chunk = (size_t)c;
  }
  if (lua_getfield(L, idx, "seed") != LUA_TNIL) {
    o->seed = (uint64_t)mpl__check_int(L, -1, fn, "opts.seed");
    o->has_seed = 1;
  }
  int t = lua_getfield(L, idx, "progress");
  if (t != LUA_TNIL) {
    if (t != LUA_TBOOLEAN)
      luaL_error(L, "%s: opts.progress must be a boolean (got %s)", fn,
                 mpl__typename(L, -1));
    o->progress = lua_toboolean(L, -1);
  }
  lua_pop(L, 4);
}

/* Raise the message at the top of the stack after the team is gone and
** the bar's line ended. */
static int map_raise(lua_State *L, holder *h, bar *b) {
  mpl__team *t = h->t;
  h->t = NULL;
  mpl__team_destroy(t);
  bar_abort(b);
  return lua_error(L);
}

/* Argument #2: a count (f(i) for 1..n) or something with a length; sets
** *count for the first and returns n. */
static size_t map_items(lua_State *L, int *count) {
  int t2 = lua_type(L, 2);
  *count = 0;
  if (t2 == LUA_TNUMBER) {
    *count = 1;
    return mpl__check_size(L, 2, "mat.map", "count");
  }
  if (t2 == LUA_TTABLE ||
      (t2 == LUA_TUSERDATA && luaL_getmetafield(L, 2, "__len") != LUA_TNIL &&
       (lua_pop(L, 1), 1))) {
    lua_Integer len = luaL_len(L, 2);
    return len > 0 ? (size_t)len : 0;
  }
  return (size_t)luaL_error(L,
                            "mat.map: bad argument #2 (table or count "
                            "expected, got %s)",
                            mpl__typename(L, 2));
}

/* One result frame decoded into the results table (stack index 4); the
** numbered tables (index 6) are dropped once the frame is done. */
static void map_store(lua_State *L, holder *h, bar *b,
                      const mpl__team_event *ev) {
  dec d = {L, h->t, ev->data, (const char *)ev->data + ev->len, 6, 0};
  if (dec_value(&d, 0) != 0 || d.p != d.end) {
    lua_pushfstring(L, "mat.map: item %I: malformed result",
                    (LUAI_UACINT)ev->item + 1);
    map_raise(L, h, b);
  }
  lua_rawseti(L, 4, (lua_Integer)ev->item + 1);
  if (d.nref) {
    lua_pushnil(L);
    lua_replace(L, 6);
  }
}

/* Take the team's events until every item is in, drawing the bar; the
** first failure is raised once the team is stopped. */
static void map_collect(lua_State *L, holder *h, bar *b) {
  for (;;) {
    mpl__team_event ev;
    int rc = mpl__team_wait(h->t, &ev, WAIT_MS);
    if (rc == MPL__TEAM_RESULT) {
      map_store(L, h, b, &ev);
    } else if (rc == MPL__TEAM_FAILED) {
      lua_pushfstring(L, "mat.map: item %I: ", (LUAI_UACINT)ev.item + 1);
      lua_pushlstring(L, ev.data, ev.len);
      lua_concat(L, 2);
      map_raise(L, h, b);
    } else if (rc == MPL__TEAM_DONE) {
      return;
    } else if (rc < 0) {
      lua_pushfstring(L, "mat.map: %s", mpl_errmsg());
      map_raise(L, h, b);
    }
    bar_draw(b, mpl__team_received(h->t), 0);
  }
}

/* mat.map(f, items [, opts]) -> results in item order. */
static int l_map(lua_State *L) {
  lua_settop(L, 3);
  if (!callable(L, 1))
    return luaL_error(L, "mat.map: bad argument #1 (function expected, got %s)",
                      mpl__typename(L, 1));
  int count;
  size_t n = map_items(L, &count);
  map_opts o;
  read_opts(L, 3, &o);
  /* 4: the results, grown as they arrive: sized for all n at once, a
     count of 1e9 would take 16 GB before any work started */
  lua_createtable(L, n > PREALLOC ? PREALLOC : (int)n, 0);
  if (n == 0) return 1;
  holder *h = lua_newuserdatauv(L, sizeof *h, 0); /* 5 */
  h->t = NULL;
  luaL_setmetatable(L, TEAM_MT);
  lua_toclose(L, 5);
  lua_pushnil(L); /* 6: a result's numbered tables (dec) */

  int procs = (size_t)o.procs > n ? (int)n : o.procs;
  map_ctx c = {L, count, o.has_seed, o.seed};
  bar b = {o.progress == 1 ? 2
                           : (o.progress == 0 ? 0
                              : isatty(2)     ? 1
                                              : 0),
           0, mpl__now_ns(), 0, n};
  mpl__interrupt_clear();
  int err = mpl__team_start(&h->t, n, procs, o.chunk, map_worker, &c);
  if (err) {
    const char *detail = mpl_errmsg();
    return luaL_error(L, "mat.map: %s", *detail ? detail : mpl_strerror(err));
  }
  map_collect(L, h, &b);
  bar_draw(&b, n, 1);
  mpl__team *t = h->t;
  h->t = NULL;
  mpl__team_destroy(t);
  lua_pushvalue(L, 4);
  return 1;
}

void mpl__open_map(lua_State *L, int mod, int mt, int methods) {
  (void)mt;
  (void)methods;
  luaL_newmetatable(L, TEAM_MT);
  lua_pushcfunction(L, holder_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, holder_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  static const luaL_Reg funcs[] = {{"map", l_map}, {NULL, NULL}};
  lua_pushvalue(L, mod);
  mpl__setfuncs(L, funcs);
  lua_pop(L, 1);
}
