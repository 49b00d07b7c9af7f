/*
** test_dot.c: the matrix product, in-process and through the worker pool:
** against a naive long double reference, bit for bit across worker counts,
** on views, with sentinels around an output view, with NaN rows; and the
** same for products cut along the inner dimension, at the edges of that
** rule, with workers killed or interrupted mid-call.
*/
#include <limits.h>
#include <math.h>
#include <float.h>
#include <pthread.h>

#include <cblas.h>

#include "ctest.h"
#include "internal.h"
#include "mpl.h"

static unsigned long long lcg = 88172645463325252ULL;

static double rnd(void) {
  lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(lcg >> 11) * 0x1.0p-53 - 0.5;
}

static mpl_mat *random_mat(size_t r, size_t c, int integers) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, r, c) == 0);
  double *d = mpl_mat_data(m);
  for (size_t i = 0; i < r * c; i++)
    d[i] = integers ? floor(rnd() * 20) : rnd() * 4;
  return m;
}

static double at(const mpl_mat *m, size_t i, size_t j) {
  return mpl_mat_data(
      m)[(ptrdiff_t)i * mpl_mat_rstride(m) + (ptrdiff_t)j * mpl_mat_cstride(m)];
}

/* |C - R| <= 2 K eps (|A||B|)ij, with R summed in long double. */
static void check_against_reference(const mpl_mat *a, const mpl_mat *b,
                                    const mpl_mat *c) {
  size_t m = mpl_mat_rows(a), k = mpl_mat_cols(a), n = mpl_mat_cols(b);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      long double ref = 0, mag = 0;
      for (size_t l = 0; l < k; l++) {
        ref += (long double)at(a, i, l) * at(b, l, j);
        mag += fabsl((long double)at(a, i, l) * at(b, l, j));
      }
      long double err = fabsl((long double)at(c, i, j) - ref);
      if (err > 2.0L * (long double)k * DBL_EPSILON * mag) {
        fprintf(stderr, "C(%zu,%zu) = %.17g, reference %.17Lg\n", i, j,
                at(c, i, j), ref);
        CHECK(0);
      }
    }
}

static int bits_equal(const mpl_mat *x, const mpl_mat *y) {
  for (size_t i = 0; i < mpl_mat_rows(x); i++)
    for (size_t j = 0; j < mpl_mat_cols(x); j++) {
      double p = at(x, i, j), q = at(y, i, j);
      if (memcmp(&p, &q, sizeof p) != 0) return 0;
    }
  return 1;
}

/* Tiny sizes too go through the workers in these tests. */
static void force_pool(void) { mpl__parallel_min_flops = 0; }

static void test_small_sizes_every_procs(void) {
  static const size_t sizes[] = {0, 1, 2, 3, 5, 9, 33, 257}; /* 257: 3 blocks */
  force_pool();
  for (size_t x = 0; x < 8; x++)
    for (size_t y = 0; y < 8; y += 3)
      for (size_t z = 0; z < 8; z += 2) {
        size_t m = sizes[x], k = sizes[y], n = sizes[z];
        mpl_mat *a = random_mat(m, k, 0), *b = random_mat(k, n, 0), *c1, *cp;
        CHECK(mpl_mat_new(&c1, m, n) == 0);
        CHECK(mpl_mat_new(&cp, m, n) == 0);
        CHECK(mpl_dot(a, b, c1, 1) == 0);
        check_against_reference(a, b, c1);
        for (int p = 2; p <= 5; p++) { /* rows fewer than procs, uneven */
          mpl_mat_fill(cp, -7);
          CHECK(mpl_dot(a, b, cp, p) == 0);
          CHECK(bits_equal(c1, cp));
        }
        mpl_mat_release(a);
        mpl_mat_release(b);
        mpl_mat_release(c1);
        mpl_mat_release(cp);
      }
}

static void test_bitwise_identical_large(void) {
  /* above the in-process threshold: the real parallel path */
  size_t shapes[][3] = {
      {500, 500, 500}, {333, 700, 251}, {1001, 64, 37}, {50, 20000, 60}};
  for (size_t s = 0; s < 4; s++) {
    size_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
    mpl_mat *a = random_mat(m, k, 0), *b = random_mat(k, n, 0), *c1, *cp;
    CHECK(mpl_mat_new(&c1, m, n) == 0);
    CHECK(mpl_mat_new(&cp, m, n) == 0);
    CHECK(mpl_dot(a, b, c1, 1) == 0);
    for (int p = 2; p <= 4; p++) {
      CHECK(mpl_dot(a, b, cp, p) == 0);
      CHECK(bits_equal(c1, cp));
    }
    if (s == 1) check_against_reference(a, b, cp);
    mpl_mat_release(a);
    mpl_mat_release(b);
    mpl_mat_release(c1);
    mpl_mat_release(cp);
  }
}

static void test_integers_exact(void) {
  force_pool();
  mpl_mat *a = random_mat(67, 45, 1), *b = random_mat(45, 29, 1), *c;
  CHECK(mpl_mat_new(&c, 67, 29) == 0);
  CHECK(mpl_dot(a, b, c, 3) == 0);
  for (size_t i = 0; i < 67; i++)
    for (size_t j = 0; j < 29; j++) {
      double ref = 0; /* exact: small integers */
      for (size_t l = 0; l < 45; l++) ref += at(a, i, l) * at(b, l, j);
      CHECK(at(c, i, j) == ref);
    }
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
}

/* out is a view in the middle of a larger matrix filled with sentinels;
** inputs are transposed and strided views. */
static void test_views_and_sentinels(void) {
  force_pool();
  mpl_mat *big, *out, *a0 = random_mat(40, 30, 0), *b0 = random_mat(50, 40, 0);
  mpl_mat *at_, *bsub, *ref;
  CHECK(mpl_mat_new(&big, 60, 70) == 0);
  mpl_mat_fill(big, 12345.0);
  CHECK(mpl_mat_sub(&out, big, 5, 7, 30, 21) == 0);
  CHECK(mpl_mat_transpose(&at_, a0) == 0);          /* 30 x 40 */
  CHECK(mpl_mat_sub(&bsub, b0, 3, 4, 40, 21) == 0); /* 40 x 21 */
  CHECK(mpl_mat_new(&ref, 30, 21) == 0);
  CHECK(mpl_dot(at_, bsub, ref, 1) == 0);
  check_against_reference(at_, bsub, ref);
  for (int p = 1; p <= 4; p++) {
    CHECK(mpl_dot(at_, bsub, out, p) == 0);
    CHECK(bits_equal(out, ref));
    for (size_t i = 0; i < 60; i++)
      for (size_t j = 0; j < 70; j++) {
        int inside = i >= 5 && i < 35 && j >= 7 && j < 28;
        if (!inside) CHECK(at(big, i, j) == 12345.0);
      }
  }
  /* a transposed output: BLAS computes the transposed product, so the
  ** bits may differ from ref's; they must not differ between procs */
  mpl_mat *outt, *o2, *first;
  CHECK(mpl_mat_new(&o2, 21, 30) == 0);
  CHECK(mpl_mat_transpose(&outt, o2) == 0);
  CHECK(mpl_dot(at_, bsub, outt, 1) == 0);
  check_against_reference(at_, bsub, outt);
  CHECK(mpl_mat_copy(&first, outt) == 0);
  for (int p = 2; p <= 4; p++) {
    CHECK(mpl_dot(at_, bsub, outt, p) == 0);
    CHECK(bits_equal(outt, first));
  }
  mpl_mat_release(first);
  mpl_mat_release(outt);
  mpl_mat_release(o2);
  mpl_mat_release(ref);
  mpl_mat_release(bsub);
  mpl_mat_release(at_);
  mpl_mat_release(out);
  mpl_mat_release(big);
  mpl_mat_release(a0);
  mpl_mat_release(b0);
}

static void test_nan_row_stays_in_its_row(void) {
  force_pool();
  mpl_mat *a = random_mat(23, 11, 0), *b = random_mat(11, 13, 0), *c;
  mpl_mat_data(a)[7 * 11 + 4] = NAN;
  CHECK(mpl_mat_new(&c, 23, 13) == 0);
  CHECK(mpl_dot(a, b, c, 4) == 0);
  for (size_t i = 0; i < 23; i++)
    for (size_t j = 0; j < 13; j++) CHECK(isnan(at(c, i, j)) == (i == 7));
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
}

static void test_output_overlapping_input(void) {
  force_pool();
  mpl_mat *a = random_mat(16, 16, 1), *b = random_mat(16, 16, 1), *ref, *acopy;
  CHECK(mpl_mat_new(&ref, 16, 16) == 0);
  CHECK(mpl_dot(a, b, ref, 1) == 0);
  CHECK(mpl_mat_copy(&acopy, a) == 0);
  CHECK(mpl_dot(a, b, a, 2) == 0); /* a = a * b, in place */
  CHECK(mpl_mat_equal(a, ref));
  mpl_mat_release(acopy);
  mpl_mat_release(ref);
  mpl_mat_release(a);
  mpl_mat_release(b);
}

/* ---- products cut along the inner dimension (dot.c, split_along_k) ---- */

/* c = a*b by single-threaded BLAS calls, one per row block of the
** engine's rule (mpl__dot_block_rows): what the row path gives. */
static void one_blas_call(const mpl_mat *a, const mpl_mat *b, mpl_mat *c) {
  size_t m = mpl_mat_rows(a),
         step = mpl__dot_block_rows(m, mpl_mat_cols(a), mpl_mat_cols(b));
  openblas_set_num_threads(1);
  for (size_t r0 = 0; r0 < m; r0 += step) {
    size_t r1 = r0 + step < m ? r0 + step : m;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0),
                (int)mpl_mat_cols(b), (int)mpl_mat_cols(a), 1.0,
                mpl_mat_data(a) + r0 * (size_t)mpl_mat_rstride(a),
                (int)mpl_mat_rstride(a), mpl_mat_data(b),
                (int)mpl_mat_rstride(b), 0.0,
                mpl_mat_data(c) + r0 * (size_t)mpl_mat_rstride(c),
                (int)mpl_mat_rstride(c));
  }
}

/* ref's bits from procs 1..4: through the workers even when small, at the
** default threshold, and in-process whatever procs. */
static void same_bits_everywhere(const mpl_mat *a, const mpl_mat *b,
                                 const mpl_mat *ref) {
  static const double thresholds[] = {0, 6.0e7, 1e300};
  mpl_mat *c;
  CHECK(mpl_mat_new(&c, mpl_mat_rows(ref), mpl_mat_cols(ref)) == 0);
  for (size_t t = 0; t < 3; t++) {
    mpl__parallel_min_flops = thresholds[t];
    for (int p = 1; p <= 4; p++) {
      mpl_mat_fill(c, -7);
      CHECK(mpl_dot(a, b, c, p) == 0);
      CHECK(bits_equal(c, ref));
    }
  }
  mpl__parallel_min_flops = 6.0e7;
  mpl_mat_release(c);
}

/* Shapes on both sides of the rule: inside, the chunked sum differs from
** one BLAS call in some last bit (so the path is really taken); outside,
** procs = 1 is that one call.  Every procs agrees either way. */
static void test_split_k_rule_edges(void) {
  size_t r = mpl__ksplit_rows, k = mpl__ksplit_min_k;
  /* {m, k, n, cut}: the rule also wants 6e7 flops, which 64 x 8192 x 60
  ** has and 64 x 8192 x 50 has not */
  size_t shapes[][4] = {{50, 20000, 60, 1}, {r, k, 60, 1},
                        {8, 8 * k, 60, 1},  {r + 1, k, 60, 0},
                        {r, k - 1, 60, 0},  {r, k, 50, 0}};
  for (size_t s = 0; s < 6; s++) {
    size_t m = shapes[s][0], kk = shapes[s][1], n = shapes[s][2];
    mpl_mat *a = random_mat(m, kk, 0), *b = random_mat(kk, n, 0), *c1, *one;
    CHECK(mpl_mat_new(&c1, m, n) == 0);
    CHECK(mpl_mat_new(&one, m, n) == 0);
    CHECK(mpl_dot(a, b, c1, 1) == 0);
    check_against_reference(a, b, c1);
    one_blas_call(a, b, one);
    CHECK(bits_equal(c1, one) == !shapes[s][3]);
    same_bits_everywhere(a, b, c1);
    mpl_mat_release(a);
    mpl_mat_release(b);
    mpl_mat_release(c1);
    mpl_mat_release(one);
  }
}

/* Transposed and strided operands, an output view among sentinels and a
** transposed output, on a product cut along k. */
static void test_split_k_views_and_sentinels(void) {
  size_t m = 40, k = 30000, n = 30;
  mpl_mat *a0 = random_mat(k, m, 0), *b0 = random_mat(k + 5, n + 9, 0);
  mpl_mat *at_, *bsub, *bt0, *bt, *big, *out, *ref, *o2, *outt;
  CHECK(mpl_mat_transpose(&at_, a0) == 0);        /* m x k, flagged */
  CHECK(mpl_mat_sub(&bsub, b0, 5, 2, k, n) == 0); /* k x n, ld n+9 */
  bt0 = random_mat(n, k, 0);
  CHECK(mpl_mat_transpose(&bt, bt0) == 0); /* k x n, flagged */
  CHECK(mpl_mat_new(&big, m + 9, n + 11) == 0);
  mpl_mat_fill(big, 12345.0);
  CHECK(mpl_mat_sub(&out, big, 4, 6, m, n) == 0);
  CHECK(mpl_mat_new(&o2, n, m) == 0);
  CHECK(mpl_mat_transpose(&outt, o2) == 0); /* m x n, column-major */
  CHECK(mpl_mat_new(&ref, m, n) == 0);
  const mpl_mat *bs[2] = {bsub, bt};
  for (int v = 0; v < 2; v++) {
    CHECK(mpl_dot(at_, bs[v], ref, 1) == 0);
    check_against_reference(at_, bs[v], ref);
    same_bits_everywhere(at_, bs[v], ref);
    mpl__parallel_min_flops = 0;
    for (int p = 1; p <= 4; p++) {
      CHECK(mpl_dot(at_, bs[v], out, p) == 0);
      CHECK(bits_equal(out, ref));
      for (size_t i = 0; i < m + 9; i++)
        for (size_t j = 0; j < n + 11; j++) {
          int inside = i >= 4 && i < 4 + m && j >= 6 && j < 6 + n;
          if (!inside) CHECK(at(big, i, j) == 12345.0);
        }
      mpl_mat_fill(o2, -1);
      CHECK(mpl_dot(at_, bs[v], outt, p) == 0);
      CHECK(bits_equal(outt, ref)); /* the sum is written element by element */
    }
    mpl__parallel_min_flops = 6.0e7;
  }
  mpl_mat_release(ref);
  mpl_mat_release(outt);
  mpl_mat_release(o2);
  mpl_mat_release(out);
  mpl_mat_release(big);
  mpl_mat_release(bt);
  mpl_mat_release(bt0);
  mpl_mat_release(bsub);
  mpl_mat_release(at_);
  mpl_mat_release(a0);
  mpl_mat_release(b0);
}

/* NaN in one row of a, in a late chunk, reaches that row only. */
static void test_split_k_nan_row(void) {
  size_t m = 50, k = 20000, n = 60;
  mpl_mat *a = random_mat(m, k, 0), *b = random_mat(k, n, 0), *c;
  mpl_mat_data(a)[7 * k + 15001] = NAN;
  CHECK(mpl_mat_new(&c, m, n) == 0);
  for (int p = 1; p <= 4; p++) {
    mpl_mat_fill(c, 0);
    CHECK(mpl_dot(a, b, c, p) == 0);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) CHECK(isnan(at(c, i, j)) == (i == 7));
  }
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
}

/* The output may be a view of an input: it is written once all the
** chunks are done. */
static void test_split_k_output_overlapping_input(void) {
  size_t m = 50, k = 20000, n = 60;
  mpl_mat *b = random_mat(k, n, 0);
  for (int p = 1; p <= 2; p++) {
    mpl_mat *a = random_mat(m, k, 0), *ref, *head;
    CHECK(mpl_mat_new(&ref, m, n) == 0);
    CHECK(mpl_dot(a, b, ref, 1) == 0);
    CHECK(mpl_mat_sub(&head, a, 0, 0, m, n) == 0); /* a's first columns */
    CHECK(mpl_dot(a, b, head, p) == 0);
    CHECK(bits_equal(head, ref));
    mpl_mat_release(head);
    mpl_mat_release(ref);
    mpl_mat_release(a);
  }
  mpl_mat_release(b);
}

typedef struct later {
  pid_t pid;
  int sig; /* sent to pid; 0: mpl_interrupt() */
  int fired;
} later;

static void *fire_later(void *p) {
  later *l = p;
  usleep(200000);
  if (l->sig)
    kill(l->pid, l->sig);
  else
    mpl_interrupt();
  l->fired = 1;
  return NULL;
}

/* A worker is stopped (SIGSTOP) before the call, then killed, or the call
** is interrupted: the call fails, out keeps its old contents and the
** scratch goes back to the arena; the next call is right.  Continued
** (SIGCONT) instead, it finds the chunks taken by the other worker and
** the call gives the usual bits.  Killed, it dies without having taken
** the job: it lost no chunk, so the call succeeds as well (a worker
** killed with the job in hand is c_pool's case). */
static void split_k_stopped_worker(int sig, int expect) {
  size_t m = 50, k = 20000, n = 60;
  mpl_mat *a = random_mat(m, k, 0), *b = random_mat(k, n, 0), *c, *ref;
  CHECK(mpl_mat_new(&c, m, n) == 0);
  CHECK(mpl_mat_new(&ref, m, n) == 0);
  CHECK(mpl_dot(a, b, ref, 1) == 0);
  int pids[8];
  CHECK(mpl__pool_start(2) == 0);
  CHECK_EQ_INT(mpl__pool_pids(pids, 8), 2);
  mpl_mat_fill(c, 12345.0);
  mpl__arena_stats before, after;
  mpl__arena_get_stats(&before);
  CHECK(kill(pids[1], SIGSTOP) == 0);
  later l = {pids[1], sig, 0};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fire_later, &l) == 0);
  CHECK_EQ_INT(mpl_dot(a, b, c, 2), expect);
  pthread_join(t, NULL);
  CHECK(l.fired);
  mpl__arena_get_stats(&after);
  CHECK_EQ_INT(after.blocks, before.blocks);
  CHECK_EQ_INT(after.in_use, before.in_use);
  if (expect == 0) {
    CHECK(bits_equal(c, ref));
  } else {
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) CHECK(at(c, i, j) == 12345.0);
    CHECK(mpl_dot(a, b, c, 2) == 0);
    CHECK(bits_equal(c, ref));
  }
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
  mpl_mat_release(ref);
}

/* A product that reaches two workers (two of the engine's row blocks). */
static void small_product_through_pool(void) {
  size_t m = mpl__dot_block_rows(0, 0, 0) + 1;
  mpl_mat *a = random_mat(m, 7, 0), *c;
  CHECK(mpl_mat_new(&c, m, m) == 0);
  double saved = mpl__parallel_min_flops;
  force_pool();
  mpl_mat *at_;
  CHECK(mpl_mat_transpose(&at_, a) == 0);
  CHECK(mpl_dot(a, at_, c, 2) == 0);
  check_against_reference(a, at_, c);
  mpl__parallel_min_flops = saved;
  mpl_mat_release(at_);
  mpl_mat_release(a);
  mpl_mat_release(c);
}

static void test_split_k_worker_killed(void) {
  split_k_stopped_worker(SIGKILL, 0);
  int pids[8];
  small_product_through_pool();
  CHECK_EQ_INT(mpl__pool_pids(pids, 8), 2); /* renewed */
}

static void test_split_k_interrupted(void) {
  split_k_stopped_worker(0, MPL_EINTR);
}

static void test_split_k_late_worker(void) {
  split_k_stopped_worker(SIGCONT, 0);
}

static void test_shape_errors(void) {
  mpl_mat *a = random_mat(3, 4, 0), *b = random_mat(5, 6, 0), *c;
  CHECK(mpl_mat_new(&c, 3, 6) == 0);
  CHECK_EQ_INT(mpl_dot(a, b, c, 2), MPL_ESHAPE);
  CHECK_EQ_INT(mpl_dot(a, a, c, 2), MPL_ESHAPE);
  CHECK_EQ_INT(mpl_dot(NULL, b, c, 2), MPL_EINVAL);
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c);
}

/* What a product's progress hook saw. */
typedef struct seen {
  size_t calls, last, total;
  long t_last, min_gap; /* ns between calls, the shortest */
  int bad;              /* done went down or past total */
} seen;

static void on_progress(void *ctx, size_t done, size_t total) {
  seen *s = ctx;
  long now = mpl__now_ns();
  if (s->calls && now - s->t_last < s->min_gap) s->min_gap = now - s->t_last;
  if (done < s->last || done > total || (s->calls && total != s->total))
    s->bad = 1;
  s->calls++;
  s->last = done;
  s->total = total;
  s->t_last = now;
}

/* The progress hook of products: with a product sized from the rate
** measured here to take about a second, the hook is called (at least every
** ~100 ms, never more often), with rows that only grow up to the result's
** rows, in the workers' case and in-process; the result is the same bits
** as without a hook.  A product cut along k reports too, in chunk shares. */
static void test_progress_hook(void) {
  size_t k = 512, n = 512, m = 512;
  mpl_mat *a = random_mat(m, k, 0), *b = random_mat(k, n, 0), *c, *ref, *h;
  CHECK(mpl_mat_new(&c, m, n) == 0);
  long t0 = mpl__now_ns();
  CHECK(mpl_dot(a, b, c, 1) == 0);
  double secs = (double)(mpl__now_ns() - t0) / 1e9;
  mpl_mat_release(a);
  mpl_mat_release(c);
  /* m = 4096 rows (16 blocks), k = n grown for about half a second */
  m = 4096;
  k = (size_t)(512 * sqrt(0.5 / (8 * (secs > 1e-4 ? secs : 1e-4))));
  k = k < 512 ? 512 : k > 2048 ? 2048 : k;
  n = k;
  mpl_mat_release(b);
  a = random_mat(m, k, 0);
  b = random_mat(k, n, 0);
  CHECK(mpl_mat_new(&ref, m, n) == 0);
  CHECK(mpl_mat_new(&h, m, n) == 0);
  CHECK(mpl_dot(a, b, ref, 1) == 0);
  for (int p = 1; p <= 2; p++) {
    seen s = {0, 0, 0, 0, LONG_MAX, 0};
    mpl__progress pr = {on_progress, &s};
    long start = mpl__now_ns();
    CHECK_EQ_INT(mpl__dot_progress(a, b, h, p, &pr), 0);
    long took = mpl__now_ns() - start;
    CHECK(bits_equal(ref, h));
    /* a call reaches the hook once it has run a few of its periods (a
    ** loaded machine may have sized this product short) */
    CHECK(s.calls >= 1 || took < 3 * MPL__PROGRESS_MS * 1000000L);
    CHECK(!s.bad);
    CHECK(s.calls == 0 || s.total == m); /* no call: nothing to compare */
    CHECK(s.calls < 2 || s.min_gap >= MPL__PROGRESS_MS * 1000000L);
  }
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(ref);
  mpl_mat_release(h);
  /* cut along k: a hook changes nothing in the bits, reports m rows */
  a = random_mat(16, 40000, 0);
  b = random_mat(40000, 60, 0);
  CHECK(mpl_mat_new(&ref, 16, 60) == 0);
  CHECK(mpl_mat_new(&h, 16, 60) == 0);
  CHECK(mpl_dot(a, b, ref, 2) == 0);
  seen s = {0, 0, 0, 0, LONG_MAX, 0};
  mpl__progress pr = {on_progress, &s};
  CHECK_EQ_INT(mpl__dot_progress(a, b, h, 2, &pr), 0);
  CHECK(bits_equal(ref, h));
  CHECK(!s.bad);
  CHECK(s.calls == 0 || s.total == 16);
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(ref);
  mpl_mat_release(h);
}

static const ctest tests[] = {
    {"small_sizes_every_procs", test_small_sizes_every_procs},
    {"bitwise_identical_large", test_bitwise_identical_large},
    {"integers_exact", test_integers_exact},
    {"views_and_sentinels", test_views_and_sentinels},
    {"nan_row_stays_in_its_row", test_nan_row_stays_in_its_row},
    {"output_overlapping_input", test_output_overlapping_input},
    {"shape_errors", test_shape_errors},
    {"split_k_rule_edges", test_split_k_rule_edges},
    {"split_k_views_and_sentinels", test_split_k_views_and_sentinels},
    {"split_k_nan_row", test_split_k_nan_row},
    {"split_k_output_overlapping_input", test_split_k_output_overlapping_input},
    {"split_k_worker_killed", test_split_k_worker_killed},
    {"split_k_interrupted", test_split_k_interrupted},
    {"split_k_late_worker", test_split_k_late_worker},
    {"progress_hook", test_progress_hook},
};

CTEST_MAIN(tests, 120)
