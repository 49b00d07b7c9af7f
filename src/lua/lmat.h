/*
** lmat.h: private interface between the parts of the Lua binding.
**
** Each part of the binding (lmat.c: construction and access; lfiles.c:
** files; ...) defines the C functions of its area; lfuncs.h lists them
** all, with where each goes (module, methods, metatable, private table),
** and luaopen_mat registers that list.  A part with set-up of its own (the
** metatable of another userdata type) has an opener, listed in lparts.c
** and run after the list; then the Lua parts of the module run (lua/\*.lua,
** embedded at build time).
*/
#ifndef MPL_LMAT_H
#define MPL_LMAT_H

#include <lauxlib.h>
#include <lua.h>

#include "arith.h"
#include "internal.h"
#include "lfuncs.h"

#define MPL_MT "mat.matrix"

typedef void (*mpl__opener)(lua_State *L);
extern const mpl__opener mpl__openers[]; /* NULL-terminated */

typedef struct mpl__lua_chunk {
  const char *name; /* chunk name, "=mat/map.lua" */
  const char *code;
  unsigned long len;
} mpl__lua_chunk;
extern const mpl__lua_chunk mpl__lua_chunks[]; /* ends with a NULL name */
/* The reference pages docs/lua/\*.md, named "arith.md" (same layout). */
extern const mpl__lua_chunk mpl__doc_pages[];
/* Lua parts compiled on first use, lua/lazy/\*.lua ("=mat/lazy/help.lua"). */
extern const mpl__lua_chunk mpl__lua_lazy[];

/* The open matrix at idx, or an error naming fn.  Inside a registered
** function the handle is pinned: it stays valid until the function
** returns, whatever Lua code the function runs meanwhile (lmat.c). */
mpl_mat *mpl__check_mat(lua_State *L, int idx, const char *fn);

/* The same for an optional matrix: NULL when idx holds no matrix; a
** closed one raises "attempt to use a closed matrix". */
void *mpl__matud(lua_State *L, int idx); /* the matrix userdata, or NULL */
mpl_mat *mpl__test_mat(lua_State *L, int idx);

/* luaL_error, with the position of the Lua code that called the guarded
** function (the guard is not Lua code; nor are the module's own Lua parts,
** which are skipped): every part of the binding raises through it (the
** #define below). */
int mpl__error(lua_State *L, const char *fmt, ...);
#define luaL_error mpl__error

/* Whether f is the function that drops a guard's pins as it returns (a
** debug hook may want to let it run). */
int mpl__is_frame_closer(lua_CFunction f);

/* luaL_setfuncs without upvalues, each function run in the guard that
** gives mpl__check_mat its pins (lmat.c): for the tables of a part's own
** userdata type (mat.ragged's methods); the module's are in lfuncs.h. */
void mpl__setfuncs(lua_State *L, const luaL_Reg *l);

/* The matrix or number at idx as an elementwise operand, or "fn: bad
** argument #idx (matrix or number expected, got x)" (larith.c). */
mpl__arg mpl__operand(lua_State *L, int idx, const char *fn);

/* The options table at idx (only `out` known): opts.out, pushed (it is
** the result), or NULL with nothing pushed (larith.c). */
mpl_mat *mpl__opt_out(lua_State *L, int idx, const char *fn);

/* Push the module's private table: the C helpers the Lua parts of the
** module (lua/\*.lua) build on (lfuncs.h's PRIV rows), which users do not
** see.  Each Lua part runs as a chunk called with two arguments, the
** module table and this private table. */
void mpl__push_private(lua_State *L);

/* A progress bar (lua/progress.lua) driven from C for a long core call
** (lprogress.c).  mpl__bar_open reads opts.progress at opts (0: none given)
** and, when a bar may be drawn (forced, or stderr a terminal and big set),
** pushes one marked to-be-closed and fills *pr with a hook that updates it
** at most every ~100 ms; else pushes nothing and leaves pr->fn NULL.  The
** hook runs the bar's Lua code protected, the garbage collector stopped;
** an error there (Ctrl-C included) stops the core call by mpl_interrupt()
** and is kept.  After the call has returned and released its C resources,
** mpl__bar_close finishes the bar on success (done units of b->total, in
** the hook's units) and raises a kept error ("fn: interrupted" for
** Ctrl-C). */
typedef struct mpl__bar {
  lua_State *L;
  int idx;       /* the bar's stack slot, 0 when there is none */
  int failed;    /* the hook's Lua code raised (error object on top) */
  int by_signal; /* ...because of a Ctrl-C */
  size_t per;    /* the hook's units per unit shown (bytes per MB) */
  size_t total;  /* the total the hook said last, in its units */
} mpl__bar;
void mpl__bar_open(lua_State *L, int opts, const char *fn, const char *label,
                   size_t total, size_t per, const char *unit, int big,
                   mpl__bar *b, mpl__progress *pr);
void mpl__bar_close(mpl__bar *b, const char *fn, int err, size_t done);

/* opts.progress at opts (0: none): -1 (nil: automatic), 0 (false) or 1
** (true); anything else raises "fn: opts.progress must be a boolean". */
int mpl__opt_progress(lua_State *L, int opts, const char *fn);

/* Check the options table at idx: nil or none passes (returns 0); a table
** whose keys are all among the NULL-terminated known names returns 1;
** anything else raises "fn: opts must be a table (got x)" or "fn: unknown
** option 'k' (known: a, b)" (lopts.c). */
int mpl__check_opts(lua_State *L, int idx, const char *fn,
                    const char *const known[]);

/* "-1", "2.5" or a type name: what the caller passed, for messages. */
const char *mpl__got(lua_State *L, int idx);

/* "matrix", a userdata's __name or Lua's type name, for messages. */
const char *mpl__typename(lua_State *L, int idx);

/* Release the matrix a userdata owns at *slot, leaving NULL there first:
** what the __gc and __close of a userdata holding a matrix do, safe to
** run twice (NULL is released as nothing). */
void mpl__drop_mat(mpl_mat **slot);

/* Raise "obj:close: bad argument #1 (what expected, got x; call it as
** obj:close())": a close method called with a dot or on something else. */
int mpl__close_misuse(lua_State *L, const char *obj, const char *what);

/* Checked arguments, raising "fn: what must be ... (got x)". */
lua_Integer mpl__check_int(lua_State *L, int idx, const char *fn,
                           const char *what);
size_t mpl__check_size(lua_State *L, int idx, const char *fn, const char *what);
double mpl__check_num(lua_State *L, int idx, const char *fn, const char *what);

/* Whether idx holds an integer-valued number (3 or 3.0), stored in *v;
** for checks with their own message. */
int mpl__to_int(lua_State *L, int idx, lua_Integer *v);

/* The optional dim of a reduction at idx: 0 (absent), 1 or 2; raises
** "fn: dim must be 1 or 2 (got d)". */
int mpl__check_dim(lua_State *L, int idx, const char *fn);

/* The arguments of a reduction m:f([dim]) of lfuncs.h's MPL__SHARED:
** the matrix at 1, the dim at 2 (mpl__check_dim), and how many elements
** each result takes in (all of them without a dim); the row's op and the
** name called by (mpl__row_op). */
typedef struct mpl__reduction {
  mpl_mat *m;
  int dim, op;
  size_t len;
  const char *fn;
} mpl__reduction;
mpl__reduction mpl__reduction_args(lua_State *L);

/* Push and return the 1 x c (dim 1) or r x 1 (dim 2) result of a
** reduction of m along dim. */
mpl_mat *mpl__dim_result(lua_State *L, const mpl_mat *m, int dim,
                         const char *fn);

/* Push a new r x c matrix (zero-filled when zero is set) and return it;
** raises "fn: not enough memory ..." and the like on failure. */
mpl_mat *mpl__new_mat(lua_State *L, const char *fn, size_t r, size_t c,
                      int zero);

/* Push the handle m a core call made (its reference moves into Lua), or,
** when err is set, release m and raise "fn: <strerror>". */
void mpl__push_result(lua_State *L, const char *fn, int err, mpl_mat *m);

/* The state's generator (mat.rand, mat.randn, mat.seed). */
mpl__rng *mpl__get_rng(lua_State *L);

/* Openers of the parts with set-up of their own (lparts.c). */
void mpl__open_files(lua_State *L);
void mpl__open_map(lua_State *L);
void mpl__open_ragged(lua_State *L);
void mpl__open_mpi(lua_State *L);

/* m[k] and m[k] = v for a table key (slices) or a matrix key (a mask):
** __index and __newindex hand these over (lindex.c). */
int mpl__index_get(lua_State *L);
int mpl__index_set(lua_State *L);

#endif
