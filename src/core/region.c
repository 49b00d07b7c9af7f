/*
** region.c: shared-memory regions, the one place mpl makes them.
**
** DESIGN
** A region is a memfd (unnamed: nothing appears in /dev/shm, nothing
** outlives the processes that map it) of large virtual size, mapped
** MAP_SHARED | MAP_NORESERVE before any fork, so every child sees it at the
** same address.  The file is sparse: memory is given to a range only when
** it is populated (MADV_POPULATE_WRITE, or fallocate on kernels before
** 5.14), so running out of memory is an error at that moment, never a
** SIGBUS on a later touch; and a range is given back by punching it out of
** the file, which frees it in every process at once.  Populating shared
** memory past what the kernel reports as available wakes the OOM killer
** instead of failing, so large requests are checked against MemAvailable
** first.  Two modules own a region: the arena (arena.c: every matrix) and
** each mat.map call's results region (team.c).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define CHECK_AVAIL_MIN                                                        \
  ((size_t)32 << 20) /* populates this large are checked */

size_t mpl__page_size(void) {
  long pg = sysconf(_SC_PAGESIZE);
  return pg > 0 ? (size_t)pg : 4096;
}

int mpl__region_map(mpl__region *r, const char *name, size_t size,
                    size_t least) {
  size_t pg = mpl__page_size();
  r->base = NULL;
  r->size = 0;
  r->fd = memfd_create(name, MFD_CLOEXEC);
  if (r->fd < 0) return MPL_ESYS;
  for (; size >= least && size >= pg; size /= 2) {
    size = (size + pg - 1) / pg * pg;
    if (ftruncate(r->fd, (off_t)size) != 0) continue;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_NORESERVE, r->fd, 0);
    if (p != MAP_FAILED) {
      r->base = p;
      r->size = size;
      return 0;
    }
  }
  int e = errno;
  close(r->fd);
  r->fd = -1;
  errno = e;
  return MPL_ENOMEM;
}

void mpl__region_unmap(mpl__region *r) {
  if (r->base) munmap(r->base, r->size);
  if (r->fd >= 0) close(r->fd);
  r->base = NULL;
  r->size = 0;
  r->fd = -1;
}

int mpl__region_populate(const mpl__region *r, size_t off, size_t len) {
  if (len == 0) return 0;
  for (;;) {
    if (madvise(r->base + off, len, MADV_POPULATE_WRITE) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EINVAL) return MPL_ENOMEM;
    break; /* a kernel older than 5.14: fall back to fallocate */
  }
  for (;;) {
    if (fallocate(r->fd, 0, (off_t)off, (off_t)len) == 0) return 0;
    if (errno != EINTR) return MPL_ENOMEM;
  }
}

void mpl__region_punch(const mpl__region *r, size_t off, size_t len) {
  if (len == 0) return;
  if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                (off_t)len) != 0)
    (void)madvise(r->base + off, len, MADV_REMOVE);
}

/* Bytes the kernel says can still be allocated without swapping: shared
** memory populated past that point wakes the OOM killer instead of
** failing, so large reservations are checked against it first. */
size_t mpl__mem_available(void) {
  FILE *f = fopen("/proc/meminfo", "re");
  size_t avail = SIZE_MAX;
  char line[128];
  if (!f) return avail;
  while (fgets(line, sizeof line, f)) {
    unsigned long long kb;
    if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
      avail = (size_t)kb * 1024;
      break;
    }
  }
  fclose(f);
  return avail;
}

int mpl__region_too_much(size_t len) {
  return len >= CHECK_AVAIL_MIN && len > mpl__mem_available();
}
