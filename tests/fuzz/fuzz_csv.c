/*
** fuzz_csv.c: libFuzzer harness of the delimited-text loader.  Every input
** is read four ways: as .csv, as .txt with a header, as .tsv, and with a
** ';' separator and a header, so one corpus covers every tokenizer mode.
*/
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mpl_load_opts plain = {0, 0, 0}, header = {0, 1, 0}, semi = {';', 1, 0};
  fuzz_load(data, size, "csv", &plain);
  fuzz_load(data, size, "txt", &header);
  fuzz_load(data, size, "tsv", NULL);
  fuzz_load(data, size, "csv", &semi);
  return 0;
}
