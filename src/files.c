/*
** files.c: format dispatch and the safe-write discipline shared by every
** file format.  A save writes a temporary file beside the target and
** renames it over the target only when everything was written, so a failed
** save (full disk, bad matrix) never leaves a truncated file behind or
** destroys the previous one.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "files.h"

/* The extension of path ("csv" for "a/b.CSV"), or "" when none. */
static const char *extension(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(path, '.');
  if (!dot || (slash && dot < slash) || dot == path) return "";
  return dot + 1;
}

int mpl__format_of(const char *path, const char *format) {
  const char *f = format ? format : extension(path);
  if (!strcasecmp(f, "csv")) return MPL__FMT_CSV;
  if (!strcasecmp(f, "tsv")) return MPL__FMT_TSV;
  if (!strcasecmp(f, "txt")) return MPL__FMT_TXT;
  if (!strcasecmp(f, "npy")) return MPL__FMT_NPY;
  if (!strcasecmp(f, "mtx")) return MPL__FMT_MTX;
  return -1;
}

/* Write through writer() into a temporary beside path, then rename it into
** place; errno is kept from the first failure. */
static int write_atomic(const char *path, int (*writer)(FILE *, const void *),
                        const void *ud) {
  static atomic_uint counter;
  size_t n = strlen(path) + 48;
  char *tmp = malloc(n);
  if (!tmp) return MPL_ENOMEM;
  int fd;
  do { /* open(2) rather than mkstemp so the umask sets the mode */
    snprintf(tmp, n, "%s.tmp-%ld-%u", path, (long)getpid(),
             atomic_fetch_add(&counter, 1));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  } while (fd < 0 && errno == EEXIST);
  if (fd < 0) {
    free(tmp);
    return MPL_EIO;
  }
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    int e = errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    errno = e;
    return MPL_EIO;
  }
  int err = writer(f, ud);
  int e = errno;
  if (fclose(f) != 0 && !err) {
    err = MPL_EIO;
    e = errno;
  }
  if (!err && rename(tmp, path) != 0) {
    err = MPL_EIO;
    e = errno;
  }
  if (err) unlink(tmp);
  free(tmp);
  errno = e;
  return err;
}

typedef struct save_job {
  const mpl_mat *m;
  int fmt;
  char sep;
} save_job;

static int save_writer(FILE *f, const void *ud) {
  const save_job *j = ud;
  int err;
  if (j->fmt == MPL__FMT_NPY) {
    err = mpl__npy_write(f, j->m);
  } else {
    /* Numbers are written in the C locale whatever the host chose. */
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c ? uselocale(c) : (locale_t)0;
    if (j->fmt == MPL__FMT_MTX) err = mpl__mtx_write(f, j->m);
    else err = mpl__text_write(f, j->m, j->sep);
    if (old) uselocale(old);
    if (c) freelocale(c);
  }
  if (!err && fflush(f) != 0) err = MPL_EIO;
  return err;
}

int mpl_save(const char *path, const mpl_mat *m, const char *format,
             char sep) {
  if (!path || !m) return MPL_EINVAL;
  int fmt = mpl__format_of(path, format);
  if (fmt < 0) return MPL_EFORMAT;
  if (!sep) sep = fmt == MPL__FMT_TSV ? '\t' : fmt == MPL__FMT_TXT ? ' ' : ',';
  save_job j = {m, fmt, sep};
  return write_atomic(path, save_writer, &j);
}
