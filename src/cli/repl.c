/*
** repl.c: the interactive loop of `mpl`.
**
** DESIGN: modeled on lua.c's REPL.  A line is first compiled as
** "return <line>;" so expressions print their values; otherwise as a
** statement, reading continuation lines while the syntax error ends in
** "<eof>".  Results are printed with the global `print` (matrices print
** through their __tostring).
**
** On a terminal, input comes from GNU readline in its callback mode, so
** that the loop owns the wait for input: SIGINT and SIGWINCH are blocked
** except inside ppoll, where they only set flags; Ctrl-C then abandons
** the line (and any continuation) and shows a fresh prompt.  Tab completes
** global names, fields after '.' and methods after ':', looked up with raw
** accesses inside lua_pcall so completion never runs user metamethods and
** never raises into readline.  Without a terminal, lines are read with
** getline and the prompt is still written, as lua does without readline.
**
** What the REPL adds to lua.c's lives in Lua (lua/help.lua), in a table
** the module leaves in the registry under "mpl.repl": `show` turns a
** result into what is printed (tables by their contents, functions by
** their help signature), `command` runs lines that start with '?' (help)
** or '\' (\time on|off), `after` prints the hint for a line that only
** declares locals, and `timing` says whether to print each entry's wall
** time.  Without that table the loop works as lua.c's.  Inside a string,
** Tab completes file names instead.
**
** History: every non-blank line read is appended at once to the history
** file ($MPL_HISTORY, else $HOME/.mpl_history on a terminal; an empty
** MPL_HISTORY disables it).  Failing to read or write it is silent.
*/
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <lua.h>
#include <lauxlib.h>

#include "repl.h"

#define PROMPT1 "> "
#define PROMPT2 ">> "
#define EOFMARK "<eof>"
#define HISTORY_MAX 1000
#define MAX_LOOKUP_DEPTH 8 /* __index chains followed by completion */

/* What reading a line gave. */
enum { READ_EOF, READ_LINE, READ_CANCEL };

/* load_line results besides the lua_load status codes. */
enum { LOAD_EOF = -1, LOAD_CANCEL = -2, LOAD_COMMAND = -3 };

#define HOOKS "mpl.repl" /* registry field of lua/help.lua's REPL table */

struct repl {
  lua_State *L;
  int base;      /* stack top when the loop started */
  int tty;       /* reading from a terminal with readline */
  char *history; /* history file (malloc'd), NULL for none */
  char *line;    /* the entry's text when it is one line (malloc'd) */
};

/*
** Readline's callbacks (line handler, completer) take no user data, and
** signal handlers can only set flags: these are their shared state.
*/
static struct {
  lua_State *L; /* the state completion looks names up in */
  char *line;   /* the line the handler received (NULL at EOF) */
  int done;     /* the handler was called */
} rl_state;
static volatile sig_atomic_t pending_sigint, pending_sigwinch;

static const char *const keywords[] = {
    "and",      "break",  "do",   "else", "elseif", "end",   "false", "for",
    "function", "goto",   "if",   "in",   "local",  "nil",   "not",   "or",
    "repeat",   "return", "then", "true", "until",  "while", NULL};

/* ---------------------------------------------------------------------
** Completion
** ------------------------------------------------------------------ */

static int is_keyword(const char *s, size_t len) {
  int i;
  for (i = 0; keywords[i] != NULL; i++)
    if (strlen(keywords[i]) == len && memcmp(s, keywords[i], len) == 0)
      return 1;
  return 0;
}

/*
** A name usable after '.' or ':' (or as a global): an ASCII identifier
** that is not a reserved word.
*/
static int is_name(const char *s, size_t len) {
  size_t i;
  if (len == 0) return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && (i == 0 || c < '0' || c > '9')) return 0;
  }
  return !is_keyword(s, len);
}

/*
** Replace the value on top of the stack by its field `name`, looked up
** without metamethods: raw fields of tables, then the metatable's
** `__methods` table, then its `__index` when that is a table (followed a
** bounded number of times).  Leaves nil when not found.
*/
static void raw_field(lua_State *L, const char *name, size_t len) {
  int obj = lua_gettop(L);
  int cur = obj + 1; /* the current object along the __index chain */
  int depth;
  lua_pushvalue(L, obj);
  for (depth = 0; depth < MAX_LOOKUP_DEPTH; depth++) {
    lua_settop(L, cur);
    if (lua_istable(L, cur)) {
      lua_pushlstring(L, name, len);
      if (lua_rawget(L, cur) != LUA_TNIL) goto found;
      lua_pop(L, 1);
    }
    if (!lua_getmetatable(L, cur)) break; /* cur + 1 */
    lua_pushliteral(L, "__methods");
    if (lua_rawget(L, cur + 1) == LUA_TTABLE) { /* cur + 2 */
      lua_pushlstring(L, name, len);
      if (lua_rawget(L, cur + 2) != LUA_TNIL) goto found;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, cur + 1) != LUA_TTABLE) break;
    lua_replace(L, cur);
  }
  lua_settop(L, obj);
  lua_pushnil(L);
  lua_replace(L, obj);
  return;
found:
  lua_replace(L, obj);
  lua_settop(L, obj);
}

/*
** Add to the set at index `set` every string key of the table at `t`
** that is a name starting with `prefix` (methods_only: whose value is a
** function), as `head` .. key.
*/
static void add_keys(lua_State *L, int set, int t, int head, const char *prefix,
                     int methods_only) {
  size_t plen = strlen(prefix);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) { /* key value */
    if (lua_type(L, -2) == LUA_TSTRING &&
        (!methods_only || lua_type(L, -1) == LUA_TFUNCTION)) {
      size_t klen;
      const char *key = lua_tolstring(L, -2, &klen);
      if (klen >= plen && memcmp(key, prefix, plen) == 0 &&
          is_name(key, klen)) {
        lua_pushvalue(L, head);
        lua_pushvalue(L, -3);
        lua_concat(L, 2);
        lua_pushboolean(L, 1);
        lua_rawset(L, set);
      }
    }
    lua_pop(L, 1);
  }
}

/*
** Add the fields of the value at `obj` that start with `prefix`: its raw
** keys when it is a table, the keys of its metatable's `__methods`, and
** the same for each `__index` table up the chain.
*/
static void add_fields(lua_State *L, int set, int obj, int head,
                       const char *prefix, int methods_only) {
  int depth, cur;
  lua_pushvalue(L, obj);
  cur = lua_gettop(L);
  for (depth = 0; depth < MAX_LOOKUP_DEPTH; depth++) {
    if (lua_istable(L, cur)) add_keys(L, set, cur, head, prefix, methods_only);
    if (!lua_getmetatable(L, cur)) break;
    lua_pushliteral(L, "__methods");
    if (lua_rawget(L, cur + 1) == LUA_TTABLE)
      add_keys(L, set, cur + 2, head, prefix, 0);
    lua_pop(L, 1);
    lua_pushliteral(L, "__fields"); /* fields: after '.' only */
    if (!methods_only && lua_rawget(L, cur + 1) == LUA_TTABLE)
      add_keys(L, set, cur + 2, head, prefix, 0);
    lua_settop(L, cur + 1);
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, cur + 1) != LUA_TTABLE) break;
    lua_replace(L, cur);
    lua_settop(L, cur);
  }
  lua_settop(L, cur - 1);
}

/*
** Protected body of completion.  Argument: the word (a light userdata
** pointing at a C string, so nothing allocates before the pcall).
** Returns a sequence of full candidate words.
*/
static int collect_completions(lua_State *L) {
  const char *text = (const char *)lua_touserdata(L, 1);
  const char *sep = NULL, *p;
  int set;
  for (p = text; *p != '\0'; p++)
    if (*p == '.' || *p == ':') sep = p;
  lua_settop(L, 0);
  lua_newtable(L);
  set = 1;
  if (sep == NULL) { /* a global name or a keyword */
    size_t len = strlen(text);
    int i;
    for (i = 0; keywords[i] != NULL; i++) {
      if (strncmp(keywords[i], text, len) == 0) {
        lua_pushboolean(L, 1);
        lua_setfield(L, set, keywords[i]);
      }
    }
    lua_pushliteral(L, ""); /* 2: head */
    lua_pushglobaltable(L); /* 3 */
    add_fields(L, set, 3, 2, text, 0);
  } else { /* path.path...(.|:)prefix */
    const char *start = text;
    lua_pushlstring(L, text, (size_t)(sep - text) + 1); /* 2: head */
    lua_pushglobaltable(L);                             /* 3 */
    while (start <= sep) {
      const char *end = start;
      while (end < sep && *end != '.' && *end != ':') end++;
      if (end != sep && *end == ':') return 0; /* ':' only at the end */
      if (!is_name(start, (size_t)(end - start))) return 0;
      raw_field(L, start, (size_t)(end - start));
      if (lua_isnil(L, -1)) return 0;
      start = end + 1;
    }
    add_fields(L, set, 3, 2, sep + 1, *sep == ':');
  }
  lua_newtable(L); /* the set's keys as a sequence */
  {
    lua_Integer n = 0;
    int seq = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, set) != 0) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_rawseti(L, seq, ++n);
    }
  }
  return 1;
}

/*
** Readline's completer: candidates for `text` in readline's format
** (element 0 is their longest common prefix), or NULL.  Never completes
** file names and never appends a space.
*/
static char **complete(const char *text, int start, int end) {
  lua_State *L = rl_state.L;
  char **matches = NULL;
  int top;
  lua_Unsigned i, n;
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1;
  rl_completion_suppress_append = 1;
  if (rl_completion_quote_character != 0) /* inside a string: a file */
    return rl_completion_matches(text, rl_filename_completion_function);
  if (L == NULL || !lua_checkstack(L, 4)) return NULL;
  top = lua_gettop(L);
  lua_pushcfunction(L, collect_completions);
  lua_pushlightuserdata(L, (void *)text);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) goto done;
  n = lua_rawlen(L, -1);
  if (n == 0) goto done;
  matches = calloc((size_t)n + 2, sizeof *matches);
  if (matches == NULL) goto done;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i);
    matches[i] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (matches[i] == NULL) goto fail;
  }
  if (n == 1) { /* a single match replaces the word */
    matches[0] = matches[1];
    matches[1] = NULL;
  } else { /* the common prefix replaces the word */
    size_t len = strlen(matches[1]);
    for (i = 2; i <= n; i++) {
      size_t k = 0;
      while (k < len && matches[i][k] == matches[1][k]) k++;
      len = k;
    }
    matches[0] = strndup(matches[1], len);
    if (matches[0] == NULL) goto fail;
  }
  goto done;
fail:
  for (i = 0; i <= n; i++) free(matches[i]);
  free(matches);
  matches = NULL;
done:
  lua_settop(L, top);
  return matches;
}

/* ---------------------------------------------------------------------
** Reading lines
** ------------------------------------------------------------------ */

/* readline's line handler (callback mode). */
static void on_line(char *line) {
  rl_state.line = line;
  rl_state.done = 1;
  rl_callback_handler_remove();
}

/* SIGINT/SIGWINCH at the prompt: just note it; the read loop acts. */
static void on_prompt_signal(int sig) {
  if (sig == SIGINT)
    pending_sigint = 1;
  else
    pending_sigwinch = 1;
}

/*
** Ctrl-C at the prompt: leave any special mode first (an incremental
** search redraws the line when it ends), show "^C" after the line, then
** drop it and leave readline's callback mode.
*/
static void cancel_line(void) {
  rl_callback_sigcleanup();
  rl_free_line_state();
  rl_point = rl_end;
  rl_redisplay();
  fputs("^C\n", rl_outstream);
  fflush(rl_outstream);
  rl_replace_line("", 0);
  rl_callback_handler_remove();
}

/*
** Read one line with readline.  SIGINT and SIGWINCH are blocked except
** while waiting in ppoll, so their flags are checked without a race and
** never interrupt readline's own code.  *out is malloc'd.
*/
static int read_tty(const char *prompt, char **out) {
  struct sigaction sa, old_int, old_winch;
  sigset_t block, orig;
  struct pollfd pfd;
  int result = READ_LINE;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGWINCH);
  sigprocmask(SIG_BLOCK, &block, &orig);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prompt_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGWINCH, &sa, &old_winch);
  pending_sigint = pending_sigwinch = 0;
  rl_state.line = NULL;
  rl_state.done = 0;
  rl_callback_handler_install(prompt, on_line);
  pfd.fd = fileno(rl_instream != NULL ? rl_instream : stdin);
  pfd.events = POLLIN;
  while (!rl_state.done) {
    int n = ppoll(&pfd, 1, NULL, &orig);
    if (pending_sigwinch) {
      pending_sigwinch = 0;
      rl_resize_terminal();
    }
    if (pending_sigint) {
      pending_sigint = 0;
      cancel_line();
      result = READ_CANCEL;
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      rl_callback_handler_remove(); /* cannot wait: take it as EOF */
      break;
    }
    if (n > 0) rl_callback_read_char();
  }
  /* let a signal that came meanwhile reach our handler, not the default */
  sigprocmask(SIG_SETMASK, &orig, NULL);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGWINCH, &old_winch, NULL);
  if (result == READ_LINE) {
    if (rl_state.line == NULL) return READ_EOF;
    *out = rl_state.line;
  }
  rl_state.line = NULL;
  return result;
}

/* Without a terminal: write the prompt, read with getline. */
static int read_plain(const char *prompt, char **out) {
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  fputs(prompt, stdout);
  fflush(stdout);
  len = getline(&buf, &cap, stdin);
  if (len < 0) {
    free(buf);
    return READ_EOF;
  }
  if (len > 0 && buf[len - 1] == '\n') buf[len - 1] = '\0';
  *out = buf;
  return READ_LINE;
}

/* Append a non-blank line to the in-memory history and the file. */
static void save_line(struct repl *r, const char *line) {
  const char *p = line + strspn(line, " \t\r\n");
  FILE *f;
  if (*p == '\0') return;
  if (r->tty) add_history(line);
  if (r->history != NULL && (f = fopen(r->history, "a")) != NULL) {
    fputs(line, f);
    fputc('\n', f);
    fclose(f);
  }
}

/*
** Protected part of prompt lookup: tostring(_PROMPT or _PROMPT2) or nil.
** The global is read raw, so a strict-mode __index on _G is not run.
*/
static int prompt_value(lua_State *L) {
  const char *name = (const char *)lua_touserdata(L, 1);
  lua_pushglobaltable(L);
  lua_pushstring(L, name);
  if (lua_rawget(L, -2) == LUA_TNIL) return 1;
  luaL_tolstring(L, -1, NULL);
  return 1;
}

/*
** Push the prompt: the global _PROMPT (_PROMPT2 on continuation lines)
** through tostring, or the default when unset or when that fails.
*/
static const char *push_prompt(lua_State *L, int firstline) {
  lua_pushcfunction(L, prompt_value);
  lua_pushlightuserdata(L, (void *)(firstline ? "_PROMPT" : "_PROMPT2"));
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
    lua_pop(L, 1);
    lua_pushstring(L, firstline ? PROMPT1 : PROMPT2);
  }
  return lua_tostring(L, -1);
}

/*
** Prompt, read a line and push it (a first line "=expr" becomes
** "return expr", as in Lua 5.3).  Returns READ_LINE, READ_EOF or
** READ_CANCEL; only READ_LINE pushes.
*/
static int push_line(struct repl *r, int firstline) {
  lua_State *L = r->L;
  char *line = NULL;
  const char *prompt = push_prompt(L, firstline);
  int st;
  fflush(stdout);
  st = r->tty ? read_tty(prompt, &line) : read_plain(prompt, &line);
  lua_pop(L, 1); /* the prompt */
  if (st != READ_LINE) return st;
  save_line(r, line);
  if (firstline && line[0] == '=')
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushstring(L, line);
  free(line);
  return READ_LINE;
}

/*
** Try the line on top as "return <line>;", so expressions print their
** values.  Leaves line, function on success; just the line otherwise.
*/
static int add_return(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK)
    lua_remove(L, -2); /* the "return" text */
  else
    lua_pop(L, 2);
  return status;
}

/* A syntax error (message on top) that only says the chunk is unfinished. */
static int incomplete(lua_State *L, int status) {
  size_t len, mlen = sizeof(EOFMARK) - 1;
  const char *msg;
  if (status != LUA_ERRSYNTAX) return 0;
  msg = lua_tolstring(L, -1, &len);
  return msg != NULL && len >= mlen && strcmp(msg + len - mlen, EOFMARK) == 0;
}

/*
** Compile the text on top as a statement, reading more lines while it is
** incomplete.  Leaves text, function-or-message.  End of input in the
** middle returns the syntax error; Ctrl-C returns LOAD_CANCEL.
*/
static int multi_line(struct repl *r) {
  lua_State *L = r->L;
  for (;;) {
    size_t len;
    const char *chunk = lua_tolstring(L, -1, &len);
    int status = luaL_loadbuffer(L, chunk, len, "=stdin");
    int st;
    if (!incomplete(L, status)) return status;
    st = push_line(r, 0);
    if (st == READ_EOF) return status;
    if (st == READ_CANCEL) return LOAD_CANCEL;
    lua_remove(L, -2); /* the message */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3); /* chunk .. "\n" .. line */
  }
}

/* Push the REPL table's field `name` (nil when there is none). */
static int push_hook(lua_State *L, const char *name) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, HOOKS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  return lua_type(L, -1);
}

/* An error (message on top): shown on stderr, popped. */
static void report_error(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fflush(stdout);
  fprintf(stderr, "%s\n", msg != NULL ? msg : "(error object is not a string)");
  fflush(stderr);
  lua_pop(L, 1);
}

/*
** Call hook `name` with the string on top (left there) in protected
** mode; returns whether it returned true.
*/
static int call_hook(lua_State *L, const char *name) {
  int yes = 0;
  if (push_hook(L, name) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushvalue(L, -2);
  if (mpl__docall(L, 1, 1) != LUA_OK) {
    report_error(L);
    return 0;
  }
  yes = lua_toboolean(L, -1);
  lua_pop(L, 1);
  fflush(stdout);
  return yes;
}

/* The line on top starts with '?' or '\\': run it as a command. */
static int run_command(struct repl *r) {
  const char *line = lua_tostring(r->L, -1);
  line += strspn(line, " \t");
  if (line[0] != '?' && line[0] != '\\') return 0;
  return call_hook(r->L, "command");
}

/*
** Read and compile one entry.  Returns a load status with the function
** or the error message on top of the base, or LOAD_EOF / LOAD_CANCEL
** with nothing pushed.
*/
static int load_line(struct repl *r) {
  lua_State *L = r->L;
  int status, st;
  lua_settop(L, r->base);
  st = push_line(r, 1);
  if (st == READ_EOF) return LOAD_EOF;
  if (st == READ_CANCEL) return LOAD_CANCEL;
  if (run_command(r)) {
    lua_settop(L, r->base);
    return LOAD_COMMAND;
  }
  if ((status = add_return(L)) != LUA_OK) status = multi_line(r);
  if (status == LOAD_CANCEL) {
    lua_settop(L, r->base);
    return status;
  }
  free(r->line);
  r->line = NULL;
  if (!strchr(lua_tostring(L, r->base + 1), '\n'))
    r->line = strdup(lua_tostring(L, r->base + 1));
  lua_remove(L, r->base + 1); /* the text */
  return status;
}

/*
** Protected: print(...) through the current global `print`, each value
** first through the REPL table's `show` when there is one.
*/
static int call_print(lua_State *L) {
  int i, n = lua_gettop(L);
  if (push_hook(L, "show") == LUA_TFUNCTION) {
    for (i = 1; i <= n; i++) {
      lua_pushvalue(L, -1);
      lua_pushvalue(L, i);
      lua_call(L, 1, 1);
      lua_replace(L, i);
    }
  }
  lua_pop(L, 1);
  lua_getglobal(L, "print");
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 0);
  return 0;
}

/* Print the results above the base, if any. */
static void print_results(struct repl *r) {
  lua_State *L = r->L;
  int n = lua_gettop(L) - r->base;
  if (n <= 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_pushcfunction(L, call_print);
  lua_insert(L, r->base + 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fflush(stdout);
    fprintf(stderr, "error calling 'print' (%s)\n",
            msg != NULL ? msg : "(error object is not a string)");
    fflush(stderr);
  }
}

/*
** The history file: $MPL_HISTORY (empty: none), else on a terminal
** $HOME/.mpl_history.  Piped sessions keep no history unless asked, so
** scripts fed to `mpl -i` do not fill the user's file.
*/
static char *history_path(int tty) {
  const char *env = getenv("MPL_HISTORY");
  const char *home;
  char *path;
  if (env != NULL) return env[0] != '\0' ? strdup(env) : NULL;
  home = getenv("HOME");
  if (!tty || home == NULL || home[0] == '\0') return NULL;
  path = malloc(strlen(home) + sizeof "/.mpl_history");
  if (path != NULL) {
    strcpy(path, home);
    strcat(path, "/.mpl_history");
  }
  return path;
}

/*
** The word break characters: inside an unclosed string (a file name is
** completed) only blanks, so a name may start with '/' or '.'.
*/
static char *word_breaks(void) {
  static char in_string[] = " \t\n";
  char quote = 0;
  int i;
  for (i = 0; i < rl_point && rl_line_buffer[i] != '\0'; i++) {
    char c = rl_line_buffer[i];
    if (quote != 0 && c == '\\' && i + 1 < rl_point)
      i++;
    else if (quote != 0 && c == quote)
      quote = 0;
    else if (quote == 0 && (c == '"' || c == '\''))
      quote = c;
  }
  return quote != 0 ? in_string : (char *)rl_basic_word_break_characters;
}

/*
** Readline settings: our own signal handling and completion, words that
** keep '.' and ':' so whole paths are completed, no LINES/COLUMNS in the
** environment, and the saved history.
*/
static void setup_readline(struct repl *r) {
  static const char breaks[] = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";
  rl_readline_name = "mpl";
  rl_change_environment = 0;
  rl_catch_signals = 0;
  rl_catch_sigwinch = 0;
  rl_basic_word_break_characters = breaks;
  rl_completer_word_break_characters = breaks;
  rl_completer_quote_characters = "\"'";
  rl_completion_word_break_hook = word_breaks;
  rl_attempted_completion_function = complete;
  rl_state.L = r->L;
  using_history();
  stifle_history(HISTORY_MAX);
  if (r->history != NULL) {
    read_history(r->history);
    history_truncate_file(r->history, HISTORY_MAX);
  }
}

/* Monotonic seconds. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The global `help` at the prompt: mat.help, unless the name is taken. */
static void define_help(lua_State *L) {
  int top = lua_gettop(L);
  lua_pushglobaltable(L);
  if (lua_getfield(L, -1, "help") == LUA_TNIL &&
      lua_getfield(L, -2, "mat") == LUA_TTABLE &&
      lua_getfield(L, -1, "help") == LUA_TFUNCTION)
    lua_setglobal(L, "help");
  lua_settop(L, top);
}

/*
** After an entry ran: its wall time when timing is on, and the hint for
** a line that only declared locals.
*/
static void after_entry(struct repl *r, int ok, double secs) {
  lua_State *L = r->L;
  int top = lua_gettop(L);
  if (push_hook(L, "timing") != LUA_TNIL && lua_toboolean(L, -1)) {
    fflush(stdout);
    if (secs < 1e-3)
      printf("time: %.1f us\n", secs * 1e6);
    else if (secs < 1)
      printf("time: %.1f ms\n", secs * 1e3);
    else
      printf("time: %.2f s\n", secs);
    fflush(stdout);
  }
  lua_settop(L, top);
  if (ok && r->line != NULL) {
    lua_pushstring(L, r->line);
    call_hook(L, "after");
  }
  lua_settop(L, top);
}

/*
** The loop: read an entry, run it, print its results or its error, until
** end of input; then a newline, as lua does.
*/
void mpl__repl(lua_State *L) {
  struct repl r;
  int status;
  r.L = L;
  r.base = lua_gettop(L);
  r.tty = isatty(STDIN_FILENO);
  r.history = history_path(r.tty);
  if (r.tty) setup_readline(&r);
  r.line = NULL;
  define_help(L);
  while ((status = load_line(&r)) != LOAD_EOF) {
    double t0;
    if (status == LOAD_CANCEL || status == LOAD_COMMAND) continue;
    t0 = now();
    if (status == LUA_OK) status = mpl__docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      print_results(&r);
    else
      report_error(L);
    after_entry(&r, status == LUA_OK, now() - t0);
  }
  free(r.line);
  lua_settop(L, r.base);
  fputc('\n', stdout);
  fflush(stdout);
  rl_state.L = NULL;
  free(r.history);
}
