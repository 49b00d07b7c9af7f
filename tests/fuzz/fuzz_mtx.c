/*
** fuzz_mtx.c: libFuzzer harness of the Matrix Market loader.
*/
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_load(data, size, "mtx", NULL);
  return 0;
}
