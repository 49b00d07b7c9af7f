/*
** team.h: call-time worker teams (the core of mat.map); private.
**
** A team is a set of processes forked for one call.  They take items
** 0..n-1 from a shared counter in chunks, run a body function on them and
** send results back as framed messages over one pipe each; the caller
** collects the messages with mpl__team_wait and destroys the team, which
** leaves no process, descriptor or mapping behind.  See the DESIGN note at
** the top of team.c.
*/
#ifndef MPL_TEAM_H
#define MPL_TEAM_H

#include <stddef.h>

#include "internal.h"

typedef struct mpl__team mpl__team;

/* What a worker runs, in the forked child, with its number (0-based);
** returns its exit status: 0 when it ran out of items normally.  The
** child then flushes its messages and stdio and leaves with _exit. */
typedef int (*mpl__team_body)(mpl__team *t, int w, void *ctx);

/* Frame kinds a worker sends. */
enum { MPL__FRAME_RESULT = 1, MPL__FRAME_ERROR = 2 };

/* What mpl__team_wait reports. */
enum {
  MPL__TEAM_RESULT = 1, /* a RESULT frame: item, data, len */
  MPL__TEAM_FAILED = 2, /* an ERROR frame: item, data, len; workers stopped */
  MPL__TEAM_TICK = 3,   /* nothing within the timeout */
  MPL__TEAM_DONE = 4    /* every result received, every worker reaped */
};

typedef struct mpl__team_event {
  int kind;
  size_t item;      /* 0-based */
  const void *data; /* valid until the next wait or destroy */
  size_t len;
} mpl__team_event;

/* Fork procs workers (1..4096) for n items (n >= 1); chunk is the number
** of items a worker takes at a time, 0 for guided chunks (a share of what
** remains).  Returns 0, MPL_EINVAL, MPL_ENOMEM or MPL_ESYS (mpl_errmsg has
** the detail).  In each child, body runs and the child never returns
** from here. */
int mpl__team_start(mpl__team **out, size_t n, int procs, size_t chunk,
                    mpl__team_body body, void *ctx);

/* ---- in a worker ---- */

/* The next chunk of items [*lo, *hi): 1, or 0 when none is left. */
int mpl__team_take(mpl__team *t, size_t *lo, size_t *hi);

/* Record the item this worker is running (SIZE_MAX: none), so that its
** death can name the item. */
void mpl__team_running(mpl__team *t, size_t item);

/* Queue a frame to the caller; frames are batched and written when enough
** has piled up or some time has passed.  0 or MPL_ENOMEM / MPL_ESYS. */
int mpl__team_send(mpl__team *t, int kind, size_t item, const void *data,
                   size_t len);

/* Reserve bytes in the call's shared results region, with memory behind
** them (so an out-of-memory is MPL_ENOMEM here, never a SIGBUS); *p is
** where to write, *off what to send. */
int mpl__team_reserve(mpl__team *t, size_t bytes, size_t *off, void **p);

/* ---- in the caller ---- */

/* Wait up to timeout_ms for the next event.  Returns an MPL__TEAM_* kind
** (also in ev->kind), or MPL_EWORKER (a worker died or misbehaved),
** MPL_EINTR (mpl_interrupt) or MPL_ESYS, with mpl_errmsg set; the workers
** are stopped by then. */
int mpl__team_wait(mpl__team *t, mpl__team_event *ev, int timeout_ms);

/* Results received so far. */
size_t mpl__team_received(const mpl__team *t);

/* A rows x cols matrix over bytes a worker wrote at off in the results
** region (contiguous, row-major).  It keeps the region alive: it outlives
** the team, and releasing it returns its pages to the system. */
int mpl__team_result_mat(mpl__team *t, mpl_mat **out, size_t off, size_t rows,
                         size_t cols);

/* The workers' pids (running or not yet reaped); returns the count. */
int mpl__team_pids(const mpl__team *t, int *pids, int max);

/* Stop (SIGKILL) and reap the workers still running, close everything and
** free t.  NULL is accepted.  In a process other than the one that started
** the team (a forked copy) it only frees nothing and returns. */
void mpl__team_destroy(mpl__team *t);

#endif
