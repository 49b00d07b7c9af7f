/*
** npy.c: NumPy's .npy format.  Saved files are version 1.0, dtype float64
** in this machine's byte order ('<f8' here), C order, with the header
** padded with spaces so the data starts on a 64-byte boundary as NumPy
** itself writes it.
*/
#include <string.h>

#include "files.h"

int mpl__npy_write(FILE *f, const mpl_mat *m) {
  char dict[160];
  const char *descr =
      __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "<f8" : ">f8";
  int n = snprintf(dict, sizeof dict,
                   "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }",
                   descr, m->rows, m->cols);
  size_t total = 10 + (size_t)n + 1; /* magic, version, length, dict, \n */
  size_t pad = (64 - total % 64) % 64;
  size_t hlen = (size_t)n + pad + 1;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, (size_t)n, f) != (size_t)n)
    return MPL_EIO;
  for (size_t i = 0; i < pad; i++)
    if (putc(' ', f) == EOF) return MPL_EIO;
  if (putc('\n', f) == EOF) return MPL_EIO;
  for (size_t i = 0; i < m->rows; i++) {
    const double *row = &m->data[(ptrdiff_t)i * m->rs];
    if (m->cs == 1) {
      if (fwrite(row, sizeof(double), m->cols, f) != m->cols) return MPL_EIO;
    } else {
      for (size_t j = 0; j < m->cols; j++)
        if (fwrite(&row[(ptrdiff_t)j * m->cs], sizeof(double), 1, f) != 1)
          return MPL_EIO;
    }
  }
  return 0;
}
