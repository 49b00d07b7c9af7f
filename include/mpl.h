/*
** mpl.h: the one public header of the mpl matrix engine.
**
** Matrices are 2-D float64 arrays whose data lives in a shared-memory arena
** that forked worker processes can read and write without copying.  A
** matrix handle (mpl_mat) is a refcounted view: a shape, two strides and an
** offset into a refcounted storage block.  Views keep their storage alive.
**
** Conventions: functions return 0 or a negative MPL_E* code (mpl_strerror
** explains it); nothing here calls exit() or prints.  A function that makes
** a matrix stores it in *out (NULL on failure) and the caller owns that one
** reference.  Accessors need a valid, non-NULL handle.  Indices are 0-based
** in C (the Lua module is 1-based).  Strides count elements, not bytes.
**
** Threads: matrices may be made, viewed, multiplied and released from
** several threads at once (the allocator locks, reference counts are
** atomic); concurrent writes to the same elements are the caller's to
** order.  Processes: a forked child sees every matrix the engine allocated,
** at the same address, and its writes reach the parent; it must not free
** them (releasing an inherited handle there is harmless).
**
** Reference with examples: docs/c-api.md.
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
#define MPL_ERRNO_MAP(X)                                                       \
  X(EINVAL, -1, "invalid argument")                                            \
  X(ENOMEM, -2, "out of memory")                                               \
  X(EOVERFLOW, -3, "size too large")                                           \
  X(ESHAPE, -4, "shape mismatch")                                              \
  X(ERANGE, -5, "index out of range")                                          \
  X(ESYS, -6, "system call failed")                                            \
  X(ENOTCONTIG, -7, "matrix is not contiguous")                                \
  X(EWORKER, -8, "worker process failed")                                      \
  X(EINTR, -9, "interrupted")                                                  \
  X(EIO, -10, "input/output error")                                            \
  X(EFORMAT, -11, "malformed file")

enum {
#define MPL_ERRNO_ENUM(name, code, msg) MPL_##name = (code),
  MPL_ERRNO_MAP(MPL_ERRNO_ENUM)
#undef MPL_ERRNO_ENUM
      MPL_OK = 0
};

/* A short English explanation of an MPL_E* code ("unknown error" else). */
MPL_API const char *mpl_strerror(int code);

/* The detail of this thread's last failure that has one (which worker
** died and how, for example), or "" ; valid until the next failing call. */
MPL_API const char *mpl_errmsg(void);

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

/* A new contiguous copy of m (any view, wrapped or not) in shared memory.
** MPL_EINVAL when m is NULL. */
MPL_API int mpl_mat_copy(mpl_mat **out, const mpl_mat *m);

/*
** Memory the caller owns.  mpl_mat_wrap makes a rows x cols matrix over
** `data` without copying it: element (i, j) is data[i * rstride + j *
** cstride] (strides in elements; a C array double a[r][c] is rstride = c,
** cstride = 1; a column-major one is rstride = 1, cstride = r).  The calling
** process reads and writes that memory in place, through Lua too.  It is
** NOT visible to worker processes (it is not in the shared arena): parallel
** calls copy a wrapped input into shared memory first and write a wrapped
** output through a shared temporary, so results are the same but large
** wrapped operands cost a copy; use mpl_mat_from (or mpl_mat_new and fill
** it) for data that workers should share.  The memory must stay valid until
** the last view of the matrix is released; then release(ctx) is called
** (when release is not NULL), in the wrapping process only, never in a
** forked child.  `free` with ctx = data hands a malloc'd array over.
** On failure *out is NULL, release is not called and the memory remains the
** caller's.  MPL_EINVAL: data NULL (for a non-empty matrix) or not aligned
** for double, a negative stride, or a layout whose elements overlap (a
** dimension longer than 1 needs a positive stride, and the larger stride
** must be at least the smaller times its dimension); MPL_EOVERFLOW when
** the span does not fit in memory.
*/
MPL_API int mpl_mat_wrap(mpl_mat **out, double *data, size_t rows, size_t cols,
                         ptrdiff_t rstride, ptrdiff_t cstride,
                         void (*release)(void *ctx), void *ctx);

/*
** A new contiguous matrix in shared memory holding a copy of the caller's
** array (same layout rules as mpl_mat_wrap, except that a zero stride may
** repeat a row or column, as a broadcast does).  The caller keeps its array.
*/
MPL_API int mpl_mat_from(mpl_mat **out, const double *data, size_t rows,
                         size_t cols, ptrdiff_t rstride, ptrdiff_t cstride);

/* 1 when worker processes reach m's elements without a copy: matrices the
** engine allocated in this process, and views of them.  0 for wrapped
** memory, a memory-mapped file (mpl_load with mmap), or NULL. */
MPL_API int mpl_mat_is_shared(const mpl_mat *m);

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

/* Copying, filling and comparing large matrices stop at mpl_interrupt()
** within milliseconds and return MPL_EINTR (dst or m then partly
** written). */

/* 1 when a and b have the same shape and equal elements (NaN != NaN),
** else 0; MPL_EINTR when interrupted. */
MPL_API int mpl_mat_equal(const mpl_mat *a, const mpl_mat *b);

/* Copy src into dst element by element; shapes must match (MPL_ESHAPE). */
MPL_API int mpl_mat_assign(mpl_mat *dst, const mpl_mat *src);

/* Set every element to v: 0, or MPL_EINTR. */
MPL_API int mpl_mat_fill(mpl_mat *m, double v);

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
** parallel path (0 for the default, mpl_procs()); products too small to
** gain run in the calling process; the result is bitwise identical for
** every procs.  Wrapped operands (mpl_mat_is_shared() == 0) work too: the
** workers get a shared copy of them, and a wrapped out is written through
** a shared temporary.  MPL_EINVAL for a NULL argument; a failed parallel
** call gives MPL_EWORKER or MPL_EINTR (mpl_errmsg() has the detail).
*/
MPL_API int mpl_dot(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                    int procs);

/*
** Files.  The format comes from `format` ("csv", "tsv", "txt", "npy",
** "mtx") or, when it is NULL, from the path's extension (MPL_EFORMAT when
** neither names one).  sep is the text separator (0: ',' for csv, tab for
** tsv, space for txt).  A save follows symlinks, writes FIFOs and devices
** through, and replaces a regular file (keeping its mode and owner) only
** once the new data is fully written; see docs/lua/files.md.  MPL_EIO
** leaves errno set; MPL_EINTR after mpl_interrupt(); mpl_errmsg() has the
** detail.
*/
MPL_API int mpl_save(const char *path, const mpl_mat *m, const char *format,
                     char sep);

/* mpl_save with options: header is a line written before the data of a
** text file (one line, no newline; NULL for none; MPL_EINVAL for other
** formats).  opts may be NULL. */
typedef struct mpl_save_opts {
  char sep;
  const char *header;
} mpl_save_opts;
MPL_API int mpl_save_ex(const char *path, const mpl_mat *m, const char *format,
                        const mpl_save_opts *opts);

/*
** Loading.  opts may be NULL (all zero):
**   sep     text separator; 0 picks ',' for csv, tab for tsv and runs of
**           blanks for txt; ' ' also means runs of blanks.
**   header  text: the first line that is not blank or a '#' comment is a
**           header, returned in info->header instead of being read.
**   mmap    npy: map the file instead of reading it.  The file must hold
**           float64 in this machine's byte order ('<f8' on x86) and be
**           writable: it is mapped MAP_SHARED read-write, so writes to the
**           matrix go to the file (NumPy's mmap_mode='r+') and every
**           process mapping it sees the same bytes.  Load time does not
**           depend on the file's size.  A Fortran-order file maps as a
**           column-major matrix (rstride 1).
** info may be NULL.  On failure *out is NULL, nothing is allocated and
** info says what is wrong: msg (English, without the file name), and where:
** line (1-based, text formats) or offset (bytes, .npy; -1 when none).
** Codes: MPL_EFORMAT malformed or unsupported file; MPL_EIO cannot open or
** read it (errno set, msg is strerror), or a file truncated while it is
** read; MPL_ENOMEM (also a stream larger than the memory available);
** MPL_EINTR when mpl_interrupt() stopped a read of a stream or a wait for
** a FIFO's writer; MPL_EINVAL bad arguments or an option that does not
** apply to the format.
** On success info->header is the header line (malloc'd: free() it) when
** opts->header was set for a text format, else NULL.
*/
typedef struct mpl_load_opts {
  char sep;
  int header;
  int mmap;
} mpl_load_opts;

typedef struct mpl_load_info {
  char *header;
  size_t line;
  long long offset;
  char msg[256];
} mpl_load_info;

MPL_API int mpl_load(mpl_mat **out, const char *path, const char *format,
                     const mpl_load_opts *opts, mpl_load_info *info);

/* mpl_load from len bytes at buf (format required; opts->mmap invalid).
** The matrix is a copy: buf may be freed afterwards. */
MPL_API int mpl_load_mem(mpl_mat **out, const void *buf, size_t len,
                         const char *format, const mpl_load_opts *opts,
                         mpl_load_info *info);

/*
** Ask the running call (in any thread) to stop: a parallel call, a long
** copy, fill or comparison, a save or a read of a stream returns MPL_EINTR
** soon after (a parallel call with its workers stopped).
** Async-signal-safe: meant for a SIGINT handler.  A call that starts
** later clears the request.
*/
MPL_API void mpl_interrupt(void);

/* Default worker count for parallel calls (initially the online CPUs, at
** most MPL_MAX_PROCS; the mpl command sets it from -p or MPL_PROCS).
** mpl_set_procs returns MPL_EINVAL when n is not in 1..MPL_MAX_PROCS.  One
** setting for the whole process. */
#define MPL_MAX_PROCS 4096
MPL_API int mpl_procs(void);
MPL_API int mpl_set_procs(int n);

/*
** Lua.  These take a lua_State from <lua.h> (Lua 5.4); this header does not
** include it.  Each lua_State is used by one thread at a time, as Lua
** requires; different states may run in different threads at once and may
** hold the same matrix.
**
** luaopen_mat is the `mat` module's opener (stock lua5.4 finds it in mat.so
** on `require "mat"`): luaL_requiref(L, "mat", luaopen_mat, 1) opens it in
** a host's state as the global `mat`.  Like any opener it raises Lua errors.
**
** mpl_lua_newstate opens a new state with the standard libraries and `mat`
** (global and in package.loaded), as the mpl command has; the caller closes
** it with lua_close.  MPL_ENOMEM when Lua cannot allocate it.
**
** mpl_push pushes a new Lua matrix that holds its own reference to m (the
** caller keeps its own); opens `mat` in L first when needed.  MPL_EINVAL
** when m is NULL; like lua_newuserdatauv it raises a Lua memory error.
**
** mpl_tomat returns the matrix at stack index idx, or NULL when the value
** is not a matrix or is closed.  The handle is borrowed: valid while the
** value stays reachable and open in Lua; mpl_mat_retain it to keep it
** longer (after lua_close, for instance).
**
** mpl_checkmat is mpl_tomat for C functions called from Lua: it raises
** "bad argument #idx to 'f' (matrix expected, got T)", or "attempt to use
** a closed matrix", instead of returning NULL.
*/
struct lua_State;
MPL_API int luaopen_mat(struct lua_State *L);
MPL_API int mpl_lua_newstate(struct lua_State **out);
MPL_API int mpl_push(struct lua_State *L, mpl_mat *m);
MPL_API mpl_mat *mpl_tomat(struct lua_State *L, int idx);
MPL_API mpl_mat *mpl_checkmat(struct lua_State *L, int idx);

#ifdef __cplusplus
}
#endif

#endif
