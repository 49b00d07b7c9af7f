/*
** lmap.c: the caller's side of mat.map, as private helpers of
** lua/map.lua (which checks the options and draws the progress bar).
**
**   C.map_items(f, items)   -> n, checking f and items as argument #1, #2
**   C.map_start(f, items, n, procs, chunk, seed) -> a team (to be closed):
**                              forks the workers (lmapworker.c)
**   C.map_collect(team, ms) -> received, results (results once all are in)
**   C.map_max_procs()       -> the most workers a call may have
**
** map_collect decodes each frame as it arrives (lmapcodec.c) into the
** results table, for up to ms milliseconds, so the Lua loop above it runs
** a few times a second, never once per item.  The team is owned by a
** to-be-closed userdata on map.lua's stack, so whatever raises (a decode
** that runs out of memory, the error of a failed item, an interrupt) the
** workers are stopped and reaped before the error leaves mat.map; the
** error of a failed item is raised here after the team is gone.
*/
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lmap.h"

#define TEAM_MT "mat.map.team"
#define WAIT_MS 50
#define PREALLOC (1 << 16) /* result slots made before any result came */

/* The team of one call; its user value is the results table. */
typedef struct holder {
  mpl__team *t;
  size_t n; /* items */
} holder;

/* __gc and __close of the team holder: stop and reap the workers. */
static int holder_close(lua_State *L) {
  holder *h = luaL_checkudata(L, 1, TEAM_MT);
  mpl__team *t = h->t;
  h->t = NULL;
  mpl__team_destroy(t);
  return 0;
}

static int callable(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TFUNCTION) return 1;
  if (luaL_getmetafield(L, idx, "__call") == LUA_TNIL) return 0;
  lua_pop(L, 1);
  return 1;
}

/* Argument #2: a count (f(i) for 1..n) or something with a length. */
static size_t map_items(lua_State *L) {
  int t2 = lua_type(L, 2);
  if (t2 == LUA_TNUMBER) return mpl__check_size(L, 2, "mat.map", "count");
  if (t2 == LUA_TTABLE ||
      (t2 == LUA_TUSERDATA && luaL_getmetafield(L, 2, "__len") != LUA_TNIL &&
       (lua_pop(L, 1), 1))) {
    lua_Integer len = luaL_len(L, 2);
    return len > 0 ? (size_t)len : 0;
  }
  return (size_t)luaL_error(L,
                            "mat.map: bad argument #2 (table or count "
                            "expected, got %s)",
                            mpl__typename(L, 2));
}

/* C.map_items(f, items) -> the item count. */
int mpl__l_map_items(lua_State *L) {
  lua_settop(L, 2);
  if (!callable(L, 1))
    return luaL_error(L, "mat.map: bad argument #1 (function expected, got %s)",
                      mpl__typename(L, 1));
  lua_pushinteger(L, (lua_Integer)map_items(L));
  return 1;
}

/* C.map_start(f, items, n, procs, chunk, seed): the team holder, its
** workers forked (items a count: f(i)); chunk 0 is guided, seed nil none.
** The options were checked by map.lua. */
int mpl__l_map_start(lua_State *L) {
  lua_settop(L, 6);
  int count = lua_type(L, 2) == LUA_TNUMBER;
  lua_Integer n = luaL_checkinteger(L, 3);
  lua_Integer procs = luaL_checkinteger(L, 4);
  lua_Integer chunk = luaL_checkinteger(L, 5);
  mpl__map_ctx c = {L, count, !lua_isnil(L, 6),
                    (uint64_t)luaL_optinteger(L, 6, 0)};
  if (n < 1 || procs < 1 || procs > MPL_MAX_PROCS || chunk < 0)
    return luaL_error(L, "mat.map: bad team");
  holder *h = lua_newuserdatauv(L, sizeof *h, 1); /* 7 */
  h->t = NULL;
  h->n = (size_t)n;
  luaL_setmetatable(L, TEAM_MT);
  /* the results, grown as they arrive: sized for all n at once, a count
     of 1e9 would take 16 GB before any work started */
  lua_createtable(L, n > PREALLOC ? PREALLOC : (int)n, 0);
  lua_setiuservalue(L, 7, 1);
  if (procs > n) procs = n;
  mpl__interrupt_clear();
  int err = mpl__team_start(&h->t, (size_t)n, (int)procs, (size_t)chunk,
                            mpl__map_worker, &c);
  if (err) {
    const char *detail = mpl_errmsg();
    return luaL_error(L, "mat.map: %s", *detail ? detail : mpl_strerror(err));
  }
  return 1;
}

/* Raise the message at the top of the stack after the team is gone. */
static int map_raise(lua_State *L, holder *h) {
  mpl__team *t = h->t;
  h->t = NULL;
  mpl__team_destroy(t);
  return lua_error(L);
}

/* One result frame decoded into the results table (stack index 3); the
** numbered tables (index 4) are dropped once the frame is done. */
static void map_store(lua_State *L, holder *h, const mpl__team_event *ev) {
  mpl__map_dec d = {L, h->t, ev->data, (const char *)ev->data + ev->len, 4, 0};
  if (mpl__map_decode(&d) != 0 || d.p != d.end) {
    lua_pushfstring(L, "mat.map: item %I: malformed result",
                    (LUAI_UACINT)ev->item + 1);
    map_raise(L, h);
  }
  lua_rawseti(L, 3, (lua_Integer)ev->item + 1);
  if (d.nref) {
    lua_pushnil(L);
    lua_replace(L, 4);
  }
}

/* Take one event: 1 when every item is in (the team is then destroyed);
** the first failure is raised once the team is stopped. */
static int map_event(lua_State *L, holder *h, int timeout_ms) {
  mpl__team_event ev;
  int rc = mpl__team_wait(h->t, &ev, timeout_ms);
  if (rc == MPL__TEAM_RESULT) {
    map_store(L, h, &ev);
  } else if (rc == MPL__TEAM_FAILED) {
    lua_pushfstring(L, "mat.map: item %I: ", (LUAI_UACINT)ev.item + 1);
    lua_pushlstring(L, ev.data, ev.len);
    lua_concat(L, 2);
    map_raise(L, h);
  } else if (rc == MPL__TEAM_DONE) {
    mpl__team *t = h->t;
    h->t = NULL;
    mpl__team_destroy(t);
    return 1;
  } else if (rc < 0) {
    lua_pushfstring(L, "mat.map: %s", mpl_errmsg());
    map_raise(L, h);
  }
  return 0;
}

/* C.map_collect(team, ms) -> received, results: take the team's events
** for about ms milliseconds (ms < 0: until every item is in); results
** (the table, in item order) once every item is in, else nil. */
int mpl__l_map_collect(lua_State *L) {
  holder *h = luaL_checkudata(L, 1, TEAM_MT);
  lua_Integer ms = luaL_checkinteger(L, 2);
  lua_settop(L, 2);
  lua_getiuservalue(L, 1, 1); /* 3: the results */
  lua_pushnil(L);             /* 4: a result's numbered tables (dec) */
  if (!h->t) return luaL_error(L, "mat.map: the team is gone");
  long end = ms < 0 ? 0 : mpl__now_ns() + (long)ms * 1000000L;
  int done = 0;
  for (int first = 1; !done; first = 0) {
    int wait = WAIT_MS;
    if (ms >= 0) {
      long left = end - mpl__now_ns();
      if (left <= 0 && !first) break;
      if (left < WAIT_MS * 1000000L)
        wait = left > 0 ? (int)(left / 1000000L) + 1 : 0;
    }
    done = map_event(L, h, wait);
  }
  if (done) {
    lua_pushinteger(L, (lua_Integer)h->n);
    lua_pushvalue(L, 3);
  } else {
    lua_pushinteger(L, (lua_Integer)mpl__team_received(h->t));
    lua_pushnil(L);
  }
  return 2;
}

/* C.map_max_procs() -> the most workers a team may have. */
int mpl__l_map_max_procs(lua_State *L) {
  lua_pushinteger(L, MPL_MAX_PROCS);
  return 1;
}

/* The team holder's metatable. */
void mpl__open_map(lua_State *L) {
  luaL_newmetatable(L, TEAM_MT);
  lua_pushcfunction(L, holder_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, holder_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}
