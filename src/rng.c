/*
** rng.c: random numbers.
**
** The generator is xoshiro256** (Blackman and Vigna, 2018): 256 bits of
** state, period 2^256 - 1, fast and statistically strong.  A generator is
** seeded from a (seed, stream) pair through splitmix64, so every stream
** number gives an independent-looking sequence for the same seed; parallel
** work gives each item its own stream and gets the same numbers however the
** items are spread over processes.  Uniform doubles take the top 53 bits.
** Normal deviates use the Marsaglia polar method (pairs, the second kept for
** the next call); it needs only log and sqrt.
*/
#include <math.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

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

double mpl__rng_normal(mpl__rng *r) {
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double u, v, s;
  do {
    u = 2.0 * mpl__rng_uniform(r) - 1.0;
    v = 2.0 * mpl__rng_uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double f = sqrt(-2.0 * log(s) / s);
  r->spare = v * f;
  r->has_spare = 1;
  return u * f;
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
