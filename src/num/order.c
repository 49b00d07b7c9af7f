/*
** order.c: sorting, unique values, quantiles and arg-extremes.
**
** DESIGN
** Sorting works on 64-bit keys: a double's bits with the sign bit flipped
** for positive numbers and every bit flipped for negative ones order as
** unsigned integers exactly as the numbers do; -0 is taken as +0 (equal
** elements keep their order), every NaN becomes the largest key (NaN
** last), and a descending sort flips the bits of the non-NaN keys.  Long
** lines are sorted by a least-significant-digit radix sort (eight passes
** of a byte -- wider digits scatter to more pages than the TLB holds --
** all histograms made in one read; a pass whose digit is the same for
** every key is skipped), which is stable and linear; short lines
** by a merge sort.  Positions travel with the keys as 32-bit indices when
** asked for, and values come back from the keys -- except when a line
** holds a -0, which the key cannot tell from +0: then the positions are
** used to fetch the values.
**
** Quantiles select rather than sort.  A long line is read, never
** written: a histogram of the keys' top 11 bits finds the bucket holding
** the wanted rank, a second read the next 11 bits within it, a third
** copies the elements of that narrow bucket out, and quickselect finishes
** there; the next element up (for the interpolation) is the smallest of
** the bucket's elements above the one selected, and only when there are
** none does a last read look for the smallest key above it.  The reads are
** shared over the helper threads (histogram counts and the set of copied
** elements do not depend on the split, so neither does the result).  A
** NaN seen on the way makes the result NaN.  A short line is copied and
** quickselect (median of three, Hoare partition; after 2 log2(n) rounds
** without converging the rest is sorted instead) puts the element of rank
** floor((n-1) q) in place; the next one up is the smallest of the part
** above it.  The interpolation is NumPy's
** formula, operation for operation, so the results are its bits.
*/
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arith.h"
#include "order.h"

#define RADIX_MIN 1024 /* shorter lines are merge sorted */
#define BITS 8         /* 256 buckets: few enough write streams for the TLB */
#define BUCKETS (1 << BITS)
#define PASSES 8
#define SELECT_MIN 65536 /* longer lines select by radix (see DESIGN) */

static const uint64_t SIGN = (uint64_t)1 << 63;

/* The ascending key of a number that is not NaN, without branches (the
** radix selection's histogram reads use it as it is: a NaN's key there is
** wrong, but a NaN ends the selection anyway). */
static inline uint64_t rs_key(double v) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  b = b == SIGN ? 0 : b; /* -0 as +0 */
  return b ^ ((uint64_t)((int64_t)b >> 63) | SIGN);
}

static inline uint64_t key_of(double v, int desc) {
  if (v != v) return UINT64_MAX;
  uint64_t b = rs_key(v);
  return desc ? ~b : b;
}

static inline double val_of(uint64_t k, int desc) {
  double v;
  if (k == UINT64_MAX) return NAN;
  if (desc) k = ~k;
  k = (k & SIGN) ? k & ~SIGN : ~k;
  memcpy(&v, &k, sizeof v);
  return v;
}

/* Work space for sorting lines of up to n elements. */
typedef struct work {
  uint64_t *k, *k2;
  uint32_t *i, *i2;
} work;

static int work_new(work *w, size_t n) {
  size_t b = (n ? n : 1);
  w->k = malloc(b * sizeof(uint64_t));
  w->k2 = malloc(b * sizeof(uint64_t));
  w->i = malloc(b * sizeof(uint32_t));
  w->i2 = malloc(b * sizeof(uint32_t));
  return w->k && w->k2 && w->i && w->i2 ? 0 : MPL_ENOMEM;
}

static void work_free(work *w) {
  free(w->k);
  free(w->k2);
  free(w->i);
  free(w->i2);
}

/* Stable LSD radix sort of k[0..n) (with ix when not NULL); the sorted
** data ends in k/ix or in k2/ix2: *swapped tells which. */
static void radix(uint64_t *k, uint64_t *k2, uint32_t *ix, uint32_t *ix2,
                  size_t n, int *swapped) {
  static _Thread_local size_t h[PASSES][BUCKETS];
  memset(h, 0, sizeof h);
  for (size_t e = 0; e < n; e++) {
    uint64_t v = k[e];
    for (int p = 0; p < PASSES; p++) h[p][(v >> (p * BITS)) & (BUCKETS - 1)]++;
  }
  *swapped = 0;
  for (int p = 0; p < PASSES; p++) {
    size_t *hp = h[p];
    if (hp[(k[0] >> (p * BITS)) & (BUCKETS - 1)] == n) continue;
    size_t sum = 0;
    for (int b = 0; b < BUCKETS; b++) {
      size_t c = hp[b];
      hp[b] = sum;
      sum += c;
    }
    int sh = p * BITS;
    if (ix) {
      for (size_t e = 0; e < n; e++) {
        size_t d = hp[(k[e] >> sh) & (BUCKETS - 1)]++;
        k2[d] = k[e];
        ix2[d] = ix[e];
      }
      uint32_t *ti = ix;
      ix = ix2;
      ix2 = ti;
    } else {
      for (size_t e = 0; e < n; e++)
        k2[hp[(k[e] >> sh) & (BUCKETS - 1)]++] = k[e];
    }
    uint64_t *tk = k;
    k = k2;
    k2 = tk;
    *swapped ^= 1;
  }
}

/* Stable merge sort of k[lo..hi) (and ix), t/ti scratch of the same
** size. */
static void msort(uint64_t *k, uint32_t *ix, uint64_t *t, uint32_t *ti,
                  size_t n) {
  if (n <= 16) {
    for (size_t a = 1; a < n; a++) {
      uint64_t v = k[a];
      uint32_t iv = ix ? ix[a] : 0;
      size_t b = a;
      for (; b > 0 && k[b - 1] > v; b--) {
        k[b] = k[b - 1];
        if (ix) ix[b] = ix[b - 1];
      }
      k[b] = v;
      if (ix) ix[b] = iv;
    }
    return;
  }
  size_t h = n / 2;
  msort(k, ix, t, ti, h);
  msort(k + h, ix ? ix + h : NULL, t, ti, n - h);
  if (k[h - 1] <= k[h]) return;
  memcpy(t, k, h * sizeof *t);
  if (ix) memcpy(ti, ix, h * sizeof *ti);
  size_t a = 0, b = h, o = 0;
  while (a < h && b < n) {
    if (k[b] < t[a]) {
      if (ix) ix[o] = ix[b];
      k[o++] = k[b++];
    } else {
      if (ix) ix[o] = ti[a];
      k[o++] = t[a++];
    }
  }
  while (a < h) {
    if (ix) ix[o] = ti[a];
    k[o++] = t[a++];
  }
}

/* Sort one line of n elements (x, step xs) into ov (step os) and/or oi
** (1-based positions, step is). */
static void sort_line(const double *x, ptrdiff_t xs, size_t n, int desc,
                      double *ov, ptrdiff_t os, double *oi, ptrdiff_t is,
                      work *w) {
  int negzero = 0;
  for (size_t e = 0; e < n; e++) {
    double v = x[(ptrdiff_t)e * xs];
    w->k[e] = key_of(v, desc);
    negzero |= v == 0 && signbit(v);
  }
  int want_ix = oi || negzero;
  if (want_ix)
    for (size_t e = 0; e < n; e++) w->i[e] = (uint32_t)e;
  uint64_t *k = w->k;
  uint32_t *ix = want_ix ? w->i : NULL;
  if (n >= RADIX_MIN) {
    int sw;
    radix(w->k, w->k2, ix, w->i2, n, &sw);
    if (sw) {
      k = w->k2;
      if (ix) ix = w->i2;
    }
  } else {
    msort(k, ix, w->k2, w->i2, n);
  }
  if (ov) {
    if (negzero)
      for (size_t e = 0; e < n; e++)
        ov[(ptrdiff_t)e * os] = x[(ptrdiff_t)ix[e] * xs];
    else
      for (size_t e = 0; e < n; e++) ov[(ptrdiff_t)e * os] = val_of(k[e], desc);
  }
  if (oi)
    for (size_t e = 0; e < n; e++) oi[(ptrdiff_t)e * is] = (double)ix[e] + 1;
}

mpl__lines mpl__lines_of(const mpl_mat *m, int dim) {
  mpl__lines l = {m->data, 1, m->rows * m->cols, 0, 1};
  if (dim == 1) l.count = m->cols, l.len = m->rows, l.ls = m->cs, l.es = m->rs;
  if (dim == 2) l.count = m->rows, l.len = m->cols, l.ls = m->rs, l.es = m->cs;
  return l;
}

int mpl__as_run(const mpl_mat **m, int dim, mpl_mat **tmp) {
  *tmp = NULL;
  if (dim != 0 || mpl_mat_is_contiguous(*m)) return 0;
  int err = mpl_mat_copy(tmp, *m);
  if (!err) *m = *tmp;
  return err;
}

/* Whether out can take the results of m's lines for dim. */
static int fits_out(const mpl_mat *m, int dim, const mpl_mat *out) {
  if (!out) return 1;
  if (dim == 0)
    return out->rows * out->cols == m->rows * m->cols &&
           mpl_mat_is_contiguous(out);
  return out->rows == m->rows && out->cols == m->cols;
}

int mpl__sort(const mpl_mat *m, int dim, int desc, mpl_mat *vals,
              mpl_mat *idx) {
  if (!m || dim < 0 || dim > 2) return MPL_EINVAL;
  if (!fits_out(m, dim, vals) || !fits_out(m, dim, idx)) return MPL_ESHAPE;
  mpl_mat *tmp;
  mpl__lines l = mpl__lines_of(m, dim);
  if (l.len > UINT32_MAX) return MPL_EOVERFLOW;
  if (!l.count || !l.len) return 0;
  /* sorting into an overlapping out: read from a copy */
  int copy = (vals && vals->st == m->st) || (idx && idx->st == m->st);
  if (copy) {
    int err = mpl_mat_copy(&tmp, m);
    if (err) return err;
  } else {
    int err = mpl__as_run(&m, dim, &tmp);
    if (err) return err;
  }
  if (tmp) m = tmp;
  l = mpl__lines_of(m, dim);
  work w;
  int err = work_new(&w, l.len);
  mpl__lines lv = vals ? mpl__lines_of(vals, dim) : l,
             li = idx ? mpl__lines_of(idx, dim) : l;
  mpl__interrupt_clear();
  size_t mask = mpl__tick_mask(l.len);
  for (size_t c = 0; !err && c < l.count; c++) {
    if (!(c & mask) && mpl__interrupt_pending()) break;
    ptrdiff_t k = (ptrdiff_t)c;
    sort_line(l.p + k * l.ls, l.es, l.len, desc, vals ? lv.p + k * lv.ls : NULL,
              lv.es, idx ? li.p + k * li.ls : NULL, li.es, &w);
  }
  work_free(&w);
  mpl_mat_release(tmp);
  return err ? err : mpl__interrupt_check();
}

int mpl__unique(const mpl_mat *m, double *out, size_t *k) {
  size_t n = m->rows * m->cols;
  *k = 0;
  if (!n) return 0;
  mpl_mat *sorted, *tmp;
  int err = mpl__mat_alloc(&sorted, 1, n);
  if (err) return err;
  if (!(err = mpl_mat_reshape(&tmp, sorted, m->rows, m->cols))) {
    err = mpl__sort(m, 0, 0, tmp, NULL);
    mpl_mat_release(tmp);
  }
  if (!err) {
    const double *s = sorted->data;
    size_t o = 0;
    for (size_t e = 0; e < n; e++) {
      double v = s[e];
      if (o && (v == out[o - 1] || (v != v && out[o - 1] != out[o - 1])))
        continue;
      out[o++] = v;
    }
    *k = o;
  }
  mpl_mat_release(sorted);
  return err;
}

static inline void swapd(double *a, double *b) {
  double t = *a;
  *a = *b;
  *b = t;
}

static int cmpd(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

/* Put the element of rank k of a[0..n) (no NaN) at a[k], smaller ones
** before it and larger ones after. */
static void select_k(double *a, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  int budget = 2;
  for (size_t t = n; t; t >>= 1) budget += 2;
  while (hi > lo + 1) {
    if (--budget < 0) {
      qsort(a + lo, hi - lo + 1, sizeof *a, cmpd);
      return;
    }
    size_t mid = lo + (hi - lo) / 2;
    swapd(&a[mid], &a[lo + 1]);
    if (a[lo] > a[hi]) swapd(&a[lo], &a[hi]);
    if (a[lo + 1] > a[hi]) swapd(&a[lo + 1], &a[hi]);
    if (a[lo] > a[lo + 1]) swapd(&a[lo], &a[lo + 1]);
    size_t i = lo + 1, j = hi;
    double p = a[lo + 1];
    for (;;) {
      do i++;
      while (a[i] < p);
      do j--;
      while (a[j] > p);
      if (j < i) break;
      swapd(&a[i], &a[j]);
    }
    a[lo + 1] = a[j];
    a[j] = p;
    if (j >= k) hi = j - 1;
    if (j <= k) lo = i;
  }
  if (hi == lo + 1 && a[hi] < a[lo]) swapd(&a[lo], &a[hi]);
}

/* The top-down radix selection of a long line (see DESIGN), its reads
** shared out over the helper threads in pieces (the counts and the set of
** elements copied do not depend on the split).  A level's histogram has
** 2048 buckets of 11 key bits, plus bucket 2048 for the keys outside the
** prefix chosen so far. */
#define RS_BUCKETS 2048
#define RS_GRAIN ((size_t)1 << 18)

typedef struct rsjob {
  const double *x;
  ptrdiff_t xs;
  int level;    /* 0: top 11 bits; 1: the next 11 within pre */
  uint64_t pre; /* the prefix chosen so far (level 1, copy) */
  _Atomic size_t h[RS_BUCKETS + 1];
  atomic_int nan;      /* a NaN was seen */
  double *buf;         /* copy: the elements whose top 22 bits are pre */
  atomic_size_t taken; /* copy: slots of buf handed out */
  uint64_t above;      /* next: keys above it count */
  _Atomic uint64_t up; /* next: the smallest key above `above` */
} rsjob;

/* The bucket of key at this level; RS_BUCKETS when outside the prefix. */
static inline size_t rs_bucket(int level, uint64_t pre, uint64_t key) {
  if (!level) return (size_t)(key >> 53);
  uint64_t t = key >> 42;
  return t >> 11 == pre ? (size_t)(t & (RS_BUCKETS - 1)) : RS_BUCKETS;
}

/* Count x[lo..hi) (step xs) into four sub-histograms, element e into
** h[e % 4], so that a run of equal buckets (half of uniform data share the
** top 11 bits) does not make every increment wait for the one before.
** Returns whether a NaN was seen. */
static int rs_count(const double *x, ptrdiff_t xs, size_t lo, size_t hi,
                    int level, uint64_t pre, uint32_t (*h)[RS_BUCKETS + 1]) {
  int nan = 0;
  size_t e = lo;
  for (; e + 4 <= hi; e += 4)
    for (int q = 0; q < 4; q++) {
      double v = x[(ptrdiff_t)(e + (size_t)q) * xs];
      nan |= v != v;
      h[q][rs_bucket(level, pre, rs_key(v))]++;
    }
  for (; e < hi; e++) {
    double v = x[(ptrdiff_t)e * xs];
    nan |= v != v;
    h[0][rs_bucket(level, pre, rs_key(v))]++;
  }
  return nan;
}

/* Count a piece, in 32-bit counts added up every 2^28 elements. */
static void rs_hist(void *ctx, size_t lo, size_t hi) {
  rsjob *j = ctx;
  static _Thread_local uint32_t h[4][RS_BUCKETS + 1];
  int nan = 0;
  for (size_t b0 = lo; b0 < hi; b0 += (size_t)1 << 28) {
    size_t b1 = hi - b0 > (size_t)1 << 28 ? b0 + ((size_t)1 << 28) : hi;
    memset(h, 0, sizeof h);
    if (j->xs == 1)
      nan |= rs_count(j->x, 1, b0, b1, j->level, j->pre, h);
    else
      nan |= rs_count(j->x, j->xs, b0, b1, j->level, j->pre, h);
    for (size_t d = 0; d <= RS_BUCKETS; d++) {
      size_t c = (size_t)h[0][d] + h[1][d] + h[2][d] + h[3][d];
      if (c) atomic_fetch_add_explicit(&j->h[d], c, memory_order_relaxed);
    }
  }
  if (nan) atomic_store(&j->nan, 1);
}

/* Move a batch of copied elements into buf at slots reserved at once. */
static void rs_flush(rsjob *j, const double *batch, size_t nb) {
  size_t at = atomic_fetch_add_explicit(&j->taken, nb, memory_order_relaxed);
  memcpy(j->buf + at, batch, nb * sizeof *batch);
}

/* Copy a piece's elements in the chosen bucket into buf (in any order:
** selection does not care). */
static void rs_copy(void *ctx, size_t lo, size_t hi) {
  rsjob *j = ctx;
  double batch[256];
  size_t nb = 0;
  for (size_t e = lo; e < hi; e++) {
    double v = j->x[(ptrdiff_t)e * j->xs];
    if (rs_key(v) >> 42 != j->pre) continue;
    batch[nb++] = v;
    if (nb == 256) rs_flush(j, batch, nb), nb = 0;
  }
  if (nb) rs_flush(j, batch, nb);
}

/* The smallest key above j->above in a piece, folded into j->up. */
static void rs_next(void *ctx, size_t lo, size_t hi) {
  rsjob *j = ctx;
  uint64_t up = UINT64_MAX;
  for (size_t e = lo; e < hi; e++) {
    uint64_t key = key_of(j->x[(ptrdiff_t)e * j->xs], 0);
    if (key > j->above && key < up) up = key;
  }
  uint64_t cur = atomic_load(&j->up);
  while (up < cur && !atomic_compare_exchange_weak(&j->up, &cur, up)) {
  }
}

/* One histogram read at `level`: the bucket holding rank *base, whose
** rank within it replaces *base; its count in *cnt.  1 for a NaN. */
static int rs_level(rsjob *j, size_t n, int level, size_t *base, size_t *d,
                    size_t *cnt) {
  j->level = level;
  for (size_t i = 0; i <= RS_BUCKETS; i++) atomic_store(&j->h[i], 0);
  int err = mpl__parfor(n, RS_GRAIN, 1, rs_hist, j);
  if (err) return err;
  if (atomic_load(&j->nan)) return 1;
  size_t k = 0;
  while (*base >= j->h[k]) *base -= j->h[k++];
  *d = k;
  *cnt = j->h[k];
  return 0;
}

/* The elements of rank k and k + 1 (k + 1 < n) of a long line into *a and
** *b; 1 when the line holds a NaN, a negative MPL_E* code, else 0. */
static int radix_select(const double *x, ptrdiff_t xs, size_t n, size_t k,
                        double *a, double *b) {
  rsjob *j = calloc(1, sizeof *j);
  if (!j) return MPL_ENOMEM;
  j->x = x, j->xs = xs;
  size_t base = k, d0 = 0, d1 = 0, cnt = 0;
  int r = rs_level(j, n, 0, &base, &d0, &cnt);
  j->pre = d0;
  if (!r) r = rs_level(j, n, 1, &base, &d1, &cnt);
  j->pre = (d0 << 11) | d1;
  if (!r && !(j->buf = malloc(cnt * sizeof *j->buf))) r = MPL_ENOMEM;
  if (!r) r = mpl__parfor(n, RS_GRAIN, 1, rs_copy, j);
  if (!r) {
    select_k(j->buf, cnt, base);
    *a = *b = j->buf[base];
    for (size_t e = base + 1; e < cnt; e++) /* after base: all >= *a */
      if (e == base + 1 || j->buf[e] < *b) *b = j->buf[e];
  }
  if (!r && base + 1 == cnt) { /* rank k + 1 is in a later bucket */
    j->above = key_of(*a, 0);
    atomic_store(&j->up, UINT64_MAX);
    r = mpl__parfor(n, RS_GRAIN, 1, rs_next, j);
    *b = val_of(atomic_load(&j->up), 0);
  }
  free(j->buf);
  free(j);
  return r;
}

/* NumPy's _lerp, operation for operation. */
static double lerp(double a, double b, double t) {
  double d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* The elements of rank k and k + 1 (k itself when k + 1 == n) of a
** line, by copy and quickselect into buf (room for n); 1 when the line
** holds a NaN. */
static int copy_select(const double *x, ptrdiff_t xs, size_t n, size_t k,
                       double *buf, double *a, double *b) {
  for (size_t e = 0; e < n; e++) {
    double v = x[(ptrdiff_t)e * xs];
    if (v != v) return 1;
    buf[e] = v;
  }
  select_k(buf, n, k);
  *a = *b = buf[k];
  if (k + 1 < n) {
    *b = buf[k + 1];
    for (size_t e = k + 2; e < n; e++)
      if (buf[e] < *b) *b = buf[e];
  }
  return 0;
}

/* The quantile of one line, using buf (room for n); NaN for a NaN in the
** line, or when memory runs out (*err set). */
static double line_quantile(const double *x, ptrdiff_t xs, size_t n, double q,
                            int median, double *buf, int *err) {
  double vi = (double)(n - 1) * q, prev = floor(vi), a, b;
  size_t k = median                  ? (n - 1) / 2
             : vi >= (double)(n - 1) ? n - 1
                                     : (size_t)prev;
  int r;
  if (n < SELECT_MIN) {
    r = copy_select(x, xs, n, k, buf, &a, &b);
  } else if (k + 1 < n) {
    r = radix_select(x, xs, n, k, &a, &b);
  } else { /* the largest: rank n - 1 is the one above rank n - 2 */
    r = radix_select(x, xs, n, k - 1, &b, &a);
    b = a;
  }
  if (r) {
    if (r < 0) *err = r;
    return NAN;
  }
  if (median) return n % 2 ? a : (a + b) / 2;
  return lerp(a, b, vi >= (double)(n - 1) ? vi + 1 : vi - prev);
}

int mpl__quantile(const mpl_mat *m, int dim, double q, int median, double *res,
                  mpl_mat *out) {
  if (!m || dim < 0 || dim > 2 || !(q >= 0 && q <= 1)) return MPL_EINVAL;
  mpl__lines l = mpl__lines_of(m, dim); /* dim 0: walked below, run or not */
  if (l.count && !l.len) return MPL_EINVAL;
  ptrdiff_t os = out ? (dim == 1 ? out->cs : out->rs) : 0;
  int whole = dim == 0 && mpl_mat_is_contiguous(m), err = 0;
  size_t blen = whole && l.len >= SELECT_MIN ? 1 : l.len ? l.len : 1;
  double *buf = malloc(blen * sizeof *buf);
  if (!buf) return MPL_ENOMEM;
  mpl__interrupt_clear();
  if (whole) {
    *res = line_quantile(m->data, 1, l.len, q, median, buf, &err);
  } else if (dim == 0) { /* gather row by row, then select in place */
    size_t o = 0;
    for (size_t i = 0; i < m->rows; i++)
      for (size_t j = 0; j < m->cols; j++) buf[o++] = MPL_AT(m, i, j);
    *res = line_quantile(buf, 1, o, q, median, buf, &err);
  } else {
    size_t mask = mpl__tick_mask(l.len);
    for (size_t c = 0; c < l.count; c++) {
      if (!(c & mask) && mpl__interrupt_pending()) break;
      out->data[(ptrdiff_t)c * os] = line_quantile(
          l.p + (ptrdiff_t)c * l.ls, l.es, l.len, q, median, buf, &err);
    }
  }
  free(buf);
  return err ? err : mpl__interrupt_check();
}

/* Position of the first extreme (or NaN) of one line. */
static size_t line_argext(const double *x, ptrdiff_t xs, size_t n, int max) {
  size_t best = 0;
  double b = x[0];
  if (b != b) return 0;
  for (size_t e = 1; e < n; e++) {
    double v = x[(ptrdiff_t)e * xs];
    if (v != v) return e;
    if (max ? v > b : v < b) {
      b = v;
      best = e;
    }
  }
  return best;
}

int mpl__argext(const mpl_mat *m, int dim, int max, double *res, mpl_mat *out) {
  if (!m || dim < 0 || dim > 2) return MPL_EINVAL;
  mpl_mat *tmp;
  int err = mpl__as_run(&m, dim, &tmp);
  if (err) return err;
  mpl__lines l = mpl__lines_of(m, dim);
  if (l.count && !l.len) {
    mpl_mat_release(tmp);
    return MPL_EINVAL;
  }
  mpl__interrupt_clear();
  if (dim == 0) { /* one vectorised pass on the helper threads */
    size_t e = 0;
    err = mpl__argext_run(l.p, l.len, max, &e);
    *res = (double)e + 1;
  } else {
    ptrdiff_t os = dim == 1 ? out->cs : out->rs;
    size_t mask = mpl__tick_mask(l.len);
    for (size_t c = 0; c < l.count; c++) {
      if (!(c & mask) && mpl__interrupt_pending()) break;
      out->data[(ptrdiff_t)c * os] =
          (double)line_argext(l.p + (ptrdiff_t)c * l.ls, l.es, l.len, max) + 1;
    }
  }
  mpl_mat_release(tmp);
  return err ? err : mpl__interrupt_check();
}
