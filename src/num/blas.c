/*
** blas.c: OpenBLAS, loaded at first use, on the CPU's own kernel.
**
** DESIGN
** Why load it ourselves.  Debian's OpenBLAS is built for every x86-64 CPU
** (DYNAMIC_ARCH) and picks its kernel when it is loaded, from its own table
** of CPU models.  A CPU newer than that table gets a generic kernel: an
** Intel Xeon with AVX-512 (family 6 model 207) runs OpenBLAS 0.3.21's SSE3
** "Prescott" kernels, an order of magnitude below its speed.  The choice
** must be fixed before anything uses BLAS, in the `mpl` command, in mat.so
** under stock lua5.4 and in a C host alike, and the pool's forkserver (and
** so every worker) must inherit the same library.  So libmpl, mat.so and
** mpl do not link OpenBLAS: mpl__blas() loads it with dlopen the first time
** it is wanted (the module's opening, which starts the pool, asks first)
** and keeps the ~15 entry points mpl uses in a table.
**
** Choosing.  In order: (1) a process that already has OpenBLAS loaded (a
** host that links it) keeps the kernel it runs: switching under a host's
** own BLAS calls is not ours to do; (2) a user's OPENBLAS_CORETYPE always
** wins (OpenBLAS reads it itself); (3) otherwise OpenBLAS picks, and when
** it picked a generic kernel (pre-AVX2) while cpuid shows AVX-512F/DQ/BW/VL
** (with AVX512_BF16: Cooperlake, else SkylakeX) or AVX2 and FMA (Haswell),
** with the OS saving those registers, mpl switches it to that kernel
** through OpenBLAS's own initialisation: it sets OPENBLAS_CORETYPE for the
** moment, calls gotoblas_dynamic_quit() and gotoblas_dynamic_init() (which
** read the variable, select the kernel table and initialise its block
** sizes, as at load time) and puts the environment back.  Nothing has run
** on the library yet, so nothing sees the change.  Weighed against this:
** re-executing `mpl` with the variable set serves the command only (not
** mat.so or a host); setting it before dlopen would need to know what
** OpenBLAS is about to choose, which only OpenBLAS knows; assigning the
** exported `gotoblas` pointer skips the kernel's initialisation.
**
** Tight limits.  OpenBLAS starts its own thread pool as it loads.  mpl
** needs none of it (its parallelism is worker processes running
** single-threaded BLAS), and under a finite address-space limit (ulimit
** -v) a thread of that pool spins forever on failed buffer allocations
** while a fork or exit waits for it; under a low process limit (ulimit -u)
** it cannot be created and OpenBLAS complains or dies.  So when no thread
** count is set (OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS, OMP_NUM_THREADS)
** and either limit is tight, the load runs with OPENBLAS_NUM_THREADS=1
** (OpenBLAS reads it while loading) and the environment is put back
** after.  Under an address-space limit one more thing: OpenBLAS maps a
** 128 MB work buffer at its first call and, when that fails, retries
** forever.  The arena, mapped next, takes most of what the limit leaves,
** so the buffer is made now, by one small product (pool workers inherit
** it); if the limit leaves no room for it, loading fails with a clear
** error instead.  Being here, it serves the mpl command, mat.so under
** stock lua5.4 and C hosts alike (the command used to run itself again
** with the variable set, which served it alone).
**
** Checking.  The switched kernel computes one small product, compared with
** a plain triple loop; if it is wrong, OpenBLAS's own choice is restored
** the same way.  mat.blas() (mpl__blas_info) reports the kernel, how it
** was chosen and the thread setting.
*/
#include <cpuid.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "blas.h"
#include "internal.h"

#ifndef MPL_OPENBLAS_SONAME
#define MPL_OPENBLAS_SONAME "libopenblas.so.0"
#endif

static mpl__blas_t T;
static void *lib_handle;
static const char *how = "not loaded";
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The entry points, by name, and where each goes in the table. */
#define ENTRY(name, field)                                                     \
  { name, (void **)&T.field }
static const struct {
  const char *name;
  void **slot;
} entries[] = {
    ENTRY("cblas_dgemm", dgemm),
    ENTRY("dgetrf_", dgetrf),
    ENTRY("dgetrs_", dgetrs),
    ENTRY("dgecon_", dgecon),
    ENTRY("dgetri_", dgetri),
    ENTRY("dpotrf_", dpotrf),
    ENTRY("dsyevd_", dsyevd),
    ENTRY("dgesdd_", dgesdd),
    ENTRY("dgesvd_", dgesvd),
    ENTRY("dgelsd_", dgelsd),
    ENTRY("dgeqrf_", dgeqrf),
    ENTRY("dorgqr_", dorgqr),
    ENTRY("dgeev_", dgeev),
    ENTRY("openblas_get_corename", get_corename),
    ENTRY("openblas_get_config", get_config),
    ENTRY("openblas_get_parallel", get_parallel),
    ENTRY("openblas_get_num_threads", get_num_threads),
    ENTRY("openblas_set_num_threads", set_num_threads),
};

/* The kernel cpuid allows beyond the generic ones: "Cooperlake",
** "SkylakeX", "Haswell", or NULL.  The OS must save the registers too
** (XCR0: SSE/AVX state, and the AVX-512 opmask and upper registers). */
static const char *cpu_kernel(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return NULL;
  int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return NULL;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 0x6) != 0x6) return NULL;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return NULL;
  int avx2 = (b >> 5) & 1;
  int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1,
      vl = (b >> 31) & 1;
  if (f && dq && bw && vl && (lo & 0xe0) == 0xe0) {
    unsigned a1 = 0, b1, c1, d1;
    __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    return (a1 >> 5) & 1 ? "Cooperlake" : "SkylakeX";
  }
  return avx2 && fma ? "Haswell" : NULL;
}

/* Kernels of CPUs without AVX2 (and Sandybridge, AVX only): what OpenBLAS
** falls back to for a model it does not know. */
static int generic(const char *core) {
  static const char *const names[] = {
      "Prescott",  "Core2",  "Penryn", "Dunnington",
      "Nehalem",   "Atom",   "Katmai", "Coppermine",
      "Northwood", "Banias", "Athlon", "Opteron",
      "Barcelona", "Bobcat", "Nano",   "Sandybridge"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (core && strncasecmp(core, names[i], strlen(names[i])) == 0) return 1;
  return 0;
}

/* Make OpenBLAS select its kernel again: `core`, or its own choice when
** NULL (the caller made sure the user set no OPENBLAS_CORETYPE). */
static void reselect(void *lib, const char *core) {
  void (*quit)(void) = (void (*)(void))dlsym(lib, "gotoblas_dynamic_quit");
  void (*init)(void) = (void (*)(void))dlsym(lib, "gotoblas_dynamic_init");
  if (core) setenv("OPENBLAS_CORETYPE", core, 1);
  quit();
  init();
  unsetenv("OPENBLAS_CORETYPE");
}

/* One small product by the loaded kernel against a plain triple loop. */
static int kernel_right(void) {
  enum { M = 37, K = 29, N = 41 };
  double a[M * K], b[K * N], c[M * N];
  for (int i = 0; i < M * K; i++) a[i] = (double)((i * 7) % 13) - 6.25;
  for (int i = 0; i < K * N; i++) b[i] = (double)((i * 5) % 11) * 0.5 - 2;
  T.dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0, a, K, b, N,
          0.0, c, N);
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int l = 0; l < K; l++) s += a[i * K + l] * b[l * N + j];
      if (fabs(c[i * N + j] - s) > 1e-9 * (1 + fabs(s))) return 0;
    }
  return 1;
}

/* Switch a freshly loaded OpenBLAS off a generic kernel when the CPU
** allows better (see DESIGN). */
static void choose_kernel(void *lib) {
  const char *want = cpu_kernel(), *core = T.get_corename();
  how = "OpenBLAS";
  if (!want || !generic(core) || !dlsym(lib, "gotoblas_dynamic_quit") ||
      !dlsym(lib, "gotoblas_dynamic_init"))
    return;
  reselect(lib, want);
  core = T.get_corename();
  if (core && strcasecmp(core, want) == 0 && kernel_right()) {
    how = "cpu";
    return;
  }
  reselect(lib, NULL);
  how = "OpenBLAS (the CPU's kernel failed its check)";
}

/* OpenBLAS's work buffer (BUFFER_SIZE, 128 MB on x86-64) and a margin. */
#define BLAS_BUFFER ((size_t)144 << 20)

static int address_limited(void) {
  struct rlimit as;
  return getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY;
}

/* Whether OpenBLAS should load without its thread pool (see DESIGN):
** no thread count set, and a finite address space or few processes. */
static int single_threaded_load(void) {
  if (getenv("OPENBLAS_NUM_THREADS") || getenv("GOTO_NUM_THREADS") ||
      getenv("OMP_NUM_THREADS"))
    return 0;
  struct rlimit np;
  int tight_np = getrlimit(RLIMIT_NPROC, &np) == 0 && np.rlim_cur < 4096;
  return address_limited() || tight_np;
}

/* Under an address-space limit, make OpenBLAS's work buffer now, while
** there is room (see DESIGN); 0, or -1 when the limit leaves none. */
static int make_buffer(void) {
  if (!address_limited()) return 0;
  void *probe = mmap(NULL, BLAS_BUFFER, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (probe == MAP_FAILED) return -1;
  munmap(probe, BLAS_BUFFER);
  enum { N = 160 }; /* above OpenBLAS's small-matrix path */
  double *a = calloc((size_t)3 * N * N, sizeof(double));
  if (!a) return -1;
  T.dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a, N,
          a + N * N, N, 0.0, a + 2 * N * N, N);
  free(a);
  return 0;
}

/* dlopen OpenBLAS, without its thread pool under tight limits. */
static void *open_lib(void) {
  int single = single_threaded_load();
  if (single && setenv("OPENBLAS_NUM_THREADS", "1", 1) != 0) single = 0;
  void *lib = dlopen(MPL_OPENBLAS_SONAME, RTLD_NOW | RTLD_GLOBAL);
  if (single) unsetenv("OPENBLAS_NUM_THREADS");
  return lib;
}

static void load(void) {
  void *lib = dlopen(MPL_OPENBLAS_SONAME, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  int had = lib != NULL;
  if (!lib) lib = open_lib();
  if (!lib) {
    const char *e = dlerror();
    snprintf(load_error, sizeof load_error, "cannot load OpenBLAS: %s",
             e ? e : MPL_OPENBLAS_SONAME);
    return;
  }
  for (size_t i = 0; i < sizeof entries / sizeof *entries; i++) {
    *entries[i].slot = dlsym(lib, entries[i].name);
    if (!*entries[i].slot) {
      snprintf(load_error, sizeof load_error,
               "cannot load OpenBLAS: %s has no %s", MPL_OPENBLAS_SONAME,
               entries[i].name);
      memset(&T, 0, sizeof T);
      return;
    }
  }
  lib_handle = lib;
  const char *env = getenv("OPENBLAS_CORETYPE");
  if (had)
    how = "host";
  else if (env && *env)
    how = "OPENBLAS_CORETYPE";
  else
    choose_kernel(lib);
  if (make_buffer() != 0) {
    snprintf(load_error, sizeof load_error,
             "not enough memory for OpenBLAS's work buffer (128 MB) under "
             "the address-space limit (ulimit -v)");
    return;
  }
  T.loaded = 1;
}

const mpl__blas_t *mpl__blas(void) {
  pthread_once(&once, load);
  if (!T.loaded) {
    mpl__set_errmsg("%s", load_error);
    return NULL;
  }
  return &T;
}

/* A process without OpenBLAS cannot compute: say why, once, and stop
** rather than crash on a missing entry point. */
const mpl__blas_t *mpl__blas_or_die(void) {
  const mpl__blas_t *b = mpl__blas();
  if (!b) {
    fprintf(stderr, "mpl: %s\n", load_error);
    abort();
  }
  return b;
}

void mpl__blas_choose_again(void) {
  if (mpl__blas() && lib_handle && !getenv("OPENBLAS_CORETYPE"))
    choose_kernel(lib_handle);
}

int mpl__blas_info(mpl__blas_info_t *info) {
  const mpl__blas_t *b = mpl__blas();
  if (!b) return MPL_ESYS;
  info->kernel = b->get_corename();
  info->how = how;
  info->config = b->get_config();
  info->threads = b->get_num_threads();
  return 0;
}
