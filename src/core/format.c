/*
** format.c: the text form of a matrix, following NumPy's str() of a 2-D
** float array: one format for all elements, integral values as "1.",
** fixed notation with the fewest digits (at most 8) that give each value
** back, scientific notation when magnitudes span more than 1e3 or leave
** [1e-4, 1e8), columns aligned on the decimal point, and only the three
** edge rows and columns of a matrix with more than 1000 elements.  Output
** is independent of the C locale a host may have set.
*/
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define THRESHOLD 1000 /* more elements than this are summarised */
#define EDGE 3         /* rows/columns shown at each edge when summarised */
#define MAXPREC 8
#define CELL 64            /* room for any one number's text */
#define CELLBUF (2 * CELL) /* a cell with its padding */
#define LINEWIDTH 75       /* NumPy's default line width */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", 0); }

typedef struct buf {
  char *p;
  size_t len, cap;
  int err;
} buf;

static void buf_add(buf *b, const char *s, size_t n) {
  if (b->err) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->err = MPL_ENOMEM;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* The fewest digits (<= MAXPREC) after the point that give v back; when
** even MAXPREC do not, the digits left after rounding to MAXPREC and
** dropping trailing zeros (NumPy's rule). */
static int min_digits(double v, char conv) {
  char s[CELL];
  const char *form = conv == 'e' ? "%.*e" : "%.*f";
  for (int d = 0; d < MAXPREC; d++) {
    snprintf(s, sizeof s, form, d, v);
    if (strtod(s, NULL) == v) return d;
  }
  snprintf(s, sizeof s, form, MAXPREC, v);
  char *end = conv == 'e' ? strchr(s, 'e') : s + strlen(s);
  int d = MAXPREC;
  while (d > 0 && end[-1] == '0') {
    end--;
    d--;
  }
  return d;
}

/* Indices shown along one dimension: all, or EDGE at each end. */
static size_t shown(size_t n, int summarise, size_t k) {
  return (summarise && n > 2 * EDGE && k >= EDGE) ? n - 2 * EDGE + k : k;
}

typedef struct fmt {
  int expo;           /* scientific notation */
  int integral;       /* every finite value is a whole number */
  int prec;           /* digits after the point (scientific notation) */
  int expdigits;      /* exponent digits, padded to the widest (>= 2) */
  size_t left, right; /* widths around the point of finite cells */
  size_t width;       /* the cell width */
} fmt;

/* s has room for CELLBUF bytes. */
static void cell_text(const fmt *f, double v, char *s) {
  if (isnan(v)) {
    strcpy(s, "nan");
  } else if (isinf(v)) {
    strcpy(s, v > 0 ? "inf" : "-inf");
  } else if (f->expo) {
    char t[CELL];
    snprintf(t, sizeof t, "%.*e", f->prec, v);
    char *e = strchr(t, 'e');
    int ex = atoi(e + 1);
    *e = '\0';
    snprintf(s, CELLBUF, "%s%se%c%0*d", t, f->prec == 0 ? "." : "",
             ex < 0 ? '-' : '+', f->expdigits, ex < 0 ? -ex : ex);
  } else { /* each value with its own digits, padded later like NumPy */
    int d = f->integral ? 0 : min_digits(v, 'f');
    snprintf(s, CELLBUF, "%.*f%s", d, v, d == 0 ? "." : "");
  }
}

/* Split a finite fixed-notation cell at its point. */
static void cell_widths(const char *s, size_t *left, size_t *right) {
  const char *dot = strchr(s, '.');
  *left = (size_t)(dot - s);
  *right = strlen(dot);
}

/* Visit the shown elements: choose the notation (NumPy's thresholds), the
** digits, then the widths; non-finite cells only widen the cell. */
static void choose_format(const double *shown_v, size_t n, fmt *f) {
  double maxv = 0, minv = INFINITY;
  int any = 0;
  size_t nonfinite = 0;
  char s[CELLBUF];
  memset(f, 0, sizeof *f);
  f->integral = 1;
  f->expdigits = 2;
  for (size_t k = 0; k < n; k++) {
    double v = shown_v[k];
    if (!isfinite(v)) {
      size_t w = isnan(v) ? 3 : v > 0 ? 3 : 4;
      if (w > nonfinite) nonfinite = w;
      continue;
    }
    double av = fabs(v);
    if (v != floor(v)) f->integral = 0;
    if (av == 0) continue;
    any = 1;
    if (av > maxv) maxv = av;
    if (av < minv) minv = av;
  }
  if (any && (maxv >= 1e8 || minv < 1e-4 || maxv / minv > 1e3)) {
    f->expo = 1;
    f->integral = 0;
    for (size_t k = 0; k < n; k++) {
      double v = shown_v[k];
      if (!isfinite(v)) continue;
      int d = min_digits(v, 'e');
      if (d > f->prec) f->prec = d;
    }
    for (size_t k = 0; k < n; k++) {
      double v = shown_v[k];
      if (!isfinite(v)) continue;
      snprintf(s, sizeof s, "%.*e", f->prec, v);
      int digits = (int)strlen(strchr(s, 'e') + 2);
      if (digits > f->expdigits) f->expdigits = digits;
    }
  }
  for (size_t k = 0; k < n; k++) {
    double v = shown_v[k];
    if (!isfinite(v)) continue;
    cell_text(f, v, s);
    size_t l = strlen(s), r = 0;
    if (!f->expo) cell_widths(s, &l, &r);
    if (l > f->left) f->left = l;
    if (r > f->right) f->right = r;
  }
  f->width = f->left + f->right;
  if (nonfinite > f->width) f->width = nonfinite;
}

/* A cell of exactly f->width characters: finite fixed-notation cells are
** aligned on the point, the rest right-aligned. */
static void cell_padded(const fmt *f, double v, char *out) {
  char s[CELLBUF];
  cell_text(f, v, s);
  size_t l = strlen(s), r = 0, lead, tail = 0;
  if (f->expo || !isfinite(v)) {
    lead = f->width - l;
  } else {
    cell_widths(s, &l, &r);
    lead = f->width - f->right - l;
    tail = f->right - r;
  }
  snprintf(out, 2 * CELLBUF, "%*s%s%*s", (int)lead, "", s, (int)tail, "");
}

/* One row as NumPy's str() lays it out: words separated by a space,
** wrapped before a word that would pass column 73 (75, less the brackets),
** continuation lines indented by two spaces. */
static void put_row(buf *o, const mpl_mat *m, size_t a, size_t nc, int sum,
                    const fmt *f) {
  char line[LINEWIDTH + 4 * CELLBUF], word[2 * CELLBUF];
  size_t len = 2, start = o->len; /* the virtual two-space indent */
  memset(line, ' ', 2);
  int dots = nc < m->cols; /* "..." stands between the edge columns */
  size_t nwords = nc + (size_t)dots;
  for (size_t k = 0; k < nwords; k++) {
    if (dots && k == EDGE) {
      strcpy(word, "...");
    } else {
      size_t b = dots && k > EDGE ? k - 1 : k;
      cell_padded(f, MPL_AT(m, shown(m->rows, sum, a), shown(m->cols, sum, b)),
                  word);
    }
    size_t wl = strlen(word);
    if (len + wl > LINEWIDTH - 2 && len > 2) {
      while (len > 2 && line[len - 1] == ' ') len--;
      buf_add(o, line, len);
      buf_str(o, "\n");
      len = 2;
    }
    memcpy(line + len, word, wl);
    len += wl;
    if (k + 1 < nwords) line[len++] = ' ';
  }
  buf_add(o, line, len);
  /* the first two characters are the indent: they become "[" */
  memmove(o->p + start + 1, o->p + start + 2, o->len - start - 2);
  o->p[start] = '[';
  o->len--;
  o->p[o->len] = '\0';
  buf_str(o, "]");
}

int mpl_mat_format(char **out, const mpl_mat *m) {
  buf o = {NULL, 0, 0, 0};
  char head[96];
  *out = NULL;
  if (!m) return MPL_EINVAL;
  pthread_once(&c_locale_once, c_locale_init);
  locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
  snprintf(head, sizeof head, "mat %zux%zu\n", m->rows, m->cols);
  buf_str(&o, head);
  if (m->rows == 0 || m->cols == 0) {
    buf_str(&o, "[]");
  } else {
    int sum = m->rows * m->cols > THRESHOLD;
    size_t nr = sum && m->rows > 2 * EDGE ? 2 * EDGE : m->rows;
    size_t nc = sum && m->cols > 2 * EDGE ? 2 * EDGE : m->cols;
    fmt f;
    double *v = malloc(nr * nc * sizeof *v); /* <= 1000 shown values */
    if (!v) {
      if (old) uselocale(old);
      free(o.p);
      return MPL_ENOMEM;
    }
    for (size_t a = 0; a < nr; a++)
      for (size_t b = 0; b < nc; b++)
        v[a * nc + b] =
            MPL_AT(m, shown(m->rows, sum, a), shown(m->cols, sum, b));
    choose_format(v, nr * nc, &f);
    free(v);
    buf_str(&o, "[");
    for (size_t a = 0; a < nr; a++) {
      if (a > 0) buf_str(&o, "\n ");
      if (a == EDGE && nr < m->rows) buf_str(&o, "...\n ");
      put_row(&o, m, a, nc, sum, &f);
    }
    buf_str(&o, "]");
  }
  if (old) uselocale(old);
  if (o.err) {
    free(o.p);
    return o.err;
  }
  *out = o.p;
  return 0;
}
