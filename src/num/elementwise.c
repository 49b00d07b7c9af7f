/*
** elementwise.c: elementwise arithmetic and functions of matrices and
** views, with broadcasting.
**
** DESIGN
** Every operand becomes a descriptor over the result's shape: the address
** of its first element, a row stride and a column stride.  A dimension that
** broadcasts (an operand with one row or one column) gets stride 0, and a
** number is a descriptor with both strides 0 pointing at it, so scalars,
** rows, columns and whole matrices all run through one loop.  The problem
** is then turned (rows and columns swapped in every descriptor) so that the
** inner loop runs along the result's smaller stride, and folded into one
** long row when every descriptor allows it -- the common case of whole
** contiguous matrices is one kernel call over r*c elements.  Rows whose
** operands have unit or zero stride go straight to the kernels (vecmath.c);
** other strides are gathered into small buffers first, and a strided result
** is scattered out of one.
**
** Large jobs are split over helper threads (parfor.c), by rows or by aligned
** pieces of the one long row.  Results larger than the caches are written
** with non-temporal stores.  parfor.c also stops the work at Ctrl-C
** (mpl_interrupt): the call then returns MPL_EINTR with the output partly
** written.
**
** An output may be one of the operands (in place): each element is read
** before it is written.  An output that overlaps an operand in any other
** way (a row of the output broadcast over it, a shifted view) gets a copy of
** that operand first, so the result is always as if the operands had been
** read before anything was written.
*/
#include <stdlib.h>

#include "arith.h"

#define CHUNK 512                     /* gather/scatter buffer, elements */
#define NT_MIN ((size_t)16 << 20)     /* outputs this large bypass caches */
#define GRAIN_CHEAP ((size_t)1 << 20) /* elements per thread: memory bound */
#define GRAIN_HEAVY ((size_t)1 << 18) /* ... exp, log, sin and the like */

typedef struct desc {
  const double *p;
  ptrdiff_t rs, cs;
} desc;

typedef struct job {
  int op, binary, nt;
  size_t r, c;
  desc x, y, o;
} job;

int mpl__bcast_shape(size_t ar, size_t ac, size_t br, size_t bc, size_t *r,
                     size_t *c) {
  if ((ar != br && ar != 1 && br != 1) || (ac != bc && ac != 1 && bc != 1))
    return MPL_ESHAPE;
  *r = ar == 1 ? br : ar;
  *c = ac == 1 ? bc : ac;
  return 0;
}

/* The descriptor of matrix m over a result: a single row or column
** broadcasts (stride 0). */
static desc desc_of(const mpl_mat *m) {
  desc d = {m->data, m->rows == 1 ? 0 : m->rs, m->cols == 1 ? 0 : m->cs};
  return d;
}

static ptrdiff_t absd(ptrdiff_t v) { return v < 0 ? -v : v; }

/* The byte range [lo, hi) that m's elements span. */
static void span(const mpl_mat *m, const char **lo, const char **hi) {
  const double *a = m->data, *b = &MPL_AT(m, m->rows - 1, m->cols - 1);
  const double *c = &MPL_AT(m, m->rows - 1, 0), *d = &MPL_AT(m, 0, m->cols - 1);
  const double *mn = a, *mx = a;
  const double *all[3] = {b, c, d};
  for (int i = 0; i < 3; i++) {
    if (all[i] < mn) mn = all[i];
    if (all[i] > mx) mx = all[i];
  }
  *lo = (const char *)mn;
  *hi = (const char *)(mx + 1);
}

/* Could writing out change what is read from m?  Conservative: compares
** the address ranges the two span. */
static int overlaps(const mpl_mat *m, const mpl_mat *out) {
  if (!m->rows || !m->cols || !out->rows || !out->cols) return 0;
  const char *a0, *a1, *b0, *b1;
  span(m, &a0, &a1);
  span(out, &b0, &b1);
  return a0 < b1 && b0 < a1;
}

/* m is out itself: same first element, shape and (where they matter)
** strides, so element (i, j) is read just before it is written. */
static int same_view(const mpl_mat *m, const mpl_mat *out) {
  return m->data == out->data && m->rows == out->rows && m->cols == out->cols &&
         (m->rows <= 1 || m->rs == out->rs) &&
         (m->cols <= 1 || m->cs == out->cs);
}

int mpl__ew_must_copy(const mpl_mat *m, const mpl_mat *out) {
  return overlaps(m, out) && !same_view(m, out);
}

/* A copy of m when writing out could disturb it, in *tmp (else NULL). */
static int detach(const mpl_mat **m, const mpl_mat *out, mpl_mat **tmp) {
  *tmp = NULL;
  if (!*m || !mpl__ew_must_copy(*m, out)) return 0;
  int err = mpl_mat_copy(tmp, *m);
  if (!err) *m = *tmp;
  return err;
}

static void fill(double *o, size_t n, double v) {
  for (size_t i = 0; i < n; i++) o[i] = v;
}

/* n elements with x (and y) of stride 0 or 1 into a contiguous o. */
static void direct(const job *j, const double *x, ptrdiff_t xs, const double *y,
                   ptrdiff_t ys, double *o, size_t n, int nt) {
  if (!j->binary) {
    if (xs == 0)
      fill(o, n, mpl__vm_unary1(j->op, *x));
    else
      mpl__vm_unary(j->op, x, o, n, nt);
  } else if (xs == 0 && ys == 0) {
    fill(o, n, mpl__vm_binary1(j->op, *x, *y));
  } else {
    mpl__vm_binary(j->op, x, xs != 0, y, ys != 0, o, n, nt);
  }
}

/* Elements [k, k + m) of x (stride *xs): in place when the stride is 0
** or 1, else gathered into buf (and *xs set to 1). */
static const double *chunk_of(const double *x, ptrdiff_t *xs, size_t k,
                              size_t m, double *buf) {
  if (*xs == 0) return x;
  if (*xs == 1) return x + k;
  const double *s = x + (ptrdiff_t)k * *xs;
  for (size_t i = 0; i < m; i++) buf[i] = s[(ptrdiff_t)i * *xs];
  *xs = 1;
  return buf;
}

/* One row of n elements starting at x, y, o (strides from the job). */
static void row_run(const job *j, const double *x, const double *y, double *o,
                    size_t n) {
  ptrdiff_t xs = j->x.cs, ys = j->y.cs, os = j->o.cs;
  int xd = xs == 0 || xs == 1, yd = !j->binary || ys == 0 || ys == 1;
  if (os == 1 && xd && yd) {
    direct(j, x, xs, y, ys, o, n, j->nt);
    return;
  }
  double bx[CHUNK], by[CHUNK], bo[CHUNK];
  for (size_t k = 0; k < n; k += CHUNK) {
    size_t m = n - k < CHUNK ? n - k : CHUNK;
    ptrdiff_t pxs = xs, pys = ys;
    const double *px = chunk_of(x, &pxs, k, m, bx), *py = y;
    if (j->binary) py = chunk_of(y, &pys, k, m, by);
    double *po = os == 1 ? o + k : bo;
    direct(j, px, pxs, py, pys, po, m, 0);
    if (os != 1) {
      double *d = o + (ptrdiff_t)k * os;
      for (size_t i = 0; i < m; i++) d[(ptrdiff_t)i * os] = bo[i];
    }
  }
}

/* Rows [lo, hi) of the job. */
static void run_rows(void *ctx, size_t lo, size_t hi) {
  const job *j = ctx;
  for (size_t i = lo; i < hi; i++) {
    ptrdiff_t k = (ptrdiff_t)i;
    row_run(j, j->x.p + k * j->x.rs, j->y.p + k * j->y.rs,
            (double *)j->o.p + k * j->o.rs, j->c);
  }
}

/* Elements [lo, hi) of a one-row job. */
static void run_piece(void *ctx, size_t lo, size_t hi) {
  const job *j = ctx;
  ptrdiff_t k = (ptrdiff_t)lo;
  row_run(j, j->x.p + k * j->x.cs, j->y.p + k * j->y.cs,
          (double *)j->o.p + k * j->o.cs, hi - lo);
}

static void swap_desc(desc *d) {
  ptrdiff_t t = d->rs;
  d->rs = d->cs;
  d->cs = t;
}

/* Turn the job so the inner loop follows out's smaller stride, fold it into
** one row when every descriptor is a single run, pick the store kind and
** the split, and run it. */
static int run(job *j) {
  size_t r = j->r, c = j->c;
  if (r == 0 || c == 0) return 0;
  if ((c == 1 && r > 1) || (r > 1 && c > 1 && absd(j->o.cs) > absd(j->o.rs))) {
    swap_desc(&j->x);
    swap_desc(&j->y);
    swap_desc(&j->o);
    j->r = c;
    j->c = r;
    r = j->r;
    c = j->c;
  }
  if (r > 1) {
    ptrdiff_t cc = (ptrdiff_t)c;
    if (j->o.rs == cc * j->o.cs && j->x.rs == cc * j->x.cs &&
        (!j->binary || j->y.rs == cc * j->y.cs)) {
      j->c = r * c;
      j->r = 1;
    }
  }
  size_t n = j->r * j->c;
  j->nt = j->o.cs == 1 && n * sizeof(double) >= NT_MIN;
  int heavy = mpl__vm_heavy(j->op, j->binary);
  size_t grain = heavy ? GRAIN_HEAVY : GRAIN_CHEAP;
  if (j->r == 1) return mpl__parfor(j->c, grain, 8, run_piece, j);
  size_t g = grain / j->c;
  return mpl__parfor(j->r, g ? g : 1, 1, run_rows, j);
}

int mpl__ew_binary(int op, mpl__arg a, mpl__arg b, mpl_mat *out) {
  size_t r, c;
  if (!out || op < 0 || op >= MPL__B_COUNT) return MPL_EINVAL;
  size_t ar = a.m ? a.m->rows : 1, ac = a.m ? a.m->cols : 1;
  size_t br = b.m ? b.m->rows : 1, bc = b.m ? b.m->cols : 1;
  if (mpl__bcast_shape(ar, ac, br, bc, &r, &c) || r != out->rows ||
      c != out->cols)
    return MPL_ESHAPE;
  if (!r || !c) return 0;
  mpl__interrupt_clear();
  mpl_mat *ta, *tb = NULL;
  int err = detach(&a.m, out, &ta);
  if (!err) err = detach(&b.m, out, &tb);
  if (!err) {
    job j = {op,
             1,
             0,
             r,
             c,
             {NULL, 0, 0},
             {NULL, 0, 0},
             {out->data, out->rows == 1 ? 0 : out->rs,
              out->cols == 1 ? 0 : out->cs}};
    j.x = a.m ? desc_of(a.m) : (desc){&a.s, 0, 0};
    j.y = b.m ? desc_of(b.m) : (desc){&b.s, 0, 0};
    err = run(&j);
  }
  mpl_mat_release(ta);
  mpl_mat_release(tb);
  return err;
}

int mpl__ew_unary(int op, const mpl_mat *a, mpl_mat *out) {
  if (!a || !out || op < 0 || op >= MPL__U_COUNT) return MPL_EINVAL;
  if (a->rows != out->rows || a->cols != out->cols) return MPL_ESHAPE;
  if (!a->rows || !a->cols) return 0;
  mpl__interrupt_clear();
  mpl_mat *ta;
  int err = detach(&a, out, &ta);
  if (!err) {
    static const double unused = 0;
    desc none = {&unused, 0, 0};
    job j = {op,
             0,
             0,
             a->rows,
             a->cols,
             desc_of(a),
             none,
             {out->data, out->rows == 1 ? 0 : out->rs,
              out->cols == 1 ? 0 : out->cs}};
    err = run(&j);
  }
  mpl_mat_release(ta);
  return err;
}
