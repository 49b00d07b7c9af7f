/*
** repl.h: private interface between the `mpl` command-line driver (cli.c)
** and its interactive read-eval-print loop (repl.c).
*/
#ifndef MPL_REPL_H
#define MPL_REPL_H

struct lua_State;

/*
** Call the function below `narg` arguments on the stack in protected
** mode, with a message handler that appends a traceback and with Ctrl-C
** turned into the Lua error "interrupted!".  Returns the lua_pcall status;
** on error the (string) message is left on the stack.  Defined in cli.c.
*/
int mpl__docall(struct lua_State *L, int narg, int nres);

/* Print the version banner ("mpl X.Y.Z (Lua 5.4.N)" + copyright line). */
void mpl__print_version(void);

/*
** Run the interactive loop until end of input.  Uses GNU readline (line
** editing, history, completion) when standard input is a terminal, plain
** line reads otherwise.  Never raises: errors of the user's chunks are
** printed and the loop goes on.  Defined in repl.c.
*/
void mpl__repl(struct lua_State *L);

#endif
