/*
** fuzz_npz.c: libFuzzer harness of the .npz reader (libzip on untrusted
** bytes, then each member through the .npy reader): a success is a list
** of named, readable matrices; a failure has a message and nothing else.
*/
#include "files.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mpl__named *v = (mpl__named *)1;
  size_t n = 99;
  mpl_load_info info = {NULL, 0, -1, ""};
  int err = mpl__npz_read(data, size, NULL, &v, &n, &info);
  if (err) {
    fuzz_check(v == NULL && n == 0, "nothing on failure");
    fuzz_check(info.msg[0] != '\0', "a message on failure");
    return 0;
  }
  for (size_t k = 0; k < n; k++) {
    fuzz_check(v[k].name != NULL && v[k].m != NULL, "a name and a matrix");
    const mpl_mat *m = v[k].m;
    volatile double sum = 0;
    for (size_t i = 0; mpl_mat_cols(m) && i < mpl_mat_rows(m); i++)
      for (size_t j = 0; j < mpl_mat_cols(m); j++)
        sum += mpl_mat_data(m)[(ptrdiff_t)i * mpl_mat_rstride(m) +
                               (ptrdiff_t)j * mpl_mat_cstride(m)];
    (void)sum;
  }
  mpl__named_free(v, n);
  return 0;
}
