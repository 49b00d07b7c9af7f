/*
** wrap.c: matrices over memory a C host owns, and copies of it.
**
** mpl_mat_wrap puts a matrix handle over the caller's array without copying
** it.  The elements stay where they are, in the caller's private memory, so
** the calling process reads and writes them in place; forked workers cannot
** see them (the parallel paths copy such inputs into the shared arena and
** write such outputs through a shared temporary).  The caller's release
** callback runs when the last view of the storage goes, and only in the
** process that wrapped the memory: a forked child that drops its inherited
** copy of a handle must not free, close or count anything of its parent's.
**
** mpl_mat_from is the other choice for a host: one copy of its array into a
** new matrix in the arena, which workers then share without further copies.
*/
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

/* The caller's callback, kept beside the storage until it is released. */
typedef struct wrap_ctx {
  void (*release)(void *ctx);
  void *ctx;
  pid_t owner; /* the process that wrapped the memory */
} wrap_ctx;

/* Storage release hook: hand the memory back to the caller (in the owner
** process only) and drop our bookkeeping. */
static void wrap_release(mpl__storage *st) {
  wrap_ctx *w = st->ctx;
  if (w->release && getpid() == w->owner) w->release(w->ctx);
  free(w);
}

/*
** Check a caller's layout and compute the bytes it spans from data.
** Strides are non-negative.  When the matrix will be written (writes = 1)
** no two elements may share an address, which we require in the simple
** form every row- or column-major layout (with padding) has: a dimension
** longer than 1 has a positive stride, and the larger stride is at least
** the smaller one times its dimension.  A matrix only read (a copy's
** source) may repeat elements with a zero stride, as a broadcast does.
** Strides of dimensions of length 0 or 1 are never used.
*/
static int check_layout(const double *data, size_t rows, size_t cols,
                        ptrdiff_t rs, ptrdiff_t cs, int writes, size_t *bytes) {
  *bytes = 0;
  if (rs < 0 || cs < 0) return MPL_EINVAL;
  if (rows == 0 || cols == 0) return 0;
  if (!data || (uintptr_t)data % _Alignof(double) != 0) return MPL_EINVAL;
  if (writes && ((rows > 1 && rs == 0) || (cols > 1 && cs == 0)))
    return MPL_EINVAL;
  if (writes && rows > 1 && cols > 1) {
    size_t small = (size_t)(rs < cs ? rs : cs),
           large = (size_t)(rs < cs ? cs : rs);
    size_t extent = rs < cs ? rows : cols, need;
    if (rs == cs || __builtin_mul_overflow(small, extent, &need) ||
        large < need)
      return MPL_EINVAL;
  }
  size_t last_r, last_c, span, n;
  if (__builtin_mul_overflow(rows - 1, rows > 1 ? (size_t)rs : 0, &last_r) ||
      __builtin_mul_overflow(cols - 1, cols > 1 ? (size_t)cs : 0, &last_c) ||
      __builtin_add_overflow(last_r, last_c, &span) ||
      __builtin_add_overflow(span, 1, &span) ||
      __builtin_mul_overflow(span, sizeof(double), &n) ||
      n > (size_t)PTRDIFF_MAX / 2 || (uintptr_t)data > UINTPTR_MAX - n)
    return MPL_EOVERFLOW;
  *bytes = n;
  return 0;
}

/* Strides actually stored for a wrapped matrix: those of unused
** dimensions are normalised so the handle looks like any other view (an
** empty matrix like a new one: rstride = cols, cstride = 1). */
static void normal_strides(size_t rows, size_t cols, ptrdiff_t *rs,
                           ptrdiff_t *cs) {
  if (rows == 0 || cols == 0) {
    *rs = (ptrdiff_t)cols;
    *cs = 1;
    return;
  }
  if (cols == 1 && *cs == 0) *cs = 1;
  if (rows == 1 && *rs == 0) *rs = (ptrdiff_t)cols;
}

int mpl_mat_wrap(mpl_mat **out, double *data, size_t rows, size_t cols,
                 ptrdiff_t rstride, ptrdiff_t cstride,
                 void (*release)(void *ctx), void *ctx) {
  size_t bytes;
  if (!out) return MPL_EINVAL;
  *out = NULL;
  int err = check_layout(data, rows, cols, rstride, cstride, 1, &bytes);
  if (err) return err;
  normal_strides(rows, cols, &rstride, &cstride);
  wrap_ctx *w = malloc(sizeof *w);
  if (!w) return MPL_ENOMEM;
  w->release = release;
  w->ctx = ctx;
  w->owner = getpid();
  err = mpl__mat_external(out, data, bytes, rows, cols, rstride, cstride,
                          wrap_release, w, -1, 0);
  if (err) free(w); /* the caller keeps its memory; release is not called */
  return err;
}

/* The release hook of a borrowed array: there is nothing to give back
** (matrix.c reads a NULL hook as "arena storage", so one is needed). */
static void noop_release(mpl__storage *st) { (void)st; }

/* Wrap the caller's array for a moment and copy it through the ordinary
** strided copy into a fresh arena matrix. */
int mpl_mat_from(mpl_mat **out, const double *data, size_t rows, size_t cols,
                 ptrdiff_t rstride, ptrdiff_t cstride) {
  size_t bytes;
  mpl_mat *view;
  if (!out) return MPL_EINVAL;
  *out = NULL;
  int err = check_layout(data, rows, cols, rstride, cstride, 0, &bytes);
  if (err) return err;
  normal_strides(rows, cols, &rstride, &cstride);
  err = mpl__mat_external(&view, (double *)data, bytes, rows, cols, rstride,
                          cstride, noop_release, NULL, -1, 0);
  if (err) return err;
  err = mpl_mat_copy(out, view);
  mpl_mat_release(view);
  return err;
}

/* Workers see exactly the arena this process allocates from (the pool
** forks them after mapping it); wrapped memory, a mapped file and, in a
** forked child, the parent's arena are not theirs to read in place.  The
** same test decides in dot.c whether an operand needs a shared copy. */
int mpl_mat_is_shared(const mpl_mat *m) {
  return m && m->st->release == NULL && mpl__arena_contains(m->st->base);
}
