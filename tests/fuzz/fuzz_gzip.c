/*
** fuzz_gzip.c: libFuzzer harness of gzip decompression on load: every
** input is loaded as .csv and as .npy through mpl_load_mem, which
** gunzips what starts with gzip's magic bytes and parses the result.
*/
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_load(data, size, "csv", NULL);
  fuzz_load(data, size, "npy", NULL);
  return 0;
}
