/*
** llinalg.c: the Lua side of linear algebra -- mat.solve, m:inv, m:det,
** mat.chol, mat.eigh, mat.svd, mat.lstsq, mat.qr, mat.eig, mat.pinv,
** mat.rank, mat.cond, m:norm (linalg.c does the work).
**
** Shapes are checked here first, so the results can be made as Lua values
** before LAPACK runs; a failure then raises with nothing to release.
*/
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "arith.h"
#include "lmat.h"

#define SHAPE(m) (LUAI_UACINT)(m)->rows, (LUAI_UACINT)(m)->cols

/* Raise the error of a failed call: what LAPACK found, or the core code. */
static int la_error(lua_State *L, const char *fn, int err,
                    const mpl__la_info *info) {
  if (err == MPL_EINVAL) switch (info->why) {
    case MPL__LA_SINGULAR:
      return luaL_error(L, "%s: matrix is singular", fn);
    case MPL__LA_ILLCOND: {
      char rc[32];
      snprintf(rc, sizeof rc, "%.2g", info->rcond);
      return luaL_error(L,
                        "%s: matrix is singular to working precision "
                        "(reciprocal condition number %s)",
                        fn, rc);
    }
    case MPL__LA_NOTPD:
      return luaL_error(L, "%s: matrix is not positive definite", fn);
    case MPL__LA_NOTSYM:
      return luaL_error(L, "%s: matrix is not symmetric", fn);
    case MPL__LA_NONFINITE:
      return luaL_error(L, "%s: matrix contains NaN or infinity", fn);
    case MPL__LA_NOCONV:
      return luaL_error(L, "%s: the computation did not converge", fn);
    default:
      break;
    }
  return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
}

static void need_square(lua_State *L, const mpl_mat *a, const char *fn) {
  if (a->rows != a->cols)
    luaL_error(L, "%s: matrix is not square (%Ix%I)", fn, SHAPE(a));
}

/* The matrix at 1, which must be square. */
static mpl_mat *check_square(lua_State *L, const char *fn) {
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  need_square(L, a, fn);
  return a;
}

/* The operands of mat.solve and mat.lstsq must have as many rows. */
static void same_rows(lua_State *L, const mpl_mat *a, const mpl_mat *b,
                      const char *fn) {
  if (b->rows != a->rows)
    luaL_error(L, "%s: shape mismatch: %Ix%I and %Ix%I", fn, SHAPE(a),
               SHAPE(b));
}

/* m:inv and mat.chol: op from a square A to a result of its shape. */
static int square_op(lua_State *L, const char *fn,
                     int (*op)(const mpl_mat *, mpl_mat *, mpl__la_info *)) {
  mpl_mat *a = check_square(L, fn);
  mpl_mat *x = mpl__new_mat(L, fn, a->rows, a->cols, 0);
  mpl__la_info info;
  int err = op(a, x, &info);
  return err ? la_error(L, fn, err, &info) : 1;
}

/* mat.solve(A, B): X with A X = B. */
int mpl__l_solve(lua_State *L) {
  const char *fn = "mat.solve";
  mpl_mat *a = mpl__check_mat(L, 1, fn), *b = mpl__check_mat(L, 2, fn);
  need_square(L, a, fn);
  same_rows(L, a, b, fn);
  mpl_mat *x = mpl__new_mat(L, fn, a->cols, b->cols, 0);
  mpl__la_info info;
  int err = mpl__la_solve(a, b, x, &info);
  return err ? la_error(L, fn, err, &info) : 1;
}

int mpl__l_inv(lua_State *L) { return square_op(L, "m:inv", mpl__la_inv); }

int mpl__l_det(lua_State *L) {
  const char *fn = "m:det";
  mpl_mat *a = check_square(L, fn);
  mpl__la_info info;
  double d = 0;
  int err = mpl__la_det(a, &d, &info);
  if (err) return la_error(L, fn, err, &info);
  lua_pushnumber(L, d);
  return 1;
}

/* mat.chol(A): upper triangular R with R^T R = A. */
int mpl__l_chol(lua_State *L) { return square_op(L, "mat.chol", mpl__la_chol); }

/* mat.eigh(A): eigenvalues (1 x n, ascending), eigenvectors (columns). */
int mpl__l_eigh(lua_State *L) {
  const char *fn = "mat.eigh";
  mpl_mat *a = check_square(L, fn);
  mpl_mat *w = mpl__new_mat(L, fn, 1, a->rows, 0);
  mpl_mat *v = mpl__new_mat(L, fn, a->rows, a->rows, 0);
  mpl__la_info info;
  int err = mpl__la_eigh(a, w, v, &info);
  return err ? la_error(L, fn, err, &info) : 2;
}

/* mat.svd(A [, opts]): U, S (1 x k), V with A = U diag(S) V^T; thin
** unless opts.full. */
int mpl__l_svd(lua_State *L) {
  const char *fn = "mat.svd";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  int full = 0;
  static const char *const known[] = {"full", NULL};
  if (mpl__check_opts(L, 2, fn, known)) {
    lua_getfield(L, 2, "full");
    full = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  size_t m = a->rows, n = a->cols, k = m < n ? m : n;
  mpl_mat *u = mpl__new_mat(L, fn, m, full ? m : k, 0);
  mpl_mat *s = mpl__new_mat(L, fn, 1, k, 0);
  mpl_mat *v = mpl__new_mat(L, fn, n, full ? n : k, 0);
  mpl__la_info info;
  int err = mpl__la_svd(a, full, u, s, v, &info);
  return err ? la_error(L, fn, err, &info) : 3;
}

/* mat.lstsq(A, B [, opts]): X minimising ||A X - B||, the rank of A and
** its singular values; opts.rcond is the relative cut for small singular
** values. */
int mpl__l_lstsq(lua_State *L) {
  const char *fn = "mat.lstsq";
  mpl_mat *a = mpl__check_mat(L, 1, fn), *b = mpl__check_mat(L, 2, fn);
  double rcond = -1;
  static const char *const known[] = {"rcond", NULL};
  if (mpl__check_opts(L, 3, fn, known)) {
    if (lua_getfield(L, 3, "rcond") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) >= 0))
        return luaL_error(L,
                          "%s: opts.rcond must be a non-negative number "
                          "(got %s)",
                          fn, mpl__got(L, -1));
      rcond = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
  }
  same_rows(L, a, b, fn);
  size_t k = a->rows < a->cols ? a->rows : a->cols;
  mpl_mat *x = mpl__new_mat(L, fn, a->cols, b->cols, 0);
  lua_pushnil(L); /* the rank's place */
  mpl_mat *s = mpl__new_mat(L, fn, 1, k, 0);
  mpl__la_info info;
  int rank = 0;
  int err = mpl__la_lstsq(a, b, rcond, x, &rank, s, &info);
  if (err) return la_error(L, fn, err, &info);
  lua_pushinteger(L, rank);
  lua_replace(L, -3);
  return 3;
}

/* mat.qr(A): Q (m x k), R (k x n), k = min(m, n). */
int mpl__l_qr(lua_State *L) {
  const char *fn = "mat.qr";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  size_t k = a->rows < a->cols ? a->rows : a->cols;
  mpl_mat *q = mpl__new_mat(L, fn, a->rows, k, 0);
  mpl_mat *r = mpl__new_mat(L, fn, k, a->cols, 0);
  mpl__la_info info;
  int err = mpl__la_qr(a, q, r, &info);
  return err ? la_error(L, fn, err, &info) : 2;
}

/* mat.eig(A): wr, wi (1 x n), VR, VI (n x n): eigenvalues and
** eigenvectors as real and imaginary parts. */
int mpl__l_eig(lua_State *L) {
  const char *fn = "mat.eig";
  mpl_mat *a = check_square(L, fn);
  size_t n = a->rows;
  mpl_mat *wr = mpl__new_mat(L, fn, 1, n, 0),
          *wi = mpl__new_mat(L, fn, 1, n, 0);
  mpl_mat *vr = mpl__new_mat(L, fn, n, n, 0),
          *vi = mpl__new_mat(L, fn, n, n, 0);
  mpl__la_info info;
  int err = mpl__la_eig(a, wr, wi, vr, vi, &info);
  return err ? la_error(L, fn, err, &info) : 4;
}

/* A non-negative number at idx, or def when absent. */
static double opt_tol(lua_State *L, int idx, const char *fn, const char *what,
                      double def) {
  if (lua_isnoneornil(L, idx)) return def;
  double v = mpl__check_num(L, idx, fn, what);
  if (!(v >= 0))
    luaL_error(L, "%s: %s must be a non-negative number (got %s)", fn, what,
               mpl__got(L, idx));
  return v;
}

/* mat.pinv(A [, rcond]): singular values up to rcond (1e-15, NumPy's
** default) times the largest count as zero. */
int mpl__l_pinv(lua_State *L) {
  const char *fn = "mat.pinv";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  double rcond = opt_tol(L, 2, fn, "rcond", 1e-15);
  mpl_mat *x = mpl__new_mat(L, fn, a->cols, a->rows, 0);
  mpl__la_info info;
  int err = mpl__la_pinv(a, rcond, x, &info);
  return err ? la_error(L, fn, err, &info) : 1;
}

/* The singular values of the matrix at 1, pushed. */
static mpl_mat *svals(lua_State *L, const char *fn) {
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  size_t k = a->rows < a->cols ? a->rows : a->cols;
  mpl_mat *s = mpl__new_mat(L, fn, 1, k, 0);
  mpl__la_info info;
  int err = mpl__la_svals(a, s, &info);
  if (err) la_error(L, fn, err, &info);
  return s;
}

/* mat.rank(A [, tol]): singular values above tol; by default NumPy's
** largest singular value * max(m, n) * machine epsilon. */
int mpl__l_rank(lua_State *L) {
  const char *fn = "mat.rank";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  double tol = opt_tol(L, 2, fn, "tol", -1);
  mpl_mat *s = svals(L, fn);
  size_t k = s->cols, big = a->rows > a->cols ? a->rows : a->cols, r = 0;
  if (tol < 0) tol = k ? MPL_AT(s, 0, 0) * (double)big * DBL_EPSILON : 0;
  for (size_t j = 0; j < k; j++) r += MPL_AT(s, 0, j) > tol;
  lua_pushinteger(L, (lua_Integer)r);
  return 1;
}

/* mat.cond(A): the 2-norm condition number, largest over smallest
** singular value (infinity for a singular matrix). */
int mpl__l_cond(lua_State *L) {
  const char *fn = "mat.cond";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  if (!a->rows || !a->cols)
    return luaL_error(L, "%s: matrix is empty (%Ix%I)", fn, SHAPE(a));
  mpl_mat *s = svals(L, fn);
  lua_pushnumber(L, MPL_AT(s, 0, 0) / MPL_AT(s, 0, s->cols - 1));
  return 1;
}

/* m:norm([ord]): "fro" (default), 1, 2, math.huge or "nuc", as NumPy's
** matrix norms. */
int mpl__l_norm(lua_State *L) {
  const char *fn = "m:norm";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  int ord = -1, t = lua_type(L, 2);
  if (t == LUA_TNONE || t == LUA_TNIL) {
    ord = MPL__NORM_FRO;
  } else if (t == LUA_TSTRING) {
    const char *s = lua_tostring(L, 2);
    ord = strcmp(s, "fro") == 0   ? MPL__NORM_FRO
          : strcmp(s, "nuc") == 0 ? MPL__NORM_NUC
                                  : -1;
  } else if (t == LUA_TNUMBER) {
    double v = lua_tonumber(L, 2);
    ord = v == 1          ? MPL__NORM_1
          : v == 2        ? MPL__NORM_2
          : v == HUGE_VAL ? MPL__NORM_INF
                          : -1;
  }
  if (ord < 0)
    return luaL_error(L,
                      "%s: ord must be \"fro\", 1, 2, math.huge or "
                      "\"nuc\" (got %s)",
                      fn, mpl__got(L, 2));
  double v = 0;
  mpl__la_info info;
  int err = mpl__la_norm(a, ord, &v, &info);
  if (err) return la_error(L, fn, err, &info);
  lua_pushnumber(L, v);
  return 1;
}
