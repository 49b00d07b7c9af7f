/*
** cli.c: the `mpl` command, a superset of the stock `lua` 5.4 interpreter
** with the `mat` module preloaded and a worker-count option.
**
** DESIGN: main only creates the Lua state and runs pmain under lua_pcall,
** so every failure (even running out of memory while building `arg`) is
** reported the same way.  Options are scanned once before any Lua code
** runs (collect_args); -e, -l and -W then run in command-line order
** (run_args), after LUA_INIT and before the script, as lua does.  Every
** chunk runs through mpl__docall, which adds the traceback and turns
** Ctrl-C into a Lua error.  The interactive loop lives in repl.c.
**
** Deliberate differences from lua.c: messages are prefixed "mpl:" rather
** than argv[0]; standard input run as the implicit script (no arguments,
** not a terminal) exits 1 when it fails, like an explicit `-`; -p/--procs
** and MPL_PROCS set the default worker count.
*/
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lmat.h"
#include "mpl.h"
#include "repl.h"

#define PROGNAME "mpl"

/* What collect_args found on the command line. */
enum {
  HAS_ERROR = 1,  /* bad option: print the usage */
  HAS_I = 2,      /* -i */
  HAS_V = 4,      /* -v (also implied by -i) */
  HAS_E = 8,      /* -e */
  HAS_NOENV = 16, /* -E */
  HAS_HELP = 32   /* -h, --help */
};

struct cli_args {
  int flags;
  int script;        /* index of the script in argv, 0 if none; on error,
                        index of the offending option */
  int needs_arg;     /* on error: the option lacks its argument */
  const char *procs; /* the last -p/--procs value, NULL if none */
};

/*
** The state a SIGINT must interrupt.  Signal handlers get no user data, so
** this is the one piece of global mutable state; it is set before the
** handler is installed.
*/
static lua_State *interrupt_L;

/* The number of the interrupt the hook is set for (mpl__interrupt_count). */
static volatile unsigned hook_interrupt;

/*
** Print "mpl: msg" on standard error, flushing stdout first so the two
** streams interleave in order on a terminal.
*/
static void message(const char *msg) {
  fflush(stdout);
  fprintf(stderr, "%s: %s\n", PROGNAME, msg);
  fflush(stderr);
}

/*
** If status is an error, print the message on top of the stack and pop
** it.  After mpl__docall the message is always a string; a failed load
** leaves one too.
*/
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    message(msg != NULL ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

/*
** Message handler of every chunk: turn the error object into a string
** and append a traceback.  An object whose __tostring gives a string is
** reported as that string alone (it chose its own presentation).
*/
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg =
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/*
** The hook installed by the SIGINT handler: it runs at the next safe
** point of the interpreter, clears itself and raises the error there.
** When that point is the call of the message handler, an error is already
** on its way out (e.g. "mat.dot: interrupted" from a parallel call the
** same Ctrl-C stopped): raising here would replace it, so it is left be.
** When a parallel call already turned this interrupt into its error, the
** interrupt was delivered: a pcall that caught it goes on undisturbed.
*/
static void stop_hook(lua_State *L, lua_Debug *ar) {
  if (mpl__interrupt_was_used(hook_interrupt)) {
    lua_sethook(L, NULL, 0, 0);
    return;
  }
  if (ar->event == LUA_HOOKCALL && lua_getinfo(L, "f", ar)) {
    lua_CFunction f = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    if (mpl__is_frame_closer(f)) return; /* a mat call returning: later */
    lua_sethook(L, NULL, 0, 0);
    if (f == msghandler) return;
  }
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/*
** SIGINT while a chunk runs.  A C signal cannot touch a Lua state safely,
** but setting a hook is allowed; the hook raises the error.  SA_RESETHAND
** restores the default action, so a second Ctrl-C kills a process stuck
** in C code.
*/
static void on_sigint(int sig) {
  (void)sig;
  mpl_interrupt(); /* a parallel call in progress stops its workers */
  hook_interrupt = mpl__interrupt_count();
  lua_sethook(interrupt_L, stop_hook,
              LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/*
** Run a chunk with the traceback handler and the Ctrl-C handler in place.
** The handler is installed without SA_RESTART so that a blocking wait in
** C code (e.g. for worker processes) returns EINTR and can give up.
*/
int mpl__docall(lua_State *L, int narg, int nres) {
  int status;
  int base = lua_gettop(L) - narg;
  struct sigaction sa, old;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  interrupt_L = L;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, &old);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  /* a Ctrl-C that came after the last hook point must not leak into the
     next chunk */
  if (lua_gethook(L) == stop_hook) lua_sethook(L, NULL, 0, 0);
  lua_remove(L, base);
  return status;
}

/* "mpl 0.1.0 (Lua 5.4.4)" and Lua's copyright line, on stdout. */
void mpl__print_version(void) {
  printf("%s %s (%s)\n%s\n", PROGNAME, mpl_version(), LUA_RELEASE,
         LUA_COPYRIGHT);
  fflush(stdout);
}

/* The options, as the usage and --help list them (and doc/mpl.1 does:
** spec_cli checks that they agree). */
static const char options_text[] =
    "usage: " PROGNAME " [options] [script [args]]\n"
    "Available options are:\n"
    "  -e stat   execute string 'stat'\n"
    "  -i        enter interactive mode after executing 'script'\n"
    "  -l mod    require library 'mod' into global 'mod'\n"
    "  -l g=mod  require library 'mod' into global 'g'\n"
    "  -p N      use N worker processes by default (--procs N)\n"
    "  -v        show version information\n"
    "  -E        ignore LUA_INIT, LUA_PATH and LUA_CPATH\n"
    "  -W        turn warnings on\n"
    "  -h        show this help (--help)\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n";

/*
** Usage on standard error, after saying what was wrong with `badoption`.
*/
static void print_usage(const char *badoption, int needs_arg) {
  if (needs_arg)
    fprintf(stderr, "%s: '%s' needs argument\n", PROGNAME, badoption);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", PROGNAME, badoption);
  fputs(options_text, stderr);
  fflush(stderr);
}

enum { OPT_NEXT, OPT_STOP, OPT_UNKNOWN, OPT_MISSING };

/* "--", "--help", "--procs=N" or "--procs N" at argv[*i] (for collect_args,
 *which
 ** goes on at *i + 1): OPT_STOP after "--" (the script is the next
 ** argument, if any), else OPT_NEXT, OPT_UNKNOWN or OPT_MISSING. */
static int long_option(char **argv, int *i, struct cli_args *a) {
  const char *opt = argv[*i];
  if (opt[2] == '\0') {
    a->script = argv[*i + 1] != NULL ? *i + 1 : 0;
    return OPT_STOP;
  }
  if (strcmp(opt, "--help") == 0) {
    a->flags |= HAS_HELP;
    return OPT_NEXT;
  }
  if (strncmp(opt, "--procs=", 8) == 0) {
    a->procs = opt + 8;
    return OPT_NEXT;
  }
  if (strcmp(opt, "--procs") != 0) return OPT_UNKNOWN;
  if (argv[*i + 1] == NULL) return OPT_MISSING;
  a->procs = argv[++*i];
  return OPT_NEXT;
}

/* mpl --help: the options and the environment variables, on stdout. */
static void print_help(void) {
  fputs(options_text, stdout);
  fputs(
      "Environment variables:\n"
      "  LUA_INIT_5_4, LUA_INIT    Lua code (or @file) run before the script\n"
      "  LUA_PATH_5_4, LUA_PATH, LUA_CPATH_5_4, LUA_CPATH\n"
      "                            where require looks for modules\n"
      "  MPL_PROCS                 default worker count (1 to 4096)\n"
      "  MPL_ARENA_SIZE            shared arena's virtual size (e.g. 64g)\n"
      "  MPL_ARENA_RETAIN          freed memory kept for reuse (e.g. 256m)\n"
      "  MPL_HISTORY               the prompt's history file (empty: none)\n"
      "  OPENBLAS_CORETYPE         the OpenBLAS kernel to run\n"
      "  OPENBLAS_NUM_THREADS      left as set; else OpenBLAS runs one thread\n"
      "                            under ulimit -v or a small ulimit -u\n"
      "At the prompt, ? gives an overview of mat and ?mat.dot an entry.\n"
      "More: man mpl.\n",
      stdout);
  fflush(stdout);
}

/*
** Scan the options before any Lua code runs, as lua does: stop at the
** first non-option (the script), at "-" (script on stdin) or after "--".
** -p/--procs are ours; their value is checked later (apply_procs), so a
** missing value is a usage error but a malformed one gets its own message.
*/
static void collect_args(char **argv, struct cli_args *a) {
  int i;
  memset(a, 0, sizeof *a);
  for (i = 1; argv[i] != NULL; i++) {
    const char *opt = argv[i];
    a->script = i;
    if (opt[0] != '-') return; /* the script */
    switch (opt[1]) {
    case '-': {
      int r = long_option(argv, &i, a);
      if (r == OPT_STOP) return;
      if (r == OPT_UNKNOWN) goto unknown;
      if (r == OPT_MISSING) goto missing;
      break;
    }
    case '\0': /* "-": the script is stdin */
      return;
    case 'h':
      if (opt[2] != '\0') goto unknown;
      a->flags |= HAS_HELP;
      break;
    case 'E':
    case 'W':
      if (opt[2] != '\0') goto unknown;
      if (opt[1] == 'E') a->flags |= HAS_NOENV;
      break;
    case 'i':
      a->flags |= HAS_I;
      /* FALLTHROUGH */
    case 'v':
      if (opt[2] != '\0') goto unknown;
      a->flags |= HAS_V;
      break;
    case 'e':
      a->flags |= HAS_E;
      /* FALLTHROUGH */
    case 'l':
      if (opt[2] == '\0') {
        if (argv[i + 1] == NULL || argv[i + 1][0] == '-') goto missing;
        i++;
      }
      break;
    case 'p':
      if (opt[2] != '\0') {
        a->procs = opt + 2;
      } else {
        if (argv[i + 1] == NULL) goto missing;
        a->procs = argv[++i];
      }
      break;
    default:
      goto unknown;
    }
  }
  a->script = 0; /* no script */
  return;
missing:
  a->needs_arg = 1;
  /* FALLTHROUGH */
unknown:
  a->flags = HAS_ERROR;
  a->script = i;
}

/*
** Parse a worker count: decimal digits only, 1 .. MPL_MAX_PROCS.
*/
static int parse_procs(const char *s, int *out) {
  char *end;
  long v;
  if (s[0] < '0' || s[0] > '9') return 0;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < 1 || v > MPL_MAX_PROCS) return 0;
  *out = (int)v;
  return 1;
}

/*
** Set the default worker count from -p/--procs or else MPL_PROCS (an
** empty MPL_PROCS counts as unset).  Done before `mat` is opened.
** Returns 0 after printing a message when the value is bad.
*/
static int apply_procs(const struct cli_args *a) {
  const char *from = "--procs";
  const char *value = a->procs;
  int n;
  if (value == NULL) {
    from = "MPL_PROCS";
    value = getenv("MPL_PROCS");
    if (value == NULL || value[0] == '\0') return 1;
  }
  if (!parse_procs(value, &n) || mpl_set_procs(n) < 0) {
    fprintf(stderr,
            "%s: bad value for %s: '%.40s%s' (expected an integer from 1 "
            "to %d)\n",
            PROGNAME, from, value, strlen(value) > 40 ? "..." : "",
            MPL_MAX_PROCS);
    fflush(stderr);
    return 0;
  }
  return 1;
}

/*
** The global `arg`: the script at index 0, its arguments at 1..n, the
** interpreter and its options at negative indices.  Without a script the
** interpreter's name is at 0 and the options at positive indices (lua's
** rule).
*/
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  int i;
  lua_createtable(L, argc - (script + 1), script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* Run a loaded chunk (or report why it did not load). */
static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = mpl__docall(L, 0, 0);
  return report(L, status);
}

static int dofile(lua_State *L, const char *name) {
  return dochunk(L, luaL_loadfile(L, name));
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/*
** -l: `require(mod)` into global `mod`, or into `g` for "g=mod".
*/
static int dolibrary(lua_State *L, const char *spec) {
  int status;
  const char *eq = strchr(spec, '=');
  lua_getglobal(L, "require");
  lua_pushstring(L, eq != NULL ? eq + 1 : spec);
  status = mpl__docall(L, 1, 1);
  if (status == LUA_OK) {
    if (eq != NULL) { /* the global's name is what precedes '=' */
      lua_pushglobaltable(L);
      lua_pushlstring(L, spec, (size_t)(eq - spec));
      lua_rotate(L, -3, -1); /* _G, name, module */
      lua_settable(L, -3);
      lua_pop(L, 1);
    } else {
      lua_setglobal(L, spec);
    }
  }
  return report(L, status);
}

/*
** LUA_INIT_5_4, else LUA_INIT: "@file" runs a file, anything else is code
** (chunk named after the variable).
*/
static int handle_luainit(lua_State *L) {
  static const char versioned[] =
      "LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR;
  char chunkname[sizeof versioned + 1];
  const char *name = versioned;
  const char *init = getenv(name);
  if (init == NULL) {
    name = "LUA_INIT";
    init = getenv(name);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, init + 1);
  snprintf(chunkname, sizeof chunkname, "=%s", name);
  return dostring(L, init, chunkname);
}

/*
** -e, -l and -W, in command-line order, up to the script.  Returns 0 when
** one of them failed (already reported).
*/
static int run_args(lua_State *L, char **argv, int limit) {
  int i;
  for (i = 1; i < limit; i++) {
    const char *opt = argv[i];
    switch (opt[1]) {
    case 'e':
    case 'l': {
      const char *extra = opt + 2;
      int status;
      if (*extra == '\0') extra = argv[++i];
      status = opt[1] == 'e' ? dostring(L, extra, "=(command line)")
                             : dolibrary(L, extra);
      if (status != LUA_OK) return 0;
      break;
    }
    case 'W':
      lua_warning(L, "@on", 0);
      break;
    case 'p':
      if (opt[2] == '\0') i++; /* skip its value */
      break;
    case '-':
      if (strcmp(opt, "--procs") == 0) i++;
      break;
    default:
      break;
    }
  }
  return 1;
}

/*
** Push arg[1..#arg] so the script also gets them as `...`.
*/
static int push_script_args(lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

/*
** The script: a file, or stdin for "-" (unless "--" came just before it,
** in which case "-" is a file name).
*/
static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  int status;
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = push_script_args(L);
    status = mpl__docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}

/*
** The whole interpreter, run in protected mode by main.  Pushes true when
** everything went well; returning 0 results means failure (exit 1).
*/
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  struct cli_args a;
  collect_args(argv, &a);
  luaL_checkversion(L);
  if (a.flags & HAS_ERROR) {
    print_usage(argv[a.script], a.needs_arg);
    return 0;
  }
  if (a.flags & HAS_HELP) { /* nothing else runs */
    print_help();
    lua_pushboolean(L, 1);
    return 1;
  }
  if (!apply_procs(&a)) return 0;
  if (a.flags & HAS_V) mpl__print_version();
  if (a.flags & HAS_NOENV) { /* the package library reads this */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  luaL_requiref(L, "mat", luaopen_mat, 1);
  lua_pop(L, 1);
  create_arg_table(L, argv, argc, a.script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(a.flags & HAS_NOENV) && handle_luainit(L) != LUA_OK) return 0;
  if (!run_args(L, argv, a.script > 0 ? a.script : argc)) return 0;
  if (a.script > 0 && handle_script(L, argv + a.script) != LUA_OK) return 0;
  if (a.flags & HAS_I) {
    mpl__repl(L);
  } else if (a.script == 0 && !(a.flags & (HAS_E | HAS_V))) {
    if (isatty(STDIN_FILENO)) {
      mpl__print_version();
      mpl__repl(L);
    } else if (dofile(L, NULL) != LUA_OK) {
      return 0;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/*
** Make the state and run pmain in protected mode; exit 0 only when pmain
** finished and said so.
*/
int main(int argc, char **argv) {
  static char *fallback_argv[] = {PROGNAME, NULL};
  lua_State *L;
  int status, ok;
  if (argc < 1 || argv[0] == NULL) { /* exec'd with an empty argv */
    argc = 1;
    argv = fallback_argv;
  }
  L = luaL_newstate();
  if (L == NULL) {
    message("cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP); /* no collections while building the state */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  ok = lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  return (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
