/*
** npz.c: NumPy's .npz archives (numpy.savez, numpy.savez_compressed),
** through libzip.
**
** An archive is a zip file whose members are .npy files named KEY.npy;
** members are stored or deflated, and use zip64 past 4 GiB.
**
** DESIGN
** Loading: the archive is already in memory (files.c reads it like any
** file, gunzipped if need be) and libzip reads it from there; each member
** is inflated into a buffer (its size checked against the memory available
** first, read a MiB at a time with an interrupt check between, its CRC
** checked by libzip) and parsed by the .npy reader.  Saving: libzip writes
** the archive through a source function that writes to the stdio stream
** of files.c's safe-write discipline; it seeks back to complete each
** member's local header, so the target must be seekable (a regular file,
** not a pipe).  Each member is another source function that produces the
** .npy header and then the matrix's rows, so no copy of a matrix is made;
** its size is known in advance, so libzip writes zip64 headers for a
** member past 4 GiB.  Members are written in name order.
*/
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "files.h"

enum { CHUNK = 1 << 20, BIG = 64 << 20 };

void mpl__named_free(mpl__named *v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) {
    free(v[i].name);
    mpl_mat_release(v[i].m);
  }
  free(v);
}

/* ---------------------------------------------------------------------- */
/* loading                                                                */
/* ---------------------------------------------------------------------- */

/* The error of libzip's error ze about member (NULL: the archive). */
static int zfail(mpl_load_info *info, zip_error_t *ze, const char *member) {
  int code = zip_error_code_zip(ze) == ZIP_ER_MEMORY ? MPL_ENOMEM : MPL_EFORMAT;
  char q[200];
  if (member)
    mpl__fail(info, code, 0, -1, "member %s: %s",
              mpl__quote(q, member, strlen(member)), zip_error_strerror(ze));
  else
    mpl__fail(info, code, 0, -1, "not a readable zip archive (%s)",
              zip_error_strerror(ze));
  return code;
}

/* The n bytes of the open member zf into buf, a MiB at a time. */
static int read_member(zip_file_t *zf, char *buf, size_t n, const char *name,
                       mpl_load_info *info) {
  char q[200];
  for (size_t got = 0; got < n;) {
    if (mpl__interrupt_pending())
      return mpl__fail(info, MPL_EINTR, 0, -1, "interrupted");
    size_t want = n - got < CHUNK ? n - got : CHUNK;
    zip_int64_t k = zip_fread(zf, buf + got, want);
    if (k < 0) return zfail(info, zip_file_get_error(zf), name);
    if (k == 0)
      return mpl__fail(info, MPL_EFORMAT, 0, -1,
                       "member %s ends after %zu of its %zu bytes",
                       mpl__quote(q, name, strlen(name)), got, n);
    got += (size_t)k;
  }
  char extra;
  if (zip_fread(zf, &extra, 1) < 0) /* the end: libzip checks the CRC */
    return zfail(info, zip_file_get_error(zf), name);
  return 0;
}

/* The matrix in member i (called name) of za. */
static int load_member(zip_t *za, zip_uint64_t i, const char *name,
                       mpl_mat **out, mpl_load_info *info) {
  zip_stat_t st;
  char q[200];
  if (zip_stat_index(za, i, 0, &st) != 0)
    return zfail(info, zip_get_error(za), name);
  if (!(st.valid & ZIP_STAT_SIZE) || st.size > SIZE_MAX ||
      (st.size >= BIG && st.size > mpl__mem_available()))
    return mpl__fail(info, MPL_ENOMEM, 0, -1,
                     "member %s (%llu bytes) is larger than the memory "
                     "available",
                     mpl__quote(q, name, strlen(name)),
                     (unsigned long long)st.size);
  zip_file_t *zf = zip_fopen_index(za, i, 0);
  if (!zf) return zfail(info, zip_get_error(za), name);
  size_t n = (size_t)st.size;
  char *buf = malloc(n ? n : 1);
  int err = buf ? read_member(zf, buf, n, name, info)
                : mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  zip_fclose(zf);
  if (!err) {
    mpl__src src = {(const unsigned char *)buf, -1, n, NULL};
    err = mpl__npy_read(&src, 0, out, info);
    if (err && info->offset >= 0) {
      char msg[sizeof info->msg];
      long long at = info->offset;
      memcpy(msg, info->msg, sizeof msg);
      mpl__fail(info, err, 0, -1, "member %s, byte %lld: %.150s",
                mpl__quote(q, name, strlen(name)), at, msg);
    }
  }
  free(buf);
  return err;
}

/* Whether name is KEY.npy; *keylen gets KEY's length. */
static int npy_member(const char *name, size_t *keylen) {
  size_t n = strlen(name);
  if (n < 4 || memcmp(name + n - 4, ".npy", 4) != 0) return 0;
  *keylen = n - 4;
  return 1;
}

/* The members of za into v (n of them so far), or only the one called
** want. */
static int load_members(zip_t *za, const char *want, mpl__named *v, size_t *n,
                        mpl_load_info *info) {
  zip_int64_t count = zip_get_num_entries(za, 0);
  char q[200];
  for (zip_int64_t i = 0; i < count; i++) {
    const char *name = zip_get_name(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
    size_t klen;
    if (!name) return zfail(info, zip_get_error(za), NULL);
    if (!npy_member(name, &klen)) {
      if (want) continue;
      return mpl__fail(info, MPL_EFORMAT, 0, -1,
                       "member %s is not a .npy array",
                       mpl__quote(q, name, strlen(name)));
    }
    if (want && (strlen(want) != klen || memcmp(want, name, klen) != 0))
      continue;
    mpl__named *e = &v[*n];
    e->m = NULL;
    e->name = strndup(name, klen);
    if (!e->name) return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
    ++*n;
    int err = load_member(za, (zip_uint64_t)i, name, &e->m, info);
    if (err) return err;
    if (want) return 0;
  }
  if (want)
    return mpl__fail(info, MPL_EFORMAT, 0, -1, "no matrix named %s",
                     mpl__quote(q, want, strlen(want)));
  return 0;
}

int mpl__npz_read(const unsigned char *buf, size_t len, const char *name,
                  mpl__named **v, size_t *n, mpl_load_info *info) {
  zip_error_t ze;
  zip_error_init(&ze);
  *v = NULL;
  *n = 0;
  zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
  zip_t *za =
      src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
  if (!za) {
    int err = zfail(info, &ze, NULL);
    zip_source_free(src);
    zip_error_fini(&ze);
    return err;
  }
  zip_error_fini(&ze);
  zip_int64_t count = zip_get_num_entries(za, 0);
  mpl__named *out = calloc(count > 0 ? (size_t)count : 1, sizeof *out);
  size_t got = 0;
  int err = out ? load_members(za, name, out, &got, info)
                : mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  zip_discard(za);
  if (err) {
    mpl__named_free(out, got);
    return err;
  }
  *v = out;
  *n = got;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* saving                                                                 */
/* ---------------------------------------------------------------------- */

/* A member being written: the .npy header, then the matrix's rows. */
typedef struct member {
  const mpl_mat *m;
  unsigned char hdr[MPL__NPY_HEADER_MAX];
  size_t hlen;
  uint64_t size, pos;
  int *interrupted;
  zip_error_t err;
} member;

/* Copy up to len bytes of the member from its position into out. */
static size_t member_bytes(member *s, unsigned char *out, size_t len) {
  size_t k = 0;
  while (k < len && s->pos < s->size) {
    if (s->pos < s->hlen) {
      size_t c = s->hlen - s->pos < len - k ? s->hlen - s->pos : len - k;
      memcpy(out + k, s->hdr + s->pos, c);
      k += c;
      s->pos += c;
      continue;
    }
    const mpl_mat *m = s->m;
    uint64_t e = (s->pos - s->hlen) / sizeof(double);
    size_t i = (size_t)(e / m->cols), j = (size_t)(e % m->cols);
    const double *row = &m->data[(ptrdiff_t)i * m->rs];
    size_t c = m->cs == 1 ? (m->cols - j) * sizeof(double) : sizeof(double);
    size_t skip = (size_t)((s->pos - s->hlen) % sizeof(double));
    c -= skip;
    if (c > len - k) c = len - k;
    memcpy(out + k, (const char *)&row[(ptrdiff_t)j * m->cs] + skip, c);
    k += c;
    s->pos += c;
  }
  return k;
}

static zip_int64_t member_cb(void *ud, void *data, zip_uint64_t len,
                             zip_source_cmd_t cmd) {
  member *s = ud;
  switch (cmd) {
  case ZIP_SOURCE_OPEN:
    s->pos = 0;
    return 0;
  case ZIP_SOURCE_READ:
    if (mpl__interrupt_pending()) {
      *s->interrupted = 1;
      zip_error_set(&s->err, ZIP_ER_READ, EINTR);
      return -1;
    }
    return (zip_int64_t)member_bytes(s, data, len < CHUNK ? len : CHUNK);
  case ZIP_SOURCE_STAT: {
    zip_stat_t *st = data;
    zip_stat_init(st);
    st->size = s->size;
    st->valid |= ZIP_STAT_SIZE;
    return sizeof *st;
  }
  case ZIP_SOURCE_ERROR:
    return zip_error_to_data(&s->err, data, len);
  case ZIP_SOURCE_SUPPORTS:
    return zip_source_make_command_bitmap(
        ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
        ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
  default: /* CLOSE, FREE */
    return 0;
  }
}

/* The archive's output: a stdio stream libzip writes and seeks in. */
typedef struct sink {
  FILE *f;
  off_t base;
  int eio;
  zip_error_t err;
} sink;

static zip_int64_t sink_fail(sink *s, int e) {
  s->eio = e ? e : EIO;
  zip_error_set(&s->err, ZIP_ER_WRITE, s->eio);
  return -1;
}

static zip_int64_t sink_seek(sink *s, void *data, zip_uint64_t len) {
  zip_source_args_seek_t *a =
      ZIP_SOURCE_GET_ARGS(zip_source_args_seek_t, data, len, &s->err);
  if (!a) return -1;
  off_t to = a->whence == SEEK_SET ? s->base + a->offset : a->offset;
  if (fseeko(s->f, to, a->whence) != 0) return sink_fail(s, errno);
  return 0;
}

static zip_int64_t sink_cb(void *ud, void *data, zip_uint64_t len,
                           zip_source_cmd_t cmd) {
  sink *s = ud;
  switch (cmd) {
  case ZIP_SOURCE_STAT: { /* an empty archive, replaced */
    zip_stat_t *st = data;
    zip_stat_init(st);
    st->size = 0;
    st->valid |= ZIP_STAT_SIZE;
    return sizeof *st;
  }
  case ZIP_SOURCE_BEGIN_WRITE:
    s->base = ftello(s->f);
    return s->base < 0 ? sink_fail(s, errno) : 0;
  case ZIP_SOURCE_WRITE:
    if (fwrite(data, 1, len, s->f) != len) return sink_fail(s, errno);
    return (zip_int64_t)len;
  case ZIP_SOURCE_SEEK_WRITE:
    return sink_seek(s, data, len);
  case ZIP_SOURCE_TELL_WRITE: {
    off_t at = ftello(s->f);
    return at < 0 ? sink_fail(s, errno) : (zip_int64_t)(at - s->base);
  }
  case ZIP_SOURCE_COMMIT_WRITE:
    return fflush(s->f) != 0 ? sink_fail(s, errno) : 0;
  case ZIP_SOURCE_ERROR:
    return zip_error_to_data(&s->err, data, len);
  case ZIP_SOURCE_SUPPORTS:
    return zip_source_make_command_bitmap(
        ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
        ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL,
        ZIP_SOURCE_SUPPORTS, ZIP_SOURCE_BEGIN_WRITE, ZIP_SOURCE_COMMIT_WRITE,
        ZIP_SOURCE_ROLLBACK_WRITE, ZIP_SOURCE_WRITE, ZIP_SOURCE_SEEK_WRITE,
        ZIP_SOURCE_TELL_WRITE, ZIP_SOURCE_REMOVE, -1);
  case ZIP_SOURCE_READ:
  case ZIP_SOURCE_SEEK:
  case ZIP_SOURCE_TELL:
    zip_error_set(&s->err, ZIP_ER_OPNOTSUPP, 0);
    return -1;
  default: /* OPEN, CLOSE, FREE, ROLLBACK_WRITE, REMOVE */
    return 0;
  }
}

/* Add the member v as NAME.npy to za; its state goes to s. */
static int add_member(zip_t *za, const mpl__named *v, member *s, int compress,
                      int *interrupted) {
  s->m = v->m;
  s->hlen = mpl__npy_header(s->hdr, v->m->rows, v->m->cols);
  s->size = s->hlen + (uint64_t)v->m->rows * v->m->cols * sizeof(double);
  s->pos = 0;
  s->interrupted = interrupted;
  zip_error_init(&s->err);
  size_t nl = strlen(v->name);
  char *name = malloc(nl + 5);
  zip_source_t *src = name ? zip_source_function(za, member_cb, s) : NULL;
  if (!src) {
    free(name);
    mpl__set_errmsg("out of memory");
    return MPL_ENOMEM;
  }
  memcpy(name, v->name, nl);
  memcpy(name + nl, ".npy", 5);
  zip_int64_t i = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
  free(name);
  if (i < 0) {
    zip_source_free(src);
    mpl__set_errmsg("%s", zip_error_strerror(zip_get_error(za)));
    return MPL_EINVAL;
  }
  zip_set_file_compression(za, (zip_uint64_t)i,
                           compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  return 0;
}

/* The members into za, then the archive's end: zip_close, which writes
** everything and frees za, or zip_discard when something failed. */
static int write_members(zip_t *za, sink *out, member *ms, const mpl__named *v,
                         size_t n, int compress) {
  int interrupted = 0, err = 0;
  for (size_t i = 0; i < n && !err; i++)
    err = add_member(za, &v[i], &ms[i], compress, &interrupted);
  if (err) {
    zip_discard(za);
    return err;
  }
  if (zip_close(za) == 0) return 0;
  int e = out->eio;
  if (interrupted) {
    err = MPL_EINTR;
  } else if (e) {
    err = MPL_EIO;
  } else {
    mpl__set_errmsg("%s", zip_error_strerror(zip_get_error(za)));
    err = MPL_EIO;
    e = EIO;
  }
  zip_discard(za);
  errno = e;
  return err;
}

int mpl__npz_write(FILE *f, const mpl__named *v, size_t n, int compress) {
  sink out = {f, 0, 0, {0, 0, NULL}};
  zip_error_t ze;
  zip_error_init(&out.err);
  zip_error_init(&ze);
  member *ms = calloc(n ? n : 1, sizeof *ms);
  zip_source_t *src =
      ms ? zip_source_function_create(sink_cb, &out, &ze) : NULL;
  zip_t *za =
      src ? zip_open_from_source(src, ZIP_CREATE | ZIP_TRUNCATE, &ze) : NULL;
  int err;
  if (!za) {
    zip_source_free(src);
    mpl__set_errmsg("%s", ms ? zip_error_strerror(&ze) : "out of memory");
    err = ms ? MPL_EIO : MPL_ENOMEM;
    errno = ms ? EIO : ENOMEM;
  } else {
    err = write_members(za, &out, ms, v, n, compress);
  }
  int e = errno;
  for (size_t i = 0; ms && i < n; i++) zip_error_fini(&ms[i].err);
  free(ms);
  zip_error_fini(&ze);
  zip_error_fini(&out.err);
  errno = e;
  return err;
}
