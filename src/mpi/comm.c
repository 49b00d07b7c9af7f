/*
** comm.c: MPI for mpl: starting and ending it, and moving bytes and
** matrices between ranks (Open MPI; any MPI-3 library would do).
**
** DESIGN.  MPI is started only when a launcher started this process
** (mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers PMIX_RANK, Slurm and
** Hydra PMI_RANK) or when a C host hands mpl its own communicator
** (mpl_mpi_use); a plain `mpl script.lua` is one rank and never loads
** MPI's machinery.  mpl finalises only what it initialised: a host's MPI
** stays the host's.  It finalises at the exit of the process (on_exit),
** after the Lua state is closed; when the process exits with a non-zero
** status (an error escaped the script, under mpl or stock lua5.4) it ends
** the whole job with MPI_Abort instead, so no other rank waits forever
** for it in a collective call.
**
** Fork.  Open MPI's FAQ on fork() says, in substance: a process may fork
** after MPI_Init as long as the child never calls an MPI function, and
** with OpenFabrics (InfiniBand) networks memory registered with the card
** can corrupt a forked child's view of it unless fork support is turned
** on (MCA parameter btl_openib_want_fork_support; Open MPI warns through
** mpi_warn_on_fork).  mpl follows that: the product pool's helper process,
** which forks every product worker, is started before MPI_Init (the
** caller's job: lmat.c and lmpi.c do it), so the pool's workers are forks
** of a process that never saw MPI; mat.map's workers are forked later (they
** need the script's state) but never call MPI and leave with _exit, so no
** MPI atexit handler runs in them; and mpl asks for fork support before
** MPI_Init (setenv of OMPI_MCA_btl_openib_want_fork_support=1, unless the
** user set it).
**
** Symbols.  Open MPI loads its components (plugins) with dlopen and they
** expect libmpi's symbols in the global scope.  The mpl command links MPI,
** so they are; stock lua5.4 loads mat.so with RTLD_LOCAL, so before
** MPI_Init libmpi (found through the address of MPI_Init) is reopened with
** RTLD_NOLOAD | RTLD_GLOBAL, which promotes it, and its dependencies, to
** the global scope.
**
** Sizes.  MPI counts are ints: messages are cut into pieces of at most
** mpl__mpi_piece bytes (1 GiB), whole rows of a matrix where a row fits,
** the cut computed from the shape alone so both ends cut alike.  Strided
** views travel in place through a vector datatype.
**
** Communicators.  mpl works on duplicates of the world (or the host's)
** communicator: one for collectives, one for user send/recv, so a user's
** messages never meet mpl's own.  Errors return (MPI_ERRORS_RETURN).
*/
#include <dlfcn.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "mpl_mpi.h"

static struct {
  int active, owned, rank, size;
  MPI_Comm coll, p2p;
} M = {0, 0, 0, 1, MPI_COMM_NULL, MPI_COMM_NULL};

size_t mpl__mpi_piece = (size_t)1 << 30;

int mpl__mpi_launched(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") ||
         getenv("PMI_RANK");
}

/* An MPI return code as an MPL error with MPI's message. */
static int fail(int rc, const char *what) {
  if (rc == MPI_SUCCESS) return 0;
  char s[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS) len = 0;
  s[len] = 0;
  mpl__set_errmsg("%s: %s", what, len ? s : "MPI error");
  return MPL_ESYS;
}

/* Duplicate comm twice (collectives, user messages), errors returned. */
static int adopt(MPI_Comm comm) {
  int rc = MPI_Comm_dup(comm, &M.coll);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_dup(comm, &M.p2p);
  if (rc == MPI_SUCCESS)
    rc = MPI_Comm_set_errhandler(M.coll, MPI_ERRORS_RETURN);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(M.p2p, MPI_ERRORS_RETURN);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(M.coll, &M.rank);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_size(M.coll, &M.size);
  if (rc != MPI_SUCCESS) return fail(rc, "MPI_Comm_dup");
  M.active = 1;
  return 0;
}

/* libmpi into the global scope (see DESIGN: Symbols). */
static void promote_libmpi(void) {
  Dl_info info;
  if (dladdr((void *)(uintptr_t)&MPI_Init, &info) && info.dli_fname) {
    void *h = dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    (void)h; /* kept open for good: MPI stays loaded */
  }
}

static pid_t owner; /* the process that initialised MPI */

/* At exit of the process that initialised MPI (on_exit gives the status:
** a script that failed under stock lua5.4 or mpl exits non-zero): a
** failure ends the whole job through MPI_Abort, as the other ranks may
** wait for this one in a collective; a normal end finalises.  A forked
** child that calls exit() does neither. */
static void at_exit(int status, void *arg) {
  (void)arg;
  if (getpid() != owner || !M.active || !M.owned) return;
  if (status != 0 && M.size > 1) {
    fprintf(stderr,
            "mpl: rank %d exited with status %d: ending the job "
            "(MPI_Abort)\n",
            M.rank, status);
    fflush(stderr);
    MPI_Abort(M.coll, status);
  }
  mpl__mpi_stop();
}

int mpl__mpi_start(void) {
  int inited = 0;
  if (M.active || !mpl__mpi_launched()) return 0;
  MPI_Initialized(&inited);
  if (!inited) {
    promote_libmpi();
    setenv("OMPI_MCA_btl_openib_want_fork_support", "1", 0);
    int provided;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return fail(rc, "MPI_Init");
    M.owned = 1;
    owner = getpid();
    on_exit(at_exit, NULL);
  }
  const char *piece = getenv("MPL_MPI_PIECE"); /* tests: smaller pieces */
  if (piece && strtoull(piece, NULL, 10) >= sizeof(double))
    mpl__mpi_piece = (size_t)strtoull(piece, NULL, 10);
  return adopt(MPI_COMM_WORLD);
}

/* Drop mpl's communicators (MPI itself stays as it is). */
static void release(void) {
  int fin = 0;
  MPI_Finalized(&fin);
  if (M.active && !fin) {
    MPI_Comm_free(&M.coll);
    MPI_Comm_free(&M.p2p);
  }
  M.active = 0;
  M.rank = 0;
  M.size = 1;
}

int mpl_mpi_use(MPI_Comm comm) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited || comm == MPI_COMM_NULL) return MPL_EINVAL;
  release();
  return adopt(comm);
}

void mpl__mpi_stop(void) {
  int fin = 0;
  release();
  MPI_Finalized(&fin);
  if (M.owned && !fin) MPI_Finalize();
  M.owned = 0;
}

int mpl__mpi_active(void) { return M.active; }
int mpl__mpi_rank(void) { return M.rank; }
int mpl__mpi_size(void) { return M.size; }

int mpl__mpi_barrier(void) {
  return M.active ? fail(MPI_Barrier(M.coll), "MPI_Barrier") : 0;
}

int mpl__mpi_agree(int failed, int *who) {
  int mine = failed ? M.rank : M.size, low = mine;
  *who = -1;
  if (M.active) {
    int rc = MPI_Allreduce(&mine, &low, 1, MPI_INT, MPI_MIN, M.coll);
    if (rc != MPI_SUCCESS) return fail(rc, "MPI_Allreduce");
  }
  if (low < M.size) *who = low;
  return 0;
}

/* ---- moving pieces ---- */

enum { BCAST, SEND, RECV };

/* One piece: count items of type t at p, by op; a negative tag is one of
** mpl's own messages (on the collectives' communicator). */
static int piece(int op, void *p, int count, MPI_Datatype t, int peer,
                 int tag) {
  int rc;
  MPI_Comm c = tag < 0 ? M.coll : M.p2p; /* tag < 0: mpl's own messages */
  if (tag < 0) tag = 0;
  if (op == BCAST)
    rc = MPI_Bcast(p, count, t, peer, M.coll);
  else if (op == SEND)
    rc = MPI_Send(p, count, t, peer, tag, c);
  else
    rc = MPI_Recv(p, count, t, peer, tag, c, MPI_STATUS_IGNORE);
  return fail(rc, op == BCAST  ? "MPI_Bcast"
                  : op == SEND ? "MPI_Send"
                               : "MPI_Recv");
}

static int bytes(int op, void *buf, size_t n, int peer, int tag) {
  if (!M.active) return 0;
  for (size_t off = 0; off < n;) {
    size_t k = n - off < mpl__mpi_piece ? n - off : mpl__mpi_piece;
    int err = piece(op, (char *)buf + off, (int)k, MPI_BYTE, peer, tag);
    if (err) return err;
    off += k;
  }
  return 0;
}

int mpl__mpi_bcast_bytes(void *buf, size_t n, int root) {
  return bytes(BCAST, buf, n, root, 0);
}
int mpl__mpi_send_bytes(const void *buf, size_t n, int dest, int tag) {
  return bytes(SEND, (void *)buf, n, dest, tag);
}
int mpl__mpi_recv_bytes(void *buf, size_t n, int src, int tag) {
  return bytes(RECV, buf, n, src, tag);
}

/* k rows of m from row r as one piece: a vector datatype over the rows
** (its stride in bytes, so any row stride fits). */
static int rows_piece(int op, mpl_mat *m, size_t r, size_t k, int peer,
                      int tag) {
  MPI_Datatype t;
  MPI_Aint stride = (MPI_Aint)(m->rs * (ptrdiff_t)sizeof(double));
  int rc =
      MPI_Type_create_hvector((int)k, (int)m->cols, stride, MPI_DOUBLE, &t);
  if (rc == MPI_SUCCESS) rc = MPI_Type_commit(&t);
  if (rc != MPI_SUCCESS) return fail(rc, "MPI_Type_create_hvector");
  int err = piece(op, &MPL_AT(m, r, 0), 1, t, peer, tag);
  MPI_Type_free(&t);
  return err;
}

/* The whole view, in pieces of whole rows, or pieces of each row when a
** row is longer than a piece: cut from rows and cols alone, so both ends
** of a message cut alike whatever their strides. */
static int mat_move(int op, mpl_mat *m, int peer, int tag) {
  size_t per = mpl__mpi_piece / sizeof(double), rows = m->rows;
  if (!M.active || !rows || !m->cols) return 0;
  if (m->cols > 1 && m->cs != 1) {
    mpl__set_errmsg("matrix view has no unit column stride");
    return MPL_EINVAL;
  }
  if (per == 0) per = 1;
  if (m->cols > per) {
    for (size_t r = 0; r < rows; r++)
      for (size_t c = 0; c < m->cols; c += per) {
        size_t n = m->cols - c < per ? m->cols - c : per;
        int err = piece(op, &MPL_AT(m, r, c), (int)n, MPI_DOUBLE, peer, tag);
        if (err) return err;
      }
    return 0;
  }
  size_t k = per / m->cols;
  for (size_t r = 0; r < rows; r += k) {
    int err = rows_piece(op, m, r, rows - r < k ? rows - r : k, peer, tag);
    if (err) return err;
  }
  return 0;
}

int mpl__mpi_bcast_mat(mpl_mat *m, int root) {
  mpl_mat v = *m;
  return mat_move(BCAST, &v, root, 0);
}
int mpl__mpi_send_mat(const mpl_mat *m, int dest, int tag) {
  mpl_mat v = *m;
  return mat_move(SEND, &v, dest, tag);
}
int mpl__mpi_recv_mat(mpl_mat *m, int src, int tag) {
  mpl_mat v = *m;
  return mat_move(RECV, &v, src, tag);
}
