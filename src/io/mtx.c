/*
** mtx.c: the Matrix Market exchange format.
**
** Reading: the banner "%%MatrixMarket matrix <format> <field> <symmetry>"
** (keywords in any case), comment lines starting with '%', a size line,
** then the data.  `array` lists the values column by column (for symmetric
** matrices only the lower triangle, for skew-symmetric the part below the
** diagonal); `coordinate` lists one "row col [value]" entry per line.
** Both become a dense matrix.  Coordinate entries given twice are added
** (a pattern entry is 1 however often it is given, and a value after it is
** ignored); entries of a symmetric or skew-symmetric matrix are mirrored
** from either side of the diagonal, and a skew-symmetric diagonal entry is
** kept, as SciPy reads such files.  A '%' after an entry starts a comment.
** Tokens are slices of the buffer, never copied, so no token can overflow
** anything; counts announced by the file are compared with the bytes left
** before any allocation that depends on them.
**
** Writing: a dense `array real general` matrix, values column by column.
*/
#include <stdint.h>
#include <string.h>

#include "files.h"

enum { F_REAL, F_INTEGER, F_PATTERN, F_UNSIGNED };
enum { S_GENERAL, S_SYMMETRIC, S_SKEW };

typedef struct tok {
  const char *s;
  size_t n;
} tok;

typedef struct mm {
  const char *p, *end;
  size_t line; /* number of the line p is on */
  locale_t loc;
  mpl_load_info *info;
  int coord, field, sym; /* from the banner */
  size_t rows, cols;     /* from the size line */
  size_t size_line;
  uint64_t count; /* values (array) or entries (coordinate) announced */
} mm;

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* ASCII case-insensitive comparison of a token with a lower-case word. */
static int tok_is(tok t, const char *word) {
  size_t n = strlen(word);
  if (t.n != n) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = t.s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != word[i]) return 0;
  }
  return 1;
}

/* Split [s, e) at blanks into at most max tokens; returns how many there
** are in all (possibly more than max). */
static size_t split(const char *s, const char *e, tok *t, size_t max) {
  size_t n = 0;
  while (s < e) {
    while (s < e && blank(*s)) s++;
    if (s == e) break;
    const char *b = s;
    while (s < e && !blank(*s)) s++;
    if (n < max) t[n] = (tok){b, (size_t)(s - b)};
    n++;
  }
  return n;
}

/* The next line that is neither blank nor a '%' comment: [*ls, *le), its
** number in *line.  0 at the end of the buffer. */
static int next_data_line(mm *s, const char **ls, const char **le,
                          size_t *line) {
  while (s->p < s->end) {
    const char *b = s->p;
    const char *nl = memchr(b, '\n', (size_t)(s->end - b));
    const char *e = nl ? nl : s->end;
    size_t no = s->line;
    s->p = nl ? nl + 1 : s->end;
    s->line++;
    const char *q = b;
    while (q < e && blank(*q)) q++;
    if (q == e || *q == '%') continue;
    const char *pc = memchr(q, '%', (size_t)(e - q)); /* "1 2 3 % note" */
    if (pc) e = pc;
    *ls = b;
    *le = e;
    *line = no;
    return 1;
  }
  return 0;
}

/* A non-negative decimal integer filling the token; 0 on overflow or junk. */
static int tok_u64(tok t, uint64_t *v) {
  uint64_t x = 0;
  size_t i = t.n > 1 && t.s[0] == '+'; /* "+2", as scanf reads it */
  if (t.n == 0) return 0;
  for (; i < t.n; i++) {
    unsigned d = (unsigned)(t.s[i] - '0');
    if (d > 9 || x > (UINT64_MAX - d) / 10) return 0;
    x = x * 10 + d;
  }
  *v = x;
  return 1;
}

/* The value token as a number of the given field; 0 if it is not one. */
static int tok_value(const mm *s, tok t, int field, double *v) {
  if (field == F_INTEGER || field == F_UNSIGNED) {
    size_t i = t.s[0] == '+' || (t.s[0] == '-' && field == F_INTEGER);
    if (i == t.n) return 0;
    for (; i < t.n; i++)
      if ((unsigned)(t.s[i] - '0') > 9) return 0;
  }
  const char *e = mpl__parse_num(t.s, t.s + t.n, s->loc, v);
  return e == t.s + t.n;
}

static const char *field_name(int f) {
  return f == F_REAL       ? "real"
         : f == F_INTEGER  ? "integer"
         : f == F_UNSIGNED ? "unsigned-integer"
                           : "pattern";
}

/* What a value of the field must be, for the error that says it is not. */
static const char *value_kind(int field) {
  return field == F_UNSIGNED  ? "an unsigned integer"
         : field == F_INTEGER ? "an integer"
                              : "a number";
}

/* The banner's first checks (the magic word, the token count, the object),
** kept apart so that the keyword checks stay readable. */
static int banner_tokens(mm *s, tok *t) {
  mpl_load_info *info = s->info;
  char q1[200];
  if (s->end - s->p >= 3 && memcmp(s->p, "\xEF\xBB\xBF", 3) == 0) s->p += 3;
  const char *ls = s->p;
  const char *nl = memchr(ls, '\n', (size_t)(s->end - ls));
  const char *le = nl ? nl : s->end;
  s->p = nl ? nl + 1 : s->end;
  s->line = 2;
  size_t nt = split(ls, le, t, 6);
  if (nt == 0 || !tok_is(t[0], "%%matrixmarket"))
    return mpl__fail(info, MPL_EFORMAT, 1, -1,
                     "not a Matrix Market file (the first line must start "
                     "with %%%%MatrixMarket)");
  if (nt < 5)
    return mpl__fail(info, MPL_EFORMAT, 1, -1,
                     "incomplete banner (expected %%%%MatrixMarket matrix "
                     "<format> <field> <symmetry>)");
  if (nt > 5)
    return mpl__fail(info, MPL_EFORMAT, 1, -1, "unexpected %s after the banner",
                     mpl__quote(q1, t[5].s, t[5].n));
  if (!tok_is(t[1], "matrix"))
    return mpl__fail(info, MPL_EFORMAT, 1, -1,
                     "object %s is not supported (only 'matrix')",
                     mpl__quote(q1, t[1].s, t[1].n));
  return 0;
}

/* The banner's field keyword: one place for the list of fields mpl reads. */
static int banner_field(mm *s, tok t) {
  char q1[200];
  if (tok_is(t, "real") || tok_is(t, "double"))
    s->field = F_REAL;
  else if (tok_is(t, "integer"))
    s->field = F_INTEGER;
  else if (tok_is(t, "unsigned-integer"))
    s->field = F_UNSIGNED;
  else if (tok_is(t, "pattern"))
    s->field = F_PATTERN;
  else if (tok_is(t, "complex"))
    return mpl__fail(s->info, MPL_EFORMAT, 1, -1,
                     "complex matrices cannot be loaded: mpl holds real "
                     "matrices");
  else
    return mpl__fail(s->info, MPL_EFORMAT, 1, -1,
                     "unknown field %s (expected 'real', 'integer', "
                     "'unsigned-integer' or 'pattern')",
                     mpl__quote(q1, t.s, t.n));
  return 0;
}

/* The banner's format and symmetry keywords and the combinations that
** make no sense, so that the readers below can trust s->coord/field/sym. */
static int banner_kinds(mm *s, const tok *t) {
  mpl_load_info *info = s->info;
  char q1[200];
  if (tok_is(t[2], "coordinate"))
    s->coord = 1;
  else if (tok_is(t[2], "array"))
    s->coord = 0;
  else
    return mpl__fail(info, MPL_EFORMAT, 1, -1,
                     "unknown format %s (expected 'coordinate' or 'array')",
                     mpl__quote(q1, t[2].s, t[2].n));
  int err = banner_field(s, t[3]);
  if (err) return err;
  if (tok_is(t[4], "general"))
    s->sym = S_GENERAL;
  else if (tok_is(t[4], "symmetric"))
    s->sym = S_SYMMETRIC;
  else if (tok_is(t[4], "skew-symmetric"))
    s->sym = S_SKEW;
  else if (tok_is(t[4], "hermitian"))
    return mpl__fail(info, MPL_EFORMAT, 1, -1,
                     "hermitian matrices are complex and cannot be loaded: "
                     "mpl holds real matrices");
  else
    return mpl__fail(info, MPL_EFORMAT, 1, -1,
                     "unknown symmetry %s (expected 'general', 'symmetric' or "
                     "'skew-symmetric')",
                     mpl__quote(q1, t[4].s, t[4].n));
  if (s->field == F_PATTERN && !s->coord)
    return mpl__fail(info, MPL_EFORMAT, 1, -1,
                     "a pattern matrix must be in coordinate format");
  if (s->field == F_PATTERN && s->sym == S_SKEW)
    return mpl__fail(info, MPL_EFORMAT, 1, -1,
                     "a pattern matrix cannot be skew-symmetric");
  return 0;
}

/* How many values (array) or entries (coordinate) the data must hold,
** checked against the bytes left before anything is allocated for them. */
static int data_count(mm *s, uint64_t entries) {
  size_t left = (size_t)(s->end - s->p), rows = s->rows, cols = s->cols;
  if (s->coord) {
    s->count = entries;
    uint64_t min_bytes = s->field == F_PATTERN ? 4 : 6; /* "1 1\n", "1 1 1\n" */
    if (s->count > (left + 1) / min_bytes)
      return mpl__fail(s->info, MPL_EFORMAT, s->size_line, -1,
                       "%llu entries announced, but the rest of the file (%zu "
                       "bytes) holds at most %llu",
                       (unsigned long long)s->count, left,
                       (unsigned long long)((left + 1) / min_bytes));
    return 0;
  }
  unsigned __int128 c =
      s->sym == S_GENERAL ? (unsigned __int128)rows * cols
      : s->sym == S_SYMMETRIC
          ? (unsigned __int128)rows * (rows + 1) / 2
          : (unsigned __int128)rows * (rows ? rows - 1 : 0) / 2;
  if (c > (left + 1) / 2)
    return mpl__fail(s->info, MPL_EFORMAT, s->size_line, -1,
                     "a %zux%zu array needs more values than the rest of "
                     "the file (%zu bytes) can hold",
                     rows, cols, left);
  s->count = (uint64_t)c;
  return 0;
}

/* The size line: the shape, and for coordinate files the entry count. */
static int read_size(mm *s) {
  const char *ls, *le;
  size_t line;
  tok t[3];
  char q1[200];
  if (!next_data_line(s, &ls, &le, &line))
    return mpl__fail(s->info, MPL_EFORMAT, s->line - 1, -1,
                     "the file ends before the size line");
  s->size_line = line;
  uint64_t dims[3] = {0, 0, 0};
  size_t nt = split(ls, le, t, 3);
  int ok = nt == (s->coord ? 3u : 2u);
  for (size_t i = 0; ok && i < nt; i++) ok = tok_u64(t[i], &dims[i]);
  if (!ok)
    return mpl__fail(s->info, MPL_EFORMAT, line, -1,
                     "bad size line %s (expected %s)",
                     mpl__quote(q1, ls, (size_t)(le - ls)),
                     s->coord ? "'rows cols entries'" : "'rows cols'");
  s->rows = (size_t)dims[0];
  s->cols = (size_t)dims[1];
  if (s->sym != S_GENERAL && s->rows != s->cols)
    return mpl__fail(s->info, MPL_EFORMAT, line, -1,
                     "a %s matrix must be square, this one is %zux%zu",
                     s->sym == S_SKEW ? "skew-symmetric" : "symmetric", s->rows,
                     s->cols);
  return data_count(s, dims[2]);
}

/* A coordinate line that is not "row col [value]": say whether the value
** or the whole line is wrong (only on the error path). */
static int bad_entry(mm *s, const tok *t, size_t nt, size_t want,
                     const char *ls, const char *le, size_t line) {
  uint64_t i, j;
  char q1[200];
  if (nt == want && tok_u64(t[0], &i) && tok_u64(t[1], &j))
    return mpl__fail(s->info, MPL_EFORMAT, line, -1, "value %s is not %s",
                     mpl__quote(q1, t[2].s, t[2].n), value_kind(s->field));
  return mpl__fail(s->info, MPL_EFORMAT, line, -1, "bad entry %s (expected %s)",
                   mpl__quote(q1, ls, (size_t)(le - ls)),
                   want == 2 ? "'row col'" : "'row col value'");
}

/* The entries of a coordinate file, added into the zeroed matrix m. */
static int read_coord(mm *s, mpl_mat *m) {
  const char *ls, *le;
  size_t line, want = s->field == F_PATTERN ? 2 : 3;
  tok t[3];
  for (uint64_t done = 0; done < s->count; done++) {
    if (!next_data_line(s, &ls, &le, &line))
      return mpl__fail(s->info, MPL_EFORMAT, s->line - 1, -1,
                       "the file ends after %llu of the %llu entries "
                       "announced on line %zu",
                       (unsigned long long)done, (unsigned long long)s->count,
                       s->size_line);
    size_t nt = split(ls, le, t, 3);
    if (s->field == F_PATTERN && nt == 3) nt = 2; /* a value: ignored */
    uint64_t i, j;
    double v = 1;
    if (nt != want || !tok_u64(t[0], &i) || !tok_u64(t[1], &j) ||
        (want == 3 && !tok_value(s, t[2], s->field, &v)))
      return bad_entry(s, t, nt, want, ls, le, line);
    if (i < 1 || j < 1 || i > s->rows || j > s->cols)
      return mpl__fail(s->info, MPL_EFORMAT, line, -1,
                       "index (%llu, %llu) out of range for a %zux%zu matrix",
                       (unsigned long long)i, (unsigned long long)j, s->rows,
                       s->cols);
    /* Entries above the diagonal are mirrored like those below, and a
    ** skew-symmetric diagonal entry is kept, as SciPy reads them. */
    size_t r = (size_t)i - 1, c = (size_t)j - 1;
    if (s->field == F_PATTERN) {
      MPL_AT(m, r, c) = 1;
      if (s->sym == S_SYMMETRIC) MPL_AT(m, c, r) = 1;
    } else {
      MPL_AT(m, r, c) += v;
      if (s->sym == S_SYMMETRIC && r != c) MPL_AT(m, c, r) += v;
      if (s->sym == S_SKEW && r != c) MPL_AT(m, c, r) -= v;
    }
  }
  return 0;
}

/* The values of an array file, column by column, any number per line. */
static int read_array(mm *s, mpl_mat *m) {
  const char *ls, *le;
  size_t line, rows = s->rows, cols = s->cols;
  size_t r = s->sym == S_SKEW ? 1 : 0, c = 0;
  uint64_t done = 0, count = s->count;
  char q1[200];
  while (done < count) {
    if (!next_data_line(s, &ls, &le, &line)) break;
    const char *p = ls;
    while (p < le) {
      while (p < le && blank(*p)) p++;
      if (p == le) break;
      const char *b = p;
      while (p < le && !blank(*p)) p++;
      tok v1 = {b, (size_t)(p - b)};
      double v;
      if (done == count)
        return mpl__fail(s->info, MPL_EFORMAT, line, -1,
                         "more values than the %llu a %zux%zu %s array "
                         "holds",
                         (unsigned long long)count, rows, cols,
                         field_name(s->field));
      if (!tok_value(s, v1, s->field, &v))
        return mpl__fail(s->info, MPL_EFORMAT, line, -1, "value %s is not %s",
                         mpl__quote(q1, v1.s, v1.n), value_kind(s->field));
      MPL_AT(m, r, c) = v;
      if (s->sym == S_SYMMETRIC) MPL_AT(m, c, r) = v;
      if (s->sym == S_SKEW) MPL_AT(m, c, r) = -v;
      done++;
      if (++r == rows) { /* next column: from its diagonal when symmetric */
        c++;
        r = s->sym == S_GENERAL ? 0 : s->sym == S_SYMMETRIC ? c : c + 1;
      }
    }
  }
  if (done < count)
    return mpl__fail(s->info, MPL_EFORMAT, s->line - 1, -1,
                     "the file ends after %llu of the %llu values of a "
                     "%zux%zu array",
                     (unsigned long long)done, (unsigned long long)count, rows,
                     cols);
  return 0;
}

/* The data section into a new dense matrix, then nothing but comments. */
static int read_data(mm *s, mpl_mat **out) {
  const char *ls, *le;
  size_t line;
  mpl_mat *m = NULL;
  int err = mpl_mat_new(&m, s->rows, s->cols);
  if (err)
    return mpl__fail(s->info, err, s->size_line, -1,
                     err == MPL_EOVERFLOW
                         ? "a dense %zux%zu matrix is too large"
                         : "not enough memory for a dense "
                           "%zux%zu matrix",
                     s->rows, s->cols);
  err = s->coord ? read_coord(s, m) : read_array(s, m);
  if (!err && next_data_line(s, &ls, &le, &line))
    err = mpl__fail(s->info, MPL_EFORMAT, line, -1,
                    "more %s than the %llu announced on line %zu",
                    s->coord ? "entries" : "values",
                    (unsigned long long)s->count, s->size_line);
  if (err) {
    mpl_mat_release(m);
    return err;
  }
  *out = m;
  return 0;
}

/* The banner, the size line, the data: each step checks its part. */
int mpl__mtx_read(const char *buf, size_t len, locale_t loc, mpl_mat **out,
                  mpl_load_info *info) {
  mm s = {.p = buf, .end = buf + len, .line = 1, .loc = loc, .info = info};
  tok t[6];
  *out = NULL;
  int err = banner_tokens(&s, t);
  if (!err) err = banner_kinds(&s, t);
  if (!err) err = read_size(&s);
  if (!err) err = read_data(&s, out);
  return err;
}

int mpl__mtx_write(FILE *f, const mpl_mat *m) {
  if (fprintf(f, "%%%%MatrixMarket matrix array real general\n%zu %zu\n",
              m->rows, m->cols) < 0)
    return MPL_EIO;
  for (size_t j = 0; j < m->cols && m->rows; j++) /* 0 x N: no data */
    for (size_t i = 0; i < m->rows; i++) {
      if (!(i & 1023) && mpl__interrupt_pending()) return MPL_EINTR;
      if (!(i & 1023)) mpl__io_tick((j * m->rows + i) / m->cols, m->rows);
      if (fprintf(f, "%.17g\n", MPL_AT(m, i, j)) < 0) return MPL_EIO;
    }
  return 0;
}
