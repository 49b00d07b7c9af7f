/*
** lmat.c: the Lua binding of the matrix core, the `mat` module.
**
** A Lua matrix is a full userdata holding one reference to a core handle.
** As in liolib, the userdata is created closed (NULL) with its metatable set
** *before* any C resource is acquired, so a raised error can never leak the
** resource: either the handle is stored in the userdata (and __gc releases
** it) or it was released before the error was raised.  __gc and __close are
** one function and safe to run twice; a closed matrix raises "attempt to
** use a closed matrix".  Errors name the function ("mat.new", "m:get",
** "m[i]") and the problem.
*/
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "internal.h"
#include "arith.h"
#include "blas.h"
#include "lmat.h"

#define MT MPL_MT

typedef struct lmat {
  mpl_mat *m;
} lmat;

static int rng_key; /* registry key (its address) of the generator */
static int mt_key;  /* registry key (its address) of the metatable */

/* ---------------------------------------------------------------------- */
/* argument checking                                                      */
/* ---------------------------------------------------------------------- */

/* The type of the value at idx for messages: "matrix", a userdata's
** __name ("mat.ragged"), else Lua's type name. */
const char *mpl__typename(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TUSERDATA) {
    if (mpl__matud(L, idx)) return "matrix";
    int t = luaL_getmetafield(L, idx, "__name");
    if (t == LUA_TSTRING) return lua_tostring(L, -1); /* left pushed */
    if (t != LUA_TNIL) lua_pop(L, 1);
  }
  return luaL_typename(L, idx);
}

/* "(got -1)", "(got 2.5)", "(got nan)" or "(got string)": what the caller
** passed. */
const char *mpl__got(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    if (lua_isinteger(L, idx))
      return lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
    char s[64];
    double v = lua_tonumber(L, idx);
    snprintf(s, sizeof s, "%.14g", isnan(v) ? NAN : v); /* never "-nan" */
    return lua_pushstring(L, s);
  }
  return mpl__typename(L, idx);
}

/* An integer-valued number (3 or 3.0) at idx, else an error naming fn and
** what the argument is. */
lua_Integer mpl__check_int(lua_State *L, int idx, const char *fn,
                           const char *what) {
  lua_Integer v = 0;
  if (!mpl__to_int(L, idx, &v))
    luaL_error(L, "%s: %s must be an integer (got %s)", fn, what,
               mpl__got(L, idx));
  return v;
}

int mpl__to_int(lua_State *L, int idx, lua_Integer *v) {
  int ok = 0;
  *v = 0;
  if (lua_type(L, idx) == LUA_TNUMBER) *v = lua_tointegerx(L, idx, &ok);
  return ok;
}

size_t mpl__check_size(lua_State *L, int idx, const char *fn,
                       const char *what) {
  lua_Integer v = 0;
  int ok = mpl__to_int(L, idx, &v);
  if (!ok || v < 0)
    luaL_error(L, "%s: %s must be a non-negative integer (got %s)", fn, what,
               mpl__got(L, idx));
  return (size_t)v;
}

double mpl__check_num(lua_State *L, int idx, const char *fn, const char *what) {
  if (lua_type(L, idx) != LUA_TNUMBER)
    luaL_error(L, "%s: %s must be a number (got %s)", fn, what,
               mpl__got(L, idx));
  return lua_tonumber(L, idx);
}

int mpl__check_dim(lua_State *L, int idx, const char *fn) {
  if (lua_isnoneornil(L, idx)) return 0;
  lua_Integer d = mpl__check_int(L, idx, fn, "dim");
  if (d != 1 && d != 2)
    luaL_error(L, "%s: dim must be 1 or 2 (got %I)", fn, (LUAI_UACINT)d);
  return (int)d;
}

mpl__reduction mpl__reduction_args(lua_State *L) {
  mpl__reduction a;
  a.op = mpl__row_op(L, &a.fn);
  a.m = mpl__check_mat(L, 1, a.fn);
  a.dim = mpl__check_dim(L, 2, a.fn);
  const mpl_mat *m = a.m;
  a.len = a.dim == 1 ? m->rows : a.dim == 2 ? m->cols : m->rows * m->cols;
  return a;
}

mpl_mat *mpl__dim_result(lua_State *L, const mpl_mat *m, int dim,
                         const char *fn) {
  return dim == 1 ? mpl__new_mat(L, fn, 1, m->cols, 0)
                  : mpl__new_mat(L, fn, m->rows, 1, 0);
}

/* ---------------------------------------------------------------------- */
/* pinning: operands outlive the call that took them                      */
/* ---------------------------------------------------------------------- */

/* DESIGN.  A call may run Lua code after taking its operands: a garbage
** collector step runs __gc finalizers, opts tables have metamethods,
** m:apply calls its function.  That code may close an operand (m:close(),
** a finalizer), which used to release the handle under the call.  So every
** function the module registers runs inside a guard: the guard makes a
** pin frame (a userdata) in its own stack slot 1, marked to-be-closed, and
** calls the real function; mpl__check_mat finds the frame of the guard that
** called it and takes one more reference to each handle it returns (a pin).
** Closing a matrix still makes its Lua value closed at once, but the
** memory goes only when the last pin goes: when the guard returns, or
** raises (the frame is closed as the stack unwinds), or, for a coroutine
** that died by an error and was never closed, when the frame is collected.
** The frame is found through the debug interface (level 1, local 1) rather
** than a global, so a dead coroutine's frame can never be mistaken for the
** current one.  The few accessors that run no Lua code between taking a
** matrix and their last use of it (m:get, m:set, m:shape, #m, ==, m[k]
** lookup, close itself) are registered unguarded for speed. */

#define FRAME_MAGIC 0x6d706c70696e73ULL /* "mplpins" */
#define FRAME_INLINE 6

typedef struct pinframe {
  unsigned long long magic;
  int busy;         /* a call is using it (the cached frame of a guard) */
  int main;         /* that call runs in the main thread, else in the
                       thread that is the frame's user value */
  const char *name; /* what the user called ("mat.max", "m:max") or NULL */
  size_t n, cap;
  mpl_mat *inl[FRAME_INLINE]; /* the first pins */
  mpl_mat **more;             /* the rest, malloc'd */
} pinframe;

static int frame_key; /* registry key of the pin frames' metatable */

/* __close and __gc of a pin frame: drop its pins; the frame is free
** again. */
static int frame_release(lua_State *L) {
  pinframe *f = lua_touserdata(L, 1);
  for (size_t i = 0; i < f->n; i++)
    mpl_mat_release(i < FRAME_INLINE ? f->inl[i] : f->more[i - FRAME_INLINE]);
  f->n = 0;
  free(f->more);
  f->more = NULL;
  f->cap = FRAME_INLINE;
  f->busy = 0;
  f->name = NULL;
  return 0;
}

int mpl__is_frame_closer(lua_CFunction f) { return f == frame_release; }

/* A new, free pin frame on the stack; its user value is the thread that
** uses it. */
static pinframe *new_frame(lua_State *L) {
  pinframe *f = lua_newuserdatauv(L, sizeof *f, 1);
  f->magic = FRAME_MAGIC;
  f->busy = 0;
  f->n = 0;
  f->cap = FRAME_INLINE;
  f->more = NULL;
  f->name = NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &frame_key);
  lua_setmetatable(L, -2);
  return f;
}

/* Whether the running C function was called by a guard (its frame is in
** the guard's slot 1), and that frame. */
static pinframe *caller_frame(lua_State *L) {
  lua_Debug ar;
  pinframe *f = NULL;
  if (!lua_getstack(L, 1, &ar) || !lua_getlocal(L, &ar, 1)) return NULL;
  if (lua_type(L, -1) == LUA_TUSERDATA && lua_rawlen(L, -1) == sizeof *f) {
    f = lua_touserdata(L, -1);
    if (f->magic != FRAME_MAGIC || !f->busy) f = NULL;
  }
  lua_pop(L, 1);
  return f;
}

/* Take a reference to m for the rest of the running call (see DESIGN). */
static void pin(lua_State *L, mpl_mat *m) {
  pinframe *f = caller_frame(L);
  if (!f) return; /* not called by a guard */
  if (f->n >= f->cap) {
    size_t cap = f->cap * 2;
    mpl_mat **p = realloc(f->more, (cap - FRAME_INLINE) * sizeof *p);
    if (!p) luaL_error(L, "not enough memory");
    f->more = p;
    f->cap = cap;
  }
  if (f->n < FRAME_INLINE)
    f->inl[f->n] = mpl_mat_retain(m);
  else
    f->more[f->n - FRAME_INLINE] = mpl_mat_retain(m);
  f->n++;
}

/* The frame a call of this guard uses, pushed: the guard's cached frame
** (upvalue 2) unless a call is still using it -- a recursive call, or one
** that died by an error in a coroutine nobody closed, whose pins are then
** dropped now -- else a new one. */
static pinframe *take_frame(lua_State *L) {
  pinframe *f = lua_touserdata(L, lua_upvalueindex(2));
  if (f->busy) {
    int st = LUA_OK; /* the main thread's errors always close frames */
    if (!f->main) {
      lua_getiuservalue(L, lua_upvalueindex(2), 1);
      st = lua_status(lua_tothread(L, -1));
      lua_pop(L, 1);
    }
    if (st == LUA_OK || st == LUA_YIELD) {
      f = new_frame(L);
      f->busy = 1;
      return f;
    }
    lua_pushcfunction(L, frame_release);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_call(L, 1, 0);
  }
  lua_pushvalue(L, lua_upvalueindex(2));
  f->main = lua_pushthread(L);
  if (f->main)
    lua_pop(L, 1);
  else
    lua_setiuservalue(L, -2, 1);
  f->busy = 1;
  return f;
}

/* The guard every registered function runs in (see DESIGN): upvalue 1 is
** the function, 2 its cached pin frame, 3 (a string or nil) the name the
** user called it by, for mpl__error.  The frame goes in slot 1, to be
** closed (its pins dropped) when the guard returns or the stack unwinds. */
static int guard(lua_State *L) {
  int n = lua_gettop(L);
  luaL_checkstack(L, 4, "too many arguments");
  pinframe *f = take_frame(L);
  f->name = lua_tostring(L, lua_upvalueindex(3)); /* the closure keeps it */
  lua_insert(L, 1);
  lua_toclose(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_rotate(L, 2, 1); /* frame, function, arguments */
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L) - 1;
}

/* Whether the running C function was called by a guard. */
static int guarded(lua_State *L) {
  lua_Debug ar;
  if (!lua_getstack(L, 1, &ar)) return 0;
  lua_getinfo(L, "f", &ar);
  int g = lua_tocfunction(L, -1) == guard;
  lua_pop(L, 1);
  return g;
}

static int l_index(lua_State *L);

/* luaL_where for the first Lua code at or above level that is not one of
** the module's own Lua parts (chunks named "=mat/..."), so that an error
** raised for a Lua part names the user's line; __index, which hands table
** keys to a guarded function, is skipped the same way. */
static void where_outside(lua_State *L, int level) {
  lua_Debug ar;
  while (lua_getstack(L, level, &ar)) {
    lua_getinfo(L, "Sf", &ar);
    int skip = strncmp(ar.source, "=mat/", 5) == 0 ||
               lua_tocfunction(L, -1) == l_index;
    lua_pop(L, 1);
    if (!skip) break;
    level++;
  }
  luaL_where(L, level);
}

/* The message on the top says "m:max: ..." or "mat.max: ..." (one C
** function serves both); make it say what the user called, `name`. */
static void rename_msg(lua_State *L, const char *name) {
  const char *bare = strncmp(name, "mat.", 4) == 0 ? name + 4 : name + 2;
  const char *msg = lua_tostring(L, -1), *rest = NULL;
  size_t k = strlen(bare);
  if (strncmp(msg, "mat.", 4) == 0 && strncmp(msg + 4, bare, k) == 0)
    rest = msg + 4 + k;
  else if (strncmp(msg, "m:", 2) == 0 && strncmp(msg + 2, bare, k) == 0)
    rest = msg + 2 + k;
  if (!rest || *rest != ':') return;
  lua_pushfstring(L, "%s%s", name, rest);
  lua_replace(L, -2);
}

int mpl__error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  int g = guarded(L);
  where_outside(L, g ? 2 : 1);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  pinframe *f = g ? caller_frame(L) : NULL;
  if (f && f->name) rename_msg(L, f->name);
  lua_concat(L, 2);
  return lua_error(L);
}

/* The pin frames' metatable, made on first use. */
static void frame_metatable(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &frame_key) == LUA_TNIL) {
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, frame_release);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, frame_release);
    lua_setfield(L, -2, "__gc");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &frame_key);
  }
  lua_pop(L, 1);
}

/* Replace the function on the top by its guard, which knows the name the
** function is called by (NULL: none, as for metamethods and private
** helpers). */
static void push_guard(lua_State *L, const char *name) {
  new_frame(L);
  lua_pushstring(L, name);
  lua_pushcclosure(L, guard, 3);
}

void mpl__setfuncs(lua_State *L, const luaL_Reg *l) {
  frame_metatable(L);
  for (; l->name; l++) {
    lua_pushcfunction(L, l->func);
    push_guard(L, NULL);
    lua_setfield(L, -2, l->name);
  }
}

/* t[f->name] = f's function, called by the name prefix .. f->name ("mat.f",
** "m:f"; none when prefix is NULL); guarded unless the row says RAW; the
** function of a row of MPL__SHARED holds its op and that name
** (mpl__row_op). */
static void set_func(lua_State *L, int t, const mpl__func *f,
                     const char *prefix) {
  const char *name =
      prefix ? lua_pushfstring(L, "%s%s", prefix, f->name) : NULL;
  if (f->where & MPL__OP) {
    lua_pushinteger(L, f->op);
    lua_pushstring(L, name);
    lua_pushcclosure(L, f->func, 2);
  } else {
    lua_pushcfunction(L, f->func);
  }
  if (!(f->where & MPL__RAW)) push_guard(L, name);
  lua_setfield(L, t, f->name);
  if (prefix) lua_pop(L, 1);
}

int mpl__row_op(lua_State *L, const char **fn) {
  *fn = lua_tostring(L, lua_upvalueindex(2));
  return (int)lua_tointeger(L, lua_upvalueindex(1));
}

/* Register every row of lfuncs.h's list where it goes: the module, the
** method table, the metatable, the private table. */
static void register_funcs(lua_State *L, int mod, int mt, int meth) {
  frame_metatable(L);
  mpl__push_private(L);
  int priv = lua_gettop(L);
  for (const mpl__func *f = mpl__funcs; f->name; f++) {
    if (f->where & MPL__MOD) set_func(L, mod, f, "mat.");
    if (f->where & MPL__METH) set_func(L, meth, f, "m:");
    if (f->where & MPL__META) set_func(L, mt, f, NULL);
    if (f->where & MPL__PRIV) set_func(L, priv, f, NULL);
  }
  lua_pop(L, 1);
}

/* The private table lives in the registry, created on first use; the Lua
** parts also hold it (their second argument) and look helpers up in it
** when called. */
static char private_key;

void mpl__push_private(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &private_key) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &private_key);
}

/* The matrix userdata at idx, or NULL.  luaL_testudata finds the
** metatable by its name, a string lookup on every call; this compares it
** with the one kept under a light key, which the hot paths (every method
** call and operand) can afford. */
void *mpl__matud(lua_State *L, int idx) {
  void *p = lua_touserdata(L, idx);
  if (!p || !lua_getmetatable(L, idx)) return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &mt_key);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

static lmat *check_ud(lua_State *L, int idx) {
  lmat *u = mpl__matud(L, idx);
  if (!u) luaL_typeerror(L, idx, MT);
  return u;
}

/* The open matrix at idx, or NULL when idx holds no matrix; pinned. */
mpl_mat *mpl__test_mat(lua_State *L, int idx) {
  lmat *u = mpl__matud(L, idx);
  if (!u) return NULL;
  if (!u->m) luaL_error(L, "attempt to use a closed matrix");
  pin(L, u->m);
  return u->m;
}

mpl_mat *mpl__check_mat(lua_State *L, int idx, const char *fn) {
  idx = lua_absindex(L, idx);
  mpl_mat *m = mpl__test_mat(L, idx);
  if (!m)
    luaL_error(L, "%s: bad argument #%d (matrix expected, got %s)", fn, idx,
               mpl__typename(L, idx));
  return m;
}

/* The metatable, creating the module's state when a C host pushes a matrix
** before anything opened `mat`. */
static void push_metatable(lua_State *L) {
  if (luaL_getmetatable(L, MT) != LUA_TTABLE) {
    lua_pop(L, 1);
    luaL_requiref(L, "mat", luaopen_mat, 0);
    lua_pop(L, 1);
    luaL_getmetatable(L, MT);
  }
}

/* A closed matrix userdata on the stack, ready to receive a handle. */
static lmat *push_closed(lua_State *L) {
  lmat *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->m = NULL;
  push_metatable(L);
  lua_setmetatable(L, -2);
  return u;
}

/* Raise the error for a failed creation of an r x c matrix. */
static int creation_error(lua_State *L, const char *fn, int err, size_t r,
                          size_t c) {
  if (err == MPL_EOVERFLOW)
    return luaL_error(L, "%s: %Ix%I matrix is too large", fn, (LUAI_UACINT)r,
                      (LUAI_UACINT)c);
  if (err == MPL_ENOMEM)
    return luaL_error(L, "%s: not enough memory for a %Ix%I matrix", fn,
                      (LUAI_UACINT)r, (LUAI_UACINT)c);
  return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
}

/* Push a new r x c matrix (zero-filled when zero is set) and return it. */
mpl_mat *mpl__new_mat(lua_State *L, const char *fn, size_t r, size_t c,
                      int zero) {
  lmat *u = push_closed(L);
  /* Let Lua's collector know a large result exists (Lua sees only the
  ** small userdata), so dropped temporaries are collected, and their
  ** memory reused, before new pages have to be faulted in. */
  if (r * c >= 512)
    lua_gc(L, LUA_GCSTEP, (int)(r * c / 128 > INT_MAX ? INT_MAX : r * c / 128));
  int err = zero ? mpl_mat_new(&u->m, r, c) : mpl__mat_alloc(&u->m, r, c);
  if (err) creation_error(L, fn, err, r, c);
  return u->m;
}

static int push_closed_f(lua_State *L) {
  push_closed(L);
  return 1;
}

/* Push a handle the caller made (its reference moves into Lua), or raise
** the error that making it gave.  The handle is already ours, so the
** userdata is made in protected mode: when Lua runs out of memory there,
** m is released before the error goes on. */
void mpl__push_result(lua_State *L, const char *fn, int err, mpl_mat *m) {
  if (err) {
    mpl_mat_release(m);
    luaL_error(L, "%s: %s", fn, mpl_strerror(err));
    return;
  }
  if (!lua_checkstack(L, 4)) {
    mpl_mat_release(m);
    luaL_error(L, "%s: stack overflow", fn);
    return;
  }
  lua_pushcfunction(L, push_closed_f); /* a light function: no allocation */
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
    mpl_mat_release(m);
    lua_error(L);
    return;
  }
  lmat *u = lua_touserdata(L, -1);
  u->m = m;
}

/* ---------------------------------------------------------------------- */
/* construction                                                           */
/* ---------------------------------------------------------------------- */

int mpl__l_new(lua_State *L) {
  size_t r = mpl__check_size(L, 1, "mat.new", "rows");
  size_t c = mpl__check_size(L, 2, "mat.new", "cols");
  double v =
      lua_isnoneornil(L, 3) ? 0 : mpl__check_num(L, 3, "mat.new", "fill value");
  mpl_mat *m = mpl__new_mat(L, "mat.new", r, c, v == 0);
  if ((v != 0 || signbit(v)) && mpl_mat_fill(m, v))
    return luaL_error(L, "mat.new: interrupted");
  return 1;
}

int mpl__l_eye(lua_State *L) {
  size_t r = mpl__check_size(L, 1, "mat.eye", "size");
  size_t c =
      lua_isnoneornil(L, 2) ? r : mpl__check_size(L, 2, "mat.eye", "cols");
  mpl_mat *m = mpl__new_mat(L, "mat.eye", r, c, 1);
  for (size_t i = 0; i < r && i < c; i++) MPL_AT(m, i, i) = 1;
  return 1;
}

/* "1 element" / "3 elements". */
static const char *elements(size_t n) {
  return n == 1 ? "element" : "elements";
}

/* Copy row `row` of m from the table of numbers or vector matrix at idx;
** errors are named fn, and name the row when the source is nested. */
static void from_row(lua_State *L, const char *fn, int idx, mpl_mat *m,
                     size_t row, int nested) {
  size_t c = m->cols;
  char where[48] = "";
  if (nested) snprintf(where, sizeof where, "row %zu ", row + 1);
  lmat *u = mpl__matud(L, idx);
  if (u) {
    if (!u->m) luaL_error(L, "attempt to use a closed matrix");
    mpl_mat *v = u->m;
    if (v->rows != 1 && v->cols != 1)
      luaL_error(L, "%s: %sis a %Ix%I matrix, not a vector", fn, where,
                 (LUAI_UACINT)v->rows, (LUAI_UACINT)v->cols);
    size_t n = v->rows * v->cols;
    if (n != c)
      luaL_error(L, "%s: %shas %I %s, expected %I", fn,
                 nested ? where : "value ", (LUAI_UACINT)n, elements(n),
                 (LUAI_UACINT)c);
    ptrdiff_t st = v->rows == 1 ? v->cs : v->rs;
    for (size_t j = 0; j < c; j++)
      MPL_AT(m, row, j) = v->data[(ptrdiff_t)j * st];
    return;
  }
  size_t n = (size_t)lua_rawlen(L, idx);
  if (n != c)
    luaL_error(L, "%s: %shas %I %s, expected %I", fn, nested ? where : "value ",
               (LUAI_UACINT)n, elements(n), (LUAI_UACINT)c);
  for (size_t j = 0; j < c; j++) {
    lua_rawgeti(L, idx, (lua_Integer)j + 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      if (nested)
        luaL_error(L, "%s: element [%I][%I] is not a number (got %s)", fn,
                   (LUAI_UACINT)(row + 1), (LUAI_UACINT)(j + 1),
                   mpl__typename(L, -1));
      luaL_error(L, "%s: element [%I] is not a number (got %s)", fn,
                 (LUAI_UACINT)(j + 1), mpl__typename(L, -1));
    }
    MPL_AT(m, row, j) = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
}

static int is_rowlike(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TTABLE || mpl__matud(L, idx) != NULL;
}

/* A nested table (or table of vectors) gives r x c; a flat one 1 x n. */
int mpl__l_from(lua_State *L) {
  lmat *src = mpl__matud(L, 1);
  if (src) {
    mpl_mat *m;
    if (!src->m) return luaL_error(L, "attempt to use a closed matrix");
    int err = mpl_mat_copy(&m, src->m);
    mpl__push_result(L, "mat.from", err, m);
    return 1;
  }
  if (lua_type(L, 1) != LUA_TTABLE)
    return luaL_error(L, "mat.from: bad argument #1 (table expected, got %s)",
                      mpl__typename(L, 1));
  size_t r = (size_t)lua_rawlen(L, 1);
  lua_rawgeti(L, 1, 1);
  int nested = r > 0 && is_rowlike(L, -1);
  size_t c = 0;
  if (nested) {
    lmat *u = mpl__matud(L, -1);
    c = u ? (u->m && (u->m->rows == 1 || u->m->cols == 1)
                 ? u->m->rows * u->m->cols
                 : 0)
          : (size_t)lua_rawlen(L, -1);
  }
  lua_pop(L, 1);
  mpl_mat *m = nested ? mpl__new_mat(L, "mat.from", r, c, 0)
                      : mpl__new_mat(L, "mat.from", 1, r, 0);
  if (!nested) {
    from_row(L, "mat.from", 1, m, 0, 0);
    return 1;
  }
  for (size_t i = 0; i < r; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    if (!is_rowlike(L, -1))
      luaL_error(L, "mat.from: row %I is not a table (got %s)",
                 (LUAI_UACINT)(i + 1), mpl__typename(L, -1));
    from_row(L, "mat.from", lua_gettop(L), m, i, 1);
    lua_pop(L, 1);
  }
  return 1;
}

/* A 1 x n row a, a+step, ...; the last element is set to `last`. */
static int arith_row(lua_State *L, const char *fn, size_t n, double a,
                     double step, double last) {
  mpl_mat *m = mpl__new_mat(L, fn, 1, n, 0);
  for (size_t i = 0; i < n; i++) m->data[i] = a + (double)i * step;
  if (n > 0) m->data[n - 1] = last;
  return 1;
}

/* mat.range(a, b [, step]): up to and including b, like Lua's numeric for
** and Torch7's torch.range.  A count within 1e-10 of a whole number is
** rounded to it and the last element is then b itself, so range(0, 0.3,
** 0.1) ends at 0.3 as its author means. */
int mpl__l_range(lua_State *L) {
  double a = mpl__check_num(L, 1, "mat.range", "start");
  double b = mpl__check_num(L, 2, "mat.range", "stop");
  double step =
      lua_isnoneornil(L, 3) ? 1 : mpl__check_num(L, 3, "mat.range", "step");
  if (step == 0) return luaL_error(L, "mat.range: step must not be zero");
  if (!isfinite(a) || !isfinite(b) || !isfinite(step))
    return luaL_error(L, "mat.range: start, stop and step must be finite");
  double span = (b - a) / step;
  if (span < 0) return arith_row(L, "mat.range", 0, 0, 0, 0);
  double whole = floor(span + 1e-10);
  if (whole + 1 > 9007199254740992.0) { /* 2^53: beyond exact counting */
    char count[32];
    snprintf(count, sizeof count, "%.3g", whole + 1);
    return luaL_error(L, "mat.range: too many elements (%s)", count);
  }
  size_t n = (size_t)whole + 1;
  double last = fabs(span - whole) <= 1e-10 ? b : a + whole * step;
  return arith_row(L, "mat.range", n, a, step, last);
}

/* mat.linspace(a, b, n): n evenly spaced points, b exactly the last. */
int mpl__l_linspace(lua_State *L) {
  double a = mpl__check_num(L, 1, "mat.linspace", "start");
  double b = mpl__check_num(L, 2, "mat.linspace", "stop");
  size_t n = mpl__check_size(L, 3, "mat.linspace", "count");
  if (n == 1) return arith_row(L, "mat.linspace", 1, a, 0, a);
  return arith_row(L, "mat.linspace", n, a, n ? (b - a) / (double)(n - 1) : 0,
                   b);
}

int mpl__l_zeros(lua_State *L) {
  size_t r = mpl__check_size(L, 1, "mat.zeros", "rows");
  size_t c = mpl__check_size(L, 2, "mat.zeros", "cols");
  mpl__new_mat(L, "mat.zeros", r, c, 1);
  return 1;
}

int mpl__l_ones(lua_State *L) {
  size_t r = mpl__check_size(L, 1, "mat.ones", "rows");
  size_t c = mpl__check_size(L, 2, "mat.ones", "cols");
  if (mpl_mat_fill(mpl__new_mat(L, "mat.ones", r, c, 0), 1))
    return luaL_error(L, "mat.ones: interrupted");
  return 1;
}

mpl__rng *mpl__get_rng(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &rng_key);
  mpl__rng *r = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return r;
}

/* mat.rand(r, c), uniform in [0, 1), and mat.randn (op 1), normal. */
int mpl__l_rand(lua_State *L) {
  const char *fn;
  int normal = mpl__row_op(L, &fn);
  size_t r = mpl__check_size(L, 1, fn, "rows");
  size_t c = mpl__check_size(L, 2, fn, "cols");
  mpl__rng *g = mpl__get_rng(L);
  mpl_mat *m = mpl__new_mat(L, fn, r, c, 0);
  size_t n = r * c;
  if (!normal)
    mpl__rng_fill_uniform(g, m->data, n);
  else
    for (size_t i = 0; i < n; i++) m->data[i] = mpl__rng_normal(g);
  return 1;
}

int mpl__l_seed(lua_State *L) {
  uint64_t s = lua_isnoneornil(L, 1)
                   ? mpl__rng_entropy()
                   : (uint64_t)mpl__check_int(L, 1, "mat.seed", "seed");
  mpl__rng_seed(mpl__get_rng(L), s, 0);
  return 0;
}

/* mpl_errmsg(), or the code's text when the failing call left none: never
** an empty reason. */
static const char *start_error(int err) {
  const char *msg = mpl_errmsg();
  return msg && *msg ? msg : mpl_strerror(err);
}

int mpl__l_procs(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) {
    lua_Integer n = mpl__check_int(L, 1, "mat.procs", "worker count");
    if (n < 1 || n > MPL_MAX_PROCS)
      return luaL_error(L,
                        "mat.procs: worker count must be between 1 and "
                        "%d (got %I)",
                        MPL_MAX_PROCS, (LUAI_UACINT)n);
    mpl_set_procs((int)n);
    int err = mpl__pool_start((int)n); /* start the workers now */
    if (err) return luaL_error(L, "mat.procs: %s", start_error(err));
  }
  lua_pushinteger(L, mpl_procs());
  return 1;
}

/* mat.workers(): the pids of the running worker processes, for
** monitoring and tests.  The pid buffer is a userdata of this call, not a
** static one that host threads with their own states would share. */
int mpl__l_workers(lua_State *L) {
  int *pids = lua_newuserdatauv(L, sizeof(int) * MPL_MAX_PROCS, 0);
  int n = mpl__pool_pids(pids, MPL_MAX_PROCS);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, pids[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

int mpl__l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
  return 1;
}

int mpl__l_ismatrix(lua_State *L) {
  lua_pushboolean(L, mpl__matud(L, 1) != NULL);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* shape and access                                                       */
/* ---------------------------------------------------------------------- */

static int is_vector(const mpl_mat *m) { return m->rows == 1 || m->cols == 1; }

int mpl__l_shape(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:shape");
  lua_pushinteger(L, (lua_Integer)m->rows);
  lua_pushinteger(L, (lua_Integer)m->cols);
  return 2;
}

/* A 1-based (i, j) pair in range, as 0-based. */
static void check_ij(lua_State *L, mpl_mat *m, const char *fn, size_t *i,
                     size_t *j) {
  lua_Integer a = mpl__check_int(L, 2, fn, "row index");
  lua_Integer b = mpl__check_int(L, 3, fn, "column index");
  if (a < 1 || (size_t)a > m->rows || b < 1 || (size_t)b > m->cols)
    luaL_error(L, "%s: index (%I, %I) out of range for a %Ix%I matrix", fn,
               (LUAI_UACINT)a, (LUAI_UACINT)b, (LUAI_UACINT)m->rows,
               (LUAI_UACINT)m->cols);
  *i = (size_t)a - 1;
  *j = (size_t)b - 1;
}

int mpl__l_get(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:get");
  size_t i, j;
  check_ij(L, m, "m:get", &i, &j);
  lua_pushnumber(L, MPL_AT(m, i, j));
  return 1;
}

int mpl__l_set(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:set");
  size_t i, j;
  check_ij(L, m, "m:set", &i, &j);
  MPL_AT(m, i, j) = mpl__check_num(L, 4, "m:set", "value");
  return 0;
}

/* A 1-based index into a dimension of length n, as 0-based. */
static size_t check_pos(lua_State *L, int idx, mpl_mat *m, size_t n,
                        const char *fn) {
  lua_Integer a = mpl__check_int(L, idx, fn, "index");
  if (a < 1 || (size_t)a > n)
    luaL_error(L, "%s: index %I out of range for a %Ix%I matrix", fn,
               (LUAI_UACINT)a, (LUAI_UACINT)m->rows, (LUAI_UACINT)m->cols);
  return (size_t)a - 1;
}

int mpl__l_row(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:row"), *v;
  size_t i = check_pos(L, 2, m, m->rows, "m:row");
  int err = mpl_mat_sub(&v, m, i, 0, 1, m->cols);
  mpl__push_result(L, "m:row", err, v);
  return 1;
}

int mpl__l_col(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:col"), *v;
  size_t j = check_pos(L, 2, m, m->cols, "m:col");
  int err = mpl_mat_sub(&v, m, 0, j, m->rows, 1);
  mpl__push_result(L, "m:col", err, v);
  return 1;
}

/* Inclusive 1-based bounds; r2 = r1 - 1 gives an empty range, as in
** string.sub. */
int mpl__l_sub(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:sub"), *v;
  lua_Integer r1 = mpl__check_int(L, 2, "m:sub", "first row");
  lua_Integer r2 = mpl__check_int(L, 3, "m:sub", "last row");
  lua_Integer c1 = mpl__check_int(L, 4, "m:sub", "first column");
  lua_Integer c2 = mpl__check_int(L, 5, "m:sub", "last column");
  if (r1 < 1 || r2 < r1 - 1 || r2 > (lua_Integer)m->rows || c1 < 1 ||
      c2 < c1 - 1 || c2 > (lua_Integer)m->cols)
    return luaL_error(L,
                      "m:sub: rows %I..%I, columns %I..%I out of range for "
                      "a %Ix%I matrix",
                      (LUAI_UACINT)r1, (LUAI_UACINT)r2, (LUAI_UACINT)c1,
                      (LUAI_UACINT)c2, (LUAI_UACINT)m->rows,
                      (LUAI_UACINT)m->cols);
  int err = mpl_mat_sub(&v, m, (size_t)r1 - 1, (size_t)c1 - 1,
                        (size_t)(r2 - r1 + 1), (size_t)(c2 - c1 + 1));
  mpl__push_result(L, "m:sub", err, v);
  return 1;
}

/* m:t and m:copy: the new handle op makes from m. */
static int derived(lua_State *L, const char *fn,
                   int (*op)(mpl_mat **, const mpl_mat *)) {
  mpl_mat *m = mpl__check_mat(L, 1, fn), *v;
  int err = op(&v, m);
  mpl__push_result(L, fn, err, v);
  return 1;
}

int mpl__l_t(lua_State *L) { return derived(L, "m:t", mpl_mat_transpose); }

/* A view when m is contiguous, else a reshaped copy. */
int mpl__l_reshape(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:reshape"), *v = NULL;
  size_t r = mpl__check_size(L, 2, "m:reshape", "rows");
  size_t c = mpl__check_size(L, 3, "m:reshape", "cols");
  size_t n;
  if (__builtin_mul_overflow(r, c, &n) || n != m->rows * m->cols)
    return luaL_error(L, "m:reshape: cannot reshape a %Ix%I matrix into %Ix%I",
                      (LUAI_UACINT)m->rows, (LUAI_UACINT)m->cols,
                      (LUAI_UACINT)r, (LUAI_UACINT)c);
  int err = mpl_mat_reshape(&v, m, r, c);
  if (err == MPL_ENOTCONTIG) {
    mpl_mat *tmp;
    err = mpl_mat_copy(&tmp, m);
    if (!err) {
      err = mpl_mat_reshape(&v, tmp, r, c);
      mpl_mat_release(tmp);
    }
  }
  mpl__push_result(L, "m:reshape", err, v);
  return 1;
}

int mpl__l_copy(lua_State *L) { return derived(L, "m:copy", mpl_mat_copy); }

int mpl__l_totable(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "m:totable");
  if (m->rows == 0) {
    lua_newtable(L);
    return 1;
  }
  if (m->rows > INT_MAX || m->cols > INT_MAX)
    return luaL_error(L, "m:totable: matrix too large for a table");
  lua_createtable(L, (int)m->rows, 0);
  mpl__interrupt_clear();
  for (size_t i = 0; i < m->rows; i++) {
    if ((i & 1023) == 0 && mpl__interrupt_pending())
      return luaL_error(L, "m:totable: interrupted");
    lua_createtable(L, (int)m->cols, 0);
    for (size_t j = 0; j < m->cols; j++) {
      lua_pushnumber(L, MPL_AT(m, i, j));
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* __gc and __close: release the handle once; safe to run again.  A call
** still using the matrix holds its own reference (a pin), so the memory
** goes when that call returns. */
int mpl__mm_gc(lua_State *L) {
  mpl__drop_mat(&check_ud(L, 1)->m);
  return 0;
}

void mpl__drop_mat(mpl_mat **slot) {
  mpl_mat *m = *slot;
  *slot = NULL;
  mpl_mat_release(m);
}

/* m:close(); m.close() and close(x) say what went wrong. */
int mpl__l_close(lua_State *L) {
  if (!mpl__matud(L, 1)) return mpl__close_misuse(L, "m", "matrix");
  return mpl__mm_gc(L);
}

int mpl__close_misuse(lua_State *L, const char *obj, const char *what) {
  return luaL_error(L,
                    "%s:close: bad argument #1 (%s expected, got %s; call "
                    "it as %s:close())",
                    obj, what, mpl__got(L, 1), obj);
}

static int push_string_f(lua_State *L) {
  lua_pushstring(L, lua_touserdata(L, 1));
  return 1;
}

/* The text is malloc'd: it is pushed in protected mode and freed before
** an error (Lua out of memory) goes on. */
int mpl__mm_tostring(lua_State *L) {
  lmat *u = check_ud(L, 1);
  if (!u->m) {
    lua_pushliteral(L, "mat (closed)");
    return 1;
  }
  char *s;
  int err = mpl_mat_format(&s, u->m);
  if (err) return luaL_error(L, "tostring: %s", mpl_strerror(err));
  lua_pushcfunction(L, push_string_f); /* light values: nothing allocated */
  lua_pushlightuserdata(L, s);
  int status = lua_pcall(L, 1, 1, 0);
  free(s);
  return status == LUA_OK ? 1 : lua_error(L);
}

int mpl__mm_eq(lua_State *L) {
  lmat *a = mpl__matud(L, 1), *b = mpl__matud(L, 2);
  if (!a || !b) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (!a->m || !b->m) return luaL_error(L, "attempt to use a closed matrix");
  int eq = mpl_mat_equal(a->m, b->m);
  if (eq < 0) return luaL_error(L, "a == b: %s", mpl_strerror(eq));
  lua_pushboolean(L, eq);
  return 1;
}

int mpl__mm_len(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "#m");
  lua_pushinteger(L, (lua_Integer)(is_vector(m) ? m->rows * m->cols : m->rows));
  return 1;
}

/* Element k (0-based) of a vector. */
static double *vec_elem(mpl_mat *m, size_t k) {
  return m->rows == 1 ? &m->data[(ptrdiff_t)k * m->cs]
                      : &m->data[(ptrdiff_t)k * m->rs];
}

/* m[i]: a number for a vector, a 1 x c row view otherwise, nil out of
** range; string keys are the fields rows and cols and the methods; table
** and matrix keys go to lindex.c (upvalue 2, guarded). */
static int l_index(lua_State *L) {
  lmat *u = check_ud(L, 1);
  int t = lua_type(L, 2);
  if (t == LUA_TNUMBER) {
    if (!u->m) return luaL_error(L, "attempt to use a closed matrix");
    mpl_mat *m = u->m;
    size_t n = is_vector(m) ? m->rows * m->cols : m->rows;
    lua_Integer i = mpl__check_int(L, 2, "m[i]", "index");
    if (i < 1 || (size_t)i > n) return 0; /* nil: ipairs(m) stops */
    size_t k = (size_t)i - 1;
    if (is_vector(m)) {
      lua_pushnumber(L, *vec_elem(m, k));
    } else {
      mpl_mat *v;
      int err = mpl_mat_sub(&v, m, k, 0, 1, m->cols);
      mpl__push_result(L, "m[i]", err, v);
    }
    return 1;
  }
  if (t == LUA_TSTRING) { /* methods first: they are the common case */
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    const char *k = lua_tostring(L, 2);
    if (strcmp(k, "rows") == 0 || strcmp(k, "cols") == 0) {
      if (!u->m) return luaL_error(L, "attempt to use a closed matrix");
      lua_pushinteger(L, (lua_Integer)(k[0] == 'r' ? u->m->rows : u->m->cols));
    }
    return 1;
  }
  if (t == LUA_TTABLE || t == LUA_TUSERDATA) { /* slices, masks */
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

/* v[i] = x writes an element of a vector; m[i] = x fills row i with a
** number, or copies a table or vector of c numbers into it. */
int mpl__mm_newindex(lua_State *L) {
  lmat *u = check_ud(L, 1);
  int t = lua_type(L, 2);
  if (t != LUA_TNUMBER) {
    if (t == LUA_TSTRING)
      return luaL_error(L, "m[k] = v: cannot set field '%s' of a matrix",
                        lua_tostring(L, 2));
    if (t == LUA_TTABLE || mpl__matud(L, 2))
      return mpl__index_set(L); /* slices, masks */
    return luaL_error(L, "m[k] = v: index must be an integer (got %s)",
                      mpl__got(L, 2));
  }
  if (!u->m) return luaL_error(L, "attempt to use a closed matrix");
  mpl_mat *m = u->m;
  size_t n = is_vector(m) ? m->rows * m->cols : m->rows;
  size_t k = check_pos(L, 2, m, n, "m[i] = v");
  if (is_vector(m)) {
    *vec_elem(m, k) = mpl__check_num(L, 3, "m[i] = v", "value");
    return 0;
  }
  if (lua_type(L, 3) == LUA_TNUMBER) {
    double x = lua_tonumber(L, 3);
    for (size_t j = 0; j < m->cols; j++) MPL_AT(m, k, j) = x;
    return 0;
  }
  if (!is_rowlike(L, 3))
    return luaL_error(L,
                      "m[i] = v: value must be a number, a table or a "
                      "vector (got %s)",
                      mpl__typename(L, 3));
  lmat *holder = push_closed(L); /* owns tmp if from_row raises */
  int err = mpl__mat_alloc(&holder->m, 1, m->cols);
  if (err) return luaL_error(L, "m[i] = v: %s", mpl_strerror(err));
  mpl_mat *tmp = holder->m;
  from_row(L, "m[i] = v", 3, tmp, 0, 0);
  for (size_t j = 0; j < m->cols; j++) MPL_AT(m, k, j) = tmp->data[j];
  return 0;
}

/* ---------------------------------------------------------------------- */
/* products                                                               */
/* ---------------------------------------------------------------------- */

/* The product of the matrices at 1 and 2, into opts.out when given (then
** returned), else into a new matrix. */
static int dot_into(lua_State *L, const char *fn, int opts) {
  mpl_mat *a = mpl__check_mat(L, 1, fn), *b = mpl__check_mat(L, 2, fn),
          *out = NULL;
  int procs = 0, out_idx = 0;
  static const char *const known[] = {"out", "procs", "progress", NULL};
  if (opts && mpl__check_opts(L, opts, fn, known)) {
    if (lua_getfield(L, opts, "procs") != LUA_TNIL) {
      lua_Integer p = mpl__check_int(L, -1, fn, "opts.procs");
      if (p < 1 || p > MPL_MAX_PROCS)
        luaL_error(L, "%s: opts.procs must be between 1 and %d (got %I)", fn,
                   MPL_MAX_PROCS, (LUAI_UACINT)p);
      procs = (int)p;
    }
    if (lua_getfield(L, opts, "out") != LUA_TNIL) {
      lmat *u = mpl__matud(L, -1);
      if (!u)
        luaL_error(L, "%s: opts.out must be a matrix (got %s)", fn,
                   mpl__typename(L, -1));
      out_idx = lua_gettop(L);
      out = mpl__check_mat(L, out_idx, fn);
    }
  }
  int err = mpl__dot_check(a, b, out);
  if (err == MPL_ESHAPE && out && a->cols == b->rows)
    return luaL_error(L, "%s: out is %Ix%I, the product is %Ix%I", fn,
                      (LUAI_UACINT)out->rows, (LUAI_UACINT)out->cols,
                      (LUAI_UACINT)a->rows, (LUAI_UACINT)b->cols);
  if (err == MPL_ESHAPE)
    return luaL_error(L, "%s: shape mismatch: %Ix%I * %Ix%I", fn,
                      (LUAI_UACINT)a->rows, (LUAI_UACINT)a->cols,
                      (LUAI_UACINT)b->rows, (LUAI_UACINT)b->cols);
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  if (!out) {
    out = mpl__new_mat(L, fn, a->rows, b->cols, 0);
    out_idx = lua_gettop(L);
  }
  double flops = 2.0 * (double)a->rows * (double)a->cols * (double)b->cols;
  mpl__bar bar;
  mpl__progress pr;
  mpl__bar_open(L, opts, fn, fn, a->rows, 1, "rows",
                flops >= mpl__parallel_min_flops, &bar, &pr);
  err = mpl__dot_progress(a, b, out, procs, pr.fn ? &pr : NULL);
  mpl__bar_close(&bar, fn, err, a->rows);
  lua_pushvalue(L, out_idx); /* the result: out, or the new matrix */
  if (err == MPL_EINTR) return luaL_error(L, "%s: interrupted", fn);
  if (err == MPL_EWORKER || err == MPL_ESYS)
    return luaL_error(L, "%s: %s", fn, mpl_errmsg());
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  return 1;
}

int mpl__l_dot(lua_State *L) { return dot_into(L, "mat.dot", 3); }

/* A new matrix: s times m. */
static int scale(lua_State *L, mpl_mat *m, double s) {
  mpl_mat *r = mpl__new_mat(L, "m * s", m->rows, m->cols, 0);
  mpl__arg am = {m, 0}, as = {NULL, s};
  int err = mpl__ew_binary(MPL__B_MUL, am, as, r); /* the vector kernels */
  if (err) return luaL_error(L, "m * s: %s", mpl_strerror(err));
  return 1;
}

/* a * b: the matrix product of two matrices, scaling with a number. */
int mpl__mm_mul(lua_State *L) {
  if (lua_type(L, 1) == LUA_TNUMBER)
    return scale(L, mpl__check_mat(L, 2, "s * m"), lua_tonumber(L, 1));
  if (lua_type(L, 2) == LUA_TNUMBER)
    return scale(L, mpl__check_mat(L, 1, "m * s"), lua_tonumber(L, 2));
  lua_settop(L, 2);
  return dot_into(L, "a * b", 0);
}

/* ---------------------------------------------------------------------- */
/* C API glue                                                             */
/* ---------------------------------------------------------------------- */

int mpl_push(lua_State *L, mpl_mat *m) {
  if (!m) return MPL_EINVAL;
  lmat *u = push_closed(L);
  u->m = mpl_mat_retain(m);
  return 0;
}

mpl_mat *mpl_tomat(lua_State *L, int idx) {
  lmat *u = mpl__matud(L, idx);
  return u ? u->m : NULL;
}

/* ---------------------------------------------------------------------- */
/* module                                                                 */
/* ---------------------------------------------------------------------- */

static const luaL_Reg index_get[] = {{"get", mpl__index_get}, {NULL, NULL}};

/* mat.blas(): the OpenBLAS kernel this process runs, how it was chosen
** ("cpu", "OpenBLAS", "OPENBLAS_CORETYPE" or "host"), OpenBLAS's thread
** setting and its build configuration. */
int mpl__l_blas(lua_State *L) {
  mpl__blas_info_t info;
  if (mpl__blas_info(&info) != 0)
    return luaL_error(L, "mat.blas: %s", mpl_errmsg());
  lua_createtable(L, 0, 4);
  lua_pushstring(L, info.kernel ? info.kernel : "?");
  lua_setfield(L, -2, "kernel");
  lua_pushstring(L, info.how);
  lua_setfield(L, -2, "chosen");
  lua_pushinteger(L, info.threads);
  lua_setfield(L, -2, "threads");
  lua_pushstring(L, info.config ? info.config : "");
  lua_setfield(L, -2, "config");
  return 1;
}

/* C.error(msg): raise msg at the user's line, for the Lua parts. */
int mpl__l_error(lua_State *L) {
  return luaL_error(L, "%s", luaL_checkstring(L, 1));
}

/* Build the metatable (methods reachable through __index, and listed in
** __methods for the REPL's completion) and the generator; let each part of
** the binding add its functions; then run the Lua parts of the module, in
** order, on the finished table (and the private table of C helpers). */
int luaopen_mat(lua_State *L) {
  lua_newtable(L);
  int mod = lua_gettop(L);
  lua_pushstring(L, MPL_VERSION);
  lua_setfield(L, mod, "version");

  luaL_newmetatable(L, MT);
  int mt = lua_gettop(L);
  lua_pushvalue(L, mt);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &mt_key);
  lua_newtable(L);
  int meth = lua_gettop(L);
  lua_pushvalue(L, meth);
  lua_setfield(L, mt, "__methods");

  lua_rawgetp(L, LUA_REGISTRYINDEX, &rng_key);
  if (lua_isnil(L, -1)) {
    mpl__rng *g = lua_newuserdatauv(L, sizeof *g, 0);
    mpl__rng_seed(g, mpl__rng_entropy(), 0);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &rng_key);
  }
  lua_pop(L, 1);

  register_funcs(L, mod, mt, meth);
  for (const mpl__opener *o = mpl__openers; *o; o++) (*o)(L);

  /* OpenBLAS is loaded (its kernel chosen) first, so the pool's processes
  ** inherit it, and before the arena, which takes what a tight address
  ** space limit leaves.  The arena is mapped now, so that a bad
  ** MPL_ARENA_SIZE or MPL_ARENA_RETAIN is reported here, by name.  The
  ** pool's forkserver starts now, while the process is small, so that
  ** workers forked later share none of the heap the script will build. */
  int err = mpl__blas() ? 0 : MPL_ESYS;
  if (!err) err = mpl__arena_ensure();
  if (!err && mpl_procs() > 1) err = mpl__pool_prepare();
  if (err == MPL_ENOMEM && !*mpl_errmsg())
    return luaL_error(L, "mat: not enough memory for the shared arena "
                         "(MPL_ARENA_SIZE sets its size)");
  if (err) return luaL_error(L, "mat: %s", start_error(err));

  lua_pushvalue(L, meth);
  lua_newtable(L);
  mpl__setfuncs(L, index_get); /* guarded, for table and matrix keys */
  lua_getfield(L, -1, "get");
  lua_remove(L, -2);
  lua_pushcclosure(L, l_index, 2);
  lua_setfield(L, mt, "__index");
  lua_settop(L, mod);

  for (const mpl__lua_chunk *c = mpl__lua_chunks; c->name; c++) {
    if (luaL_loadbufferx(L, c->code, c->len, c->name, "t") != LUA_OK)
      return lua_error(L);
    lua_pushvalue(L, mod);
    mpl__push_private(L);
    lua_call(L, 2, 0);
  }
  return 1;
}
