/*
** arena.c: the shared-memory heap that holds every matrix's elements.
**
** DESIGN
** All matrix data lives in one arena: a memfd (unnamed, so nothing ever
** appears in /dev/shm and nothing outlives the processes that map it) of
** large virtual size -- twice the physical memory by default, or
** MPL_ARENA_SIZE bytes -- mapped MAP_SHARED once, the first time any matrix
** is created.  That is necessarily before any worker is forked, so every
** worker inherits the mapping at the same address: a pointer into the arena
** names the same bytes in every process of the family, including matrices
** created after the workers started.  Handing a matrix to a worker is
** therefore a descriptor (offset, shape, strides), never a copy and never a
** per-matrix descriptor-passing dance.  We chose this over one memfd per
** matrix passed with SCM_RIGHTS because that costs several system calls per
** matrix (too slow for small results) and makes every worker map and unmap
** every matrix it sees.
**
** The file is sparse.  A block's pages are populated (MADV_POPULATE_WRITE,
** or fallocate on older kernels) when the block is allocated, so running
** out of memory is an error at creation, never a SIGBUS on first touch; a
** request larger than the memory the kernel reports as available is refused
** before anything is touched, because populating shared memory past that
** point wakes the OOM killer instead of failing.  When a large block (or a
** run of coalesced blocks) is freed its pages are punched out of the file,
** which returns them to the system in every process at once -- except for
** a bounded amount of recently freed memory, kept populated for reuse.
**
** RETENTION
** Populating a page costs a fault and zeroing: a fresh 80 MB result costs
** more to populate than a + b costs to compute.  So up to a cap (default:
** 256 MiB or an eighth of physical memory, whichever is smaller;
** MPL_ARENA_RETAIN=bytes overrides, 0 turns retention off) of freed large
** blocks keeps its pages: a free block of at least PUNCH_MIN bytes whose
** pages are all populated is "kept" (F_KEPT), counted and linked on a list
** in order of freeing, and the pages a freed block gives back above the top
** of the heap stay populated as a "warm" zone [page above top, warm_end).
** When kept + warm exceeds the cap, the oldest kept blocks are punched
** first, then the far end of the warm zone, so memory beyond the cap is
** always returned.  A block that merges with a punched neighbour is punched
** whole, as before.  An allocation that fails for lack of memory gives
** back everything retained and tries again.  Reused memory is not zero, so
** zeroed allocations clear it (cheaper than the fault was).
**
** FILLING
** A block about to receive bytes that already exist elsewhere (a file, a
** buffer) need not be populated first: mpl__arena_alloc_unfilled leaves the
** whole pages inside it that have no memory yet unpopulated, and the caller
** writes those bytes through the arena's descriptor (mpl__arena_write,
** mpl__arena_fill_fd) instead of through the mapping.  The kernel then
** allocates each page as it copies into it -- no fault, no zeroing of a page
** about to be overwritten -- which takes some 40% less time than populating and
** then copying (with shared-memory huge pages off, as they usually are, pages
** are 4 KiB and the work per page, not the copy, is what costs).  Pages that
** are populated already (retained memory) are better written through the
** mapping: a write through the descriptor costs more per page than a plain
** copy, so the range to write through the descriptor is handed to the caller,
** and is empty when the block is reused memory.  A write that cannot get memory
** fails with ENOMEM/ENOSPC, so a shortage is still an error at load time, and
** once the fill succeeded every page exists: nothing is left to fault.  Until
** the caller declares the block filled (mpl__arena_filled) it is marked
** F_UNFILLED, and freeing it punches it as if it had holes, which it may have.
** Writes go in chunks so the file's lock is never held for long: frees punch
** through the same lock.
**
** The allocator is a boundary-tag heap: a 64-byte header before each block
** records its size and the size of the block below it, so freeing
** coalesces with both neighbours in O(1); free blocks sit on size-class
** lists (one per power of two).  Invariants: blocks tile [base, base+top);
** a free block never ends at top (it is trimmed instead); pages wholly
** inside a free block's body may be unpopulated only when F_PUNCHED is set;
** pages above top are unpopulated.  Allocator metadata lives in the arena
** headers and this process's private state, guarded by a mutex: only the
** process that created the arena (and its threads) allocates from it.
**
** A forked child inherits the mapping, so it reads and writes every matrix
** its parent had, but it must not allocate from the parent's arena: its copy
** of the free lists would hand out blocks the parent is using.  A fork
** handler therefore demotes the arena to "inherited" in the child: frees of
** inherited blocks are ignored there (the parent owns them), and the
** child's first allocation maps a fresh arena of its own.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define ALIGN ((size_t)64)
#define HDR ((size_t)64)
#define MIN_BLOCK (HDR + ALIGN)
#define NBINS 64
#define PUNCH_MIN ((size_t)1 << 20)     /* free runs this large are punched */
#define CHECK_AVAIL_MIN ((size_t)32 << 20) /* populates this large are checked */
#define MAGIC_USED 0x6d706c55u
#define MAGIC_FREE 0x6d706c46u
#define F_PUNCHED 1u
#define F_KEPT 2u                       /* populated, counted, on the LRU list */
#define F_UNFILLED 4u                   /* in use, pages may be missing */
#define WRITE_CHUNK ((size_t)4 << 20)   /* bytes per write into the arena */
#define PIPE_SIZE (1 << 20)             /* pipe capacity asked for by fill_fd */
#define RETAIN_MAX ((size_t)256 << 20)  /* default cap of retained memory */

typedef struct blk {
  size_t size;      /* whole block, header included, a multiple of ALIGN */
  size_t prev_size; /* size of the block just below; 0 for the first */
  uint32_t magic;
  uint32_t flags;
  struct blk *next, *prev; /* size-class list links while free */
  size_t req;              /* bytes requested, for statistics */
  struct blk *lnext, *lprev; /* kept list links (newest first) while kept */
} blk;
_Static_assert(sizeof(blk) <= 64, "block header must fit in HDR");

static struct {
  pthread_mutex_t lock;
  int fd;
  int init_err;
  char *base;
  size_t size;      /* bytes mapped */
  char *inh_base;   /* the parent's arena, in a forked child */
  size_t inh_size;
  size_t top;       /* first offset not covered by a block */
  size_t last_size; /* size of the block ending at top, 0 if none */
  size_t page;
  blk *bins[NBINS];
  size_t in_use, blocks;
  size_t cap;       /* retention cap; SIZE_MAX until the arena is mapped */
  size_t kept;      /* whole pages inside kept blocks */
  size_t warm_end;  /* offset: pages [page above top, warm_end) populated */
  blk *lru_new, *lru_old;
} A = {PTHREAD_MUTEX_INITIALIZER, -1, 0, NULL, 0, NULL, 0, 0, 0, 0, {NULL}, 0, 0,
       SIZE_MAX, 0, 0, NULL, NULL};

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

static char *pg_down(const void *p) {
  return (char *)((uintptr_t)p / A.page * A.page);
}

static char *pg_up(const void *p) {
  return (char *)(((uintptr_t)p + A.page - 1) / A.page * A.page);
}

/* A byte count from the environment ("512m", "1g", "0"), or fallback. */
static size_t env_bytes(const char *name, size_t fallback) {
  const char *env = getenv(name);
  if (!env || !*env) return fallback;
  char *end;
  unsigned long long v = strtoull(env, &end, 10);
  if (end == env) return fallback;
  if (*end == 'k' || *end == 'K') v <<= 10;
  else if (*end == 'm' || *end == 'M') v <<= 20;
  else if (*end == 'g' || *end == 'G') v <<= 30;
  return (size_t)v;
}

/* The default retention cap: RETAIN_MAX, or an eighth of physical memory
** on a small machine. */
static size_t default_retain(void) {
  long pages = sysconf(_SC_PHYS_PAGES);
  size_t cap = RETAIN_MAX;
  if (pages > 0 && (size_t)pages * A.page / 8 < cap)
    cap = (size_t)pages * A.page / 8;
  return env_bytes("MPL_ARENA_RETAIN", cap);
}

/* The arena's default size: twice physical memory leaves room for
** fragmentation while costing nothing but address space. */
static size_t default_size(void) {
  const char *env = getenv("MPL_ARENA_SIZE");
  if (env && *env) {
    char *end;
    unsigned long long v = strtoull(env, &end, 10);
    if (*end == 'k' || *end == 'K') v <<= 10;
    else if (*end == 'm' || *end == 'M') v <<= 20;
    else if (*end == 'g' || *end == 'G') v <<= 30;
    if (v >= ((size_t)1 << 20)) return (size_t)v;
  }
  long pages = sysconf(_SC_PHYS_PAGES);
  size_t phys = pages > 0 ? (size_t)pages * A.page : ((size_t)8 << 30);
  return 2 * phys;
}

/* In a forked child: keep the parent's arena mapped but never allocate
** from it or free into it (see DESIGN). */
static void arena_after_fork(void) {
  pthread_mutex_init(&A.lock, NULL);
  if (A.base) {
    A.inh_base = A.base;
    A.inh_size = A.size;
  }
  if (A.fd >= 0) close(A.fd);
  A.fd = -1;
  A.init_err = 0;
  A.base = NULL;
  A.size = A.top = A.last_size = A.in_use = A.blocks = 0;
  memset(A.bins, 0, sizeof A.bins);
  A.kept = A.warm_end = 0;
  A.lru_new = A.lru_old = NULL;
}

/* Map the arena; a failed large mapping (a small address-space limit, or
** valgrind) is retried at half the size down to 64 MiB (or the size asked
** for, if smaller).  Called with the lock held. */
static void arena_init(void) {
  static int atfork_done;
  if (!atfork_done) {
    pthread_atfork(NULL, NULL, arena_after_fork);
    atfork_done = 1;
  }
  long pg = sysconf(_SC_PAGESIZE);
  A.page = pg > 0 ? (size_t)pg : 4096;
  if (A.cap == SIZE_MAX) A.cap = default_retain();
  int fd = memfd_create("mpl-arena", MFD_CLOEXEC);
  if (fd < 0) {
    A.init_err = MPL_ESYS;
    return;
  }
  size_t size = round_up(default_size(), A.page);
  size_t least = size < ((size_t)64 << 20) ? size : ((size_t)64 << 20);
  for (; size >= least; size /= 2) {
    if (ftruncate(fd, (off_t)size) != 0) continue;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p != MAP_FAILED) {
      A.fd = fd;
      A.base = p;
      A.size = size;
      return;
    }
  }
  close(fd);
  A.init_err = MPL_ENOMEM;
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

/* Return the pages of [from, to) to the system (page-aligned range). */
static void punch(char *from, char *to) {
  if (to <= from) return;
  if (fallocate(A.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                (off_t)(from - A.base), (off_t)(to - from)) != 0)
    (void)madvise(from, (size_t)(to - from), MADV_REMOVE);
}

/* Whether len bytes of new pages would exceed what can be had without
** waking the OOM killer (checked only for large requests). */
static int too_much(size_t len) {
  return len >= CHECK_AVAIL_MIN && len > mpl__mem_available();
}

static int populate_pages(char *from, char *to);

/* Make sure every page of [from, to) (page-aligned) has memory behind it
** now, so later touches cannot fault for lack of memory. */
static int populate(char *from, char *to) {
  if (to > from && too_much((size_t)(to - from))) return MPL_ENOMEM;
  return populate_pages(from, to);
}

/* populate() without the check for available memory. */
static int populate_pages(char *from, char *to) {
  if (to <= from) return 0;
  size_t len = (size_t)(to - from);
  for (;;) {
    if (madvise(from, len, MADV_POPULATE_WRITE) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EINVAL) return MPL_ENOMEM;
    break; /* kernel older than 5.14: fall back to fallocate */
  }
  for (;;) {
    if (fallocate(A.fd, 0, (off_t)(from - A.base), (off_t)len) == 0) return 0;
    if (errno != EINTR) return MPL_ENOMEM;
  }
}

/* populate() all of [from, to) except the pages [*s0, *s1) a caller of
** mpl__arena_alloc_unfilled will write, narrowed first to what lies in
** [from, to) (NULL, NULL when nothing does): pages outside [from, to) are
** populated already.  The check for available memory covers them too. */
static int populate_around(char *from, char *to, char **s0, char **s1) {
  if (*s0 < from) *s0 = from;
  if (*s1 > to) *s1 = to;
  if (*s1 <= *s0) {
    *s0 = *s1 = NULL;
    return populate(from, to);
  }
  if (too_much((size_t)(*s1 - *s0))) return MPL_ENOMEM;
  int rc = populate(from, *s0);
  return rc ? rc : populate(*s1, to);
}

static int bin_of(size_t size) {
  int b = 63 - __builtin_clzll((unsigned long long)size);
  return b < NBINS ? b : NBINS - 1;
}

static void bin_insert(blk *b) {
  int i = bin_of(b->size);
  b->magic = MAGIC_FREE;
  b->prev = NULL;
  b->next = A.bins[i];
  if (b->next) b->next->prev = b;
  A.bins[i] = b;
}

static void bin_remove(blk *b) {
  if (b->prev) b->prev->next = b->next;
  else A.bins[bin_of(b->size)] = b->next;
  if (b->next) b->next->prev = b->prev;
}

/* ---- retention (see RETENTION) ---- */

/* The whole pages inside b's body: what keeping b holds on to. */
static size_t body_pages(const blk *b) {
  char *lo = pg_up((const char *)b + HDR), *hi = pg_down((const char *)b + b->size);
  return hi > lo ? (size_t)(hi - lo) : 0;
}

static size_t top_page(void) { return (size_t)(pg_up(A.base + A.top) - A.base); }

static size_t warm_bytes(void) {
  size_t t = top_page();
  return A.warm_end > t ? A.warm_end - t : 0;
}

/* Count b (free, fully populated, not yet resized) as kept, newest. */
static void kept_add(blk *b) {
  b->flags |= F_KEPT;
  b->lprev = NULL;
  b->lnext = A.lru_new;
  if (A.lru_new) A.lru_new->lprev = b;
  else A.lru_old = b;
  A.lru_new = b;
  A.kept += body_pages(b);
}

/* Stop counting b (call before its size changes). */
static void kept_del(blk *b) {
  if (b->lprev) b->lprev->lnext = b->lnext;
  else A.lru_new = b->lnext;
  if (b->lnext) b->lnext->lprev = b->lprev;
  else A.lru_old = b->lprev;
  b->flags &= ~F_KEPT;
  A.kept -= body_pages(b);
}

/* Return retained memory until at most `limit` bytes stay: the oldest kept
** blocks first, then the far end of the warm zone. */
static void trim(size_t limit) {
  while (A.lru_old && A.kept + warm_bytes() > limit) {
    blk *b = A.lru_old;
    kept_del(b);
    punch(pg_up((char *)b + HDR), pg_down((char *)b + b->size));
    b->flags |= F_PUNCHED;
  }
  size_t w = warm_bytes();
  if (A.kept + w > limit) {
    size_t keep = limit > A.kept ? limit - A.kept : 0;
    keep = keep / A.page * A.page;
    size_t end = top_page() + keep;
    punch(A.base + end, A.base + A.warm_end);
    A.warm_end = end;
  }
}

/* First fit in the request's own size class, else the head of any larger
** class (every block there is big enough). */
static blk *bin_take(size_t need) {
  int i = bin_of(need);
  for (blk *b = A.bins[i]; b; b = b->next) {
    if (b->size >= need) {
      bin_remove(b);
      return b;
    }
  }
  for (i++; i < NBINS; i++) {
    if (A.bins[i]) {
      blk *b = A.bins[i];
      bin_remove(b);
      return b;
    }
  }
  return NULL;
}

/* The whole pages of the n bytes after b's header: what an unfilled
** allocation leaves to its caller (empty unless unfilled). */
static void skip_range(blk *b, size_t n, int unfilled, char **s0, char **s1) {
  *s0 = *s1 = NULL;
  if (unfilled) {
    *s0 = pg_up((char *)b + HDR);
    *s1 = pg_down((char *)b + HDR + n);
  }
}

/* Carve a block of `need` bytes (for n bytes of data) from the free lists
** or from the top, with its pages populated -- except, when unfilled, the
** whole pages of the data that were not populated already: those are
** [*skip0, *skip1) (NULL, NULL when none).  [*fresh0, *fresh1) is set to
** a range of the block known to read as zero (possibly empty). */
static blk *take_block(size_t need, size_t n, int unfilled, char **fresh0,
                       char **fresh1, char **skip0, char **skip1, int *err) {
  *fresh0 = *fresh1 = *skip0 = *skip1 = NULL;
  blk *b = bin_take(need);
  if (b) {
    if (b->flags & F_KEPT) kept_del(b);
    int punched = (b->flags & F_PUNCHED) != 0;
    char *old_end = (char *)b + b->size;
    char *keep = (char *)b + need; /* end of what stays populated */
    int split = b->size - need >= MIN_BLOCK;
    if (split) keep += HDR; /* the remainder's header must be writable */
    if (punched) {
      skip_range(b, n, unfilled, skip0, skip1);
      int rc = populate_around(pg_down(b), pg_up(split ? keep : old_end),
                               skip0, skip1);
      if (rc) {
        punch(pg_up((char *)b + HDR), pg_down(old_end));
        bin_insert(b);
        *err = rc;
        return NULL;
      }
      *fresh0 = pg_up((char *)b + HDR);
      *fresh1 = pg_down(old_end);
    }
    if (split) {
      blk *rem = (blk *)((char *)b + need);
      rem->size = b->size - need;
      rem->prev_size = need;
      rem->flags = punched ? F_PUNCHED : 0;
      b->size = need;
      ((blk *)old_end)->prev_size = rem->size; /* a free block never ends at top */
      bin_insert(rem);
      if (!punched && rem->size >= PUNCH_MIN) kept_add(rem);
    }
    return b;
  }
  if (need > A.size - A.top) {
    *err = MPL_ENOMEM;
    return NULL;
  }
  b = (blk *)(A.base + A.top);
  char *end = (char *)b + need;
  /* the page holding top is populated (its start belongs to the block
  ** below), and so is the warm zone; populate only what lies beyond */
  char *from = pg_up(b);
  if (A.base + A.warm_end > from) from = A.base + A.warm_end;
  if (pg_up(end) > from) {
    skip_range(b, n, unfilled, skip0, skip1);
    int rc = populate_around(from, pg_up(end), skip0, skip1);
    if (rc) {
      punch(from, pg_up(end));
      *err = rc;
      return NULL;
    }
    *fresh0 = from;
    *fresh1 = pg_up(end);
  }
  b->size = need;
  b->prev_size = A.last_size;
  A.top += need;
  A.last_size = need;
  if (A.warm_end < top_page()) A.warm_end = top_page();
  return b;
}

/* mpl__arena_alloc and mpl__arena_alloc_unfilled (which sets [*lo, *hi)). */
static void *alloc(size_t n, int zero, int unfilled, size_t *lo, size_t *hi,
                   int *err) {
  if (n > ((size_t)1 << 62)) {
    *err = MPL_EOVERFLOW;
    return NULL;
  }
  size_t need = round_up(n + HDR, ALIGN);
  if (need < MIN_BLOCK) need = MIN_BLOCK;
  char *f0, *f1, *s0, *s1;
  pthread_mutex_lock(&A.lock);
  if (!A.base && !A.init_err) arena_init();
  if (A.init_err) {
    *err = A.init_err;
    pthread_mutex_unlock(&A.lock);
    return NULL;
  }
  blk *b = take_block(need, n, unfilled, &f0, &f1, &s0, &s1, err);
  if (!b && *err == MPL_ENOMEM && A.kept + warm_bytes() > 0) {
    trim(0); /* give back what is retained and try once more */
    b = take_block(need, n, unfilled, &f0, &f1, &s0, &s1, err);
  }
  if (b) {
    b->magic = MAGIC_USED;
    b->flags = s1 > s0 ? F_UNFILLED : 0;
    if (unfilled) {
      *lo = s1 > s0 ? (size_t)(s0 - ((char *)b + HDR)) : 0;
      *hi = s1 > s0 ? (size_t)(s1 - ((char *)b + HDR)) : 0;
    }
    b->req = n;
    A.in_use += b->size;
    A.blocks++;
  }
  pthread_mutex_unlock(&A.lock);
  if (!b) return NULL;
  char *data = (char *)b + HDR, *end = data + n;
  if (zero) {
    if (f1 <= data || f0 >= end || f1 <= f0) {
      memset(data, 0, n);
    } else {
      if (f0 > data) memset(data, 0, (size_t)(f0 - data));
      if (f1 < end) memset(f1, 0, (size_t)(end - f1));
    }
  }
  return data;
}

void *mpl__arena_alloc(size_t n, int zero, int *err) {
  return alloc(n, zero, 0, NULL, NULL, err);
}

void *mpl__arena_alloc_unfilled(size_t n, size_t *lo, size_t *hi, int *err) {
  return alloc(n, 0, 1, lo, hi, err);
}

void mpl__arena_filled(void *p) {
  blk *b = (blk *)((char *)p - HDR);
  pthread_mutex_lock(&A.lock);
  if (mpl__arena_contains(p) && b->magic == MAGIC_USED) b->flags &= ~F_UNFILLED;
  pthread_mutex_unlock(&A.lock);
}

/* Memory was checked for when the block was allocated. */
int mpl__arena_populate(void *p, size_t n) {
  return populate_pages(pg_down(p), pg_up((char *)p + n));
}

/* pwrite rather than memcpy: the kernel allocates each missing page as it
** writes it (see FILLING). */
int mpl__arena_write(void *dst, const void *src, size_t n) {
  off_t off = (off_t)((char *)dst - A.base);
  const char *s = src;
  while (n) {
    ssize_t k = pwrite(A.fd, s, n < WRITE_CHUNK ? n : WRITE_CHUNK, off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k == 0) errno = ENOSPC;
      return MPL_ENOMEM;
    }
    s += k;
    off += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Splice moves the file's page-cache pages into a pipe without copying
** them, and from the pipe into the arena's file with one copy: the bytes
** never pass through this process.  Explicit offsets on both sides keep it
** safe with other threads (sendfile would move the arena descriptor's file
** position). */
int mpl__arena_fill_fd(void *dst, int fd, size_t off, size_t n, size_t *done) {
  int p[2], rc = 0, e = 0;
  *done = 0;
  if (pipe2(p, O_CLOEXEC) != 0) return MPL_ESYS;
  int cap = fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
  size_t chunk = cap > 0 ? (size_t)cap : (size_t)65536;
  loff_t in = (loff_t)off, out = (loff_t)((char *)dst - A.base);
  while (n && !rc) {
    ssize_t k =
        splice(fd, &in, p[1], NULL, n < chunk ? n : chunk, SPLICE_F_MOVE);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      e = errno;
      /* no splice from this file at all: the caller copies instead */
      rc = *done == 0 && (e == EINVAL || e == ENOSYS) ? MPL_ESYS : MPL_EIO;
      break;
    }
    if (k == 0) { /* the file ended early */
      rc = MPL_EIO;
      break;
    }
    while (k > 0) {
      ssize_t w = splice(p[0], NULL, A.fd, &out, (size_t)k, SPLICE_F_MOVE);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        e = w == 0 ? ENOSPC : errno;
        rc = MPL_ENOMEM;
        break;
      }
      k -= w;
      *done += (size_t)w;
      n -= (size_t)w;
    }
  }
  close(p[0]);
  close(p[1]);
  errno = e;
  return rc;
}

void mpl__arena_free(void *p) {
  if (!p) return;
  blk *b = (blk *)((char *)p - HDR);
  pthread_mutex_lock(&A.lock);
  if (!mpl__arena_contains(p) || b->magic != MAGIC_USED) {
    /* the parent's block (in a forked child), or freed twice: refuse */
    pthread_mutex_unlock(&A.lock);
    return;
  }
  A.in_use -= b->size;
  A.blocks--;
  b->magic = MAGIC_FREE;
  b->flags = b->flags & F_UNFILLED ? F_PUNCHED : 0; /* it may have holes */
  char *top = A.base + A.top;
  char *end = (char *)b + b->size;
  if (end < top && ((blk *)end)->magic == MAGIC_FREE) {
    blk *nx = (blk *)end;
    bin_remove(nx);
    if (nx->flags & F_KEPT) kept_del(nx);
    b->flags |= nx->flags & F_PUNCHED;
    b->size += nx->size;
    nx->magic = 0;
  }
  if (b->prev_size) {
    blk *pv = (blk *)((char *)b - b->prev_size);
    if (pv->magic == MAGIC_FREE) {
      bin_remove(pv);
      if (pv->flags & F_KEPT) kept_del(pv);
      pv->flags = (pv->flags & F_PUNCHED) | b->flags;
      pv->size += b->size;
      b->magic = 0;
      b = pv;
    }
  }
  end = (char *)b + b->size;
  if (end == top) {
    /* back to the top: fully populated pages join the warm zone; a run
    ** with punched holes is returned whole, with the zone above it */
    size_t old_top_page = top_page();
    A.top = (size_t)((char *)b - A.base);
    A.last_size = b->prev_size;
    b->magic = 0;
    if (b->flags & F_PUNCHED) {
      size_t hi = A.warm_end > old_top_page ? A.warm_end : old_top_page;
      punch(pg_up(b), A.base + hi);
      A.warm_end = top_page();
    }
    trim(A.cap);
  } else {
    ((blk *)end)->prev_size = b->size;
    if (b->flags & F_PUNCHED) {
      punch(pg_up((char *)b + HDR), pg_down(end));
    }
    bin_insert(b);
    if (!(b->flags & F_PUNCHED) && b->size >= PUNCH_MIN) {
      kept_add(b);
      trim(A.cap);
    }
  }
  pthread_mutex_unlock(&A.lock);
}

void mpl__arena_get_stats(mpl__arena_stats *st) {
  pthread_mutex_lock(&A.lock);
  if (!A.base && !A.init_err) arena_init();
  st->size = A.size;
  st->in_use = A.in_use;
  st->blocks = A.blocks;
  st->top = A.top;
  struct stat sb;
  st->resident = A.fd >= 0 && fstat(A.fd, &sb) == 0 ? (size_t)sb.st_blocks * 512 : 0;
  pthread_mutex_unlock(&A.lock);
}

size_t mpl__arena_set_retain(size_t cap) {
  pthread_mutex_lock(&A.lock);
  if (!A.base && !A.init_err) arena_init();
  size_t old = A.cap;
  if (cap != SIZE_MAX) {
    A.cap = cap;
    if (A.base) trim(cap);
  }
  pthread_mutex_unlock(&A.lock);
  return old;
}

size_t mpl__arena_retained(void) {
  pthread_mutex_lock(&A.lock);
  size_t n = A.base ? A.kept + warm_bytes() : 0;
  pthread_mutex_unlock(&A.lock);
  return n;
}

int mpl__arena_contains(const void *p) {
  return A.base && (const char *)p >= A.base && (const char *)p < A.base + A.size;
}

int mpl__arena_ensure(void) {
  pthread_mutex_lock(&A.lock);
  if (!A.base && !A.init_err) arena_init();
  int err = A.init_err;
  pthread_mutex_unlock(&A.lock);
  return err;
}
