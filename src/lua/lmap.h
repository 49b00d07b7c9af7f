/*
** lmap.h: private interface between the C parts of mat.map.
**
** mat.map itself is Lua (lua/map.lua: arguments, options, the progress
** bar); underneath it, one concern per file:
**   lmapcodec.c   the result format a worker encodes and the caller decodes;
**   lmapworker.c  a worker's life, in the forked child;
**   lmapgc.c      the worker's garbage-collector heuristic;
**   lmap.c        the caller's side: the private helpers map.lua calls
**                 (checking f and items, starting the team, collecting).
*/
#ifndef MPL_LMAP_H
#define MPL_LMAP_H

#include <stdint.h>

#include "lmat.h"
#include "team.h"

/* ---- the result format (lmapcodec.c) ---- */

/* An encoder, in a worker: a growing buffer, reused item after item. */
typedef struct mpl__map_enc {
  lua_State *L;
  mpl__team *t;
  char *p;
  size_t len, cap;
  int seen;      /* stack index of a table: value -> its reference number */
  uint64_t nref; /* tables and matrices numbered so far in this result */
  char err[160];
} mpl__map_enc;

/* Encode the value at the absolute index idx after e->len; -1 with e->err
** naming what cannot travel. */
int mpl__map_encode(mpl__map_enc *e, int idx);

/* A decoder, in the caller, over one frame. */
typedef struct mpl__map_dec {
  lua_State *L;
  mpl__team *t;
  const char *p, *end;
  int refs;      /* stack index of the tables and matrices numbered so far
                    (nil until the first) */
  uint64_t nref; /* their count */
} mpl__map_dec;

/* Push the value encoded at d->p; -1 when the bytes are malformed (a
** matrix that cannot be allocated raises instead). */
int mpl__map_decode(mpl__map_dec *d);

/* ---- a worker (lmapworker.c) ---- */

typedef struct mpl__map_ctx {
  lua_State *L;
  int count; /* items is a count: f(i) */
  int has_seed;
  uint64_t seed;
} mpl__map_ctx;

/* The team body: f at stack index 1 of the forking call, items at 2. */
int mpl__map_worker(mpl__team *t, int w, void *ctx);

/* ---- the worker's collector (lmapgc.c) ---- */

typedef struct mpl__map_pressure {
  long last;
  size_t base;
} mpl__map_pressure;

/* Pick the collector mode for a freshly forked worker. */
void mpl__map_gc_setup(lua_State *L);

/* Between items: collect when the arena grew by temporaries. */
void mpl__map_relieve(lua_State *L, mpl__map_pressure *p);

#endif
