/*
** fuzz_csv.c: libFuzzer harness of the delimited-text loaders.  Every input
** is read five ways: as .csv, as .txt with a header, as .tsv, with a ';'
** separator and a header, and through the quoting tokenizer (csvx.c) with
** a line skipped, columns picked by number and name, and "NA" read as
** NaN, so one corpus covers every tokenizer mode.
*/
#include <locale.h>

#include "files.h"
#include "fuzz_common.h"

/* The tokenizer with every option of mat.load's text loads. */
static void fuzz_options(const uint8_t *data, size_t size) {
  static locale_t loc;
  if (!loc) loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  const char *na[] = {"NA"}, *names[] = {NULL, "x"};
  size_t idx[] = {2, 0};
  mpl__text_opts x = {na, 1, idx, names, 2, 1};
  mpl_mat *m = (mpl_mat *)1;
  mpl_load_info info = {NULL, 0, -1, ""};
  int err =
      mpl__text_read_x((const char *)data, size, ',', 1, &x, loc, &m, &info);
  fuzz_check(err ? m == NULL && info.header == NULL && info.msg[0]
                 : mpl_mat_cols(m) == 2,
             "a message on failure, the columns asked for on success");
  if (!err) mpl_mat_release(m);
  free(info.header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mpl_load_opts plain = {0, 0, 0}, header = {0, 1, 0}, semi = {';', 1, 0};
  fuzz_load(data, size, "csv", &plain);
  fuzz_load(data, size, "txt", &header);
  fuzz_load(data, size, "tsv", NULL);
  fuzz_load(data, size, "csv", &semi);
  fuzz_options(data, size);
  return 0;
}
