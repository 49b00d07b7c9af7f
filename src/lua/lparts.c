/*
** lparts.c: the rows of lfuncs.h as the table luaopen_mat registers, and
** the openers of the parts with set-up of their own, run after it in
** order.
*/
#include <stddef.h>

#include "lmat.h"

#define MPL__ROW(name, func, where) {name, func, MPL__##where, 0},
#define MPL__OPROW(name, func, where, op)                                      \
  {name, func, MPL__##where | MPL__OP, op},
const mpl__func mpl__funcs[] = {MPL__FUNCS(MPL__ROW)
                                    MPL__SHARED(MPL__OPROW){NULL, NULL, 0, 0}};

const mpl__opener mpl__openers[] = {mpl__open_files, mpl__open_map,
                                    mpl__open_ragged, mpl__open_mpi, NULL};
