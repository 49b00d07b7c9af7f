/*
** csv.c: delimited text (.csv, .tsv, .txt) and the number parser that the
** text formats share.
**
** DESIGN
** Reading.  The whole file is in memory (files.c maps it).  A first pass
** finds the data rows (memchr to each line end, a look at the line's first
** non-blank byte) and counts the first row's fields.  Then the matrix is
** allocated once, at its exact size, in the shared arena, and a second
** pass parses the numbers straight into it: no growing buffer, no second
** copy of the data, linear time.  Before allocating, rows * cols is checked
** against the file size -- a well-formed row of c fields takes at least 2c
** bytes -- so a first line of a million fields followed by a million short
** lines cannot make us reserve terabytes; such a file is instead parsed
** without a destination, only to find and name its first bad line.
** Files of several megabytes are cut, in the first pass, into segments of
** about equal bytes that start on data lines (with their line and row
** numbers), and parsed by mpl_procs() threads at once, each writing its
** own rows; the error reported is still the first in the file.
**
** Numbers.  Not strtod: it depends on the C locale a host may have set, and
** it needs a terminated string, which a mapped file is not.  Up to 19
** significant digits are gathered into an integer w with a decimal
** exponent e.  Clinger's fast path: when w <= 2^53 and |e| <= 22, w and
** 10^|e| are exact doubles and one multiplication or division rounds
** correctly.  On x86 a second fast path uses the 64-bit mantissa of long
** double, where w and 10^|e| for |e| <= 27 (5^27 < 2^63) are exact: one
** rounding to 64 bits leaves the result within half a long-double ulp of
** the true value, so the rounding to 53 bits that follows is the correct
** one unless the 11 dropped bits read exactly 10000000000 (a result on a
** halfway point, where the truth may lie on either side).  Everything else
** -- more than 19 significant digits, larger exponents, that halfway case
** -- is rewritten as a short canonical string "0.DIGITSeN" (at most 800
** significant digits, which decide the rounding of any double, then a
** sticky 1 if nonzero digits were cut) and given to strtod_l in a C
** locale_t.  So a %.17g round trip is exact, and a 10 MB run of digits
** costs one linear scan.
*/
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

#define MAX_SIG 19      /* significant digits that always fit a uint64 */
#define SLOW_DIGITS 800 /* enough to decide the rounding of any double */

#if (defined(__x86_64__) || defined(__i386__)) && LDBL_MANT_DIG == 64
#define HAVE_X87_LDBL 1
#endif

static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#ifdef HAVE_X87_LDBL
static const long double p10l[] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
#endif

static int is_digit(char c) { return (unsigned)(c - '0') < 10u; }

/* ASCII-only case-insensitive prefix test (strncasecmp follows the locale,
** and a Turkish one does not fold 'I' to 'i'). */
static int prefix_ci(const char *s, const char *end, const char *word) {
  for (; *word; s++, word++) {
    if (s >= end) return 0;
    char c = *s;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != *word) return 0;
  }
  return 1;
}

/* inf, infinity or nan (any case) at p, or NULL. */
static const char *special(const char *p, const char *end, int neg,
                           double *out) {
  if (prefix_ci(p, end, "nan")) {
    *out = neg ? -NAN : NAN;
    return p + 3;
  }
  if (prefix_ci(p, end, "inf")) {
    *out = neg ? -INFINITY : INFINITY;
    return prefix_ci(p, end, "infinity") ? p + 8 : p + 3;
  }
  return NULL;
}

/* The correctly rounded magnitude of the decimal number at s..end (syntax
** already checked: digits, an optional point, an optional exponent),
** through the canonical string described in the header. */
static double slow_num(const char *s, const char *end, locale_t loc) {
  char buf[SLOW_DIGITS + 48];
  char *dig = buf + 2;
  size_t nd = 0;
  int64_t point = 0; /* value = 0.DIGITS * 10^point */
  int seen_point = 0, sticky = 0;
  const char *p = s;
  memcpy(buf, "0.", 2);
  for (; p < end; p++) {
    char c = *p;
    if (c == '.') {
      seen_point = 1;
      continue;
    }
    if (!is_digit(c)) break;
    if (nd == 0 && c == '0') { /* a leading zero */
      if (seen_point) point--;
      continue;
    }
    if (!seen_point) point++;
    if (nd < SLOW_DIGITS)
      dig[nd++] = c;
    else if (c != '0')
      sticky = 1;
  }
  if (nd == 0) return 0.0;
  if (sticky) dig[nd++] = '1';
  if (p < end && (*p == 'e' || *p == 'E')) {
    int neg = 0;
    int64_t ex = 0;
    p++;
    if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
    for (; p < end && is_digit(*p); p++)
      if (ex < 1000000000) ex = ex * 10 + (*p - '0');
    point += neg ? -ex : ex;
  }
  if (point > 100000) point = 100000; /* inf and 0 either way */
  if (point < -100000) point = -100000;
  snprintf(dig + nd, sizeof buf - 2 - nd, "e%lld", (long long)point);
  return strtod_l(buf, NULL, loc);
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1

static inline uint64_t load8(const char *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

/* A nonzero nibble in every byte of x that is not an ASCII digit (none
** when all 8 are): a digit's high nibble is 3, and adding 6 does not carry
** it past '9'.  A carry out of a byte >= 0xFA can spoil the bytes above
** it, but that byte is flagged itself, so the lowest flag is exact. */
static inline uint64_t non_digits8(uint64_t x) {
  return ((x & 0xF0F0F0F0F0F0F0F0ull) |
          (((x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) ^
         0x3333333333333333ull;
}

/* The value of 8 digits (the first in the lowest byte): pairs of digits
** are combined in place, then the four pairs by two multiplications whose
** high halves line the partial sums up. */
static inline uint64_t value8(uint64_t x) {
  x -= 0x3030303030303030ull;
  x = x * 10 + (x >> 8); /* bytes 0, 2, 4, 6: two-digit numbers */
  uint64_t a = (x & 0x000000FF000000FFull) * (100 + (1000000ull << 32));
  uint64_t b = ((x >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32));
  return (a + b) >> 32;
}
#endif

static const uint64_t p10u[] = {1,      10,      100,      1000,     10000,
                                100000, 1000000, 10000000, 100000000};

/* The end of the run of digits at p.  Eight bytes at a time, the first
** non-digit found by counting trailing zero bits: no branch per digit,
** which the varying lengths of numbers would mispredict. */
static inline const char *scan_digits(const char *p, const char *end) {
#ifdef SWAR
  while (end - p >= 8) {
    uint64_t nd = non_digits8(load8(p));
    if (nd) return p + (__builtin_ctzll(nd) >> 3);
    p += 8;
  }
#endif
  while (p < end && is_digit(*p)) p++;
  return p;
}

/* w * 10^n + the n digits at s (the result fits: at most 19 digits).  A
** partial group of k < 8 digits is shifted to the top of the word with
** '0's below, so it converts like a full group. */
static inline uint64_t add_digits(uint64_t w, const char *s, size_t n,
                                  const char *end) {
#ifdef SWAR
  for (; n >= 8; s += 8, n -= 8) w = w * 100000000u + value8(load8(s));
  if (n && end - s >= 8) {
    unsigned pad = 8 * (8 - (unsigned)n);
    uint64_t x = load8(s) << pad | 0x3030303030303030ull >> (64 - pad);
    return w * p10u[n] + value8(x);
  }
#else
  (void)end;
#endif
  for (; n; s++, n--) w = w * 10 + (unsigned)(*s - '0');
  return w;
}

/* The exponent part at p ('e' or 'E', a sign, digits) into *e (capped
** far beyond any double's range); the end of it, NULL when malformed. */
static inline const char *scan_exponent(const char *p, const char *end,
                                        int64_t *e) {
  const char *q = p + 1;
  int eneg = 0;
  if (q < end && (*q == '-' || *q == '+')) eneg = *q++ == '-';
  if (q >= end || !is_digit(*q)) return NULL;
  for (; q < end && is_digit(*q); q++)
    if (*e < 1000000000) *e = *e * 10 + (*q - '0');
  if (eneg) *e = -*e;
  return q;
}

const char *mpl__parse_num(const char *s, const char *end, locale_t loc,
                           double *out) {
  const char *p = s;
  int neg = 0;
  if (p < end) { /* without a branch: signs are as random as the data */
    char c = *p;
    neg = c == '-';
    p += neg | (c == '+');
  }
  const char *m0 = p;
  /* the integer digits [i0, i1), the fraction digits [f0, f1) */
  const char *i0 = p, *i1 = scan_digits(p, end), *f0 = i1, *f1 = i1;
  p = i1;
  if (p < end && *p == '.') {
    f0 = p + 1;
    f1 = p = scan_digits(f0, end);
  }
  if (i1 == i0 && f1 == f0) return p == m0 ? special(m0, end, neg, out) : NULL;
  int64_t e = 0;
  if (p < end && (*p == 'e' || *p == 'E') && !(p = scan_exponent(p, end, &e)))
    return NULL;
  /* value = (integer digits, fraction digits) * 10^(e - fraction count);
  ** leading zeros are not significant */
  e -= f1 - f0;
  while (i0 < i1 && *i0 == '0') i0++;
  if (i0 == i1)
    while (f0 < f1 && *f0 == '0') f0++;
  size_t ni = (size_t)(i1 - i0), nf = (size_t)(f1 - f0);
  if (ni + nf == 0) {
    *out = neg ? -0.0 : 0.0;
    return p;
  }
  if (ni + nf <= MAX_SIG) {
    uint64_t w = add_digits(add_digits(0, i0, ni, end), f0, nf, end);
    if (w <= ((uint64_t)1 << 53) && e >= -22 && e <= 22) {
      double v = (double)w;
      v = e < 0 ? v / p10[-e] : v * p10[e];
      *out = neg ? -v : v;
      return p;
    }
#ifdef HAVE_X87_LDBL
    if (e >= -27 && e <= 27) {
      long double v = (long double)w;
      v = e < 0 ? v / p10l[-e] : v * p10l[e];
      uint64_t mant; /* x87 layout: the 64-bit mantissa comes first */
      memcpy(&mant, &v, sizeof mant);
      if ((mant & 0x7ff) != 0x400) {
        double r = (double)v;
        *out = neg ? -r : r;
        return p;
      }
    }
#endif
  }
  double v = slow_num(m0, p, loc);
  *out = neg ? -v : v;
  return p;
}

/* ---------------------------------------------------------------------- */
/* delimited text                                                         */
/* ---------------------------------------------------------------------- */

enum { C_OTHER, C_BLANK, C_SEP, C_EOL, C_HASH };

typedef struct text {
  const char *start, *end; /* the bytes after a BOM */
  char sep;                /* 0: runs of blanks */
  int header;
  locale_t loc;
  mpl_load_info *info;
  unsigned char cls[256];
} text;

static int cls(const text *t, const char *p) {
  return p < t->end ? t->cls[(unsigned char)*p] : C_EOL;
}

static const char *skip_blanks(const text *t, const char *p) {
  while (p < t->end && t->cls[(unsigned char)*p] == C_BLANK) p++;
  return p;
}

static const char *next_line(const text *t, const char *p) {
  const char *nl = memchr(p, '\n', (size_t)(t->end - p));
  return nl ? nl + 1 : t->end;
}

/* Fields on the line starting at p (which holds data). */
static size_t count_fields(const text *t, const char *p) {
  size_t n = 0;
  if (t->sep) {
    for (n = 1; cls(t, p) != C_EOL && cls(t, p) != C_HASH; p++)
      n += cls(t, p) == C_SEP;
    return n;
  }
  int in = 0;
  for (; cls(t, p) != C_EOL && cls(t, p) != C_HASH; p++) {
    if (cls(t, p) == C_BLANK) {
      in = 0;
    } else if (!in) {
      in = 1;
      n++;
    }
  }
  return n;
}

/* The end of the field starting at f, for quoting it in a message. */
static const char *field_end(const text *t, const char *f) {
  const char *p = f;
  while (cls(t, p) != C_EOL && cls(t, p) != C_HASH && cls(t, p) != C_SEP &&
         (t->sep || cls(t, p) != C_BLANK))
    p++;
  while (p > f && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r')) p--;
  return p;
}

/* Where a segment of the data starts: a data line, its number, its row. */
typedef struct seg {
  const char *p;
  size_t line, row;
} seg;

#define MAX_SEGS 16
_Static_assert(MAX_SEGS <= MPL__MAX_TASKS, "segments are tasks");
#define SEG_MIN_BYTES ((size_t)2 << 20)

/* Line layout of the file: data rows, the first data line, the header,
** and up to MAX_SEGS segments of about equal bytes for parallel parsing. */
typedef struct layout {
  size_t rows, cols;
  size_t first_line; /* line number of the first data row */
  const char *hdr;   /* header line, or NULL */
  size_t hdr_line;
  size_t nseg; /* segments; seg[nseg] marks the end */
  seg seg[MAX_SEGS + 1];
} layout;

/* Pass 1: which lines hold data (not blank, not a comment, not the
** header), how many fields the first of them has, and where segments of
** about len / want bytes begin (each at a data line). */
static void scan_layout(const text *t, layout *lay, size_t want) {
  const char *p = t->start, *first = NULL;
  size_t line = 1, len = (size_t)(t->end - t->start), next = 0;
  memset(lay, 0, sizeof *lay);
  while (p < t->end) {
    const char *q = skip_blanks(t, p);
    int c = cls(t, q);
    if (c != C_EOL && c != C_HASH) {
      if (t->header && !lay->hdr) {
        lay->hdr = p;
        lay->hdr_line = line;
      } else {
        if (!lay->rows) {
          first = p;
          lay->first_line = line;
        }
        if (lay->nseg < want && (size_t)(p - t->start) >= next) {
          size_t k = lay->nseg++; /* segment 0 also holds what precedes */
          lay->seg[k] = (seg){k ? p : t->start, k ? line : 1, lay->rows};
          next = len / want * (k + 1);
        }
        lay->rows++;
      }
    }
    p = next_line(t, q);
    line++;
  }
  lay->seg[lay->nseg] = (seg){t->end, line, lay->rows};
  if (first) lay->cols = count_fields(t, first);
}

static int bad_length(mpl_load_info *info, size_t line, size_t n,
                      const layout *lay) {
  return mpl__fail(info, MPL_EFORMAT, line, -1,
                   "%zu field%s, expected %zu as on line %zu", n,
                   n == 1 ? "" : "s", lay->cols, lay->first_line);
}

/* Whether the next data line from p (past blank and comment lines) has
** only numbers: then a first line that does not is likely a header. */
static int next_row_parses(const text *t, const char *p) {
  for (; p < t->end; p = next_line(t, p)) {
    const char *q = skip_blanks(t, p);
    int c = cls(t, q);
    if (c == C_EOL || c == C_HASH) continue;
    for (;;) {
      double v;
      const char *e =
          cls(t, q) == C_OTHER ? mpl__parse_num(q, t->end, t->loc, &v) : NULL;
      if (!e) return 0;
      q = skip_blanks(t, e);
      c = cls(t, q);
      if (c == C_EOL || c == C_HASH) return 1;
      if (t->sep ? c != C_SEP : q == e) return 0;
      if (c == C_SEP) q = skip_blanks(t, q + 1);
    }
  }
  return 0;
}

/* Pass 2 over segment k: parse its data rows into m (contiguous, rows x
** cols), or with m NULL only check them.  0 or the segment's first error
** (in info). */
static int parse_rows(const text *t, const layout *lay, size_t k, mpl_mat *m,
                      mpl_load_info *info) {
  const char *p = lay->seg[k].p, *stop = lay->seg[k + 1].p;
  size_t line = lay->seg[k].line, r = lay->seg[k].row, cols = lay->cols;
  int hdr_pending = k == 0 && lay->hdr != NULL;
  char q1[200];
  /* progress: segment 0, the caller's, stands for all (the others run in
  ** threads, or after it); threads have no hook */
  size_t ticks = 0, len = (size_t)(t->end - t->start), done;
  size_t from = (size_t)(p - t->start), mult = k ? 1 : lay->nseg;
  while (p < stop) {
    if ((++ticks & 255) == 0) {
      done = from + (size_t)(p - lay->seg[k].p) * mult;
      mpl__io_tick(done < len ? done : len, len);
    }
    const char *q = skip_blanks(t, p);
    int c = cls(t, q);
    if (c == C_EOL || c == C_HASH || hdr_pending) {
      if (c != C_EOL && c != C_HASH) hdr_pending = 0;
      p = next_line(t, q);
      line++;
      continue;
    }
    if (r >= lay->seg[k + 1].row)
      return mpl__fail(info, MPL_EFORMAT, line, -1, "more rows than counted");
    double *row = m ? m->data + r * cols : NULL;
    size_t j = 0;
    for (;;) {
      const char *f = q;
      double v = 0;
      const char *e =
          cls(t, q) == C_OTHER ? mpl__parse_num(q, t->end, t->loc, &v) : NULL;
      if (!e) {
        c = cls(t, q);
        if (c == C_SEP || c == C_EOL || c == C_HASH)
          return mpl__fail(info, MPL_EFORMAT, line, -1, "field %zu is empty",
                           j + 1);
        goto not_a_number;
      }
      q = skip_blanks(t, e);
      c = cls(t, q);
      if (!t->sep && q == e && c != C_EOL && c != C_HASH) goto not_a_number;
      if (t->sep && c != C_SEP && c != C_EOL && c != C_HASH) goto not_a_number;
      if (j == cols) return bad_length(info, line, count_fields(t, p), lay);
      if (row) row[j] = v;
      j++;
      if (c == C_EOL || c == C_HASH) break;
      if (c == C_SEP) q = skip_blanks(t, q + 1);
      continue;
    not_a_number:
      return mpl__fail(
          info, MPL_EFORMAT, line, -1, "field %zu is not a number: %s%s", j + 1,
          mpl__quote(q1, f, (size_t)(field_end(t, f) - f)),
          r == 0 && !t->header && next_row_parses(t, next_line(t, q))
              ? " (a header line needs the header option)"
              : "");
    }
    if (j != cols) return bad_length(info, line, j, lay);
    r++;
    p = next_line(t, q);
    line++;
  }
  return 0;
}

typedef struct job {
  const text *t;
  const layout *lay;
  size_t k;
  mpl_mat *m;
  mpl_load_info info;
  int err;
} job;

static void run_job(job *j) {
  j->err = parse_rows(j->t, j->lay, j->k, j->m, &j->info);
}

/* Segment k as a task of mpl__par_tasks (jobs is the array of jobs). */
static void run_seg(void *jobs, size_t k) { run_job((job *)jobs + k); }

/* Parse every segment: in threads of this process when there are several
** and a destination (they write disjoint rows of m; a thread that cannot
** be started is run here), in order otherwise.  The error reported is the
** first in file order, as a serial parse would find it. */
static int parse_all(const text *t, const layout *lay, mpl_mat *m,
                     mpl_load_info *info) {
  size_t n = lay->nseg;
  job jobs[MAX_SEGS];
  for (size_t k = 0; k < n; k++) {
    jobs[k] = (job){t, lay, k, m, {NULL, 0, -1, ""}, 0};
    if (!m || n == 1) {
      run_job(&jobs[k]);
      if (jobs[k].err) {
        n = k + 1;
        break;
      }
    }
  }
  if (m && n > 1) mpl__par_tasks(n, run_seg, jobs);
  for (size_t k = 0; k < n; k++) {
    if (jobs[k].err) {
      info->line = jobs[k].info.line;
      info->offset = jobs[k].info.offset;
      memcpy(info->msg, jobs[k].info.msg, sizeof info->msg);
      return jobs[k].err;
    }
  }
  return 0;
}

/* Whether the file needs csvx.c's reader: a double quote, or line ends
** that are all a lone CR. */
static int needs_tokenizer(const char *buf, size_t len) {
  if (memchr(buf, '"', len)) return 1;
  return !memchr(buf, '\n', len) && memchr(buf, '\r', len);
}

/* The parser's state and its byte-class table (one lookup per byte in
** the scanning loops), after a UTF-8 BOM. */
static void text_init(text *t, const char *buf, size_t len, char sep,
                      int header, locale_t loc, mpl_load_info *info) {
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
    buf += 3;
    len -= 3;
  }
  t->start = buf;
  t->end = buf + len;
  t->sep = sep;
  t->header = header;
  t->loc = loc;
  t->info = info;
  memset(t->cls, C_OTHER, sizeof t->cls);
  t->cls[' '] = t->cls['\t'] = t->cls['\r'] = C_BLANK;
  t->cls['\n'] = C_EOL;
  t->cls['#'] = C_HASH;
  if (sep) t->cls[(unsigned char)sep] = C_SEP;
}

/* Why a file without data rows has none: empty, only a header, or only
** blank lines and comments. */
static int no_rows(const layout *lay, size_t len, mpl_load_info *info) {
  if (len == 0) return mpl__fail(info, MPL_EFORMAT, 0, -1, "the file is empty");
  if (lay->hdr)
    return mpl__fail(info, MPL_EFORMAT, lay->hdr_line, -1,
                     "no data after the header");
  return mpl__fail(info, MPL_EFORMAT, 0, -1,
                   "no data (only blank lines and comments)");
}

/* A copy of the header line (without its line end) for info->header. */
static int keep_header(const text *t, const layout *lay, mpl_load_info *info) {
  const char *e = lay->hdr;
  while (e < t->end && *e != '\n') e++;
  if (e > lay->hdr && e[-1] == '\r') e--;
  size_t n = (size_t)(e - lay->hdr);
  info->header = malloc(n + 1);
  if (!info->header) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  memcpy(info->header, lay->hdr, n);
  info->header[n] = '\0';
  return 0;
}

/* Plain delimited text (csvx.c reads the rest): the layout first, in
** threads for big files, then every field parsed into the matrix. */
int mpl__text_read(const char *buf, size_t len, char sep, int header,
                   const mpl__text_opts *x, locale_t loc, mpl_mat **out,
                   mpl_load_info *info) {
  text t;
  layout lay;
  *out = NULL;
  if (mpl__text_opts_set(x) || needs_tokenizer(buf, len))
    return mpl__text_read_x(buf, len, sep, header, x, loc, out, info);
  if (sep == ' ') sep = 0;
  text_init(&t, buf, len, sep, header, loc, info);
  len = (size_t)(t.end - t.start);

  /* big files are parsed in mpl_procs() threads, 2 MB at least each */
  size_t want = (size_t)mpl_procs();
  if (want > MAX_SEGS) want = MAX_SEGS;
  if (want > len / SEG_MIN_BYTES) want = len / SEG_MIN_BYTES;
  scan_layout(&t, &lay, want ? want : 1);
  if (lay.rows == 0) return no_rows(&lay, len, info);
  /* A well-formed row of c fields takes at least 2c bytes (the last line
  ** one less): more rows * cols than that means a short row somewhere. */
  int err;
  mpl_mat *m = NULL;
  if (lay.rows > (len + 1) / 2 / lay.cols) {
    err = parse_all(&t, &lay, NULL, info);
    return err ? err
               : mpl__fail(info, MPL_EFORMAT, 0, -1,
                           "rows of different lengths");
  }
  err = mpl__mat_alloc(&m, lay.rows, lay.cols);
  if (err)
    return mpl__fail(info, err, 0, -1, "not enough memory for a %zux%zu matrix",
                     lay.rows, lay.cols);
  err = parse_all(&t, &lay, m, info);
  if (!err && lay.hdr) err = keep_header(&t, &lay, info);
  if (err) {
    mpl_mat_release(m);
    return err;
  }
  *out = m;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* writing                                                                */
/* ---------------------------------------------------------------------- */

int mpl__text_write(FILE *f, const mpl_mat *m, char sep, const char *header) {
  if (header && (fputs(header, f) == EOF || putc('\n', f) == EOF))
    return MPL_EIO;
  for (size_t i = 0; i < m->rows; i++) {
    if (mpl__interrupt_pending()) return MPL_EINTR;
    if ((i & 63) == 0) mpl__io_tick(i, m->rows);
    for (size_t j = 0; j < m->cols; j++) {
      if (j && putc(sep, f) == EOF) return MPL_EIO;
      if (fprintf(f, "%.17g", MPL_AT(m, i, j)) < 0) return MPL_EIO;
    }
    if (putc('\n', f) == EOF) return MPL_EIO;
  }
  return 0;
}
