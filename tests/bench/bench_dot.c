/*
** bench_dot.c: mat.dot's parallel path against OpenBLAS's own threads.
**
** For each case, mpl_dot with procs = P and cblas_dgemm in this process
** with P OpenBLAS threads run alternately, R times each, on the same
** matrices, taking turns at going first; the line gives both medians and
** the median of the R pairs' ratios (mpl / OpenBLAS: below 1 means mpl
** is faster), which a machine whose speed drifts disturbs least.  The
** n = 256 case also gives the ratio to single-threaded OpenBLAS, since
** that size runs in-process.
**
** OpenBLAS's threads busy-wait for a while after each call (some 2^28
** cycles by default, about 0.1 s here), so after the reference call its
** idle thread takes half of a core that a pinned worker of mpl needs next:
** measured, that made the 50x100000 case's mpl time bimodal (8.4 ms alone,
** 9-12 ms interleaved).  The benchmark therefore runs with
** OPENBLAS_THREAD_TIMEOUT=4 (the shortest wait; OpenBLAS's own times are
** unchanged by it: 11.3-11.6 ms in that case either way), re-executing
** itself to set it, since OpenBLAS reads it when it is loaded.
**
** usage: bench_dot [P]   (default: the online CPUs)
**        bench_dot threshold [P]   (where parallel starts to pay)
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blas.h"
#include "internal.h"
#include "mpl.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static mpl_mat *random_mat(size_t r, size_t c) {
  mpl_mat *m;
  if (mpl_mat_new(&m, r, c) != 0) {
    fprintf(stderr, "bench_dot: cannot allocate %zux%zu\n", r, c);
    exit(1);
  }
  double *d = mpl_mat_data(m);
  for (size_t i = 0; i < r * c; i++) d[i] = (double)rand() / RAND_MAX - 0.5;
  return m;
}

static double time_blas(const mpl_mat *a, const mpl_mat *b, mpl_mat *c,
                        int threads) {
  const mpl__blas_t *B = mpl__blas_or_die(); /* the library mpl loaded */
  B->set_num_threads(threads);
  int m = (int)mpl_mat_rows(a), k = (int)mpl_mat_cols(a),
      n = (int)mpl_mat_cols(b);
  double t0 = now();
  B->dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0,
           mpl_mat_data(a), k, mpl_mat_data(b), n, 0.0, mpl_mat_data(c), n);
  return now() - t0;
}

static double time_mpl(const mpl_mat *a, const mpl_mat *b, mpl_mat *c,
                       int procs) {
  double t0 = now();
  int err = mpl_dot(a, b, c, procs);
  double t = now() - t0;
  if (err) {
    fprintf(stderr, "bench_dot: %s: %s\n", mpl_strerror(err), mpl_errmsg());
    exit(1);
  }
  return t;
}

static void run_case(const char *name, size_t m, size_t k, size_t n, int p,
                     int reps) {
  mpl_mat *a = random_mat(m, k), *b = random_mat(k, n), *c1, *c2;
  mpl_mat_new(&c1, m, n);
  mpl_mat_new(&c2, m, n);
  double tm[64], tb[64], t1[64], q[64];
  int single = m <= 256 && k <= 256 && n <= 256;
  time_mpl(a, b, c1, p); /* warm: workers started, pages touched */
  time_blas(a, b, c2, p);
  for (int r = 0; r < reps; r++) { /* ABBA: neither always goes first */
    if (r % 2) tb[r] = time_blas(a, b, c2, p);
    tm[r] = time_mpl(a, b, c1, p);
    if (!(r % 2)) tb[r] = time_blas(a, b, c2, p);
    if (single) t1[r] = time_blas(a, b, c2, 1);
    q[r] = tm[r] / tb[r];
  }
  double mm = median(tm, reps), mb = median(tb, reps);
  printf("dot %-22s procs=%d  mpl %9.3f ms  openblas(%d threads) %9.3f ms  "
         "ratio %.2f",
         name, p, mm * 1e3, p, mb * 1e3, median(q, reps));
  if (single) {
    double m1 = median(t1, reps);
    printf("  openblas(1 thread) %.3f ms  ratio %.2f", m1 * 1e3, mm / m1);
  }
  printf("\n");
  fflush(stdout);
  mpl_mat_release(a);
  mpl_mat_release(b);
  mpl_mat_release(c1);
  mpl_mat_release(c2);
}

/* Where the parallel path starts to pay: in-process against the workers
** forced on, for square products of growing size. */
static void threshold(int p) {
  static const size_t sizes[] = {64,  96,  128, 160, 192, 224,
                                 256, 320, 384, 448, 512};
  double saved = mpl__parallel_min_flops;
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    size_t n = sizes[s];
    mpl_mat *a = random_mat(n, n), *b = random_mat(n, n), *c;
    mpl_mat_new(&c, n, n);
    double t1[41], tp[41];
    mpl__parallel_min_flops = 0;
    time_mpl(a, b, c, p);
    for (int r = 0; r < 41; r++) {
      mpl__parallel_min_flops = 1e300;
      t1[r] = time_mpl(a, b, c, p);
      mpl__parallel_min_flops = 0;
      tp[r] = time_mpl(a, b, c, p);
    }
    double m1 = median(t1, 41), mp = median(tp, 41);
    printf("threshold n=%zu (%.3g flops): in-process %.3f ms, %d workers "
           "%.3f ms, ratio %.2f\n",
           n, 2.0 * n * n * n, m1 * 1e3, p, mp * 1e3, mp / m1);
    mpl_mat_release(a);
    mpl_mat_release(b);
    mpl_mat_release(c);
  }
  mpl__parallel_min_flops = saved;
}

int main(int argc, char **argv) {
  if (!getenv("OPENBLAS_THREAD_TIMEOUT")) {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
    execv("/proc/self/exe", argv);
    perror("bench_dot: cannot re-execute itself"); /* run as we are */
  }
  if (argc > 1 && strcmp(argv[1], "threshold") == 0) {
    threshold(argc > 2 ? atoi(argv[2]) : (int)sysconf(_SC_NPROCESSORS_ONLN));
    return 0;
  }
  int p = argc > 1 ? atoi(argv[1]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (p < 1) p = 1;
  srand(7);
  mpl__blas_info_t bi;
  if (mpl__blas_info(&bi) != 0) {
    fprintf(stderr, "bench_dot: %s\n", mpl_errmsg());
    return 1;
  }
  printf("mpl %s, OpenBLAS %s, kernel %s (chosen by %s), %d procs, "
         "OPENBLAS_THREAD_TIMEOUT=%s\n",
         mpl_version(), bi.config, bi.kernel, bi.how, p,
         getenv("OPENBLAS_THREAD_TIMEOUT"));
  run_case("256x256 * 256x256", 256, 256, 256, p, 41);
  run_case("1000x1000 * 1000x1000", 1000, 1000, 1000, p, 21);
  run_case("2000x2000 * 2000x2000", 2000, 2000, 2000, p, 11);
  run_case("4000x4000 * 4000x4000", 4000, 4000, 4000, p, 7);
  run_case("50x100000 * 100000x60", 50, 100000, 60, p, 21);
  return 0;
}
