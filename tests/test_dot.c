/*
** test_dot.c: the matrix product, in-process and through the worker pool:
** against a naive long double reference, bit for bit across worker counts,
** on views, with sentinels around an output view, with NaN rows.
*/
#include <math.h>
#include <float.h>

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
  return mpl_mat_data(m)[(ptrdiff_t)i * mpl_mat_rstride(m) +
                         (ptrdiff_t)j * mpl_mat_cstride(m)];
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
  static const size_t sizes[] = {0, 1, 2, 3, 5, 9, 17, 33};
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
  size_t shapes[][3] = {{500, 500, 500}, {333, 700, 251}, {1001, 64, 37},
                        {50, 20000, 60}};
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
  CHECK(mpl_mat_transpose(&at_, a0) == 0);           /* 30 x 40 */
  CHECK(mpl_mat_sub(&bsub, b0, 3, 4, 40, 21) == 0);  /* 40 x 21 */
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

static const ctest tests[] = {
  {"small_sizes_every_procs", test_small_sizes_every_procs},
  {"bitwise_identical_large", test_bitwise_identical_large},
  {"integers_exact", test_integers_exact},
  {"views_and_sentinels", test_views_and_sentinels},
  {"nan_row_stays_in_its_row", test_nan_row_stays_in_its_row},
  {"output_overlapping_input", test_output_overlapping_input},
  {"shape_errors", test_shape_errors},
};

CTEST_MAIN(tests, 120)
