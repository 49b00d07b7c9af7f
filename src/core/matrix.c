/*
** matrix.c: matrix handles, views and their storage.
**
** A handle (struct mpl_mat) is a view: shape, strides and the address of
** element (0, 0) inside a refcounted storage block that lives in the shared
** arena.  Handles and storage are refcounted separately so any number of
** views can outlive the matrix they were cut from.
*/
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int mpl__mat_bytes(size_t rows, size_t cols, size_t *bytes) {
  size_t n;
  if (__builtin_mul_overflow(rows, cols, &n) ||
      __builtin_mul_overflow(n, sizeof(double), bytes) ||
      *bytes > (size_t)PTRDIFF_MAX / 2)
    return MPL_EOVERFLOW;
  return 0;
}

static mpl__storage *storage_new(size_t bytes, int zero, int *err) {
  mpl__storage *st = malloc(sizeof *st);
  if (!st) {
    *err = MPL_ENOMEM;
    return NULL;
  }
  st->base = mpl__arena_alloc(bytes, zero, err);
  if (!st->base) {
    free(st);
    return NULL;
  }
  atomic_init(&st->refs, 1);
  st->bytes = bytes;
  st->release = NULL;
  st->ctx = NULL;
  st->fd = -1;
  st->fd_off = 0;
  return st;
}

static void storage_release(mpl__storage *st) {
  if (st && atomic_fetch_sub(&st->refs, 1) == 1) {
    if (st->release)
      st->release(st);
    else
      mpl__arena_free(st->base);
    free(st);
  }
}

/* A handle on st (whose reference the caller gives or shares). */
static mpl_mat *handle_new(mpl__storage *st, double *data, size_t rows,
                           size_t cols, ptrdiff_t rs, ptrdiff_t cs) {
  mpl_mat *m = malloc(sizeof *m);
  if (!m) return NULL;
  *m = (mpl_mat){
      .st = st, .data = data, .rows = rows, .cols = cols, .rs = rs, .cs = cs};
  atomic_init(&m->refs, 1);
  return m;
}

static int mat_create(mpl_mat **out, size_t rows, size_t cols, int zero) {
  size_t bytes;
  int err = mpl__mat_bytes(rows, cols, &bytes);
  *out = NULL;
  if (err) return err;
  mpl__storage *st = storage_new(bytes, zero, &err);
  if (!st) return err;
  mpl_mat *m = handle_new(st, st->base, rows, cols, (ptrdiff_t)cols, 1);
  if (!m) {
    storage_release(st);
    return MPL_ENOMEM;
  }
  *out = m;
  return 0;
}

int mpl__mat_external(mpl_mat **out, double *base, size_t bytes, size_t rows,
                      size_t cols, ptrdiff_t rs, ptrdiff_t cs,
                      void (*release)(mpl__storage *), void *ctx, int fd,
                      size_t fd_off) {
  *out = NULL;
  mpl__storage *st = malloc(sizeof *st);
  if (!st) return MPL_ENOMEM;
  *st = (mpl__storage){.base = base,
                       .bytes = bytes,
                       .release = release,
                       .ctx = ctx,
                       .fd = fd,
                       .fd_off = fd_off};
  atomic_init(&st->refs, 1);
  *out = handle_new(st, base, rows, cols, rs, cs);
  if (!*out) {
    free(st);
    return MPL_ENOMEM;
  }
  return 0;
}

int mpl_mat_new(mpl_mat **out, size_t rows, size_t cols) {
  return mat_create(out, rows, cols, 1);
}

int mpl__mat_alloc(mpl_mat **out, size_t rows, size_t cols) {
  return mat_create(out, rows, cols, 0);
}

/* A view shares m's storage: one more storage reference, a new handle. */
static int view_new(mpl_mat **out, const mpl_mat *m, double *data, size_t rows,
                    size_t cols, ptrdiff_t rs, ptrdiff_t cs) {
  atomic_fetch_add(&m->st->refs, 1);
  *out = handle_new(m->st, data, rows, cols, rs, cs);
  if (!*out) {
    storage_release(m->st);
    return MPL_ENOMEM;
  }
  return 0;
}

int mpl_mat_sub(mpl_mat **out, const mpl_mat *m, size_t r0, size_t c0,
                size_t nr, size_t nc) {
  *out = NULL;
  if (!m) return MPL_EINVAL;
  if (r0 > m->rows || nr > m->rows - r0 || c0 > m->cols || nc > m->cols - c0) {
    mpl__set_errmsg("rows %zu..%zu, columns %zu..%zu are outside a %zux%zu "
                    "matrix",
                    r0 + 1, r0 + nr, c0 + 1, c0 + nc, m->rows, m->cols);
    return MPL_ERANGE;
  }
  double *d = m->data;
  if (nr && nc) d = &MPL_AT(m, r0, c0);
  return view_new(out, m, d, nr, nc, m->rs, m->cs);
}

/* A strided view for slicing: nr x nc elements from (r0, c0) taking every
** rstep-th row and cstep-th column (negative: backwards).  The caller has
** checked that every element it names lies inside m. */
int mpl__mat_view(mpl_mat **out, const mpl_mat *m, size_t r0, size_t c0,
                  size_t nr, size_t nc, ptrdiff_t rstep, ptrdiff_t cstep) {
  *out = NULL;
  if (!m) return MPL_EINVAL;
  double *d = m->data;
  if (nr && nc) d = &MPL_AT(m, r0, c0);
  return view_new(out, m, d, nr, nc, m->rs * rstep, m->cs * cstep);
}

int mpl_mat_transpose(mpl_mat **out, const mpl_mat *m) {
  *out = NULL;
  if (!m) return MPL_EINVAL;
  return view_new(out, m, m->data, m->cols, m->rows, m->cs, m->rs);
}

int mpl_mat_is_contiguous(const mpl_mat *m) {
  return (m->rows <= 1 || m->rs == (ptrdiff_t)m->cols) &&
         (m->cols <= 1 || m->cs == 1);
}

int mpl_mat_reshape(mpl_mat **out, const mpl_mat *m, size_t rows, size_t cols) {
  size_t n;
  *out = NULL;
  if (!m) return MPL_EINVAL;
  if (__builtin_mul_overflow(rows, cols, &n) || n != m->rows * m->cols) {
    mpl__set_errmsg("cannot reshape a %zux%zu matrix into %zux%zu", m->rows,
                    m->cols, rows, cols);
    return MPL_ESHAPE;
  }
  if (!mpl_mat_is_contiguous(m)) return MPL_ENOTCONTIG;
  return view_new(out, m, m->data, rows, cols, (ptrdiff_t)cols, 1);
}

int mpl_mat_copy(mpl_mat **out, const mpl_mat *m) {
  if (!m) {
    *out = NULL;
    return MPL_EINVAL;
  }
  int err = mpl__mat_alloc(out, m->rows, m->cols);
  if (err) return err;
  err = mpl_mat_assign(*out, m);
  if (err) { /* interrupted */
    mpl_mat_release(*out);
    *out = NULL;
  }
  return err;
}

mpl_mat *mpl_mat_retain(mpl_mat *m) {
  if (m) atomic_fetch_add(&m->refs, 1);
  return m;
}

void mpl_mat_release(mpl_mat *m) {
  if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
    storage_release(m->st);
    free(m);
  }
}

size_t mpl_mat_rows(const mpl_mat *m) { return m->rows; }
size_t mpl_mat_cols(const mpl_mat *m) { return m->cols; }
ptrdiff_t mpl_mat_rstride(const mpl_mat *m) { return m->rs; }
ptrdiff_t mpl_mat_cstride(const mpl_mat *m) { return m->cs; }
double *mpl_mat_data(const mpl_mat *m) { return m->data; }

/* Elements are compared in blocks of MPL__TICK, looking for an interrupt
** between blocks (see internal.h). */
int mpl_mat_equal(const mpl_mat *a, const mpl_mat *b) {
  if (a->rows != b->rows || a->cols != b->cols) return 0;
  if (!a->rows || !a->cols) return 1; /* N x 0 of any N: O(1) */
  mpl__interrupt_clear();
  size_t c = a->cols, mask = mpl__tick_mask(c);
  for (size_t i = 0; i < a->rows; i++) {
    for (size_t j0 = 0; j0 < c; j0 += MPL__TICK) {
      if ((!(i & mask) || j0) && mpl__interrupt_pending())
        return mpl__interrupt_check();
      size_t j1 = c - j0 < MPL__TICK ? c : j0 + MPL__TICK;
      for (size_t j = j0; j < j1; j++)
        if (!(MPL_AT(a, i, j) == MPL_AT(b, i, j))) return 0;
    }
  }
  return 1;
}

/* memmove of n doubles in blocks of MPL__TICK, in the direction that is
** safe for overlapping runs; MPL_EINTR when an interrupt stopped it. */
static int move_run(double *d, const double *s, size_t n) {
  for (size_t k = 0; k < n; k += MPL__TICK) {
    if (k && mpl__interrupt_pending()) return MPL_EINTR;
    size_t len = n - k < MPL__TICK ? n - k : MPL__TICK;
    size_t at = d <= s ? k : n - k - len;
    memmove(d + at, s + at, len * sizeof(double));
  }
  return 0;
}

/* Two views of one storage may overlap in any pattern (m:t() into m), so
** such a source is first copied out; otherwise rows are moved directly. */
int mpl_mat_assign(mpl_mat *dst, const mpl_mat *src) {
  if (!dst || !src) return MPL_EINVAL;
  if (dst->rows != src->rows || dst->cols != src->cols) {
    mpl__set_errmsg("shape mismatch: %zux%zu and %zux%zu", dst->rows, dst->cols,
                    src->rows, src->cols);
    return MPL_ESHAPE;
  }
  if (!dst->rows || !dst->cols) return 0; /* N x 0 of any N: O(1) */
  if (dst->st == src->st && dst->rows && dst->cols &&
      (dst->data != src->data || dst->rs != src->rs || dst->cs != src->cs)) {
    mpl_mat *tmp;
    int err = mpl_mat_copy(&tmp, src);
    if (err) return err;
    err = mpl_mat_assign(dst, tmp);
    mpl_mat_release(tmp);
    return err;
  }
  mpl__interrupt_clear();
  if (mpl_mat_is_contiguous(dst) && mpl_mat_is_contiguous(src))
    return move_run(dst->data, src->data, dst->rows * dst->cols);
  size_t c = dst->cols, mask = mpl__tick_mask(c);
  for (size_t i = 0; i < dst->rows; i++) {
    if (!(i & mask) && mpl__interrupt_pending()) break;
    double *d = dst->data + (ptrdiff_t)i * dst->rs;
    const double *s = src->data + (ptrdiff_t)i * src->rs;
    if (dst->cs == 1 && src->cs == 1) {
      if (move_run(d, s, c)) break;
    } else {
      for (size_t j = 0; j < c; j++)
        d[(ptrdiff_t)j * dst->cs] = s[(ptrdiff_t)j * src->cs];
    }
  }
  return mpl__interrupt_check();
}

/* Like assign: in blocks, stopping at an interrupt (see internal.h). */
int mpl_mat_fill(mpl_mat *m, double v) {
  if (!m->rows || !m->cols) return 0; /* N x 0 of any N: O(1) */
  mpl__interrupt_clear();
  size_t c = m->cols, mask = mpl__tick_mask(c);
  for (size_t i = 0; i < m->rows; i++) {
    double *d = m->data + (ptrdiff_t)i * m->rs;
    for (size_t j0 = 0; j0 < c; j0 += MPL__TICK) {
      if ((!(i & mask) || j0) && mpl__interrupt_pending())
        return mpl__interrupt_check();
      size_t j1 = c - j0 < MPL__TICK ? c : j0 + MPL__TICK;
      if (m->cs == 1) {
        for (size_t j = j0; j < j1; j++) d[j] = v;
      } else {
        for (size_t j = j0; j < j1; j++) d[(ptrdiff_t)j * m->cs] = v;
      }
    }
  }
  return 0;
}
