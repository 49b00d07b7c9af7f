/*
** csvx.c: delimited text as people write it: quoted fields (RFC 4180),
** column selection, missing values, lines to skip, CR-only line ends.
**
** DESIGN
** csv.c's reader is built for speed on plain numeric files and knows no
** quotes; this one is taken instead when the file has a double quote or
** only CR line ends, or when opts.cols, opts.na or opts.skip is given.  It
** is a serial tokenizer: a field is quoted ("a ""b"", c": quotes doubled
** inside, separators and line ends kept) or bare (blanks around it
** trimmed); a line ends at LF, CRLF or a lone CR outside quotes; '#'
** outside quotes starts a comment.  Only the selected columns are parsed
** as numbers, so text columns (row names, dates) beside them are skipped
** unread.  Values go into a growing buffer, then into a matrix of the
** exact size: the file is read once.  A row of c fields takes at least c
** bytes, so the buffer is bounded by 8 times the file.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

typedef struct tok {
  const char *p, *end;
  char sep; /* 0: runs of blanks */
  size_t line;
  char *fld; /* the current field, unquoted, NUL-terminated */
  size_t flen, fcap;
  int quoted;
} tok;

static int is_blank(const tok *t, char c) {
  return (c == ' ' || c == '\t') && c != t->sep;
}

static int at_eol(const tok *t) {
  return t->p >= t->end || *t->p == '\n' || *t->p == '\r' || *t->p == '#';
}

/* Past the line end at t->p (LF, CRLF, CR) or a comment up to it. */
static void end_line(tok *t) {
  while (t->p < t->end && *t->p != '\n' && *t->p != '\r') t->p++;
  if (t->p < t->end && *t->p++ == '\r' && t->p < t->end && *t->p == '\n')
    t->p++;
  t->line++;
}

static int push(tok *t, char c, mpl_load_info *info) {
  if (t->flen + 1 >= t->fcap) {
    size_t cap = t->fcap ? 2 * t->fcap : 256;
    char *nf = realloc(t->fld, cap);
    if (!nf) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
    t->fld = nf;
    t->fcap = cap;
  }
  t->fld[t->flen++] = c;
  return 0;
}

/* A quoted field from t->p (at the opening quote) into t->fld. */
static int quoted_field(tok *t, mpl_load_info *info) {
  size_t start_line = t->line;
  for (t->p++;; t->p++) {
    if (t->p >= t->end)
      return mpl__fail(info, MPL_EFORMAT, start_line, -1,
                       "a quoted field is not closed");
    char c = *t->p;
    if (c == '"' && t->p + 1 < t->end && t->p[1] == '"') {
      t->p++;
    } else if (c == '"') {
      t->p++;
      break;
    } else if (c == '\n' ||
               (c == '\r' && (t->p + 1 >= t->end || t->p[1] != '\n'))) {
      t->line++;
    }
    int err = push(t, c, info);
    if (err) return err;
  }
  while (t->p < t->end && is_blank(t, *t->p)) t->p++;
  if (!at_eol(t) && !(t->sep && *t->p == t->sep))
    return mpl__fail(info, MPL_EFORMAT, t->line, -1,
                     "text after the closing quote of a field");
  return 0;
}

/* The next field of the line into t->fld; *last set at the line's end. */
static int next_field(tok *t, int *last, mpl_load_info *info) {
  t->flen = 0;
  t->quoted = 0;
  while (t->p < t->end && is_blank(t, *t->p)) t->p++;
  int err = 0;
  if (t->p < t->end && *t->p == '"') {
    t->quoted = 1;
    err = quoted_field(t, info);
  } else {
    const char *f = t->p;
    while (!at_eol(t) && (t->sep ? *t->p != t->sep : !is_blank(t, *t->p)))
      t->p++;
    const char *e = t->p;
    while (e > f && is_blank(t, e[-1])) e--;
    for (; f < e && !err; f++) err = push(t, *f, info);
    while (!t->sep && t->p < t->end && is_blank(t, *t->p)) t->p++;
  }
  if (err || (err = push(t, '\0', info)) != 0) return err;
  t->flen--;
  *last = at_eol(t);
  if (!*last && t->sep) t->p++; /* the separator */
  return 0;
}

/* Whether the line at t->p holds no data (blank or a comment). */
static int empty_line(tok *t) {
  const char *q = t->p;
  while (q < t->end && (*q == ' ' || *q == '\t')) q++;
  return q >= t->end || *q == '\n' || *q == '\r' || *q == '#';
}

typedef struct sel {
  const mpl__text_opts *x;
  locale_t loc;
  size_t *want; /* per file column: 1 + its place in the matrix, or 0 */
  size_t nfile, nsel;
} sel;

/* A bare field's value: a number, or NaN when it is one of the na
** strings (or empty and na is given). */
static int field_value(const tok *t, const sel *s, size_t j, double *v,
                       mpl_load_info *info) {
  const char *f = t->fld, *e = t->fld + t->flen;
  for (size_t k = 0; k < s->x->nna; k++)
    if (t->flen == 0 || strcmp(f, s->x->na[k]) == 0) {
      *v = NAN;
      return 0;
    }
  if (t->flen == 0)
    return mpl__fail(info, MPL_EFORMAT, t->line, -1, "field %zu is empty",
                     j + 1);
  const char *q = mpl__parse_num(f, e, s->loc, v);
  if (q == e) return 0;
  char b[200];
  return mpl__fail(info, MPL_EFORMAT, t->line, -1,
                   "field %zu is not a number: %s", j + 1,
                   mpl__quote(b, f, t->flen));
}

/* The number of fields of the line at t->p (which stays). */
static int count_line(tok *t, size_t *n, mpl_load_info *info) {
  tok c = *t;
  int last = 0, err = 0;
  *n = 0;
  c.fld = NULL;
  c.fcap = 0;
  while (!last && !err) {
    err = next_field(&c, &last, info);
    ++*n;
  }
  free(c.fld);
  return err;
}

/* The file column whose header field (the line at hdr) is name. */
static int find_name(const tok *t, const char *hdr, const char *name,
                     size_t *col, mpl_load_info *info) {
  tok c = *t;
  int last = 0, err = 0;
  c.p = hdr;
  c.fld = NULL;
  c.fcap = 0;
  *col = SIZE_MAX;
  for (size_t j = 0; !last && !err && *col == SIZE_MAX; j++) {
    err = next_field(&c, &last, info);
    if (!err && strcmp(c.fld, name) == 0) *col = j;
  }
  free(c.fld);
  char b[200];
  if (!err && *col == SIZE_MAX)
    err = mpl__fail(info, MPL_EINVAL, 0, -1,
                    "opts.cols names %s, which the header does not have",
                    mpl__quote(b, name, strlen(name)));
  return err;
}

/* s->want from opts.cols (indices, or names looked up in the header at
** hdr), or every column. */
static int select_cols(const tok *t, const char *hdr, sel *s,
                       mpl_load_info *info) {
  const mpl__text_opts *x = s->x;
  s->want = calloc(s->nfile, sizeof *s->want);
  if (!s->want) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  s->nsel = x->ncols ? x->ncols : s->nfile;
  for (size_t j = 0; !x->ncols && j < s->nfile; j++) s->want[j] = j + 1;
  for (size_t k = 0; k < x->ncols; k++) {
    size_t col = x->idx ? x->idx[k] - 1 : SIZE_MAX;
    int err = 0;
    if (x->names && x->names[k] && !hdr)
      return mpl__fail(info, MPL_EINVAL, 0, -1,
                       "opts.cols names columns: that needs opts.header");
    if (x->names && x->names[k])
      err = find_name(t, hdr, x->names[k], &col, info);
    if (err) return err;
    if (col >= s->nfile)
      return mpl__fail(info, MPL_EINVAL, 0, -1,
                       "opts.cols has column %zu, the file has %zu", col + 1,
                       s->nfile);
    if (s->want[col])
      return mpl__fail(info, MPL_EINVAL, 0, -1,
                       "opts.cols has column %zu twice", col + 1);
    s->want[col] = k + 1;
  }
  return 0;
}

/* Parse the data line at t->p into row (NULL: only check it). */
static int parse_line(tok *t, const sel *s, double *row, size_t first_line,
                      mpl_load_info *info) {
  size_t j = 0, line = t->line;
  int last = 0, err = 0;
  while (!last && !err) {
    if ((err = next_field(t, &last, info)) != 0) break;
    if (j < s->nfile && s->want[j]) {
      double v;
      err = field_value(t, s, j, &v, info);
      if (row) row[s->want[j] - 1] = v;
    }
    j++;
  }
  if (!err && j != s->nfile)
    err = mpl__fail(info, MPL_EFORMAT, line, -1,
                    "%zu field%s, expected %zu as on line %zu", j,
                    j == 1 ? "" : "s", s->nfile, first_line);
  return err;
}

/* Skip blank and comment lines. */
static void skip_empty(tok *t) {
  while (t->p < t->end && empty_line(t)) end_line(t);
}

/* Parse the data rows from t->p into a growing buffer *vals (n rows). */
static int parse_rows(tok *t, const sel *s, double **vals, size_t *n,
                      mpl_load_info *info) {
  size_t cap = 0, first = t->line, len = (size_t)(t->end - t->p);
  const char *from = t->p;
  int err = 0;
  for (skip_empty(t); t->p < t->end && !err; skip_empty(t)) {
    if ((*n + 1) * s->nsel > cap) {
      size_t nc = cap ? 2 * cap : 1024 + s->nsel;
      double *nv = realloc(*vals, nc * sizeof *nv);
      if (!nv) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
      *vals = nv;
      cap = nc;
    }
    err = parse_line(t, s, *vals + *n * s->nsel, first, info);
    if (!err) ++*n, end_line(t);
    if (!err && mpl__interrupt_pending())
      err = mpl__fail(info, MPL_EINTR, 0, -1, "interrupted");
    if ((*n & 255) == 0) mpl__io_tick((size_t)(t->p - from), len);
  }
  return err;
}

/* Whether the data line after the one at t->p parses (a copy of t is
** moved): then a first line that does not is likely a header. */
static int next_row_parses(tok *t, const sel *s) {
  mpl_load_info scratch;
  tok c = *t;
  c.fld = NULL;
  c.fcap = 0;
  int last = 0, err = 0;
  while (!last && !err) err = next_field(&c, &last, &scratch);
  if (!err) {
    end_line(&c);
    skip_empty(&c);
    err = c.p < c.end ? parse_line(&c, s, NULL, c.line, &scratch) : 1;
  }
  free(c.fld);
  return !err;
}

/* The header line at hdr as a malloc'd string (its line end cut). */
static int copy_header(const tok *t, const char *hdr, char **out,
                       mpl_load_info *info) {
  const char *e = hdr;
  while (e < t->end && *e != '\n' && *e != '\r') e++;
  *out = strndup(hdr, (size_t)(e - hdr));
  return *out ? 0 : mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
}

/* Find the header and the first data line, select the columns, parse. */
static int read_all(tok *t, sel *s, int header, double **vals, size_t *n,
                    mpl_load_info *info) {
  const char *hdr = NULL;
  for (size_t k = 0; k < s->x->skip && t->p < t->end; k++) end_line(t);
  skip_empty(t);
  if (header && t->p < t->end) {
    hdr = t->p;
    size_t hline = t->line;
    tok c = *t; /* past the header, quoted line ends included */
    c.fld = NULL;
    c.fcap = 0;
    int last = 0, err = 0;
    while (!last && !err) err = next_field(&c, &last, info);
    free(c.fld);
    if (err) return err;
    t->p = c.p;
    t->line = c.line;
    end_line(t);
    skip_empty(t);
    if (t->p >= t->end)
      return mpl__fail(info, MPL_EFORMAT, hline, -1,
                       "no data after the header");
    if (!info->header && copy_header(t, hdr, &info->header, info))
      return MPL_ENOMEM;
  }
  if (t->p >= t->end)
    return mpl__fail(info, MPL_EFORMAT, 0, -1,
                     "no data (only blank lines and comments)");
  int err = count_line(t, &s->nfile, info);
  if (!err) err = select_cols(t, hdr, s, info);
  tok first = *t;
  if (!err) err = parse_rows(t, s, vals, n, info);
  if (err == MPL_EFORMAT && *n == 0 && !header &&
      strstr(info->msg, "not a number") && next_row_parses(&first, s)) {
    size_t k = strlen(info->msg);
    snprintf(info->msg + k, sizeof info->msg - k,
             " (a header line needs the header option)");
  }
  return err;
}

int mpl__text_opts_set(const mpl__text_opts *x) {
  return x && (x->nna || x->ncols || x->skip);
}

int mpl__text_read_x(const char *buf, size_t len, char sep, int header,
                     const mpl__text_opts *x, locale_t loc, mpl_mat **out,
                     mpl_load_info *info) {
  static const mpl__text_opts none;
  tok t = {buf, buf + len, sep == ' ' ? 0 : sep, 1, NULL, 0, 0, 0};
  sel s = {x ? x : &none, loc, NULL, 0, 0};
  double *vals = NULL;
  size_t n = 0;
  *out = NULL;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) t.p += 3;
  if (len == 0) return mpl__fail(info, MPL_EFORMAT, 0, -1, "the file is empty");
  int err = read_all(&t, &s, header, &vals, &n, info);
  mpl_mat *m = NULL;
  if (!err && (err = mpl__mat_alloc(&m, n, s.nsel)) != 0)
    err = mpl__fail(info, err, 0, -1, "not enough memory for a %zux%zu matrix",
                    n, s.nsel);
  if (!err && n && s.nsel) memcpy(m->data, vals, n * s.nsel * sizeof *vals);
  free(vals);
  free(s.want);
  free(t.fld);
  if (err) {
    free(info->header);
    info->header = NULL;
    return err;
  }
  *out = m;
  return 0;
}

/* Split a header line into its fields, unquoted. */
int mpl__split_fields(const char *line, char sep, char ***out, size_t *n) {
  tok t = {line, line + strlen(line), sep == ' ' ? 0 : sep, 1, NULL, 0, 0, 0};
  mpl_load_info info;
  char **v = NULL;
  size_t k = 0, cap = 0;
  int last = 0, err = 0;
  while (!last && !err) {
    if ((err = next_field(&t, &last, &info)) != 0) break;
    if (k == cap) {
      cap = cap ? 2 * cap : 8;
      char **nv = realloc(v, cap * sizeof *nv);
      if (!nv) {
        err = MPL_ENOMEM;
        break;
      }
      v = nv;
    }
    if (!(v[k] = strndup(t.fld, t.flen)))
      err = MPL_ENOMEM;
    else
      k++;
  }
  free(t.fld);
  if (err) {
    while (k) free(v[--k]);
    free(v);
    return err == MPL_ENOMEM ? err : MPL_EFORMAT;
  }
  *out = v;
  *n = k;
  return 0;
}
