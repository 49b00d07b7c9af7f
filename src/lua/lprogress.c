/*
** lprogress.c: the terminal under progress bars, for lua/progress.lua:
** whether stderr is a terminal, and writing to it without the io library
** (a host may open `mat` in a state without it); and the same bar driven
** from C for long core calls (mat.dot, mat.load, mat.save).
**
** DESIGN: a core call cannot raise Lua errors, so its progress hook runs
** the bar's update in lua_pcall and, when that fails (a Ctrl-C's hook
** fires inside it, or memory runs out), keeps the error on the stack and
** stops the core call with mpl_interrupt().  The core call then returns
** as it does for any interrupt, every C resource released, and only then
** does mpl__bar_close raise.  The bar itself is a to-be-closed slot of
** the binding's frame, so any error raised later clears its line.  The
** hook costs one Lua call per ~100 ms; the units it reports are what the
** core already counts (the pool's shared count of finished items).
*/
#include <stdio.h>
#include <unistd.h>

#include "internal.h"
#include "lmat.h"

/* C.stderr_isatty() -> whether a bar may be drawn by default. */
int mpl__l_stderr_isatty(lua_State *L) {
  lua_pushboolean(L, isatty(2));
  return 1;
}

/* C.stderr_write(s): s on stderr, flushed at once. */
int mpl__l_stderr_write(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  fwrite(s, 1, len, stderr);
  fflush(stderr);
  return 0;
}

/* The hook a core call calls at most every ~100 ms (see DESIGN). */
static void bar_tick(void *ctx, size_t done, size_t total) {
  mpl__bar *b = ctx;
  lua_State *L = b->L;
  if (b->failed) return;
  int gc = lua_gc(L, LUA_GCISRUNNING); /* no finalizer under a core call */
  if (gc) lua_gc(L, LUA_GCSTOP);
  if (total != b->total) { /* e.g. a .gz file's length once unpacked */
    b->total = total;
    lua_pushinteger(L, (lua_Integer)(total / b->per));
    lua_setfield(L, b->idx, "total");
  }
  lua_getfield(L, b->idx, "update");
  lua_pushvalue(L, b->idx);
  lua_pushinteger(L, (lua_Integer)(done / b->per));
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    b->failed = 1;
    b->by_signal = mpl__interrupt_pending();
    mpl_interrupt(); /* the error stays on top until mpl__bar_close */
  }
  if (gc) lua_gc(L, LUA_GCRESTART);
}

int mpl__opt_progress(lua_State *L, int opts, const char *fn) {
  if (!opts || lua_type(L, opts) != LUA_TTABLE) return -1;
  int t = lua_getfield(L, opts, "progress");
  int show = t == LUA_TNIL ? -1 : lua_toboolean(L, -1);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    luaL_error(L, "%s: opts.progress must be a boolean (got %s)", fn,
               mpl__typename(L, -1));
  lua_pop(L, 1);
  return show;
}

void mpl__bar_open(lua_State *L, int opts, const char *fn, const char *label,
                   size_t total, size_t per, const char *unit, int big,
                   mpl__bar *b, mpl__progress *pr) {
  int show = mpl__opt_progress(L, opts, fn);
  b->L = L;
  b->per = per ? per : 1;
  b->total = total;
  b->idx = b->failed = b->by_signal = 0;
  pr->fn = NULL;
  pr->ctx = b;
  if (show == 0 || (show < 0 && !(big && isatty(2)))) return;
  luaL_checkstack(L, 8, "no room for a progress bar");
  mpl__push_private(L);
  lua_getfield(L, -1, "progress");
  lua_getfield(L, -1, "new");
  lua_createtable(L, 0, 5);
  lua_pushstring(L, label);
  lua_setfield(L, -2, "label");
  lua_pushinteger(L, (lua_Integer)(total / b->per));
  lua_setfield(L, -2, "total");
  lua_pushstring(L, unit);
  lua_setfield(L, -2, "unit");
  if (show > 0) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "show");
  }
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "keep");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) { /* a Ctrl-C's hook, or memory */
    if (!mpl__interrupt_pending()) lua_error(L);
    mpl__interrupt_used();
    luaL_error(L, "%s: interrupted", fn);
  }
  lua_replace(L, -3);
  lua_pop(L, 1);
  b->idx = lua_gettop(L);
  lua_toclose(L, b->idx);
  pr->fn = bar_tick;
}

/* End the bar's line now (its __close, protected), so that an error
** message that follows starts on a line of its own. */
static void end_line(mpl__bar *b) {
  lua_State *L = b->L;
  lua_getfield(L, b->idx, "__close");
  lua_pushvalue(L, b->idx);
  lua_pushnil(L);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) lua_pop(L, 1);
}

void mpl__bar_close(mpl__bar *b, const char *fn, int err, size_t done) {
  lua_State *L = b->L;
  if (!b->idx) return;
  /* a Ctrl-C the core call made its error is delivered by that error: the
  ** interpreter's hook then lets the bar's Lua code run */
  if (err == MPL_EINTR && !b->failed) mpl__interrupt_used();
  if (err || b->failed) end_line(b);
  if (b->failed) {
    if (!b->by_signal) {
      mpl__interrupt_clear(); /* the interrupt was ours, not a Ctrl-C */
      lua_error(L);
    }
    mpl__interrupt_used(); /* the Ctrl-C is delivered by this error */
    luaL_error(L, "%s: interrupted", fn);
  }
  if (err) return; /* the caller raises, the line already ended */
  lua_pushinteger(L, (lua_Integer)(b->total / b->per));
  lua_setfield(L, b->idx, "total");
  lua_getfield(L, b->idx, "finish");
  lua_pushvalue(L, b->idx);
  lua_pushinteger(L, (lua_Integer)(done / b->per));
  lua_call(L, 2, 0);
}
