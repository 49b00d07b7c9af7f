/*
** test_files.c: the C API of the file formats (mpl_load, mpl_load_mem,
** mpl_save_ex), the number parser against strtod_l, locale independence,
** the storage of memory-mapped matrices, and large .npy files, which are
** written into the arena through its descriptor (and how that fails).
**
** Each test runs in its own forked process under an alarm, so a crash or a
** hang fails that test and the rest still run.  The last line is the
** "N passed, N failed" summary.
*/
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "ctest.h"
#include "internal.h"
#include "mpl.h"
#include "proc.h"

#define CHECK_STR(a, b)                                                        \
  do {                                                                         \
    const char *a_ = (a), *b_ = (b);                                           \
    if (strcmp(a_, b_) != 0) {                                                 \
      fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,      \
              __LINE__, #a, a_, b_);                                           \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static char dir[64];

static void make_dir(void) {
  strcpy(dir, "/tmp/mpl-files-XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
}

static void remove_dir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

static const char *path_of(const char *name) {
  static char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return p;
}

static void write_file(const char *name, const void *data, size_t n) {
  FILE *f = fopen(path_of(name), "wb");
  CHECK(f && fwrite(data, 1, n, f) == n);
  fclose(f);
}

static void write_str(const char *name, const char *s) {
  write_file(name, s, strlen(s));
}

static uint64_t bits(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

/* xorshift for reproducible random tests */
static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return rs;
}

/* Parse s with mpl__parse_num and with strtod_l; both must agree bit for
** bit and consume the whole string. */
static void same_as_strtod(const char *s, locale_t c) {
  double a = 0, b;
  const char *e = mpl__parse_num(s, s + strlen(s), c, &a);
  char *be;
  b = strtod_l(s, &be, c);
  if (!e || *e || bits(a) != bits(b)) {
    fprintf(stderr, "parse mismatch for \"%s\": %a (%s) vs strtod %a\n", s, a,
            e ? e : "NULL", b);
    exit(1);
  }
}

static void test_parse_matches_strtod(void) {
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  static const char *fixed[] = {
      "0",
      "-0",
      "+0",
      "0.0",
      "00000.0000e5",
      "1",
      "-1",
      "1.5",
      ".5",
      "5.",
      "123456789012345678",
      "1234567890123456789",
      "12345678901234567890",
      "9007199254740992",
      "9007199254740993",
      "9007199254740994",
      "9007199254740995",
      "9007199254740993.0000000000000000001",
      "0.1",
      "0.10000000000000001",
      "0.1000000000000000055511151231257827021181583404541015625",
      "0.1000000000000000055511151231257827021181583404541015624",
      "0.1000000000000000055511151231257827021181583404541015626",
      "2.2250738585072011e-308",
      "2.2250738585072012e-308",
      "2.2250738585072014e-308",
      "4.9406564584124654e-324",
      "4.9e-324",
      "2.4703282292062327e-324",
      "2.4703282292062328e-324",
      "1e-400",
      "1.7976931348623157e308",
      "1.7976931348623158e308",
      "1.7976931348623159e308",
      "1e309",
      "-1e309",
      "1e23",
      "8.41e21",
      "5e-324",
      "1e22",
      "1e-22",
      "1e27",
      "1e-27",
      "123456789e-30",
      "3.0517578125e-05",
      "7.0420557077594588669468784357561207962098443483187940792729600000e+59",
      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203126",
      "0.000000000000000000000000000000000000000000001e45",
      "1e0000000000000000000001",
      "1E5",
      "1e+5",
      "1e-5",
      "9999999999999999999e-27",
      "18446744073709551615",
      "18446744073709551616e-5",
      "0.30000000000000004",
      "0.3",
      "4503599627370496.5",
      "4503599627370497.5",
      "179769313486231580793728971405303415079934132710037826936173778980444968"
      "292764750946649017977587207096330286416692887910946555547851940402630657"
      "488671505820681908902000708383676273854845817711531764475730270069855571"
      "366959622842914819860834936475292719074168444365510704342711559699508093"
      "042880177904174497791."
      "9999999999999999999999999999999999999999999999999999999999999999999999",
      "nan",
      "-nan",
      "NaN",
      "inf",
      "-Infinity",
      "INF",
      "+inf"};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    double a = 0, b;
    const char *s = fixed[i];
    const char *e = mpl__parse_num(s, s + strlen(s), c, &a);
    b = strtod_l(s, NULL, c);
    CHECK(e && *e == '\0');
    if (isnan(b))
      CHECK(isnan(a) && signbit(a) == signbit(b));
    else if (bits(a) != bits(b)) {
      fprintf(stderr, "\"%s\": %a vs %a\n", s, a, b);
      exit(1);
    }
  }
  /* random doubles in every printed precision */
  static const char *fmts[] = {"%.17g", "%.16g", "%.15g", "%.6g",  "%.3e",
                               "%.20e", "%.25g", "%.1f",  "%.19e", "%.18g"};
  char buf[128];
  for (int k = 0; k < 300000; k++) {
    double d;
    uint64_t u = rnd();
    if (k % 3 == 0) { /* uniformly random bit patterns */
      memcpy(&d, &u, 8);
      if (!isfinite(d)) continue;
    } else if (k % 3 == 1) { /* ordinary magnitudes */
      d = (double)(u >> 11) / 9007199254740992.0 *
          pow(10, (int)(rnd() % 40) - 20);
    } else { /* integers and short decimals */
      d = (double)(int64_t)(rnd() % 2000000001 - 1000000000) /
          pow(10, (int)(rnd() % 12));
    }
    snprintf(buf, sizeof buf, fmts[k % 10], d);
    same_as_strtod(buf, c);
  }
  /* random digit strings near halfway points: 17..25 digits */
  for (int k = 0; k < 200000; k++) {
    int nd = 1 + (int)(rnd() % 25), n = 0;
    buf[n++] = (char)('1' + rnd() % 9);
    for (int i = 1; i < nd; i++) buf[n++] = (char)('0' + rnd() % 10);
    if (rnd() % 2) { /* a point somewhere */
      int at = 1 + (int)(rnd() % (unsigned)nd);
      memmove(buf + at + 1, buf + at, (size_t)(n - at));
      buf[at] = '.';
      n++;
    }
    n += snprintf(buf + n, sizeof buf - (size_t)n, "e%d",
                  (int)(rnd() % 80) - 40);
    same_as_strtod(buf, c);
  }
  /* exact halfway cases: a double plus half an ulp, printed in full */
  for (int k = 0; k < 2000; k++) {
    double d = (double)(rnd() >> 11) * pow(2, (int)(rnd() % 120) - 60);
    long double h =
        (long double)d + (long double)(nextafter(d, INFINITY) - d) / 2;
    snprintf(buf, sizeof buf, "%.40Lg", h);
    same_as_strtod(buf, c);
  }
  /* things that are not numbers */
  static const char *bad[] = {"",    "-",   "+", ".",  "e5", "-e5", "1e",
                              "1e+", "abc", "n", "in", "na", "0x10"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double a;
    const char *s = bad[i], *e = mpl__parse_num(s, s + strlen(s), c, &a);
    CHECK(e == NULL || *e != '\0');
  }
  /* a number cut by the end of the buffer is not read past it */
  double a;
  const char *s = "12345";
  CHECK(mpl__parse_num(s, s + 3, c, &a) == s + 3 && a == 123);
  freelocale(c);
}

/* A very long run of digits is parsed in linear time, correctly. */
static void test_parse_long_digits(void) {
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  size_t n = 10 << 20;
  char *s = malloc(n + 16);
  memset(s, '1', n);
  double a;
  CHECK(mpl__parse_num(s, s + n, c, &a) == s + n && isinf(a));
  s[0] = '0';
  s[1] = '.';
  memset(s + 2, '0', n - 3);
  s[n - 1] = '7';
  CHECK(mpl__parse_num(s, s + n, c, &a) == s + n && a == 0);
  /* 7 * 10^-(n-2) * 10^(n-3) = 0.7 */
  int k = snprintf(s + n, 16, "e%zu", n - 3);
  CHECK(mpl__parse_num(s, s + n + k, c, &a) == s + n + k);
  CHECK(bits(a) == bits(0.7));
  free(s);
  freelocale(c);
}

/* A host that switched to a locale with a decimal comma still reads and
** writes '.' (skipped when the locale cannot be built here). */
static void test_locale_independent(void) {
  make_dir();
  char cmd[256];
  snprintf(cmd, sizeof cmd,
           "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1", dir);
  if (system(cmd) != 0) {
    printf("# skipped: localedef could not build de_DE.UTF-8\n");
    remove_dir();
    return;
  }
  setenv("LOCPATH", dir, 1);
  CHECK(setlocale(LC_ALL, "de_DE.UTF-8") != NULL);
  CHECK(strtod("1.5", NULL) == 1.0); /* the locale is in effect */
  write_str("a.csv", "1.5,2.25\n-3.125e2,0.1\n");
  mpl_mat *m;
  mpl_load_info info;
  CHECK_EQ_INT(mpl_load(&m, path_of("a.csv"), NULL, NULL, &info), 0);
  CHECK(mpl_mat_data(m)[0] == 1.5 && mpl_mat_data(m)[1] == 2.25);
  CHECK(mpl_mat_data(m)[2] == -312.5 && mpl_mat_data(m)[3] == 0.1);
  write_str("b.mtx", "%%MatrixMarket matrix array real general\n1 1\n2.5\n");
  mpl_mat *k;
  CHECK_EQ_INT(mpl_load(&k, path_of("b.mtx"), NULL, NULL, &info), 0);
  CHECK(mpl_mat_data(k)[0] == 2.5);
  mpl_mat_release(k);
  CHECK_EQ_INT(mpl_save(path_of("c.csv"), m, NULL, 0), 0);
  FILE *f = fopen(path_of("c.csv"), "r");
  char text[128] = {0};
  CHECK(f && fread(text, 1, sizeof text - 1, f) > 0);
  fclose(f);
  CHECK_STR(text, "1.5,2.25\n-312.5,0.10000000000000001\n");
  mpl_mat_release(m);
  remove_dir();
}

static void test_errors_have_location(void) {
  make_dir();
  mpl_mat *m = (mpl_mat *)1;
  mpl_load_info info;
  write_str("a.csv", "1,2\n\n# c\n3,4\n5\n");
  CHECK_EQ_INT(mpl_load(&m, path_of("a.csv"), NULL, NULL, &info), MPL_EFORMAT);
  CHECK(m == NULL);
  CHECK_EQ_INT(info.line, 5);
  CHECK_EQ_INT(info.offset, -1);
  CHECK_STR(info.msg, "1 field, expected 2 as on line 1");
  CHECK(info.header == NULL);
  /* info may be NULL */
  CHECK_EQ_INT(mpl_load(&m, path_of("a.csv"), NULL, NULL, NULL), MPL_EFORMAT);
  unsigned char npy[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0xff};
  write_file("b.npy", npy, sizeof npy);
  CHECK_EQ_INT(mpl_load(&m, path_of("b.npy"), NULL, NULL, &info), MPL_EFORMAT);
  CHECK_EQ_INT(info.line, 0);
  CHECK_EQ_INT(info.offset, 8);
  CHECK_STR(info.msg, "header length 65535 is more than 10000 (NumPy's limit)");
  CHECK_EQ_INT(mpl_load(&m, path_of("none.csv"), NULL, NULL, &info), MPL_EIO);
  CHECK_EQ_INT(errno, ENOENT);
  CHECK_STR(info.msg, "cannot open: No such file or directory");
  CHECK_EQ_INT(mpl_load(&m, path_of("a.xls"), NULL, NULL, &info), MPL_EFORMAT);
  CHECK_EQ_INT(mpl_load(&m, path_of("a.csv"), "xls", NULL, &info), MPL_EFORMAT);
  CHECK_STR(info.msg, "unknown format 'xls'");
  mpl_load_opts o = {0, 0, 1};
  CHECK_EQ_INT(mpl_load(&m, path_of("a.csv"), NULL, &o, &info), MPL_EINVAL);
  CHECK_STR(info.msg, "the mmap option is only for .npy files");
  o = (mpl_load_opts){'1', 0, 0};
  CHECK_EQ_INT(mpl_load(&m, path_of("a.csv"), NULL, &o, &info), MPL_EINVAL);
  CHECK_EQ_INT(mpl_load(&m, dir, "csv", NULL, &info), MPL_EIO);
  CHECK_STR(info.msg, "cannot read: Is a directory");
  CHECK_EQ_INT(mpl_load(NULL, path_of("a.csv"), NULL, NULL, &info), MPL_EINVAL);
  remove_dir();
}

static void test_header_and_options(void) {
  make_dir();
  write_str("a.txt",
            "\xEF\xBB\xBF# made by hand\r\nx  y\r\n1 2\r\n\t3   4 # four\r\n");
  mpl_mat *m;
  mpl_load_info info;
  mpl_load_opts o = {0, 1, 0};
  CHECK_EQ_INT(mpl_load(&m, path_of("a.txt"), NULL, &o, &info), 0);
  CHECK_STR(info.header, "x  y");
  free(info.header);
  CHECK_EQ_INT(mpl_mat_rows(m), 2);
  CHECK(mpl_mat_data(m)[3] == 4);
  /* save a header; read it back */
  mpl_save_opts so = {';', "x;y"};
  CHECK_EQ_INT(mpl_save_ex(path_of("b.csv"), m, NULL, &so), 0);
  o = (mpl_load_opts){';', 1, 0};
  mpl_mat *k;
  CHECK_EQ_INT(mpl_load(&k, path_of("b.csv"), NULL, &o, &info), 0);
  CHECK_STR(info.header, "x;y");
  free(info.header);
  CHECK(mpl_mat_equal(m, k));
  mpl_mat_release(k);
  so.header = "two\nlines";
  CHECK_EQ_INT(mpl_save_ex(path_of("c.csv"), m, NULL, &so), MPL_EINVAL);
  so.header = "h";
  CHECK_EQ_INT(mpl_save_ex(path_of("c.npy"), m, NULL, &so), MPL_EINVAL);
  /* without the header option the header is an error naming line 2 */
  CHECK_EQ_INT(mpl_load(&k, path_of("a.txt"), NULL, NULL, &info), MPL_EFORMAT);
  CHECK_EQ_INT(info.line, 2);
  CHECK_STR(
      info.msg,
      "field 1 is not a number: 'x' (a header line needs the header option)");
  mpl_mat_release(m);
  remove_dir();
}

static void test_load_mem(void) {
  mpl_mat *m;
  mpl_load_info info;
  const char *csv = "1,2\n3,4";
  CHECK_EQ_INT(mpl_load_mem(&m, csv, strlen(csv), "csv", NULL, &info), 0);
  CHECK_EQ_INT(mpl_mat_cols(m), 2);
  mpl_mat_release(m);
  const char *mtx = "%%MatrixMarket matrix coordinate integer symmetric\n"
                    "3 3 2\n2 1 -4\n3 3 7\n";
  CHECK_EQ_INT(mpl_load_mem(&m, mtx, strlen(mtx), "mtx", NULL, &info), 0);
  double want[9] = {0, -4, 0, -4, 0, 0, 0, 0, 7};
  for (int i = 0; i < 9; i++) CHECK(mpl_mat_data(m)[i] == want[i]);
  mpl_mat_release(m);
  /* a Fortran-order int32 npy */
  char npy[192] = "\x93NUMPY\x01\x00";
  const char *dict =
      "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }";
  size_t hl = 128 - 10;
  npy[8] = (char)hl;
  npy[9] = 0;
  memset(npy + 10, ' ', hl);
  memcpy(npy + 10, dict, strlen(dict));
  npy[127] = '\n';
  int32_t v[6] = {1, 4, 2, 5, 3, -6}; /* columns of [[1 2 3] [4 5 -6]] */
  memcpy(npy + 128, v, sizeof v);
  int err = mpl_load_mem(&m, npy, 128 + sizeof v, "npy", NULL, &info);
  if (err) fprintf(stderr, "%lld: %s\n", info.offset, info.msg);
  CHECK_EQ_INT(err, 0);
  CHECK_EQ_INT(mpl_mat_rows(m), 2);
  CHECK_EQ_INT(mpl_mat_rstride(m), 1);
  CHECK_EQ_INT(mpl_mat_cstride(m), 2);
  double *d = mpl_mat_data(m);
  CHECK(d[0 * 1 + 2 * 2] == 3 && d[1 * 1 + 2 * 2] == -6 && d[1] == 4);
  mpl_mat_release(m);
  CHECK_EQ_INT(mpl_load_mem(&m, npy, 128 + sizeof v - 1, "npy", NULL, &info),
               MPL_EFORMAT);
  CHECK_EQ_INT(info.offset, 128);
  CHECK_STR(info.msg, "the data is truncated: shape (2, 3) of '<i4' needs 24 "
                      "bytes, the file has 23 after the header");
  CHECK_EQ_INT(mpl_load_mem(&m, "", 0, "csv", NULL, &info), MPL_EFORMAT);
  CHECK_STR(info.msg, "the file is empty");
  CHECK_EQ_INT(mpl_load_mem(&m, NULL, 0, "npy", NULL, &info), MPL_EFORMAT);
  CHECK_EQ_INT(mpl_load_mem(&m, csv, 3, NULL, NULL, &info), MPL_EINVAL);
}

/* Save m as .npy in dir/name and map it. */
static mpl_mat *mapped(const char *name, mpl_mat *m) {
  CHECK_EQ_INT(mpl_save(path_of(name), m, NULL, 0), 0);
  mpl_mat *k;
  mpl_load_opts o = {0, 0, 1};
  mpl_load_info info;
  int err = mpl_load(&k, path_of(name), NULL, &o, &info);
  if (err) fprintf(stderr, "%s\n", info.msg);
  CHECK_EQ_INT(err, 0);
  return k;
}

static void test_mmap_storage(void) {
  make_dir();
  mpl_mat *m;
  CHECK_EQ_INT(mpl_mat_new(&m, 300, 200), 0);
  for (int i = 0; i < 60000; i++) mpl_mat_data(m)[i] = i * 0.5;
  mpl_mat *k = mapped("a.npy", m);
  CHECK(mpl_mat_equal(m, k));
  CHECK(!mpl__arena_contains(mpl_mat_data(k)));
  int fd = k->st->fd;
  CHECK(fd >= 0);
  CHECK_EQ_INT(k->st->fd_off, 128);
  CHECK_EQ_INT(k->st->bytes, 60000 * 8);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  CHECK_EQ_INT(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
  /* writes go through to the file, and a process that maps the
  ** descriptor (as a worker does) sees them and can write back */
  mpl_mat_data(k)[7] = -1.25;
  double d;
  CHECK(pread(fd, &d, 8, 128 + 7 * 8) == 8 && d == -1.25);
  pid_t pid = fork();
  if (pid == 0) {
    long pg = sysconf(_SC_PAGESIZE);
    size_t off = k->st->fd_off / (size_t)pg * (size_t)pg;
    char *p = mmap(NULL, k->st->fd_off - off + k->st->bytes,
                   PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
    if (p == MAP_FAILED) _exit(2);
    double *e = (double *)(p + (k->st->fd_off - off));
    if (e[7] != -1.25 || e[8] != 4) _exit(3);
    e[9] = 99;
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
  CHECK_EQ_INT(WEXITSTATUS(status), 0);
  CHECK(mpl_mat_data(k)[9] == 99);
  /* views keep the mapping alive; the last release closes the fd */
  mpl_mat *v;
  CHECK_EQ_INT(mpl_mat_sub(&v, k, 1, 1, 2, 2), 0);
  mpl_mat_release(k);
  CHECK(fcntl(fd, F_GETFD) >= 0);
  CHECK(mpl_mat_data(v)[0] == 100.5);
  mpl_mat_release(v);
  CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
  /* matrices made from a mapped one are ordinary */
  k = mapped("a.npy", m);
  mpl_mat *p;
  CHECK_EQ_INT(mpl_mat_new(&p, 300, 300), 0);
  mpl_mat *kt;
  CHECK_EQ_INT(mpl_mat_transpose(&kt, k), 0);
  CHECK_EQ_INT(mpl_dot(k, kt, p, 2), 0);
  CHECK(mpl_mat_data(p)[0] > 0);
  mpl_mat_release(kt);
  mpl_mat_release(p);
  mpl_mat_release(k);
  /* a read-only file cannot be mapped read-write: a clear error */
  CHECK(chmod(path_of("a.npy"), 0444) == 0);
  if (geteuid() != 0) {
    mpl_load_opts o = {0, 0, 1};
    mpl_load_info info;
    CHECK_EQ_INT(mpl_load(&k, path_of("a.npy"), NULL, &o, &info), MPL_EIO);
    CHECK(strstr(info.msg, "not writable") != NULL);
  }
  /* other dtypes are refused, not copied */
  mpl_mat_release(m);
  remove_dir();
}

/* Mapping costs the same for 8 KB and 400 MB (sparse files: no disk). */
static void test_mmap_time_flat(void) {
  make_dir();
  double t[2];
  for (int k = 0; k < 2; k++) {
    size_t rows = k ? 50000 : 1, cols = 1000;
    char name[32];
    snprintf(name, sizeof name, "s%d.npy", k);
    FILE *f = fopen(path_of(name), "wb");
    char hdr[128];
    int n = snprintf(
        hdr, sizeof hdr,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %zu), }", rows,
        cols);
    memset(hdr + n, ' ', 117 - (size_t)n);
    hdr[117] = '\n';
    fwrite("\x93NUMPY\x01\x00\x76\x00", 1, 10, f);
    fwrite(hdr, 1, 118, f);
    CHECK(ftruncate(fileno(f), (off_t)(128 + rows * cols * 8)) == 0);
    fclose(f);
    struct timespec a, b;
    mpl_mat *m;
    mpl_load_opts o = {0, 0, 1};
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int r = 0; r < 20; r++) {
      CHECK_EQ_INT(mpl_load(&m, path_of(name), NULL, &o, NULL), 0);
      mpl_mat_release(m);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    t[k] =
        (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
  }
  printf("# mmap load: %.1f us (8 KB), %.1f us (400 MB)\n", t[0] / 20 * 1e6,
         t[1] / 20 * 1e6);
  CHECK(t[1] < 20 * t[0] + 0.01);
  remove_dir();
}

/* A text of rows "i,i/2,-i" with extra lines at the given rows. */
static char *big_text(size_t rows, size_t *len, size_t bad1, const char *what1,
                      size_t bad2, const char *what2) {
  char *b = malloc(rows * 40 + 1000), *p = b;
  p += sprintf(p, "# generated\n\n");
  for (size_t i = 0; i < rows; i++) {
    if (i % 1000 == 7) p += sprintf(p, "# comment\n\n");
    if (i == bad1)
      p += sprintf(p, "%s\n", what1);
    else if (i == bad2)
      p += sprintf(p, "%s\n", what2);
    else
      p += sprintf(p, "%zu,%.17g,-%zu\n", i, i * 0.5, i);
  }
  *len = (size_t)(p - b);
  return b;
}

/* The line number of row `row` in big_text's output (bad rows included). */
static size_t big_line(size_t row) {
  return 3 + row + 2 * ((row + 993) / 1000);
}

/* Big files are parsed in threads: same result, same first error. */
static void test_parallel_text(void) {
  size_t len, rows = 450000;
  char *b = big_text(rows, &len, SIZE_MAX, "", SIZE_MAX, "");
  CHECK(len > 8 << 20);
  mpl_mat *m1, *m4;
  mpl_load_info info;
  CHECK_EQ_INT(mpl_set_procs(1), 0);
  CHECK_EQ_INT(mpl_load_mem(&m1, b, len, "csv", NULL, &info), 0);
  CHECK_EQ_INT(mpl_set_procs(4), 0);
  CHECK_EQ_INT(mpl_load_mem(&m4, b, len, "csv", NULL, &info), 0);
  CHECK(mpl_mat_equal(m1, m4));
  CHECK_EQ_INT(mpl_mat_rows(m4), rows);
  for (size_t i = 0; i < rows; i += 997)
    CHECK(mpl_mat_data(m4)[i * 3] == (double)i &&
          mpl_mat_data(m4)[i * 3 + 1] == i * 0.5);
  mpl_mat_release(m1);
  mpl_mat_release(m4);
  free(b);
  /* errors in the last segment and in the first: the first one wins */
  size_t cases[][2] = {{440000, 445000}, {10, 420000}, {225001, 225002}};
  for (int c = 0; c < 3; c++) {
    b = big_text(rows, &len, cases[c][0], "1,x,3", cases[c][1], "1,2");
    mpl_mat *m = (mpl_mat *)1;
    CHECK_EQ_INT(mpl_load_mem(&m, b, len, "csv", NULL, &info), MPL_EFORMAT);
    CHECK(m == NULL);
    CHECK_EQ_INT(info.line, big_line(cases[c][0]));
    CHECK_STR(info.msg, "field 2 is not a number: 'x'");
    free(b);
    b = big_text(rows, &len, cases[c][0], "1,2", cases[c][1], "1,x,3");
    CHECK_EQ_INT(mpl_load_mem(&m, b, len, "csv", NULL, &info), MPL_EFORMAT);
    CHECK_EQ_INT(info.line, big_line(cases[c][0]));
    CHECK_STR(info.msg, "2 fields, expected 3 as on line 3");
    free(b);
  }
}

/* ---- large .npy files: written into the arena through its descriptor ---- */

/* A .npy file: the header for descr/fortran/shape, then n data bytes. */
static void write_npy(const char *name, const char *descr, int fortran,
                      const char *shape, const void *data, size_t n) {
  char dict[200];
  int k = snprintf(dict, sizeof dict,
                   "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                   fortran ? "True" : "False", shape);
  size_t hlen = (size_t)k + (64 - (10 + (size_t)k + 1) % 64) % 64 + 1;
  unsigned char pre[10] = "\x93NUMPY\x01\x00";
  pre[8] = (unsigned char)(hlen & 0xff);
  pre[9] = (unsigned char)(hlen >> 8);
  FILE *f = fopen(path_of(name), "wb");
  CHECK(f && fwrite(pre, 1, 10, f) == 10);
  CHECK(fwrite(dict, 1, (size_t)k, f) == (size_t)k);
  for (size_t i = (size_t)k; i + 1 < hlen; i++) putc(' ', f);
  putc('\n', f);
  CHECK(fwrite(data, 1, n, f) == n);
  CHECK(fclose(f) == 0);
}

static size_t arena_blocks(void) {
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  return st.blocks;
}

static size_t arena_resident(void) {
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  return st.resident;
}

static mpl_mat *load_ok(const char *name) {
  mpl_mat *m = NULL;
  mpl_load_info info;
  int err = mpl_load(&m, path_of(name), NULL, NULL, &info);
  if (err) fprintf(stderr, "%s: %s\n", name, info.msg);
  CHECK_EQ_INT(err, 0);
  return m;
}

#define BIG_R 1031 /* 1031 x 1027 doubles: 8.5 MB, not a whole page count */
#define BIG_C 1027

/* Every dtype and both orders, large enough for the arena-fill path, read
** bit for bit -- from the file and from memory -- into matrices shared
** with the workers, and nothing left behind. */
static void test_npy_large(void) {
  make_dir();
  size_t n = (size_t)BIG_R * BIG_C;
  double *v = malloc(n * 8);
  unsigned char *raw = malloc(n * 8);
  for (size_t i = 0; i < n; i++) v[i] = (double)(int64_t)rnd() / 3.0;
  v[0] = NAN;
  v[1] = -0.0;
  v[2] = INFINITY;
  v[n - 1] = 5e-324;
  char shape[64];
  snprintf(shape, sizeof shape, "(%d, %d)", BIG_R, BIG_C);
  write_npy("f8.npy", "<f8", 0, shape, v, n * 8);
  for (size_t i = 0; i < n; i++) {
    uint64_t b = __builtin_bswap64(bits(v[i]));
    memcpy(raw + i * 8, &b, 8);
  }
  write_npy("f8be.npy", ">f8", 0, shape, raw, n * 8);
  for (size_t i = 0; i < n; i++) {
    float f = (float)v[i];
    memcpy(raw + i * 4, &f, 4);
  }
  write_npy("f4.npy", "<f4", 0, shape, raw, n * 4);
  for (size_t i = 0; i < n; i++) {
    int32_t x = (int32_t)(rnd() >> 32);
    memcpy(raw + i * 4, &x, 4);
  }
  write_npy("i4.npy", "<i4", 0, shape, raw, n * 4);
  write_npy("u1.npy", "|u1", 0, shape, raw, n);
  write_npy("f8F.npy", "<f8", 1, shape, v, n * 8); /* v is column-major */

  CHECK_EQ_INT(mpl__arena_ensure(), 0);
  int fds = count_dir("/proc/self/fd");
  size_t blocks = arena_blocks();
  mpl_mat *m = load_ok("f8.npy");
  CHECK(mpl_mat_is_shared(m));
  CHECK_EQ_INT(mpl_mat_rows(m), BIG_R);
  CHECK_EQ_INT(mpl_mat_cols(m), BIG_C);
  for (size_t i = 0; i < n; i++) CHECK(bits(mpl_mat_data(m)[i]) == bits(v[i]));
  mpl_mat *be = load_ok("f8be.npy");
  CHECK(memcmp(mpl_mat_data(be), v, n * 8) == 0);
  mpl_mat *f4 = load_ok("f4.npy");
  for (size_t i = 0; i < n; i++) {
    float f = (float)v[i];
    CHECK(bits(mpl_mat_data(f4)[i]) == bits((double)f));
  }
  mpl_mat *i4 = load_ok("i4.npy"), *u1 = load_ok("u1.npy");
  for (size_t i = 0; i < n; i++) {
    int32_t x;
    memcpy(&x, raw + i * 4, 4);
    CHECK(mpl_mat_data(i4)[i] == (double)x && mpl_mat_data(u1)[i] == raw[i]);
  }
  mpl_mat *fo = load_ok("f8F.npy");
  CHECK_EQ_INT(mpl_mat_rows(fo), BIG_R);
  for (size_t i = 0; i < BIG_R; i += 7)
    for (size_t j = 0; j < BIG_C; j += 3)
      CHECK(bits(MPL_AT(fo, i, j)) == bits(v[j * BIG_R + i]));
  /* the same bytes from memory */
  FILE *f = fopen(path_of("f8.npy"), "rb");
  size_t len = 128 + n * 8;
  unsigned char *file = malloc(len);
  CHECK(f && fread(file, 1, len, f) == len);
  fclose(f);
  mpl_mat *mm;
  CHECK_EQ_INT(mpl_load_mem(&mm, file, len, "npy", NULL, NULL), 0);
  CHECK(memcmp(mpl_mat_data(mm), v, n * 8) == 0);
  free(file);
  CHECK_EQ_INT(count_dir("/proc/self/fd"), fds);
  /* the workers see what was loaded: a product computed by them is exact
  ** (integers, so the order of the sums does not matter) */
  mpl_mat *x, *p;
  CHECK_EQ_INT(mpl_mat_new(&x, BIG_C, 3), 0);
  for (size_t i = 0; i < BIG_C * 3; i++)
    mpl_mat_data(x)[i] = (double)(i % 11) - 5;
  CHECK_EQ_INT(mpl_mat_new(&p, BIG_R, 3), 0);
  mpl__parallel_min_flops = 0;
  CHECK_EQ_INT(mpl_dot(i4, x, p, 2), 0);
  for (size_t i = 0; i < BIG_R; i++)
    for (size_t j = 0; j < 3; j++) {
      int64_t s = 0;
      for (size_t k = 0; k < BIG_C; k++) {
        int32_t a;
        memcpy(&a, raw + (i * BIG_C + k) * 4, 4);
        s += (int64_t)a * ((int64_t)((k * 3 + j) % 11) - 5);
      }
      CHECK(MPL_AT(p, i, j) == (double)s);
    }
  mpl_mat *all[] = {m, be, f4, i4, u1, fo, mm, x, p};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    mpl_mat_release(all[i]);
  CHECK_EQ_INT(arena_blocks(), blocks);
  /* with retention off, the memory goes back too */
  mpl__arena_set_retain(0);
  size_t res = arena_resident();
  m = load_ok("f8.npy");
  CHECK(arena_resident() >= res + n * 8 - 8192);
  mpl_mat_release(m);
  CHECK(arena_resident() <= res);
  free(v);
  free(raw);
  remove_dir();
}

/* Every way filling the arena from a file can fail is an error at load
** time with the file's byte offset or the memory shortage, and leaves the
** arena as it was. */
static void test_npy_fill_errors(void) {
  make_dir();
  size_t n = (size_t)BIG_R * BIG_C;
  double *v = malloc(n * 8);
  for (size_t i = 0; i < n; i++) v[i] = (double)i;
  char shape[64];
  snprintf(shape, sizeof shape, "(%d, %d)", BIG_R, BIG_C);
  write_npy("f8.npy", "<f8", 0, shape, v, n * 8);
  write_npy("f4.npy", "<f4", 0, shape, v, n * 4); /* the bytes do not matter */
  write_npy("short.npy", "<f8", 0, shape, v, n * 8 - 1);
  mpl__arena_set_retain(256 << 20); /* a failed fill is never retained */
  CHECK_EQ_INT(mpl__arena_ensure(), 0);
  size_t blocks = arena_blocks(), res = arena_resident();
  int fds = count_dir("/proc/self/fd");
  mpl_mat *m = (mpl_mat *)1;
  mpl_load_info info;

  /* a file shorter than its header says */
  CHECK_EQ_INT(mpl_load(&m, path_of("short.npy"), NULL, NULL, &info),
               MPL_EFORMAT);
  CHECK(m == NULL && info.offset == 128);
  CHECK(strstr(info.msg, "the data is truncated") != NULL);

  /* the file ends while it is being copied (as when it is truncated
  ** meanwhile): the copy stops there and says how far it got */
  int fd = open(path_of("short.npy"), O_RDONLY);
  CHECK(fd >= 0);
  int err;
  size_t lo, hi;
  double *d = mpl__arena_alloc_unfilled(n * 8, &lo, &hi, &err);
  CHECK(d != NULL);
  CHECK(arena_resident() < res + 3 * 4096); /* only the edge pages */
  CHECK(lo < 4096 && lo % 64 == 0 && hi <= n * 8 && hi + 4096 > n * 8);
  size_t done = 0;
  errno = 0;
  CHECK_EQ_INT(mpl__arena_fill_fd(d, fd, 128, n * 8, &done), MPL_EIO);
  CHECK_EQ_INT(errno, 0);
  CHECK_EQ_INT(done, n * 8 - 1);
  CHECK(memcmp(d, v, n * 8 - 8) == 0);
  /* a read error names errno (a descriptor not open for reading) */
  int wfd = open(path_of("short.npy"), O_WRONLY);
  CHECK_EQ_INT(mpl__arena_fill_fd(d, wfd, 128, 4096, &done), MPL_EIO);
  CHECK(errno == EBADF && done == 0);
  close(wfd);
  close(fd);
  double *above = mpl__arena_alloc(64, 0, &err);
  CHECK(above != NULL);
  size_t res1 = arena_resident();
  mpl__arena_free(d); /* unfilled: punched, not kept */
  CHECK(arena_resident() + n * 8 - 3 * 4096 < res1);
  CHECK_EQ_INT(mpl__arena_retained(), 0);
  mpl__arena_free(above);
  CHECK_EQ_INT(arena_blocks(), blocks);
  CHECK(arena_resident() <= res);

  /* writes into the arena that fail (here: past a file-size limit, as
  ** ENOSPC/ENOMEM would) fail the load, for the spliced and for the
  ** converted dtypes, and give every page back */
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit old, lim;
  CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
  lim = old;
  lim.rlim_cur = 1 << 20;
  CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  const char *names[] = {"f8.npy", "f4.npy"};
  for (int k = 0; k < 2; k++) {
    m = (mpl_mat *)1;
    CHECK_EQ_INT(mpl_load(&m, path_of(names[k]), NULL, NULL, &info),
                 MPL_ENOMEM);
    CHECK(m == NULL);
    CHECK(strstr(info.msg, "not enough memory for a 1031x1027 matrix") != NULL);
    CHECK(strstr(info.msg, strerror(EFBIG)) != NULL);
    CHECK_EQ_INT(arena_blocks(), blocks);
    CHECK(arena_resident() <= res);
    CHECK_EQ_INT(mpl__arena_retained(), 0);
  }
  CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
  /* the same space, used again, holds the right bytes */
  m = load_ok("f8.npy");
  CHECK(memcmp(mpl_mat_data(m), v, n * 8) == 0);
  mpl_mat_release(m);
  CHECK_EQ_INT(count_dir("/proc/self/fd"), fds);
  free(v);
  remove_dir();
}

/* A load into memory that is partly retained from an earlier one reads
** that part into memory and writes only the rest through the descriptor;
** reused memory needs no writing through it at all. */
static void test_npy_reuse(void) {
  make_dir();
  size_t n = (size_t)BIG_R * BIG_C;
  double *v = malloc(n * 8);
  float *w = malloc(n * 4);
  for (size_t i = 0; i < n; i++) {
    v[i] = (double)(int64_t)rnd() / 7.0;
    w[i] = (float)v[i];
  }
  char shape[64];
  snprintf(shape, sizeof shape, "(%d, %d)", BIG_R, BIG_C);
  write_npy("f8.npy", "<f8", 0, shape, v, n * 8);
  write_npy("f4.npy", "<f4", 0, shape, w, n * 4);
  mpl__arena_set_retain(4 << 20); /* half the matrix stays populated */
  for (int r = 0; r < 3; r++) {
    mpl_mat *m = load_ok("f8.npy"), *f = load_ok("f4.npy");
    CHECK(memcmp(mpl_mat_data(m), v, n * 8) == 0);
    for (size_t i = 0; i < n; i++) CHECK(mpl_mat_data(f)[i] == (double)w[i]);
    mpl_mat_release(f);
    mpl_mat_release(m);
    CHECK(mpl__arena_retained() <= 4 << 20);
  }
  int err;
  size_t lo, hi;
  double *d = mpl__arena_alloc_unfilled(n * 8, &lo, &hi, &err);
  CHECK(d != NULL);
  CHECK(lo + 8192 > 4 << 20 && lo < 4 << 20 && hi + 4096 > n * 8);
  /* a kept block (not at the top) comes back whole: nothing to write */
  double *above = mpl__arena_alloc(64, 0, &err);
  CHECK(mpl__arena_write(d, v, n * 8) == 0);
  mpl__arena_filled(d);
  mpl__arena_set_retain(64 << 20);
  mpl__arena_free(d);
  double *again = mpl__arena_alloc_unfilled(n * 8, &lo, &hi, &err);
  CHECK(again == d && lo == 0 && hi == 0);
  mpl__arena_free(again);
  mpl__arena_free(above);
  free(v);
  free(w);
  remove_dir();
}

/* Shared memory mapped into this process (kB), from /proc/self/status. */
static size_t rss_shmem_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  size_t kb = 0;
  CHECK(f != NULL);
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "RssShmem: %zu kB", &kb) == 1) break;
  fclose(f);
  return kb;
}

/* A large fill with two procs has a second thread populate and read the
** end of the matrix (those pages are then mapped here; the ones written
** through the descriptor are not): same bytes as with one. */
static void test_npy_split(void) {
  make_dir();
  size_t rows = 5003, cols = 1001, n = rows * cols; /* 40 MB of doubles */
  double *v = malloc(n * 8);
  float *w = malloc(n * 4);
  for (size_t i = 0; i < n; i++) {
    v[i] = (double)(int64_t)rnd() / 9.0;
    w[i] = (float)v[i];
  }
  write_npy("f8.npy", "<f8", 0, "(5003, 1001)", v, n * 8);
  write_npy("f4.npy", "<f4", 0, "(5003, 1001)", w, n * 4);
  mpl__arena_set_retain(0); /* every load gets fresh memory */
  size_t mapped[2];
  for (int procs = 1; procs <= 2; procs++) {
    CHECK_EQ_INT(mpl_set_procs(procs), 0);
    size_t before = rss_shmem_kb();
    mpl_mat *m = load_ok("f8.npy");
    mapped[procs - 1] = rss_shmem_kb() - before;
    CHECK(memcmp(mpl_mat_data(m), v, n * 8) == 0);
    mpl_mat_release(m);
    m = load_ok("f4.npy");
    for (size_t i = 0; i < n; i++) CHECK(mpl_mat_data(m)[i] == (double)w[i]);
    mpl_mat_release(m);
  }
  CHECK(mapped[0] < 1024); /* edge pages only */
  CHECK(mapped[1] > n * 8 / 4 / 1024 && mapped[1] < n * 8 / 2 / 1024);
  free(v);
  free(w);
  remove_dir();
}

/* An arena too small for the matrix: refused before anything is read. */
static void test_npy_arena_full(void) {
  setenv("MPL_ARENA_SIZE", "64m", 1); /* this test's process only */
  make_dir();
  write_npy("big.npy", "<f8", 0, "(9000, 1000)", "", 0);
  FILE *f = fopen(path_of("big.npy"), "r+b");
  CHECK(f && ftruncate(fileno(f), 128 + 9000 * 1000 * 8) == 0); /* 72 MB */
  fclose(f);
  mpl_mat *m = (mpl_mat *)1;
  mpl_load_info info;
  CHECK_EQ_INT(mpl_load(&m, path_of("big.npy"), NULL, NULL, &info), MPL_ENOMEM);
  CHECK(m == NULL);
  CHECK_STR(info.msg, "not enough memory for a 9000x1000 matrix");
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  CHECK_EQ_INT(st.size, 64 << 20);
  CHECK_EQ_INT(st.blocks, 0);
  /* a matrix that fits loads (the file is sparse: zeros) */
  write_npy("half.npy", "<f8", 0, "(4000, 1000)", "", 0);
  f = fopen(path_of("half.npy"), "r+b");
  CHECK(f && ftruncate(fileno(f), 128 + 4000 * 1000 * 8) == 0);
  fclose(f);
  m = load_ok("half.npy");
  CHECK(mpl_mat_data(m)[0] == 0 && mpl_mat_data(m)[3999999] == 0);
  mpl_mat_release(m);
  remove_dir();
}

/* ---- saving: what is at the path decides how it is written ---- */

static mpl_mat *small_mat(double v) {
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, 1, 2) == 0);
  mpl_mat_data(m)[0] = v;
  mpl_mat_data(m)[1] = v + 1;
  return m;
}

/* The whole content of path (at most 4 KiB), or "" when it cannot be read. */
static const char *content(const char *path) {
  static char buf[4096];
  int fd = open(path, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : 0;
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

/* No ".NAME.mpl-tmp-*" file was left in d. */
static void no_temps(const char *d) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q mpl-tmp", d);
  CHECK(system(cmd) != 0);
}

/* Save v as csv to path; returns the code and keeps errno. */
static int save_v(const char *path, double v) {
  mpl_mat *m = small_mat(v);
  int err = mpl_save(path, m, "csv", 0);
  int e = errno;
  mpl_mat_release(m);
  errno = e;
  return err;
}

static void put_file(const char *path, const char *s, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s));
  CHECK(fchmod(fd, mode) == 0);
  close(fd);
}

static ino_t inode(const char *path) {
  struct stat st;
  CHECK(lstat(path, &st) == 0);
  return st.st_ino;
}

/* A regular file is replaced by a new inode with its mode and owner; a
** symlink's target is replaced and the link stays; a dangling link
** creates its target; hard links are written in place. */
static void test_save_files(void) {
  make_dir();
  char a[300], l[300], h[300], d[300];
  snprintf(a, sizeof a, "%s", path_of("a.csv"));
  snprintf(l, sizeof l, "%s", path_of("l.csv"));
  snprintf(h, sizeof h, "%s", path_of("h.csv"));
  put_file(a, "old\n", 0640);
  uid_t owner = geteuid() == 0 ? 65534 : geteuid();
  if (geteuid() == 0) CHECK(chown(a, owner, 65534) == 0);
  ino_t before = inode(a);
  CHECK_EQ_INT(save_v(a, 1), 0);
  struct stat st;
  CHECK(stat(a, &st) == 0);
  CHECK(st.st_ino != before); /* renamed into place: atomic */
  CHECK_EQ_INT(st.st_mode & 07777, 0640);
  CHECK_EQ_INT(st.st_uid, owner);
  CHECK_STR(content(a), "1,2\n");
  CHECK(symlink("a.csv", l) == 0);
  CHECK_EQ_INT(save_v(l, 3), 0);
  CHECK(lstat(l, &st) == 0 && S_ISLNK(st.st_mode));
  CHECK_STR(content(a), "3,4\n");
  snprintf(d, sizeof d, "%s", path_of("dangling.csv"));
  CHECK(symlink("sub/../made.csv", d) == 0);
  CHECK(mkdir(path_of("sub"), 0755) == 0);
  CHECK_EQ_INT(save_v(d, 5), 0);
  CHECK(lstat(d, &st) == 0 && S_ISLNK(st.st_mode));
  CHECK_STR(content(path_of("made.csv")), "5,6\n");
  CHECK(symlink("loop.csv", path_of("loop.csv")) == 0);
  errno = 0;
  CHECK_EQ_INT(save_v(path_of("loop.csv"), 1), MPL_EIO);
  CHECK_EQ_INT(errno, ELOOP);
  CHECK(link(a, h) == 0);
  before = inode(a);
  CHECK_EQ_INT(save_v(h, 7), 0);
  CHECK(stat(a, &st) == 0);
  CHECK(st.st_ino == before && st.st_nlink == 2); /* in place */
  CHECK_STR(content(a), "7,8\n");
  CHECK_EQ_INT(save_v(h, 123456789), 0); /* longer, then shorter */
  CHECK_EQ_INT(save_v(h, 9), 0);
  CHECK_STR(content(a), "9,10\n");
  CHECK_EQ_INT(save_v(dir, 1), MPL_EIO);
  CHECK_EQ_INT(errno, EISDIR);
  CHECK_EQ_INT(save_v(path_of("none/x.csv"), 1), MPL_EIO);
  CHECK_EQ_INT(errno, ENOENT);
  CHECK(strstr(mpl_errmsg(), "cannot create a file beside it") != NULL);
  no_temps(dir);
  no_temps(path_of("sub"));
  remove_dir();
}

/* /dev/null and a FIFO with a reader are written through, never replaced;
** so is a descriptor named as /dev/fd/N. */
static void test_save_devices(void) {
  struct stat st;
  CHECK_EQ_INT(save_v("/dev/null", 1), 0);
  CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
  make_dir();
  char f[300];
  snprintf(f, sizeof f, "%s", path_of("fifo"));
  CHECK(mkfifo(f, 0600) == 0);
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t r = fork();
  if (r == 0) { /* the reader: copies the FIFO into the pipe */
    close(p[0]);
    int fd = open(f, O_RDONLY);
    char buf[256];
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
      if (write(p[1], buf, (size_t)n) != n) _exit(1);
    _exit(fd >= 0 ? 0 : 1);
  }
  close(p[1]);
  CHECK_EQ_INT(save_v(f, 11), 0);
  char got[64] = {0};
  ssize_t n = 0, k;
  while ((k = read(p[0], got + n, sizeof got - 1 - (size_t)n)) > 0) n += k;
  CHECK_STR(got, "11,12\n");
  int status;
  CHECK(waitpid(r, &status, 0) == r && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0);
  CHECK(lstat(f, &st) == 0 && S_ISFIFO(st.st_mode));
  /* /dev/fd/N writes at the descriptor's offset, after what it has */
  int fd = open(path_of("out.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0 && write(fd, "first\n", 6) == 6);
  char name[64];
  snprintf(name, sizeof name, "/dev/fd/%d", fd);
  CHECK_EQ_INT(save_v(name, 13), 0);
  close(fd);
  CHECK_STR(content(path_of("out.txt")), "first\n13,14\n");
  /* a pipe without a reader: EPIPE, and SIGPIPE does not kill us */
  CHECK(pipe(p) == 0);
  close(p[0]);
  snprintf(name, sizeof name, "/dev/fd/%d", p[1]);
  CHECK_EQ_INT(save_v(name, 1), MPL_EIO);
  CHECK_EQ_INT(errno, EPIPE);
  close(p[1]);
  no_temps(dir);
  remove_dir();
}

/* Run fn as nobody in a child; fails the test if the child fails. */
static void as_nobody(void (*fn)(void)) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0)
      _exit(2);
    fn();
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void nobody_refusals(void) {
  char p[300];
  snprintf(p, sizeof p, "%s", path_of("w/ro.csv"));
  CHECK_EQ_INT(save_v(p, 1), MPL_EIO);
  CHECK_EQ_INT(errno, EACCES);
  CHECK(strstr(mpl_errmsg(), "Permission denied") != NULL);
  CHECK_STR(content(p), "ro\n");
  snprintf(p, sizeof p, "%s", path_of("w/root600.csv"));
  CHECK_EQ_INT(save_v(p, 1), MPL_EIO);
  CHECK_EQ_INT(errno, EACCES);
  /* the directory is root's: neither a new file nor a replacement */
  snprintf(p, sizeof p, "%s", path_of("r/new.csv"));
  CHECK_EQ_INT(save_v(p, 1), MPL_EIO);
  CHECK_EQ_INT(errno, EACCES);
  snprintf(p, sizeof p, "%s", path_of("r/open.csv"));
  CHECK_EQ_INT(save_v(p, 1), MPL_EIO);
  CHECK_EQ_INT(errno, EACCES);
  CHECK_STR(content(p), "open\n");
}

static void nobody_writes(void) {
  char p[300];
  struct stat st;
  /* root's 0666 file: written in place, so root still owns it */
  snprintf(p, sizeof p, "%s", path_of("w/root666.csv"));
  ino_t before = inode(p);
  CHECK_EQ_INT(save_v(p, 1), 0);
  CHECK(stat(p, &st) == 0 && st.st_ino == before && st.st_uid == 0);
  CHECK_STR(content(p), "1,2\n");
  /* one's own 0640 file: replaced, mode kept */
  snprintf(p, sizeof p, "%s", path_of("w/own.csv"));
  before = inode(p);
  CHECK_EQ_INT(save_v(p, 3), 0);
  CHECK(stat(p, &st) == 0 && st.st_ino != before);
  CHECK_EQ_INT(st.st_mode & 07777, 0640);
  CHECK_EQ_INT(st.st_uid, 65534);
  CHECK_STR(content(p), "3,4\n");
  CHECK_EQ_INT(save_v("/dev/null", 1), 0);
  CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
}

/* As root, a 0444 file is written (open(2) lets root); as nobody, what
** open(O_WRONLY) refuses is refused with its reason and left untouched. */
static void test_save_permissions(void) {
  make_dir();
  char p[300];
  snprintf(p, sizeof p, "%s", path_of("ro.csv"));
  put_file(p, "ro\n", 0444);
  if (geteuid() != 0) {
    CHECK_EQ_INT(save_v(p, 1), MPL_EIO);
    CHECK_EQ_INT(errno, EACCES);
    remove_dir();
    return;
  }
  CHECK_EQ_INT(save_v(p, 1), 0);
  struct stat st;
  CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0444);
  CHECK_STR(content(p), "1,2\n");
  CHECK(chmod(dir, 0711) == 0);
  CHECK(mkdir(path_of("w"), 0777) == 0 && chmod(path_of("w"), 0777) == 0);
  CHECK(mkdir(path_of("r"), 0755) == 0);
  snprintf(p, sizeof p, "%s", path_of("w/ro.csv"));
  put_file(p, "ro\n", 0444);
  CHECK(chown(p, 65534, 65534) == 0);
  put_file(path_of("w/root600.csv"), "secret\n", 0600);
  put_file(path_of("w/root666.csv"), "x\n", 0666);
  put_file(path_of("r/open.csv"), "open\n", 0666);
  snprintf(p, sizeof p, "%s", path_of("w/own.csv"));
  put_file(p, "own\n", 0640);
  CHECK(chown(p, 65534, 65534) == 0);
  as_nobody(nobody_refusals);
  as_nobody(nobody_writes);
  CHECK_STR(content(path_of("w/root600.csv")), "secret\n");
  no_temps(path_of("w"));
  no_temps(path_of("r"));
  remove_dir();
}

/* An interrupt stops a save between rows: MPL_EINTR, the old file intact,
** no temporary left.  A thread keeps interrupting until the save returns
** (the save clears requests made before it started). */
static atomic_int saving;
static void *interrupter(void *arg) {
  (void)arg;
  while (atomic_load(&saving)) {
    mpl_interrupt();
    usleep(1000);
  }
  return NULL;
}

static void test_save_interrupted(void) {
  make_dir();
  char p[300];
  snprintf(p, sizeof p, "%s", path_of("big.csv"));
  put_file(p, "old\n", 0644);
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, 200000, 10) == 0); /* ~4 MB of text, >1 ms */
  for (size_t i = 0; i < 2000000; i++)
    mpl_mat_data(m)[i] = 1.0 / (double)(i + 3);
  atomic_store(&saving, 1);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, interrupter, NULL) == 0);
  usleep(5000);
  int err = mpl_save(p, m, NULL, 0);
  atomic_store(&saving, 0);
  pthread_join(t, NULL);
  CHECK_EQ_INT(err, MPL_EINTR);
  CHECK_STR(mpl_errmsg(), "interrupted");
  CHECK_STR(content(p), "old\n");
  no_temps(dir);
  /* the next save is not disturbed by the request */
  CHECK_EQ_INT(mpl_save(path_of("small.npy"), m, NULL, 0), 0);
  mpl_mat_release(m);
  remove_dir();
}

/* N x 0 and 0 x N of any N: .npy and .mtx in O(1), text refused. */
static void test_save_empty_huge(void) {
  make_dir();
  mpl_mat *a, *b;
  CHECK(mpl_mat_new(&a, (size_t)1 << 62, 0) == 0);
  CHECK(mpl_mat_new(&b, 0, (size_t)1 << 62) == 0);
  const char *names[] = {"a.npy", "a.mtx", "b.npy", "b.mtx"};
  for (int i = 0; i < 4; i++) {
    mpl_mat *m = i < 2 ? a : b, *back;
    CHECK_EQ_INT(mpl_save(path_of(names[i]), m, NULL, 0), 0);
    CHECK_EQ_INT(mpl_load(&back, path_of(names[i]), NULL, NULL, NULL), 0);
    CHECK(mpl_mat_rows(back) == mpl_mat_rows(m) &&
          mpl_mat_cols(back) == mpl_mat_cols(m));
    mpl_mat_release(back);
  }
  CHECK_EQ_INT(mpl_save(path_of("a.csv"), a, NULL, 0), MPL_EINVAL);
  CHECK(strstr(mpl_errmsg(), "x0 matrix cannot be saved as text") != NULL);
  CHECK(access(path_of("a.csv"), F_OK) != 0);
  CHECK_EQ_INT(mpl_save(path_of("b.csv"), b, NULL, 0), MPL_EINVAL);
  CHECK(strstr(mpl_errmsg(), "0x4611686018427387904 matrix cannot be saved"));
  CHECK(access(path_of("b.csv"), F_OK) != 0);
  no_temps(dir);
  mpl_mat_release(a);
  mpl_mat_release(b);
  remove_dir();
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A text file truncated while it loads never kills the process (a mapped
** file would raise SIGBUS): the load gives the whole matrix (the
** truncation came after the read), an error, or what a shorter file
** holds.  Truncation points spread over a load timed here first. */
static void test_load_truncated(void) {
  make_dir();
  mpl_mat *m;
  CHECK(mpl_mat_new(&m, 200000, 10) == 0);
  for (size_t i = 0; i < 2000000; i++) mpl_mat_data(m)[i] = (double)i / 7;
  CHECK_EQ_INT(mpl_save(path_of("t.csv"), m, NULL, 0), 0);
  mpl_mat_release(m);
  struct stat st;
  CHECK(stat(path_of("t.csv"), &st) == 0);
  char full[300];
  snprintf(full, sizeof full, "%s", path_of("full.csv"));
  CHECK(link(path_of("t.csv"), full) == 0); /* the bytes, kept */
  double t0 = now_s();
  CHECK_EQ_INT(mpl_load(&m, full, NULL, NULL, NULL), 0);
  double t = now_s() - t0;
  mpl_mat_release(m);
  for (int k = 0; k < 6; k++) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", full, path_of("c.csv"));
    CHECK(system(cmd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
      double at = t * k / 6;
      struct timespec d = {(time_t)at, (long)((at - floor(at)) * 1e9)};
      nanosleep(&d, NULL);
      _exit(truncate(path_of("c.csv"), st.st_size / 3) == 0 ? 0 : 1);
    }
    mpl_load_info info;
    int err = mpl_load(&m, path_of("c.csv"), NULL, NULL, &info);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    if (err == 0) {
      CHECK(mpl_mat_cols(m) == 10 && mpl_mat_rows(m) <= 200000);
      mpl_mat_release(m);
    } else {
      CHECK(err == MPL_EIO || err == MPL_EFORMAT);
      CHECK(info.msg[0] != '\0');
    }
  }
  remove_dir();
}

/* A writer child that fills fd with "1,2\n" until the reader goes (it
** closes other, the read end, if it has one). */
static pid_t endless_writer(int fd, int other) {
  pid_t pid = fork();
  if (pid == 0) {
    if (other >= 0) close(other);
    signal(SIGPIPE, SIG_DFL);
    static char buf[1 << 16];
    for (size_t i = 0; i < sizeof buf; i += 4) memcpy(buf + i, "1,2\n", 4);
    while (write(fd, buf, sizeof buf) > 0) {
    }
    _exit(0);
  }
  close(fd);
  return pid;
}

static atomic_int loading;
static void *load_interrupter(void *arg) {
  (void)arg;
  usleep(200000);
  while (atomic_load(&loading)) {
    mpl_interrupt();
    usleep(1000);
  }
  return NULL;
}

/* Streams: /dev/zero and /dev/urandom are refused at their first bytes
** in every format; an endless FIFO stops on mpl_interrupt(). */
static void test_load_streams(void) {
  const char *fmts[] = {"csv", "txt", "mtx", "npy"};
  const char *devs[] = {"/dev/zero", "/dev/urandom"};
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 2; j++) {
      mpl_mat *m;
      mpl_load_info info;
      CHECK_EQ_INT(mpl_load(&m, devs[j], fmts[i], NULL, &info), MPL_EFORMAT);
      CHECK(strstr(info.msg, i == 3 ? "bad magic" : "NUL byte") != NULL);
      CHECK(info.offset >= 0 && info.offset < (1 << 20));
    }
  make_dir();
  char f[300];
  snprintf(f, sizeof f, "%s", path_of("fifo"));
  CHECK(mkfifo(f, 0600) == 0);
  pid_t w = fork();
  if (w == 0) {
    int fd = open(f, O_WRONLY);
    endless_writer(fd, -1);
    int status;
    wait(&status);
    _exit(0);
  }
  atomic_store(&loading, 1);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, load_interrupter, NULL) == 0);
  mpl_mat *m = NULL;
  mpl_load_info info;
  int err = mpl_load(&m, f, "csv", NULL, &info);
  atomic_store(&loading, 0);
  pthread_join(t, NULL);
  CHECK_EQ_INT(err, MPL_EINTR);
  CHECK_STR(info.msg, "interrupted");
  CHECK(m == NULL);
  int status;
  CHECK(waitpid(w, &status, 0) == w);
  /* a finite stream loads whole */
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t c = fork();
  if (c == 0) {
    close(p[0]);
    for (int i = 0; i < 100000; i++)
      if (write(p[1], "1,2\n", 4) != 4) _exit(1);
    _exit(0);
  }
  close(p[1]);
  char name[64];
  snprintf(name, sizeof name, "/dev/fd/%d", p[0]);
  CHECK_EQ_INT(mpl_load(&m, name, "csv", NULL, &info), 0);
  CHECK_EQ_INT(mpl_mat_rows(m), 100000);
  mpl_mat_release(m);
  close(p[0]);
  CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0);
  /* a .npy stream is read as far as its header says: a valid file
     followed by endless zeros loads */
  mpl_mat *two = small_mat(5);
  CHECK_EQ_INT(mpl_save(path_of("s.npy"), two, NULL, 0), 0);
  mpl_mat_release(two);
  CHECK(pipe(p) == 0);
  c = fork();
  if (c == 0) {
    close(p[0]);
    signal(SIGPIPE, SIG_DFL);
    int fd = open(path_of("s.npy"), O_RDONLY);
    char buf[1 << 16];
    ssize_t k = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    if (k <= 0 || write(p[1], buf, (size_t)k) != k) _exit(1);
    memset(buf, 0, sizeof buf);
    while (write(p[1], buf, sizeof buf) > 0) {
    }
    _exit(0);
  }
  close(p[1]);
  snprintf(name, sizeof name, "/dev/fd/%d", p[0]);
  CHECK_EQ_INT(mpl_load(&m, name, "npy", NULL, &info), 0);
  CHECK(mpl_mat_rows(m) == 1 && mpl_mat_cols(m) == 2);
  CHECK(mpl_mat_data(m)[0] == 5 && mpl_mat_data(m)[1] == 6);
  mpl_mat_release(m);
  close(p[0]);
  CHECK(waitpid(c, &status, 0) == c);
  remove_dir();
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(UNDER_ASAN)
#define UNDER_ASAN 1
#endif

/* An endless stream of valid text is read only while it fits in memory:
** with the address space capped at 512 MiB more than now, the load fails
** with a clear error instead of growing until the OOM killer comes. */
static void test_load_stream_memory(void) {
#ifdef UNDER_ASAN
  printf("# skipped load_stream_memory: RLIMIT_AS and ASan's shadow\n");
#else
  int p[2];
  CHECK(pipe(p) == 0);
  pid_t w = endless_writer(p[1], p[0]);
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  unsigned long vm = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %lu kB", &vm) == 1) break;
  if (f) fclose(f);
  CHECK(vm > 0);
  struct rlimit rl = {(vm << 10) + (512ul << 20), (vm << 10) + (512ul << 20)};
  CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
  char name[64];
  snprintf(name, sizeof name, "/dev/fd/%d", p[0]);
  mpl_mat *m;
  mpl_load_info info;
  CHECK_EQ_INT(mpl_load(&m, name, "csv", NULL, &info), MPL_ENOMEM);
  CHECK(strstr(info.msg, "the stream does not fit in the memory available") !=
        NULL);
  close(p[0]);
  int status;
  CHECK(waitpid(w, &status, 0) == w);
#endif
}

static const ctest tests[] = {
    {"parse_matches_strtod", test_parse_matches_strtod},
    {"parse_long_digits", test_parse_long_digits},
    {"locale_independent", test_locale_independent},
    {"errors_have_location", test_errors_have_location},
    {"header_and_options", test_header_and_options},
    {"load_mem", test_load_mem},
    {"mmap_storage", test_mmap_storage},
    {"mmap_time_flat", test_mmap_time_flat},
    {"parallel_text", test_parallel_text},
    {"npy_large", test_npy_large},
    {"npy_fill_errors", test_npy_fill_errors},
    {"npy_reuse", test_npy_reuse},
    {"npy_split", test_npy_split},
    {"npy_arena_full", test_npy_arena_full},
    {"save_files", test_save_files},
    {"save_devices", test_save_devices},
    {"save_permissions", test_save_permissions},
    {"save_interrupted", test_save_interrupted},
    {"save_empty_huge", test_save_empty_huge},
    {"load_truncated", test_load_truncated},
    {"load_streams", test_load_streams},
    {"load_stream_memory", test_load_stream_memory},
};

CTEST_MAIN(tests, 60)
