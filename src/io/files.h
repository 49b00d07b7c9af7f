/*
** files.h: private interface of the file formats.
**
** Every reader parses bytes that are already in memory (a file read into a
** buffer, or a C host's buffer), except the .npy reader,
** which reads through an mpl__src so that a large file goes straight from
** the kernel into the matrix.  Readers never print; a failure fills the
** caller's mpl_load_info (line or byte offset, message) through
** mpl__fail().
*/
#ifndef MPL_FILES_H
#define MPL_FILES_H

#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

enum { MPL__FMT_CSV, MPL__FMT_TSV, MPL__FMT_TXT, MPL__FMT_NPY, MPL__FMT_MTX };

/* The format named by `format`, else by path's extension; -1 if unknown. */
int mpl__format_of(const char *path, const char *format);

/* Writers: 0, MPL_EIO (errno set) or MPL_EINTR (mpl_interrupt, checked
** row by row).  Text writers expect the C locale. */
int mpl__text_write(FILE *f, const mpl_mat *m, char sep, const char *header);
int mpl__npy_write(FILE *f, const mpl_mat *m);
int mpl__mtx_write(FILE *f, const mpl_mat *m);

/* Record a failure in info (line: 1-based text line or 0; off: byte
** offset or -1) and return code.  The message is printf-formatted. */
int mpl__fail(mpl_load_info *info, int code, size_t line, long long off,
              const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

int mpl__vfail(mpl_load_info *info, int code, size_t line, long long off,
               const char *fmt, va_list ap);

/* Quote at most 40 bytes of s[0..n) for a message, escaping what is not
** printable ASCII and marking a cut with "...". */
const char *mpl__quote(char out[200], const char *s, size_t n);

/* ---- csv.c: numbers and delimited text ---- */

/* Parse the number at s (not past end): [sign] digits [. digits] [e[sign]
** digits], or inf/infinity/nan in any case.  Returns the end of the number
** and sets *out, correctly rounded, or returns NULL when s does not start
** with one.  loc is a C locale for the rare strtod_l fallback. */
const char *mpl__parse_num(const char *s, const char *end, locale_t loc,
                           double *out);

/* A delimited text file.  sep 0 or ' ' means "runs of blanks".  With
** header set, the first line that is not blank or a comment is returned in
** info->header instead of being read as data. */
int mpl__text_read(const char *buf, size_t len, char sep, int header,
                   locale_t loc, mpl_mat **out, mpl_load_info *info);

/* ---- mtx.c ---- */

int mpl__mtx_read(const char *buf, size_t len, locale_t loc, mpl_mat **out,
                  mpl_load_info *info);

/* ---- npy.c ---- */

/* Bytes to read from: a buffer (mem != NULL) or a regular file (fd).  With
** need set, mpl__npy_read only checks the header and stores there the
** bytes the whole file needs (header and data): a stream is read that far. */
typedef struct mpl__src {
  const unsigned char *mem;
  int fd;
  size_t size;
  size_t *need;
} mpl__src;

/* Read a .npy file.  With map set, src must be a file: the matrix then
** lives in a MAP_SHARED mapping of it and takes ownership of src->fd (on
** success only), which must be open read-write. */
int mpl__npy_read(const mpl__src *src, int map, mpl_mat **out,
                  mpl_load_info *info);

#endif
