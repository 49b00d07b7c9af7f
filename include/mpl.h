/*
** mpl.h: the one public header of the mpl matrix engine.
**
** Matrices are 2-D float64 arrays whose data lives in a shared-memory arena
** that forked worker processes can read and write without copying.  A
** matrix handle (mpl_mat) is a refcounted view: a shape, two strides and an
** offset into a refcounted storage block.  Views keep their storage alive.
**
** Conventions: functions return 0 or a negative MPL_E* code (mpl_strerror
** explains it); nothing here calls exit() or prints.  Indices are 0-based in
** C (the Lua module is 1-based).  Strides count elements, not bytes.
*/
#ifndef MPL_H
#define MPL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MPL_API __attribute__((visibility("default")))
#else
#define MPL_API
#endif

#define MPL_VERSION_MAJOR 0
#define MPL_VERSION_MINOR 1
#define MPL_VERSION_PATCH 0
#define MPL_VERSION "0.1.0"

/* Error codes: one list feeds the enum and mpl_strerror. */
#define MPL_ERRNO_MAP(X)                                              \
  X(EINVAL, -1, "invalid argument")                                   \
  X(ENOMEM, -2, "out of memory")                                      \
  X(EOVERFLOW, -3, "size too large")                                  \
  X(ESHAPE, -4, "shape mismatch")                                     \
  X(ERANGE, -5, "index out of range")                                 \
  X(ESYS, -6, "system call failed")                                   \
  X(ENOTCONTIG, -7, "matrix is not contiguous")                       \
  X(EWORKER, -8, "worker process failed")                             \
  X(EINTR, -9, "interrupted")                                         \
  X(EIO, -10, "input/output error")                                   \
  X(EFORMAT, -11, "malformed file")

enum {
#define MPL_ERRNO_ENUM(name, code, msg) MPL_##name = (code),
  MPL_ERRNO_MAP(MPL_ERRNO_ENUM)
#undef MPL_ERRNO_ENUM
  MPL_OK = 0
};

/* A short English explanation of an MPL_E* code ("unknown error" else). */
MPL_API const char *mpl_strerror(int code);

/* Library version as "MAJOR.MINOR.PATCH". */
MPL_API const char *mpl_version(void);

typedef struct mpl_mat mpl_mat;

/*
** Creation.  New matrices are zero-filled and live in shared memory; their
** pages are reserved here, so running out of memory is MPL_ENOMEM now and
** never a SIGBUS later.  A size whose byte count overflows is
** MPL_EOVERFLOW.  The caller owns one reference to *out.
*/
MPL_API int mpl_mat_new(mpl_mat **out, size_t rows, size_t cols);

/* A new contiguous copy of m in shared memory. */
MPL_API int mpl_mat_copy(mpl_mat **out, const mpl_mat *m);

/*
** Views share m's storage and keep it alive.  mpl_mat_sub takes rows
** r0..r0+nr-1 and columns c0..c0+nc-1 (0-based); mpl_mat_transpose swaps
** the strides; mpl_mat_reshape gives a view when m is contiguous and
** MPL_ENOTCONTIG otherwise (copy first).  MPL_ERANGE or MPL_ESHAPE when the
** request does not fit.
*/
MPL_API int mpl_mat_sub(mpl_mat **out, const mpl_mat *m, size_t r0, size_t c0,
                        size_t nr, size_t nc);
MPL_API int mpl_mat_transpose(mpl_mat **out, const mpl_mat *m);
MPL_API int mpl_mat_reshape(mpl_mat **out, const mpl_mat *m, size_t rows,
                            size_t cols);

/* Reference counting; release frees the handle and, with the last view,
** returns the storage to the system.  Both accept NULL. */
MPL_API mpl_mat *mpl_mat_retain(mpl_mat *m);
MPL_API void mpl_mat_release(mpl_mat *m);

/* Shape, strides (in elements) and the address of element (0, 0).
** Element (i, j) is at data[i * rstride + j * cstride]. */
MPL_API size_t mpl_mat_rows(const mpl_mat *m);
MPL_API size_t mpl_mat_cols(const mpl_mat *m);
MPL_API ptrdiff_t mpl_mat_rstride(const mpl_mat *m);
MPL_API ptrdiff_t mpl_mat_cstride(const mpl_mat *m);
MPL_API double *mpl_mat_data(const mpl_mat *m);

/* 1 when m is row-major contiguous (rstride == cols, cstride == 1). */
MPL_API int mpl_mat_is_contiguous(const mpl_mat *m);

/* 1 when a and b have the same shape and equal elements (NaN != NaN). */
MPL_API int mpl_mat_equal(const mpl_mat *a, const mpl_mat *b);

/* Copy src into dst element by element; shapes must match (MPL_ESHAPE). */
MPL_API int mpl_mat_assign(mpl_mat *dst, const mpl_mat *src);

/* Set every element to v. */
MPL_API void mpl_mat_fill(mpl_mat *m, double v);

/*
** NumPy-like text of m: a header line "mat RxC", then aligned rows, with
** "..." in place of the middle rows and columns of large matrices.  *out
** is malloc'd; the caller frees it.
*/
MPL_API int mpl_mat_format(char **out, const mpl_mat *m);

/*
** out = a * b (matrix product).  Shapes must agree (MPL_ESHAPE): a is r x k,
** b is k x c, out is r x c.  Views of any stride are accepted; out may be a
** view and may even overlap a or b.  procs is the worker count for the
** parallel path (0 for the default); the result is bitwise identical for
** every procs.
*/
MPL_API int mpl_dot(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                    int procs);

/*
** Files.  The format comes from `format` ("csv", "tsv", "txt", "npy",
** "mtx") or, when it is NULL, from the path's extension (MPL_EFORMAT when
** neither names one).  sep is the text separator (0: ',' for csv, tab for
** tsv, space for txt).  A save replaces the file only once it is fully
** written; MPL_EIO leaves errno set.
*/
MPL_API int mpl_save(const char *path, const mpl_mat *m, const char *format,
                     char sep);

/* Default worker count for parallel calls (initially the online CPUs). */
MPL_API int mpl_procs(void);
MPL_API int mpl_set_procs(int n);

/*
** Lua.  luaopen_mat opens the `mat` module (stock lua5.4 `require "mat"`).
** mpl_push pushes a new Lua matrix that holds its own reference to m;
** mpl_tomat returns the matrix at stack index idx (borrowed: valid while
** the value is reachable from Lua; retain it to keep it) or NULL when the
** value is not an open matrix.
*/
struct lua_State;
MPL_API int luaopen_mat(struct lua_State *L);
MPL_API int mpl_push(struct lua_State *L, mpl_mat *m);
MPL_API mpl_mat *mpl_tomat(struct lua_State *L, int idx);

#ifdef __cplusplus
}
#endif

#endif
