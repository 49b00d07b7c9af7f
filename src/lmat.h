/*
** lmat.h: private interface between the parts of the Lua binding.
*/
#ifndef MPL_LMAT_H
#define MPL_LMAT_H

#include <lua.h>

#include "internal.h"

#define MPL_MT "mat.matrix"

/* The open matrix at idx, or an error naming fn. */
mpl_mat *mpl__check_mat(lua_State *L, int idx, const char *fn);

/* Add mat.save (and later mat.load) to the module table on top. */
void mpl__open_files(lua_State *L);

#endif
