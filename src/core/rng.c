/*
** rng.c: random numbers.
**
** The generator is xoshiro256** (Blackman and Vigna, 2018): 256 bits of
** state, period 2^256 - 1, fast and statistically strong.  A generator is
** seeded from a (seed, stream) pair through splitmix64, so every stream
** number gives an independent-looking sequence for the same seed; parallel
** work gives each item its own stream and gets the same numbers however the
** items are spread over processes.  Uniform doubles take the top 53 bits.
**
** Normal deviates use the ziggurat method (Marsaglia and Tsang, 2000) with
** 256 layers of equal area under exp(-x^2/2).  One 64-bit draw gives the
** layer (its low 8 bits), the sign (bit 8) and a 53-bit uniform (the top
** bits); about 99% of draws are accepted right there, after one multiply
** and one compare.  The rest test the wedge of their layer against the
** curve, or, in the base layer, draw from the tail beyond r = 3.6541...
** with Marsaglia's (1964) exponential method.  The layer table is computed
** once, at first use, from r and the layer area, with an exp and a log
** written below from +, -, *, / and sqrt only (all correctly rounded in
** IEEE 754) instead of libm's, whose last bits differ between C libraries
** and CPUs; contractions into fused multiply-adds are off.  So the same
** seed gives the same normal deviates, bit for bit, on every machine.
*/
#include <math.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* gcc keeps it off in ISO C mode */
#endif

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void mpl__rng_seed(mpl__rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed;
  uint64_t mix = splitmix64(&x) ^ (stream * 0xd1342543de82ef95ULL);
  x = mix;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
  r->has_spare = 0;
  r->spare = 0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mpl__rng_next(mpl__rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

double mpl__rng_uniform(mpl__rng *r) {
  return (double)(mpl__rng_next(r) >> 11) * 0x1.0p-53;
}

/* n uniforms into out[0..n): the same numbers as n calls of
** mpl__rng_uniform, with the state kept in registers across the loop (a
** call per element spent most of its time storing and reloading it). */
void mpl__rng_fill_uniform(mpl__rng *r, double *out, size_t n) {
  uint64_t s0 = r->s[0], s1 = r->s[1], s2 = r->s[2], s3 = r->s[3];
  for (size_t i = 0; i < n; i++) {
    uint64_t v = rotl(s1 * 5, 7) * 9, t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 45);
    out[i] = (double)(v >> 11) * 0x1.0p-53;
  }
  r->s[0] = s0;
  r->s[1] = s1;
  r->s[2] = s2;
  r->s[3] = s3;
}

/* ln 2 in two parts; the high part has enough trailing zero bits that
** k * LN2_HI is exact for any exponent k of a double. */
#define LN2_HI 0x1.62e42feep-1
#define LN2_LO 0x1.a39ef35793c76p-33

/* log x for finite x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
** log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its series up
** to s^23 (the next term is below 1e-18 relative). */
static double det_log(double x) {
  int e;
  double m = frexp(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2;
    e--;
  }
  double s = (m - 1) / (m + 1), s2 = s * s, p = 1.0 / 23;
  for (int k = 21; k >= 1; k -= 2) p = p * s2 + 1.0 / k;
  return (double)e * LN2_HI + ((double)e * LN2_LO + 2 * s * p);
}

/* exp x for x <= 0: x = k ln 2 + t with |t| <= ln 2 / 2, exp t by its
** Taylor series to t^13 (nested as 1 + t(1 + t/2(1 + t/3(...)))), times
** 2^k. */
static double det_exp(double x) {
  if (x < -746) return 0;
  double k = floor(x / 0.69314718055994530942 + 0.5); /* nearest k */
  double t = (x - k * LN2_HI) - k * LN2_LO, p = 1;
  for (int i = 13; i >= 1; i--) p = 1 + t * p / i;
  return ldexp(p, (int)k);
}

#define ZN 256                  /* layers */
#define ZR 3.654152885361009    /* where the base layer's tail starts */
#define ZV 4.928673233974658e-3 /* area of every layer */

static double zx[ZN + 1]; /* layer i spans x in [0, zx[i]]; zx[ZN] = 0 */
static double zk[ZN];     /* zx[i+1] / zx[i]: below it, accept at once */
static double zf[ZN + 1]; /* exp(-zx[i]^2 / 2) */
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

/* Layer 0 is the rectangle [0, zx[0]] x [0, f(r)] standing for the strip
** [0, r] plus the tail (zx[0] = ZV / f(r)); layer i >= 1 is [0, zx[i]] x
** [f(zx[i]), f(zx[i+1])], each of area ZV. */
static void zig_init(void) {
  zx[0] = ZV / det_exp(-0.5 * ZR * ZR);
  zx[1] = ZR;
  for (int i = 1; i < ZN - 1; i++)
    zx[i + 1] = sqrt(-2 * det_log(det_exp(-0.5 * zx[i] * zx[i]) + ZV / zx[i]));
  zx[ZN] = 0;
  for (int i = 0; i < ZN; i++) zk[i] = zx[i + 1] / zx[i];
  for (int i = 0; i <= ZN; i++) zf[i] = det_exp(-0.5 * zx[i] * zx[i]);
}

/* A deviate from the normal tail beyond ZR. */
static double zig_tail(mpl__rng *r) {
  for (;;) {
    double a = -det_log(1.0 - mpl__rng_uniform(r)) / ZR;
    double b = -det_log(1.0 - mpl__rng_uniform(r));
    if (b + b >= a * a) return ZR + a;
  }
}

double mpl__rng_normal(mpl__rng *r) {
  pthread_once(&zig_once, zig_init);
  for (;;) {
    uint64_t b = mpl__rng_next(r);
    unsigned i = (unsigned)(b & 0xff);
    int neg = (int)((b >> 8) & 1);
    double u = (double)(b >> 11) * 0x1.0p-53;
    double x = u * zx[i];
    if (u < zk[i]) return neg ? -x : x;
    if (i == 0) {
      x = zig_tail(r);
      return neg ? -x : x;
    }
    double y = zf[i] + mpl__rng_uniform(r) * (zf[i + 1] - zf[i]);
    if (y < det_exp(-0.5 * x * x)) return neg ? -x : x;
  }
}

/* getrandom when it works; else a mix of the clock and the pid, which is
** still distinct per process. */
uint64_t mpl__rng_entropy(void) {
  uint64_t v;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v) return v;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
               ((uint64_t)getpid() << 16);
  return splitmix64(&x);
}
