/*
** select.c: comparison and selection -- lt/le/gt/ge/eq/ne with 0/1
** results, maximum/minimum, isnan/isinf/isfinite, clip, where, counting
** nonzeros and masked selection.
**
** DESIGN.  One engine runs every elementwise operation of one to three
** operands with broadcasting: each operand is a descriptor (pointer and
** strides, a stride 0 where it broadcasts, a number as a single value of
** stride 0).  A line is done in chunks: an operand whose inner stride is 1
** is read in place, any other is first gathered (or, stride 0, filled)
** into a small buffer; the operation runs over contiguous buffers into a
** local result buffer, which is then stored.  So the loops the compiler
** sees are plain and vectorise, and out may be an operand itself (every
** input of an element is read before it is stored); operands that only
** overlap out are copied first, as in elementwise.c.  Lines (or pieces of
** a single line) are shared out over the helper threads (parfor.c).
** Masked selection counts the nonzeros of fixed blocks in parallel, turns
** the counts into offsets, then gathers each block into its place without
** a branch per element: the element is stored at the next slot and the
** slot advances by the mask's truth.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define CHUNK 256
#define GRAIN ((size_t)1 << 18)      /* elements per thread piece */
#define BLOCK ((size_t)1 << 16)      /* masked selection block */
#define STREAM_MIN ((size_t)1 << 20) /* results stored past the caches */

typedef struct sdesc {
  const double *p;
  ptrdiff_t rs, cs;
} sdesc;

typedef struct sjob {
  int op, nin, stream; /* stream: store contiguous results past the caches */
  size_t r, c;
  sdesc in[3], o;
  double lo, hi;
} sjob;

int mpl__select_arity(int op) {
  return op <= MPL__S_MIN ? 2 : op < MPL__S_WHERE ? 1 : 3;
}

int mpl__bcast_n(const mpl__arg *args, int n, size_t *r, size_t *c) {
  size_t rr = 1, cc = 1;
  for (int i = 0; i < n; i++) {
    size_t ar = args[i].m ? args[i].m->rows : 1;
    size_t ac = args[i].m ? args[i].m->cols : 1;
    if (mpl__bcast_shape(rr, cc, ar, ac, &rr, &cc)) return MPL_ESHAPE;
  }
  *r = rr;
  *c = cc;
  return 0;
}

/* The operation over n contiguous elements of x, y, z into o. */
static void kernel(const sjob *j, const double *x, const double *y,
                   const double *z, double *o, size_t n) {
  double lo = j->lo, hi = j->hi;
  switch (j->op) {
  case MPL__S_LT:
    for (size_t i = 0; i < n; i++) o[i] = x[i] < y[i];
    break;
  case MPL__S_LE:
    for (size_t i = 0; i < n; i++) o[i] = x[i] <= y[i];
    break;
  case MPL__S_GT:
    for (size_t i = 0; i < n; i++) o[i] = x[i] > y[i];
    break;
  case MPL__S_GE:
    for (size_t i = 0; i < n; i++) o[i] = x[i] >= y[i];
    break;
  case MPL__S_EQ:
    for (size_t i = 0; i < n; i++) o[i] = x[i] == y[i];
    break;
  case MPL__S_NE:
    for (size_t i = 0; i < n; i++) o[i] = x[i] != y[i];
    break;
  case MPL__S_MAX:
    for (size_t i = 0; i < n; i++)
      o[i] = x[i] > y[i] || x[i] != x[i] ? x[i] : y[i];
    break;
  case MPL__S_MIN:
    for (size_t i = 0; i < n; i++)
      o[i] = x[i] < y[i] || x[i] != x[i] ? x[i] : y[i];
    break;
  case MPL__S_ISNAN:
    for (size_t i = 0; i < n; i++) o[i] = isnan(x[i]) ? 1 : 0;
    break;
  case MPL__S_ISINF:
    for (size_t i = 0; i < n; i++) o[i] = isinf(x[i]) ? 1 : 0;
    break;
  case MPL__S_ISFINITE:
    for (size_t i = 0; i < n; i++) o[i] = isfinite(x[i]) ? 1 : 0;
    break;
  case MPL__S_CLIP:
    for (size_t i = 0; i < n; i++) {
      double t = x[i] >= lo || x[i] != x[i] ? x[i] : lo;
      o[i] = t <= hi || t != t ? t : hi;
    }
    break;
  default: /* MPL__S_WHERE */
    for (size_t i = 0; i < n; i++) o[i] = x[i] != 0 ? y[i] : z[i];
  }
}

/* Operand k's n elements from p with stride s, contiguous: in place when
** s is 1, else gathered into buf; a broadcast operand (s 0) fills buf on
** the line's first chunk only (first), the same value every time. */
static const double *contig(const double *p, ptrdiff_t s, double *buf, size_t n,
                            int first) {
  if (s == 1) return p;
  if (s == 0) {
    if (first)
      for (size_t i = 0; i < CHUNK; i++) buf[i] = *p;
  } else {
    for (size_t i = 0; i < n; i++) buf[i] = p[(ptrdiff_t)i * s];
  }
  return buf;
}

/* Store n results from b at o with non-temporal stores where SSE2 has
** them: a result of many megabytes would only push the operands out of the
** caches, and a plain store first reads the line it writes (on an AVX-512
** Xeon a 10^7 x:lt went from 6.0-6.8 to 3.7-4.5 ms, clip from 7.4-7.9 to
** 5.5-6.2 ms).  Without SSE2, a plain copy. */
static void store_stream(double *o, const double *b, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  if (((uintptr_t)o & 15) && n) o[i] = b[i], i++;
  for (; i + 2 <= n; i += 2) _mm_stream_pd(o + i, _mm_loadu_pd(b + i));
#endif
  for (; i < n; i++) o[i] = b[i];
}

/* Make a piece's non-temporal stores visible before it is reported done. */
static void stream_fence(const sjob *j) {
#if defined(__SSE2__)
  if (j->stream) _mm_sfence();
#else
  (void)j;
#endif
}

/* n elements of one line: operands from p[k] with inner strides s[k], the
** result to o with stride os -- straight into o when it is contiguous (an
** element's inputs are read before its result is stored, so o may be an
** operand itself), else through bo; through bo and streamed to o when
** the job's result is large. */
static void line(const sjob *j, const double *const p[3], const ptrdiff_t s[3],
                 double *o, ptrdiff_t os, size_t n) {
  double buf[3][CHUNK], bo[CHUNK];
  for (size_t k = 0; k < n; k += CHUNK) {
    size_t m = n - k < CHUNK ? n - k : CHUNK;
    const double *q[3] = {bo, bo, bo};
    for (int a = 0; a < j->nin; a++) {
      if (s[a] == 1) mpl__prefetch_ahead(p[a] + k, m);
      q[a] = contig(p[a] + (ptrdiff_t)k * s[a], s[a], buf[a], m, k == 0);
    }
    double *d = o + (ptrdiff_t)k * os;
    if (os == 1 && !j->stream) {
      kernel(j, q[0], q[1], q[2], d, m);
      continue;
    }
    kernel(j, q[0], q[1], q[2], bo, m);
    if (os == 1)
      store_stream(d, bo, m);
    else
      for (size_t i = 0; i < m; i++) d[(ptrdiff_t)i * os] = bo[i];
  }
}

static void run_rows(void *ctx, size_t lo, size_t hi) {
  const sjob *j = ctx;
  const ptrdiff_t s[3] = {j->in[0].cs, j->in[1].cs, j->in[2].cs};
  for (size_t i = lo; i < hi; i++) {
    ptrdiff_t k = (ptrdiff_t)i;
    const double *p[3];
    for (int a = 0; a < 3; a++) p[a] = j->in[a].p + k * j->in[a].rs;
    line(j, p, s, (double *)j->o.p + k * j->o.rs, j->o.cs, j->c);
  }
  stream_fence(j);
}

static void run_piece(void *ctx, size_t lo, size_t hi) {
  const sjob *j = ctx;
  const ptrdiff_t s[3] = {j->in[0].cs, j->in[1].cs, j->in[2].cs};
  const double *p[3];
  for (int a = 0; a < 3; a++) p[a] = j->in[a].p + (ptrdiff_t)lo * s[a];
  line(j, p, s, (double *)j->o.p + (ptrdiff_t)lo * j->o.cs, j->o.cs, hi - lo);
  stream_fence(j);
}

static sdesc desc_of(const mpl__arg *a) {
  if (!a->m) return (sdesc){&a->s, 0, 0};
  const mpl_mat *m = a->m;
  return (sdesc){m->data, m->rows == 1 ? 0 : m->rs, m->cols == 1 ? 0 : m->cs};
}

/* Fold a job whose every operand is one run (row stride = c * column
** stride, or broadcast in both) into a single line, then split it. */
static int run(sjob *j) {
  if (j->r > 1) {
    ptrdiff_t cc = (ptrdiff_t)j->c;
    int fold = j->o.rs == cc * j->o.cs;
    for (int a = 0; a < j->nin; a++)
      fold = fold && (j->in[a].rs == cc * j->in[a].cs);
    if (fold) {
      j->c *= j->r;
      j->r = 1;
    }
  }
  /* stream only whole lines of many cache lines: short ones would leave
  ** the write-combining buffers half full */
  j->stream = j->r * j->c >= STREAM_MIN && j->c >= CHUNK;
  if (j->r == 1) return mpl__parfor(j->c, GRAIN, 8, run_piece, j);
  size_t g = GRAIN / j->c;
  return mpl__parfor(j->r, g ? g : 1, 1, run_rows, j);
}

int mpl__select(int op, const mpl__arg *args, double lo, double hi,
                mpl_mat *out) {
  if (!out || op < 0 || op >= MPL__S_COUNT) return MPL_EINVAL;
  int nin = mpl__select_arity(op);
  size_t r, c;
  if (mpl__bcast_n(args, nin, &r, &c) || r != out->rows || c != out->cols)
    return MPL_ESHAPE;
  if (!r || !c) return 0;
  mpl__interrupt_clear();
  mpl_mat *tmp[3] = {NULL, NULL, NULL};
  sjob j = {op, nin, 0, r, c, {{NULL, 0, 0}}, {out->data, 0, 0}, lo, hi};
  j.o.rs = r == 1 ? 0 : out->rs;
  j.o.cs = c == 1 ? 0 : out->cs;
  int err = 0;
  for (int a = 0; a < nin && !err; a++) {
    const mpl_mat *x = args[a].m;
    if (x && mpl__ew_must_copy(x, out)) {
      err = mpl_mat_copy(&tmp[a], x);
      x = tmp[a];
    }
    j.in[a] = x ? desc_of(&(mpl__arg){x, 0}) : desc_of(&args[a]);
  }
  for (int a = nin; a < 3; a++) j.in[a] = j.in[0];
  if (!err) err = run(&j);
  for (int a = 0; a < 3; a++) mpl_mat_release(tmp[a]);
  return err;
}

/* ---- counting ---- */

typedef struct cjob {
  const mpl_mat *m;
  _Atomic size_t total;
} cjob;

/* Nonzeros (NaN counts) of a contiguous run: SSE2 compares, each lane
** subtracting its all-ones "not equal" mask (-1) from a counter. */
#if defined(__SSE2__)
static size_t count_contig(const double *p, size_t n) {
  __m128i c0 = _mm_setzero_si128(), c1 = c0;
  __m128d z = _mm_setzero_pd();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __builtin_prefetch(p + i + MPL__PF_AHEAD);
    __m128d a = _mm_cmpneq_pd(_mm_loadu_pd(p + i), z);
    __m128d b = _mm_cmpneq_pd(_mm_loadu_pd(p + i + 2), z);
    c0 = _mm_sub_epi64(c0, _mm_castpd_si128(a));
    c1 = _mm_sub_epi64(c1, _mm_castpd_si128(b));
  }
  uint64_t l[4];
  _mm_storeu_si128((__m128i *)l, c0);
  _mm_storeu_si128((__m128i *)(l + 2), c1);
  size_t k = (size_t)(l[0] + l[1] + l[2] + l[3]);
  for (; i < n; i++) k += p[i] != 0;
  return k;
}
#else
static size_t count_contig(const double *p, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += p[i] != 0;
  return k;
}
#endif

static size_t count_run(const double *p, ptrdiff_t s, size_t n) {
  if (s == 1) return count_contig(p, n);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += p[(ptrdiff_t)i * s] != 0;
  return k;
}

static void count_rows(void *ctx, size_t lo, size_t hi) {
  cjob *j = ctx;
  const mpl_mat *m = j->m;
  size_t k = 0;
  if (m->rows == 1)
    k = count_run(m->data + (ptrdiff_t)lo * m->cs, m->cs, hi - lo);
  else
    for (size_t i = lo; i < hi; i++)
      k += count_run(m->data + (ptrdiff_t)i * m->rs, m->cs, m->cols);
  atomic_fetch_add(&j->total, k);
}

int mpl__count_nz(const mpl_mat *m, size_t *count) {
  *count = 0;
  if (!m->rows || !m->cols) return 0;
  mpl__interrupt_clear();
  mpl_mat flat = *m;
  if (mpl_mat_is_contiguous(m)) {
    flat.cols = m->rows * m->cols;
    flat.rows = 1;
    flat.cs = 1;
  }
  cjob j = {&flat, 0};
  int err;
  if (flat.rows == 1) {
    err = mpl__parfor(flat.cols, GRAIN, 8, count_rows, &j);
  } else {
    size_t g = GRAIN / flat.cols;
    err = mpl__parfor(flat.rows, g ? g : 1, 1, count_rows, &j);
  }
  *count = atomic_load(&j.total);
  return err;
}

int mpl__count_nz_dim(const mpl_mat *m, int dim, mpl_mat *out) {
  mpl__interrupt_clear();
  if (dim == 1) {
    for (size_t j = 0; j < m->cols; j++)
      MPL_AT(out, 0, j) = (double)count_run(&MPL_AT(m, 0, j), m->rs, m->rows);
  } else {
    for (size_t i = 0; i < m->rows; i++)
      MPL_AT(out, i, 0) = (double)count_run(&MPL_AT(m, i, 0), m->cs, m->cols);
  }
  return mpl__interrupt_check();
}

/* ---- masked selection ---- */

typedef struct mjob {
  const double *x, *mask;
  double *out;
  size_t n;
  size_t *offs; /* per block: its count, then its first output slot */
} mjob;

static void mask_count(void *ctx, size_t lo, size_t hi) {
  mjob *j = ctx;
  for (size_t b = lo; b < hi; b++) {
    size_t s = b * BLOCK, e = s + BLOCK < j->n ? s + BLOCK : j->n;
    j->offs[b] = count_contig(j->mask + s, e - s);
  }
}

/* Gather block b: branchless while a whole chunk cannot pass the block's
** end in the output, element by element for the rest. */
static void mask_gather(void *ctx, size_t lo, size_t hi) {
  mjob *j = ctx;
  for (size_t b = lo; b < hi; b++) {
    size_t s = b * BLOCK, e = s + BLOCK < j->n ? s + BLOCK : j->n;
    size_t k = j->offs[b], end = j->offs[b + 1];
    const double *x = j->x, *mk = j->mask;
    double *o = j->out;
    size_t i = s;
    for (; i + CHUNK <= e && k + CHUNK <= end; i += CHUNK) {
      mpl__prefetch_ahead(x + i, CHUNK);
      mpl__prefetch_ahead(mk + i, CHUNK);
      for (size_t t = i; t < i + CHUNK; t++) {
        o[k] = x[t];
        k += mk[t] != 0;
      }
    }
    for (; i < e; i++)
      if (mk[i] != 0) o[k++] = x[i];
  }
}

size_t mpl__mask_blocks(const mpl_mat *mask) {
  size_t n = mask->rows * mask->cols;
  return mpl_mat_is_contiguous(mask) ? (n + BLOCK - 1) / BLOCK : 0;
}

int mpl__mask_plan(const mpl_mat *mask, size_t *offs, size_t *k) {
  size_t nb = mpl__mask_blocks(mask);
  mpl__interrupt_clear();
  if (!nb) return mpl__count_nz(mask, k);
  mjob j = {NULL, mask->data, NULL, mask->rows * mask->cols, offs};
  int err = mpl__parfor(nb, 4, 1, mask_count, &j);
  size_t sum = 0;
  for (size_t b = 0; b < nb; b++) {
    size_t c = offs[b];
    offs[b] = sum;
    sum += c;
  }
  offs[nb] = *k = sum;
  return err;
}

/* Element by element, for any strides. */
static int select_strided(const mpl_mat *m, const mpl_mat *mask, mpl_mat *out) {
  size_t k = 0;
  for (size_t i = 0; i < m->rows; i++)
    for (size_t j = 0; j < m->cols; j++)
      if (MPL_AT(mask, i, j) != 0) {
        if (k >= out->cols) return MPL_ESHAPE;
        MPL_AT(out, 0, k++) = MPL_AT(m, i, j);
      }
  return k == out->cols ? mpl__interrupt_check() : MPL_ESHAPE;
}

int mpl__mask_select(const mpl_mat *m, const mpl_mat *mask, const size_t *offs,
                     mpl_mat *out) {
  if (m->rows != mask->rows || m->cols != mask->cols) return MPL_ESHAPE;
  if (!m->rows || !m->cols) return out->cols ? MPL_ESHAPE : 0;
  mpl__interrupt_clear();
  size_t nb = mpl__mask_blocks(mask);
  if (!nb || !mpl_mat_is_contiguous(m) || !mpl_mat_is_contiguous(out))
    return select_strided(m, mask, out);
  if (offs[nb] != out->cols) return MPL_ESHAPE;
  mjob j = {m->data, mask->data, out->data, m->rows * m->cols, (size_t *)offs};
  return mpl__parfor(nb, 4, 1, mask_gather, &j);
}

int mpl__mask_put(mpl_mat *m, const mpl_mat *mask, const mpl_mat *src) {
  if (m->rows != mask->rows || m->cols != mask->cols) return MPL_ESHAPE;
  if (!m->rows || !m->cols) return 0;
  size_t n = src->rows * src->cols, k = 0;
  ptrdiff_t st = src->rows == 1 ? src->cs : src->rs;
  mpl_mat *tmp = NULL, *tmask = NULL;
  int err = 0;
  if (n && mpl__ew_must_copy(src, m)) {
    err = mpl_mat_copy(&tmp, src);
    src = tmp;
    st = 1;
  }
  if (!err && mpl__ew_must_copy(mask, m)) {
    err = mpl_mat_copy(&tmask, mask);
    mask = tmask;
  }
  if (err) {
    mpl_mat_release(tmp);
    return err;
  }
  for (size_t i = 0; i < m->rows; i++)
    for (size_t j = 0; j < m->cols; j++)
      if (MPL_AT(mask, i, j) != 0) {
        if (k >= n) break;
        MPL_AT(m, i, j) = src->data[(ptrdiff_t)k++ * st];
      }
  mpl_mat_release(tmp);
  mpl_mat_release(tmask);
  return 0;
}
