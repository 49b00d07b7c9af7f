/*
** lstats.c: the Lua side of statistics and order -- m:prod, var, std,
** median, quantile, argmax, argmin, sort, argsort, unique, cumsum,
** cumprod, diff, mat.cov and mat.corrcoef (order.c and stats.c do the
** work); mat.randint, mat.permutation and mat.choice (sample.c).
**
** Every function follows one rule for its optional dim: none works on the
** elements in row order (a number, or a 1 x n result that keeps a
** vector's shape), 1 down each column, 2 along each row; an options table
** may stand in for an omitted dim (m:std{ddof = 1}).  Results are made as
** Lua values before the core runs, so a failure raises with nothing to
** release.
*/
#include <math.h>

#include <lauxlib.h>
#include <lua.h>

#include "order.h"
#include "lmat.h"

#define SHAPE(m) (LUAI_UACINT)(m)->rows, (LUAI_UACINT)(m)->cols

/* The optional dim at idx (0 when absent or when idx holds the options
** table, which then moves to *opts). */
static int dim_at(lua_State *L, int idx, const char *fn, int *opts) {
  if (opts) *opts = idx + 1;
  if (opts && lua_istable(L, idx)) {
    *opts = idx;
    return 0;
  }
  return mpl__check_dim(L, idx, fn);
}

static void check(lua_State *L, const char *fn, int err) {
  if (err == MPL_EINTR) luaL_error(L, "%s: interrupted", fn);
  if (err) luaL_error(L, "%s: %s", fn, mpl_strerror(err));
}

/* Raise when a line to reduce is empty (there is no extreme or
** quantile of nothing). */
static void need_elements(lua_State *L, const mpl_mat *m, int dim,
                          const char *fn) {
  size_t len = dim == 1 ? m->rows : dim == 2 ? m->cols : m->rows * m->cols;
  size_t count = dim == 1 ? m->cols : dim == 2 ? m->rows : 1;
  if (count && !len) luaL_error(L, "%s: matrix is empty (%Ix%I)", fn, SHAPE(m));
}

int mpl__l_prod(lua_State *L) {
  const char *fn = "m:prod";
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  int dim = dim_at(L, 2, fn, NULL);
  double v = 0;
  mpl_mat *out = dim ? mpl__dim_result(L, m, dim, fn) : NULL;
  check(L, fn, mpl__prod(m, dim, &v, out));
  if (!dim) lua_pushnumber(L, v);
  return 1;
}

/* m:var([dim] [, opts]) and m:std (op 1): opts.ddof (default 0). */
int mpl__l_var_std(lua_State *L) {
  const char *fn;
  int sd = mpl__row_op(L, &fn);
  static const char *const known[] = {"ddof", NULL};
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  int opts, dim = dim_at(L, 2, fn, &opts);
  double ddof = 0;
  if (mpl__check_opts(L, opts, fn, known) &&
      lua_getfield(L, opts, "ddof") != LUA_TNIL) {
    ddof = mpl__check_num(L, -1, fn, "opts.ddof");
    if (!(ddof >= 0))
      luaL_error(L, "%s: opts.ddof must be a non-negative number (got %s)", fn,
                 mpl__got(L, -1));
  }
  double v = 0;
  mpl_mat *out = dim ? mpl__dim_result(L, m, dim, fn) : NULL;
  check(L, fn, mpl__var(m, dim, ddof, &v, out));
  if (!dim) {
    lua_pushnumber(L, sd ? sqrt(v) : v);
  } else if (sd) {
    for (size_t i = 0; i < out->rows; i++)
      for (size_t j = 0; j < out->cols; j++)
        MPL_AT(out, i, j) = sqrt(MPL_AT(out, i, j));
  }
  return 1;
}

/* The median (q < 0) or the q-quantile of m's lines. */
static int quantile(lua_State *L, const char *fn, double q, int dim_idx) {
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  int dim = dim_at(L, dim_idx, fn, NULL);
  int median = q < 0;
  if (median) {
    size_t len = dim == 1 ? m->rows : dim == 2 ? m->cols : m->rows * m->cols;
    if (!len) { /* NumPy: the median of nothing is NaN */
      if (!dim) {
        lua_pushnumber(L, NAN);
        return 1;
      }
      check(L, fn, mpl_mat_fill(mpl__dim_result(L, m, dim, fn), NAN));
      return 1;
    }
  } else {
    need_elements(L, m, dim, fn);
  }
  double v = 0;
  mpl_mat *out = dim ? mpl__dim_result(L, m, dim, fn) : NULL;
  check(L, fn, mpl__quantile(m, dim, median ? 0.5 : q, median, &v, out));
  if (!dim) lua_pushnumber(L, v);
  return 1;
}

int mpl__l_median(lua_State *L) { return quantile(L, "m:median", -1, 2); }

int mpl__l_quantile(lua_State *L) {
  const char *fn = "m:quantile";
  double q = mpl__check_num(L, 2, fn, "q");
  if (!(q >= 0 && q <= 1))
    return luaL_error(L, "%s: q must be between 0 and 1 (got %s)", fn,
                      mpl__got(L, 2));
  return quantile(L, fn, q, 3);
}

/* m:argmax([dim]) (op 1) and m:argmin (op 0). */
int mpl__l_argext(lua_State *L) {
  const char *fn;
  int max = mpl__row_op(L, &fn);
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  int dim = dim_at(L, 2, fn, NULL);
  need_elements(L, m, dim, fn);
  double v = 0;
  mpl_mat *out = dim ? mpl__dim_result(L, m, dim, fn) : NULL;
  check(L, fn, mpl__argext(m, dim, max, &v, out));
  if (!dim) lua_pushinteger(L, (lua_Integer)v);
  return 1;
}

/* The result of a whole-shape operation: opts.out (checked against the
** shape) or a new matrix -- m's shape for a dim, else 1 x n unless m is a
** vector. */
static mpl_mat *shaped_result(lua_State *L, const mpl_mat *m, int dim, int opts,
                              const char *fn) {
  size_t r = m->rows, c = m->cols;
  if (!dim && r != 1 && c != 1) r = 1, c = m->rows * m->cols;
  if (lua_istable(L, opts) && lua_getfield(L, opts, "out") != LUA_TNIL) {
    if (!mpl__matud(L, -1))
      luaL_error(L, "%s: opts.out must be a matrix (got %s)", fn,
                 mpl__typename(L, -1));
    mpl_mat *out = mpl__check_mat(L, lua_gettop(L), fn);
    if (out->rows != r || out->cols != c)
      luaL_error(L, "%s: out is %Ix%I, the result is %Ix%I", fn, SHAPE(out),
                 (LUAI_UACINT)r, (LUAI_UACINT)c);
    if (!dim && !mpl_mat_is_contiguous(out))
      luaL_error(L, "%s: out must be contiguous without a dim", fn);
    return out;
  }
  if (lua_istable(L, opts)) lua_pop(L, 1);
  return mpl__new_mat(L, fn, r, c, 0);
}

/* The arguments of a whole-shape operation, (m [, dim] [, opts]): the
** matrix, its dim, opts.flag (when flag is not NULL) and the result. */
typedef struct shaped {
  mpl_mat *m, *out;
  int dim, flag;
} shaped;

static shaped shaped_args(lua_State *L, const char *fn,
                          const char *const known[], const char *flag) {
  shaped a = {mpl__check_mat(L, 1, fn), NULL, 0, 0};
  int opts;
  a.dim = dim_at(L, 2, fn, &opts);
  if (mpl__check_opts(L, opts, fn, known) && flag) {
    lua_getfield(L, opts, flag);
    a.flag = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  a.out = shaped_result(L, a.m, a.dim, opts, fn);
  return a;
}

/* m:sort([dim] [, opts]) and m:argsort (op 1): opts.descending, opts.out. */
int mpl__l_sort(lua_State *L) {
  const char *fn;
  int positions = mpl__row_op(L, &fn);
  static const char *const known[] = {"descending", "out", NULL};
  shaped a = shaped_args(L, fn, known, "descending");
  mpl_mat *out = a.out;
  int err = mpl__sort(a.m, a.dim, a.flag, positions ? NULL : out,
                      positions ? out : NULL);
  if (err == MPL_EOVERFLOW)
    return luaL_error(L, "%s: more than 2^32 elements in a line", fn);
  check(L, fn, err);
  return 1;
}

/* m:unique(): the distinct values, ascending, as a 1 x k row. */
int mpl__l_unique(lua_State *L) {
  const char *fn = "m:unique";
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  size_t n = m->rows * m->cols, k = 0;
  mpl_mat *all = mpl__new_mat(L, fn, 1, n, 0);
  check(L, fn, mpl__unique(m, all->data, &k));
  mpl_mat *v;
  int err = mpl_mat_sub(&v, all, 0, 0, 1, k);
  mpl__push_result(L, fn, err, v);
  return 1;
}

/* m:cumsum([dim] [, opts]) and m:cumprod (op 1): opts.out. */
int mpl__l_cumulate(lua_State *L) {
  const char *fn;
  int prod = mpl__row_op(L, &fn);
  static const char *const known[] = {"out", NULL};
  shaped a = shaped_args(L, fn, known, NULL);
  check(L, fn, mpl__cumulate(a.m, a.dim, prod, a.out));
  return 1;
}

/* m:diff([dim]): along each row (no dim or 2) or down each column. */
int mpl__l_diff(lua_State *L) {
  const char *fn = "m:diff";
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  int dim = dim_at(L, 2, fn, NULL);
  if (!dim) dim = 2;
  size_t r = m->rows, c = m->cols;
  if (dim == 1)
    r = r ? r - 1 : 0;
  else
    c = c ? c - 1 : 0;
  check(L, fn, mpl__diff(m, dim, mpl__new_mat(L, fn, r, c, 0)));
  return 1;
}

/* mat.cov(m) and mat.corrcoef (op 1): the columns are the variables. */
int mpl__l_cov(lua_State *L) {
  const char *fn;
  int corr = mpl__row_op(L, &fn);
  mpl_mat *m = mpl__check_mat(L, 1, fn);
  check(L, fn, mpl__cov(m, corr, mpl__new_mat(L, fn, m->cols, m->cols, 0)));
  return 1;
}

/* ---------------------------------------------------------------------- */
/* random integers and samples (the generator of mat.rand)                */
/* ---------------------------------------------------------------------- */

/* mat.randint(lo, hi, r, c): integers from lo to hi inclusive. */
int mpl__l_randint(lua_State *L) {
  const char *fn = "mat.randint";
  lua_Integer lo = mpl__check_int(L, 1, fn, "lo");
  lua_Integer hi = mpl__check_int(L, 2, fn, "hi");
  size_t r = mpl__check_size(L, 3, fn, "rows");
  size_t c = mpl__check_size(L, 4, fn, "cols");
  if (hi < lo)
    return luaL_error(L, "%s: hi must be at least lo (got %I and %I)", fn,
                      (LUAI_UACINT)lo, (LUAI_UACINT)hi);
  const lua_Integer big = (lua_Integer)1 << 53; /* exact as doubles */
  if (lo < -big || hi > big)
    return luaL_error(L, "%s: lo and hi must be within +-2^53", fn);
  mpl_mat *m = mpl__new_mat(L, fn, r, c, 0);
  mpl__randint(mpl__get_rng(L), (double)lo, (uint64_t)(hi - lo), m->data,
               r * c);
  return 1;
}

/* mat.permutation(n): 1..n in a random order, 1 x n. */
int mpl__l_permutation(lua_State *L) {
  const char *fn = "mat.permutation";
  size_t n = mpl__check_size(L, 1, fn, "n");
  mpl_mat *m = mpl__new_mat(L, fn, 1, n, 0);
  check(L, fn, mpl__permutation(mpl__get_rng(L), m->data, n));
  return 1;
}

/* mat.choice(m, k [, opts]): k elements of m (or of 1..m for a number),
** 1 x k; opts.replace (default true, as NumPy). */
int mpl__l_choice(lua_State *L) {
  static const char *const known[] = {"replace", NULL};
  const char *fn = "mat.choice";
  int replace = 1;
  size_t k = mpl__check_size(L, 2, fn, "k");
  if (mpl__check_opts(L, 3, fn, known) &&
      lua_getfield(L, 3, "replace") != LUA_TNIL)
    replace = lua_toboolean(L, -1);
  mpl_mat *src;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    size_t n = mpl__check_size(L, 1, fn, "n");
    src = mpl__new_mat(L, fn, 1, n, 0);
    for (size_t i = 0; i < n; i++) src->data[i] = (double)(i + 1);
  } else {
    mpl_mat *m = mpl__check_mat(L, 1, fn), *v;
    int err = mpl_mat_copy(&v, m); /* contiguous, in row order */
    mpl__push_result(L, fn, err, v);
    src = v;
  }
  size_t n = src->rows * src->cols;
  if (!replace && k > n)
    return luaL_error(L,
                      "%s: cannot take %I of %I elements without "
                      "replacement",
                      fn, (LUAI_UACINT)k, (LUAI_UACINT)n);
  if (k && !n)
    return luaL_error(L, "%s: nothing to choose from (0 elements)", fn);
  mpl_mat *out = mpl__new_mat(L, fn, 1, k, 0);
  check(L, fn,
        mpl__choice(mpl__get_rng(L), src->data, n, k, replace, out->data));
  return 1;
}
