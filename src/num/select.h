/*
** select.h: private interface of comparison and selection in the numeric
** core (select.c): comparisons with 0/1 results, NaN and infinity tests,
** where, maximum/minimum, clip, counting nonzeros, and masked selection.
**
** As in arith.h, nothing here includes Lua or raises; results go into
** matrices the caller made with the shape it checked.
*/
#ifndef MPL_SELECT_H
#define MPL_SELECT_H

#include <stddef.h>

#include "arith.h"

/* Operations of mpl__select: comparisons (1 where true, else 0; NaN
** compares false except with NE), maximum and minimum (NaN wins; of two
** equal values, -0 and 0, the second, as in NumPy), tests of one operand,
** where (b where a is nonzero, else c) and clip (a bounded by the numbers
** lo and hi, NaN kept). */
enum {
  MPL__S_LT,
  MPL__S_LE,
  MPL__S_GT,
  MPL__S_GE,
  MPL__S_EQ,
  MPL__S_NE,
  MPL__S_MAX,
  MPL__S_MIN, /* two operands */
  MPL__S_ISNAN,
  MPL__S_ISINF,
  MPL__S_ISFINITE,
  MPL__S_CLIP,  /* one */
  MPL__S_WHERE, /* three */
  MPL__S_COUNT
};

/* How many operands op takes (1, 2 or 3). */
int mpl__select_arity(int op);

/* out = op(a [, b [, c]]) element by element with broadcasting (each
** operand a matrix or a number); out must have the broadcast shape
** (MPL_ESHAPE) and may be an operand or overlap one.  lo and hi are
** MPL__S_CLIP's bounds. */
int mpl__select(int op, const mpl__arg *args, double lo, double hi,
                mpl_mat *out);

/* The broadcast shape of n operands, or MPL_ESHAPE. */
int mpl__bcast_n(const mpl__arg *args, int n, size_t *r, size_t *c);

/* Number of nonzero elements (NaN counts) of m, and per column (dim 1,
** into 1 x c out) or per row (dim 2, into r x 1 out). */
int mpl__count_nz(const mpl_mat *m, size_t *count);
int mpl__count_nz_dim(const mpl_mat *m, int dim, mpl_mat *out);

/* Masked selection in two steps, so that the caller can make the result
** in between: mpl__mask_plan counts the nonzeros of mask (*k) and, for a
** contiguous mask, each fixed block's first output slot into offs, which
** holds mpl__mask_blocks(mask) + 1 slots (0 blocks: offs is not used);
** mpl__mask_select then puts the elements of m where mask (same shape) is
** nonzero, in row order, into the 1 x k out. */
size_t mpl__mask_blocks(const mpl_mat *mask);
int mpl__mask_plan(const mpl_mat *mask, size_t *offs, size_t *k);
int mpl__mask_select(const mpl_mat *m, const mpl_mat *mask, const size_t *offs,
                     mpl_mat *out);

/* The elements of m where mask is nonzero get the elements of the vector
** src (k of them) in row order. */
int mpl__mask_put(mpl_mat *m, const mpl_mat *mask, const mpl_mat *src);

#endif
