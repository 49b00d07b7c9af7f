/*
** rowfile.c: a block of rows of a .npy file (<f8, C order) read or
** written in place, for mat.load and mat.save with {rows = "block"}: each
** rank reads only its own rows (pread at their offset) and writes its
** block where it belongs in the one file all ranks save together (pwrite),
** so no rank holds the whole matrix.  The header is lua/mpi.lua's business.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"

/* n bytes at off, through p, looping over short transfers. */
static int transfer(int fd, char *p, size_t n, off_t off, int write,
                    const char *path) {
  while (n > 0) {
    ssize_t k = write ? pwrite(fd, p, n, off) : pread(fd, p, n, off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      mpl__set_errmsg("%s: %s", path,
                      k < 0 ? strerror(errno) : "file is too short");
      return k < 0 ? MPL_ESYS : MPL_EFORMAT;
    }
    p += k, n -= (size_t)k, off += k;
  }
  return 0;
}

/* m's rows, row by row (any view with unit column stride), at off. */
static int rows_io(const char *path, int flags, uint64_t off, mpl_mat *m,
                   int write) {
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0) {
    mpl__set_errmsg("%s: %s", path, strerror(errno));
    return MPL_ESYS;
  }
  size_t row = m->cols * sizeof(double);
  int err = 0;
  for (size_t i = 0; i < m->rows && !err && row; i++)
    err = transfer(fd, (char *)&MPL_AT(m, i, 0), row, (off_t)(off + i * row),
                   write, path);
  if (close(fd) != 0 && !err) {
    mpl__set_errmsg("%s: %s", path, strerror(errno));
    err = MPL_ESYS;
  }
  return err;
}

int mpl__mpi_pread_rows(const char *path, uint64_t off, mpl_mat *m) {
  return rows_io(path, O_RDONLY, off, m, 0);
}

int mpl__mpi_pwrite_rows(const char *path, uint64_t off, const mpl_mat *m) {
  mpl_mat v = *m;
  return rows_io(path, O_WRONLY, off, &v, 1);
}
