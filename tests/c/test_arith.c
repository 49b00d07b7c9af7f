/*
** test_arith.c: the numeric core -- vectorised kernels on every instruction
** set this CPU has, elementwise operations with broadcasting on views and
** overlapping outputs, reductions and their accuracy, linear algebra, the
** random number generator and the arena's retention of freed memory.
*/
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "arith.h"
#include "ctest.h"
#include "internal.h"
#include "mpl.h"

/* ---- helpers ---- */

static mpl_mat *mk(size_t r, size_t c) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, r, c) == 0);
  return m;
}

/* r x c with element (i, j) = f(i, j) from a simple formula. */
static mpl_mat *filled(size_t r, size_t c, double scale) {
  mpl_mat *m = mk(r, c);
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++)
      MPL_AT(m, i, j) =
          scale * (sin((double)(i * 131 + j * 17 + 1)) + 0.25 * (double)i);
  return m;
}

static mpl_mat *sub(const mpl_mat *m, size_t r0, size_t c0, size_t nr,
                    size_t nc) {
  mpl_mat *v;
  CHECK(mpl_mat_sub(&v, m, r0, c0, nr, nc) == 0);
  return v;
}

static mpl_mat *tr(const mpl_mat *m) {
  mpl_mat *v;
  CHECK(mpl_mat_transpose(&v, m) == 0);
  return v;
}

static mpl_mat *copy(const mpl_mat *m) {
  mpl_mat *v;
  CHECK(mpl_mat_copy(&v, m) == 0);
  return v;
}

/* Distance in units in the last place (0 for equal values or two NaNs). */
static double ulps(double a, double b) {
  if (a == b || (a != a && b != b)) return 0;
  if (a != a || b != b || isinf(a) || isinf(b)) return INFINITY;
  double d = fabs(a - b), u = fmax(fabs(a), fabs(b));
  double ulp = u >= DBL_MIN ? ldexp(DBL_EPSILON, ilogb(u)) : 0x1p-1074;
  return d / ulp;
}

/* Same shape and elements, NaN matching NaN. */
static int same(const mpl_mat *a, const mpl_mat *b) {
  if (a->rows != b->rows || a->cols != b->cols) return 0;
  for (size_t i = 0; i < a->rows; i++)
    for (size_t j = 0; j < a->cols; j++) {
      double x = MPL_AT(a, i, j), y = MPL_AT(b, i, j);
      if (!(x == y || (x != x && y != y))) return 0;
    }
  return 1;
}

static double libm_unary(int op, double x) {
  switch (op) {
  case MPL__U_NEG:
    return -x;
  case MPL__U_EXP:
    return exp(x);
  case MPL__U_LOG:
    return log(x);
  case MPL__U_SQRT:
    return sqrt(x);
  case MPL__U_ABS:
    return fabs(x);
  case MPL__U_SIN:
    return sin(x);
  case MPL__U_COS:
    return cos(x);
  case MPL__U_TANH:
    return tanh(x);
  case MPL__U_FLOOR:
    return floor(x);
  case MPL__U_CEIL:
    return ceil(x);
  case MPL__U_TAN:
    return tan(x);
  case MPL__U_ASIN:
    return asin(x);
  case MPL__U_ACOS:
    return acos(x);
  case MPL__U_ATAN:
    return atan(x);
  case MPL__U_SINH:
    return sinh(x);
  case MPL__U_COSH:
    return cosh(x);
  case MPL__U_LOG2:
    return log2(x);
  case MPL__U_LOG10:
    return log10(x);
  case MPL__U_LOG1P:
    return log1p(x);
  case MPL__U_EXPM1:
    return expm1(x);
  case MPL__U_ROUND:
    return round(x);
  case MPL__U_TRUNC:
    return trunc(x);
  case MPL__U_SIGN:
    return x > 0 ? 1.0 : x < 0 ? -1.0 : x;
  }
  return NAN;
}

static double ref_binary(int op, double x, double y) {
  switch (op) {
  case MPL__B_ADD:
    return x + y;
  case MPL__B_SUB:
    return x - y;
  case MPL__B_MUL:
    return x * y;
  case MPL__B_DIV:
    return x / y;
  case MPL__B_POW:
    return pow(x, y);
  case MPL__B_ATAN2:
    return atan2(x, y);
  }
  return NAN;
}

static int exact_unary(int op) {
  return op == MPL__U_NEG || op == MPL__U_ABS || op == MPL__U_SQRT ||
         op == MPL__U_FLOOR || op == MPL__U_CEIL || op == MPL__U_ROUND ||
         op == MPL__U_TRUNC || op == MPL__U_SIGN;
}

/* a and b agree: bit for bit where the operation is exact (zeros' signs
** included), else within 4 ulps with the same NaN-ness and infinities. */
static int agree(double a, double b, int exact) {
  if (exact) return a == b ? signbit(a) == signbit(b) : (a != a && b != b);
  if ((a != a) != (b != b)) return 0;
  if (isinf(a) || isinf(b)) return a == b;
  if (a == 0 || b == 0) return fabs(a - b) < 1e-300 || ulps(a, b) <= 4;
  return ulps(a, b) <= 4;
}

static const double specials[] = {
    0.0,   -0.0,  1.0,       -1.0,      0.5,      -0.5,      2.0,
    -2.5,  3.0,   1e-310,    -1e-310,   1e-300,   1e300,     -1e300,
    709.7, 710.0, -745.2,    -750.0,    20.0,     -20.0,     0.1,
    1e10,  -1e10, 1e22,      1e-20,     INFINITY, -INFINITY, NAN,
    3.5,   -3.5,  1.0000001, 0.9999999, 100.25,   -0.75};

#define NSPEC (sizeof specials / sizeof specials[0])

/* ---- kernels ---- */

/* Every unary kernel against libm, on every instruction set, for lengths
** and alignments that exercise the padded head and tail and non-temporal
** stores, in place too; and an element's result never depends on where it
** sits. */
static void test_kernels_unary(void) {
  int best = mpl__vm_set_isa(MPL__ISA_AVX512);
  double x[80], o[80], o2[80];
  for (int isa = MPL__ISA_GENERIC; isa <= best; isa++) {
    CHECK(mpl__vm_set_isa(isa) == isa);
    for (int op = 0; op < MPL__U_COUNT; op++) {
      for (size_t k = 0; k < NSPEC; k++) {
        double v = specials[k], r = mpl__vm_unary1(op, v);
        if (!agree(r, libm_unary(op, v), exact_unary(op))) {
          fprintf(stderr, "isa %d op %d x %a: %a, libm %a\n", isa, op, v, r,
                  libm_unary(op, v));
          CHECK(0);
        }
      }
      for (size_t n = 0; n <= 40; n++)
        for (size_t off = 0; off < 8; off++)
          for (int nt = 0; nt < 2; nt++) {
            for (size_t i = 0; i < n; i++)
              x[off + i] = specials[(i * 7 + off) % NSPEC];
            mpl__vm_unary(op, x + off, o + off, n, nt);
            for (size_t i = 0; i < n; i++) {
              double want = mpl__vm_unary1(op, x[off + i]);
              CHECK(memcmp(&o[off + i], &want, sizeof want) == 0 ||
                    (want != want && o[off + i] != o[off + i]));
            }
            memcpy(o2, x, sizeof x); /* in place */
            mpl__vm_unary(op, o2 + off, o2 + off, n, nt);
            for (size_t i = 0; i < n; i++)
              CHECK(memcmp(&o2[off + i], &o[off + i], sizeof(double)) == 0 ||
                    o[off + i] != o[off + i]);
          }
    }
  }
}

/* exp, log, sin, cos, tanh and pow against libm over their whole ranges:
** within 4 ulps (exp, written here: 2), and exp's AVX2 and AVX-512
** versions agree bit for bit on normal results. */
static void test_kernels_accuracy(void) {
  int best = mpl__vm_set_isa(MPL__ISA_AVX512);
  size_t n = 200000;
  double *x = malloc(n * sizeof *x), *o = malloc(n * sizeof *o);
  double *ref = malloc(n * sizeof *ref), *y = malloc(n * sizeof *y);
  CHECK(x && o && ref && y);
  mpl__rng g;
  mpl__rng_seed(&g, 3, 0);
  struct {
    int op;
    double lo, hi, tol;
  } cases[] = {
      {MPL__U_EXP, -745.0, 709.7, 2}, {MPL__U_EXP, -1, 1, 2},
      {MPL__U_LOG, 0, 1e300, 4},      {MPL__U_LOG, 0.5, 2, 4},
      {MPL__U_SIN, -1e4, 1e4, 4},     {MPL__U_COS, -10, 10, 4},
      {MPL__U_TANH, -20, 20, 4},
  };
  for (int isa = MPL__ISA_AVX2; isa <= best; isa++) {
    mpl__vm_set_isa(isa);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      for (size_t i = 0; i < n; i++)
        x[i] = cases[c].lo + (cases[c].hi - cases[c].lo) * mpl__rng_uniform(&g);
      mpl__vm_unary(cases[c].op, x, o, n, 0);
      double worst = 0;
      for (size_t i = 0; i < n; i++) {
        double want = libm_unary(cases[c].op, x[i]);
        if (fabs(want) < DBL_MIN) continue; /* subnormal results */
        worst = fmax(worst, ulps(o[i], want));
      }
      printf("# isa %d op %d [%g, %g]: %.2f ulps\n", isa, cases[c].op,
             cases[c].lo, cases[c].hi, worst);
      CHECK(worst <= cases[c].tol);
    }
    for (size_t i = 0; i < n; i++) {
      x[i] = 100 * mpl__rng_uniform(&g) - 50;
      y[i] = 20 * mpl__rng_uniform(&g);
    }
    mpl__vm_binary(MPL__B_POW, y, 1, x, 1, o, n, 0);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
      if (fabs(o[i]) > DBL_MIN && fabs(o[i]) < DBL_MAX)
        worst = fmax(worst, ulps(o[i], pow(y[i], x[i])));
    printf("# isa %d pow: %.2f ulps\n", isa, worst);
    CHECK(worst <= 4);
  }
  if (best == MPL__ISA_AVX512) {
    for (size_t i = 0; i < n; i++) x[i] = -708 + 1417 * mpl__rng_uniform(&g);
    mpl__vm_set_isa(MPL__ISA_AVX512);
    mpl__vm_unary(MPL__U_EXP, x, o, n, 0);
    mpl__vm_set_isa(MPL__ISA_AVX2);
    mpl__vm_unary(MPL__U_EXP, x, ref, n, 0);
    CHECK(memcmp(o, ref, n * sizeof *o) == 0);
  }
  free(x);
  free(o);
  free(ref);
  free(y);
}

/* Binary kernels in all three shapes (vector-vector, vector-value,
** value-vector) against C's operators and libm's pow. */
static void test_kernels_binary(void) {
  int best = mpl__vm_set_isa(MPL__ISA_AVX512);
  double x[48], y[48], o[48];
  for (int isa = MPL__ISA_GENERIC; isa <= best; isa++) {
    mpl__vm_set_isa(isa);
    for (int op = 0; op < MPL__B_COUNT; op++) {
      int exact = op != MPL__B_POW && op != MPL__B_ATAN2;
      for (size_t a = 0; a < NSPEC; a++)
        for (size_t b = 0; b < NSPEC; b++) {
          double u = specials[a], v = specials[b];
          double r = mpl__vm_binary1(op, u, v), want = ref_binary(op, u, v);
          if (!agree(r, want, exact)) {
            fprintf(stderr, "isa %d op %d %a %a: %a, want %a\n", isa, op, u, v,
                    r, want);
            CHECK(0);
          }
        }
      for (size_t n = 0; n <= 33; n++)
        for (int nt = 0; nt < 2; nt++) {
          for (size_t i = 0; i < n; i++) {
            x[i + 1] = specials[(i * 5 + 3) % NSPEC];
            y[i + 1] = specials[(i * 11 + 1) % NSPEC];
          }
          for (int mode = 0; mode < 3; mode++) {
            int xv = mode != 2, yv = mode != 1;
            mpl__vm_binary(op, x + 1, xv, y + 1, yv, o + 1, n, nt);
            for (size_t i = 0; i < n; i++) {
              double u = xv ? x[i + 1] : x[1], v = yv ? y[i + 1] : y[1];
              if (!agree(o[i + 1], ref_binary(op, u, v), exact)) {
                fprintf(stderr,
                        "isa %d op %d mode %d n %zu: %a %a -> %a, want %a\n",
                        isa, op, mode, n, u, v, o[i + 1], ref_binary(op, u, v));
                CHECK(0);
              }
            }
          }
        }
    }
    /* pow by a number: exact shortcuts keep pow's special cases */
    double e[] = {0.0, 1.0, 2.0, -1.0};
    for (size_t k = 0; k < 4; k++)
      for (size_t a = 0; a < NSPEC; a++)
        CHECK(agree(mpl__vm_binary1(MPL__B_POW, specials[a], e[k]),
                    pow(specials[a], e[k]), 1));
  }
}

/* ---- elementwise with broadcasting ---- */

/* out = a op b computed element by element from the definition. */
static void naive(int op, mpl__arg a, mpl__arg b, mpl_mat *out) {
  for (size_t i = 0; i < out->rows; i++)
    for (size_t j = 0; j < out->cols; j++) {
      double u =
          a.m ? MPL_AT(a.m, a.m->rows == 1 ? 0 : i, a.m->cols == 1 ? 0 : j)
              : a.s;
      double v =
          b.m ? MPL_AT(b.m, b.m->rows == 1 ? 0 : i, b.m->cols == 1 ? 0 : j)
              : b.s;
      MPL_AT(out, i, j) = mpl__vm_binary1(op, u, v);
    }
}

static void check_binary(int op, mpl__arg a, mpl__arg b) {
  size_t r, c;
  CHECK(mpl__bcast_shape(a.m ? a.m->rows : 1, a.m ? a.m->cols : 1,
                         b.m ? b.m->rows : 1, b.m ? b.m->cols : 1, &r,
                         &c) == 0);
  mpl_mat *got = mk(r, c), *want = mk(r, c);
  CHECK(mpl__ew_binary(op, a, b, got) == 0);
  naive(op, a, b, want);
  CHECK(same(got, want));
  /* into a transposed output and a strided sub-block of a bigger one */
  mpl_mat *big = mk(c + 3, 2 * r + 1), *bt = tr(big), *o2 = sub(bt, 1, 2, r, c);
  CHECK(mpl__ew_binary(op, a, b, o2) == 0);
  CHECK(same(o2, want));
  mpl_mat_release(o2);
  mpl_mat_release(bt);
  mpl_mat_release(big);
  mpl_mat_release(got);
  mpl_mat_release(want);
}

/* Every broadcasting pattern, with numbers, whole matrices, rows, columns,
** transposes and sub-blocks, against the definition. */
static void test_broadcast(void) {
  mpl_mat *m = filled(7, 9, 1.0), *n = filled(7, 9, 2.0);
  mpl_mat *row = filled(1, 9, 3.0), *col = filled(7, 1, 0.5);
  mpl_mat *m97 = filled(9, 7, 1.5), *m91 = filled(9, 1, 1.0);
  mpl_mat *mt = tr(m97), *blk = sub(m, 2, 3, 4, 5);
  mpl_mat *nb = sub(n, 1, 1, 4, 5), *one = filled(1, 1, 4.0);
  mpl_mat *rowv = sub(m, 3, 0, 1, 9), *colv = sub(n, 0, 4, 7, 1);
  mpl_mat *rt = tr(m91); /* 1 x 9 */
  mpl__arg s = {NULL, 2.5};
  mpl__arg all[] = {{m, 0},    {n, 0},    {row, 0}, {col, 0}, {mt, 0},
                    {rowv, 0}, {colv, 0}, {one, 0}, {rt, 0},  s};
  size_t na = sizeof all / sizeof all[0];
  for (int op = 0; op < MPL__B_COUNT; op++) {
    for (size_t i = 0; i < na; i++)
      for (size_t j = 0; j < na; j++) {
        if (!all[i].m && !all[j].m) continue;
        check_binary(op, all[i], all[j]);
      }
    check_binary(op, (mpl__arg){blk, 0}, (mpl__arg){nb, 0});
    check_binary(op, (mpl__arg){col, 0}, (mpl__arg){row, 0}); /* outer */
  }
  /* shapes that do not broadcast */
  size_t r, c;
  CHECK(mpl__bcast_shape(2, 3, 3, 2, &r, &c) == MPL_ESHAPE);
  CHECK(mpl__bcast_shape(2, 3, 2, 2, &r, &c) == MPL_ESHAPE);
  CHECK(mpl__bcast_shape(1, 3, 0, 3, &r, &c) == 0 && r == 0 && c == 3);
  mpl_mat *bad = mk(7, 8);
  CHECK(mpl__ew_binary(MPL__B_ADD, all[0], all[1], bad) == MPL_ESHAPE);
  CHECK(mpl__ew_unary(MPL__U_EXP, m, bad) == MPL_ESHAPE);
  mpl_mat *e = mk(0, 3);
  CHECK(mpl__ew_binary(MPL__B_ADD, (mpl__arg){e, 0}, (mpl__arg){row, 0}, bad) ==
        MPL_ESHAPE);
  mpl_mat *row3 = mk(1, 3);
  CHECK(mpl__ew_binary(MPL__B_ADD, (mpl__arg){e, 0}, (mpl__arg){row3, 0}, e) ==
        0);
  mpl_mat *list[] = {m,    n,    row, col, mt, blk,  nb,  one,
                     rowv, colv, rt,  bad, e,  row3, m97, m91};
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
    mpl_mat_release(list[i]);
}

/* Outputs that are, or overlap, an operand: the result is as if every
** operand had been read first. */
static void test_overlap(void) {
  mpl_mat *a = filled(6, 6, 1.0), *ref = copy(a), *want = mk(6, 6);
  mpl__arg s = {NULL, 1.0};
  /* in place */
  naive(MPL__B_ADD, (mpl__arg){ref, 0}, s, want);
  CHECK(mpl__ew_binary(MPL__B_ADD, (mpl__arg){a, 0}, s, a) == 0);
  CHECK(same(a, want));
  /* a row of the output broadcast over it */
  mpl_mat_release(ref);
  ref = copy(a);
  mpl_mat *r0 = sub(a, 2, 0, 1, 6), *r0c = sub(ref, 2, 0, 1, 6);
  naive(MPL__B_SUB, (mpl__arg){ref, 0}, (mpl__arg){r0c, 0}, want);
  CHECK(mpl__ew_binary(MPL__B_SUB, (mpl__arg){a, 0}, (mpl__arg){r0, 0}, a) ==
        0);
  CHECK(same(a, want));
  /* the transpose into itself */
  mpl_mat_release(ref);
  ref = copy(a);
  mpl_mat *at = tr(a), *reft = tr(ref);
  naive(MPL__B_MUL, (mpl__arg){reft, 0}, (mpl__arg){NULL, 2.0}, want);
  CHECK(mpl__ew_binary(MPL__B_MUL, (mpl__arg){at, 0}, (mpl__arg){NULL, 2.0},
                       a) == 0);
  CHECK(same(a, want));
  CHECK(mpl__ew_unary(MPL__U_NEG, at, a) == 0);
  /* a shifted block */
  mpl_mat_release(ref);
  ref = copy(a);
  mpl_mat *s1 = sub(a, 0, 0, 5, 5), *s2 = sub(a, 1, 1, 5, 5);
  mpl_mat *c1 = sub(ref, 0, 0, 5, 5), *w5 = mk(5, 5);
  for (size_t i = 0; i < 5; i++)
    for (size_t j = 0; j < 5; j++) MPL_AT(w5, i, j) = exp(MPL_AT(c1, i, j));
  CHECK(mpl__ew_unary(MPL__U_EXP, s1, s2) == 0);
  for (size_t i = 0; i < 5; i++)
    for (size_t j = 0; j < 5; j++)
      CHECK(agree(MPL_AT(s2, i, j), MPL_AT(w5, i, j), 0));
  CHECK(mpl__ew_must_copy(s1, s2) && !mpl__ew_must_copy(a, a));
  mpl_mat *list[] = {a, ref, want, r0, r0c, at, reft, s1, s2, c1, w5};
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
    mpl_mat_release(list[i]);
}

/* Large jobs go through helper threads and non-temporal stores: the
** result is the same for every worker count. */
static void test_parallel_same(void) {
  size_t n = 3000000;
  mpl_mat *a = filled(1, n, 3.0), *b = filled(1, n, 1.0);
  mpl_mat *o1 = mk(1, n), *o2 = mk(1, n), *o3 = mk(1000, 3000);
  mpl_set_procs(1);
  CHECK(mpl__ew_unary(MPL__U_EXP, a, o1) == 0);
  mpl_set_procs(3);
  CHECK(mpl__ew_unary(MPL__U_EXP, a, o2) == 0);
  CHECK(same(o1, o2));
  CHECK(mpl__ew_binary(MPL__B_POW, (mpl__arg){a, 0}, (mpl__arg){b, 0}, o1) ==
        0);
  mpl_set_procs(1);
  CHECK(mpl__ew_binary(MPL__B_POW, (mpl__arg){a, 0}, (mpl__arg){b, 0}, o2) ==
        0);
  CHECK(same(o1, o2));
  /* by rows, into a matrix with a broadcast column */
  mpl_mat *m = filled(1000, 3000, 1.0), *col = filled(1000, 1, 1.0),
          *want = mk(1000, 3000);
  mpl_set_procs(4);
  CHECK(mpl__ew_binary(MPL__B_SUB, (mpl__arg){m, 0}, (mpl__arg){col, 0}, o3) ==
        0);
  naive(MPL__B_SUB, (mpl__arg){m, 0}, (mpl__arg){col, 0}, want);
  CHECK(same(o3, want));
  mpl_mat *list[] = {a, b, o1, o2, o3, m, col, want};
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
    mpl_mat_release(list[i]);
}

/* ---- reductions ---- */

/* mpl__sum and mpl__norm, which must not fail here. */
static double sum_of(const mpl_mat *m) {
  double s = -1;
  CHECK(mpl__sum(m, &s) == 0);
  return s;
}

static double norm_of(const mpl_mat *m) {
  double s = -1;
  CHECK(mpl__norm(m, &s) == 0);
  return s;
}

static double naive_sum(const mpl_mat *m) {
  long double s = 0;
  for (size_t i = 0; i < m->rows; i++)
    for (size_t j = 0; j < m->cols; j++) s += MPL_AT(m, i, j);
  return (double)s;
}

/* Pairwise summation keeps ten million 0.1s within a few ulps of 1e6,
** where a running sum is off by about 1e-4. */
static void test_sum_accuracy(void) {
  size_t n = 10000000;
  mpl_mat *m = mk(1, n);
  mpl_mat_fill(m, 0.1);
  double s = sum_of(m), plain = 0;
  for (size_t i = 0; i < n; i++) plain += 0.1;
  CHECK(fabs(s - 1e6) < 1e-8);
  CHECK(fabs(plain - 1e6) > 1e-6); /* what pairwise summation avoids */
  /* the same in any worker count, and as columns */
  mpl_set_procs(1);
  double s1 = sum_of(m);
  mpl_set_procs(4);
  CHECK(sum_of(m) == s1);
  mpl_mat *c = mk(n, 1), *o = mk(1, 1);
  mpl_mat_fill(c, 0.1);
  CHECK(mpl__sum_dim(c, 1, o) == 0);
  CHECK(fabs(MPL_AT(o, 0, 0) - 1e6) < 1e-8);
  mpl_mat *w = mk(n / 4, 4), *o4 = mk(1, 4);
  mpl_mat_fill(w, 0.1);
  CHECK(mpl__sum_dim(w, 1, o4) == 0);
  for (size_t j = 0; j < 4; j++) CHECK(fabs(MPL_AT(o4, 0, j) - 2.5e5) < 1e-9);
  mpl_mat_release(m);
  mpl_mat_release(c);
  mpl_mat_release(o);
  mpl_mat_release(w);
  mpl_mat_release(o4);
}

/* Sums, extremes by dimension on whole matrices and views. */
static void test_reduce_views(void) {
  mpl_mat *base = filled(40, 300, 1.0);
  mpl_mat *views[] = {copy(base), tr(base), sub(base, 3, 5, 30, 200),
                      sub(base, 7, 0, 1, 300), sub(base, 0, 9, 40, 1)};
  mpl_mat *vt = tr(views[2]);
  for (size_t k = 0; k < 6; k++) {
    mpl_mat *m = k < 5 ? views[k] : vt;
    CHECK(fabs(sum_of(m) - naive_sum(m)) <= 1e-12 * (1 + fabs(naive_sum(m))));
    mpl_mat *cs = mk(1, m->cols), *rs = mk(m->rows, 1);
    mpl_mat *cmin = mk(1, m->cols), *rmax = mk(m->rows, 1);
    CHECK(mpl__sum_dim(m, 1, cs) == 0 && mpl__sum_dim(m, 2, rs) == 0);
    CHECK(mpl__minmax_dim(m, 1, 0, cmin) == 0 &&
          mpl__minmax_dim(m, 2, 1, rmax) == 0);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < m->cols; j++) {
      mpl_mat *cj = sub(m, 0, j, m->rows, 1);
      CHECK(fabs(MPL_AT(cs, 0, j) - naive_sum(cj)) <=
            1e-12 * (1 + fabs(naive_sum(cj))));
      double mn = INFINITY;
      for (size_t i = 0; i < m->rows; i++) mn = fmin(mn, MPL_AT(m, i, j));
      CHECK(MPL_AT(cmin, 0, j) == mn);
      lo = fmin(lo, mn);
      mpl_mat_release(cj);
    }
    for (size_t i = 0; i < m->rows; i++) {
      mpl_mat *ri = sub(m, i, 0, 1, m->cols);
      CHECK(fabs(MPL_AT(rs, i, 0) - naive_sum(ri)) <=
            1e-12 * (1 + fabs(naive_sum(ri))));
      double mx = -INFINITY;
      for (size_t j = 0; j < m->cols; j++) mx = fmax(mx, MPL_AT(m, i, j));
      CHECK(MPL_AT(rmax, i, 0) == mx);
      hi = fmax(hi, mx);
      mpl_mat_release(ri);
    }
    double v;
    CHECK(mpl__minmax(m, 0, &v) == 0 && v == lo);
    CHECK(mpl__minmax(m, 1, &v) == 0 && v == hi);
    mpl_mat_release(cs);
    mpl_mat_release(rs);
    mpl_mat_release(cmin);
    mpl_mat_release(rmax);
  }
  /* NaN wins min and max, wherever it is */
  mpl_mat *m = filled(5, 5, 1.0), *o = mk(1, 5);
  MPL_AT(m, 3, 2) = NAN;
  double v;
  CHECK(mpl__minmax(m, 0, &v) == 0 && v != v);
  CHECK(mpl__minmax(m, 1, &v) == 0 && v != v);
  CHECK(mpl__minmax_dim(m, 1, 0, o) == 0);
  CHECK(MPL_AT(o, 0, 2) != MPL_AT(o, 0, 2) &&
        MPL_AT(o, 0, 1) == MPL_AT(o, 0, 1));
  mpl_mat *e = mk(0, 3);
  CHECK(mpl__minmax(e, 0, &v) == MPL_EINVAL);
  CHECK(mpl__minmax_dim(e, 1, 0, o) == MPL_ESHAPE);
  mpl_mat *o3 = mk(1, 3);
  CHECK(mpl__minmax_dim(e, 1, 0, o3) == MPL_EINVAL);
  CHECK(sum_of(e) == 0);
  CHECK(mpl__sum_dim(e, 1, o3) == 0 && MPL_AT(o3, 0, 2) == 0);
  for (size_t k = 0; k < 5; k++) mpl_mat_release(views[k]);
  mpl_mat_release(vt);
  mpl_mat_release(base);
  mpl_mat_release(m);
  mpl_mat_release(o);
  mpl_mat_release(e);
  mpl_mat_release(o3);
}

static void test_norm_trace_allclose(void) {
  mpl_mat *m = mk(2, 2);
  MPL_AT(m, 0, 0) = 3;
  MPL_AT(m, 1, 1) = 4;
  CHECK(norm_of(m) == 5);
  CHECK(mpl__trace(m) == 7);
  MPL_AT(m, 0, 0) = 3e200; /* squares overflow */
  MPL_AT(m, 1, 1) = 4e200;
  CHECK(fabs(norm_of(m) / 5e200 - 1) < 1e-15);
  MPL_AT(m, 0, 0) = 3e-200; /* squares underflow */
  MPL_AT(m, 1, 1) = 4e-200;
  CHECK(fabs(norm_of(m) / 5e-200 - 1) < 1e-15);
  MPL_AT(m, 0, 1) = INFINITY;
  CHECK(norm_of(m) == INFINITY);
  MPL_AT(m, 1, 0) = NAN;
  CHECK(norm_of(m) != norm_of(m));
  mpl_mat *r = filled(3, 5, 1.0), *rt = tr(r);
  CHECK(mpl__trace(r) == MPL_AT(r, 0, 0) + MPL_AT(r, 1, 1) + MPL_AT(r, 2, 2));
  CHECK(mpl__trace(rt) == mpl__trace(r));
  mpl_mat *e = mk(0, 0);
  CHECK(norm_of(e) == 0 && mpl__trace(e) == 0);
  /* allclose: NumPy's rule, broadcasting, infinities and NaN */
  mpl_mat *a = filled(3, 4, 1.0), *b = copy(a), *row = sub(a, 1, 0, 1, 4);
  int close;
  mpl__arg A = {a, 0}, B = {b, 0};
  CHECK(mpl__allclose(A, B, 1e-5, 1e-8, &close) == 0 && close);
  MPL_AT(b, 2, 3) += 1e-3;
  CHECK(mpl__allclose(A, B, 1e-5, 1e-8, &close) == 0 && !close);
  CHECK(mpl__allclose(A, B, 1e-2, 1e-8, &close) == 0 && close);
  CHECK(mpl__allclose(A, (mpl__arg){row, 0}, 0, 0, &close) == 0 && !close);
  CHECK(mpl__allclose((mpl__arg){row, 0}, (mpl__arg){row, 0}, 0, 0, &close) ==
            0 &&
        close);
  MPL_AT(a, 0, 0) = MPL_AT(b, 0, 0) = INFINITY;
  MPL_AT(b, 2, 3) = MPL_AT(a, 2, 3);
  CHECK(mpl__allclose(A, B, 1e-5, 1e-8, &close) == 0 && close);
  MPL_AT(b, 0, 0) = -INFINITY;
  CHECK(mpl__allclose(A, B, 1e-5, 1e-8, &close) == 0 && !close);
  MPL_AT(b, 0, 0) = 1e308;
  CHECK(mpl__allclose(A, B, 1e-5, 1e-8, &close) == 0 && !close);
  MPL_AT(a, 0, 0) = MPL_AT(b, 0, 0) = NAN;
  CHECK(mpl__allclose(A, B, 1e-5, 1e-8, &close) == 0 && !close);
  CHECK(mpl__allclose(A, (mpl__arg){rt, 0}, 1, 1, &close) == MPL_ESHAPE);
  mpl_mat *list[] = {m, r, rt, e, a, b, row};
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
    mpl_mat_release(list[i]);
}

/* ---- linear algebra ---- */

static mpl_mat *product(const mpl_mat *a, const mpl_mat *b) {
  mpl_mat *o = mk(a->rows, b->cols);
  CHECK(mpl_dot(a, b, o, 1) == 0);
  return o;
}

static double maxdiff(const mpl_mat *a, const mpl_mat *b) {
  double d = 0;
  for (size_t i = 0; i < a->rows; i++)
    for (size_t j = 0; j < a->cols; j++)
      d = fmax(d, fabs(MPL_AT(a, i, j) - MPL_AT(b, i, j)));
  return d;
}

/* A well-conditioned n x n matrix (diagonally dominant), as a view of a
** transposed buffer so the packing of views is exercised too. */
static mpl_mat *spd(size_t n) {
  mpl_mat *b = filled(n, n, 1.0), *bt = tr(b), *s = product(b, bt);
  for (size_t i = 0; i < n; i++) MPL_AT(s, i, i) += (double)n;
  mpl_mat_release(b);
  mpl_mat_release(bt);
  return s;
}

static void test_linalg(void) {
  mpl__la_info info;
  size_t n = 7;
  mpl_mat *a0 = filled(n + 2, n + 3, 1.0), *a = sub(a0, 1, 2, n, n);
  for (size_t i = 0; i < n; i++) MPL_AT(a, i, i) += 4;
  mpl_mat *keep = copy(a), *x = mk(n, n), *eye = mk(n, n),
          *b = filled(n, 3, 2.0);
  for (size_t i = 0; i < n; i++) MPL_AT(eye, i, i) = 1;
  /* inverse: a inv(a) = I, input untouched */
  CHECK(mpl__la_inv(a, x, &info) == 0);
  mpl_mat *p = product(a, x);
  CHECK(maxdiff(p, eye) < 1e-12);
  CHECK(mpl_mat_equal(a, keep));
  /* solve, also with a transposed matrix */
  mpl_mat *xs = mk(n, 3), *at = tr(a);
  CHECK(mpl__la_solve(a, b, xs, &info) == 0);
  mpl_mat *ax = product(a, xs);
  CHECK(maxdiff(ax, b) < 1e-12);
  CHECK(mpl__la_solve(at, b, xs, &info) == 0);
  mpl_mat *atx = product(at, xs);
  CHECK(maxdiff(atx, b) < 1e-12);
  /* determinant: known values, sign of a row swap, scale without overflow */
  mpl_mat *d2 = mk(2, 2);
  MPL_AT(d2, 0, 0) = 1, MPL_AT(d2, 0, 1) = 2, MPL_AT(d2, 1, 0) = 3,
                MPL_AT(d2, 1, 1) = 4;
  double det;
  CHECK(mpl__la_det(d2, &det, &info) == 0 && fabs(det + 2) < 1e-15);
  mpl_mat *big = mk(200, 200);
  for (size_t i = 0; i < 200; i++) MPL_AT(big, i, i) = 1e3;
  for (size_t i = 0; i < 200; i++) MPL_AT(big, i, (i + 1) % 200) = 0.5;
  CHECK(mpl__la_det(big, &det, &info) == 0 && det == INFINITY); /* 1e600 */
  mpl_mat_fill(big, 0);
  for (size_t i = 0; i < 200; i++) MPL_AT(big, i, i) = i < 100 ? 1e5 : 1e-5;
  CHECK(mpl__la_det(big, &det, &info) == 0 && fabs(det - 1) < 1e-12);
  /* singular matrices */
  mpl_mat *sg = mk(3, 3), *x3 = mk(3, 3);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++) MPL_AT(sg, i, j) = (double)(3 * i + j + 1);
  CHECK(mpl__la_inv(sg, x3, &info) == MPL_EINVAL);
  CHECK(info.why == MPL__LA_ILLCOND || info.why == MPL__LA_SINGULAR);
  mpl_mat_fill(sg, 1);
  CHECK(mpl__la_inv(sg, x3, &info) == MPL_EINVAL &&
        info.why == MPL__LA_SINGULAR);
  CHECK(mpl__la_det(sg, &det, &info) == 0 && det == 0 && !signbit(det));
  mpl_mat *ns = mk(2, 3);
  CHECK(mpl__la_det(ns, &det, &info) == MPL_EINVAL &&
        info.why == MPL__LA_NOTSQUARE);
  /* Cholesky: r^T r = s, r upper */
  mpl_mat *s = spd(n), *r = mk(n, n);
  CHECK(mpl__la_chol(s, r, &info) == 0);
  mpl_mat *rt = tr(r), *rtr = product(rt, r);
  CHECK(maxdiff(rtr, s) < 1e-10);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) CHECK(MPL_AT(r, i, j) == 0);
  MPL_AT(s, 0, 0) = -1;
  CHECK(mpl__la_chol(s, r, &info) == MPL_EINVAL && info.why == MPL__LA_NOTPD);
  MPL_AT(s, 0, 1) += 1;
  CHECK(mpl__la_chol(s, r, &info) == MPL_EINVAL && info.why == MPL__LA_NOTSYM);
  /* eigh: s v = v diag(w), v orthonormal, w ascending */
  mpl_mat_release(s);
  s = spd(n);
  mpl_mat *w = mk(1, n), *v = mk(n, n), *vw = mk(n, n);
  CHECK(mpl__la_eigh(s, w, v, &info) == 0);
  for (size_t j = 1; j < n; j++) CHECK(MPL_AT(w, 0, j - 1) <= MPL_AT(w, 0, j));
  mpl_mat *sv = product(s, v);
  CHECK(mpl__ew_binary(MPL__B_MUL, (mpl__arg){v, 0}, (mpl__arg){w, 0}, vw) ==
        0);
  CHECK(maxdiff(sv, vw) < 1e-9);
  mpl_mat *vt = tr(v), *vtv = product(vt, v);
  CHECK(maxdiff(vtv, eye) < 1e-12);
  /* svd, thin and full, of a wide and a tall matrix */
  for (int full = 0; full < 2; full++)
    for (int tall = 0; tall < 2; tall++) {
      mpl_mat *g0 = filled(5, 8, 1.0), *g = tall ? tr(g0) : copy(g0);
      size_t m_ = g->rows, n_ = g->cols, k = m_ < n_ ? m_ : n_;
      mpl_mat *u = mk(m_, full ? m_ : k), *sv2 = mk(1, k),
              *v2 = mk(n_, full ? n_ : k);
      CHECK(mpl__la_svd(g, full, u, sv2, v2, &info) == 0);
      for (size_t j = 1; j < k; j++)
        CHECK(MPL_AT(sv2, 0, j - 1) >= MPL_AT(sv2, 0, j));
      mpl_mat *uk = sub(u, 0, 0, m_, k), *vk = sub(v2, 0, 0, n_, k);
      mpl_mat *us = mk(m_, k), *vkt = tr(vk);
      CHECK(mpl__ew_binary(MPL__B_MUL, (mpl__arg){uk, 0}, (mpl__arg){sv2, 0},
                           us) == 0);
      mpl_mat *back = product(us, vkt);
      CHECK(maxdiff(back, g) < 1e-12);
      mpl_mat *ut = tr(u), *utu = product(ut, u);
      for (size_t i = 0; i < utu->rows; i++)
        for (size_t j = 0; j < utu->cols; j++)
          CHECK(fabs(MPL_AT(utu, i, j) - (i == j)) < 1e-12);
      mpl_mat *list[] = {g0, g, u, sv2, v2, uk, vk, us, vkt, back, ut, utu};
      for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        mpl_mat_release(list[i]);
    }
  /* lstsq: exact fit, the normal equations, and a rank-deficient matrix */
  mpl_mat *A = mk(4, 2), *B = mk(4, 1), *X = mk(2, 1), *S = mk(1, 2);
  double ys[] = {1, 3, 5, 7};
  for (size_t i = 0; i < 4; i++) {
    MPL_AT(A, i, 0) = 1;
    MPL_AT(A, i, 1) = (double)i;
    MPL_AT(B, i, 0) = ys[i];
  }
  int rank;
  CHECK(mpl__la_lstsq(A, B, -1, X, &rank, S, &info) == 0 && rank == 2);
  CHECK(fabs(MPL_AT(X, 0, 0) - 1) < 1e-12 && fabs(MPL_AT(X, 1, 0) - 2) < 1e-12);
  for (size_t i = 0; i < 4; i++) MPL_AT(A, i, 1) = 2; /* columns dependent */
  CHECK(mpl__la_lstsq(A, B, -1, X, &rank, S, &info) == 0 && rank == 1);
  CHECK(fabs(MPL_AT(X, 0, 0) - 0.8) < 1e-12 &&
        fabs(MPL_AT(X, 1, 0) - 1.6) < 1e-12);
  MPL_AT(B, 1, 0) = NAN;
  CHECK(mpl__la_lstsq(A, B, -1, X, &rank, S, &info) == MPL_EINVAL &&
        info.why == MPL__LA_NONFINITE);
  mpl_mat *list[] = {a0,  a,  keep, x,  eye, b,   p, xs, at, ax,
                     atx, d2, big,  sg, x3,  ns,  s, r,  rt, rtr,
                     w,   v,  vw,   sv, vt,  vtv, A, B,  X,  S};
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
    mpl_mat_release(list[i]);
}

/* ---- random numbers ---- */

/* The same (seed, stream) gives the same numbers -- these exact ones, on
** every machine -- and other seeds or streams give other numbers. */
static void test_rng_reproducible(void) {
  mpl__rng r, q;
  mpl__rng_seed(&r, 42, 0);
  uint64_t first = mpl__rng_next(&r);
  mpl__rng_seed(&q, 42, 0);
  CHECK(mpl__rng_next(&q) == first);
  mpl__rng_seed(&q, 42, 1);
  CHECK(mpl__rng_next(&q) != first);
  mpl__rng_seed(&q, 43, 0);
  CHECK(mpl__rng_next(&q) != first);
  /* golden values: any change to the generator, the seeding or the normal
  ** method shows here */
  mpl__rng_seed(&r, 12345, 0);
  double u = mpl__rng_uniform(&r);
  double z[4];
  for (int i = 0; i < 4; i++) z[i] = mpl__rng_normal(&r);
  printf("# golden %a %a %a %a %a\n", u, z[0], z[1], z[2], z[3]);
  CHECK(u == 0x1.c83b9e2069ffap-2);
  CHECK(z[0] == 0x1.e310555ad55c6p-3 && z[1] == -0x1.872c03d85331cp-2);
  CHECK(z[2] == 0x1.7d17909ad0dd3p-1 && z[3] == 0x1.88f2674c4e639p-1);
  /* the wedges and the tail, which use the hand-written exp and log */
  mpl__rng_seed(&r, 2024, 5);
  double acc = 0;
  for (int i = 0; i < 100000; i++) acc += mpl__rng_normal(&r);
  printf("# golden sum %a\n", acc);
  CHECK(acc == 0x1.280e040bcbb1p+8);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Normal deviates: moments, tail frequencies and a Kolmogorov-Smirnov
** distance against the exact distribution function. */
static void test_rng_normal_distribution(void) {
  mpl__rng r;
  mpl__rng_seed(&r, 7, 3);
  size_t n = 2000000;
  double *x = malloc(n * sizeof *x);
  CHECK(x);
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  size_t t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  for (size_t i = 0; i < n; i++) {
    double v = x[i] = mpl__rng_normal(&r);
    s1 += v, s2 += v * v, s3 += v * v * v, s4 += v * v * v * v;
    double a = fabs(v);
    t1 += a > 1, t2 += a > 2, t3 += a > 3, t4 += a > 3.6541528853610088;
  }
  double dn = (double)n;
  CHECK(fabs(s1 / dn) < 5 / sqrt(dn));
  CHECK(fabs(s2 / dn - 1) < 5 * sqrt(2 / dn));
  CHECK(fabs(s3 / dn) < 5 * sqrt(15 / dn));
  CHECK(fabs(s4 / dn - 3) < 5 * sqrt(96 / dn));
  double p[] = {0.31731050786291415, 0.04550026389635842,
                0.0026997960632601866};
  size_t t[] = {t1, t2, t3, t4};
  for (int k = 0; k < 3; k++)
    CHECK(fabs((double)t[k] / dn - p[k]) < 5 * sqrt(p[k] * (1 - p[k]) / dn));
  CHECK(t4 > 0); /* the tail is reached */
  /* KS: sort a sample and compare with Phi */
  size_t m = 200000;
  qsort(x, m, sizeof *x, cmp);
  double d = 0;
  for (size_t i = 0; i < m; i++) {
    double f = 0.5 * erfc(-x[i] / sqrt(2.0));
    d = fmax(d, fmax(fabs(f - (double)i / (double)m),
                     fabs((double)(i + 1) / (double)m - f)));
  }
  CHECK(d < 1.95 / sqrt((double)m)); /* 0.1% level */
  free(x);
  /* uniforms: mean and range */
  double su = 0;
  for (size_t i = 0; i < n; i++) {
    double v = mpl__rng_uniform(&r);
    CHECK(v >= 0 && v < 1);
    su += v;
  }
  CHECK(fabs(su / dn - 0.5) < 5 * sqrt(1.0 / 12 / dn));
}

/* ---- arena retention ---- */

static size_t resident(void) {
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  return st.resident;
}

/* Freed large blocks stay populated up to the cap and are reused (zeroed
** when a zeroed matrix asks for them); memory beyond the cap is returned;
** lowering the cap returns the excess at once. */
static void test_arena_retention(void) {
  mpl_mat *first = mk(1, 1);
  size_t cap = (size_t)64 << 20, base = resident();
  mpl__arena_set_retain(cap);
  mpl_mat *keep = mk(4, 4);
  mpl_mat *a = mk(1, 2000000); /* 16 MB at the top */
  mpl_mat_fill(a, 7);
  mpl_mat_release(a);
  CHECK(mpl__arena_retained() >= (size_t)15 << 20);
  CHECK(resident() >= base + ((size_t)15 << 20));
  a = mk(1, 2000000); /* reused and zeroed */
  for (size_t i = 0; i < 2000000; i += 4096) CHECK(MPL_AT(a, 0, i) == 0);
  mpl_mat *b = mk(1, 2000000), *sep = mk(2, 2), *c = mk(1, 2000000);
  mpl_mat_fill(b, 3);
  mpl_mat_release(b); /* a kept block in the middle */
  CHECK(mpl__arena_retained() >= (size_t)15 << 20);
  CHECK(mpl__mat_alloc(&b, 1, 1000000) == 0); /* reuses part, no zeroing */
  mpl_mat_release(b);
  /* far more than the cap: only the cap stays */
  mpl_mat *huge = mk(1, 40000000); /* 320 MB */
  mpl_mat_fill(huge, 1);
  mpl_mat_release(huge);
  CHECK(mpl__arena_retained() <= cap);
  CHECK(resident() <= base + ((size_t)32 << 20) + cap + ((size_t)4 << 20));
  /* zero cap: everything freed is returned */
  mpl__arena_set_retain(0);
  CHECK(mpl__arena_retained() == 0);
  mpl_mat_release(a);
  mpl_mat_release(c);
  CHECK(resident() < base + ((size_t)4 << 20));
  mpl_mat_release(keep);
  mpl_mat_release(sep);
  mpl_mat_release(first);
}

/* A retained block handed out again to many sizes keeps the heap sound,
** and a forked child still allocates apart. */
static void test_arena_retention_churn(void) {
  mpl__arena_set_retain((size_t)48 << 20);
  mpl_mat *live[16] = {0};
  for (int i = 0; i < 400; i++) {
    int k = (i * 7) % 16;
    mpl_mat_release(live[k]);
    size_t n = 1000 + (size_t)((i * 7919) % 900000);
    CHECK(mpl_mat_new(&live[k], 1, n) == 0);
    CHECK(MPL_AT(live[k], 0, n - 1) == 0 && MPL_AT(live[k], 0, n / 2) == 0);
    mpl_mat_fill(live[k], (double)i);
    CHECK(mpl__arena_retained() <= ((size_t)48 << 20));
  }
  for (int k = 0; k < 16; k++) mpl_mat_release(live[k]);
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  CHECK_EQ_INT(st.blocks, 0);
  CHECK_EQ_INT(st.top, 0);
  mpl__arena_set_retain(0);
  mpl__arena_get_stats(&st);
  CHECK(st.resident < ((size_t)4 << 20));
}

/* ---- interrupts ---- */

/* Another thread calls mpl_interrupt() every 200 us until the call under
** test returns: a call clears the request as it starts, so the next one
** arrives while it runs (each call below takes tens of milliseconds). */
static atomic_int spam_done;

static void *interrupter(void *arg) {
  (void)arg;
  while (!atomic_load(&spam_done)) {
    mpl_interrupt();
    usleep(200);
  }
  return NULL;
}

static pthread_t spam_start(void) {
  pthread_t t;
  atomic_store(&spam_done, 0);
  CHECK(pthread_create(&t, NULL, interrupter, NULL) == 0);
  return t;
}

static void spam_stop(pthread_t t) {
  atomic_store(&spam_done, 1);
  CHECK(pthread_join(t, NULL) == 0);
  mpl__interrupt_clear();
}

/* Every long loop (fill, copy, assign, equal, reductions, elementwise)
** stops at mpl_interrupt() from another thread and returns MPL_EINTR. */
static void test_interrupt(void) {
  size_t r = 2048, c = 8192; /* 16M elements, 128 MB each */
  mpl_mat *a, *b, *o, *row, *cp = (mpl_mat *)1;
  CHECK(mpl_mat_new(&a, r, c) == 0 && mpl_mat_new(&b, r, c) == 0);
  CHECK(mpl_mat_new(&o, r, c) == 0 && mpl_mat_new(&row, 1, c) == 0);
  mpl__arg x = {a, 0}, y = {b, 0};
  double v;
  int close;
  pthread_t t = spam_start();
  CHECK_EQ_INT(mpl_mat_fill(a, 2), MPL_EINTR);
  CHECK_EQ_INT(mpl_mat_equal(a, a), MPL_EINTR);
  CHECK_EQ_INT(mpl_mat_copy(&cp, a), MPL_EINTR);
  CHECK(cp == NULL);
  CHECK_EQ_INT(mpl_mat_assign(b, a), MPL_EINTR);
  CHECK_EQ_INT(mpl__sum(a, &v), MPL_EINTR);
  CHECK_EQ_INT(mpl__sum_dim(a, 1, row), MPL_EINTR);
  CHECK_EQ_INT(mpl__minmax(a, 1, &v), MPL_EINTR);
  CHECK_EQ_INT(mpl__norm(a, &v), MPL_EINTR);
  CHECK_EQ_INT(mpl__allclose(x, x, 0, 0, &close), MPL_EINTR);
  CHECK_EQ_INT(mpl__ew_binary(MPL__B_ADD, x, y, o), MPL_EINTR);
  CHECK_EQ_INT(mpl__ew_unary(MPL__U_EXP, a, o), MPL_EINTR);
  spam_stop(t);
  CHECK(mpl_errmsg() && strcmp(mpl_errmsg(), "interrupted") == 0);
  /* the fill stopped early: most of a is still 0 */
  size_t twos = 0;
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) twos += MPL_AT(a, i, j) == 2;
  CHECK(twos < r * c / 2);
  /* without a request, the same calls finish */
  CHECK(mpl_mat_fill(a, 2) == 0 && mpl_mat_equal(a, a) == 1);
  CHECK(mpl__sum(a, &v) == 0 && v == 2.0 * (double)(r * c));
  CHECK(mpl__ew_binary(MPL__B_ADD, x, x, o) == 0 &&
        MPL_AT(o, r - 1, c - 1) == 4);
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(o);
  mpl_mat_release(row);
}

static const ctest tests[] = {
    {"kernels_unary", test_kernels_unary},
    {"kernels_binary", test_kernels_binary},
    {"kernels_accuracy", test_kernels_accuracy},
    {"broadcast", test_broadcast},
    {"overlap", test_overlap},
    {"parallel_same", test_parallel_same},
    {"sum_accuracy", test_sum_accuracy},
    {"reduce_views", test_reduce_views},
    {"norm_trace_allclose", test_norm_trace_allclose},
    {"linalg", test_linalg},
    {"rng_reproducible", test_rng_reproducible},
    {"rng_normal_distribution", test_rng_normal_distribution},
    {"arena_retention", test_arena_retention},
    {"arena_retention_churn", test_arena_retention_churn},
    {"interrupt", test_interrupt},
};

CTEST_MAIN(tests, 120)
