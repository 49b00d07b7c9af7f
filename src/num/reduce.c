/*
** reduce.c: reductions (sum, extremes, Frobenius norm, trace) and the
** closeness test behind mat.allclose.
**
** Sums are pairwise: a run of at most 128 elements is added with eight
** interleaved accumulators, a longer run is cut in two (at a multiple of
** 8) and the sums of the halves are added.  The rounding error then grows
** like log2(n) instead of n -- about 1e-15 relative for ten million
** elements of one sign, where a plain loop loses several digits -- at the
** speed of a plain loop.  The cut points depend only on n, so a sum is the
** same every time; long contiguous sums hand the top subtrees to helper
** threads, which changes nothing in the result.  Per-column sums (over
** rows) use the same tree over rows, each node a vector of partial sums for
** a block of columns, so they are as accurate and still read memory in
** order.  A whole matrix that is not one contiguous run is summed line by
** line along its fast axis, and the line sums are summed pairwise.
**
** Ctrl-C (mpl_interrupt) is looked for at every node of the tree over
** MPL__TICK elements and every few lines (internal.h); a sum that sees it
** stops with a meaningless value, which its entry point replaces by
** MPL_EINTR, so every entry point returns an error code.
*/
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"

#define BLOCK 128                 /* pairwise leaf */
#define LINES 256                 /* lines per block of vector sums */
#define VLEAF 8                   /* rows summed directly in vsum */
#define PAR_MIN ((size_t)1 << 20) /* elements before threads help */

static ptrdiff_t absd(ptrdiff_t v) { return v < 0 ? -v : v; }

/* Where pairwise summation cuts a run of n > BLOCK. */
static size_t cut(size_t n) {
  size_t h = n / 2;
  return h - h % 8;
}

/* A contiguous leaf: the eight accumulators as four vectors of two (one
** SSE2 register each on every x86-64), lane k adding exactly what a[k]
** adds in leaf below (the same term: x, or (x - mu)^2 with sq), so the
** bits are the scalar loop's. */
static double leaf_run(const double *x, size_t n, int sq, double mu) {
  mpl__v2d a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0, v0, v1, v2, v3, m = {mu, mu};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __builtin_prefetch(x + i + MPL__PF_AHEAD);
    memcpy(&v0, x + i, sizeof v0);
    memcpy(&v1, x + i + 2, sizeof v1);
    memcpy(&v2, x + i + 4, sizeof v2);
    memcpy(&v3, x + i + 6, sizeof v3);
    if (sq) {
      v0 = (v0 - m) * (v0 - m), v1 = (v1 - m) * (v1 - m);
      v2 = (v2 - m) * (v2 - m), v3 = (v3 - m) * (v3 - m);
    }
    a0 += v0;
    a1 += v1;
    a2 += v2;
    a3 += v3;
  }
  double t =
      ((a0[0] + a0[1]) + (a1[0] + a1[1])) + ((a2[0] + a2[1]) + (a3[0] + a3[1]));
  for (; i < n; i++) t += sq ? (x[i] - mu) * (x[i] - mu) : x[i];
  return t;
}

/* A leaf: eight interleaved accumulators, then the rest.  With sq, the
** terms are (v - mu)^2: squares when mu is 0 (exactly: v - 0 is v). */
static double leaf(const double *x, ptrdiff_t s, size_t n, int sq, double mu) {
  if (s == 1) return leaf_run(x, n, sq, mu);
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) {
      double v = x[(ptrdiff_t)(i + (size_t)k) * s];
      a[k] += sq ? (v - mu) * (v - mu) : v;
    }
  double t = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  for (; i < n; i++) {
    double v = x[(ptrdiff_t)i * s];
    t += sq ? (v - mu) * (v - mu) : v;
  }
  return t;
}

/* Pairwise sum of x[0], x[s], ... (of (x - mu)^2 when sq). */
static double pw(const double *x, ptrdiff_t s, size_t n, int sq, double mu) {
  if (n <= BLOCK) return leaf(x, s, n, sq, mu);
  if (n >= MPL__TICK && mpl__interrupt_pending()) return 0; /* abandoned */
  size_t h = cut(n);
  return pw(x, s, h, sq, mu) + pw(x + (ptrdiff_t)h * s, s, n - h, sq, mu);
}

/* The same sum with the subtrees `depth` levels down computed by helper
** threads: the tree, hence the result, is unchanged. */
typedef struct pwjob {
  const double *x;
  ptrdiff_t s;
  int sq, nleaf;
  double mu;
  size_t off[64], len[64];
  double res[64];
} pwjob;

/* The subtrees `depth` levels down, in order, as (offset, length). */
static void pw_collect(pwjob *j, size_t off, size_t n, int depth) {
  if (depth == 0 || n <= BLOCK) {
    j->off[j->nleaf] = off;
    j->len[j->nleaf++] = n;
    return;
  }
  size_t h = cut(n);
  pw_collect(j, off, h, depth - 1);
  pw_collect(j, off + h, n - h, depth - 1);
}

/* Add the subtrees' sums up the same tree pw would have used. */
static double pw_combine(pwjob *j, size_t n, int depth, int *k) {
  if (depth == 0 || n <= BLOCK) return j->res[(*k)++];
  size_t h = cut(n);
  double a = pw_combine(j, h, depth - 1, k);
  return a + pw_combine(j, n - h, depth - 1, k);
}

/* Subtrees [lo, hi), in a helper thread. */
static void pw_piece(void *ctx, size_t lo, size_t hi) {
  pwjob *j = ctx;
  for (size_t i = lo; i < hi; i++)
    j->res[i] =
        pw(j->x + (ptrdiff_t)j->off[i] * j->s, j->s, j->len[i], j->sq, j->mu);
}

double mpl__pairwise(const double *x, ptrdiff_t s, size_t n, int sq,
                     double mu) {
  int parts = mpl__parfor_parts(n, PAR_MIN / 2);
  if (parts <= 1) return pw(x, s, n, sq, mu);
  int depth = 0; /* several subtrees per thread, taken in turn */
  while ((1 << depth) < 8 * parts && depth < 6) depth++;
  pwjob j;
  j.x = x;
  j.s = s;
  j.sq = sq;
  j.mu = mu;
  j.nleaf = 0;
  pw_collect(&j, 0, n, depth);
  mpl__parfor((size_t)j.nleaf, 1, 1, pw_piece, &j);
  int k = 0;
  return pw_combine(&j, n, depth, &k);
}

/* Pairwise sums over L rows (step sa) of kb lines (step sk), into acc;
** tmp has room for kb * (depth of the tree) values. */
static void vsum(const double *p, ptrdiff_t sa, ptrdiff_t sk, size_t L,
                 size_t kb, int sq, double *acc, double *tmp) {
  if (L <= VLEAF) {
    for (size_t j = 0; j < kb; j++) acc[j] = 0;
    for (size_t l = 0; l < L; l++) {
      const double *row = p + (ptrdiff_t)l * sa;
      if (sk == 1 && !sq) {
        for (size_t j = 0; j < kb; j++) acc[j] += row[j];
      } else {
        for (size_t j = 0; j < kb; j++) {
          double v = row[(ptrdiff_t)j * sk];
          acc[j] += sq ? v * v : v;
        }
      }
    }
    return;
  }
  size_t h = L / 2;
  vsum(p, sa, sk, h, kb, sq, acc, tmp + kb);
  vsum(p + (ptrdiff_t)h * sa, sa, sk, L - h, kb, sq, tmp, tmp + kb);
  for (size_t j = 0; j < kb; j++) acc[j] += tmp[j];
}

/* Sums of K lines of L elements: line k starts at p + k*sk and steps by
** sa.  Sum k goes to o[k*os].  Lines that are runs in memory are summed one
** by one; otherwise blocks of lines are summed together, row by row. */
static int line_sums(const double *p, size_t K, ptrdiff_t sk, size_t L,
                     ptrdiff_t sa, int sq, double *o, ptrdiff_t os) {
  size_t mask = mpl__tick_mask(L);
  if (L == 0 || K == 1 || absd(sa) <= absd(sk)) {
    for (size_t k = 0; k < K; k++) {
      if (!(k & mask) && mpl__interrupt_pending()) break;
      o[(ptrdiff_t)k * os] = pw(p + (ptrdiff_t)k * sk, sa, L, sq, 0);
    }
    return 0;
  }
  int depth = 1;
  for (size_t l = L; l > VLEAF; l = (l + 1) / 2) depth++;
  double *buf = malloc(sizeof(double) * LINES * (size_t)(depth + 1));
  if (!buf) return MPL_ENOMEM;
  for (size_t k0 = 0; k0 < K; k0 += LINES) {
    if (mpl__interrupt_pending()) break; /* after LINES * L elements */
    size_t kb = K - k0 < LINES ? K - k0 : LINES;
    vsum(p + (ptrdiff_t)k0 * sk, sa, sk, L, kb, sq, buf, buf + LINES);
    for (size_t j = 0; j < kb; j++) o[(ptrdiff_t)(k0 + j) * os] = buf[j];
  }
  free(buf);
  return 0;
}

/* Pairwise sum (of squares) of all of m. */
static double sum_all(const mpl_mat *m, int sq) {
  size_t r = m->rows, c = m->cols, n = r * c;
  if (n == 0) return 0;
  if (r == 1) return mpl__pairwise(m->data, m->cs, c, sq, 0);
  if (c == 1) return mpl__pairwise(m->data, m->rs, r, sq, 0);
  if (m->rs == (ptrdiff_t)c * m->cs)
    return mpl__pairwise(m->data, m->cs, n, sq, 0);
  if (m->cs == (ptrdiff_t)r * m->rs)
    return mpl__pairwise(m->data, m->rs, n, sq, 0);
  /* lines along the fast axis, then their sums */
  int rows = absd(m->cs) <= absd(m->rs);
  size_t K = rows ? r : c, L = rows ? c : r;
  ptrdiff_t sk = rows ? m->rs : m->cs, sa = rows ? m->cs : m->rs;
  size_t mask = mpl__tick_mask(L);
  double *t = malloc(K * sizeof(double));
  if (!t) { /* degrade to a plain sum of line sums rather than fail */
    double s = 0;
    for (size_t k = 0; k < K; k++) {
      if (!(k & mask) && mpl__interrupt_pending()) break;
      s += pw(m->data + (ptrdiff_t)k * sk, sa, L, sq, 0);
    }
    return s;
  }
  for (size_t k = 0; k < K; k++) {
    if (!(k & mask) && mpl__interrupt_pending()) break;
    t[k] = pw(m->data + (ptrdiff_t)k * sk, sa, L, sq, 0);
  }
  double s = pw(t, 1, K, 0, 0);
  free(t);
  return s;
}

int mpl__sum(const mpl_mat *m, double *res) {
  mpl__interrupt_clear();
  *res = sum_all(m, 0);
  return mpl__interrupt_check();
}

int mpl__sum_dim(const mpl_mat *m, int dim, mpl_mat *out) {
  if (!m || !out || (dim != 1 && dim != 2)) return MPL_EINVAL;
  if (dim == 1 ? out->rows != 1 || out->cols != m->cols
               : out->rows != m->rows || out->cols != 1)
    return MPL_ESHAPE;
  mpl__interrupt_clear();
  int err = dim == 1 ? line_sums(m->data, m->cols, m->cs, m->rows, m->rs, 0,
                                 out->data, out->cs)
                     : line_sums(m->data, m->rows, m->rs, m->cols, m->cs, 0,
                                 out->data, out->rs);
  return err ? err : mpl__interrupt_check();
}

/* The extreme of a contiguous run, eight lanes at a time (SSE2, which
** every x86-64 has; plain C elsewhere): t collects v - v, which stays 0
** unless the run holds NaN or an infinity; then the run is folded again
** element by element, which tells NaN (the result) from infinity. */
#if defined(__SSE2__)
#include <emmintrin.h>
#define MM_W 8
static void mm_lanes(const double *x, size_t n, int max, double *a, double *t) {
  __m128d a0 = _mm_set1_pd(x[0]), a1 = a0, a2 = a0, a3 = a0;
  __m128d t0 = _mm_setzero_pd(), t1 = t0;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    __builtin_prefetch(x + i + MPL__PF_AHEAD);
    __m128d v0 = _mm_loadu_pd(x + i), v1 = _mm_loadu_pd(x + i + 2);
    __m128d v2 = _mm_loadu_pd(x + i + 4), v3 = _mm_loadu_pd(x + i + 6);
    if (max) {
      a0 = _mm_max_pd(v0, a0), a1 = _mm_max_pd(v1, a1);
      a2 = _mm_max_pd(v2, a2), a3 = _mm_max_pd(v3, a3);
    } else {
      a0 = _mm_min_pd(v0, a0), a1 = _mm_min_pd(v1, a1);
      a2 = _mm_min_pd(v2, a2), a3 = _mm_min_pd(v3, a3);
    }
    t0 = _mm_add_pd(t0, _mm_add_pd(_mm_sub_pd(v0, v0), _mm_sub_pd(v1, v1)));
    t1 = _mm_add_pd(t1, _mm_add_pd(_mm_sub_pd(v2, v2), _mm_sub_pd(v3, v3)));
  }
  _mm_storeu_pd(a, a0), _mm_storeu_pd(a + 2, a1);
  _mm_storeu_pd(a + 4, a2), _mm_storeu_pd(a + 6, a3);
  _mm_storeu_pd(t, t0), _mm_storeu_pd(t + 2, t1);
}
#else
#define MM_W 8
static void mm_lanes(const double *x, size_t n, int max, double *a, double *t) {
  for (int k = 0; k < 8; k++) a[k] = x[0], t[k & 3] = 0;
  for (size_t i = 0; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) {
      double v = x[i + (size_t)k];
      a[k] = max ? (v > a[k] ? v : a[k]) : (v < a[k] ? v : a[k]);
      t[k & 3] += v - v;
    }
}
#endif

static double mm_run(const double *x, size_t n, int max) {
  double a[MM_W], t[4];
  mm_lanes(x, n, max, a, t);
  double b = a[0], z = (t[0] + t[1]) + (t[2] + t[3]);
  for (int k = 1; k < MM_W; k++)
    b = max ? (a[k] > b ? a[k] : b) : (a[k] < b ? a[k] : b);
  for (size_t i = n - n % 8; i < n; i++) {
    double v = x[i];
    if (v != v) return v;
    b = max ? (v > b ? v : b) : (v < b ? v : b);
  }
  if (z == 0) return b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != x[i]) return x[i];
  return b;
}

/* Fold x[0], x[s], ... into *best: the smaller (or larger, max) one, and
** NaN for good once a NaN is seen. */
static void mm_line(const double *x, ptrdiff_t s, size_t n, int max,
                    double *best) {
  double b = *best;
  for (size_t i0 = 0; i0 < n && b == b; i0 += MPL__TICK) {
    if (i0 && mpl__interrupt_pending()) break;
    size_t i1 = n - i0 < MPL__TICK ? n : i0 + MPL__TICK;
    if (s == 1) {
      double v = mm_run(x + i0, i1 - i0, max);
      if (v != v || (max ? v > b : v < b)) b = v;
      continue;
    }
    for (size_t i = i0; i < i1 && b == b; i++) {
      double v = x[(ptrdiff_t)i * s];
      if (max ? !(v <= b) : !(v >= b)) b = v;
    }
  }
  *best = b;
}

/* A long contiguous run split over helper threads: pieces of at least
** PAR_MIN / 2, each folded alone, then folded together (the extreme does
** not depend on the split). */
typedef struct mmjob {
  const double *x;
  int max;
  size_t piece;
  double res[64];
} mmjob;

static void mm_piece(void *ctx, size_t lo, size_t hi) {
  mmjob *j = ctx;
  for (size_t p = lo; p < hi; p++) {
    double b = j->max ? -INFINITY : INFINITY;
    mm_line(j->x + p * j->piece, 1, j->piece, j->max, &b);
    j->res[p] = b;
  }
}

static double mm_par(const double *x, size_t n, int max) {
  double b = max ? -INFINITY : INFINITY;
  int parts = mpl__parfor_parts(n, PAR_MIN / 2);
  if (parts <= 1) {
    mm_line(x, 1, n, max, &b);
    return b;
  }
  mmjob j = {x, max, n / 64, {0}};
  mpl__parfor(64, 1, 1, mm_piece, &j);
  for (int p = 0; p < 64 && b == b; p++)
    if (j.res[p] != j.res[p] || (max ? j.res[p] > b : j.res[p] < b))
      b = j.res[p];
  mm_line(x + 64 * j.piece, 1, n - 64 * j.piece, max, &b);
  return b;
}

/* The place of the first extreme in one pass: blocks of 128 are folded by
** mm_run (vectorised), the block that first reaches the best value is
** remembered, and only that block is read again for the exact place.
** Pieces run on the helper threads and meet under a lock, ties going to
** the earlier place, so the answer does not depend on the split. */
#define AX_BLOCK 128

typedef struct axjob {
  const double *x;
  int max;
  pthread_mutex_t lock;
  double best;
  size_t at; /* SIZE_MAX: no piece has reported */
} axjob;

/* Does v beat b?  NaN beats everything but an earlier NaN. */
static int ax_beats(double v, double b, int max) {
  if (b != b) return 0;
  return v != v || (max ? v > b : v < b);
}

static void ax_piece(void *ctx, size_t lo, size_t hi) {
  axjob *j = ctx;
  size_t bb = lo, len = hi - lo < AX_BLOCK ? hi - lo : AX_BLOCK;
  double bv = mm_run(j->x + lo, len, j->max);
  for (size_t b = lo + AX_BLOCK; b < hi && bv == bv; b += AX_BLOCK) {
    size_t n = hi - b < AX_BLOCK ? hi - b : AX_BLOCK;
    double v = mm_run(j->x + b, n, j->max);
    if (ax_beats(v, bv, j->max)) bv = v, bb = b;
  }
  size_t e = bb;
  while (!(j->x[e] == bv || (bv != bv && j->x[e] != j->x[e]))) e++;
  pthread_mutex_lock(&j->lock);
  if (j->at == SIZE_MAX || ax_beats(bv, j->best, j->max) ||
      ((bv == j->best || (bv != bv && j->best != j->best)) && e < j->at))
    j->best = bv, j->at = e;
  pthread_mutex_unlock(&j->lock);
}

int mpl__argext_run(const double *x, size_t n, int max, size_t *at) {
  axjob j = {x, max, PTHREAD_MUTEX_INITIALIZER, 0, SIZE_MAX};
  int err = n ? mpl__parfor(n, PAR_MIN / 2, AX_BLOCK, ax_piece, &j) : 0;
  pthread_mutex_destroy(&j.lock);
  *at = j.at == SIZE_MAX ? 0 : j.at;
  return err;
}

int mpl__minmax(const mpl_mat *m, int max, double *res) {
  if (!m || !m->rows || !m->cols) return MPL_EINVAL;
  double b = max ? -INFINITY : INFINITY;
  mpl__interrupt_clear();
  if (mpl_mat_is_contiguous(m)) {
    *res = mm_par(m->data, m->rows * m->cols, max);
    return mpl__interrupt_check();
  }
  int rows = absd(m->cs) <= absd(m->rs) || m->rows == 1;
  size_t K = rows ? m->rows : m->cols, L = rows ? m->cols : m->rows;
  ptrdiff_t sk = rows ? m->rs : m->cs, sa = rows ? m->cs : m->rs;
  size_t mask = mpl__tick_mask(L);
  for (size_t k = 0; k < K && b == b; k++) {
    if (!(k & mask) && mpl__interrupt_pending()) break;
    mm_line(m->data + (ptrdiff_t)k * sk, sa, L, max, &b);
  }
  *res = b;
  return mpl__interrupt_check();
}

int mpl__minmax_dim(const mpl_mat *m, int dim, int max, mpl_mat *out) {
  if (!m || !out || (dim != 1 && dim != 2)) return MPL_EINVAL;
  size_t K = dim == 1 ? m->cols : m->rows, L = dim == 1 ? m->rows : m->cols;
  ptrdiff_t sk = dim == 1 ? m->cs : m->rs, sa = dim == 1 ? m->rs : m->cs;
  ptrdiff_t os = dim == 1 ? out->cs : out->rs;
  if (dim == 1 ? (out->rows != 1 || out->cols != K)
               : (out->cols != 1 || out->rows != K))
    return MPL_ESHAPE;
  if (K && !L) return MPL_EINVAL;
  double init = max ? -INFINITY : INFINITY;
  size_t mask = mpl__tick_mask(L);
  mpl__interrupt_clear();
  if (K == 1 || absd(sa) <= absd(sk)) {
    for (size_t k = 0; k < K; k++) {
      if (!(k & mask) && mpl__interrupt_pending()) break;
      double b = init;
      mm_line(m->data + (ptrdiff_t)k * sk, sa, L, max, &b);
      out->data[(ptrdiff_t)k * os] = b;
    }
    return mpl__interrupt_check();
  }
  /* lines are strided: sweep rows over blocks of lines */
  double acc[LINES];
  for (size_t k0 = 0; k0 < K; k0 += LINES) {
    size_t kb = K - k0 < LINES ? K - k0 : LINES;
    for (size_t j = 0; j < kb; j++) acc[j] = init;
    size_t lmask = mpl__tick_mask(kb);
    for (size_t l = 0; l < L; l++) {
      if (!(l & lmask) && mpl__interrupt_pending()) break;
      const double *row = m->data + (ptrdiff_t)l * sa + (ptrdiff_t)k0 * sk;
      for (size_t j = 0; j < kb; j++) {
        double v = row[(ptrdiff_t)j * sk], b = acc[j];
        if (b == b && (max ? !(v <= b) : !(v >= b))) acc[j] = v;
      }
    }
    for (size_t j = 0; j < kb; j++)
      out->data[(ptrdiff_t)(k0 + j) * os] = acc[j];
  }
  return mpl__interrupt_check();
}

/* The Frobenius norm: the plain sum of squares is right unless it
** overflowed or may have lost small squares to underflow; then the
** elements are scaled by the largest magnitude first (compensated, since
** this path is rare). */
static double norm_of(const mpl_mat *m) {
  double s = sum_all(m, 1);
  if (s != s) return s;
  if (s < INFINITY && s > 0x1p-900) return sqrt(s);
  size_t mask = mpl__tick_mask(m->cols);
  double amax = 0;
  for (size_t i = 0; i < m->rows; i++) {
    if (!(i & mask) && mpl__interrupt_pending()) return 0;
    for (size_t j = 0; j < m->cols; j++) {
      double v = fabs(MPL_AT(m, i, j));
      if (v != v) return v;
      if (v > amax) amax = v;
    }
  }
  if (amax == 0 || amax == INFINITY) return amax;
  double t = 0, comp = 0;
  for (size_t i = 0; i < m->rows; i++) {
    if (!(i & mask) && mpl__interrupt_pending()) return 0;
    for (size_t j = 0; j < m->cols; j++) {
      double q = MPL_AT(m, i, j) / amax;
      double y = q * q - comp, z = t + y;
      comp = (z - t) - y;
      t = z;
    }
  }
  return amax * sqrt(t);
}

int mpl__norm(const mpl_mat *m, double *res) {
  *res = 0;
  if (!m->rows || !m->cols) return 0; /* N x 0 of any N: O(1) */
  mpl__interrupt_clear();
  *res = norm_of(m);
  return mpl__interrupt_check();
}

double mpl__trace(const mpl_mat *m) {
  size_t n = m->rows < m->cols ? m->rows : m->cols;
  return pw(m->data, m->rs + m->cs, n, 0, 0);
}

int mpl__allclose(mpl__arg a, mpl__arg b, double rtol, double atol,
                  int *close) {
  size_t r, c;
  size_t ar = a.m ? a.m->rows : 1, ac = a.m ? a.m->cols : 1;
  size_t br = b.m ? b.m->rows : 1, bc = b.m ? b.m->cols : 1;
  if (mpl__bcast_shape(ar, ac, br, bc, &r, &c)) return MPL_ESHAPE;
  /* descriptors as in elementwise.c: broadcast dimensions have stride 0 */
  const double *pa = a.m ? a.m->data : &a.s, *pb = b.m ? b.m->data : &b.s;
  ptrdiff_t ars = a.m && ar > 1 ? a.m->rs : 0,
            acs = a.m && ac > 1 ? a.m->cs : 0;
  ptrdiff_t brs = b.m && br > 1 ? b.m->rs : 0,
            bcs = b.m && bc > 1 ? b.m->cs : 0;
  *close = 1;
  if (!r || !c) return 0; /* N x 0 of any N: O(1) */
  mpl__interrupt_clear();
  size_t mask = mpl__tick_mask(c);
  for (size_t i = 0; i < r; i++) {
    const double *x = pa + (ptrdiff_t)i * ars, *y = pb + (ptrdiff_t)i * brs;
    for (size_t j = 0; j < c; j++) {
      if ((j ? !(j & (MPL__TICK - 1)) : !(i & mask)) &&
          mpl__interrupt_pending())
        return mpl__interrupt_check();
      double u = x[(ptrdiff_t)j * acs], v = y[(ptrdiff_t)j * bcs];
      if (!(u == v || (isfinite(u) && isfinite(v) &&
                       fabs(u - v) <= atol + rtol * fabs(v)))) {
        *close = 0;
        return 0;
      }
    }
  }
  return 0;
}
