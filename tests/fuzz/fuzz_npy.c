/*
** fuzz_npy.c: libFuzzer harness of the .npy loader (header parser, dtype
** conversion, Fortran order).
*/
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_load(data, size, "npy", NULL);
  return 0;
}
