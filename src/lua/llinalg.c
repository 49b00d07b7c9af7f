/*
** llinalg.c: the Lua side of linear algebra -- mat.solve, m:inv, m:det,
** mat.chol, mat.eigh, mat.svd, mat.lstsq (linalg.c does the work).
**
** Shapes are checked here first, so the results can be made as Lua values
** before LAPACK runs; a failure then raises with nothing to release.
*/
#include <stdio.h>

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
      return luaL_error(L, "%s: matrix is singular to working precision "
                           "(reciprocal condition number %s)", fn, rc);
    }
    case MPL__LA_NOTPD:
      return luaL_error(L, "%s: matrix is not positive definite", fn);
    case MPL__LA_NOTSYM:
      return luaL_error(L, "%s: matrix is not symmetric", fn);
    case MPL__LA_NONFINITE:
      return luaL_error(L, "%s: matrix contains NaN or infinity", fn);
    case MPL__LA_NOCONV:
      return luaL_error(L, "%s: the computation did not converge", fn);
    default: break;
    }
  return luaL_error(L, "%s: %s", fn, mpl_strerror(err));
}

static void need_square(lua_State *L, const mpl_mat *a, const char *fn) {
  if (a->rows != a->cols)
    luaL_error(L, "%s: matrix is not square (%Ix%I)", fn, SHAPE(a));
}

/* mat.solve(A, B): X with A X = B. */
static int l_solve(lua_State *L) {
  const char *fn = "mat.solve";
  mpl_mat *a = mpl__check_mat(L, 1, fn), *b = mpl__check_mat(L, 2, fn);
  need_square(L, a, fn);
  if (b->rows != a->rows)
    return luaL_error(L, "%s: shape mismatch: %Ix%I and %Ix%I", fn, SHAPE(a),
                      SHAPE(b));
  mpl_mat *x = mpl__new_mat(L, fn, a->cols, b->cols, 0);
  mpl__la_info info;
  int err = mpl__la_solve(a, b, x, &info);
  return err ? la_error(L, fn, err, &info) : 1;
}

static int l_inv(lua_State *L) {
  const char *fn = "m:inv";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  need_square(L, a, fn);
  mpl_mat *x = mpl__new_mat(L, fn, a->rows, a->cols, 0);
  mpl__la_info info;
  int err = mpl__la_inv(a, x, &info);
  return err ? la_error(L, fn, err, &info) : 1;
}

static int l_det(lua_State *L) {
  const char *fn = "m:det";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  need_square(L, a, fn);
  mpl__la_info info;
  double d = 0;
  int err = mpl__la_det(a, &d, &info);
  if (err) return la_error(L, fn, err, &info);
  lua_pushnumber(L, d);
  return 1;
}

/* mat.chol(A): upper triangular R with R^T R = A. */
static int l_chol(lua_State *L) {
  const char *fn = "mat.chol";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  need_square(L, a, fn);
  mpl_mat *r = mpl__new_mat(L, fn, a->rows, a->cols, 0);
  mpl__la_info info;
  int err = mpl__la_chol(a, r, &info);
  return err ? la_error(L, fn, err, &info) : 1;
}

/* mat.eigh(A): eigenvalues (1 x n, ascending), eigenvectors (columns). */
static int l_eigh(lua_State *L) {
  const char *fn = "mat.eigh";
  mpl_mat *a = mpl__check_mat(L, 1, fn);
  need_square(L, a, fn);
  mpl_mat *w = mpl__new_mat(L, fn, 1, a->rows, 0);
  mpl_mat *v = mpl__new_mat(L, fn, a->rows, a->rows, 0);
  mpl__la_info info;
  int err = mpl__la_eigh(a, w, v, &info);
  return err ? la_error(L, fn, err, &info) : 2;
}

/* mat.svd(A [, opts]): U, S (1 x k), V with A = U diag(S) V^T; thin
** unless opts.full. */
static int l_svd(lua_State *L) {
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
static int l_lstsq(lua_State *L) {
  const char *fn = "mat.lstsq";
  mpl_mat *a = mpl__check_mat(L, 1, fn), *b = mpl__check_mat(L, 2, fn);
  double rcond = -1;
  static const char *const known[] = {"rcond", NULL};
  if (mpl__check_opts(L, 3, fn, known)) {
    if (lua_getfield(L, 3, "rcond") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) >= 0))
        return luaL_error(L, "%s: opts.rcond must be a non-negative number "
                             "(got %s)", fn, mpl__got(L, -1));
      rcond = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
  }
  if (b->rows != a->rows)
    return luaL_error(L, "%s: shape mismatch: %Ix%I and %Ix%I", fn, SHAPE(a),
                      SHAPE(b));
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

static const luaL_Reg both[] = {
  {"inv", l_inv},   {"det", l_det}, {"chol", l_chol},
  {"eigh", l_eigh}, {"svd", l_svd}, {NULL, NULL}};

static const luaL_Reg mod_only[] = {
  {"solve", l_solve}, {"lstsq", l_lstsq}, {NULL, NULL}};

/* inv, det, chol, eigh and svd are also methods; solve and lstsq, with two
** operands, are module functions only. */
void mpl__open_linalg(lua_State *L, int mod, int mt, int methods) {
  (void)mt;
  lua_pushvalue(L, mod);
  mpl__setfuncs(L, both);
  mpl__setfuncs(L, mod_only);
  lua_pop(L, 1);
  lua_pushvalue(L, methods);
  mpl__setfuncs(L, both);
  lua_pop(L, 1);
}
