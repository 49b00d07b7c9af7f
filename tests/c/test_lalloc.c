/*
** test_lalloc.c: the `mat` module when Lua runs out of memory (issue #8).
**
** A host makes a state with lua_newstate(counting_alloc), pushes a matrix
** of its own, opens the standard libraries and `mat`, and runs SCRIPT
** under lua_pcall: matrices built every way, views, products (one large
** enough for the worker pool), elementwise operations and linear algebra,
** tostring and print, files saved and loaded (one mapped), ragged arrays
** and mat.map.  A first run counts the allocations Lua asks for (C); then,
** for every N in 1..C, a run whose Nth allocation fails, and every later
** one until the state is closed, must end with an error about memory or
** with the right output; and after lua_close nothing may remain: no byte
** of Lua memory, no descriptor, mapping or process more than before, no
** page more in the shared arena (MPL_ARENA_RETAIN=0, so freed pages are
** punched out of its memfd).  Lua 5.4 retries a failed allocation after an
** emergency collection, so failing the Nth alone mostly succeeds; that is
** a pass of its own (every 4th N in the sanitizer build, every N here).  A
** third pass fails the allocations of mat.map's workers only.  The host
** uses the public API only (mpl.h, Lua's headers).
**
** All runs of a pass share one process, as a host's states would, so
** whatever a failure leaves behind piles up and is seen at once; a
** supervisor process names the N at which that runner crashed or hung.
** Memory that C code malloc'd and lost is LeakSanitizer's to find in the
** sanitizer build (-DMPL_SANITIZE=ON).
*/
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <mpl.h>

#include "ctest.h"
#include "proc.h"

/* Cheap steps first, so that most runs stop before the product for the
** pool and the forks of mat.map, which come last.  Errors the script
** expects are caught with pcall and their messages are part of the
** output, so a run that swallowed a memory error cannot pass. */
static const char SCRIPT[] =
    "local out = {}\n"
    "local function put(x) out[#out + 1] = tostring(x) end\n"
    "local function try(...)\n" /* the error message; memory errors go on */
    "  local ok, err = pcall(...)\n"
    "  if tostring(err):find('memory') then error(err, 0) end\n"
    "  return err\n"
    "end\n"
    "mat.seed(42)\n"
    "local z = mat.zeros(2, 3)\n"
    "local a = mat.from({{1, 2, 3}, {4, 5, 6}})\n"
    "local b = mat.from({1, 2, 3})\n"
    "local e = mat.eye(3)\n"
    "local r = mat.rand(3, 3)\n"
    "local n = mat.randn(2, 2)\n"
    "local s = mat.range(1, 6):reshape(2, 3)\n"
    "local v = a:sub(1, 2, 2, 3)\n"
    "local t = a:t()\n"
    "put(a * t)\n"
    "put(H + e)\n"
    "put((z + a) * e * 2 - s)\n"
    "put(a:mul(s) + b)\n"
    "put(v * n)\n"
    "put(t:row(2))\n"
    "put(t:col(1):t())\n"
    "put(a[2])\n"
    "put(t:reshape(3, 2))\n"
    "a[1] = {7, 8, 9}\n"
    "a[2] = b\n"
    "put(a)\n"
    "put(mat.from({b, b:copy()}))\n"
    "put(mat.from(a))\n"
    "put(#a .. ' ' .. a.rows .. ' ' .. #a:totable()[1])\n"
    "put(s:apply(function(x) return x * 2 end))\n"
    "put(t:apply(function(x) return x + 1 end, {out = mat.new(3, 2)}))\n"
    "put(-a / 2 ^ 1 + a ^ 2)\n"
    "put(mat.exp(z) + mat.sqrt(a):floor())\n"
    "put(a:sum(1)); put(a:mean(2)); put(a:max(1)); put(a:min())\n"
    "put(a:norm() > 0 and e:trace())\n"
    "put(mat.diag(b)); put(mat.diag(a))\n"
    "put(mat.allclose(a, a + 1e-12))\n"
    "put(mat.add(a, 1, {out = z}) == z)\n"
    "local sym = mat.from({{4, 1}, {1, 3}})\n"
    "put(mat.solve(sym, mat.ones(2, 1)))\n"
    "put(sym:inv()); put(sym:det()); put(mat.chol(sym))\n"
    "put(mat.eigh(sym)); put(select(2, mat.svd(sym)))\n"
    "put(mat.lstsq(sym, mat.ones(2, 1)))\n"
    "put(try(mat.solve, mat.zeros(2, 2), mat.ones(2, 1)))\n"
    "local R = mat.ragged({{1, 2}, {3}})\n"
    "put(R[1]); put(R); put(#R); put(R:lengths()[2]); put(R:values())\n"
    "local R2 = mat.ragged(mat.linspace(0, 1, 5), {2, 3})\n"
    "put(R2[2]); R2:close()\n"
    "put(r:sum() > 0)\n"
    "local c = mat.new(2, 2, 7); c:close()\n"
    "put(c); put(mat.ismatrix(c)); put(#mat.workers() >= 0)\n"
    "put(try(c.get, c, 1, 1))\n"
    "print(a * t)\n"
    "mat.save(PATH .. '/p.csv', a * t, {header = 'x,y'})\n"
    "local l, h = mat.load(PATH .. '/p.csv', {header = true})\n"
    "put(l == a * t); put(table.concat(h, ','))\n"
    "mat.save(PATH .. '/p.npy', a)\n"
    "local mm = mat.load(PATH .. '/p.npy', {mmap = true})\n"
    "put(mm); mm:close()\n"
    "put(try(mat.load, PATH .. '/none.csv'):gsub('^.*/', ''))\n"
    "local big = mat.ones(320, 320)\n"
    "put(mat.dot(big, big:t(), {procs = 2}):get(1, 1))\n"
    "put(mat.dot(a, t, {out = mat.new(2, 2)}))\n"
    "local m = mat.map(function(i)\n"
    "  if i == 1 then return mat.ones(100, 100) end\n" /* 80 KB: shared */
    "  return {i, mat.ones(1, 2) * i, {x = 'y'}}\n"
    "end, 4, {procs = 2})\n"
    "put(m[1]:sum()); put(m[3][2]); put(m[4][3].x)\n"
    "local sums = mat.map(function(x) return x:sum() + mat.rand(1, 1)[1] end,\n"
    "                     {a, t, e}, {procs = 2, seed = 7})\n"
    "put(#sums)\n"
    "local err = try(mat.map, function(x)\n"
    "  if x == 6 then error('boom', 0) end\n"
    "  return x\n"
    "end, {5, 6}, {procs = 2, chunk = 1})\n"
    "put(err:match('^[^\\n]*'))\n"
    "return table.concat(out, '\\n')\n";

/* ---------------------------------------------------------------------- */
/* the allocator                                                          */
/* ---------------------------------------------------------------------- */

/* How a run fails: from the Nth request on (the default) or only the
** Nth; in the runner (the default) or only in map workers. */
enum { ONLY_N = 1, IN_WORKERS = 2 };

/* Per process (a map worker has its own copy from the fork). */
static struct {
  size_t live;  /* bytes Lua holds */
  long count;   /* requests for new memory so far in this state */
  long fail_at; /* the first request to fail; 0: none */
  int how;      /* ONLY_N | IN_WORKERS */
  int in_child; /* this process is a fork of the runner */
} al;

/* Shared between the supervisor, the runner and the runner's forks. */
typedef struct shared {
  _Atomic long n;        /* the N under way, for the supervisor */
  _Atomic long child_lo; /* first and last request seen in a map worker */
  _Atomic long child_hi;
  _Atomic int escaped; /* a map worker returned into the runner's code */
} shared;
static shared *sh;

static void note_child(long k) {
  long lo = atomic_load(&sh->child_lo), hi = atomic_load(&sh->child_hi);
  while (k < lo && !atomic_compare_exchange_weak(&sh->child_lo, &lo, k)) {
  }
  while (k > hi && !atomic_compare_exchange_weak(&sh->child_hi, &hi, k)) {
  }
}

/* Every request that needs new memory (a new block or a larger one)
** counts; the fail_at-th, and unless ONLY_N every later one, fails in the
** chosen kind of process.  Frees and shrinks always succeed. */
static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
  if (nsize == 0) {
    free(ptr);
    al.live -= old;
    return NULL;
  }
  if (!ptr || nsize > osize) {
    long k = ++al.count;
    if (al.in_child) note_child(k);
    if (al.fail_at && al.in_child == !!(al.how & IN_WORKERS) &&
        (al.how & ONLY_N ? k == al.fail_at : k >= al.fail_at))
      return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (p) al.live = al.live - old + nsize;
  return p;
}

static void mark_child(void) { al.in_child = 1; }

/* ---------------------------------------------------------------------- */
/* one run                                                                */
/* ---------------------------------------------------------------------- */

static char tmp_dir[64];
static mpl_mat *host; /* a matrix the host pushes into every state */

typedef struct outcome {
  int status;      /* of lua_pcall; LUA_ERRMEM when lua_newstate failed */
  char text[8192]; /* the script's result, or the error message */
} outcome;

/* The host's side of a run: its matrix pushed before `mat` is opened (so
** mpl_push opens it), then the module as a global and the script. */
static int open_and_run(lua_State *L) {
  luaL_openlibs(L);
  mpl_push(L, host);
  if (mpl_checkmat(L, -1) != host)
    return luaL_error(L, "mpl_push: wrong matrix");
  lua_setglobal(L, "H");
  luaL_requiref(L, "mat", luaopen_mat, 1);
  lua_pop(L, 1);
  lua_pushstring(L, tmp_dir);
  lua_setglobal(L, "PATH");
  if (luaL_loadstring(L, SCRIPT) != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  return 1;
}

/* An error outside any protected call is a bug of the binding. */
static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "unprotected Lua error: %s\n", msg ? msg : "(not a string)");
  abort();
}

static void run_once(long fail_at, int how, outcome *o) {
  al.count = 0;
  al.fail_at = fail_at;
  al.how = how;
  lua_State *L = lua_newstate(counting_alloc, NULL);
  if (!L) {
    o->status = LUA_ERRMEM;
    snprintf(o->text, sizeof o->text, "lua_newstate: not enough memory");
    al.fail_at = 0;
    return;
  }
  lua_atpanic(L, panic);
  lua_pushcfunction(L, open_and_run); /* a light function: no allocation */
  o->status = lua_pcall(L, 0, 1, 0);
  if (al.in_child) { /* a map worker's error escaped to our lua_pcall */
    atomic_store(&sh->escaped, 1);
    _exit(3);
  }
  const char *s = lua_tostring(L, -1);
  snprintf(o->text, sizeof o->text, "%s", s ? s : "(not a string)");
  lua_close(L);
  al.fail_at = 0;
}

/* ---------------------------------------------------------------------- */
/* what a run may leave behind                                            */
/* ---------------------------------------------------------------------- */

typedef struct snap {
  int fds, maps, procs;
  long long arena; /* 512-byte blocks allocated to the arena's memfd */
} snap;

/* st_blocks of the arena's memfd, 0 before it exists. */
static long long arena_blocks(void) {
  long long b = memfd_blocks("mpl-arena");
  return b < 0 ? 0 : b;
}

static snap take_snap(void) {
  snap s = {count_dir("/proc/self/fd"), count_maps(),
            count_descendants(getpid()), arena_blocks()};
  return s;
}

/* Fail naming the pass and N when a run left something behind. */
static void check_clean(const snap *base, const char *pass, long n,
                        const outcome *o) {
  snap s = take_snap();
  if (al.live == 0 && s.fds <= base->fds && s.maps <= base->maps &&
      s.procs == base->procs && s.arena <= base->arena)
    return;
  fprintf(stderr,
          "%s, N = %ld: left behind: %zu bytes of Lua memory, fds %d (was "
          "%d), maps %d (was %d), processes %d (was %d), arena blocks %lld "
          "(was %lld); the run ended with: %s\n",
          pass, n, al.live, s.fds, base->fds, s.maps, base->maps, s.procs,
          base->procs, s.arena, base->arena, o->text);
  exit(1);
}

/* ---------------------------------------------------------------------- */
/* the runner and its supervisor                                          */
/* ---------------------------------------------------------------------- */

/* Set the runner up (print to /dev/null, the host's matrix) and make the
 *counted run, twice: the first
 ** starts the pool and the BLAS, the second gives the baseline every run
 ** must return to. */
static void prepare(outcome *expect, long *count, snap *base) {
  CHECK(pthread_atfork(NULL, NULL, mark_child) == 0);
  FILE *null = freopen("/dev/null", "w", stdout);
  CHECK(null != NULL);
  CHECK(mpl_mat_new(&host, 3, 3) == 0);
  mpl_mat_fill(host, 0.5);
  *count = 0;
  for (int i = 0; i < 2; i++) {
    run_once(0, 0, expect);
    if (expect->status != LUA_OK) {
      fprintf(stderr, "the counted run failed: %s\n", expect->text);
      exit(1);
    }
    if (al.count > *count) *count = al.count;
  }
  CHECK(strstr(expect->text, "mat 3x3\n[[1.5 0.5 0.5]") != NULL);
  CHECK(strstr(expect->text, "\n320.0\n") != NULL); /* the pool's product */
  CHECK(strstr(expect->text, "\nmat.map: item 2: boom") != NULL);
  *base = take_snap();
}

/* The host's matrix goes last: then the arena must be empty. */
static void release_host(void) {
  mpl_mat_release(host);
  host = NULL;
  CHECK(arena_blocks() == 0); /* nothing allocated, nothing retained */
}

/* Fail naming the run unless its end is acceptable: the expected output,
** or an error that says memory ran out (in a worker: mat.map's error). */
static void check_outcome(const outcome *o, const outcome *expect,
                          const char *pass, long n, int worker) {
  if (o->status == LUA_OK) {
    if (strcmp(o->text, expect->text) == 0) return;
    fprintf(stderr, "%s, N = %ld: wrong output:\n%s\nexpected:\n%s\n", pass, n,
            o->text, expect->text);
    exit(1);
  }
  if (o->status == LUA_ERRMEM || strstr(o->text, "memory")) return;
  if (worker && strncmp(o->text, "mat.map: item ", 14) == 0) return;
  fprintf(stderr, "%s, N = %ld: status %d, not a memory error: %s\n", pass, n,
          o->status, o->text);
  exit(1);
}

/* 0 when the script's files and their directory are gone. */
static int remove_files(void) {
  char path[128];
  const char *files[] = {"p.csv", "p.npy"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", tmp_dir, files[i]);
    unlink(path);
  }
  return rmdir(tmp_dir);
}

/* Run body in a child; when it crashes or stops making progress, fail
** naming the N it was at. */
static void supervise(void (*body)(void), const char *pass) {
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(sh != MAP_FAILED);
  atomic_store(&sh->n, 0);
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/mpl-lalloc-XXXXXX");
  CHECK(mkdtemp(tmp_dir) != NULL); /* for the script's files */
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    body();
    exit(0); /* not _exit: LeakSanitizer checks at exit */
  }
  long last = -1;
  double since = now();
  for (;;) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    long n = atomic_load(&sh->n);
    if (r == pid) {
      int gone = remove_files() == 0;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        CHECK(gone);
        break;
      }
      if (WIFSIGNALED(status))
        fprintf(stderr, "%s: the runner died of signal %d at N = %ld\n", pass,
                WTERMSIG(status), n);
      else
        fprintf(stderr, "%s: the runner exited with %d at N = %ld\n", pass,
                WEXITSTATUS(status), n);
      exit(1);
    }
    CHECK(r == 0);
    if (n != last) {
      last = n;
      since = now();
    } else if (now() - since > 30) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      (void)remove_files();
      fprintf(stderr, "%s: the runner hung at N = %ld\n", pass, n);
      exit(1);
    }
    usleep(5000);
  }
  munmap(sh, sizeof *sh);
}

/* ---------------------------------------------------------------------- */
/* tests                                                                  */
/* ---------------------------------------------------------------------- */

/* The stride of the "only N" pass: 1 (every N) unless MPL_LALLOC_STEP
** says otherwise.  The sanitizer build sets it (tests/CMakeLists.txt):
** there each of the thousands of full runs costs ten times as much, and
** the normal build still fails every N. */
static long only_n_step(void) {
  const char *e = getenv("MPL_LALLOC_STEP");
  long step = e ? strtol(e, NULL, 10) : 1;
  return step > 0 ? step : 1;
}

/* n + step, but never past last without running last itself. */
static long next_n(long n, long step, long last) {
  return n < last && n + step > last ? last : n + step;
}

/* Run the script failing at every N in turn: in the runner, 1 to past
** the count; in map workers, over the requests they were seen to make
** (their counts go on from the runner's at the fork). */
static void sweep(int how, const char *pass) {
  outcome expect, o;
  long count;
  snap base;
  atomic_store(&sh->child_lo, LONG_MAX);
  atomic_store(&sh->child_hi, 0);
  prepare(&expect, &count, &base);
  long lo = 1, hi = count;
  if (how & IN_WORKERS) {
    lo = atomic_load(&sh->child_lo);
    hi = atomic_load(&sh->child_hi);
    CHECK(lo > 0 && lo <= hi && hi < LONG_MAX);
  }
  long failed = 0, step = how == ONLY_N ? only_n_step() : 1;
  for (long n = lo; n <= hi + 8; n = next_n(n, step, hi + 8)) {
    atomic_store(&sh->n, n);
    run_once(n, how, &o);
    if (atomic_load(&sh->escaped)) {
      fprintf(stderr,
              "%s, N = %ld: a map worker's error unwound into the "
              "host's code\n",
              pass, n);
      exit(1);
    }
    check_outcome(&o, &expect, pass, n, how & IN_WORKERS);
    check_clean(&base, pass, n, &o);
    failed += o.status != LUA_OK;
    /* failing from N on, no run can succeed before the end (the count
    ** varies a little with the order mat.map's results arrive in) */
    if (how == 0 && o.status == LUA_OK && n < count - 16) {
      fprintf(stderr,
              "%s, N = %ld: succeeded although Lua could not "
              "allocate\n",
              pass, n);
      exit(1);
    }
  }
  CHECK(o.status == LUA_OK); /* past the last request nothing fails */
  fprintf(stderr, "%s: N = %ld..%ld (every %ld), %ld runs failed\n", pass, lo,
          hi + 8, step, failed);
  CHECK(failed > 0);
  release_host();
}

static void runner_from_n(void) { sweep(0, "runner, from N on"); }
static void runner_only_n(void) { sweep(ONLY_N, "runner, only N"); }
static void workers_from_n(void) { sweep(IN_WORKERS, "workers, from N on"); }

static void runner_allocations(void) {
  supervise(runner_from_n, "runner, from N on");
}

static void runner_single_failures(void) {
  supervise(runner_only_n, "runner, only N");
}

static void worker_allocations(void) {
  supervise(workers_from_n, "workers, from N on");
}

static const ctest tests[] = {
    {"runner_allocations", runner_allocations},
    {"runner_single_failures", runner_single_failures},
    {"worker_allocations", worker_allocations},
};

int main(int argc, char **argv) {
  setenv("MPL_ARENA_RETAIN", "0", 1); /* freed pages go back at once */
  return ctest_main(tests, sizeof tests / sizeof tests[0], argc, argv, 600);
}
