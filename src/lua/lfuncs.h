/*
** lfuncs.h: every C function of the `mat` module, in one place.
**
** A row names what a Lua user or a Lua part calls, the C function behind
** it and where it goes:
**
**   MOD       mat.f
**   METH      m:f
**   BOTH      mat.f(m, ...) and m:f(...), one C function
**   META      the matrix metatable (__add, ...)
**   PRIV      C.f, a private helper of the Lua parts (lua/\*.lua)
**   METH_RAW, META_RAW  as METH and META, without the guard that pins the
**             matrices of a call (lmat.c's DESIGN): for the few called most
**             that run no Lua code while they hold a matrix (m:get, #m)
**
** MPL__FUNCS holds a row F(name, function, where) for each C function that
** serves one name, grouped by the file that defines it.  MPL__SHARED holds
** the C functions that serve several names: F(name, function, where, op),
** op being an operation code (mat.exp's MPL__U_EXP) or a flag (mat.mean's
** 1 where mat.sum has 0); the function reads it, and the name it was
** called by ("mat.exp", "m:exp") for its messages, with mpl__row_op.
**
** A new Lua function is a row here and its C function, `int
** mpl__l_<name>(lua_State *L)` (a metamethod: mpl__mm_<name>), in the
** binding part of its area.  luaopen_mat registers the rows (lmat.c; the
** table is lparts.c's); this header declares the functions from the same
** rows.  What another userdata type has of its own (mat.ragged's methods)
** stays with that type's part.
*/
#ifndef MPL_LFUNCS_H
#define MPL_LFUNCS_H

#include <lua.h>

#include "arith.h"
#include "select.h"

#define MPL__FUNCS(F)                                                          \
  /* lmat.c: construction, access, products, the matrix's own metamethods */   \
  F("new", mpl__l_new, MOD)                                                    \
  F("eye", mpl__l_eye, MOD)                                                    \
  F("from", mpl__l_from, MOD)                                                  \
  F("seed", mpl__l_seed, MOD)                                                  \
  F("procs", mpl__l_procs, MOD)                                                \
  F("clock", mpl__l_clock, MOD)                                                \
  F("ismatrix", mpl__l_ismatrix, MOD)                                          \
  F("dot", mpl__l_dot, MOD)                                                    \
  F("range", mpl__l_range, MOD)                                                \
  F("linspace", mpl__l_linspace, MOD)                                          \
  F("zeros", mpl__l_zeros, MOD)                                                \
  F("ones", mpl__l_ones, MOD)                                                  \
  F("workers", mpl__l_workers, MOD)                                            \
  F("blas", mpl__l_blas, MOD)                                                  \
  F("__tostring", mpl__mm_tostring, META)                                      \
  F("__newindex", mpl__mm_newindex, META)                                      \
  F("__mul", mpl__mm_mul, META)                                                \
  F("__gc", mpl__mm_gc, META_RAW)                                              \
  F("__close", mpl__mm_gc, META_RAW)                                           \
  F("__eq", mpl__mm_eq, META_RAW)                                              \
  F("__len", mpl__mm_len, META_RAW)                                            \
  F("row", mpl__l_row, METH)                                                   \
  F("col", mpl__l_col, METH)                                                   \
  F("sub", mpl__l_sub, METH)                                                   \
  F("t", mpl__l_t, METH)                                                       \
  F("reshape", mpl__l_reshape, METH)                                           \
  F("copy", mpl__l_copy, METH)                                                 \
  F("totable", mpl__l_totable, METH)                                           \
  F("shape", mpl__l_shape, METH_RAW)                                           \
  F("get", mpl__l_get, METH_RAW)                                               \
  F("set", mpl__l_set, METH_RAW)                                               \
  F("close", mpl__l_close, METH_RAW)                                           \
  F("error", mpl__l_error, PRIV)                                               \
  /* lopts.c: checks shared with the Lua parts */                              \
  F("check_opts", mpl__l_check_opts, PRIV)                                     \
  F("check_int", mpl__l_check_int, PRIV)                                       \
  F("typename", mpl__l_typename, PRIV)                                         \
  /* lfiles.c: files */                                                        \
  F("load", mpl__l_load, MOD)                                                  \
  F("save", mpl__l_save, MOD)                                                  \
  /* larith.c: elementwise arithmetic, functions of one operand, reductions */ \
  F("apply", mpl__l_apply, BOTH)                                               \
  F("trace", mpl__l_trace, BOTH)                                               \
  F("diag", mpl__l_diag, BOTH)                                                 \
  F("atan2", mpl__l_atan2, BOTH)                                               \
  F("allclose", mpl__l_allclose, MOD)                                          \
  F("__add", mpl__mm_add, META)                                                \
  F("__sub", mpl__mm_sub, META)                                                \
  F("__unm", mpl__mm_unm, META)                                                \
  F("__div", mpl__mm_div, META)                                                \
  F("__pow", mpl__mm_pow, META)                                                \
  /* llinalg.c: linear algebra (LAPACK) */                                     \
  F("inv", mpl__l_inv, BOTH)                                                   \
  F("det", mpl__l_det, BOTH)                                                   \
  F("chol", mpl__l_chol, BOTH)                                                 \
  F("eigh", mpl__l_eigh, BOTH)                                                 \
  F("svd", mpl__l_svd, BOTH)                                                   \
  F("qr", mpl__l_qr, BOTH)                                                     \
  F("eig", mpl__l_eig, BOTH)                                                   \
  F("pinv", mpl__l_pinv, BOTH)                                                 \
  F("rank", mpl__l_rank, BOTH)                                                 \
  F("cond", mpl__l_cond, BOTH)                                                 \
  F("norm", mpl__l_norm, BOTH)                                                 \
  F("solve", mpl__l_solve, MOD)                                                \
  F("lstsq", mpl__l_lstsq, MOD)                                                \
  /* lmap.c: mat.map's C side (lua/map.lua) */                                 \
  F("map_items", mpl__l_map_items, PRIV)                                       \
  F("map_max_procs", mpl__l_map_max_procs, PRIV)                               \
  F("map_start", mpl__l_map_start, PRIV)                                       \
  F("map_collect", mpl__l_map_collect, PRIV)                                   \
  /* lragged.c: mat.ragged's C side (lua/ragged.lua) */                        \
  F("ragged_pack", mpl__l_ragged_pack, PRIV)                                   \
  F("ragged_wrap", mpl__l_ragged_wrap, PRIV)                                   \
  /* lprogress.c: the progress bar's terminal (lua/progress.lua) */            \
  F("stderr_isatty", mpl__l_stderr_isatty, PRIV)                               \
  F("stderr_write", mpl__l_stderr_write, PRIV)                                 \
  /* lindex.c: indexing by slices and masks */                                 \
  F("index", mpl__l_index, METH)                                               \
  F("fill", mpl__l_fill, METH)                                                 \
  F("assign", mpl__l_assign, METH)                                             \
  /* lselect.c: comparison and selection */                                    \
  F("clip", mpl__l_clip, BOTH)                                                 \
  /* lshape.c: joining, tiling and reshaping */                                \
  F("flatten", mpl__l_flatten, BOTH)                                           \
  F("tile", mpl__l_tile, BOTH)                                                 \
  F("hcat", mpl__l_hcat, MOD)                                                  \
  F("vcat", mpl__l_vcat, MOD)                                                  \
  F("cat", mpl__l_cat, MOD)                                                    \
  F("full", mpl__l_full, MOD)                                                  \
  F("outer", mpl__l_outer, MOD)                                                \
  F("kron", mpl__l_kron, MOD)                                                  \
  /* lhistogram.c: histograms */                                               \
  F("histogram", mpl__l_histogram, MOD)                                        \
  /* lplot.c: plots (lua/lazy/plot.lua) */                                     \
  F("finite_range", mpl__l_finite_range, PRIV)                                 \
  F("block_mean", mpl__l_block_mean, PRIV)                                     \
  F("braille", mpl__l_braille, PRIV)                                           \
  F("term_size", mpl__l_term_size, PRIV)                                       \
  F("gnuplot", mpl__l_gnuplot, PRIV)                                           \
  /* lmpi.c: MPI (lua/mpi.lua) */                                              \
  F("mpi_pack", mpl__l_mpi_pack, PRIV)                                         \
  F("mpi_bcast", mpl__l_mpi_bcast, PRIV)                                       \
  F("mpi_send", mpl__l_mpi_send, PRIV)                                         \
  F("mpi_recv", mpl__l_mpi_recv, PRIV)                                         \
  F("mpi_agree", mpl__l_mpi_agree, PRIV)                                       \
  F("mpi_info", mpl__l_mpi_info, PRIV)                                         \
  F("mpi_barrier", mpl__l_mpi_barrier, PRIV)                                   \
  F("mpi_block", mpl__l_mpi_block, PRIV)                                       \
  F("mpi_dot", mpl__l_mpi_dot, PRIV)                                           \
  F("mpi_gram", mpl__l_mpi_gram, PRIV)                                         \
  F("mpi_seed_item", mpl__l_mpi_seed_item, PRIV)                               \
  F("mpi_set_rows", mpl__l_mpi_set_rows, PRIV)                                 \
  F("mpi_bcast_into", mpl__l_mpi_bcast_into, PRIV)                             \
  F("mpi_combine", mpl__l_mpi_combine, PRIV)                                   \
  F("mpi_pread", mpl__l_mpi_pread, PRIV)                                       \
  F("mpi_save_like", mpl__l_mpi_save_like, PRIV)                               \
  F("mpi_follow", mpl__l_mpi_follow, PRIV)                                     \
  F("mpi_pwrite", mpl__l_mpi_pwrite, PRIV)                                     \
  /* lhelp.c: help (lua/help.lua) */                                           \
  F("doc_pages", mpl__l_doc_pages, PRIV)                                       \
  F("load_lazy", mpl__l_load_lazy, PRIV)                                       \
  F("registry", mpl__l_registry, PRIV)                                         \
  /* lstats.c: statistics, sorting, random draws */                            \
  F("prod", mpl__l_prod, BOTH)                                                 \
  F("median", mpl__l_median, BOTH)                                             \
  F("quantile", mpl__l_quantile, BOTH)                                         \
  F("unique", mpl__l_unique, BOTH)                                             \
  F("diff", mpl__l_diff, BOTH)                                                 \
  F("randint", mpl__l_randint, MOD)                                            \
  F("permutation", mpl__l_permutation, MOD)                                    \
  F("choice", mpl__l_choice, MOD)

#define MPL__SHARED(F)                                                         \
  /* an operation code: larith.c, lselect.c */                                 \
  F("add", mpl__l_binop, BOTH, MPL__B_ADD)                                     \
  F("subtract", mpl__l_binop, BOTH, MPL__B_SUB)                                \
  F("mul", mpl__l_binop, BOTH, MPL__B_MUL)                                     \
  F("div", mpl__l_binop, BOTH, MPL__B_DIV)                                     \
  F("pow", mpl__l_binop, BOTH, MPL__B_POW)                                     \
  F("exp", mpl__l_unary, BOTH, MPL__U_EXP)                                     \
  F("log", mpl__l_unary, BOTH, MPL__U_LOG)                                     \
  F("sqrt", mpl__l_unary, BOTH, MPL__U_SQRT)                                   \
  F("abs", mpl__l_unary, BOTH, MPL__U_ABS)                                     \
  F("sin", mpl__l_unary, BOTH, MPL__U_SIN)                                     \
  F("cos", mpl__l_unary, BOTH, MPL__U_COS)                                     \
  F("tanh", mpl__l_unary, BOTH, MPL__U_TANH)                                   \
  F("floor", mpl__l_unary, BOTH, MPL__U_FLOOR)                                 \
  F("ceil", mpl__l_unary, BOTH, MPL__U_CEIL)                                   \
  F("tan", mpl__l_unary, BOTH, MPL__U_TAN)                                     \
  F("asin", mpl__l_unary, BOTH, MPL__U_ASIN)                                   \
  F("acos", mpl__l_unary, BOTH, MPL__U_ACOS)                                   \
  F("atan", mpl__l_unary, BOTH, MPL__U_ATAN)                                   \
  F("sinh", mpl__l_unary, BOTH, MPL__U_SINH)                                   \
  F("cosh", mpl__l_unary, BOTH, MPL__U_COSH)                                   \
  F("log2", mpl__l_unary, BOTH, MPL__U_LOG2)                                   \
  F("log10", mpl__l_unary, BOTH, MPL__U_LOG10)                                 \
  F("log1p", mpl__l_unary, BOTH, MPL__U_LOG1P)                                 \
  F("expm1", mpl__l_unary, BOTH, MPL__U_EXPM1)                                 \
  F("round", mpl__l_unary, BOTH, MPL__U_ROUND)                                 \
  F("trunc", mpl__l_unary, BOTH, MPL__U_TRUNC)                                 \
  F("sign", mpl__l_unary, BOTH, MPL__U_SIGN)                                   \
  F("lt", mpl__l_select, BOTH, MPL__S_LT)                                      \
  F("le", mpl__l_select, BOTH, MPL__S_LE)                                      \
  F("gt", mpl__l_select, BOTH, MPL__S_GT)                                      \
  F("ge", mpl__l_select, BOTH, MPL__S_GE)                                      \
  F("eq", mpl__l_select, BOTH, MPL__S_EQ)                                      \
  F("ne", mpl__l_select, BOTH, MPL__S_NE)                                      \
  F("isnan", mpl__l_select, BOTH, MPL__S_ISNAN)                                \
  F("isinf", mpl__l_select, BOTH, MPL__S_ISINF)                                \
  F("isfinite", mpl__l_select, BOTH, MPL__S_ISFINITE)                          \
  F("where", mpl__l_select, MOD, MPL__S_WHERE)                                 \
  F("maximum", mpl__l_select, MOD, MPL__S_MAX)                                 \
  F("minimum", mpl__l_select, MOD, MPL__S_MIN)                                 \
  /* a flag: larith.c, lmat.c, lselect.c, lshape.c, lstats.c */                \
  F("rand", mpl__l_rand, MOD, 0)                                               \
  F("randn", mpl__l_rand, MOD, 1)                                              \
  F("sum", mpl__l_sum_mean, BOTH, 0)                                           \
  F("mean", mpl__l_sum_mean, BOTH, 1)                                          \
  F("min", mpl__l_minmax, BOTH, 0)                                             \
  F("max", mpl__l_minmax, BOTH, 1)                                             \
  F("any", mpl__l_count, BOTH, 1)                                              \
  F("all", mpl__l_count, BOTH, 2)                                              \
  F("count", mpl__l_count, BOTH, 0)                                            \
  F("tril", mpl__l_triangle, BOTH, 0)                                          \
  F("triu", mpl__l_triangle, BOTH, 1)                                          \
  F("var", mpl__l_var_std, BOTH, 0)                                            \
  F("std", mpl__l_var_std, BOTH, 1)                                            \
  F("argmax", mpl__l_argext, BOTH, 1)                                          \
  F("argmin", mpl__l_argext, BOTH, 0)                                          \
  F("sort", mpl__l_sort, BOTH, 0)                                              \
  F("argsort", mpl__l_sort, BOTH, 1)                                           \
  F("cumsum", mpl__l_cumulate, BOTH, 0)                                        \
  F("cumprod", mpl__l_cumulate, BOTH, 1)                                       \
  F("cov", mpl__l_cov, MOD, 0)                                                 \
  F("corrcoef", mpl__l_cov, MOD, 1)

/* Where a row goes (its `where`, with MPL__ prefixed). */
enum {
  MPL__MOD = 1,
  MPL__METH = 2,
  MPL__BOTH = MPL__MOD | MPL__METH,
  MPL__META = 4,
  MPL__PRIV = 8,
  MPL__RAW = 16, /* registered without the guard */
  MPL__METH_RAW = MPL__METH | MPL__RAW,
  MPL__META_RAW = MPL__META | MPL__RAW,
  MPL__OP = 32 /* a row of MPL__SHARED: the function gets its op */
};

typedef struct mpl__func {
  const char *name; /* NULL ends the table */
  lua_CFunction func;
  int where; /* MPL__MOD, ...; MPL__OP for a row of MPL__SHARED */
  int op;
} mpl__func;

/* The rows of both lists, in order (lparts.c). */
extern const mpl__func mpl__funcs[];

#define MPL__DECLARE(name, func, ...) int func(lua_State *L);
MPL__FUNCS(MPL__DECLARE)
MPL__SHARED(MPL__DECLARE)
#undef MPL__DECLARE

/* For a function of MPL__SHARED: its row's op, and in *fn the name it was
** called by ("mat.exp" or "m:exp"), for its messages. */
int mpl__row_op(lua_State *L, const char **fn);

#endif
