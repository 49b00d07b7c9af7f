/*
** mtx.c: Matrix Market exchange format.  Saved as a dense `array real
** general` matrix: the size line, then the values column by column, as the
** format prescribes.
*/
#include "files.h"

int mpl__mtx_write(FILE *f, const mpl_mat *m) {
  if (fprintf(f, "%%%%MatrixMarket matrix array real general\n%zu %zu\n",
              m->rows, m->cols) < 0)
    return MPL_EIO;
  for (size_t j = 0; j < m->cols; j++)
    for (size_t i = 0; i < m->rows; i++)
      if (fprintf(f, "%.17g\n", MPL_AT(m, i, j)) < 0) return MPL_EIO;
  return 0;
}
