/*
** picture.c: a matrix brought to the resolution of its picture.  A
** 4000 x 4000 heatmap drawn on 600 x 400 pixels (or 80 x 40 terminal
** cells) needs 16 million numbers reduced to a few thousand before
** anything is drawn: each pixel shows the mean of the finite elements
** under it, summed here in one pass over the matrix in memory order.
** Lines and points for the terminal are set as braille dots (2 x 4 per
** character cell) in the same way, without a Lua loop per element.
*/
#include <math.h>
#include <stdlib.h>

#include "picture.h"

/* Add input row i's finite elements into the sums of their output
** columns. */
static void add_row(const mpl_mat *m, size_t i, const size_t *col, double *sum,
                    double *cnt, mpl__range *r) {
  const double *p = m->data + (ptrdiff_t)i * m->rs;
  double lo = r->lo, hi = r->hi;
  size_t n = 0;
  for (size_t j = 0; j < m->cols; j++) {
    double v = p[(ptrdiff_t)j * m->cs];
    if (!isfinite(v)) continue;
    sum[col[j]] += v, cnt[col[j]] += 1, n++;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  r->lo = lo, r->hi = hi, r->count += n;
}

int mpl__block_mean(const mpl_mat *m, mpl_mat *out, mpl__range *rg) {
  size_t R = m->rows, Cn = m->cols, r = out->rows, c = out->cols;
  if (!r || !c || r > R || c > Cn) return MPL_EINVAL;
  size_t *col = malloc(Cn * sizeof *col);
  double *sum = calloc(2 * c, sizeof *sum), *cnt = sum + c;
  if (!col || !sum) {
    free(col), free(sum);
    return MPL_ENOMEM;
  }
  for (size_t oj = 0; oj < c; oj++)
    for (size_t j = oj * Cn / c; j < (oj + 1) * Cn / c; j++) col[j] = oj;
  size_t mask = mpl__tick_mask(Cn);
  rg->lo = INFINITY, rg->hi = -INFINITY, rg->count = 0;
  mpl__interrupt_clear();
  for (size_t oi = 0; oi < r; oi++) {
    for (size_t i = oi * R / r; i < (oi + 1) * R / r; i++) {
      if (!(i & mask) && mpl__interrupt_pending()) break;
      add_row(m, i, col, sum, cnt, rg);
    }
    for (size_t oj = 0; oj < c; oj++) {
      MPL_AT(out, oi, oj) = cnt[oj] ? sum[oj] / cnt[oj] : NAN;
      sum[oj] = cnt[oj] = 0;
    }
  }
  free(col), free(sum);
  return mpl__interrupt_check();
}

/* Element i of a vector. */
static double elem(const mpl_mat *v, size_t i) {
  return v->rows == 1 ? v->data[(ptrdiff_t)i * v->cs]
                      : v->data[(ptrdiff_t)i * v->rs];
}

/* Set dot (px, py) (py 0 at the top) when it is on the grid. */
static void dot(const mpl__canvas *cv, unsigned char *cells, long px, long py) {
  static const unsigned char bit[2][4] = {{0x01, 0x02, 0x04, 0x40},
                                          {0x08, 0x10, 0x20, 0x80}};
  if (px < 0 || py < 0 || px >= 2 * (long)cv->w || py >= 4 * (long)cv->h)
    return;
  cells[(size_t)(py / 4) * cv->w + (size_t)(px / 2)] |= bit[px % 2][py % 4];
}

/* Dot coordinates of (x, y); 0 when the point is not drawn. */
static int to_dots(const mpl__canvas *cv, double x, double y, long *px,
                   long *py) {
  if (cv->logy) y = y > 0 ? log10(y) : NAN;
  if (!isfinite(x) || !isfinite(y)) return 0;
  double W = 2.0 * (double)cv->w - 1, H = 4.0 * (double)cv->h - 1;
  double fx = cv->x1 > cv->x0 ? (x - cv->x0) / (cv->x1 - cv->x0) * W : W / 2;
  double fy = cv->y1 > cv->y0 ? (cv->y1 - y) / (cv->y1 - cv->y0) * H : H / 2;
  /* far outside the grid: clamped, so a line there stays short */
  double lim = 4 * (W + H);
  *px = lround(fmin(fmax(fx, -lim), lim));
  *py = lround(fmin(fmax(fy, -lim), lim));
  return 1;
}

/* The dots of the line from (ax, ay) to (bx, by), ends included. */
static void line(const mpl__canvas *cv, unsigned char *cells, long ax, long ay,
                 long bx, long by) {
  long dx = labs(bx - ax), dy = -labs(by - ay);
  long sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1, e = dx + dy;
  for (;;) {
    dot(cv, cells, ax, ay);
    if (ax == bx && ay == by) break;
    long e2 = 2 * e;
    if (e2 >= dy) e += dy, ax += sx;
    if (e2 <= dx) e += dx, ay += sy;
  }
}

int mpl__braille(const mpl__canvas *cv, const mpl_mat *x, const mpl_mat *y,
                 unsigned char *cells) {
  size_t n = y->rows * y->cols;
  long px = 0, py = 0, qx, qy;
  int have = 0;
  mpl__interrupt_clear();
  for (size_t i = 0; i < n; i++) {
    if (!(i & (MPL__TICK - 1)) && mpl__interrupt_pending()) break;
    double xv = x ? elem(x, i) : (double)(i + 1);
    if (!to_dots(cv, xv, elem(y, i), &qx, &qy)) {
      have = 0;
      continue;
    }
    if (have && !cv->points)
      line(cv, cells, px, py, qx, qy);
    else
      dot(cv, cells, qx, qy);
    px = qx, py = qy, have = 1;
  }
  return mpl__interrupt_check();
}
