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
#define CELL 48        /* longest cell: "-1.23456789e+308" and the like */

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

static void buf_pad(buf *b, size_t n) {
  while (n--) buf_add(b, " ", 1);
}

/* The fewest digits (<= MAXPREC) after the point that give v back. */
static int min_digits(double v, char conv) {
  char s[CELL];
  for (int d = 0; d < MAXPREC; d++) {
    snprintf(s, sizeof s, conv == 'e' ? "%.*e" : "%.*f", d, v);
    if (strtod(s, NULL) == v) return d;
  }
  return MAXPREC;
}

/* Indices shown along one dimension: all, or EDGE at each end. */
static size_t shown(size_t n, int summarise, size_t k) {
  return (summarise && n > 2 * EDGE && k >= EDGE) ? n - 2 * EDGE + k : k;
}

typedef struct fmt {
  int expo;     /* scientific notation */
  int integral; /* every finite value is a whole number */
  int prec;     /* digits after the point (scientific notation) */
  size_t left, right; /* widths around the point (fixed notation) */
  size_t width; /* the cell width */
} fmt;

static void cell_text(const fmt *f, double v, char *s) {
  if (isnan(v)) strcpy(s, "nan");
  else if (isinf(v)) strcpy(s, v > 0 ? "inf" : "-inf");
  else if (f->expo) {
    snprintf(s, CELL, "%.*e", f->prec, v);
    if (f->prec == 0) { /* "1e+10" -> "1.e+10" */
      char *e = strchr(s, 'e');
      memmove(e + 1, e, strlen(e) + 1);
      *e = '.';
    }
  } else { /* each value with its own digits, padded later like NumPy */
    int d = f->integral ? 0 : min_digits(v, 'f');
    snprintf(s, CELL, "%.*f", d, v);
    if (d == MAXPREC) { /* rounded: drop the zeros rounding left */
      size_t n = strlen(s);
      while (s[n - 1] == '0') s[--n] = '\0';
    }
    if (d == 0) strcat(s, ".");
  }
}

/* Split a fixed-notation cell at its point; non-finite cells have none. */
static void cell_widths(const char *s, size_t *left, size_t *right) {
  const char *dot = strchr(s, '.');
  if (!dot) {
    *left = strlen(s);
    *right = 0;
  } else {
    *left = (size_t)(dot - s);
    *right = strlen(dot);
  }
}

/* Visit every shown element: choose the notation, then the widths. */
static void choose_format(const mpl_mat *m, size_t nr, size_t nc, int sum,
                          fmt *f) {
  double maxv = 0, minv = INFINITY;
  int any = 0;
  memset(f, 0, sizeof *f);
  f->integral = 1;
  for (size_t a = 0; a < nr; a++)
    for (size_t b = 0; b < nc; b++) {
      double v = MPL_AT(m, shown(m->rows, sum, a), shown(m->cols, sum, b));
      if (!isfinite(v)) continue;
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
  }
  char s[CELL];
  for (int pass = 0; pass < 2; pass++)
    for (size_t a = 0; a < nr; a++)
      for (size_t b = 0; b < nc; b++) {
        double v = MPL_AT(m, shown(m->rows, sum, a), shown(m->cols, sum, b));
        if (pass == 0) {
          if (isfinite(v) && f->expo) {
            int d = min_digits(v, f->expo ? 'e' : 'f');
            if (d > f->prec) f->prec = d;
          }
          continue;
        }
        cell_text(f, v, s);
        size_t l, r;
        if (f->expo) {
          l = strlen(s);
          r = 0;
        } else {
          cell_widths(s, &l, &r);
        }
        if (l > f->left) f->left = l;
        if (r > f->right) f->right = r;
      }
  f->width = f->left + f->right;
}

/* Right-align on the point in fixed notation; right-align otherwise. */
static void put_cell(buf *o, const fmt *f, double v) {
  char s[CELL];
  cell_text(f, v, s);
  if (f->expo || !isfinite(v)) {
    buf_pad(o, f->width - strlen(s));
    buf_str(o, s);
    return;
  }
  size_t l, r;
  cell_widths(s, &l, &r);
  buf_pad(o, f->left - l);
  buf_str(o, s);
  buf_pad(o, f->right - r);
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
    choose_format(m, nr, nc, sum, &f);
    buf_str(&o, "[");
    for (size_t a = 0; a < nr; a++) {
      if (a > 0) buf_str(&o, "\n ");
      if (a == EDGE && nr < m->rows) buf_str(&o, "...\n ");
      buf_str(&o, "[");
      for (size_t b = 0; b < nc; b++) {
        if (b > 0) buf_str(&o, " ");
        if (b == EDGE && nc < m->cols) buf_str(&o, "... ");
        put_cell(&o, &f, MPL_AT(m, shown(m->rows, sum, a), shown(m->cols, sum, b)));
      }
      buf_str(&o, "]");
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
