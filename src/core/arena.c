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
** point wakes the OOM killer instead of failing.  Freed memory goes back to
** the system by punching its pages out of the file, which returns them in
** every process at once -- but not on every free (see RETENTION).
**
** RETENTION
** Populating a page costs a fault and zeroing: a fresh 80 MB result costs
** more to populate than a + b costs to compute, and a loop of 80 KB
** temporaries that faults its pages in on every allocation runs at a third
** of its speed.  So freed memory stays populated ("retained") for reuse,
** within a budget (default: 256 MiB or an eighth of physical memory,
** whichever is smaller; MPL_ARENA_RETAIN=bytes overrides, 0 turns retention
** off; a mat.map worker has 16 MiB), and allocation prefers it:
** - Every free block is either populated (all the whole pages inside its
**   body have memory) or punched (F_PUNCHED: those pages are holes and read
**   as zero), and sits on the size-class lists of its state.  Free
**   neighbours merge only when in the same state, so a block freed next to
**   a punched one stays populated instead of being punched with it.  (Once
**   a freed block was merged into a punched neighbour and punched whole:
**   after a large free every later temporary landed on punched memory and
**   faulted all its pages in again.)
** - An allocation takes a populated free block first, then the warm zone
**   (the populated pages just above the top of the heap), and only then a
**   punched block or fresh pages, which it populates.
** - Populated free blocks with a whole page inside are "kept" (F_KEPT):
**   counted and linked on a list in order of freeing; pages freed back to
**   the top stay populated as the warm zone [page above top, warm_end).
**   Memory beyond the budget is returned at once, the oldest kept blocks
**   first, then the far end of the warm zone.
** - Retained memory nobody reused for DECAY_MS (half a second) is returned
**   as well: after a large free the process keeps no more than its loop
**   keeps using.  A thread (started while anything is retained, all
**   signals blocked, gone when nothing is) does it while the process does
**   something else, such as waiting for its workers; frees do it too.  A
**   punched block merges with its punched neighbours.
** An allocation that fails for lack of memory gives back everything
** retained and tries again.  Reused memory is not zero, so zeroed
** allocations clear it (cheaper than the fault was).
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
** lists (one per power of two and state).  Invariants: blocks tile [base,
** base+top); a free block never ends at top (it is trimmed instead, with
** any free block below it); the whole pages inside a free block's body are
** all populated, or all holes when F_PUNCHED is set; pages above top are
** holes except the warm zone.  A header is never touched after its page
** was punched (a read would populate it again).  Allocator metadata lives
** in the arena headers and this process's private state, guarded by a
** mutex: only the process that created the arena (and its threads)
** allocates from it.
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
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define ALIGN ((size_t)64)
#define HDR ((size_t)64)
#define MIN_BLOCK (HDR + ALIGN)
#define NBINS 64
#define MAGIC_USED 0x6d706c55u
#define MAGIC_FREE 0x6d706c46u
#define F_PUNCHED 1u
#define F_KEPT 2u                      /* populated, counted, on the LRU list */
#define F_UNFILLED 4u                  /* in use, pages may be missing */
#define WRITE_CHUNK ((size_t)4 << 20)  /* bytes per write into the arena */
#define PIPE_SIZE (1 << 20)            /* pipe capacity asked for by fill_fd */
#define RETAIN_MAX ((size_t)256 << 20) /* default cap of retained memory */
#define DECAY_MS 500                   /* retained memory idle this long goes */
#define ENV_MAX ((size_t)1 << 50) /* largest byte count taken from the env */

typedef struct blk {
  size_t size;      /* whole block, header included, a multiple of ALIGN */
  size_t prev_size; /* size of the block just below; 0 for the first */
  uint32_t magic;
  uint32_t flags;
  struct blk *next, *prev; /* size-class list links while free */
  union {
    size_t req;     /* in use: bytes requested, for statistics */
    uint64_t since; /* kept: when it was freed (ms, monotonic) */
  };
  struct blk *lnext, *lprev; /* kept list links (newest first) while kept */
} blk;
_Static_assert(sizeof(blk) <= 64, "block header must fit in HDR");

static struct {
  pthread_mutex_t lock;
  mpl__region r; /* the memfd and its mapping (base, size, fd) */
  int init_err;
  char *inh_base; /* the parent's arena, in a forked child */
  size_t inh_size;
  size_t top;       /* first offset not covered by a block */
  size_t last_size; /* size of the block ending at top, 0 if none */
  size_t page;
  blk *bins[2][NBINS]; /* [0]: populated free blocks, [1]: F_PUNCHED ones */
  size_t in_use, blocks;
  size_t cap;      /* retention cap; SIZE_MAX until the arena is mapped */
  size_t kept;     /* whole pages inside kept blocks */
  size_t warm_end; /* offset: pages [page above top, warm_end) populated */
  blk *lru_new, *lru_old;
  uint64_t warm_since;    /* when the warm zone last took a block back */
  uint64_t decay;         /* ms of idleness after which retained memory goes */
  int reaper;             /* 1 while the thread that returns idle memory runs */
  uint64_t reaper_failed; /* when starting it last failed, 0: never */
  char init_msg[160];     /* mpl_errmsg of init_err */
} A = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .r = {NULL, 0, -1},
       .cap = SIZE_MAX,
       .decay = DECAY_MS};

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

static char *pg_down(const void *p) {
  return (char *)((uintptr_t)p / A.page * A.page);
}

static char *pg_up(const void *p) {
  return (char *)(((uintptr_t)p + A.page - 1) / A.page * A.page);
}

/* A byte count from the environment -- digits, then optionally k, m, g or
** t (KiB, MiB, GiB, TiB, either case) -- from min to ENV_MAX; unset or
** empty: fallback.  Anything else (a sign, a fraction, an exponent, junk,
** a number out of range) is an error that names the variable: 0 with
** A.init_msg set, so a typo never passes for the default. */
static int env_bytes(const char *name, size_t min, size_t fallback,
                     size_t *out) {
  const char *env = getenv(name), *p = env;
  *out = fallback;
  if (!env || !*env) return 1;
  size_t v = 0;
  for (; *p >= '0' && *p <= '9'; p++)
    v = v > ENV_MAX ? v : v * 10 + (size_t)(*p - '0'); /* stops past ENV_MAX */
  int shift = 0;
  if (*p && p[1] == '\0' && p > env) {
    const char *units = "kKmMgGtT", *u = strchr(units, *p);
    if (u) {
      shift = 10 * (int)((u - units) / 2 + 1);
      p++;
    }
  }
  if (p == env || *p || v > ENV_MAX >> shift || v << shift < min) {
    snprintf(
        A.init_msg, sizeof A.init_msg,
        "bad value for %s: '%.40s%s' (expected a byte count from %s to 1024t: "
        "digits, then optionally k, m, g or t)",
        name, env, strlen(env) > 40 ? "..." : "", min ? "1m" : "0");
    return 0;
  }
  *out = v << shift;
  return 1;
}

/* The retention cap (MPL_ARENA_RETAIN, else RETAIN_MAX or an eighth of
** physical memory on a small machine) and the arena's size
** (MPL_ARENA_SIZE, else twice physical memory, which leaves room for
** fragmentation while costing nothing but address space).  0 or
** MPL_EINVAL (A.init_msg set). */
static int env_sizes(size_t *cap, size_t *size) {
  long pages = sysconf(_SC_PHYS_PAGES);
  size_t phys = pages > 0 ? (size_t)pages * A.page : ((size_t)8 << 30);
  size_t retain = phys / 8 < RETAIN_MAX ? phys / 8 : RETAIN_MAX;
  if (!env_bytes("MPL_ARENA_RETAIN", 0, retain, cap)) return MPL_EINVAL;
  if (!env_bytes("MPL_ARENA_SIZE", (size_t)1 << 20, 2 * phys, size))
    return MPL_EINVAL;
  return 0;
}

/* In a forked child: keep the parent's arena mapped but never allocate
** from it or free into it (see DESIGN). */
static void arena_after_fork(void) {
  pthread_mutex_init(&A.lock, NULL);
  if (A.r.base) {
    A.inh_base = A.r.base;
    A.inh_size = A.r.size;
  }
  if (A.r.fd >= 0) close(A.r.fd);
  A.r.fd = -1;
  A.init_err = 0;
  A.r.base = NULL;
  A.r.size = A.top = A.last_size = A.in_use = A.blocks = 0;
  memset(A.bins, 0, sizeof A.bins);
  A.kept = A.warm_end = 0;
  A.reaper = 0; /* the parent's thread is not ours */
  A.reaper_failed = 0;
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
  size_t cap, size;
  A.init_err = env_sizes(&cap, &size);
  if (A.init_err) return;
  if (A.cap == SIZE_MAX) A.cap = cap;
  size = round_up(size, A.page); /* at most ENV_MAX: no overflow */
  size_t least = size < ((size_t)64 << 20) ? size : ((size_t)64 << 20);
  int err = mpl__region_map(&A.r, "mpl-arena", size, least);
  if (!err) return;
  if (err == MPL_ESYS) {
    snprintf(A.init_msg, sizeof A.init_msg, "cannot create the arena: %s",
             strerror(errno));
    A.init_err = MPL_ESYS;
    return;
  }
  snprintf(A.init_msg, sizeof A.init_msg,
           "not enough memory for the shared arena (MPL_ARENA_SIZE sets "
           "its size): cannot map even %zu MiB: %s",
           least >> 20, strerror(errno));
  A.init_err = MPL_ENOMEM;
}

/* The arena mapped (0), or why it cannot be (mpl_errmsg set).  Called
** with the lock held. */
static int arena_ready(void) {
  if (!A.r.base && !A.init_err) arena_init();
  if (A.init_err) mpl__set_errmsg("%s", A.init_msg);
  return A.init_err;
}

/* Return the pages of [from, to) to the system (page-aligned range). */
static void punch(char *from, char *to) {
  if (to > from)
    mpl__region_punch(&A.r, (size_t)(from - A.r.base), (size_t)(to - from));
}

/* Whether len bytes of new pages would exceed what can be had without
** waking the OOM killer (checked only for large requests). */
static int too_much(size_t len) { return mpl__region_too_much(len); }

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
  return mpl__region_populate(&A.r, (size_t)(from - A.r.base),
                              (size_t)(to - from));
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

/* The list a free block belongs on: by state (populated or F_PUNCHED) and
** size class; neither may change while it is there. */
static blk **bin_head(const blk *b) {
  return &A.bins[(b->flags & F_PUNCHED) != 0][bin_of(b->size)];
}

static void bin_insert(blk *b) {
  blk **h = bin_head(b);
  b->magic = MAGIC_FREE;
  b->prev = NULL;
  b->next = *h;
  if (b->next) b->next->prev = b;
  *h = b;
}

static void bin_remove(blk *b) {
  if (b->prev)
    b->prev->next = b->next;
  else
    *bin_head(b) = b->next;
  if (b->next) b->next->prev = b->prev;
}

/* ---- retention (see RETENTION) ---- */

/* The whole pages inside b's body: what keeping b holds on to. */
static size_t body_pages(const blk *b) {
  char *lo = pg_up((const char *)b + HDR),
       *hi = pg_down((const char *)b + b->size);
  return hi > lo ? (size_t)(hi - lo) : 0;
}

static size_t top_page(void) {
  return (size_t)(pg_up(A.r.base + A.top) - A.r.base);
}

static size_t warm_bytes(void) {
  size_t t = top_page();
  return A.warm_end > t ? A.warm_end - t : 0;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Count b (free, fully populated, not yet resized) as kept, newest; a
** block with no whole page inside holds nothing worth counting. */
static void kept_add(blk *b) {
  if (!body_pages(b)) return;
  b->flags |= F_KEPT;
  b->since = now_ms();
  b->lprev = NULL;
  b->lnext = A.lru_new;
  if (A.lru_new)
    A.lru_new->lprev = b;
  else
    A.lru_old = b;
  A.lru_new = b;
  A.kept += body_pages(b);
}

/* Stop counting b, if it was (call before its size changes). */
static void kept_del(blk *b) {
  if (!(b->flags & F_KEPT)) return;
  if (b->lprev)
    b->lprev->lnext = b->lnext;
  else
    A.lru_new = b->lnext;
  if (b->lnext)
    b->lnext->lprev = b->lprev;
  else
    A.lru_old = b->lprev;
  b->flags &= ~F_KEPT;
  A.kept -= body_pages(b);
}

/* Merge b (free, in no list, not kept) with its free neighbours in the
** same state -- populated with populated, punched with punched, so that
** freeing a populated block never punches it for its neighbour's sake --
** and fix the prev_size of the block above.  Returns the merged block. */
static blk *coalesce(blk *b) {
  uint32_t cold = b->flags & F_PUNCHED;
  char *end = (char *)b + b->size;
  if (end < A.r.base + A.top) {
    blk *nx = (blk *)end;
    if (nx->magic == MAGIC_FREE && (nx->flags & F_PUNCHED) == cold) {
      bin_remove(nx);
      kept_del(nx);
      b->size += nx->size;
      nx->magic = 0;
    }
  }
  if (b->prev_size) {
    blk *pv = (blk *)((char *)b - b->prev_size);
    if (pv->magic == MAGIC_FREE && (pv->flags & F_PUNCHED) == cold) {
      bin_remove(pv);
      kept_del(pv);
      pv->size += b->size;
      b->magic = 0;
      b = pv;
    }
  }
  end = (char *)b + b->size;
  if (end < A.r.base + A.top) ((blk *)end)->prev_size = b->size;
  return b;
}

/* Punch the pages of [from, to) that lie wholly inside free block b's
** body, widened to whole pages: what b's part [from, to) held. */
static void punch_part(const blk *b, char *from, char *to) {
  char *lo = pg_up((const char *)b + HDR),
       *hi = pg_down((const char *)b + b->size);
  from = pg_down(from);
  to = pg_up(to);
  punch(from > lo ? from : lo, to < hi ? to : hi);
}

/* Return the pages of b (free, in a list, fully populated) to the system:
** it becomes a punched block, merged with its punched neighbours. */
static void chill(blk *b) {
  bin_remove(b);
  kept_del(b);
  char *from = (char *)b, *to = from + b->size;
  b->flags |= F_PUNCHED;
  b = coalesce(b);
  punch_part(b, from, to);
  bin_insert(b);
}

/* Return retained memory until at most `limit` bytes stay: the oldest kept
** blocks first, then the far end of the warm zone. */
static void trim(size_t limit) {
  while (A.lru_old && A.kept + warm_bytes() > limit) chill(A.lru_old);
  size_t w = warm_bytes();
  if (A.kept + w > limit) {
    size_t keep = limit > A.kept ? limit - A.kept : 0;
    keep = keep / A.page * A.page;
    size_t end = top_page() + keep;
    punch(A.r.base + end, A.r.base + A.warm_end);
    A.warm_end = end;
  }
}

/* Return retained memory nobody took for A.decay ms: kept blocks freed
** that long ago (the list is in order of freeing), and the warm zone if
** no block came back to it since. */
static void decay(uint64_t now) {
  if (!A.decay) return;
  while (A.lru_old && now - A.lru_old->since >= A.decay) chill(A.lru_old);
  if (warm_bytes() && now - A.warm_since >= A.decay) {
    punch(A.r.base + top_page(), A.r.base + A.warm_end);
    A.warm_end = top_page();
  }
}

/* The thread that returns idle retained memory while the process does
** something else (the caller of mat.map waits for its workers, a user
** reads the output); it ends when nothing is retained. */
static void *reaper(void *unused) {
  (void)unused;
  for (;;) {
    pthread_mutex_lock(&A.lock);
    uint64_t ms = A.decay ? A.decay / 2 + 1 : 0;
    pthread_mutex_unlock(&A.lock);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    if (ms) nanosleep(&ts, NULL);
    pthread_mutex_lock(&A.lock);
    if (A.r.base) decay(now_ms());
    int more = ms && A.r.base && A.kept + warm_bytes() > 0;
    if (!more) A.reaper = 0;
    pthread_mutex_unlock(&A.lock);
    if (!more) return NULL;
  }
}

/* Start the reaper if memory is retained and it is not running, with every
** signal blocked (the host's handlers run in its own threads).  A failure
** (a thread limit) is retried after A.decay ms; until then only arena calls
** return idle memory.  Called with the lock held. */
static __attribute__((noinline)) void start_reaper(uint64_t now) {
  if (A.reaper || !A.decay || A.kept + warm_bytes() == 0) return;
  if (A.reaper_failed && now - A.reaper_failed < A.decay) return;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t at;
  pthread_t t;
  int ok = pthread_attr_init(&at) == 0;
  if (ok) {
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    ok = pthread_create(&t, &at, reaper, NULL) == 0;
    pthread_attr_destroy(&at);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  A.reaper = ok;
  A.reaper_failed = ok ? 0 : now;
}

/* First fit in the request's own size class, else the head of any larger
** class (every block there is big enough), among populated (cold = 0) or
** punched (cold = 1) free blocks. */
static blk *bin_take(size_t need, int cold) {
  int i = bin_of(need);
  for (blk *b = A.bins[cold][i]; b; b = b->next) {
    if (b->size >= need) {
      bin_remove(b);
      return b;
    }
  }
  for (i++; i < NBINS; i++) {
    if (A.bins[cold][i]) {
      blk *b = A.bins[cold][i];
      bin_remove(b);
      return b;
    }
  }
  return NULL;
}

/* Whether a block of `need` bytes at the top lies within the warm zone. */
static int top_is_warm(size_t need) {
  return need <= A.r.size - A.top &&
         pg_up(A.r.base + A.top + need) <= A.r.base + A.warm_end;
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

/* take_block's first way: the free block b (taken off its list), split
** when the rest is worth a block, its pages populated if it was punched. */
static blk *take_free(blk *b, size_t need, size_t n, int unfilled,
                      char **fresh0, char **fresh1, char **skip0, char **skip1,
                      int *err) {
  kept_del(b);
  int punched = (b->flags & F_PUNCHED) != 0;
  char *old_end = (char *)b + b->size;
  char *keep = (char *)b + need; /* end of what stays populated */
  int split = b->size - need >= MIN_BLOCK;
  if (split) keep += HDR; /* the remainder's header must be writable */
  if (punched) {
    skip_range(b, n, unfilled, skip0, skip1);
    int rc = populate_around(pg_down(b), pg_up(split ? keep : old_end), skip0,
                             skip1);
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
    /* a free block never ends at top */
    ((blk *)old_end)->prev_size = rem->size;
    bin_insert(rem);
    if (!punched) kept_add(rem);
  }
  return b;
}

/* take_block's second way: a new block at the top of the arena, its pages
** beyond the warm zone populated. */
static blk *take_top(size_t need, size_t n, int unfilled, char **fresh0,
                     char **fresh1, char **skip0, char **skip1, int *err) {
  if (need > A.r.size - A.top) {
    *err = MPL_ENOMEM;
    return NULL;
  }
  blk *b = (blk *)(A.r.base + A.top);
  char *end = (char *)b + need;
  /* the page holding top is populated (its start belongs to the block
  ** below), and so is the warm zone; populate only what lies beyond */
  char *from = pg_up(b);
  if (A.r.base + A.warm_end > from) from = A.r.base + A.warm_end;
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

/* Carve a block of `need` bytes (for n bytes of data) from the free lists
** or from the top, with its pages populated -- except, when unfilled, the
** whole pages of the data that were not populated already: those are
** [*skip0, *skip1) (NULL, NULL when none).  [*fresh0, *fresh1) is set to
** a range of the block known to read as zero (possibly empty). */
static blk *take_block(size_t need, size_t n, int unfilled, char **fresh0,
                       char **fresh1, char **skip0, char **skip1, int *err) {
  *fresh0 = *fresh1 = *skip0 = *skip1 = NULL;
  /* populated memory first: a free block, else the warm zone; only then a
  ** punched block, whose pages must be faulted in again */
  blk *b = bin_take(need, 0);
  if (!b && !top_is_warm(need)) b = bin_take(need, 1);
  if (b)
    return take_free(b, need, n, unfilled, fresh0, fresh1, skip0, skip1, err);
  return take_top(need, n, unfilled, fresh0, fresh1, skip0, skip1, err);
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
  if (arena_ready()) {
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
  off_t off = (off_t)((char *)dst - A.r.base);
  const char *s = src;
  while (n) {
    ssize_t k = pwrite(A.r.fd, s, n < WRITE_CHUNK ? n : WRITE_CHUNK, off);
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
  loff_t in = (loff_t)off, out = (loff_t)((char *)dst - A.r.base);
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
      ssize_t w = splice(p[0], NULL, A.r.fd, &out, (size_t)k, SPLICE_F_MOVE);
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

/* Lower top over b, a free block in no list that ends at top, whose pages
** from `from` on may be populated (below it, a punched b's are holes).
** Pages above top must be holes but for the warm zone, which starts at
** top: a populated b joins it; a punched one takes it down with it. */
static void lower_top(blk *b, char *from) {
  char *t = A.r.base + A.top, *hdr = pg_up((char *)b + HDR);
  int cold = (b->flags & F_PUNCHED) != 0;
  A.top = (size_t)((char *)b - A.r.base);
  A.last_size = b->prev_size;
  b->magic = 0; /* the last touch of the header: it may be punched now */
  if (cold) {
    char *lo = pg_down(from) > hdr ? pg_down(from) : hdr;
    char *hi =
        A.r.base + A.warm_end > pg_up(t) ? A.r.base + A.warm_end : pg_up(t);
    punch(pg_up(b), hdr);
    punch(lo, hi);
  } else {
    A.warm_since = now_ms();
  }
  if (cold) A.warm_end = top_page();
}

/* Free block b (in no list) ends at top: lower top over it, then over any
** free block left ending at top (one in the other state, which did not
** merge). */
static void to_top(blk *b, char *from) {
  lower_top(b, from);
  while (A.last_size) {
    b = (blk *)(A.r.base + A.top - A.last_size);
    if (b->magic != MAGIC_FREE) break;
    bin_remove(b);
    kept_del(b);
    lower_top(b, (char *)b + b->size);
  }
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
  char *from = (char *)b, *to = from + b->size;
  b = coalesce(b);
  if ((char *)b + b->size == A.r.base + A.top) {
    to_top(b, from);
  } else {
    if (b->flags & F_PUNCHED) punch_part(b, from, to);
    bin_insert(b);
    if (!(b->flags & F_PUNCHED)) kept_add(b);
  }
  uint64_t now = now_ms();
  trim(A.cap);
  decay(now);
  start_reaper(now);
  pthread_mutex_unlock(&A.lock);
}

void mpl__arena_get_stats(mpl__arena_stats *st) {
  pthread_mutex_lock(&A.lock);
  if (!A.r.base && !A.init_err) arena_init();
  st->size = A.r.size;
  st->in_use = A.in_use;
  st->blocks = A.blocks;
  st->top = A.top;
  struct stat sb;
  st->resident =
      A.r.fd >= 0 && fstat(A.r.fd, &sb) == 0 ? (size_t)sb.st_blocks * 512 : 0;
  pthread_mutex_unlock(&A.lock);
}

size_t mpl__arena_set_retain(size_t cap) {
  pthread_mutex_lock(&A.lock);
  if (!A.r.base && !A.init_err) arena_init();
  size_t old = A.cap;
  if (cap != SIZE_MAX) {
    A.cap = cap;
    if (A.r.base) trim(cap);
  }
  pthread_mutex_unlock(&A.lock);
  return old;
}

uint64_t mpl__arena_set_decay(uint64_t ms) {
  pthread_mutex_lock(&A.lock);
  uint64_t old = A.decay;
  if (ms != UINT64_MAX) A.decay = ms;
  pthread_mutex_unlock(&A.lock);
  return old;
}

size_t mpl__arena_retained(void) {
  pthread_mutex_lock(&A.lock);
  size_t n = A.r.base ? A.kept + warm_bytes() : 0;
  pthread_mutex_unlock(&A.lock);
  return n;
}

int mpl__arena_contains(const void *p) {
  return A.r.base && (const char *)p >= A.r.base &&
         (const char *)p < A.r.base + A.r.size;
}

int mpl__arena_ensure(void) {
  pthread_mutex_lock(&A.lock);
  int err = arena_ready();
  pthread_mutex_unlock(&A.lock);
  return err;
}
