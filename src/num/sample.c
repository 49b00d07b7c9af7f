/*
** sample.c: random integers, permutations and samples, drawn from the
** generator behind mat.rand and mat.randn (so mat.seed makes them
** repeatable).
**
** A bounded integer is Lemire's multiply-and-reject: the high half of a
** 64 x 64-bit product of a random word and the bound, drawing again in the
** rare case the low half falls in the biased sliver, so every value in
** [0, n) is exactly equally likely.
*/
#include <stdlib.h>

#include "order.h"

uint64_t mpl__rng_below(mpl__rng *g, uint64_t n) {
  unsigned __int128 p = (unsigned __int128)mpl__rng_next(g) * n;
  uint64_t lo = (uint64_t)p;
  if (lo < n) {
    uint64_t t = -n % n;
    while (lo < t) {
      p = (unsigned __int128)mpl__rng_next(g) * n;
      lo = (uint64_t)p;
    }
  }
  return (uint64_t)(p >> 64);
}

void mpl__randint(mpl__rng *g, double lo, uint64_t span, double *out,
                  size_t n) {
  for (size_t i = 0; i < n; i++)
    out[i] = lo + (double)(span == UINT64_MAX ? mpl__rng_next(g)
                                              : mpl__rng_below(g, span + 1));
}

int mpl__permutation(mpl__rng *g, double *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (double)(i + 1);
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)mpl__rng_below(g, i);
    double t = out[i - 1];
    out[i - 1] = out[j];
    out[j] = t;
  }
  return 0;
}

int mpl__choice(mpl__rng *g, const double *src, size_t n, size_t k, int replace,
                double *out) {
  if (replace) {
    if (k && !n) return MPL_EINVAL;
    for (size_t i = 0; i < k; i++) out[i] = src[mpl__rng_below(g, n)];
    return 0;
  }
  if (k > n) return MPL_EINVAL;
  size_t *ix = malloc((n ? n : 1) * sizeof *ix);
  if (!ix) return MPL_ENOMEM;
  for (size_t i = 0; i < n; i++) ix[i] = i;
  for (size_t i = 0; i < k; i++) {
    size_t j = i + (size_t)mpl__rng_below(g, n - i), t = ix[i];
    ix[i] = ix[j];
    ix[j] = t;
    out[i] = src[ix[i]];
  }
  free(ix);
  return 0;
}
