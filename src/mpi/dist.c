/*
** dist.c: row-distributed matrices: which rows each rank holds, and the
** products mat.mpi.dot and mat.mpi.gram over them.
**
** DESIGN: the bits never depend on the number of ranks or workers, by
** construction, as for mat.dot (src/num/dot.c).  The n rows of a
** distributed matrix are cut into groups fixed by n alone
** (mpl__mpi_group: a multiple of 256, at most 64 groups) and ranks hold
** whole groups.  Every partial product is one mpl_dot call on one row
** group of A by one group of the inner dimension: its shape, and so its
** cut into BLAS calls and its bits, are the same whichever rank makes it
** and for any procs.  Sums over the inner dimension are taken group by
** group in group order.  In mpi.dot each rank adds onto its rows of the
** result as the ranks broadcast B's blocks in rank order (which is group
** order): each group's product is added by BLAS itself (beta = 1,
** mpl__dot_add), with no temporary, since whichever rank holds a row
** group makes every call on it, always in the same order.  In mpi.gram
** the running sum travels from rank to rank in rank order, and a group's
** partial product is made by the rank holding it before the sum arrives,
** so each is made whole (beta = 0) and then added, in order, on every
** rank alike; the last rank broadcasts the sum.  MPI's own reductions
** (whose order is the library's) are never used for numbers.
*/
#include <string.h>

#include "comm.h"

#define GROUP_UNIT 256 /* OpenBLAS's k blocking on current x86 kernels */
#define MAX_GROUPS 64

static int agree(int err, const char *fn);

size_t mpl__mpi_group(size_t n) {
  size_t per = (n + MAX_GROUPS - 1) / MAX_GROUPS;
  per = (per + GROUP_UNIT - 1) / GROUP_UNIT * GROUP_UNIT;
  return per < GROUP_UNIT ? GROUP_UNIT : per;
}

/* Rank r's groups are [ceil(G*r/size), ceil(G*(r+1)/size)), in rows:
** balanced, and the first ranks hold the groups when there are few. */
void mpl__mpi_block(size_t n, int r, int size, size_t *r0, size_t *r1) {
  size_t g = mpl__mpi_group(n), ng = (n + g - 1) / g;
  size_t s = (size_t)(size > 0 ? size : 1);
  size_t g0 = (ng * (size_t)r + s - 1) / s;
  size_t g1 = (ng * ((size_t)r + 1) + s - 1) / s;
  *r0 = g0 * g < n ? g0 * g : n;
  *r1 = g1 * g < n ? g1 * g : n;
}

/* A view of m by value (same storage, no reference taken). */
static mpl_mat view(const mpl_mat *m, size_t r0, size_t c0, size_t nr,
                    size_t nc) {
  mpl_mat v = *m;
  if (nr && nc) v.data = &MPL_AT(m, r0, c0);
  v.rows = nr;
  v.cols = nc;
  return v;
}

static mpl_mat transposed(const mpl_mat *m) {
  mpl_mat v = *m;
  v.rows = m->cols;
  v.cols = m->rows;
  v.rs = m->cs;
  v.cs = m->rs;
  return v;
}

/* dst += src, element by element (same shape). */
static void add_into(mpl_mat *dst, const mpl_mat *src) {
  for (size_t i = 0; i < dst->rows; i++)
    for (size_t j = 0; j < dst->cols; j++)
      MPL_AT(dst, i, j) += MPL_AT(src, i, j);
}

/* This rank's rows of a times the block bj (rows [k0, k1) of B), each
** group's product added onto out by its BLAS calls (mpl__dot_add), the
** first group's written. */
static int dot_block(const mpl_mat *a, const mpl_mat *bj, size_t k0, size_t k1,
                     mpl_mat *out, size_t gm, int procs) {
  size_t gk = mpl__mpi_group(a->cols), n = out->cols;
  for (size_t g0 = k0; g0 < k1; g0 += gk) {
    size_t g1 = g0 + gk < k1 ? g0 + gk : k1;
    mpl_mat bv = view(bj, g0 - k0, 0, g1 - g0, n);
    for (size_t h0 = 0; h0 < a->rows; h0 += gm) {
      size_t h1 = h0 + gm < a->rows ? h0 + gm : a->rows;
      mpl_mat av = view(a, h0, g0, h1 - h0, g1 - g0);
      mpl_mat ov = view(out, h0, 0, h1 - h0, n);
      int err = g0 == 0 ? mpl_dot(&av, &bv, &ov, procs)
                        : mpl__dot_add(&av, &bv, &ov, procs);
      if (err) return err;
    }
  }
  return 0;
}

int mpl__mpi_dot(const mpl_mat *a, const mpl_mat *b, mpl_mat *out, size_t m,
                 int procs) {
  size_t k = a->cols, n = out->cols, big = 0;
  int R = mpl__mpi_size(), me = mpl__mpi_rank(), err = 0;
  if (k == 0) return mpl_mat_fill(out, 0.0);
  for (int j = 0; j < R; j++) {
    size_t k0, k1;
    mpl__mpi_block(k, j, R, &k0, &k1);
    if (j != me && k1 - k0 > big) big = k1 - k0;
  }
  mpl_mat *buf = NULL;
  if (big) err = mpl__mat_alloc(&buf, big, n);
  err = agree(err, "mat.mpi.dot");
  for (int j = 0; j < R && !err; j++) {
    size_t k0, k1;
    mpl__mpi_block(k, j, R, &k0, &k1);
    if (k1 == k0) continue;
    mpl_mat bj = j == me ? *b : view(buf, 0, 0, k1 - k0, n);
    err = mpl__mpi_bcast_mat(&bj, j);
    if (!err) err = dot_block(a, &bj, k0, k1, out, mpl__mpi_group(m), procs);
  }
  mpl_mat_release(buf);
  return err;
}

/* This rank's groups' partial products A_g^T A_g added in order onto
** out (*started: out holds a sum already). */
static int gram_local(const mpl_mat *a, size_t gm, mpl_mat *out, mpl_mat *tmp,
                      int *started, int procs) {
  for (size_t h0 = 0; h0 < a->rows; h0 += gm) {
    size_t h1 = h0 + gm < a->rows ? h0 + gm : a->rows;
    mpl_mat av = view(a, h0, 0, h1 - h0, a->cols), at = transposed(&av);
    mpl_mat t = view(tmp, 0, 0, out->rows, out->cols);
    int err = mpl_dot(&at, &av, *started ? &t : out, procs);
    if (!err && *started) add_into(out, &t);
    if (err) return err;
    *started = 1;
  }
  return 0;
}

/* The partial products of this rank's groups, made before the running
** sum arrives (so ranks compute at once), one n x n matrix per group. */
static int gram_parts(const mpl_mat *a, size_t gm, mpl_mat **parts, size_t np,
                      int procs) {
  size_t n = a->cols;
  for (size_t p = 0; p < np; p++) {
    size_t h0 = p * gm, h1 = h0 + gm < a->rows ? h0 + gm : a->rows;
    mpl_mat av = view(a, h0, 0, h1 - h0, n), at = transposed(&av);
    int err = mpl__mat_alloc(&parts[p], n, n);
    if (!err) err = mpl_dot(&at, &av, parts[p], procs);
    if (err) return err;
  }
  return 0;
}

/* Every rank's verdict on its local phase, so none waits in the chain
** for a rank that failed. */
static int agree(int err, const char *fn) {
  int who, aerr = mpl__mpi_agree(err != 0, &who);
  if (err || aerr) return err ? err : aerr;
  if (who < 0) return 0;
  mpl__set_errmsg("%s failed on rank %d", fn, who);
  return MPL_ESYS;
}

/* Take the running sum from the rank before, add this rank's parts in
** order, pass it on. */
static int gram_chain(mpl_mat *out, mpl_mat **parts, size_t np, int started) {
  int R = mpl__mpi_size(), me = mpl__mpi_rank(), err = 0;
  if (me > 0) {
    err = mpl__mpi_recv_bytes(&started, sizeof started, me - 1, -1);
    if (!err) err = mpl__mpi_recv_mat(out, me - 1, -1);
    for (size_t p = 0; p < np && !err; p++) {
      if (started)
        add_into(out, parts[p]);
      else
        err = mpl_mat_assign(out, parts[p]);
      started = 1;
    }
  }
  if (!err && me + 1 < R) {
    err = mpl__mpi_send_bytes(&started, sizeof started, me + 1, -1);
    if (!err) err = mpl__mpi_send_mat(out, me + 1, -1);
  }
  if (!err) err = mpl__mpi_bcast_mat(out, R - 1);
  return err;
}

int mpl__mpi_gram(const mpl_mat *a, mpl_mat *out, size_t m, int procs) {
  int me = mpl__mpi_rank(), started = 0, err = 0;
  size_t gm = mpl__mpi_group(m), n = a->cols, np = (a->rows + gm - 1) / gm;
  mpl_mat *tmp = NULL, *parts[MAX_GROUPS] = {0};
  if (np > MAX_GROUPS) err = MPL_ESHAPE;
  if (!err) err = mpl_mat_fill(out, 0.0);
  if (!err && me == 0) {
    err = mpl__mat_alloc(&tmp, n, n);
    if (!err) err = gram_local(a, gm, out, tmp, &started, procs);
  } else if (!err) {
    err = gram_parts(a, gm, parts, np, procs);
  }
  err = agree(err, "mat.mpi.gram");
  if (!err) err = gram_chain(out, parts, np, started);
  for (size_t p = 0; p < np && p < MAX_GROUPS; p++) mpl_mat_release(parts[p]);
  mpl_mat_release(tmp);
  return err;
}
