/*
** files.c: the C API of the file formats: format dispatch, opening and
** reading files for the readers, error reports, and the safe-write
** discipline shared by every format.
**
** Loading: a text or .mtx file is read into a buffer and parsed there.  It
** is read, not mapped: a file truncated while a mapping of it is read
** kills the reader with SIGBUS, while read(2) just ends early (an error).
** A regular file is read for its size; a stream (pipe, FIFO, device) until
** its end, as long as that fits in the memory available, and a stream
** that is clearly not in the format (a NUL byte in text, no .npy magic)
** is refused at its first bytes, so /dev/zero is an error, not an endless
** read.  Reads check mpl_interrupt() between chunks of 1 MiB.  A regular
** .npy file is read with pread or spliced by the kernel instead, straight
** into the matrix, or mapped shared for opts.mmap.
** Every reader reports a failure in an mpl_load_info: the message, and the
** line or byte offset, so a C host gets the location without parsing text.
** Numbers are parsed with a C locale_t, never the process's locale.
**
** Saving never clobbers what is at the path.  Symbolic links are followed
** (the target is written, the link stays).  A FIFO, a device or a
** descriptor (/dev/stdout, /dev/fd/N) is written through.  What exists
** must open with O_WRONLY, so the kernel's permission rules decide (root
** may write a 0444 file; nobody may not).  A regular file is replaced: the
** data goes to ".NAME.mpl-tmp-PID-N" beside it, which gets the file's
** owner and mode and is renamed over it only when complete, so a failed or
** interrupted save leaves the old file and no temporary (a SIGKILL can
** leave the temporary, never a truncated file).  A file with several hard
** links, or whose owner the saver cannot give away, must keep its inode:
** the complete temporary is then copied over it in place.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
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

int mpl__gz_name(const char *path) {
  return path && same_ci(extension(path), "gz");
}

int mpl__format_of(const char *path, const char *format) {
  static const char *const names[] = {"csv", "tsv", "txt", "npy", "mtx", "npz"};
  const char *f = format ? format : path ? extension(path) : "";
  char inner[16] = "";
  if (!format && mpl__gz_name(path)) { /* "a.csv.gz": csv */
    size_t n = strlen(path) - 3, k = 0;
    while (k < n && k < 15 && path[n - k - 1] != '.' && path[n - k - 1] != '/')
      k++;
    if (k < n && path[n - k - 1] == '.') memcpy(inner, path + n - k, k);
    inner[k] = '\0';
    f = inner;
  }
  for (int i = 0; i < 6; i++)
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
        out[k++] = c == '\n'   ? 'n'
                   : c == '\r' ? 'r'
                   : c == '\t' ? 't'
                               : (char)c;
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

/* ---------------------------------------------------------------------- */
/* saving                                                                 */
/* ---------------------------------------------------------------------- */

typedef int (*writer_fn)(FILE *, const void *);

/* Record why a save failed (mpl_errmsg) and keep errno; returns code. */
static int save_fail(int code, int e, const char *path, const char *what) {
  if (code == MPL_EINTR)
    mpl__set_errmsg("interrupted");
  else if (code == MPL_ENOMEM)
    mpl__set_errmsg("out of memory");
  else
    mpl__set_errmsg("cannot write '%s': %s%s", path, what, strerror(e));
  errno = e;
  return code;
}

/* The descriptor a path names rather than a file: /dev/stdout (1),
** /dev/stderr (2), /dev/fd/N, /proc/self/fd/N; -1 for any other path.
** Such a save writes to the descriptor the process already has, at its
** offset, as a shell's redirection would. */
static int named_fd(const char *path) {
  const char *n = NULL;
  if (strcmp(path, "/dev/stdout") == 0) return 1;
  if (strcmp(path, "/dev/stderr") == 0) return 2;
  if (strncmp(path, "/dev/fd/", 8) == 0)
    n = path + 8;
  else if (strncmp(path, "/proc/self/fd/", 14) == 0)
    n = path + 14;
  if (!n || !*n) return -1;
  long v = 0;
  for (; *n; n++) {
    if (*n < '0' || *n > '9' || v > (1L << 24)) return -1;
    v = v * 10 + (*n - '0');
  }
  return (int)v;
}

/* Run the writer on fd (which it takes) through stdio; *e gets errno. */
static int write_fd(int fd, writer_fn w, const void *ud, int *e) {
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!f) {
    *e = errno;
    if (fd >= 0) close(fd);
    return MPL_EIO;
  }
  int err = w(f, ud);
  *e = errno;
  if (fclose(f) != 0 && !err) {
    err = MPL_EIO;
    *e = errno;
  }
  if (err == MPL_EIO && mpl__interrupt_pending()) err = MPL_EINTR;
  return err;
}

/* Write through a FIFO, a device or a descriptor: no temporary, no
** rename.  A pipe whose reader left must fail with EPIPE, not kill the
** process: SIGPIPE is blocked in this thread meanwhile, and one the write
** raised is taken back before the mask is restored. */
static int write_through(int fd, const char *path, writer_fn w,
                         const void *ud) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  int was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
  int e, err = write_fd(fd, w, ud, &e);
  if (err && e == EPIPE && !was_pending) {
    struct timespec now = {0, 0};
    (void)sigtimedwait(&pipe_set, NULL, &now);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return err ? save_fail(err, e, path, "") : 0;
}

/* path with its symbolic links followed (at most 40, as open(2) does), in
** a malloc'd string; a dangling link gives the path it points to, which
** the save creates, as open(O_CREAT) would.  Links under /proc are left:
** their targets ("pipe:[123]") are not paths. */
int mpl__follow(const char *path, char **out) {
  char *p = strdup(path), *link = malloc(PATH_MAX);
  int err = p && link ? 0 : MPL_ENOMEM;
  for (int hops = 0; !err; hops++) {
    struct stat st;
    if (strncmp(p, "/proc/", 6) == 0 || lstat(p, &st) != 0 ||
        !S_ISLNK(st.st_mode))
      break;
    ssize_t n = hops < 40 ? readlink(p, link, PATH_MAX - 1) : -1;
    if (n < 0) {
      err = MPL_EIO;
      if (hops == 40) errno = ELOOP;
      break;
    }
    link[n] = '\0';
    const char *slash = strrchr(p, '/');
    size_t dlen = link[0] != '/' && slash ? (size_t)(slash - p) + 1 : 0;
    char *q = malloc(dlen + (size_t)n + 1);
    if (!q) {
      err = MPL_ENOMEM;
      break;
    }
    memcpy(q, p, dlen);
    memcpy(q + dlen, link, (size_t)n + 1);
    free(p);
    p = q;
  }
  int e = errno;
  free(link);
  if (err)
    free(p);
  else
    *out = p;
  errno = e;
  return err;
}

/* Create ".NAME.mpl-tmp-PID-N" beside path (hidden, and recognisable if a
** SIGKILL leaves one behind); returns its descriptor and *tmp its name. */
static int open_temp(const char *path, mode_t mode, char **tmp) {
  static atomic_uint counter;
  const char *slash = strrchr(path, '/');
  int dlen = slash ? (int)(slash - path) + 1 : 0;
  int blen = (int)strnlen(path + dlen, 200); /* stay under NAME_MAX */
  size_t n = (size_t)dlen + (size_t)blen + 64;
  char *t = malloc(n);
  if (!t) return -1;
  int fd;
  do { /* open(2) rather than mkstemp so the umask sets a new file's mode */
    snprintf(t, n, "%.*s.%.*s.mpl-tmp-%ld-%u", dlen, path, blen, path + dlen,
             (long)getpid(), atomic_fetch_add(&counter, 1));
    fd = open(t, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EEXIST);
  if (fd < 0) {
    int e = errno;
    free(t);
    errno = e;
    return -1;
  }
  *tmp = t;
  return fd;
}

/* Copy the complete temporary src over the file open at dst and cut dst
** to its length: the in-place write of a file that must keep its inode. */
static int copy_over(int src, int dst) {
  enum { CHUNK = 1 << 20 };
  char *buf = malloc(CHUNK);
  off_t off = 0;
  ssize_t k = buf ? 1 : -1;
  while (k > 0) {
    k = pread(src, buf, CHUNK, off);
    for (ssize_t w = 0, x; k > 0 && w < k; w += x) {
      x = pwrite(dst, buf + w, (size_t)(k - w), off + w);
      if (x < 0 && errno != EINTR) k = -1;
      if (x < 0) x = 0;
    }
    if (k > 0) off += k;
    if (k < 0 && errno == EINTR) k = 1;
  }
  int e = errno;
  free(buf);
  if (k == 0 && ftruncate(dst, off) != 0) k = -1, e = errno;
  errno = e;
  return k == 0 ? 0 : -1;
}

/* Give the file open at fd st's owner and mode: 0 when both were given,
** 1 when the owner could not be (a non-root saver of a file someone else
** owns: the mode is given all the same), -1 when the mode could not be. */
static int own_like(int fd, const struct stat *st) {
  int owner = fchown(fd, st->st_uid, st->st_gid) == 0;
  if (fchmod(fd, st->st_mode & 07777) != 0) return -1;
  return owner ? 0 : 1;
}

/* Whether the replacement of st must be written in place: the file has
** other names (hard links), or its owner cannot be given to a new file.
** Otherwise tfd gets st's owner and mode. */
static int must_write_in_place(int tfd, const struct stat *st) {
  return st->st_nlink > 1 || own_like(tfd, st) != 0;
}

int mpl__save_like(const char *tmp, const char *path) {
  struct stat st;
  const char *who = path;
  int fd = -1, bad = stat(path, &st) != 0;
  if (bad && errno == ENOENT) return 0; /* new: tmp's mode, from the umask */
  if (!bad && !S_ISREG(st.st_mode)) return 0;
  if (!bad) {
    who = tmp;
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    bad = fd < 0 || own_like(fd, &st) < 0;
  }
  int e = errno;
  if (fd >= 0) close(fd);
  if (!bad) return 0;
  mpl__set_errmsg("%s: %s", who, strerror(e));
  return MPL_EIO;
}

/* Write a complete temporary beside target, then rename it over target
** (st NULL: a new file), or copy it in place into fd (see above). */
static int replace(const char *path, const char *target, const struct stat *st,
                   int fd, writer_fn w, const void *ud) {
  char *tmp = NULL;
  int tfd = open_temp(target, st ? 0600 : 0666, &tmp), e = errno;
  if (tfd < 0) {
    if (fd >= 0) close(fd);
    return save_fail(e == ENOMEM ? MPL_ENOMEM : MPL_EIO, e, path,
                     "cannot create a file beside it: ");
  }
  int in_place = st && must_write_in_place(tfd, st);
  int err = write_fd(fcntl(tfd, F_DUPFD_CLOEXEC, 3), w, ud, &e);
  if (!err && !in_place && rename(tmp, target) == 0) {
    free(tmp);
    tmp = NULL;
  } else if (!err && !in_place) {
    err = MPL_EIO, e = errno;
  } else if (!err && copy_over(tfd, fd) != 0) {
    err = MPL_EIO, e = errno;
  }
  if (tmp) unlink(tmp);
  free(tmp);
  close(tfd);
  if (fd >= 0) close(fd);
  return err ? save_fail(err, e, path, "") : 0;
}

/* Save to the file target (path with its links followed).  What exists
** there must be writable, as open(O_WRONLY) decides (root may write a
** 0444 file); a FIFO or device is written through. */
static int save_target(const char *path, const char *target, writer_fn w,
                       const void *ud) {
  struct stat st;
  int fd = -1;
  if (stat(target, &st) != 0) {
    if (errno != ENOENT) return save_fail(MPL_EIO, errno, path, "");
    return replace(path, target, NULL, -1, w, ud);
  }
  if (S_ISDIR(st.st_mode)) return save_fail(MPL_EIO, EISDIR, path, "");
  while ((fd = open(target, O_WRONLY | O_CLOEXEC | O_NOCTTY)) < 0 &&
         errno == EINTR) /* a FIFO waits for its reader */
    if (mpl__interrupt_pending()) return save_fail(MPL_EINTR, EINTR, path, "");
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return save_fail(MPL_EIO, e, path, "");
  }
  if (!S_ISREG(st.st_mode)) return write_through(fd, path, w, ud);
  return replace(path, target, &st, fd, w, ud);
}

/* The safe write of every format (see the top of this file). */
static int save_file(const char *path, writer_fn w, const void *ud) {
  mpl__interrupt_clear();
  int nfd = named_fd(path);
  if (nfd >= 0) {
    fflush(stdout); /* what the host printed comes first */
    fflush(stderr);
    int fd = fcntl(nfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return save_fail(MPL_EIO, errno, path, "");
    return write_through(fd, path, w, ud);
  }
  char *target;
  int err = mpl__follow(path, &target);
  if (err) return save_fail(err, errno, path, "");
  if (named_fd(target) >= 0) { /* a link to /dev/stdout or /dev/fd/N */
    err = save_file(target, w, ud);
    free(target);
    return err;
  }
  err = save_target(path, target, w, ud);
  free(target);
  return err;
}

typedef struct save_job {
  const mpl_mat *m;
  int fmt;
  char sep;
  const char *header;
  int gz;
  const mpl__named *named; /* .npz: n matrices */
  size_t n;
  int compress;
} save_job;

/* Write the job's format to f. */
static int format_writer(FILE *f, const save_job *j) {
  if (j->fmt == MPL__FMT_NPZ)
    return mpl__npz_write(f, j->named, j->n, j->compress);
  if (j->fmt == MPL__FMT_NPY) return mpl__npy_write(f, j->m);
  /* Numbers are written in the C locale whatever the host chose. */
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  locale_t old = c ? uselocale(c) : (locale_t)0;
  int err = j->fmt == MPL__FMT_MTX
                ? mpl__mtx_write(f, j->m)
                : mpl__text_write(f, j->m, j->sep, j->header);
  if (old) uselocale(old);
  if (c) freelocale(c);
  return err;
}

/* The job's writer, through a gzip stream for a name ending in .gz. */
static int save_writer(FILE *f, const void *ud) {
  const save_job *j = ud;
  int err;
  if (j->gz) {
    FILE *g = mpl__gzip_writer(f);
    if (!g) return MPL_ENOMEM;
    err = format_writer(g, j);
    int e = errno;
    if (fclose(g) != 0 && !err) err = MPL_EIO, e = errno;
    errno = e;
  } else {
    err = format_writer(f, j);
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
  if (text && (m->rows == 0 || m->cols == 0)) {
    mpl__set_errmsg("a %zux%zu matrix cannot be saved as text (it would "
                    "read back as an empty file); use .npy or .mtx",
                    m->rows, m->cols);
    return MPL_EINVAL;
  }
  if (fmt == MPL__FMT_NPZ) {
    mpl__set_errmsg("a .npz archive holds named matrices: save a table of "
                    "them");
    return MPL_EINVAL;
  }
  save_job j = {m, fmt, sep, opts->header, mpl__gz_name(path), NULL, 0, 0};
  return save_file(path, save_writer, &j);
}

int mpl__save_npz(const char *path, const mpl__named *v, size_t n,
                  int compress) {
  if (!path || (!v && n)) return MPL_EINVAL;
  if (n == 0) {
    mpl__set_errmsg("no matrices to save in '%s'", path);
    return MPL_EINVAL;
  }
  if (mpl__gz_name(path)) {
    mpl__set_errmsg("'%s': a .npz archive is not gzipped (use compress = "
                    "true to deflate its members)",
                    path);
    return MPL_EINVAL;
  }
  save_job j = {NULL, MPL__FMT_NPZ, 0, NULL, 0, v, n, compress};
  int err = save_file(path, save_writer, &j);
  if (err == MPL_EIO && errno == ESPIPE)
    mpl__set_errmsg("cannot write '%s': a .npz archive is written with "
                    "seeks, and this is a pipe",
                    path);
  return err;
}

int mpl_save(const char *path, const mpl_mat *m, const char *format, char sep) {
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

/* A file read as text (or .mtx) that is plainly something else: a zip
** archive, UTF-16 text. */
static int not_text(const char *buf, size_t len, mpl_load_info *info) {
  if (len >= 4 && memcmp(buf, "PK\x03\x04", 4) == 0)
    return mpl__fail(info, MPL_EFORMAT, 0, 0,
                     "this is a zip archive (a .npz file?), not text");
  if (len >= 2 &&
      (memcmp(buf, "\xff\xfe", 2) == 0 || memcmp(buf, "\xfe\xff", 2) == 0))
    return mpl__fail(info, MPL_EFORMAT, 0, 0,
                     "this is UTF-16 text; mpl reads UTF-8 (convert it with "
                     "iconv -f UTF-16 -t UTF-8)");
  return 0;
}

static int parse_mem(int fmt, const char *buf, size_t len,
                     const mpl_load_opts *o, const mpl__text_opts *x,
                     locale_t loc, mpl_mat **out, mpl_load_info *info) {
  int err = fmt != MPL__FMT_NPY ? not_text(buf, len, info) : 0;
  if (err) return err;
  if (fmt == MPL__FMT_MTX) return mpl__mtx_read(buf, len, loc, out, info);
  if (fmt == MPL__FMT_NPY) {
    mpl__src src = {(const unsigned char *)buf, -1, len, NULL};
    return mpl__npy_read(&src, 0, out, info);
  }
  char sep = o->sep                ? o->sep
             : fmt == MPL__FMT_CSV ? ','
             : fmt == MPL__FMT_TSV ? '\t'
                                   : 0;
  return mpl__text_read(buf, len, sep, o->header, x, loc, out, info);
}

enum { READ_CHUNK = 1 << 20, READ_CHECK = 64 << 20 };

static _Thread_local const mpl__progress *io_hook;
static _Thread_local long io_last;

void mpl__io_progress_set(const mpl__progress *pr) {
  io_hook = pr && pr->fn ? pr : NULL;
  io_last = mpl__now_ns();
}

void mpl__io_tick(size_t done, size_t total) {
  if (!io_hook) return;
  long now = mpl__now_ns();
  if (now - io_last < MPL__PROGRESS_MS * 1000000L) return;
  io_last = now;
  io_hook->fn(io_hook->ctx, done, total);
}

/* One read(2) of at most n bytes into b, retried when a signal cut it
** short unless mpl_interrupt() asked to stop (then -2). */
static ssize_t read_some(int fd, char *b, size_t n) {
  for (;;) {
    if (mpl__interrupt_pending()) return -2;
    ssize_t k = read(fd, b, n < READ_CHUNK ? n : READ_CHUNK);
    if (k >= 0 || errno != EINTR) return k;
  }
}

/* Read up to *len bytes (at most READ_CHUNK at a time, checking for an
** interrupt between reads) into b; *len gets what was read.  Returns 0,
** or fills info for a read error or an interrupt. */
static int read_into(int fd, char *b, size_t *len, mpl_load_info *info) {
  size_t n = 0, want = *len;
  while (n < want) {
    ssize_t k = read_some(fd, b + n, want - n);
    if (k == -2) return mpl__fail(info, MPL_EINTR, 0, -1, "interrupted");
    if (k < 0) {
      int e = errno;
      mpl__fail(info, MPL_EIO, 0, (long long)n, "read error: %s", strerror(e));
      errno = e;
      return MPL_EIO;
    }
    if (k == 0) break;
    n += (size_t)k;
  }
  *len = n;
  return 0;
}

/* A regular file of size (> 0) bytes, read (not mapped: a file truncated
** while it is read must give an error, not a SIGBUS) into an anonymous
** mapping of transparent huge pages where the system offers them (a read
** into 4 KiB pages spends longer faulting them in than copying). */
static int read_regular(int fd, size_t size, char **buf, size_t *len,
                        mpl_load_info *info) {
  if (size >= READ_CHECK && size > mpl__mem_available())
    return mpl__fail(info, MPL_ENOMEM, 0, -1,
                     "the file (%zu bytes) is larger than the memory "
                     "available",
                     size);
  char *b = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (b == MAP_FAILED)
    return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  (void)madvise(b, size, MADV_HUGEPAGE);
  size_t n = size;
  int err = read_into(fd, b, &n, info);
  struct stat st; /* short: truncated meanwhile, or a sysfs file whose
                     size is a page whatever it holds */
  if (!err && n < size && (fstat(fd, &st) != 0 || (size_t)st.st_size < size))
    err = mpl__fail(info, MPL_EIO, 0, (long long)n,
                    "the file ended while being read (it had %zu bytes)", size);
  if (err) {
    munmap(b, size);
    return err;
  }
  *buf = b;
  *len = n;
  return 0;
}

/* Whether the first n bytes of a stream already show it is not in format
** fmt: .npy without its magic, text with a NUL byte (/dev/zero,
** /dev/urandom), so that reading it all is not needed to say so. */
static int stream_is_not(int fmt, const char *b, size_t n, size_t from,
                         mpl_load_info *info) {
  if (mpl__is_gzip(b, n)) return 0; /* gunzipped when complete */
  if (fmt == MPL__FMT_NPZ) {
    if (from >= 4 || memcmp(b, "PK\x03\x04", n < 4 ? n : 4) == 0 ||
        memcmp(b, "PK\x05\x06", n < 4 ? n : 4) == 0)
      return 0;
    return mpl__fail(info, MPL_EFORMAT, 0, 0, "not a .npz file (bad magic)");
  }
  if (fmt == MPL__FMT_NPY) {
    if (from >= 6 || memcmp(b, "\x93NUMPY", n < 6 ? n : 6) == 0) return 0;
    return mpl__fail(info, MPL_EFORMAT, 0, 0, "not a .npy file (bad magic)");
  }
  const char *z = memchr(b + from, '\0', n - from);
  if (!z) return 0;
  return mpl__fail(info, MPL_EFORMAT, 0, (long long)(z - b),
                   "a NUL byte: this is not a text file");
}

/* For a .npy stream: once its header is in b[0..n), *need gets the bytes
** the file needs, header and data; an invalid header is its error. */
static int npy_need(const char *b, size_t n, size_t *need,
                    mpl_load_info *info) {
  const unsigned char *u = (const unsigned char *)b;
  if (n < 12) return 0;
  size_t hoff = u[6] == 1 ? 10 : 12;
  size_t hlen = (size_t)u[8] | (size_t)u[9] << 8;
  if (u[6] != 1) hlen |= (size_t)u[10] << 16 | (size_t)u[11] << 24;
  if (hlen <= 10000 && n < hoff + hlen) return 0;
  mpl__src src = {u, -1, n, need};
  mpl_mat *none;
  return mpl__npy_read(&src, 0, &none, info);
}

/* Everything a stream (pipe, FIFO, device, /proc file) has, in a malloc'd
** buffer, as long as it fits in the memory available; a .npy stream only
** as far as its header says (what follows is ignored, as in a file). */
static int read_stream(int fd, int fmt, char **buf, size_t *len,
                       mpl_load_info *info) {
  size_t cap = 1 << 16, n = 0, need = SIZE_MAX;
  char *b = malloc(cap);
  int err = b ? 0 : mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  while (!err && n < need) {
    if (n == cap) {
      char *nb = cap >= READ_CHECK && cap > mpl__mem_available() / 2
                     ? NULL
                     : realloc(b, cap * 2);
      if (!nb) {
        err = mpl__fail(info, MPL_ENOMEM, 0, -1,
                        "the stream does not fit in the memory available "
                        "(%zu bytes read)",
                        n);
        break;
      }
      b = nb;
      cap *= 2;
    }
    size_t k = cap - n < READ_CHUNK ? cap - n : READ_CHUNK;
    if (k > need - n) k = need - n;
    if ((err = read_into(fd, b + n, &k, info)) != 0 || k == 0) break;
    err = stream_is_not(fmt, b, n + k, n, info);
    n += k;
    if (!err && fmt == MPL__FMT_NPY && need == SIZE_MAX && !mpl__is_gzip(b, n))
      err = npy_need(b, n, &need, info);
  }
  if (err) {
    free(b);
    return err;
  }
  *buf = b;
  *len = n;
  return 0;
}

/* Open path to load it (read-write for opts.mmap); a FIFO waits for a
** writer, and Ctrl-C stops the wait. */
static int open_load(const char *path, int map, int *fdp, struct stat *st,
                     mpl_load_info *info) {
  int fd;
  while ((fd = open(path, (map ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0 &&
         errno == EINTR && !mpl__interrupt_pending()) {
  }
  if (fd < 0 && errno == EINTR)
    return mpl__fail(info, MPL_EINTR, 0, -1, "interrupted");
  if (fd < 0) {
    int e = errno;
    if (map && (e == EACCES || e == EROFS || e == EPERM))
      mpl__fail(info, MPL_EIO, 0, -1,
                "the mmap option maps the file read-write, and it is not "
                "writable (%s); load it without mmap",
                strerror(e));
    else
      mpl__fail(info, MPL_EIO, 0, -1, "cannot open: %s", strerror(e));
    errno = e;
    return MPL_EIO;
  }
  int bad = fstat(fd, st) != 0 ? errno : S_ISDIR(st->st_mode) ? EISDIR : 0;
  if (bad) {
    close(fd);
    mpl__fail(info, MPL_EIO, 0, -1, "cannot read: %s", strerror(bad));
    errno = bad;
    return MPL_EIO;
  }
  *fdp = fd;
  return 0;
}

/* A file's bytes in memory: an anonymous mapping of maplen bytes, or
** malloc'd (maplen 0). */
typedef struct bytes {
  char *buf;
  size_t len, maplen;
} bytes;

static void bytes_free(bytes *b) {
  if (b->maplen)
    munmap(b->buf, b->maplen);
  else
    free(b->buf);
  b->buf = NULL;
}

/* The bytes of the open file fd (a fmt file), gunzipped when they are
** gzip data. */
static int read_bytes(int fd, const struct stat *st, int fmt, bytes *b,
                      mpl_load_info *info) {
  size_t size = (size_t)st->st_size;
  int mapped = S_ISREG(st->st_mode) && size > 0; /* /proc files say 0 */
  int err = mapped ? read_regular(fd, size, &b->buf, &b->len, info)
                   : read_stream(fd, fmt, &b->buf, &b->len, info);
  if (err) return err;
  b->maplen = mapped ? size : 0;
  if (!mpl__is_gzip(b->buf, b->len)) return 0;
  bytes z = {NULL, 0, 0};
  err =
      mpl__gunzip((const unsigned char *)b->buf, b->len, &z.buf, &z.len, info);
  bytes_free(b);
  *b = z;
  return err;
}

/* Whether the regular file fd starts with gzip's magic bytes. */
static int file_is_gzip(int fd) {
  unsigned char m[4];
  return pread(fd, m, 4, 0) == 4 && mpl__is_gzip(m, 4);
}

/* Load the open file fd (fmt, not .npz) into *out. */
static int load_fd(int fd, const struct stat *st, int fmt,
                   const mpl_load_opts *opts, const mpl__text_opts *x,
                   locale_t loc, mpl_mat **out, mpl_load_info *info) {
  int regular = S_ISREG(st->st_mode);
  if (opts->mmap && regular && file_is_gzip(fd))
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "the mmap option cannot map a gzip-compressed file; "
                     "decompress it first, or load it without mmap");
  if (fmt == MPL__FMT_NPY && regular && !file_is_gzip(fd)) {
    mpl__src src = {NULL, fd, (size_t)st->st_size, NULL};
    return mpl__npy_read(&src, opts->mmap, out, info);
  }
  if (opts->mmap)
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "the mmap option needs a regular file");
  bytes b = {NULL, 0, 0};
  int err = read_bytes(fd, st, fmt, &b, info);
  int e = errno;
  if (!err) err = parse_mem(fmt, b.buf, b.len, opts, x, loc, out, info);
  bytes_free(&b);
  errno = e;
  return err;
}

/* The format of path (by format or its name), or an error. */
static int load_format(const char *path, const char *format,
                       mpl_load_info *info) {
  int fmt = mpl__format_of(path, format);
  if (fmt >= 0) return fmt;
  char q[200];
  if (format)
    return mpl__fail(info, MPL_EFORMAT, 0, -1, "unknown format %s",
                     mpl__quote(q, format, strlen(format)));
  return mpl__fail(info, MPL_EFORMAT, 0, -1,
                   "cannot tell the format from the name (use .csv, .tsv, "
                   ".txt, .npy, .npz or .mtx, or name the format)");
}

/* What every load starts with: *info reset (scratch when it is NULL),
** *out cleared, *opts defaulted; MPL_EINVAL when out is NULL. */
static int load_begin(mpl_mat **out, mpl_load_info **info,
                      mpl_load_info *scratch, const mpl_load_opts **opts) {
  static const mpl_load_opts none = {0, 0, 0};
  if (!*info) *info = scratch;
  info_reset(*info);
  if (!out)
    return mpl__fail(*info, MPL_EINVAL, 0, -1, "no place for the result");
  *out = NULL;
  if (!*opts) *opts = &none;
  return 0;
}

int mpl_load(mpl_mat **out, const char *path, const char *format,
             const mpl_load_opts *opts, mpl_load_info *info) {
  return mpl__load_x(out, path, format, opts, NULL, info);
}

int mpl__load_x(mpl_mat **out, const char *path, const char *format,
                const mpl_load_opts *opts, const mpl__text_opts *x,
                mpl_load_info *info) {
  mpl_load_info scratch;
  int err = load_begin(out, &info, &scratch, &opts);
  if (err) return err;
  if (!path) return mpl__fail(info, MPL_EINVAL, 0, -1, "no path");
  int fmt = load_format(path, format, info), fd;
  if (fmt < 0) return fmt;
  if (fmt == MPL__FMT_NPZ)
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "a .npz archive holds named matrices: load it with "
                     "mat.load in Lua");
  if ((err = check_opts(fmt, opts, info)) != 0) return err;
  if (mpl__text_opts_set(x) && fmt > MPL__FMT_TXT)
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "opts.cols, opts.na and opts.skip are only for text "
                     "files (.csv, .tsv, .txt)");
  mpl__interrupt_clear();
  struct stat st;
  if ((err = open_load(path, opts->mmap, &fd, &st, info)) != 0) return err;
  locale_t loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!loc) {
    close(fd);
    return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  }
  err = load_fd(fd, &st, fmt, opts, x, loc, out, info);
  int e = errno;
  if (err || !opts->mmap) close(fd); /* else the matrix owns it */
  freelocale(loc);
  errno = e;
  return err;
}

int mpl__load_npz(const char *path, const char *name, mpl__named **v, size_t *n,
                  mpl_load_info *info) {
  info_reset(info);
  *v = NULL;
  *n = 0;
  mpl__interrupt_clear();
  struct stat st;
  int fd, err = open_load(path, 0, &fd, &st, info);
  if (err) return err;
  bytes b = {NULL, 0, 0};
  err = read_bytes(fd, &st, MPL__FMT_NPZ, &b, info);
  int e = errno;
  close(fd);
  if (!err)
    err = mpl__npz_read((const unsigned char *)b.buf, b.len, name, v, n, info);
  bytes_free(&b);
  errno = e;
  return err;
}

int mpl_load_mem(mpl_mat **out, const void *buf, size_t len, const char *format,
                 const mpl_load_opts *opts, mpl_load_info *info) {
  mpl_load_info scratch;
  int err = load_begin(out, &info, &scratch, &opts);
  if (err) return err;
  if (!buf && len) return mpl__fail(info, MPL_EINVAL, 0, -1, "no buffer");
  int fmt = format ? mpl__format_of(NULL, format) : -1;
  if (fmt < 0) return mpl__fail(info, MPL_EINVAL, 0, -1, "unknown format");
  if (opts->mmap)
    return mpl__fail(info, MPL_EINVAL, 0, -1, "the mmap option needs a file");
  if (fmt == MPL__FMT_NPZ)
    return mpl__fail(info, MPL_EINVAL, 0, -1,
                     "a .npz archive holds named matrices, not one");
  if ((err = check_opts(fmt, opts, info)) != 0) return err;
  locale_t loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!loc) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  char *z = NULL;
  if (mpl__is_gzip(buf, len)) err = mpl__gunzip(buf, len, &z, &len, info);
  if (!err)
    err = parse_mem(fmt,
                    z     ? z
                    : buf ? buf
                          : "",
                    len, opts, NULL, loc, out, info);
  free(z);
  freelocale(loc);
  return err;
}
