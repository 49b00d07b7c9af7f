/*
** npy.c: NumPy's .npy format.
**
** A file is the magic "\x93NUMPY", a major and minor version byte, the
** header length (2 bytes little-endian in version 1.0, 4 bytes in 2.0 and
** 3.0), the header -- a Python dict literal with exactly the keys 'descr',
** 'fortran_order' and 'shape', padded with spaces and a newline -- and the
** raw elements.
**
** DESIGN
** The header is untrusted: its length is capped at 10000 bytes (NumPy's own
** limit) and checked against the file before anything is read; it is parsed by
** a small recursive-descent parser for exactly the subset of Python literals a
** header uses (no eval, no recursion beyond a tuple), and every count that
** follows from it is checked for overflow and against the bytes the file really
** has before a matrix is allocated.  The data then goes from the file into the
** matrix in one pass.  A matrix of FILL_MIN bytes or more is allocated
** unfilled, and the part of it that has no memory yet is written through the
** arena's descriptor (arena.c, FILLING), which spares populating pages that are
** about to be overwritten -- populating, not copying, is what a large load
** spends its time on: native float64 is spliced from the file by the kernel and
** never passes through this process; other dtypes are converted a chunk at a
** time into a buffer that is then written.  The rest, and a smaller matrix, is
** read (or converted through a 64 KB buffer) straight into arena memory.  With
** mpl_procs() > 1 a second thread takes the end of a large fill: it populates
** those pages and reads into them, which the kernel lets run alongside the
** writes, where two writers would take turns.  A Fortran-order array keeps its
** layout: it becomes the transpose view of a contiguous cols x rows block, as
** NumPy keeps it F-ordered, so nothing is shuffled.
**
** Mapping (opts.mmap): only float64 in this machine's byte order can be
** used in place.  The file is mapped MAP_SHARED read-write from offset 0
** (mmap wants a page-aligned offset; the data is at base + header) and the
** storage keeps the descriptor and the data's offset, so worker processes
** can map the same file and see the same bytes; writes reach the file.
**
** Saved files are version 1.0, '<f8' (this machine's order), C order,
** padded so the data starts on a 64-byte boundary as NumPy writes them.
*/
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "files.h"

#define MAX_HEADER 10000
#define MAX_DIMS 64
#define FILL_MIN ((size_t)64 << 10)  /* bytes: fill through the arena fd */
#define FILL_CHUNK ((size_t)32768)   /* doubles converted per write */
#define SPLIT_MIN ((size_t)32 << 20) /* bytes worth a second thread */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE '<'
#else
#define NATIVE '>'
#endif

enum { K_F8, K_F4, K_I8, K_I4, K_U1, K_I1, K_B1, K_F16 };

/* float128 ('<f16') is this machine's long double, padded to 16 bytes:
** x87 extended precision on x86, IEEE quadruple on others that have it. */
#if LDBL_MANT_DIG == 64 || LDBL_MANT_DIG == 113
#define HAVE_F16 1
#endif

typedef struct dtype {
  int kind;
  size_t size;
  int swap;     /* bytes are in the other order */
  char name[5]; /* as written: "<f8" */
} dtype;

/* ---------------------------------------------------------------------- */
/* header                                                                 */
/* ---------------------------------------------------------------------- */

typedef struct hdr {
  const char *s; /* header text (not terminated) */
  size_t n, i;   /* length, position */
  size_t base;   /* file offset of s[0] */
  mpl_load_info *info;
  /* results */
  int has_descr, has_fortran, has_shape;
  dtype dt;
  int fortran;
  size_t ndim;
  uint64_t dims[MAX_DIMS];
} hdr;

static int hfail(hdr *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A header error at the current position. */
static int hfail(hdr *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int err =
      mpl__vfail(h->info, MPL_EFORMAT, 0, (long long)(h->base + h->i), fmt, ap);
  va_end(ap);
  return err;
}

static void hws(hdr *h) {
  while (h->i < h->n && strchr(" \t\n\r\f\v", h->s[h->i]) && h->s[h->i]) h->i++;
}

static int hpeek(hdr *h) {
  hws(h);
  return h->i < h->n ? (unsigned char)h->s[h->i] : -1;
}

/* Consume c (after whitespace) or fail with "expected <what>". */
static int hexpect(hdr *h, char c, const char *what) {
  if (hpeek(h) != (unsigned char)c) return hfail(h, "expected %s", what);
  h->i++;
  return 0;
}

/* A quoted string without escapes: [*s, *s + *n). */
static int hstring(hdr *h, const char **s, size_t *n, const char *what) {
  int q = hpeek(h);
  if (q != '\'' && q != '"')
    return hfail(h, "expected %s (a quoted string)", what);
  size_t b = ++h->i;
  while (h->i < h->n && h->s[h->i] != q) {
    if (h->s[h->i] == '\n') return hfail(h, "unterminated string in %s", what);
    if (h->s[h->i] == '\\')
      return hfail(h, "escapes are not supported in %s", what);
    h->i++;
  }
  if (h->i >= h->n) return hfail(h, "unterminated string in %s", what);
  *s = h->s + b;
  *n = h->i - b;
  h->i++;
  return 0;
}

static int is_order(char c) {
  return c == '<' || c == '>' || c == '|' || c == '=';
}

static int parse_descr(hdr *h) {
  const char *s;
  size_t n;
  char q[200];
  if (hpeek(h) == '[')
    return hfail(h, "structured dtypes (a list descr) are not supported");
  size_t at = h->i;
  int err = hstring(h, &s, &n, "the descr");
  if (err) return err;
  size_t after = h->i;
  h->i = at; /* report problems at the descr itself */
  mpl__quote(q, s, n);
  if (n >= 2 && is_order(s[0]) && (s[1] == 'O' || s[1] == 'o'))
    return hfail(h, "object arrays (descr %s) cannot be loaded", q);
  if (n >= 2 && is_order(s[0]) && s[1] == 'c')
    return hfail(h, "complex dtype %s is not supported", q);
#ifdef HAVE_F16
  if (n == 4 && is_order(s[0]) && s[0] != '|' && memcmp(s + 1, "f16", 3) == 0) {
    h->dt.kind = K_F16;
    h->dt.size = 16;
    h->dt.swap = s[0] != '=' && s[0] != NATIVE;
    memcpy(h->dt.name, s, 4);
    h->dt.name[4] = '\0';
    h->i = after;
    return 0;
  }
#endif
  if (n != 3 || !is_order(s[0]))
    return hfail(h,
                 "unsupported dtype %s (supported: float64, float32, "
                 "int64, int32, uint8, int8, bool, float128)",
                 q);
  static const struct {
    char k, sz;
    int kind;
  } kinds[] = {{'f', '8', K_F8}, {'f', '4', K_F4}, {'i', '8', K_I8},
               {'i', '4', K_I4}, {'u', '1', K_U1}, {'i', '1', K_I1},
               {'b', '1', K_B1}};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    if (s[1] != kinds[k].k || s[2] != kinds[k].sz) continue;
    size_t size = (size_t)(s[2] - '0');
    if (size > 1 && s[0] == '|')
      return hfail(h, "dtype %s has no byte order", q);
    h->dt.kind = kinds[k].kind;
    h->dt.size = size;
    h->dt.swap = size > 1 && s[0] != '=' && s[0] != NATIVE;
    memcpy(h->dt.name, s, 3);
    h->dt.name[3] = '\0';
    h->i = after;
    return 0;
  }
  return hfail(h,
               "unsupported dtype %s (supported: float64, float32, int64, "
               "int32, uint8, int8, bool)",
               q);
}

static int parse_fortran(hdr *h) {
  hws(h);
  if (h->n - h->i >= 4 && memcmp(h->s + h->i, "True", 4) == 0) {
    h->fortran = 1;
    h->i += 4;
    return 0;
  }
  if (h->n - h->i >= 5 && memcmp(h->s + h->i, "False", 5) == 0) {
    h->fortran = 0;
    h->i += 5;
    return 0;
  }
  return hfail(h, "fortran_order must be True or False");
}

/* A tuple of non-negative integers (Python 2's 10L spelling accepted). */
static int parse_shape(hdr *h) {
  if (hpeek(h) != '(') return hfail(h, "shape must be a tuple of integers");
  h->i++;
  size_t count = 0;
  int comma = 0; /* the last item was followed by a comma */
  for (;;) {
    int c = hpeek(h);
    if (c == ')') {
      if (count == 1 && !comma)
        return hfail(h, "shape must be a tuple (a 1-tuple is written (n,))");
      h->i++;
      break;
    }
    if (count && !comma) return hfail(h, "expected ',' or ')' in the shape");
    if (c == '-') return hfail(h, "negative dimension in the shape");
    if (c < '0' || c > '9') return hfail(h, "dimensions must be integers");
    uint64_t v = 0;
    size_t at = h->i;
    while (h->i < h->n && h->s[h->i] >= '0' && h->s[h->i] <= '9') {
      unsigned d = (unsigned)(h->s[h->i] - '0');
      if (v > (UINT64_MAX - d) / 10) {
        h->i = at;
        return hfail(h, "dimension too large");
      }
      v = v * 10 + d;
      h->i++;
    }
    if (h->i < h->n && (h->s[h->i] == '.' || h->s[h->i] == 'e' ||
                        h->s[h->i] == 'E' || h->s[h->i] == 'j')) {
      h->i = at;
      return hfail(h, "dimensions must be integers");
    }
    if (h->i < h->n && h->s[h->i] == 'L') h->i++;
    if (count < MAX_DIMS) h->dims[count] = v;
    count++;
    comma = hpeek(h) == ',';
    if (comma) h->i++;
  }
  h->ndim = count;
  return 0;
}

/* The dict: exactly descr, fortran_order and shape, each once. */
static int parse_header(hdr *h) {
  int err;
  char q[200];
  if (hpeek(h) != '{') return hfail(h, "the header is not a dict");
  h->i++;
  for (;;) {
    if (hpeek(h) == '}') {
      h->i++;
      break;
    }
    const char *k;
    size_t kn, at = h->i;
    if ((err = hstring(h, &k, &kn, "a key")) != 0) return err;
    int *seen;
    if (kn == 5 && !memcmp(k, "descr", 5))
      seen = &h->has_descr;
    else if (kn == 13 && !memcmp(k, "fortran_order", 13))
      seen = &h->has_fortran;
    else if (kn == 5 && !memcmp(k, "shape", 5))
      seen = &h->has_shape;
    else {
      h->i = at;
      return hfail(h,
                   "unexpected key %s (a header has 'descr', "
                   "'fortran_order' and 'shape')",
                   mpl__quote(q, k, kn));
    }
    if (*seen) {
      h->i = at;
      return hfail(h, "duplicate key %s", mpl__quote(q, k, kn));
    }
    *seen = 1;
    if ((err = hexpect(h, ':', "':' after a key")) != 0) return err;
    hws(h);
    if (seen == &h->has_descr)
      err = parse_descr(h);
    else if (seen == &h->has_fortran)
      err = parse_fortran(h);
    else
      err = parse_shape(h);
    if (err) return err;
    int c = hpeek(h);
    if (c == ',')
      h->i++;
    else if (c != '}')
      return hfail(h, "expected ',' or '}' in the header");
  }
  if (hpeek(h) != -1) return hfail(h, "unexpected text after the header dict");
  const char *missing = !h->has_descr     ? "descr"
                        : !h->has_fortran ? "fortran_order"
                        : !h->has_shape   ? "shape"
                                          : NULL;
  if (missing) return hfail(h, "the header has no '%s' key", missing);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* data                                                                   */
/* ---------------------------------------------------------------------- */

/* n bytes at offset off of src into dst; MPL_EIO or a short-file error. */
static int read_at(const mpl__src *src, size_t off, void *dst, size_t n,
                   mpl_load_info *info) {
  if (src->mem) {
    memcpy(dst, src->mem + off, n);
    return 0;
  }
  char *d = dst;
  while (n) {
    mpl__io_tick(off, src->size);
    ssize_t k = pread(src->fd, d, n > ((size_t)1 << 26) ? (size_t)1 << 26 : n,
                      (off_t)off); /* 64 MiB at a time, for the hook */
    if (k < 0 && errno == EINTR) continue;
    if (k < 0)
      return mpl__fail(info, MPL_EIO, 0, (long long)off, "read error: %s",
                       strerror(errno));
    if (k == 0)
      return mpl__fail(info, MPL_EFORMAT, 0, (long long)off,
                       "the file ended while being read (was it truncated?)");
    d += k;
    off += (size_t)k;
    n -= (size_t)k;
  }
  return 0;
}

static uint64_t load_u64(const unsigned char *p, size_t size, int swap) {
  uint64_t v = 0;
  if (size == 8) {
    memcpy(&v, p, 8);
    if (swap) v = __builtin_bswap64(v);
  } else if (size == 4) {
    uint32_t w;
    memcpy(&w, p, 4);
    v = swap ? __builtin_bswap32(w) : w;
  } else {
    v = p[0];
  }
  return v;
}

#ifdef HAVE_F16
/* n float128 values at src to doubles; returns the index of the first
** finite one too large for a double, or n. */
static size_t convert_f16(const dtype *dt, const unsigned char *src,
                          double *dst, size_t n) {
  for (size_t k = 0; k < n; k++, src += 16) {
    unsigned char b[16];
    for (int i = 0; i < 16; i++) b[i] = dt->swap ? src[15 - i] : src[i];
    long double x = 0;
    memcpy(&x, b, LDBL_MANT_DIG == 64 ? 10 : 16);
    dst[k] = (double)x;
    if (isinf(dst[k]) && !isinf(x)) return k;
  }
  return n;
}
#endif

/* The value of an element of kind k (not float128) whose bits, in
** native order, are b. */
static double value_of(int k, uint64_t b) {
  if (k == K_F8) {
    double d;
    memcpy(&d, &b, 8);
    return d;
  }
  if (k == K_F4) {
    uint32_t w = (uint32_t)b;
    float f;
    memcpy(&f, &w, 4);
    return f;
  }
  return k == K_I8   ? (double)(int64_t)b
         : k == K_I4 ? (double)(int32_t)(uint32_t)b
         : k == K_U1 ? (double)(uint8_t)b
         : k == K_I1 ? (double)(int8_t)(uint8_t)b
                     : (double)(b != 0); /* bool */
}

/* Convert n elements of dtype dt at src to doubles at dst; returns the
** index of the first that does not fit a double (float128), or n. */
static size_t convert(const dtype *dt, const unsigned char *src, double *dst,
                      size_t n) {
  if (dt->kind == K_F8 && !dt->swap) {
    memcpy(dst, src, n * 8);
    return n;
  }
#ifdef HAVE_F16
  if (dt->kind == K_F16) return convert_f16(dt, src, dst, n);
#endif
  for (size_t k = 0; k < n; k++, src += dt->size) {
    dst[k] = value_of(dt->kind, load_u64(src, dt->size, dt->swap));
  }
  return n;
}

/* The error of a float128 value at byte off that a double cannot hold. */
static int too_large(mpl_load_info *info, size_t off) {
  return mpl__fail(info, MPL_EFORMAT, 0, (long long)off,
                   "a float128 value is too large for a double (more than "
                   "1.8e308)");
}

/* Fill the contiguous n doubles at dst from the data at off. */
static int read_data(const mpl__src *src, const dtype *dt, size_t off,
                     double *dst, size_t n, mpl_load_info *info) {
  if (!n) return 0;
  if (src->mem) {
    size_t bad = convert(dt, src->mem + off, dst, n);
    return bad == n ? 0 : too_large(info, off + bad * dt->size);
  }
  if (dt->kind == K_F8 && !dt->swap) return read_at(src, off, dst, n * 8, info);
  enum { CHUNK = 65536 };
  unsigned char *buf = malloc(CHUNK);
  if (!buf) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  size_t per = CHUNK / dt->size;
  int err = 0;
  while (n && !err) {
    size_t k = n < per ? n : per;
    err = read_at(src, off, buf, k * dt->size, info);
    size_t bad = err ? k : convert(dt, buf, dst, k);
    if (bad != k) err = too_large(info, off + bad * dt->size);
    off += k * dt->size;
    dst += k;
    n -= k;
  }
  free(buf);
  return err;
}

/* The failure of a write into the arena (errno set by it). */
static int fill_nomem(mpl_load_info *info, size_t rows, size_t cols) {
  return mpl__fail(info, MPL_ENOMEM, 0, -1,
                   "not enough memory for a %zux%zu matrix (%s)", rows, cols,
                   strerror(errno));
}

/* Fill the n doubles of the unfilled arena block dst (a rows x cols
** matrix) from the data at off, writing only through the arena's
** descriptor: spliced from the file for native float64, else converted a
** chunk at a time. */
static int fill_data(const mpl__src *src, const dtype *dt, size_t off,
                     double *dst, size_t n, size_t rows, size_t cols,
                     mpl_load_info *info) {
  int native = dt->kind == K_F8 && !dt->swap;
  if (!n) return 0;
  if (native && !src->mem) {
    size_t done;
    int rc = mpl__arena_fill_fd(dst, src->fd, off, n * 8, &done);
    if (rc == MPL_ENOMEM) return fill_nomem(info, rows, cols);
    if (rc == MPL_EIO && errno)
      return mpl__fail(info, MPL_EIO, 0, (long long)(off + done),
                       "read error: %s", strerror(errno));
    if (rc == MPL_EIO)
      return mpl__fail(info, MPL_EFORMAT, 0, (long long)(off + done),
                       "the file ended while being read (was it truncated?)");
    if (rc != MPL_ESYS) return 0;
    /* the file cannot be spliced: copy it below, as from memory */
  }
  unsigned char *in = src->mem ? NULL : malloc(FILL_CHUNK * dt->size);
  double *out = native ? NULL : malloc(FILL_CHUNK * sizeof(double));
  int err = 0;
  if ((!src->mem && !in) || (!native && !out))
    err = mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  while (n && !err) {
    size_t k = n < FILL_CHUNK ? n : FILL_CHUNK;
    const unsigned char *p = src->mem ? src->mem + off : in;
    if (!src->mem) err = read_at(src, off, in, k * dt->size, info);
    if (err) break;
    size_t bad = native ? k : convert(dt, p, out, k);
    if (bad != k) {
      err = too_large(info, off + bad * dt->size);
      break;
    }
    if (mpl__arena_write(dst, native ? (const void *)p : out, k * 8) != 0)
      err = fill_nomem(info, rows, cols);
    off += k * dt->size;
    dst += k;
    n -= k;
  }
  free(in);
  free(out);
  return err;
}

/* A part of a large fill: n elements at dst from the data at off (see
** load_data).  The head first reads `pre` elements (reused memory) and
** then writes the rest through the arena's descriptor; the tail, in a
** second thread, populates its pages and reads into them, since page
** faults, unlike writes into the arena's file, run alongside the writes
** of the head. */
typedef struct fill_part {
  const mpl__src *src;
  const dtype *dt;
  size_t off;
  double *dst;
  size_t pre, n, rows, cols;
  mpl_load_info info;
  int err;
} fill_part;

/* Task 0 of mpl__par_tasks is the head, task 1 the tail. */
static void run_part(void *parts, size_t k) {
  fill_part *j = (fill_part *)parts + k;
  size_t p = j->pre;
  if (k == 0) {
    j->err = read_data(j->src, j->dt, j->off, j->dst, p, &j->info);
    if (!j->err)
      j->err = fill_data(j->src, j->dt, j->off + p * j->dt->size, j->dst + p,
                         j->n, j->rows, j->cols, &j->info);
  } else if (mpl__arena_populate(j->dst, j->n * 8) != 0)
    j->err = fill_nomem(&j->info, j->rows, j->cols);
  else
    j->err = read_data(j->src, j->dt, j->off, j->dst, j->n, &j->info);
}

/* Read elements [0, e0) of d (reused memory) and fill [e0, e1) (no
** memory behind them yet): with a second core, a thread populates and
** reads the last 36% of [e0, e1) meanwhile (the kernel serializes writes
** into one file, not page faults): that costs about 1.75 times as much a
** page as writing, so both end together.  The error reported is the
** first in the file. */
static int fill_range(const mpl__src *src, const dtype *dt, size_t off,
                      double *d, size_t e0, size_t e1, size_t rows, size_t cols,
                      mpl_load_info *info) {
  size_t lo = e0 * 8, hi = e1 * 8, em = e1;
  if (hi - lo >= SPLIT_MIN && mpl_procs() > 1) {
    size_t step = mpl__page_size();
    em = (lo + (hi - lo) / 25 * 16 / step * step) / 8;
  }
  fill_part head = {.src = src,
                    .dt = dt,
                    .off = off,
                    .dst = d,
                    .pre = e0,
                    .n = em - e0,
                    .rows = rows,
                    .cols = cols,
                    .info = {NULL, 0, -1, ""}};
  fill_part part[2] = {head, head};
  part[1].off = off + em * dt->size;
  part[1].dst = d + em;
  part[1].pre = 0;
  part[1].n = e1 - em;
  mpl__par_tasks(em < e1 ? 2 : 1, run_part, part);
  for (int k = 0; k < 2; k++) {
    if (!part[k].err) continue;
    info->line = part[k].info.line;
    info->offset = part[k].info.offset;
    memcpy(info->msg, part[k].info.msg, sizeof info->msg);
    return part[k].err;
  }
  return 0;
}

/* A new contiguous matrix holding the data at off, rows x cols (cols x
** rows when colmajor; messages name the array's own shape): written
** through the arena's descriptor when large (see DESIGN), else read into
** memory. */
static int load_data(const mpl__src *src, const dtype *dt, size_t off,
                     size_t rows, size_t cols, int colmajor, size_t mbytes,
                     mpl_mat **out, mpl_load_info *info) {
  int err;
  size_t r = colmajor ? cols : rows, c = colmajor ? rows : cols;
  if (mbytes < FILL_MIN) {
    mpl_mat *m;
    if ((err = mpl__mat_alloc(&m, r, c)) != 0)
      return mpl__fail(info, err, 0, -1,
                       "not enough memory for a %zux%zu matrix", rows, cols);
    err = read_data(src, dt, off, m->data, rows * cols, info);
    if (err) {
      mpl_mat_release(m);
      return err;
    }
    *out = m;
    return 0;
  }
  size_t lo, hi;
  double *d = mpl__arena_alloc_unfilled(mbytes, &lo, &hi, &err);
  if (!d)
    return mpl__fail(info, err, 0, -1, "not enough memory for a %zux%zu matrix",
                     rows, cols);
  /* elements [e0, e1) have no memory yet; the others (reused memory) are
  ** read into memory, which is cheaper there */
  size_t n = rows * cols, e1 = hi / 8;
  err = fill_range(src, dt, off, d, lo / 8, e1, rows, cols, info);
  if (!err) err = read_data(src, dt, off + e1 * dt->size, d + e1, n - e1, info);
  if (!err) {
    mpl__arena_filled(d);
    err = mpl__mat_external(out, d, mbytes, r, c, (ptrdiff_t)c, 1, NULL, NULL,
                            -1, 0);
    if (err) mpl__fail(info, err, 0, -1, "out of memory");
  }
  if (err) mpl__arena_free(d);
  return err;
}

/* Release callback of a mapped matrix: unmap, close the descriptor. */
static void unmap_storage(mpl__storage *st) {
  munmap((char *)st->base - st->fd_off, st->fd_off + st->bytes);
  close(st->fd);
}

/* The fixed preamble (magic, version, header length), checked against the
** file's size: its header starts at *hoff and is *hlen bytes long. */
static int read_preamble(const mpl__src *src, mpl_load_info *info, size_t *hoff,
                         size_t *hlen) {
  unsigned char pre[12];
  size_t size = src->size;
  int err;
  if (size < 6 || ((err = read_at(src, 0, pre, 6, info)) == 0 &&
                   memcmp(pre, "\x93NUMPY", 6) != 0))
    return mpl__fail(info, MPL_EFORMAT, 0, 0, "not a .npy file (bad magic)");
  if (err) return err;
  if (size < 8)
    return mpl__fail(info, MPL_EFORMAT, 0, 6, "the file ends in the header");
  if ((err = read_at(src, 6, pre + 6, 2, info)) != 0) return err;
  if (pre[6] < 1 || pre[6] > 3 || pre[7] != 0)
    return mpl__fail(info, MPL_EFORMAT, 0, 6,
                     "unsupported .npy version %u.%u (1.0, 2.0 and 3.0 are)",
                     pre[6], pre[7]);
  size_t lenbytes = pre[6] == 1 ? 2 : 4;
  *hoff = 8 + lenbytes;
  if (size < *hoff)
    return mpl__fail(info, MPL_EFORMAT, 0, 8, "the file ends in the header");
  if ((err = read_at(src, 8, pre + 8, lenbytes, info)) != 0) return err;
  *hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
  if (lenbytes == 4) *hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  if (*hlen > MAX_HEADER)
    return mpl__fail(info, MPL_EFORMAT, 0, 8,
                     "header length %zu is more than %d (NumPy's limit)", *hlen,
                     MAX_HEADER);
  if (*hlen > size - *hoff)
    return mpl__fail(info, MPL_EFORMAT, 0, 8,
                     "header length %zu runs past the end of the file (%zu "
                     "bytes)",
                     *hlen, size);
  return 0;
}

/* The header's shape as rows x cols, and as NumPy writes it (for errors);
** more than two dimensions is an error that shows the shape. */
static int npy_shape(const hdr *h, size_t *rows, size_t *cols, char shape[80]) {
  *rows = 1;
  *cols = 1;
  if (h->ndim > 2) {
    int k = snprintf(shape, 80, "(%llu", (unsigned long long)h->dims[0]);
    for (size_t d = 1; d < h->ndim && d < MAX_DIMS && k < 60; d++)
      k += snprintf(shape + k, 80 - (size_t)k, ", %llu",
                    (unsigned long long)h->dims[d]);
    snprintf(shape + k, 80 - (size_t)k, "%s)",
             h->ndim > MAX_DIMS || k >= 60 ? ", ..." : "");
    return mpl__fail(h->info, MPL_EFORMAT, 0, (long long)h->base,
                     "%zu-dimensional arrays are not supported (shape %s)",
                     h->ndim, shape);
  }
  if (h->ndim == 1) *cols = (size_t)h->dims[0];
  if (h->ndim == 2) {
    *rows = (size_t)h->dims[0];
    *cols = (size_t)h->dims[1];
  }
  if (h->ndim == 0)
    snprintf(shape, 80, "()");
  else if (h->ndim == 1)
    snprintf(shape, 80, "(%zu,)", *cols);
  else
    snprintf(shape, 80, "(%zu, %zu)", *rows, *cols);
  return 0;
}

/* The mmap option: the matrix is the file's own float64 data, mapped
** shared, so only native float64 at an aligned offset qualifies. */
static int map_data(const mpl__src *src, const hdr *h, size_t doff,
                    size_t dbytes, size_t rows, size_t cols, int colmajor,
                    mpl_mat **out) {
  mpl_load_info *info = h->info;
  if (h->dt.kind != K_F8 || h->dt.swap)
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "the mmap option needs float64 in this machine's byte "
                     "order "
                     "('%cf8'); the file holds '%s' (load it without mmap "
                     "to convert it)",
                     NATIVE, h->dt.name);
  if (doff % sizeof(double))
    return mpl__fail(info, MPL_EINVAL, 0, (long long)doff,
                     "the mmap option needs the data 8-byte aligned; it "
                     "starts at "
                     "byte %zu",
                     doff);
  void *p =
      mmap(NULL, doff + dbytes, PROT_READ | PROT_WRITE, MAP_SHARED, src->fd, 0);
  if (p == MAP_FAILED)
    return mpl__fail(info, errno == ENOMEM ? MPL_ENOMEM : MPL_ESYS, 0, -1,
                     "cannot map the file: %s", strerror(errno));
  double *base = (double *)((char *)p + doff);
  int err = mpl__mat_external(
      out, base, dbytes, rows, cols, colmajor ? 1 : (ptrdiff_t)cols,
      colmajor ? (ptrdiff_t)rows : 1, unmap_storage, NULL, src->fd, doff);
  if (err) {
    munmap(p, doff + dbytes);
    return mpl__fail(info, err, 0, -1, "out of memory");
  }
  return 0;
}

/* Without mmap: the data converted into a new matrix, transposed when the
** file holds it column by column. */
static int copy_data(const mpl__src *src, const hdr *h, size_t doff,
                     size_t rows, size_t cols, int colmajor, size_t mbytes,
                     mpl_mat **out) {
  mpl_mat *m;
  int err =
      load_data(src, &h->dt, doff, rows, cols, colmajor, mbytes, &m, h->info);
  if (err) return err;
  if (colmajor) {
    mpl_mat *t;
    err = mpl_mat_transpose(&t, m);
    mpl_mat_release(m);
    m = t;
    if (err) mpl__fail(h->info, err, 0, -1, "out of memory");
  }
  if (err) {
    mpl_mat_release(m);
    return err;
  }
  *out = m;
  return 0;
}

/* Preamble, header, shape and sizes (each checked before anything is
** allocated), then the data mapped or copied. */
int mpl__npy_read(const mpl__src *src, int map, mpl_mat **out,
                  mpl_load_info *info) {
  size_t size = src->size, hoff = 0, hlen = 0;
  *out = NULL;
  int err = read_preamble(src, info, &hoff, &hlen);
  if (err) return err;
  char text[MAX_HEADER];
  if ((err = read_at(src, hoff, text, hlen, info)) != 0) return err;
  hdr h;
  memset(&h, 0, sizeof h);
  h.s = text;
  h.n = hlen;
  h.base = hoff;
  h.info = info;
  if ((err = parse_header(&h)) != 0) return err;
  char shape[80];
  size_t rows, cols, n, dbytes, mbytes;
  if ((err = npy_shape(&h, &rows, &cols, shape)) != 0) return err;
  if (__builtin_mul_overflow(rows, cols, &n) ||
      __builtin_mul_overflow(n, h.dt.size, &dbytes) ||
      mpl__mat_bytes(rows, cols, &mbytes))
    return mpl__fail(info, MPL_EFORMAT, 0, (long long)hoff,
                     "shape %s is too large (its byte count overflows)", shape);
  size_t doff = hoff + hlen;
  if (src->need) {
    *src->need = doff + dbytes;
    return 0;
  }
  if (dbytes > size - doff)
    return mpl__fail(info, MPL_EFORMAT, 0, (long long)doff,
                     "the data is truncated: shape %s of '%s' needs %zu bytes, "
                     "the file has %zu after the header",
                     shape, h.dt.name, dbytes, size - doff);
  int colmajor = h.fortran && rows > 1 && cols > 1;
  if (map) return map_data(src, &h, doff, dbytes, rows, cols, colmajor, out);
  return copy_data(src, &h, doff, rows, cols, colmajor, mbytes, out);
}

/* ---------------------------------------------------------------------- */
/* writing                                                                */
/* ---------------------------------------------------------------------- */

size_t mpl__npy_header(unsigned char out[MPL__NPY_HEADER_MAX], size_t rows,
                       size_t cols) {
  char dict[160];
  int n = snprintf(dict, sizeof dict,
                   "{'descr': '%cf8', 'fortran_order': False, 'shape': (%zu, "
                   "%zu), }",
                   NATIVE, rows, cols);
  size_t total = 10 + (size_t)n + 1; /* magic, version, length, dict, \n */
  size_t pad = (64 - total % 64) % 64;
  size_t hlen = (size_t)n + pad + 1;
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  memcpy(out, pre, 10);
  memcpy(out + 10, dict, (size_t)n);
  memset(out + 10 + n, ' ', pad);
  out[10 + hlen - 1] = '\n';
  return 10 + hlen;
}

int mpl__npy_write(FILE *f, const mpl_mat *m) {
  unsigned char h[MPL__NPY_HEADER_MAX];
  size_t hn = mpl__npy_header(h, m->rows, m->cols);
  if (fwrite(h, 1, hn, f) != hn) return MPL_EIO;
  for (size_t i = 0; i < m->rows && m->cols; i++) { /* N x 0: no data */
    if (mpl__interrupt_pending()) return MPL_EINTR;
    if ((i & 63) == 0) mpl__io_tick(i, m->rows);
    const double *row = &m->data[(ptrdiff_t)i * m->rs];
    if (m->cs == 1) {
      if (fwrite(row, sizeof(double), m->cols, f) != m->cols) return MPL_EIO;
    } else {
      for (size_t j = 0; j < m->cols; j++)
        if (fwrite(&row[(ptrdiff_t)j * m->cs], sizeof(double), 1, f) != 1)
          return MPL_EIO;
    }
  }
  return 0;
}
