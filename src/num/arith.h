/*
** arith.h: private interface of the numeric core -- vectorised kernels
** (vecmath.c), helper threads (parfor.c), elementwise operations with
** broadcasting (elementwise.c), reductions (reduce.c) and linear algebra
** (linalg.c) -- and of its Lua binding (larith.c, llinalg.c).
**
** Like the rest of the core, nothing here includes Lua or raises: functions
** return 0 or a negative MPL_E* code.  Results are written into matrices the
** caller made (of the shape the caller checked), so a binding can create
** them as Lua values first and never leak one when it raises.
*/
#ifndef MPL_ARITH_H
#define MPL_ARITH_H

#include <stddef.h>

#include "internal.h"

/* Two doubles in one SSE2 register (every x86-64 has it; plain pairs
** elsewhere): the lanes of the vectorised sum and product leaves. */
typedef double mpl__v2d __attribute__((vector_size(16)));

/* Long reads prefetch this many elements (8 KB, two pages) ahead:
** matrices live in shared memory of 4 KiB pages, where the hardware
** prefetcher stops at every page; a load that far ahead starts the next
** pages early.  On a 10^7 line, against 1 KB ahead: two threads of an
** AVX-512 Xeon went from 2.1-2.9 to 1.5-1.7 ms for sum, min, max, argmax
** and norm (std 4.8-5.5 to 3.1-3.3 ms); one thread gained too, by more
** than its run-to-run spread.  1 KB ahead had gained Zen 3 about 10 % in
** one thread over none. */
#define MPL__PF_AHEAD 1024

/* Prefetch the n elements that start MPL__PF_AHEAD after p, a line (8
** elements) at a time: for loops that take a run in chunks. */
static inline void mpl__prefetch_ahead(const double *p, size_t n) {
  for (size_t i = 0; i < n; i += 8) __builtin_prefetch(p + MPL__PF_AHEAD + i);
}

/* ---- vecmath.c: kernels over contiguous arrays ---- */

/* Unary operations. */
enum {
  MPL__U_NEG,
  MPL__U_EXP,
  MPL__U_LOG,
  MPL__U_SQRT,
  MPL__U_ABS,
  MPL__U_SIN,
  MPL__U_COS,
  MPL__U_TANH,
  MPL__U_FLOOR,
  MPL__U_CEIL,
  /* libmvec's (glibc 2.35) where vectorised, libm's otherwise */
  MPL__U_TAN,
  MPL__U_ASIN,
  MPL__U_ACOS,
  MPL__U_ATAN,
  MPL__U_SINH,
  MPL__U_COSH,
  MPL__U_LOG2,
  MPL__U_LOG10,
  MPL__U_LOG1P,
  MPL__U_EXPM1,
  /* single instructions: half away from zero, toward zero, -1/0/1 */
  MPL__U_ROUND,
  MPL__U_TRUNC,
  MPL__U_SIGN,
  MPL__U_COUNT
};

/* Binary operations (MPL__B_POW is x to the power y, MPL__B_ATAN2 the
** angle of the point (y, x) for x op y = atan2(x, y)). */
enum {
  MPL__B_ADD,
  MPL__B_SUB,
  MPL__B_MUL,
  MPL__B_DIV,
  MPL__B_POW,
  MPL__B_ATAN2,
  MPL__B_COUNT
};

/* Whether a unary operation calls a function per vector (heavy: threads
** pay from smaller sizes) rather than a few instructions. */
int mpl__vm_heavy(int op, int binary);

/* Instruction sets the kernels are built for. */
enum { MPL__ISA_GENERIC, MPL__ISA_AVX2, MPL__ISA_AVX512 };

/* The instruction set in use (the best this CPU has, unless lowered). */
int mpl__vm_isa(void);

/* Use at most `isa` (for tests and benchmarks); returns the level now in
** use, which never exceeds what the CPU supports. */
int mpl__vm_set_isa(int isa);

/* o[i] = op(x[i]) for i < n; o may equal x.  nt: o will not be read soon,
** so it is written around the caches.  An element's result never depends
** on its position or on n. */
void mpl__vm_unary(int op, const double *x, double *o, size_t n, int nt);

/* o[i] = x[i] op y[i]; xvec / yvec 0 means x / y is the single value *x /
** *y for every i (not both).  o may equal x or y. */
void mpl__vm_binary(int op, const double *x, int xvec, const double *y,
                    int yvec, double *o, size_t n, int nt);

/* One element, computed exactly as the array kernels do. */
double mpl__vm_unary1(int op, double x);
double mpl__vm_binary1(int op, double x, double y);

/* ---- parfor.c: splitting a loop over helper threads ---- */

typedef void (*mpl__range_fn)(void *ctx, size_t lo, size_t hi);

/* Call fn(ctx, lo, hi) on pieces covering [0, n): one piece per helper
** thread (at most mpl_procs() and the online CPUs), each at least `grain`
** long and starting at a multiple of `align`; the calling thread takes the
** first piece.  Helper threads live only for the call, with every signal
** blocked.  Falls back to one thread when threads cannot be made.
** Returns MPL_EINTR when mpl_interrupt() stopped it (the range then only
** partly done; pieces are at most a few grains), else 0. */
int mpl__parfor(size_t n, size_t grain, size_t align, mpl__range_fn fn,
                void *ctx);

/* How many pieces mpl__parfor would use for n and grain. */
int mpl__parfor_parts(size_t n, size_t grain);

/* ---- elementwise.c ---- */

/* An operand: the matrix m, or when m is NULL the number s. */
typedef struct mpl__arg {
  const mpl_mat *m;
  double s;
} mpl__arg;

/* The broadcast shape of an ar x ac and a br x bc operand (each dimension
** equal, or 1 in one of them), or MPL_ESHAPE. */
int mpl__bcast_shape(size_t ar, size_t ac, size_t br, size_t bc, size_t *r,
                     size_t *c);

/* out = a op b, element by element with broadcasting; out must have the
** broadcast shape (MPL_ESHAPE).  Any operand may be a view; out may be an
** operand or overlap one (such an operand is copied first). */
int mpl__ew_binary(int op, mpl__arg a, mpl__arg b, mpl_mat *out);

/* out = op(a) element by element; shapes must be equal (MPL_ESHAPE). */
int mpl__ew_unary(int op, const mpl_mat *a, mpl_mat *out);

/* 1 when writing out element by element could change what is still to be
** read from m (they overlap and out is not m itself): copy m first. */
int mpl__ew_must_copy(const mpl_mat *m, const mpl_mat *out);

/* ---- reduce.c ---- */

/* Every reduction but the trace (min(r, c) elements) returns 0 or an
** error code, MPL_EINTR when mpl_interrupt() stopped it. */

/* Sum of every element, by pairwise summation (blocks of 128 summed with
** eight accumulators, then halves added recursively); 0 when empty. */
int mpl__sum(const mpl_mat *m, double *res);

/* The pairwise sum of x[0], x[s], ..., x[(n-1)s] -- of (x - mu)^2 when sq
** (squares when mu is 0) -- the tree of mpl__sum, its top subtrees on the
** helper threads when n is large (the bits do not change).  0 when
** mpl_interrupt() stopped it; the caller checks. */
double mpl__pairwise(const double *x, ptrdiff_t s, size_t n, int sq, double mu);

/* Per-column sums into the 1 x c out (dim 1) or per-row sums into the
** r x 1 out (dim 2), pairwise in both directions. */
int mpl__sum_dim(const mpl_mat *m, int dim, mpl_mat *out);

/* Smallest (max 0) or largest (max 1) element; NaN when any is NaN.  The
** matrix must not be empty (MPL_EINVAL). */
int mpl__minmax(const mpl_mat *m, int max, double *res);

/* Where the first smallest (max 0) or largest (max 1) element of
** x[0..n) stands, or the first NaN; 0 when n is 0.  MPL_EINTR when
** mpl_interrupt() stopped it. */
int mpl__argext_run(const double *x, size_t n, int max, size_t *at);
int mpl__minmax_dim(const mpl_mat *m, int dim, int max, mpl_mat *out);

/* Frobenius norm, without overflow or underflow in the squares. */
int mpl__norm(const mpl_mat *m, double *res);

/* Sum of the main diagonal (min(r, c) elements). */
double mpl__trace(const mpl_mat *m);

/* *close = 1 when |a - b| <= atol + rtol * |b| for every element pair
** (with broadcasting; equal infinities are close, NaN is never close). */
int mpl__allclose(mpl__arg a, mpl__arg b, double rtol, double atol, int *close);

/* ---- linalg.c: LAPACK (OpenBLAS) ---- */

/* Why a linear-algebra call failed (with MPL_EINVAL), for messages. */
enum {
  MPL__LA_OK,
  MPL__LA_NOTSQUARE, /* the matrix must be square */
  MPL__LA_SHAPE,     /* the operands' shapes do not agree */
  MPL__LA_SINGULAR,  /* an exactly zero pivot */
  MPL__LA_ILLCOND,   /* reciprocal condition number below machine epsilon */
  MPL__LA_NOTPD,     /* not positive definite */
  MPL__LA_NOTSYM,    /* not symmetric */
  MPL__LA_NONFINITE, /* NaN or infinity in the input */
  MPL__LA_NOCONV     /* the iteration did not converge */
};

typedef struct mpl__la_info {
  int why;      /* MPL__LA_* */
  double rcond; /* estimate, for MPL__LA_ILLCOND */
} mpl__la_info;

/* Every function leaves its inputs untouched and writes outputs the caller
** made with the shapes given.  Sizes beyond LAPACK's int: MPL_EOVERFLOW. */

/* x (n x k) solves a x = b for square a (n x n) and b (n x k). */
int mpl__la_solve(const mpl_mat *a, const mpl_mat *b, mpl_mat *x,
                  mpl__la_info *info);

/* x (n x n) = inverse of a. */
int mpl__la_inv(const mpl_mat *a, mpl_mat *x, mpl__la_info *info);

/* Determinant of square a (0 for a singular one, 1 for 0 x 0). */
int mpl__la_det(const mpl_mat *a, double *det, mpl__la_info *info);

/* r (n x n, upper triangular) with r^T r = a, a symmetric positive
** definite. */
int mpl__la_chol(const mpl_mat *a, mpl_mat *r, mpl__la_info *info);

/* Eigenvalues of symmetric a in ascending order into w (1 x n) and the
** matching orthonormal eigenvectors as the columns of v (n x n). */
int mpl__la_eigh(const mpl_mat *a, mpl_mat *w, mpl_mat *v, mpl__la_info *info);

/* a (m x n) = u diag(s) v^T with k = min(m, n) singular values in
** descending order in s (1 x k); thin: u m x k, v n x k; full: u m x m,
** v n x n. */
int mpl__la_svd(const mpl_mat *a, int full, mpl_mat *u, mpl_mat *s, mpl_mat *v,
                mpl__la_info *info);

/* x (n x k) minimising ||a x - b|| for a (m x n), b (m x k), the
** minimum-norm one when a is rank deficient; singular values below
** rcond * s_max count as zero (rcond < 0: machine epsilon * max(m, n)).
** *rank is the effective rank; s (1 x min(m, n)) gets the singular values
** when not NULL. */
int mpl__la_lstsq(const mpl_mat *a, const mpl_mat *b, double rcond, mpl_mat *x,
                  int *rank, mpl_mat *s, mpl__la_info *info);

/* Thin QR of a (m x n), k = min(m, n): q (m x k) with orthonormal
** columns, r (k x n) upper triangular, signs as LAPACK's dgeqrf gives. */
int mpl__la_qr(const mpl_mat *a, mpl_mat *q, mpl_mat *r, mpl__la_info *info);

/* Eigenvalues of square a, real parts into wr and imaginary parts into wi
** (1 x n each, LAPACK's order, complex pairs adjacent with the positive
** imaginary part first), and the unit eigenvectors as columns: real parts
** in vr, imaginary parts in vi (n x n each). */
int mpl__la_eig(const mpl_mat *a, mpl_mat *wr, mpl_mat *wi, mpl_mat *vr,
                mpl_mat *vi, mpl__la_info *info);

/* The singular values of a, descending, into s (1 x min(m, n)). */
int mpl__la_svals(const mpl_mat *a, mpl_mat *s, mpl__la_info *info);

/* x (n x m) = the pseudo-inverse of a (m x n): singular values at most
** rcond times the largest count as zero. */
int mpl__la_pinv(const mpl_mat *a, double rcond, mpl_mat *x,
                 mpl__la_info *info);

/* Matrix norms as NumPy's for 2-D arrays. */
enum { MPL__NORM_FRO, MPL__NORM_1, MPL__NORM_2, MPL__NORM_INF, MPL__NORM_NUC };
int mpl__la_norm(const mpl_mat *a, int ord, double *res, mpl__la_info *info);

#endif
