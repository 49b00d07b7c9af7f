/*
** files.h: private interface of the file formats.
*/
#ifndef MPL_FILES_H
#define MPL_FILES_H

#include <stdio.h>

#include "internal.h"

enum { MPL__FMT_CSV, MPL__FMT_TSV, MPL__FMT_TXT, MPL__FMT_NPY, MPL__FMT_MTX };

/* The format named by `format`, else by path's extension; -1 if unknown. */
int mpl__format_of(const char *path, const char *format);

/* Writers: 0 or MPL_EIO (errno set).  Text writers expect the C locale. */
int mpl__text_write(FILE *f, const mpl_mat *m, char sep);
int mpl__npy_write(FILE *f, const mpl_mat *m);
int mpl__mtx_write(FILE *f, const mpl_mat *m);

#endif
