/*
** fuzz_num.c: differential harness of the text number parser.  Whatever
** prefix of the input mpl__parse_num accepts must be accepted whole by
** glibc's strtod_l in the C locale and give the same double, bit for bit
** (NaNs: the same sign).  The input is also parsed at every offset, so
** numbers inside arbitrary text are covered, without reading past the end.
*/
#include <math.h>

#include "files.h"
#include "fuzz_common.h"

static locale_t c_locale;

static void check_one(const char *s, const char *end) {
  double a;
  const char *e = mpl__parse_num(s, end, c_locale, &a);
  if (!e) return;
  fuzz_check(e > s && e <= end, "the number ends inside the input");
  size_t n = (size_t)(e - s);
  char *z = malloc(n + 1);
  memcpy(z, s, n);
  z[n] = '\0';
  char *ze;
  double b = strtod_l(z, &ze, c_locale);
  fuzz_check(ze == z + n, "strtod_l reads the same number");
  if (isnan(b)) {
    fuzz_check(isnan(a) && !signbit(a) == !signbit(b), "the same NaN");
  } else {
    uint64_t x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    if (x != y) fprintf(stderr, "\"%s\": %a vs strtod %a\n", z, a, b);
    fuzz_check(x == y, "the same double as strtod_l");
  }
  free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!c_locale) c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  /* an exact copy, so reading one byte too far is caught */
  char *buf = malloc(size ? size : 1);
  memcpy(buf, data, size);
  for (size_t i = 0; i < size && i < 64; i++) check_one(buf + i, buf + size);
  free(buf);
  return 0;
}
