/*
** larith.c: the Lua side of arithmetic -- the operators + - / ^ and unary
** minus, mat.add & co. with broadcasting and opts.out, the elementwise
** functions (mat.exp & co.), m:apply, the reductions, mat.allclose and
** mat.diag.  `*` stays in lmat.c (matrix product, scaling).
**
** Results are made as Lua values before the core writes into them, so an
** error raised afterwards leaks nothing.  A result of a page or more first
** tells the garbage collector about its size (lua_gc LUA_GCSTEP with that
** many kilobytes, which only adds to the collector's debt until a step is
** due): the collector sees only a matrix's small handle, so without this
** a loop making temporaries would pile them up -- gigabytes of 80 MB
** results -- before it ran, every new one on freshly faulted pages, and
** the arena could never reuse their memory.
*/
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include "arith.h"
#include "lmat.h"

#define PRESSURE_MIN ((size_t)4096) /* results this large count for the GC */

#define SHAPE(m) (LUAI_UACINT)(m)->rows, (LUAI_UACINT)(m)->cols

/* Count an r x c result in the GC's pace, before it is made (see the
** top); cheap unless a step is due. */
static void pressure(lua_State *L, size_t r, size_t c) {
  size_t n;
  if (__builtin_mul_overflow(r, c, &n) || n > SIZE_MAX / sizeof(double)) return;
  n *= sizeof(double);
  if (n < PRESSURE_MIN || !lua_gc(L, LUA_GCISRUNNING)) return;
  size_t kb = n >> 10;
  lua_gc(L, LUA_GCSTEP, kb > INT_MAX ? INT_MAX : (int)kb);
}

/* The largest shape among the matrices at i1 and i2 (0: none), for
** pressure before any argument is taken: a finalizer run by the step
** cannot then pull a matrix out from under us. */
static void pressure_for(lua_State *L, int i1, int i2) {
  mpl_mat *x = mpl_tomat(L, i1), *y = i2 ? mpl_tomat(L, i2) : NULL;
  size_t r = 0, c = 0;
  if (x) r = x->rows, c = x->cols;
  if (y && y->rows > r) r = y->rows;
  if (y && y->cols > c) c = y->cols;
  pressure(L, r, c);
}

/* Does the opts table at idx name an out? */
static int has_out(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  int t = lua_getfield(L, idx, "out");
  lua_pop(L, 1);
  return t != LUA_TNIL;
}

/* opts.out at idx, pushed (it is the result), or NULL with nothing
** pushed (lmat.h). */
mpl_mat *mpl__opt_out(lua_State *L, int idx, const char *fn) {
  static const char *const known[] = {"out", NULL};
  if (!mpl__check_opts(L, idx, fn, known)) return NULL;
  if (lua_getfield(L, idx, "out") == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  if (!mpl__matud(L, -1))
    luaL_error(L, "%s: opts.out must be a matrix (got %s)", fn,
               mpl__typename(L, -1));
  return mpl__check_mat(L, lua_gettop(L), fn);
}

/* A matrix or a number at idx (lmat.h). */
mpl__arg mpl__operand(lua_State *L, int idx, const char *fn) {
  mpl__arg a = {NULL, 0};
  if (lua_type(L, idx) == LUA_TNUMBER) {
    a.s = lua_tonumber(L, idx);
    return a;
  }
  if (!mpl__matud(L, idx))
    luaL_error(L, "%s: bad argument #%d (matrix or number expected, got %s)",
               fn, idx, mpl__typename(L, idx));
  a.m = mpl__check_mat(L, idx, fn);
  return a;
}

static size_t rows_of(mpl__arg a) { return a.m ? a.m->rows : 1; }
static size_t cols_of(mpl__arg a) { return a.m ? a.m->cols : 1; }

/* a op b for the values at 1 and 2, into opts.out (at opts, 0: none) or a
** new matrix; two numbers give a number. */
static int binop(lua_State *L, int op, const char *fn, int opts) {
  if (!(opts && has_out(L, opts))) pressure_for(L, 1, 2);
  mpl__arg a = mpl__operand(L, 1, fn), b = mpl__operand(L, 2, fn);
  size_t r, c;
  if (mpl__bcast_shape(rows_of(a), cols_of(a), rows_of(b), cols_of(b), &r, &c))
    return luaL_error(L, "%s: shape mismatch: %Ix%I and %Ix%I", fn,
                      (LUAI_UACINT)rows_of(a), (LUAI_UACINT)cols_of(a),
                      (LUAI_UACINT)rows_of(b), (LUAI_UACINT)cols_of(b));
  mpl_mat *out = opts ? mpl__opt_out(L, opts, fn) : NULL;
  if (!out && !a.m && !b.m) {
    lua_pushnumber(L, mpl__vm_binary1(op, a.s, b.s));
    return 1;
  }
  if (out && (out->rows != r || out->cols != c))
    return luaL_error(L, "%s: out is %Ix%I, the result is %Ix%I", fn,
                      SHAPE(out), (LUAI_UACINT)r, (LUAI_UACINT)c);
  if (!out) out = mpl__new_mat(L, fn, r, c, 0);
  int err = mpl__ew_binary(op, a, b, out);
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  return 1;
}

/* mat.add, mat.subtract, mat.mul, mat.div, mat.pow and their methods: the
** op is the row's in lfuncs.h. */
int mpl__l_binop(lua_State *L) {
  const char *fn;
  int op = mpl__row_op(L, &fn);
  return binop(L, op, fn, 3);
}

int mpl__mm_add(lua_State *L) {
  lua_settop(L, 2);
  return binop(L, MPL__B_ADD, "a + b", 0);
}

int mpl__mm_sub(lua_State *L) {
  lua_settop(L, 2);
  return binop(L, MPL__B_SUB, "a - b", 0);
}

int mpl__mm_pow(lua_State *L) {
  lua_settop(L, 2);
  return binop(L, MPL__B_POW, "a ^ b", 0);
}

/* a / s and s / a divide element by element; a / b of two matrices is
** refused: with * the matrix product, it could mean a * inv(b). */
int mpl__mm_div(lua_State *L) {
  lua_settop(L, 2);
  if (mpl__matud(L, 1) && mpl__matud(L, 2))
    return luaL_error(L, "a / b: both operands are matrices (use a:div(b) to "
                         "divide element by element, mat.solve for a linear "
                         "system)");
  return binop(L, MPL__B_DIV, "a / b", 0);
}

/* op(a) for the value at 1, into opts.out (at opts, 0: none) or a new
** matrix; a number gives a number. */
static int unop(lua_State *L, int op, const char *fn, int opts) {
  if (lua_type(L, 1) == LUA_TNUMBER) {
    static const char *const known[] = {"out", NULL};
    if (opts) mpl__check_opts(L, opts, fn, known);
    if (opts && has_out(L, opts))
      return luaL_error(L, "%s: opts.out needs a matrix argument", fn);
    lua_pushnumber(L, mpl__vm_unary1(op, lua_tonumber(L, 1)));
    return 1;
  }
  if (!(opts && has_out(L, opts))) pressure_for(L, 1, 0);
  mpl__arg a = mpl__operand(L, 1, fn);
  mpl_mat *out = opts ? mpl__opt_out(L, opts, fn) : NULL;
  if (out && (out->rows != a.m->rows || out->cols != a.m->cols))
    return luaL_error(L, "%s: out is %Ix%I, the matrix is %Ix%I", fn,
                      SHAPE(out), SHAPE(a.m));
  if (!out) out = mpl__new_mat(L, fn, a.m->rows, a.m->cols, 0);
  int err = mpl__ew_unary(op, a.m, out);
  if (err) return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
  return 1;
}

int mpl__mm_unm(lua_State *L) {
  lua_settop(L, 1);
  return unop(L, MPL__U_NEG, "-a", 0);
}

/* mat.exp and the other functions of one operand (lfuncs.h's rows give
** the op), as module functions and methods. */
int mpl__l_unary(lua_State *L) {
  const char *fn;
  int op = mpl__row_op(L, &fn);
  return unop(L, op, fn, 2);
}

/* mat.atan2(y, x [, opts]): the angle of (x, y), broadcasting. */
int mpl__l_atan2(lua_State *L) {
  return binop(L, MPL__B_ATAN2, "mat.atan2", 3);
}

/* m:apply(f [, opts]): f(x, i, j) for every element, in row order, into a
** new matrix or opts.out.  m and out are held by extra references while f
** runs, so f may even close them. */
int mpl__l_apply(lua_State *L) {
  const char *fn = "m:apply";
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  if (lua_type(L, 2) != LUA_TFUNCTION) {
    if (luaL_getmetafield(L, 2, "__call") == LUA_TNIL)
      return luaL_error(L, "%s: bad argument #2 (function expected, got %s)",
                        fn, mpl__typename(L, 2));
    lua_pop(L, 1);
  }
  lua_settop(L, 3);
  mpl_mat *out = mpl__opt_out(L, 3, fn);
  if (out && (out->rows != m->rows || out->cols != m->cols))
    return luaL_error(L, "%s: out is %Ix%I, the matrix is %Ix%I", fn,
                      SHAPE(out), SHAPE(m));
  if (!out) out = mpl__new_mat(L, fn, m->rows, m->cols, 0);
  int res = lua_gettop(L);
  if (mpl__ew_must_copy(m, out)) {
    mpl_mat *tmp;
    int err = mpl_mat_copy(&tmp, m);
    mpl__push_result(L, fn, err, tmp); /* owned by Lua from here */
    m = tmp;
  } else {
    mpl_push(L, m);
  }
  mpl_push(L, out);
  if (!m->rows || !m->cols) m = NULL; /* N x 0 of any N: no loop at all */
  for (size_t i = 0; m && i < m->rows; i++)
    for (size_t j = 0; j < m->cols; j++) {
      lua_pushvalue(L, 2);
      lua_pushnumber(L, MPL_AT(m, i, j));
      lua_pushinteger(L, (lua_Integer)i + 1);
      lua_pushinteger(L, (lua_Integer)j + 1);
      lua_call(L, 3, 1);
      if (lua_type(L, -1) != LUA_TNUMBER)
        return luaL_error(L,
                          "%s: the function returned %s for element (%I, "
                          "%I), expected a number",
                          fn, mpl__typename(L, -1), (LUAI_UACINT)(i + 1),
                          (LUAI_UACINT)(j + 1));
      MPL_AT(out, i, j) = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
  lua_settop(L, res);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* reductions                                                             */
/* ---------------------------------------------------------------------- */

/* m:sum([dim]) and m:mean([dim]) (op 1): a number, or per-column / per-row
** results; the mean of nothing is NaN, as in NumPy. */
int mpl__l_sum_mean(lua_State *L) {
  mpl__reduction a = mpl__reduction_args(L);
  int mean = a.op;
  if (!a.dim) {
    double s = 0;
    int err = mpl__sum(a.m, &s);
    if (err) return luaL_error(L, "%s: %s", a.fn, mpl_strerror(err));
    lua_pushnumber(L, !mean ? s : a.len ? s / (double)a.len : NAN);
    return 1;
  }
  mpl_mat *out = mpl__dim_result(L, a.m, a.dim, a.fn);
  int err = mpl__sum_dim(a.m, a.dim, out);
  if (!err && mean) {
    mpl__arg o = {out, 0}, len = {NULL, (double)a.len};
    err = mpl__ew_binary(MPL__B_DIV, o, len, out);
  }
  if (err) return luaL_error(L, "%s: %s", a.fn, mpl_strerror(err));
  return 1;
}

/* m:min([dim]) and m:max([dim]) (op 1); an empty set of elements to
** reduce has no extreme, so it is an error (NumPy raises too). */
int mpl__l_minmax(lua_State *L) {
  mpl__reduction a = mpl__reduction_args(L);
  size_t count = a.dim == 1 ? a.m->cols : a.dim == 2 ? a.m->rows : 1;
  if (count && !a.len)
    return luaL_error(L, "%s: matrix is empty (%Ix%I)", a.fn, SHAPE(a.m));
  if (!a.dim) {
    double v = 0;
    int err = mpl__minmax(a.m, a.op, &v);
    if (err) return luaL_error(L, "%s: %s", a.fn, mpl_strerror(err));
    lua_pushnumber(L, v);
    return 1;
  }
  mpl_mat *out = mpl__dim_result(L, a.m, a.dim, a.fn);
  int err = mpl__minmax_dim(a.m, a.dim, a.op, out);
  if (err) return luaL_error(L, "%s: %s", a.fn, mpl_strerror(err));
  return 1;
}

int mpl__l_trace(lua_State *L) {
  lua_pushnumber(L, mpl__trace(mpl__check_mat(L, 1, "m:trace")));
  return 1;
}

/* A non-negative number at idx, or def when absent. */
static double tolerance(lua_State *L, int idx, const char *fn, const char *what,
                        double def) {
  if (lua_isnoneornil(L, idx)) return def;
  if (lua_type(L, idx) != LUA_TNUMBER || !(lua_tonumber(L, idx) >= 0))
    luaL_error(L, "%s: %s must be a non-negative number (got %s)", fn, what,
               mpl__got(L, idx));
  return lua_tonumber(L, idx);
}

int mpl__l_allclose(lua_State *L) {
  const char *fn = "mat.allclose";
  mpl__arg a = mpl__operand(L, 1, fn), b = mpl__operand(L, 2, fn);
  double rtol = tolerance(L, 3, fn, "rtol", 1e-5);
  double atol = tolerance(L, 4, fn, "atol", 1e-8);
  int close = 0, err = mpl__allclose(a, b, rtol, atol, &close);
  if (err == MPL_EINTR) return luaL_error(L, "%s: interrupted", fn);
  if (err)
    return luaL_error(L, "%s: shape mismatch: %Ix%I and %Ix%I", fn,
                      (LUAI_UACINT)rows_of(a), (LUAI_UACINT)cols_of(a),
                      (LUAI_UACINT)rows_of(b), (LUAI_UACINT)cols_of(b));
  lua_pushboolean(L, close);
  return 1;
}

/* mat.diag(v): a vector gives the square matrix with it on the diagonal;
** any other matrix gives its main diagonal as a 1 x min(r, c) row. */
int mpl__l_diag(lua_State *L) {
  mpl_mat *m = mpl__check_mat(L, 1, "mat.diag");
  if (m->rows == 1 || m->cols == 1) {
    size_t n = m->rows * m->cols;
    ptrdiff_t st = m->rows == 1 ? m->cs : m->rs;
    mpl_mat *d = mpl__new_mat(L, "mat.diag", n, n, 1);
    for (size_t i = 0; i < n; i++) MPL_AT(d, i, i) = m->data[(ptrdiff_t)i * st];
    return 1;
  }
  size_t n = m->rows < m->cols ? m->rows : m->cols;
  mpl_mat *d = mpl__new_mat(L, "mat.diag", 1, n, 0);
  for (size_t i = 0; i < n; i++) MPL_AT(d, 0, i) = MPL_AT(m, i, i);
  return 1;
}
