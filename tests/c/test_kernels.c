/*
** test_kernels.c: the same bits for every procs on every OpenBLAS kernel
** this CPU can run, and the kernel mpl chooses.
**
** For each kernel (Prescott, Core2, Nehalem, Sandybridge, Haswell, Zen,
** and SkylakeX and Cooperlake where the CPU has AVX-512), a child process
** is started with OPENBLAS_CORETYPE set to it (OpenBLAS reads it when mpl
** loads it) and checks that procs 1..5 give identical bits on edge shapes:
** rows and columns around multiples of 4, 8, 16 and 32 and of mpl's row
** blocks, transposed, strided and view operands and outputs, products cut
** along k, blocks on both sides of OpenBLAS's small-matrix sizes, and
** random shapes; the same for products added onto the output (the
** running sums of mat.mpi.dot).  Every product reaches the workers (the
** parallel threshold is 0).  This program does not link OpenBLAS: mpl loads it.
*/
#include <cpuid.h>
#include <math.h>
#include <strings.h>

#include "blas.h"
#include "ctest.h"
#include "internal.h"
#include "mpl.h"

static char *self_path;

/* What the CPU (and the OS) can run. */
typedef struct cpu {
  int avx, avx2fma, avx512, bf16;
} cpu;

static cpu cpu_features(void) {
  cpu f = {0, 0, 0, 0};
  unsigned a, b, c, d, lo = 0, hi;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  int fma = (c >> 12) & 1;
  if (((c >> 27) & 1) && ((c >> 28) & 1)) {
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    f.avx = (lo & 6) == 6;
  }
  if (!f.avx || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2fma = ((b >> 5) & 1) && fma;
  f.avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) &&
             ((b >> 31) & 1) && (lo & 0xe0) == 0xe0;
  unsigned a1 = 0, b1, c1, d1;
  __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
  f.bf16 = f.avx512 && ((a1 >> 5) & 1);
  return f;
}

static double rnd(void) {
  static unsigned long long s = 88172645463325252ull;
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return (double)(s >> 11) / 9007199254740992.0 - 0.5;
}

static mpl_mat *random_mat(size_t r, size_t c) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, r, c) == 0);
  double *d = mpl_mat_data(m);
  for (size_t i = 0; i < r * c; i++) d[i] = rnd() * 4;
  return m;
}

static double at(const mpl_mat *m, size_t i, size_t j) {
  return mpl_mat_data(
      m)[(ptrdiff_t)i * mpl_mat_rstride(m) + (ptrdiff_t)j * mpl_mat_cstride(m)];
}

static int same_bits(const mpl_mat *x, const mpl_mat *y) {
  for (size_t i = 0; i < mpl_mat_rows(x); i++)
    for (size_t j = 0; j < mpl_mat_cols(x); j++) {
      double p = at(x, i, j), q = at(y, i, j);
      if (memcmp(&p, &q, sizeof p) != 0) return 0;
    }
  return 1;
}

/* out = x + a*b by mpl__dot_add (x: the product prod plus its row
** index, in out's layout) has the same bits for procs 1..3, and is close
** to the sum. */
static void every_procs_add(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                            const mpl_mat *prod) {
  size_t m = mpl_mat_rows(out), n = mpl_mat_cols(out);
  mpl_mat *ref = NULL;
  for (int p = 1; p <= 3; p++) {
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++)
        mpl_mat_data(out)[(ptrdiff_t)i * mpl_mat_rstride(out) +
                          (ptrdiff_t)j * mpl_mat_cstride(out)] =
            at(prod, i, j) + (double)i;
    CHECK(mpl__dot_add(a, b, out, p) == 0);
    if (p == 1) {
      CHECK(mpl_mat_copy(&ref, out) == 0);
      for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
          CHECK(fabs(at(ref, i, j) - 2 * at(prod, i, j) - (double)i) <=
                1e-12 * (fabs(at(ref, i, j)) + 1));
    } else if (!same_bits(out, ref)) {
      fprintf(stderr, "%zux%zu (added onto out): procs %d differs from 1\n", m,
              n, p);
      CHECK(0);
    }
  }
  mpl_mat_release(ref);
}

/* a*b by procs 2..5 into out has the bits of procs = 1 into out (the
** output's layout is part of the call); checked against a plain sum too. */
static void every_procs(const mpl_mat *a, const mpl_mat *b, mpl_mat *out,
                        const char *what) {
  size_t m = mpl_mat_rows(a), n = mpl_mat_cols(b), k = mpl_mat_cols(a);
  mpl_mat *ref;
  CHECK(mpl_dot(a, b, out, 1) == 0);
  CHECK(mpl_mat_copy(&ref, out) == 0);
  for (size_t i = 0; i < m; i += m / 3 + 1) {
    double s = 0, mag = 0;
    for (size_t l = 0; l < k; l++) {
      s += at(a, i, l) * at(b, l, n - 1);
      mag += fabs(at(a, i, l) * at(b, l, n - 1));
    }
    CHECK(fabs(at(ref, i, n - 1) - s) <= 1e-12 * (mag + 1));
  }
  for (int p = 2; p <= 5; p++) {
    mpl_mat_fill(out, -7);
    CHECK(mpl_dot(a, b, out, p) == 0);
    if (!same_bits(out, ref)) {
      fprintf(stderr, "%zux%zu * %zux%zu (%s): procs %d differs from 1\n", m, k,
              k, n, what, p);
      CHECK(0);
    }
  }
  every_procs_add(a, b, out, ref);
  mpl_mat_release(ref);
}

/* One shape, plain, and (when views) with a transposed a, a strided b, an
** output inside a larger matrix and a column-major output. */
static void shape(size_t m, size_t k, size_t n, int views) {
  mpl_mat *a = random_mat(m, k), *b = random_mat(k, n), *out;
  CHECK(mpl_mat_new(&out, m, n) == 0);
  every_procs(a, b, out, "plain");
  if (views) {
    mpl_mat *at0 = random_mat(k, m), *ta, *big = random_mat(k + 3, n + 5), *sb,
            *bo = random_mat(m + 2, n + 7), *so, *to0, *to;
    CHECK(mpl_mat_transpose(&ta, at0) == 0);
    CHECK(mpl_mat_sub(&sb, big, 2, 3, k, n) == 0);
    CHECK(mpl_mat_sub(&so, bo, 1, 4, m, n) == 0);
    CHECK(mpl_mat_new(&to0, n, m) == 0);
    CHECK(mpl_mat_transpose(&to, to0) == 0);
    every_procs(ta, sb, out, "transposed a, strided b");
    every_procs(a, sb, so, "strided b, view out");
    every_procs(ta, b, to, "transposed a and out");
    mpl_mat_release(ta);
    mpl_mat_release(at0);
    mpl_mat_release(sb);
    mpl_mat_release(big);
    mpl_mat_release(so);
    mpl_mat_release(bo);
    mpl_mat_release(to);
    mpl_mat_release(to0);
  }
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(out);
}

/* In the child: the kernel asked for runs, and every shape agrees. */
static void test_kernel_child(void) {
  const char *want = getenv("MPL_TEST_KERNEL");
  if (!want) return; /* only as kernels_same_bits's child */
  mpl__blas_info_t bi;
  CHECK(mpl__blas_info(&bi) == 0);
  if (strcasecmp(bi.kernel, want) != 0) {
    fprintf(stderr, "asked for %s, OpenBLAS runs %s\n", want, bi.kernel);
    CHECK(0);
  }
  mpl__parallel_min_flops = 0; /* every product reaches the workers */
  size_t bl = mpl__dot_block_rows(0, 0, 0);
  static const size_t ms[] = {3, 4, 5, 8, 9, 16, 17, 31, 32, 33, 63, 65};
  static const size_t ns[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 3, 4};
  static const size_t ks[] = {1, 5, 64, 257, 100, 32};
  for (size_t i = 0; i < 12; i++) /* few rows: one block, and beyond it */
    shape(ms[i], ks[i % 6], ns[i], 0);
  for (size_t i = 0; i < 12; i++) { /* around the block edges */
    size_t m = (i / 3 + 1) * bl + i % 3 - 1;
    shape(m, ks[i % 6], ns[i], i % 4 == 0);
  }
  shape(1021, 513, 301, 1);       /* a case that once differed on AVX-512 */
  shape(2 * bl + 1, 20, 30, 1);   /* tiny blocks: small-matrix kernels */
  shape(2 * bl + 1, 300, 300, 0); /* and large ones */
  shape(300, 96, 100, 0);
  /* b over 8 MB: the longer blocks of a large b, the last one short */
  CHECK(mpl__dot_block_rows(900, 2050, 520) > bl);
  shape(900, 2050, 520, 0);
  for (int r = 0; r < 10; r++) { /* random shapes */
    size_t m = 300 + (size_t)((rnd() + 0.5) * 721);
    size_t k = 64 + (size_t)((rnd() + 0.5) * 449);
    size_t n = 40 + (size_t)((rnd() + 0.5) * 261);
    shape(m, k, n, r == 0);
  }
  /* cut along k */
  shape(50, 20000, 60, 1);
  shape(mpl__ksplit_rows, mpl__ksplit_min_k, 60, 0);
  shape(8, 8 * mpl__ksplit_min_k, 33, 0);
}

/* Kernels this CPU can run, by OpenBLAS's names. */
static int kernels(const char **names) {
  cpu f = cpu_features();
  int n = 0;
  names[n++] = "Prescott";
  names[n++] = "Core2";
  names[n++] = "Nehalem";
  if (f.avx) names[n++] = "Sandybridge";
  if (f.avx2fma) {
    names[n++] = "Haswell";
    names[n++] = "Zen";
  }
  if (f.avx512) names[n++] = "SkylakeX";
  if (f.bf16) names[n++] = "Cooperlake";
  return n;
}

/* Run this program's test `name` in a child with the environment given. */
static int run_child(const char *name, const char *k1, const char *v1,
                     const char *k2, const char *v2) {
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    setenv(k1, v1, 1);
    if (k2) setenv(k2, v2, 1);
    if (!freopen("/dev/null", "w", stdout)) _exit(4); /* its own summary */
    execl(self_path, self_path, name, (char *)NULL);
    _exit(3);
  }
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_kernels_same_bits(void) {
  const char *names[8];
  int n = kernels(names), failed = 0;
  for (int i = 0; i < n; i++) {
    int ok = run_child("kernel_child", "OPENBLAS_CORETYPE", names[i],
                       "MPL_TEST_KERNEL", names[i]);
    fprintf(stderr, "# kernel %s: %s\n", names[i], ok ? "same bits" : "FAILED");
    failed += !ok;
  }
  CHECK(failed == 0);
}

/* In the child: OpenBLAS was loaded on Prescott by the user's variable;
** with the variable gone, the choice run again moves to the CPU's kernel
** (AVX-512 or AVX2 with FMA), checked by a product, or stays. */
static void test_choose_child(void) {
  if (!getenv("MPL_TEST_CHOOSE")) return; /* only as cpu_kernel's child */
  mpl__blas_info_t bi;
  CHECK(mpl__blas_info(&bi) == 0);
  CHECK(strcasecmp(bi.kernel, "Prescott") == 0);
  CHECK(strcmp(bi.how, "OPENBLAS_CORETYPE") == 0);
  unsetenv("OPENBLAS_CORETYPE");
  mpl__blas_choose_again();
  CHECK(getenv("OPENBLAS_CORETYPE") == NULL); /* the environment restored */
  CHECK(mpl__blas_info(&bi) == 0);
  cpu f = cpu_features();
  const char *want = f.bf16      ? "Cooperlake"
                     : f.avx512  ? "SkylakeX"
                     : f.avx2fma ? "Haswell"
                                 : "Prescott";
  fprintf(stderr, "# chosen: %s by %s\n", bi.kernel, bi.how);
  CHECK(strcasecmp(bi.kernel, want) == 0);
  CHECK(strcmp(bi.how, f.avx2fma ? "cpu" : "OpenBLAS") == 0);
  /* the pool's workers, forked later, run the same library */
  mpl__parallel_min_flops = 0;
  shape(2 * mpl__dot_block_rows(0, 0, 0) + 1, 64, 48, 0);
}

static void test_cpu_kernel(void) {
  CHECK(run_child("choose_child", "OPENBLAS_CORETYPE", "Prescott",
                  "MPL_TEST_CHOOSE", "1"));
}

static const ctest tests[] = {
    {"kernels_same_bits", test_kernels_same_bits},
    {"kernel_child", test_kernel_child},
    {"cpu_kernel", test_cpu_kernel},
    {"choose_child", test_choose_child},
};

int main(int argc, char **argv) {
  self_path = argv[0];
  return ctest_main(tests, sizeof tests / sizeof *tests, argc, argv, 240);
}
