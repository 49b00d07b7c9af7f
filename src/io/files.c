/*
** files.c: the C API of the file formats: format dispatch, opening and
** mapping files for the readers, error reports, and the safe-write
** discipline shared by every format.
**
** Loading: a regular file is mapped read-only (MAP_PRIVATE) and parsed in
** place, so a file of gigabytes is never copied into memory first; other
** files (pipes, /proc) are read into a buffer.  .npy files are read with
** pread or spliced by the kernel instead, straight into the matrix, or
** mapped shared for opts.mmap.
** Every reader reports a failure in an mpl_load_info: the message, and the
** line or byte offset, so a C host gets the location without parsing text.
** Numbers are parsed with a C locale_t, never the process's locale.
**
** Saving writes a temporary file beside the target and renames it over the
** target only when everything was written, so a failed save (full disk,
** bad matrix) never leaves a truncated file behind or destroys the
** previous one.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

/* The extension of path ("csv" for "a/b.CSV"), or "" when none. */
static const char *extension(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(path, '.');
  if (!dot || (slash && dot < slash) || dot == path) return "";
  return dot + 1;
}

/* ASCII case-insensitive equality (strcasecmp follows the locale). */
static int same_ci(const char *a, const char *b) {
  for (;; a++, b++) {
    char x = *a, y = *b;
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return 0;
    if (!x) return 1;
  }
}

int mpl__format_of(const char *path, const char *format) {
  static const char *const names[] = {"csv", "tsv", "txt", "npy", "mtx"};
  const char *f = format ? format : path ? extension(path) : "";
  for (int i = 0; i < 5; i++)
    if (same_ci(f, names[i])) return i; /* the MPL__FMT_* order */
  return -1;
}

int mpl__vfail(mpl_load_info *info, int code, size_t line, long long off,
               const char *fmt, va_list ap) {
  info->line = line;
  info->offset = line ? -1 : off;
  vsnprintf(info->msg, sizeof info->msg, fmt, ap);
  return code;
}

int mpl__fail(mpl_load_info *info, int code, size_t line, long long off,
              const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mpl__vfail(info, code, line, off, fmt, ap);
  va_end(ap);
  return code;
}

const char *mpl__quote(char out[200], const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t k = 0;
  out[k++] = '\'';
  for (size_t i = 0; i < n && i < 40; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out[k++] = (char)c;
    } else {
      out[k++] = '\\';
      if (c == '\n' || c == '\r' || c == '\t' || c == '\\' || c == '\'') {
        out[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
      } else {
        out[k++] = 'x';
        out[k++] = hex[c >> 4];
        out[k++] = hex[c & 15];
      }
    }
  }
  out[k++] = '\'';
  if (n > 40) {
    memcpy(out + k, "...", 3);
    k += 3;
  }
  out[k] = '\0';
  return out;
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
  const char *header;
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
    else err = mpl__text_write(f, j->m, j->sep, j->header);
    if (old) uselocale(old);
    if (c) freelocale(c);
  }
  if (!err && fflush(f) != 0) err = MPL_EIO;
  return err;
}

int mpl_save_ex(const char *path, const mpl_mat *m, const char *format,
                const mpl_save_opts *opts) {
  mpl_save_opts none = {0, NULL};
  if (!path || !m) return MPL_EINVAL;
  if (!opts) opts = &none;
  int fmt = mpl__format_of(path, format);
  if (fmt < 0) return MPL_EFORMAT;
  int text = fmt <= MPL__FMT_TXT;
  if (opts->header && (!text || strpbrk(opts->header, "\r\n")))
    return MPL_EINVAL;
  char sep = opts->sep;
  if (!sep) sep = fmt == MPL__FMT_TSV ? '\t' : fmt == MPL__FMT_TXT ? ' ' : ',';
  save_job j = {m, fmt, sep, opts->header};
  return write_atomic(path, save_writer, &j);
}

int mpl_save(const char *path, const mpl_mat *m, const char *format,
             char sep) {
  mpl_save_opts o = {sep, NULL};
  return mpl_save_ex(path, m, format, &o);
}

/* ---------------------------------------------------------------------- */
/* loading                                                                */
/* ---------------------------------------------------------------------- */

static void info_reset(mpl_load_info *info) {
  info->header = NULL;
  info->line = 0;
  info->offset = -1;
  info->msg[0] = '\0';
}

/* Options that do not apply to the format are errors, not ignored. */
static int check_opts(int fmt, const mpl_load_opts *o, mpl_load_info *info) {
  int text = fmt <= MPL__FMT_TXT;
  if (o->mmap && fmt != MPL__FMT_NPY)
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "the mmap option is only for .npy files");
  if (o->header && !text)
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "the header option is only for text files (.csv, .tsv, "
                     ".txt)");
  if (o->sep && !text)
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "a separator is only for text files (.csv, .tsv, .txt)");
  char c = o->sep;
  if (c && (c == '\n' || c == '\r' || c == '#' || c == '.' || c == '+' ||
            c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
            (c >= 'A' && c <= 'Z')))
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "%s cannot be a separator (it can be part of a number)",
                     mpl__quote((char[200]){0}, &c, 1));
  return 0;
}

static int parse_mem(int fmt, const char *buf, size_t len,
                     const mpl_load_opts *o, locale_t loc, mpl_mat **out,
                     mpl_load_info *info) {
  if (fmt == MPL__FMT_MTX) return mpl__mtx_read(buf, len, loc, out, info);
  if (fmt == MPL__FMT_NPY) {
    mpl__src src = {(const unsigned char *)buf, -1, len};
    return mpl__npy_read(&src, 0, out, info);
  }
  char sep = o->sep ? o->sep : fmt == MPL__FMT_CSV ? ',' : fmt == MPL__FMT_TSV ? '\t' : 0;
  return mpl__text_read(buf, len, sep, o->header, loc, out, info);
}

/* Everything fd has left, in a malloc'd buffer (pipes, /proc files). */
static int read_all(int fd, char **buf, size_t *len, mpl_load_info *info) {
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap);
  if (!b) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  for (;;) {
    if (n == cap) {
      char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
      if (!nb) {
        free(b);
        return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
      }
      b = nb;
      cap *= 2;
    }
    ssize_t k = read(fd, b + n, cap - n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      int e = errno;
      free(b);
      mpl__fail(info, MPL_EIO, 0, (long long)n, "read error: %s", strerror(e));
      errno = e;
      return MPL_EIO;
    }
    if (k == 0) break;
    n += (size_t)k;
  }
  *buf = b;
  *len = n;
  return 0;
}

int mpl_load(mpl_mat **out, const char *path, const char *format,
             const mpl_load_opts *opts, mpl_load_info *info) {
  mpl_load_info scratch;
  mpl_load_opts none = {0, 0, 0};
  if (!info) info = &scratch;
  info_reset(info);
  if (!out) return mpl__fail(info, MPL_EINVAL, 0, -1, "no place for the result");
  *out = NULL;
  if (!path) return mpl__fail(info, MPL_EINVAL, 0, -1, "no path");
  if (!opts) opts = &none;
  int fmt = mpl__format_of(path, format), err;
  if (fmt < 0) {
    char q[200];
    if (format)
      return mpl__fail(info, MPL_EFORMAT, 0, -1, "unknown format %s",
                       mpl__quote(q, format, strlen(format)));
    return mpl__fail(info, MPL_EFORMAT, 0, -1,
                     "cannot tell the format from the name (use .csv, .tsv, "
                     ".txt, .npy or .mtx, or name the format)");
  }
  if ((err = check_opts(fmt, opts, info)) != 0) return err;

  int fd = open(path, (opts->mmap ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (opts->mmap && (e == EACCES || e == EROFS || e == EPERM))
      mpl__fail(info, MPL_EIO, 0, -1,
                "the mmap option maps the file read-write, and it is not "
                "writable (%s); load it without mmap", strerror(e));
    else
      mpl__fail(info, MPL_EIO, 0, -1, "cannot open: %s", strerror(e));
    errno = e;
    return MPL_EIO;
  }
  struct stat st;
  int bad = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
  if (bad) {
    int e = bad;
    close(fd);
    mpl__fail(info, MPL_EIO, 0, -1, "cannot read: %s", strerror(e));
    errno = e;
    return MPL_EIO;
  }
  locale_t loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!loc) {
    close(fd);
    return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  }
  int regular = S_ISREG(st.st_mode);
  if (fmt == MPL__FMT_NPY && regular) {
    mpl__src src = {NULL, fd, (size_t)st.st_size};
    err = mpl__npy_read(&src, opts->mmap, out, info);
    if (err || !opts->mmap) close(fd); /* else the matrix owns it */
  } else if (opts->mmap) {
    close(fd);
    err = mpl__fail(info, MPL_EINVAL, 0, -1,
                    "the mmap option needs a regular file");
  } else {
    char *buf = NULL;
    size_t len = 0;
    int mapped = 0;
    if (regular && st.st_size > 0) {
      len = (size_t)st.st_size;
      buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      mapped = buf != MAP_FAILED;
      if (!mapped) buf = NULL;
    }
    err = mapped ? 0 : read_all(fd, &buf, &len, info);
    int e = errno;
    close(fd);
    if (!err) err = parse_mem(fmt, buf, len, opts, loc, out, info);
    if (mapped) munmap(buf, len);
    else free(buf);
    errno = e;
  }
  freelocale(loc);
  return err;
}

int mpl_load_mem(mpl_mat **out, const void *buf, size_t len,
                 const char *format, const mpl_load_opts *opts,
                 mpl_load_info *info) {
  mpl_load_info scratch;
  mpl_load_opts none = {0, 0, 0};
  if (!info) info = &scratch;
  info_reset(info);
  if (!out) return mpl__fail(info, MPL_EINVAL, 0, -1, "no place for the result");
  *out = NULL;
  if (!opts) opts = &none;
  if (!buf && len) return mpl__fail(info, MPL_EINVAL, 0, -1, "no buffer");
  int fmt = format ? mpl__format_of(NULL, format) : -1;
  if (fmt < 0) return mpl__fail(info, MPL_EINVAL, 0, -1, "unknown format");
  if (opts->mmap)
    return mpl__fail(info, MPL_EINVAL, 0, -1, "the mmap option needs a file");
  int err = check_opts(fmt, opts, info);
  if (err) return err;
  locale_t loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!loc) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  err = parse_mem(fmt, buf ? buf : "", len, opts, loc, out, info);
  freelocale(loc);
  return err;
}
