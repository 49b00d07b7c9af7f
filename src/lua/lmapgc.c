/*
** lmapgc.c: the collector of a mat.map worker.
**
** A worker is a fork of the caller: its Lua heap is the caller's, shared
** copy-on-write, and every object a collection touches costs a page
** copy.  Yet the matrices f makes are small handles to the collector
** over large arena blocks, so without help they pile up.  This file picks
** the collector mode at the worker's start and takes collection steps
** between items when the arena grows.
*/
#include <stddef.h>

#include <lauxlib.h>
#include <lua.h>

#include "lmap.h"

#define PRESSURE_STEP                                                          \
  ((size_t)4 << 20) /* below the worker's retained memory: pages are reused */
#define PRESSURE_NS 5000000L
#define INC_HEAP                                                               \
  ((size_t)4 << 20) /* larger inherited heaps: generational GC                 \
                     */

/* Matrices are small handles to the garbage collector, so a loop making
** temporaries could pile up many megabytes of them in the worker's arena
** before a cycle runs: every few milliseconds, when the arena grew by
** PRESSURE_STEP, take a (young, in generational mode) collection step.
** Temporaries that lived through two young collections (which the size
** each result adds to the collector's debt makes frequent) are old, and
** only a full collection frees them: if the young step gave back less
** than half the growth and the Lua heap is small next to it (a full
** collection walks the whole heap, the caller's inherited objects
** included), run one, so the worker's arena stays within its retained
** memory and reuses the same warm pages item after item. */
void mpl__map_relieve(lua_State *L, mpl__map_pressure *p) {
  long t = mpl__now_ns();
  if (t - p->last < PRESSURE_NS) return;
  p->last = t;
  mpl__arena_stats st;
  mpl__arena_get_stats(&st);
  if (st.in_use < p->base) p->base = st.in_use;
  if (st.in_use - p->base < PRESSURE_STEP) return;
  size_t grown = st.in_use - p->base;
  lua_gc(L, LUA_GCSTEP, 0);
  mpl__arena_get_stats(&st);
  size_t heap = (size_t)lua_gc(L, LUA_GCCOUNT) << 10;
  if (st.in_use > p->base + grown / 2 && heap <= grown / 4) {
    lua_gc(L, LUA_GCCOLLECT);
    mpl__arena_get_stats(&st);
  }
  p->base = st.in_use;
}

/* The generational collector (whose young collections leave the objects
** inherited from the caller, and so their copy-on-write pages, alone) --
** unless the inherited heap is small (INC_HEAP): then the incremental
** collector, whose cycles (one per PRESSURE_STEP of results or so) free
** each item's temporaries before they can age, costs little and keeps the
** worker's arena within its retained memory. */
void mpl__map_gc_setup(lua_State *L) {
  size_t heap = (size_t)lua_gc(L, LUA_GCCOUNT) << 10;
  if (heap > INC_HEAP) {
    lua_gc(L, LUA_GCGEN, 0, 0);
  } else { /* a cycle per PRESSURE_STEP of new debt, within 1x..10x the heap */
    size_t p = PRESSURE_STEP / (heap / 100 + 1);
    int pause = p < 100 ? 100 : p > 1000 ? 1000 : (int)p;
    lua_gc(L, LUA_GCINC, pause, 0, 0);
  }
}
