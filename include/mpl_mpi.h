/*
** mpl_mpi.h: for C hosts that run MPI themselves (built when mpl was
** configured with MPI).  Kept apart from mpl.h so that hosts without MPI
** never need mpi.h.
*/
#ifndef MPL_MPI_H
#define MPL_MPI_H

#include <mpi.h>

#include "mpl.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
** Make comm the communicator of mat.mpi (rank, size and every transfer):
** call it after MPI_Init and before the Lua code that uses mat.mpi.  mpl
** works on duplicates of comm and never finalises MPI: the host keeps
** ownership and calls MPI_Finalize itself, after closing its Lua states.
** MPL_EINVAL when MPI is not initialised or comm is MPI_COMM_NULL.
*/
MPL_API int mpl_mpi_use(MPI_Comm comm);

#ifdef __cplusplus
}
#endif
#endif
