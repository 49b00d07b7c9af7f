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

enum {
  MPL__FMT_CSV,
  MPL__FMT_TSV,
  MPL__FMT_TXT,
  MPL__FMT_NPY,
  MPL__FMT_MTX,
  MPL__FMT_NPZ
};

/* The format named by `format`, else by path's extension ("csv" for
** "a.csv" and "a.csv.gz"); -1 if unknown. */
int mpl__format_of(const char *path, const char *format);

/* Whether path's name ends in ".gz" (a save then compresses). */
int mpl__gz_name(const char *path);

/* Writers: 0, MPL_EIO (errno set) or MPL_EINTR (mpl_interrupt, checked
** row by row).  Text writers expect the C locale. */
int mpl__text_write(FILE *f, const mpl_mat *m, char sep, const char *header);
int mpl__npy_write(FILE *f, const mpl_mat *m);
int mpl__mtx_write(FILE *f, const mpl_mat *m);

/* Record a failure in info (line: 1-based text line or 0; off: byte
** offset or -1) and return code.  The message is printf-formatted. */
int mpl__fail(mpl_load_info *info, int code, size_t line, long long off,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

int mpl__vfail(mpl_load_info *info, int code, size_t line, long long off,
               const char *fmt, va_list ap);

/* Quote at most 40 bytes of s[0..n) for a message, escaping what is not
** printable ASCII and marking a cut with "...". */
const char *mpl__quote(char out[200], const char *s, size_t n);

/* The progress hook of the load or save the calling thread runs (pr NULL:
** none), set by the binding around the call.  Loaders and writers call
** mpl__io_tick(done, total) now and then (every few dozen lines or rows,
** or per chunk read), and it calls the hook at most every
** MPL__PROGRESS_MS.  Thread-local: threads a loader starts never call it.
** Units: bytes for loads (of the text parsed, or of the .npy file read),
** rows for saves. */
void mpl__io_progress_set(const mpl__progress *pr);
void mpl__io_tick(size_t done, size_t total);

/* ---- csv.c: numbers and delimited text ---- */

typedef struct mpl__text_opts mpl__text_opts;

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
                   const mpl__text_opts *x, locale_t loc, mpl_mat **out,
                   mpl_load_info *info);

/* ---- csvx.c: quoted fields, column selection, missing values ---- */

/* What mat.load's text options ask for beyond mpl_load_opts. cols: ncols
** selected columns, each idx[k] (1-based) or, where names[k] is set, the
** column the header names so. */
struct mpl__text_opts {
  const char *const *na; /* strings read as NaN (then also empty fields) */
  size_t nna;
  const size_t *idx;
  const char *const *names;
  size_t ncols;
  size_t skip; /* lines skipped before anything else */
};

/* Whether x asks for anything. */
int mpl__text_opts_set(const mpl__text_opts *x);

/* Read delimited text with csvx.c's tokenizer (see there); as
** mpl__text_read otherwise. */
int mpl__text_read_x(const char *buf, size_t len, char sep, int header,
                     const mpl__text_opts *x, locale_t loc, mpl_mat **out,
                     mpl_load_info *info);

/* The fields of a header line (quotes removed), malloc'd strings in a
** malloc'd array of *n. */
int mpl__split_fields(const char *line, char sep, char ***out, size_t *n);

/* mpl_load with the text options x (NULL: none). */
int mpl__load_x(mpl_mat **out, const char *path, const char *format,
                const mpl_load_opts *opts, const mpl__text_opts *x,
                mpl_load_info *info);

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

/* The header of a version 1.0 '<f8' C-order .npy file of rows x cols, as
** mpl__npy_write writes it, into out; returns its length. */
#define MPL__NPY_HEADER_MAX 256
size_t mpl__npy_header(unsigned char out[MPL__NPY_HEADER_MAX], size_t rows,
                       size_t cols);

/* ---- gzip.c ---- */

/* Whether buf[0..len) starts like gzip data (magic bytes 1f 8b). */
int mpl__is_gzip(const void *buf, size_t len);

/* The decompression of the gzip data buf[0..len) (one or several
** members) into a malloc'd buffer *out of *outlen bytes, bounded by the
** memory available and stopped by mpl_interrupt(). */
int mpl__gunzip(const unsigned char *buf, size_t len, char **out,
                size_t *outlen, mpl_load_info *info);

/* A stdio stream that gzip-compresses what is written to it into f
** (which stays open); NULL when out of memory.  fclose() finishes the
** gzip data and fails when a write to f failed. */
FILE *mpl__gzip_writer(FILE *f);

/* ---- npz.c ---- */

/* A named matrix of a .npz archive (the name without ".npy"). */
typedef struct mpl__named {
  char *name;
  mpl_mat *m;
} mpl__named;

void mpl__named_free(mpl__named *v, size_t n);

/* The .npy members of the zip archive buf[0..len), or only the one called
** name when name is set; *v is malloc'd (mpl__named_free). */
int mpl__npz_read(const unsigned char *buf, size_t len, const char *name,
                  mpl__named **v, size_t *n, mpl_load_info *info);

/* Write an archive of the n matrices (each as NAME.npy, deflated when
** compress is set) to f, which must be seekable.  0, MPL_EIO (errno set)
** or MPL_EINTR; mpl_errmsg says why. */
int mpl__npz_write(FILE *f, const mpl__named *v, size_t n, int compress);

/* Load every matrix of the .npz file path (or the one called name), and
** save n matrices as one (see files.c).  Errors as mpl_load / mpl_save. */
int mpl__load_npz(const char *path, const char *name, mpl__named **v, size_t *n,
                  mpl_load_info *info);
int mpl__save_npz(const char *path, const mpl__named *v, size_t n,
                  int compress);

#endif
