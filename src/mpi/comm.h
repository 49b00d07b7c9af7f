/*
** comm.h: the MPI layer of the core (src/mpi), for the binding (lmpi.c)
** and the mpl command.  Built only with MPI (CMake MPL_MPI); without it the
** binding is one rank and never calls these.  No function here includes
** mpi.h in its interface, so the binding does not need MPI's headers.
**
** Every function returns 0 or a negative MPL_E* code with mpl_errmsg set.
** Before mpl__mpi_start found a launcher (or a host handed a communicator)
** the layer is inactive: rank 0 of 1, and collectives are no-ops.
*/
#ifndef MPL_MPI_COMM_H
#define MPL_MPI_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Whether this process was started by an MPI launcher (mpirun, srun). */
int mpl__mpi_launched(void);

/* Initialise MPI when launched and not yet initialised (the caller starts
** the product pool first: see comm.c's DESIGN); a no-op otherwise. */
int mpl__mpi_start(void);

/* Finalise what mpl__mpi_start initialised; never a host's MPI. */
void mpl__mpi_stop(void);

int mpl__mpi_active(void);
int mpl__mpi_rank(void);
int mpl__mpi_size(void);

int mpl__mpi_barrier(void);

/* The lowest rank whose failed is set, or -1: every rank must call it. */
int mpl__mpi_agree(int failed, int *who);

/* Bytes: cut into pieces below 2^31, as large as MPI counts allow. */
int mpl__mpi_bcast_bytes(void *buf, size_t n, int root);
int mpl__mpi_send_bytes(const void *buf, size_t n, int dest, int tag);
int mpl__mpi_recv_bytes(void *buf, size_t n, int src, int tag);

/* A matrix view whose elements in a row are adjacent (cs == 1, or one
** column): moved in place, any row stride, in pieces of whole rows (or of
** one row) cut from the shape alone, so sender and receiver agree. */
int mpl__mpi_bcast_mat(mpl_mat *m, int root);
int mpl__mpi_send_mat(const mpl_mat *m, int dest, int tag);
int mpl__mpi_recv_mat(mpl_mat *m, int src, int tag);

/* Largest piece in bytes (default 1 GiB; tests lower it to exercise the
** cutting without 16 GiB messages). */
extern size_t mpl__mpi_piece;

/* Row blocks: the n rows are cut into groups of mpl__mpi_group(n) rows
** (a multiple of 256, at most 64 groups: from n alone), and rank r of size
** holds groups [ceil(G*r/size), ceil(G*(r+1)/size)): rows [*r0, *r1),
** 0-based. */
size_t mpl__mpi_group(size_t n);
void mpl__mpi_block(size_t n, int r, int size, size_t *r0, size_t *r1);

/* mat.mpi.dot: a (this rank's block of the m x k product's left factor,
** all k columns) times the k x n right factor whose row blocks the ranks
** hold (b: this rank's), into out (a->rows x n). */
int mpl__mpi_dot(const mpl_mat *a, const mpl_mat *b, mpl_mat *out, size_t m,
                 int procs);

/* mat.mpi.gram: out (n x n, on every rank) = A^T A for the row-distributed
** A of m rows whose block a is. */
int mpl__mpi_gram(const mpl_mat *a, mpl_mat *out, size_t m, int procs);

/* Rows of a .npy file's data (<f8, C order) at byte offset off, into or
** out of m (unit column stride): rowfile.c. */
int mpl__mpi_pread_rows(const char *path, uint64_t off, mpl_mat *m);
int mpl__mpi_pwrite_rows(const char *path, uint64_t off, const mpl_mat *m);

#endif
