/*
** mpi_host.c: a C host that runs MPI itself and hands mpl its
** communicator (include/mpl_mpi.h); run under mpirun by ctest.  mat.mpi
** must see the host's ranks, and mpl must leave MPI initialised for the
** host to finalise.  Prints "N passed, N failed".
*/
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>

#include "mpl_mpi.h"

static int passed, failed;

static void check(int ok, const char *what) {
  if (ok)
    passed++;
  else
    failed++, fprintf(stderr, "FAIL: %s\n", what);
}

int main(int argc, char **argv) {
  int rank, size, fin = 1;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  check(mpl_mpi_use(MPI_COMM_NULL) == MPL_EINVAL, "MPI_COMM_NULL refused");
  check(mpl_mpi_use(MPI_COMM_WORLD) == 0, "mpl_mpi_use");
  lua_State *L = NULL;
  check(mpl_lua_newstate(&L) == 0 && L, "mpl_lua_newstate");
  if (L) {
    int rc = luaL_dostring(L, "local mpi = mat.mpi\n"
                              "local s = mpi.allreduce(mpi.rank + 1)\n"
                              "local v = mpi.vcat(mat.new(2, 3, mpi.rank))\n"
                              "return mpi.rank, mpi.size, s, (v:shape())");
    check(rc == LUA_OK, rc == LUA_OK ? "script" : lua_tostring(L, -1));
    if (rc == LUA_OK) {
      check(lua_tointeger(L, -4) == rank, "mat.mpi.rank is the host's rank");
      check(lua_tointeger(L, -3) == size, "mat.mpi.size is the host's size");
      check(lua_tonumber(L, -2) == size * (size + 1) / 2.0, "allreduce");
      check(lua_tointeger(L, -1) == 2 * size, "vcat");
    }
    lua_close(L);
  }
  MPI_Finalized(&fin);
  check(!fin, "MPI still initialised after lua_close: the host owns it");
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Finalize();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
