/*
** fuzz_common.h: what the three loader harnesses share.  Each harness
** feeds the input to mpl_load_mem and checks the contract on the result: a
** success is a well-formed matrix whose every element can be read; a
** failure has a message and a location inside the input, and no matrix.
** A contract violation aborts, which libFuzzer reports as a crash.
*/
#ifndef MPL_FUZZ_COMMON_H
#define MPL_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keep the arena (and so any single matrix) small: a file may announce a
** dense matrix of any size, and refusing it must be an error, not an
** out-of-memory kill of the fuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  setenv("MPL_ARENA_SIZE", "256m", 1);
  return 0;
}

static inline void fuzz_check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "contract violated: %s\n", what);
    abort();
  }
}

/* Load data as format with opts and check the outcome. */
static inline void fuzz_load(const uint8_t *data, size_t size,
                             const char *format, const mpl_load_opts *opts) {
  mpl_mat *m = (mpl_mat *)1;
  mpl_load_info info;
  int err = mpl_load_mem(&m, data, size, format, opts, &info);
  if (err) {
    fuzz_check(m == NULL, "no matrix on failure");
    fuzz_check(info.msg[0] != '\0', "a message on failure");
    fuzz_check(info.header == NULL, "no header on failure");
    fuzz_check(info.offset <= (long long)size, "the offset is in the input");
    fuzz_check(info.line <= size + 1, "the line is in the input");
    fuzz_check(err == MPL_EFORMAT || err == MPL_ENOMEM || err == MPL_EOVERFLOW,
               "a format, memory or size error");
    return;
  }
  size_t r = mpl_mat_rows(m), c = mpl_mat_cols(m);
  const double *d = mpl_mat_data(m);
  ptrdiff_t rs = mpl_mat_rstride(m), cs = mpl_mat_cstride(m);
  volatile double sum = 0;
  for (size_t i = 0; c && i < r; i++) /* (10^17 x 0 is a valid shape) */
    for (size_t j = 0; j < c; j++)
      sum += d[(ptrdiff_t)i * rs + (ptrdiff_t)j * cs];
  (void)sum;
  fuzz_check((info.header != NULL) == (opts && opts->header),
             "a header exactly when asked for");
  free(info.header);
  mpl_mat_release(m);
}

#endif
