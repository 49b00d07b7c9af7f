/*
** vecmath_body.h: the kernels of one instruction set.  Not a header of its
** own: vecmath.c includes it once per instruction set, with VM_FN (name
** suffixing), VM_ATTR (target attribute), VM_W (doubles per vector), VM_T
** (the vector type) and the VM_* operation macros defined.
*/

/* o[i] = op(x[i]) into o + i, from i on (the loop of urun). */
#define VM_U(EXPR)                                                             \
  do {                                                                         \
    if (nt)                                                                    \
      for (; i < n; i += VM_W) {                                               \
        VM_T v = VM_LOAD(x + i);                                               \
        VM_STREAM(o + i, EXPR);                                                \
      }                                                                        \
    else                                                                       \
      for (; i < n; i += VM_W) {                                               \
        VM_T v = VM_LOAD(x + i);                                               \
        VM_STORE(o + i, EXPR);                                                 \
      }                                                                        \
  } while (0)

#ifndef VM_MVRUN
/* urun's operations that the libmvec instruction sets run through the
** trampoline; here (generic, VM_W 1) per element, in plain C. */
static VM_ATTR void VM_FN(urun_libm)(int op, const double *x, double *o,
                                     size_t n, int nt) {
  size_t i = 0;
  switch (op) {
  case MPL__U_LOG:
    VM_U(VM_LOG(v));
    break;
  case MPL__U_SIN:
    VM_U(VM_SIN(v));
    break;
  case MPL__U_COS:
    VM_U(VM_COS(v));
    break;
  case MPL__U_TANH:
    VM_U(VM_TANH(v));
    break;
  case MPL__U_TAN:
    VM_U(tan(v));
    break; /* VM_W is 1 here: plain C */
  case MPL__U_ASIN:
    VM_U(asin(v));
    break;
  case MPL__U_ACOS:
    VM_U(acos(v));
    break;
  case MPL__U_ATAN:
    VM_U(atan(v));
    break;
  case MPL__U_SINH:
    VM_U(sinh(v));
    break;
  case MPL__U_COSH:
    VM_U(cosh(v));
    break;
  case MPL__U_LOG2:
    VM_U(log2(v));
    break;
  case MPL__U_LOG10:
    VM_U(log10(v));
    break;
  case MPL__U_LOG1P:
    VM_U(log1p(v));
    break;
  case MPL__U_EXPM1:
    VM_U(expm1(v));
    break;
  default:
    break;
  }
}
#endif

/* o[i] = op(x[i]) for n a multiple of VM_W; o vector-aligned when nt. */
static VM_ATTR void VM_FN(urun)(int op, const double *x, double *o, size_t n,
                                int nt) {
  size_t i = 0;
#ifdef VM_MVRUN
  const void *fn = VM_MVFN(op);
  if (fn) { /* a libmvec function, through the trampoline */
    mvjob j = {fn, x, x, o, n / VM_W, VM_W * 8, VM_W * 8, nt};
    VM_MVRUN(&j);
    return;
  }
#endif
  switch (op) {
  case MPL__U_NEG:
    VM_U(VM_NEG(v));
    break;
  case MPL__U_SQRT:
    VM_U(VM_SQRT(v));
    break;
  case MPL__U_ABS:
    VM_U(VM_ABS(v));
    break;
  case MPL__U_EXP:
    VM_U(VM_EXP(v));
    break;
  case MPL__U_FLOOR:
    VM_U(VM_FLOOR(v));
    break;
  case MPL__U_CEIL:
    VM_U(VM_CEIL(v));
    break;
  case MPL__U_ROUND:
    VM_U(VM_ROUND(v));
    break;
  case MPL__U_TRUNC:
    VM_U(VM_TRUNC(v));
    break;
  case MPL__U_SIGN:
    VM_U(VM_SIGN(v));
    break;
  default:
#ifndef VM_MVRUN
    VM_FN(urun_libm)(op, x, o, n, nt);
#endif
    break;
  }
}
#undef VM_U

/* o[i] = x[i] op y[i] for n a multiple of VM_W (x or y one value when its
** flag is 0). */
static VM_ATTR void VM_FN(brun)(int op, const double *x, int xv,
                                const double *y, int yv, double *o, size_t n,
                                int nt) {
  size_t i = 0;
#ifdef VM_MVRUN
  if (op == MPL__B_POW || op == MPL__B_ATAN2) { /* libmvec's */
    double rx[VM_W], ry[VM_W];
    for (size_t k = 0; k < VM_W; k++)
      rx[k] = xv ? 0.0 : *x, ry[k] = yv ? 0.0 : *y;
    mvjob j = {op == MPL__B_POW ? VM_MVPOW : VM_MVATAN2,
               xv ? x : rx,
               yv ? y : ry,
               o,
               n / VM_W,
               xv ? VM_W * 8 : 0,
               yv ? VM_W * 8 : 0,
               nt};
    VM_MVRUN(&j);
    return;
  }
#endif
  VM_T sx = VM_SET1(xv ? 0.0 : *x), sy = VM_SET1(yv ? 0.0 : *y);
#define VM_B1(A, B, EXPR)                                                      \
  do {                                                                         \
    if (nt)                                                                    \
      for (; i < n; i += VM_W) {                                               \
        VM_T a = A, b = B;                                                     \
        VM_STREAM(o + i, EXPR);                                                \
      }                                                                        \
    else                                                                       \
      for (; i < n; i += VM_W) {                                               \
        VM_T a = A, b = B;                                                     \
        VM_STORE(o + i, EXPR);                                                 \
      }                                                                        \
  } while (0)
#define VM_B(EXPR)                                                             \
  do {                                                                         \
    if (xv && yv)                                                              \
      VM_B1(VM_LOAD(x + i), VM_LOAD(y + i), EXPR);                             \
    else if (xv)                                                               \
      VM_B1(VM_LOAD(x + i), sy, EXPR);                                         \
    else                                                                       \
      VM_B1(sx, VM_LOAD(y + i), EXPR);                                         \
  } while (0)
  switch (op) {
  case MPL__B_ADD:
    VM_B(VM_ADD(a, b));
    break;
  case MPL__B_SUB:
    VM_B(VM_SUB(a, b));
    break;
  case MPL__B_MUL:
    VM_B(VM_MUL(a, b));
    break;
  case MPL__B_DIV:
    VM_B(VM_DIV(a, b));
    break;
#ifndef VM_MVRUN
  case MPL__B_POW:
    VM_B(VM_POW(a, b));
    break;
  case MPL__B_ATAN2:
    VM_B(atan2(a, b));
    break; /* plain C */
#endif
  default:
    break;
  }
#undef VM_B
#undef VM_B1
}

/* Fewer than VM_W elements, through one padded vector (padding 1.0 keeps
** every lane on the ordinary path). */
static VM_ATTR void VM_FN(upad)(int op, const double *x, double *o, size_t k) {
  double bx[VM_W], bo[VM_W];
  for (size_t j = 0; j < VM_W; j++) bx[j] = j < k ? x[j] : 1.0;
  VM_FN(urun)(op, bx, bo, VM_W, 0);
  for (size_t j = 0; j < k; j++) o[j] = bo[j];
}

static VM_ATTR void VM_FN(bpad)(int op, const double *x, int xv,
                                const double *y, int yv, double *o, size_t k) {
  double bx[VM_W], by[VM_W], bo[VM_W];
  for (size_t j = 0; j < VM_W; j++) {
    bx[j] = xv ? (j < k ? x[j] : 1.0) : *x;
    by[j] = yv ? (j < k ? y[j] : 1.0) : *y;
  }
  VM_FN(brun)(op, bx, 1, by, 1, bo, VM_W, 0);
  for (size_t j = 0; j < k; j++) o[j] = bo[j];
}

/* Elements before o reaches vector alignment (non-temporal stores need
** it), at most n. */
static size_t VM_FN(head)(const double *o, size_t n) {
  size_t mis = (size_t)((uintptr_t)o / sizeof(double)) % VM_W;
  size_t h = mis ? VM_W - mis : 0;
  return h < n ? h : n;
}

static VM_ATTR void VM_FN(unary)(int op, const double *x, double *o, size_t n,
                                 int nt) {
  size_t i = nt ? VM_FN(head)(o, n) : 0;
  if (i) VM_FN(upad)(op, x, o, i);
  size_t body = (n - i) / VM_W * VM_W;
  VM_FN(urun)(op, x + i, o + i, body, nt);
  i += body;
  if (i < n) VM_FN(upad)(op, x + i, o + i, n - i);
  if (nt) VM_SFENCE();
}

static VM_ATTR void VM_FN(binary)(int op, const double *x, int xv,
                                  const double *y, int yv, double *o, size_t n,
                                  int nt) {
  size_t i = nt ? VM_FN(head)(o, n) : 0;
  if (i) VM_FN(bpad)(op, x, xv, y, yv, o, i);
  size_t body = (n - i) / VM_W * VM_W;
  VM_FN(brun)(op, xv ? x + i : x, xv, yv ? y + i : y, yv, o + i, body, nt);
  i += body;
  if (i < n)
    VM_FN(bpad)(op, xv ? x + i : x, xv, yv ? y + i : y, yv, o + i, n - i);
  if (nt) VM_SFENCE();
}
