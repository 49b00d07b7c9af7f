/*
** csv.c: delimited text (.csv, .tsv, .txt).  Values are written with
** %.17g, which is enough digits for every double to read back exactly.
*/
#include "files.h"

int mpl__text_write(FILE *f, const mpl_mat *m, char sep) {
  for (size_t i = 0; i < m->rows; i++) {
    for (size_t j = 0; j < m->cols; j++) {
      if (j && putc(sep, f) == EOF) return MPL_EIO;
      if (fprintf(f, "%.17g", MPL_AT(m, i, j)) < 0) return MPL_EIO;
    }
    if (putc('\n', f) == EOF) return MPL_EIO;
  }
  return 0;
}
