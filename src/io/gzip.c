/*
** gzip.c: gzip-compressed files, through zlib.
**
** DESIGN
** A load recognises gzip by its magic bytes (1f 8b), whatever the name,
** and inflates the whole file into memory before the format's reader sees
** it: the readers parse bytes in memory, so nothing else changes.  The
** output grows by doubling and stops with the usual error when it would
** not fit in the memory available, so a small file that inflates without
** end (a "zip bomb") is an error, not a swapping machine; input is fed a
** MiB at a time with an interrupt check between.  Several gzip members one
** after the other (`cat a.gz b.gz`) are one file, as gzip(1) reads them.
** A save to a name ending in .gz writes through a stdio stream
** (fopencookie) that deflates into the real file, so every writer works
** unchanged; the gzip header carries no name and no time, so the same
** matrix gives the same bytes.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "files.h"

enum { IN_CHUNK = 1 << 20, BIG = 64 << 20 };

/* The magic bytes, deflate (the only method gzip defines) and no reserved
** flag: random bytes (/dev/urandom) pass this once in 2^27 tries. */
int mpl__is_gzip(const void *buf, size_t len) {
  const unsigned char *u = buf;
  return len >= 4 && u[0] == 0x1f && u[1] == 0x8b && u[2] == 8 &&
         (u[3] & 0xe0) == 0;
}

/* Double the output buffer of z (its start at *out, *cap bytes), unless
** it would not fit in the memory available. */
static int grow(z_stream *z, char **out, size_t *cap, mpl_load_info *info) {
  size_t used = (size_t)((char *)z->next_out - *out);
  char *nb = used < *cap ? *out /* more than 4 GiB: refill avail_out */
             : *cap >= BIG && *cap > mpl__mem_available() / 2
                 ? NULL
                 : realloc(*out, *cap * 2);
  if (!nb)
    return mpl__fail(info, MPL_ENOMEM, 0, -1,
                     "the decompressed data does not fit in the memory "
                     "available (%zu bytes so far)",
                     used);
  if (used == *cap) *cap *= 2;
  *out = nb;
  z->next_out = (Bytef *)nb + used;
  z->avail_out = (uInt)(*cap - used > UINT32_MAX ? UINT32_MAX : *cap - used);
  return 0;
}

/* Inflate until the input or the gzip member ends; *r gets zlib's last
** code.  Returns 0, or an MPL_E* code with info filled. */
static int inflate_some(z_stream *z, const unsigned char *buf, size_t len,
                        char **out, size_t *cap, int *r, mpl_load_info *info) {
  for (;;) {
    size_t done = (size_t)(z->next_in - buf);
    if (z->avail_in == 0 && done < len) {
      if (mpl__interrupt_pending())
        return mpl__fail(info, MPL_EINTR, 0, -1, "interrupted");
      z->avail_in = (uInt)(len - done < IN_CHUNK ? len - done : IN_CHUNK);
    }
    if (z->avail_out == 0) {
      int err = grow(z, out, cap, info);
      if (err) return err;
    }
    *r = inflate(z, Z_NO_FLUSH);
    if (*r == Z_STREAM_END) return 0;
    if (*r == Z_BUF_ERROR && z->avail_in == 0 && done == len) return 0;
    if (*r != Z_OK && *r != Z_BUF_ERROR) return 0;
  }
}

/* The error for zlib's final code r (not Z_STREAM_END). */
static int inflate_error(const z_stream *z, int r, const unsigned char *buf,
                         size_t len, mpl_load_info *info) {
  if (r == Z_MEM_ERROR)
    return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  if (r == Z_BUF_ERROR)
    return mpl__fail(info, MPL_EFORMAT, 0, (long long)len,
                     "the gzip data is truncated");
  return mpl__fail(info, MPL_EFORMAT, 0, (long long)(z->next_in - buf),
                   "corrupt gzip data (%s)", z->msg ? z->msg : "bad data");
}

int mpl__gunzip(const unsigned char *buf, size_t len, char **out,
                size_t *outlen, mpl_load_info *info) {
  z_stream z;
  memset(&z, 0, sizeof z);
  size_t cap = len < (1 << 16) ? 1 << 16 : len < BIG ? 4 * len : len;
  char *o = malloc(cap);
  if (!o || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    free(o);
    return mpl__fail(info, MPL_ENOMEM, 0, -1, "out of memory");
  }
  z.next_in = (Bytef *)buf;
  z.next_out = (Bytef *)o;
  z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
  int r = Z_OK, err;
  while ((err = inflate_some(&z, buf, len, &o, &cap, &r, info)) == 0) {
    size_t done = (size_t)(z.next_in - buf);
    if (r != Z_STREAM_END) {
      err = inflate_error(&z, r, buf, len, info);
      break;
    }
    if (done == len) break;
    if (!mpl__is_gzip(buf + done, len - done)) {
      err = mpl__fail(info, MPL_EFORMAT, 0, (long long)done,
                      "data after the end of the gzip stream");
      break;
    }
    inflateReset(&z); /* the next member */
  }
  size_t n = (size_t)((char *)z.next_out - o);
  inflateEnd(&z);
  if (err) {
    free(o);
    return err;
  }
  *out = o;
  *outlen = n;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* writing                                                                */
/* ---------------------------------------------------------------------- */

typedef struct gz_out {
  FILE *f;
  z_stream z;
  unsigned char buf[1 << 16];
} gz_out;

/* Deflate what z holds with the given flush mode, writing the output to
** the real file; -1 when a write failed. */
static int gz_pump(gz_out *g, int flush) {
  int r;
  do {
    g->z.next_out = g->buf;
    g->z.avail_out = sizeof g->buf;
    r = deflate(&g->z, flush);
    size_t k = sizeof g->buf - g->z.avail_out;
    if (k && fwrite(g->buf, 1, k, g->f) != k) return -1;
  } while (g->z.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
  return 0;
}

static ssize_t gz_write(void *c, const char *b, size_t n) {
  gz_out *g = c;
  size_t left = n;
  while (left) {
    uInt k = left > IN_CHUNK ? IN_CHUNK : (uInt)left;
    g->z.next_in = (Bytef *)(b + (n - left));
    g->z.avail_in = k;
    if (gz_pump(g, Z_NO_FLUSH) != 0) return -1;
    left -= k;
  }
  return (ssize_t)n;
}

static int gz_close(void *c) {
  gz_out *g = c;
  g->z.avail_in = 0;
  int r = gz_pump(g, Z_FINISH);
  deflateEnd(&g->z);
  free(g);
  return r;
}

FILE *mpl__gzip_writer(FILE *f) {
  gz_out *g = malloc(sizeof *g);
  if (!g) return NULL;
  memset(&g->z, 0, sizeof g->z);
  g->f = f;
  if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    free(g);
    return NULL;
  }
  cookie_io_functions_t io = {NULL, gz_write, NULL, gz_close};
  FILE *w = fopencookie(g, "w", io);
  if (!w) {
    deflateEnd(&g->z);
    free(g);
  }
  return w;
}
