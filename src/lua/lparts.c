/*
** lparts.c: the parts of the Lua binding that luaopen_mat opens, in order.
*/
#include <stddef.h>

#include "lmat.h"

const mpl__opener mpl__openers[] = {
    mpl__open_opts,   mpl__open_files,  mpl__open_arith,     mpl__open_linalg,
    mpl__open_map,    mpl__open_ragged, mpl__open_progress,  mpl__open_index,
    mpl__open_select, mpl__open_shape,  mpl__open_histogram, mpl__open_plot,
    mpl__open_mpi,    mpl__open_help,   mpl__open_stats,     NULL};
