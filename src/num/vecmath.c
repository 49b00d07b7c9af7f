/*
** vecmath.c: elementwise kernels over contiguous arrays.
**
** Every operation exists once per instruction set -- AVX-512 (8 doubles a
** vector), AVX2 with FMA (4) and plain C -- and the best one the CPU has is
** picked at the first call.  log, sin, cos, tanh and pow come from glibc's
** vector math library, libmvec (_ZGVeN8v_log and the like, which libm's
** link script brings in); exp is written here (exp_avx512 below: faster
** than libmvec's, within 1 ulp); the others are single instructions.  An
** array is walked a whole vector at a time; the elements before an aligned
** start (non-temporal stores need one) and after the last whole vector go
** through one padded vector, so an element's result never depends on where
** it sits or on how a loop was split between threads.
**
** libmvec is called through a small assembly loop (MV_RUN below) rather
** than from C: clang 14 passes a vector argument to a function declared
** with a target attribute in memory instead of in a register, which is not
** the vector ABI libmvec expects.  The loop loads each vector into
** zmm0/zmm1 (ymm for AVX2) itself, calls the function and stores zmm0, so
** both compilers make identical calls.
**
** Non-temporal stores (nt) send a result too large to stay in cache
** straight to memory: the cache lines of the output are then never read,
** which saves a third of the traffic of a + b, and the inputs stay cached.
**
** libmvec's functions are accurate to a few units in the last place, like
** libm's but not always equal to them, and its AVX-512 and AVX2 versions
** may differ from each other in the last bit; the plain-C versions call
** libm.  So log and friends can differ in the last bit between machines;
** exp gives the same bits with AVX-512 and AVX2 (subnormal results aside).
*/
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arith.h"

#if defined(__x86_64__) && defined(__ELF__) &&                                 \
    (defined(__GNUC__) || defined(__clang__))
#define VM_X86 1
#include <immintrin.h>
#else
#define VM_X86 0
#endif

/* ---- plain C ---- */

#define VM_FN(name) name##_generic
#define VM_ATTR
#define VM_W 1
#define VM_T double
#define VM_LOAD(p) (*(p))
#define VM_STORE(p, v) (*(p) = (v))
#define VM_STREAM(p, v) (*(p) = (v))
#define VM_SET1(s) (s)
#define VM_SFENCE() ((void)0)
#define VM_ADD(a, b) ((a) + (b))
#define VM_SUB(a, b) ((a) - (b))
#define VM_MUL(a, b) ((a) * (b))
#define VM_DIV(a, b) ((a) / (b))
#define VM_POW(a, b) pow(a, b)
#define VM_NEG(v) (-(v))
#define VM_ABS(v) fabs(v)
#define VM_SQRT(v) sqrt(v)
#define VM_FLOOR(v) floor(v)
#define VM_CEIL(v) ceil(v)
#define VM_EXP(v) exp(v)
#define VM_LOG(v) log(v)
#define VM_SIN(v) sin(v)
#define VM_COS(v) cos(v)
#define VM_TANH(v) tanh(v)
#define VM_ROUND(v) round(v)
#define VM_TRUNC(v) trunc(v)
#define VM_SIGN(v) ((v) > 0 ? 1.0 : (v) < 0 ? -1.0 : (v))
#include "vecmath_body.h"
#undef VM_FN
#undef VM_ATTR
#undef VM_W
#undef VM_T
#undef VM_LOAD
#undef VM_STORE
#undef VM_STREAM
#undef VM_SET1
#undef VM_SFENCE
#undef VM_ADD
#undef VM_SUB
#undef VM_MUL
#undef VM_DIV
#undef VM_POW
#undef VM_NEG
#undef VM_ABS
#undef VM_SQRT
#undef VM_FLOOR
#undef VM_CEIL
#undef VM_EXP
#undef VM_LOG
#undef VM_SIN
#undef VM_COS
#undef VM_TANH
#undef VM_ROUND
#undef VM_TRUNC
#undef VM_SIGN

#if VM_X86

/* libmvec, in the x86-64 vector function ABI: 'e' = AVX-512, 'd' = AVX2.
** Declared only to take their addresses (see the top). */
#define VM_AVX512 __attribute__((target("avx512f")))
#define VM_AVX2 __attribute__((target("avx2,fma")))
VM_AVX512 __m512d _ZGVeN8v_log(__m512d);
VM_AVX512 __m512d _ZGVeN8v_sin(__m512d);
VM_AVX512 __m512d _ZGVeN8v_cos(__m512d);
VM_AVX512 __m512d _ZGVeN8v_tanh(__m512d);
VM_AVX512 __m512d _ZGVeN8vv_pow(__m512d, __m512d);
VM_AVX512 __m512d _ZGVeN8v_tan(__m512d);
VM_AVX512 __m512d _ZGVeN8v_asin(__m512d);
VM_AVX512 __m512d _ZGVeN8v_acos(__m512d);
VM_AVX512 __m512d _ZGVeN8v_atan(__m512d);
VM_AVX512 __m512d _ZGVeN8v_sinh(__m512d);
VM_AVX512 __m512d _ZGVeN8v_cosh(__m512d);
VM_AVX512 __m512d _ZGVeN8v_log2(__m512d);
VM_AVX512 __m512d _ZGVeN8v_log10(__m512d);
VM_AVX512 __m512d _ZGVeN8v_log1p(__m512d);
VM_AVX512 __m512d _ZGVeN8v_expm1(__m512d);
VM_AVX512 __m512d _ZGVeN8vv_atan2(__m512d, __m512d);
VM_AVX2 __m256d _ZGVdN4v_log(__m256d);
VM_AVX2 __m256d _ZGVdN4v_sin(__m256d);
VM_AVX2 __m256d _ZGVdN4v_cos(__m256d);
VM_AVX2 __m256d _ZGVdN4v_tanh(__m256d);
VM_AVX2 __m256d _ZGVdN4vv_pow(__m256d, __m256d);
VM_AVX2 __m256d _ZGVdN4v_tan(__m256d);
VM_AVX2 __m256d _ZGVdN4v_asin(__m256d);
VM_AVX2 __m256d _ZGVdN4v_acos(__m256d);
VM_AVX2 __m256d _ZGVdN4v_atan(__m256d);
VM_AVX2 __m256d _ZGVdN4v_sinh(__m256d);
VM_AVX2 __m256d _ZGVdN4v_cosh(__m256d);
VM_AVX2 __m256d _ZGVdN4v_log2(__m256d);
VM_AVX2 __m256d _ZGVdN4v_log10(__m256d);
VM_AVX2 __m256d _ZGVdN4v_log1p(__m256d);
VM_AVX2 __m256d _ZGVdN4v_expm1(__m256d);
VM_AVX2 __m256d _ZGVdN4vv_atan2(__m256d, __m256d);

/* One pass of a libmvec function over n vectors: x and y advance by their
** steps (bytes; 0 repeats one vector), o by one vector; nt selects
** non-temporal stores.  The layout is fixed: the assembly reads it. */
typedef struct mvjob {
  const void *fn;
  const double *x, *y;
  double *o;
  size_t n;
  ptrdiff_t xstep, ystep;
  int nt;
} mvjob;
_Static_assert(sizeof(void *) == 8 && offsetof(mvjob, nt) == 56,
               "mvjob layout is read by the assembly below");

void mpl__mv_run_e8(const mvjob *j);
void mpl__mv_run_d4(const mvjob *j);

/* The loop, for zmm (e8) and ymm (d4) registers.  Five callee-saved
** registers hold the job and the pointers across the calls; five pushes
** also leave the stack 16-byte aligned at each call, as the ABI needs. */
#define MV_RUN(NAME, R0, R1, BYTES)                                            \
  "  .text\n"                                                                  \
  "  .p2align 4\n"                                                             \
  "  .globl " NAME "\n"                                                        \
  "  .hidden " NAME "\n"                                                       \
  "  .type " NAME ", @function\n" NAME ":\n"                                   \
  "  .cfi_startproc\n"                                                         \
  "  pushq %rbx\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %rbx, 0\n"      \
  "  pushq %r12\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %r12, 0\n"      \
  "  pushq %r13\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %r13, 0\n"      \
  "  pushq %r14\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %r14, 0\n"      \
  "  pushq %r15\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %r15, 0\n"      \
  "  movq %rdi, %rbx\n"                                                        \
  "  movq 8(%rbx), %r12\n"                                                     \
  "  movq 16(%rbx), %r13\n"                                                    \
  "  movq 24(%rbx), %r14\n"                                                    \
  "  movq 32(%rbx), %r15\n"                                                    \
  "  testq %r15, %r15\n"                                                       \
  "  jz 4f\n"                                                                  \
  "1:\n"                                                                       \
  "  vmovupd (%r12), %" R0 "\n"                                                \
  "  vmovupd (%r13), %" R1 "\n"                                                \
  "  call *(%rbx)\n"                                                           \
  "  cmpl $0, 56(%rbx)\n"                                                      \
  "  jne 2f\n"                                                                 \
  "  vmovupd %" R0 ", (%r14)\n"                                                \
  "  jmp 3f\n"                                                                 \
  "2:\n"                                                                       \
  "  vmovntpd %" R0 ", (%r14)\n"                                               \
  "3:\n"                                                                       \
  "  addq 40(%rbx), %r12\n"                                                    \
  "  addq 48(%rbx), %r13\n"                                                    \
  "  addq $" BYTES ", %r14\n"                                                  \
  "  decq %r15\n"                                                              \
  "  jnz 1b\n"                                                                 \
  "4:\n"                                                                       \
  "  vzeroupper\n"                                                             \
  "  popq %r15\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %r15\n"            \
  "  popq %r14\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %r14\n"            \
  "  popq %r13\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %r13\n"            \
  "  popq %r12\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %r12\n"            \
  "  popq %rbx\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %rbx\n"            \
  "  ret\n"                                                                    \
  "  .cfi_endproc\n"                                                           \
  "  .size " NAME ", .-" NAME "\n"

__asm__(MV_RUN("mpl__mv_run_e8", "zmm0", "zmm1", "64")
            MV_RUN("mpl__mv_run_d4", "ymm0", "ymm1", "32"));

/* exp, written here: about twice as fast as libmvec's on the machines
** measured, and the same bits from the AVX-512 and AVX2 versions (results
** in the subnormal range aside).  x is clamped to [-746, 710] (NaN passes
** through), k = round(x / ln 2), r = x - k ln 2 with ln 2 in two parts
** (|r| <= 0.347, exact to a few units of 1e-17 thanks to the fused
** multiply-adds), e^r by its Taylor polynomial of degree 13 (truncation
** below 5e-18) in Horner form, then scaled by 2^k, which also overflows
** to infinity and underflows to zero or a subnormal as it should. */
#define EXP_C13 (1.0 / 6227020800.0)
#define EXP_C12 (1.0 / 479001600.0)
#define EXP_C11 (1.0 / 39916800.0)
#define EXP_C10 (1.0 / 3628800.0)
#define EXP_C9 (1.0 / 362880.0)
#define EXP_C8 (1.0 / 40320.0)
#define EXP_C7 (1.0 / 5040.0)
#define EXP_C6 (1.0 / 720.0)
#define EXP_C5 (1.0 / 120.0)
#define EXP_C4 (1.0 / 24.0)
#define EXP_C3 (1.0 / 6.0)
#define EXP_LOG2E 0x1.71547652b82fep0
#define EXP_LN2HI 0x1.62e42fefa39efp-1
#define EXP_LN2LO 0x1.abc9e3b39803fp-56

#define EXP_POLY(FMA, SET1, r)                                                 \
  FMA(FMA(FMA(FMA(FMA(FMA(FMA(FMA(FMA(FMA(FMA(FMA(FMA(SET1(EXP_C13), r,        \
                                                      SET1(EXP_C12)),          \
                                                  r, SET1(EXP_C11)),           \
                                              r, SET1(EXP_C10)),               \
                                          r, SET1(EXP_C9)),                    \
                                      r, SET1(EXP_C8)),                        \
                                  r, SET1(EXP_C7)),                            \
                              r, SET1(EXP_C6)),                                \
                          r, SET1(EXP_C5)),                                    \
                      r, SET1(EXP_C4)),                                        \
                  r, SET1(EXP_C3)),                                            \
              r, SET1(0.5)),                                                   \
          r, SET1(1.0)),                                                       \
      r, SET1(1.0))

static inline VM_AVX512 __m512d exp_avx512(__m512d x) {
  x = _mm512_max_pd(_mm512_set1_pd(-746.0),
                    _mm512_min_pd(_mm512_set1_pd(710.0), x));
  __m512d k =
      _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(EXP_LOG2E)),
                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(EXP_LN2HI), x);
  r = _mm512_fnmadd_pd(k, _mm512_set1_pd(EXP_LN2LO), r);
  __m512d p = EXP_POLY(_mm512_fmadd_pd, _mm512_set1_pd, r);
  return _mm512_scalef_pd(p, k);
}

/* 2^k for integral k in [-538, 512] (a normal double), built in the
** exponent bits: k + 1.5 * 2^52 holds k in its low bits. */
static inline VM_AVX2 __m256d pow2_avx2(__m256d k) {
  __m256i b = _mm256_castpd_si256(_mm256_add_pd(k, _mm256_set1_pd(0x1.8p52)));
  b = _mm256_sub_epi64(b, _mm256_set1_epi64x(0x4338000000000000LL - 1023));
  return _mm256_castsi256_pd(_mm256_slli_epi64(b, 52));
}

static inline VM_AVX2 __m256d exp_avx2(__m256d x) {
  x = _mm256_max_pd(_mm256_set1_pd(-746.0),
                    _mm256_min_pd(_mm256_set1_pd(710.0), x));
  __m256d k = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(EXP_LOG2E)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(EXP_LN2HI), x);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(EXP_LN2LO), r);
  __m256d p = EXP_POLY(_mm256_fmadd_pd, _mm256_set1_pd, r);
  /* 2^k as 2^k1 2^k2, each factor normal (a NaN p stays NaN) */
  __m256d k1 = _mm256_floor_pd(_mm256_mul_pd(k, _mm256_set1_pd(0.5)));
  __m256d k2 = _mm256_sub_pd(k, k1);
  return _mm256_mul_pd(_mm256_mul_pd(p, pow2_avx2(k1)), pow2_avx2(k2));
}

/* round (half away from zero) as C's round: t = trunc(x), plus sign(x)
** where |x - t| >= 1/2 (exact; infinity and NaN give t, which is x). */
static inline VM_AVX512 __m512d round_avx512(__m512d x) {
  __m512d t = _mm512_roundscale_pd(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  __m512d d = _mm512_abs_pd(_mm512_sub_pd(x, t));
  __mmask8 k = _mm512_cmp_pd_mask(d, _mm512_set1_pd(0.5), _CMP_GE_OQ);
  __m512i sg =
      _mm512_and_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(INT64_MIN));
  __m512d one = _mm512_castsi512_pd(
      _mm512_or_si512(sg, _mm512_castpd_si512(_mm512_set1_pd(1.0))));
  return _mm512_mask_add_pd(t, k, t, one);
}

static inline VM_AVX2 __m256d round_avx2(__m256d x) {
  __m256d t = _mm256_round_pd(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  __m256d d = _mm256_andnot_pd(_mm256_set1_pd(-0.0), _mm256_sub_pd(x, t));
  __m256d k = _mm256_cmp_pd(d, _mm256_set1_pd(0.5), _CMP_GE_OQ);
  __m256d one =
      _mm256_or_pd(_mm256_set1_pd(1.0), _mm256_and_pd(x, _mm256_set1_pd(-0.0)));
  return _mm256_blendv_pd(t, _mm256_add_pd(t, one), k);
}

/* sign as NumPy's: 1 above zero, -1 below, x itself for 0, -0 and NaN. */
static inline VM_AVX512 __m512d sign_avx512(__m512d x) {
  __m512d z = _mm512_setzero_pd();
  __mmask8 gt = _mm512_cmp_pd_mask(x, z, _CMP_GT_OQ);
  __mmask8 lt = _mm512_cmp_pd_mask(x, z, _CMP_LT_OQ);
  x = _mm512_mask_mov_pd(x, gt, _mm512_set1_pd(1.0));
  return _mm512_mask_mov_pd(x, lt, _mm512_set1_pd(-1.0));
}

static inline VM_AVX2 __m256d sign_avx2(__m256d x) {
  __m256d z = _mm256_setzero_pd();
  __m256d gt = _mm256_cmp_pd(x, z, _CMP_GT_OQ);
  __m256d lt = _mm256_cmp_pd(x, z, _CMP_LT_OQ);
  x = _mm256_blendv_pd(x, _mm256_set1_pd(1.0), gt);
  return _mm256_blendv_pd(x, _mm256_set1_pd(-1.0), lt);
}

/* The libmvec function of a unary operation, or NULL. */
static const void *mv_e8(int op) {
  switch (op) {
  case MPL__U_LOG:
    return (const void *)_ZGVeN8v_log;
  case MPL__U_SIN:
    return (const void *)_ZGVeN8v_sin;
  case MPL__U_COS:
    return (const void *)_ZGVeN8v_cos;
  case MPL__U_TANH:
    return (const void *)_ZGVeN8v_tanh;
  case MPL__U_TAN:
    return (const void *)_ZGVeN8v_tan;
  case MPL__U_ASIN:
    return (const void *)_ZGVeN8v_asin;
  case MPL__U_ACOS:
    return (const void *)_ZGVeN8v_acos;
  case MPL__U_ATAN:
    return (const void *)_ZGVeN8v_atan;
  case MPL__U_SINH:
    return (const void *)_ZGVeN8v_sinh;
  case MPL__U_COSH:
    return (const void *)_ZGVeN8v_cosh;
  case MPL__U_LOG2:
    return (const void *)_ZGVeN8v_log2;
  case MPL__U_LOG10:
    return (const void *)_ZGVeN8v_log10;
  case MPL__U_LOG1P:
    return (const void *)_ZGVeN8v_log1p;
  case MPL__U_EXPM1:
    return (const void *)_ZGVeN8v_expm1;
  }
  return NULL;
}

static const void *mv_d4(int op) {
  switch (op) {
  case MPL__U_LOG:
    return (const void *)_ZGVdN4v_log;
  case MPL__U_SIN:
    return (const void *)_ZGVdN4v_sin;
  case MPL__U_COS:
    return (const void *)_ZGVdN4v_cos;
  case MPL__U_TANH:
    return (const void *)_ZGVdN4v_tanh;
  case MPL__U_TAN:
    return (const void *)_ZGVdN4v_tan;
  case MPL__U_ASIN:
    return (const void *)_ZGVdN4v_asin;
  case MPL__U_ACOS:
    return (const void *)_ZGVdN4v_acos;
  case MPL__U_ATAN:
    return (const void *)_ZGVdN4v_atan;
  case MPL__U_SINH:
    return (const void *)_ZGVdN4v_sinh;
  case MPL__U_COSH:
    return (const void *)_ZGVdN4v_cosh;
  case MPL__U_LOG2:
    return (const void *)_ZGVdN4v_log2;
  case MPL__U_LOG10:
    return (const void *)_ZGVdN4v_log10;
  case MPL__U_LOG1P:
    return (const void *)_ZGVdN4v_log1p;
  case MPL__U_EXPM1:
    return (const void *)_ZGVdN4v_expm1;
  }
  return NULL;
}

/* ---- AVX-512 ---- */

#define VM_FN(name) name##_avx512
#define VM_ATTR VM_AVX512
#define VM_W 8
#define VM_T __m512d
#define VM_LOAD(p) _mm512_loadu_pd(p)
#define VM_STORE(p, v) _mm512_storeu_pd(p, v)
#define VM_STREAM(p, v) _mm512_stream_pd(p, v)
#define VM_SET1(s) _mm512_set1_pd(s)
#define VM_SFENCE() _mm_sfence()
#define VM_ADD(a, b) _mm512_add_pd(a, b)
#define VM_SUB(a, b) _mm512_sub_pd(a, b)
#define VM_MUL(a, b) _mm512_mul_pd(a, b)
#define VM_DIV(a, b) _mm512_div_pd(a, b)
#define VM_EXP(v) exp_avx512(v)
#define VM_MVRUN(j) mpl__mv_run_e8(j)
#define VM_MVFN(op) mv_e8(op)
#define VM_MVPOW ((const void *)_ZGVeN8vv_pow)
#define VM_NEG(v)                                                              \
  _mm512_castsi512_pd(                                                         \
      _mm512_xor_si512(_mm512_castpd_si512(v), _mm512_set1_epi64(INT64_MIN)))
#define VM_ABS(v) _mm512_abs_pd(v)
#define VM_SQRT(v) _mm512_sqrt_pd(v)
#define VM_FLOOR(v)                                                            \
  _mm512_roundscale_pd(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define VM_CEIL(v)                                                             \
  _mm512_roundscale_pd(v, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)
#define VM_TRUNC(v)                                                            \
  _mm512_roundscale_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)
#define VM_ROUND(v) round_avx512(v)
#define VM_SIGN(v) sign_avx512(v)
#define VM_MVATAN2 ((const void *)_ZGVeN8vv_atan2)
#include "vecmath_body.h"
#undef VM_EXP
#undef VM_MVRUN
#undef VM_MVFN
#undef VM_MVPOW
#undef VM_FN
#undef VM_ATTR
#undef VM_W
#undef VM_T
#undef VM_LOAD
#undef VM_STORE
#undef VM_STREAM
#undef VM_SET1
#undef VM_SFENCE
#undef VM_ADD
#undef VM_SUB
#undef VM_MUL
#undef VM_DIV
#undef VM_NEG
#undef VM_ABS
#undef VM_SQRT
#undef VM_FLOOR
#undef VM_CEIL
#undef VM_TRUNC
#undef VM_ROUND
#undef VM_SIGN
#undef VM_MVATAN2

/* ---- AVX2 ---- */

#define VM_FN(name) name##_avx2
#define VM_ATTR VM_AVX2
#define VM_W 4
#define VM_T __m256d
#define VM_LOAD(p) _mm256_loadu_pd(p)
#define VM_STORE(p, v) _mm256_storeu_pd(p, v)
#define VM_STREAM(p, v) _mm256_stream_pd(p, v)
#define VM_SET1(s) _mm256_set1_pd(s)
#define VM_SFENCE() _mm_sfence()
#define VM_ADD(a, b) _mm256_add_pd(a, b)
#define VM_SUB(a, b) _mm256_sub_pd(a, b)
#define VM_MUL(a, b) _mm256_mul_pd(a, b)
#define VM_DIV(a, b) _mm256_div_pd(a, b)
#define VM_EXP(v) exp_avx2(v)
#define VM_MVRUN(j) mpl__mv_run_d4(j)
#define VM_MVFN(op) mv_d4(op)
#define VM_MVPOW ((const void *)_ZGVdN4vv_pow)
#define VM_NEG(v) _mm256_xor_pd(v, _mm256_set1_pd(-0.0))
#define VM_ABS(v) _mm256_andnot_pd(_mm256_set1_pd(-0.0), v)
#define VM_SQRT(v) _mm256_sqrt_pd(v)
#define VM_FLOOR(v)                                                            \
  _mm256_round_pd(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define VM_CEIL(v) _mm256_round_pd(v, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)
#define VM_TRUNC(v) _mm256_round_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)
#define VM_ROUND(v) round_avx2(v)
#define VM_SIGN(v) sign_avx2(v)
#define VM_MVATAN2 ((const void *)_ZGVdN4vv_atan2)
#include "vecmath_body.h"

#endif /* VM_X86 */

/* ---- dispatch ---- */

static atomic_int vm_best = -1;  /* what the CPU supports */
static atomic_int vm_level = -1; /* what is used */

static int detect(void) {
#if VM_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return MPL__ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return MPL__ISA_AVX2;
#endif
  return MPL__ISA_GENERIC;
}

int mpl__vm_isa(void) {
  int l = atomic_load_explicit(&vm_level, memory_order_relaxed);
  if (l >= 0) return l;
  int best = detect();
  atomic_store(&vm_best, best);
  int expect = -1;
  atomic_compare_exchange_strong(&vm_level, &expect, best);
  return atomic_load(&vm_level);
}

int mpl__vm_set_isa(int isa) {
  mpl__vm_isa();
  int best = atomic_load(&vm_best);
  if (isa < MPL__ISA_GENERIC) isa = MPL__ISA_GENERIC;
  if (isa > best) isa = best;
  atomic_store(&vm_level, isa);
  return isa;
}

/* x^p for the exponents where a cheaper exact form gives pow's own
** result: 1 when the exponent is 0 (even for NaN), x, x*x, 1/x. */
static int pow_special(const double *x, double p, double *o, size_t n, int nt) {
  static const double one = 1.0;
  if (p == 0) {
    for (size_t i = 0; i < n; i++) o[i] = 1.0;
  } else if (p == 1) {
    if (o != x)
      for (size_t i = 0; i < n; i++) o[i] = x[i];
  } else if (p == 2) {
    mpl__vm_binary(MPL__B_MUL, x, 1, x, 1, o, n, nt);
  } else if (p == -1) {
    mpl__vm_binary(MPL__B_DIV, &one, 0, x, 1, o, n, nt);
  } else {
    return 0;
  }
  return 1;
}

int mpl__vm_heavy(int op, int binary) {
  if (binary) return op == MPL__B_POW || op == MPL__B_ATAN2;
  switch (op) {
  case MPL__U_NEG:
  case MPL__U_SQRT:
  case MPL__U_ABS:
  case MPL__U_FLOOR:
  case MPL__U_CEIL:
  case MPL__U_ROUND:
  case MPL__U_TRUNC:
  case MPL__U_SIGN:
    return 0;
  }
  return 1;
}

void mpl__vm_unary(int op, const double *x, double *o, size_t n, int nt) {
  if (n == 0 || op < 0 || op >= MPL__U_COUNT) return;
  switch (mpl__vm_isa()) {
#if VM_X86
  case MPL__ISA_AVX512:
    unary_avx512(op, x, o, n, nt);
    break;
  case MPL__ISA_AVX2:
    unary_avx2(op, x, o, n, nt);
    break;
#endif
  default:
    unary_generic(op, x, o, n, nt);
    break;
  }
}

void mpl__vm_binary(int op, const double *x, int xvec, const double *y,
                    int yvec, double *o, size_t n, int nt) {
  if (n == 0 || op < 0 || op >= MPL__B_COUNT || (!xvec && !yvec)) return;
  if (op == MPL__B_POW && xvec && !yvec && pow_special(x, *y, o, n, nt)) return;
  switch (mpl__vm_isa()) {
#if VM_X86
  case MPL__ISA_AVX512:
    binary_avx512(op, x, xvec, y, yvec, o, n, nt);
    break;
  case MPL__ISA_AVX2:
    binary_avx2(op, x, xvec, y, yvec, o, n, nt);
    break;
#endif
  default:
    binary_generic(op, x, xvec, y, yvec, o, n, nt);
    break;
  }
}

double mpl__vm_unary1(int op, double x) {
  double o = x;
  mpl__vm_unary(op, &x, &o, 1, 0);
  return o;
}

double mpl__vm_binary1(int op, double x, double y) {
  double o = 0;
  mpl__vm_binary(op, &x, 1, &y, 0, &o, 1, 0);
  return o;
}
