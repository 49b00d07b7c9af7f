/*
** lmapworker.c: the life of a mat.map worker, in the forked child.
**
** Each worker is a fork of the caller inside the C helper that starts the
** team, so it runs f on its own copy of the Lua state: f's upvalues, the
** script's tables and every matrix are there, matrices at the same address
** in shared memory.  Per item it calls f(items[i], i) (f(i) for a count)
** under lua_pcall with a message handler that adds the worker's traceback,
** encodes the first result (lmapcodec.c) and sends it as one frame; the
** first failure is sent as an ERROR frame and ends the worker.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "lmap.h"

#define WORKER_RETAIN ((size_t)16 << 20)

typedef mpl__map_ctx map_ctx;

/* A worker's message handler: the message (as lua.c renders any error
** object) and the worker's traceback. */
static int worker_msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            mpl__typename(L, 1));
  }
  luaL_traceback(L, L, NULL, 1);
  lua_pushfstring(L, "%s\nworker %s", msg, lua_tostring(L, -1));
  return 1;
}

/* One item, under pcall: f(items[i], i), or f(i) for a count; fetching
** items[i] may run a metamethod, so it is protected too. */
static int call_item(lua_State *L) {
  if (lua_isnil(L, 2)) {
    lua_remove(L, 2);
    lua_call(L, 1, 1);
    return 1;
  }
  lua_pushvalue(L, 1);
  lua_geti(L, 2, lua_tointeger(L, 3));
  lua_pushvalue(L, 3);
  lua_call(L, 2, 1);
  return 1;
}

/* os.exit in a worker: the caller's atexit handlers and Lua state are not
** the worker's to run or close; leave at once (the caller reports it). */
static int worker_exit(lua_State *L) {
  int status = lua_isboolean(L, 1) ? !lua_toboolean(L, 1)
                                   : (int)luaL_optinteger(L, 1, 0);
  fflush(NULL);
  _exit(status);
}

/* Set the forked copy up to be a worker: one BLAS thread and no thread
** pools of our own (the siblings use the cores), little memory kept for
** reuse, its own random stream, a safe os.exit, and a collector mode for
** a copy-on-write heap (lmapgc.c). */
static void worker_setup(lua_State *L, const map_ctx *c) {
  mpl_set_procs(1);
  mpl__blas_single_thread();
  size_t cap = mpl__arena_set_retain(SIZE_MAX);
  if (cap > WORKER_RETAIN) mpl__arena_set_retain(WORKER_RETAIN);
  if (!c->has_seed) mpl__rng_seed(mpl__get_rng(L), mpl__rng_entropy(), 0);
  if (lua_getglobal(L, "os") == LUA_TTABLE) {
    lua_pushcfunction(L, worker_exit);
    lua_setfield(L, -2, "exit");
  }
  lua_pop(L, 1);
  mpl__map_gc_setup(L);
}

/* What a worker's protected life shares with map_worker. */
typedef struct work {
  mpl__team *t;
  map_ctx *c;
  size_t item; /* the item running or being sent; SIZE_MAX: none */
  int rc;      /* the exit status when it returns normally */
} work;

/* A worker's life, under lua_pcall (f at 1, items at 2, its work at 3):
** take chunks of items, run f on each, send each result; the first
** failure of an item is sent as an ERROR frame and ends the worker. */
static int worker_run(lua_State *L) {
  work *wk = lua_touserdata(L, 3);
  mpl__team *t = wk->t;
  map_ctx *c = wk->c;
  worker_setup(L, c);
  mpl__rng *rng = mpl__get_rng(L);
  if (!lua_checkstack(L, 16)) return 0;
  lua_pushcfunction(L, worker_msgh);
  int h = lua_gettop(L);
  lua_pushcfunction(L, call_item);
  lua_newtable(L);
  int base = lua_gettop(L);
  mpl__map_enc e = {L, t, NULL, 0, 0, base, 0, ""};
  mpl__map_pressure pr = {mpl__now_ns(), 0};
  size_t lo, hi;
  while (mpl__team_take(t, &lo, &hi)) {
    for (size_t i = lo; i < hi; i++) {
      wk->item = i;
      mpl__team_running(t, i);
      if (c->has_seed) mpl__rng_seed(rng, c->seed, (uint64_t)i + 1);
      lua_pushvalue(L, h + 1);
      lua_pushvalue(L, 1);
      if (c->count)
        lua_pushnil(L);
      else
        lua_pushvalue(L, 2);
      lua_pushinteger(L, (lua_Integer)i + 1);
      if (lua_pcall(L, 3, 1, h) != LUA_OK) {
        size_t len;
        const char *msg = lua_tolstring(L, -1, &len);
        if (!msg) msg = "(error object is not a string)", len = strlen(msg);
        mpl__team_send(t, MPL__FRAME_ERROR, i, msg, len);
        wk->rc = 0;
        return 0;
      }
      e.len = 0;
      if (mpl__map_encode(&e, lua_gettop(L)) != 0) {
        mpl__team_send(t, MPL__FRAME_ERROR, i, e.err, strlen(e.err));
        wk->rc = 0;
        return 0;
      }
      lua_settop(L, base);
      if (e.nref) { /* a fresh numbering for the next result */
        lua_newtable(L);
        lua_replace(L, base);
        e.nref = 0;
      }
      if (mpl__team_send(t, MPL__FRAME_RESULT, i, e.p, e.len) != 0) {
        wk->rc = 1;
        return 0;
      }
      mpl__team_running(t, SIZE_MAX);
      wk->item = SIZE_MAX;
      mpl__map_relieve(L, &pr);
    }
  }
  wk->rc = 0;
  return 0;
}

/* A worker's life (in the forked child).  An error outside an item's own
** protected call (Lua out of memory while setting up or encoding) must not
** unwind into the caller's frames, which this copy of the process shares:
** it is caught here and sent as the failure of the item at hand, or of
** the next one when none was running.  f is at stack index 1, items at 2. */
int mpl__map_worker(mpl__team *t, int w, void *vctx) {
  lua_State *L = ((map_ctx *)vctx)->L;
  work wk = {t, vctx, SIZE_MAX, 1};
  (void)w;
  lua_pushcfunction(L, worker_run); /* light values: nothing allocated */
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushlightuserdata(L, &wk);
  if (lua_pcall(L, 3, 0, 0) == LUA_OK) return wk.rc;
  size_t len, lo, hi;
  const char *msg = lua_tolstring(L, -1, &len);
  if (!msg) msg = "(error object is not a string)", len = strlen(msg);
  size_t item = wk.item;
  if (item == SIZE_MAX) {
    if (!mpl__team_take(t, &lo, &hi)) return 0; /* nothing was lost */
    item = lo;
  }
  mpl__team_send(t, MPL__FRAME_ERROR, item, msg, len);
  return 0;
}
