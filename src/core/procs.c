/*
** procs.c: the default worker count, shared by every thread of the host.
*/
#include <stdatomic.h>
#include <unistd.h>

#include "internal.h"

static atomic_int default_procs; /* 0 until first asked or set */

int mpl_procs(void) {
  int n = atomic_load(&default_procs);
  if (n <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cpus < 1 ? 1 : cpus > MPL_MAX_PROCS ? MPL_MAX_PROCS : (int)cpus;
    int zero = 0;
    atomic_compare_exchange_strong(&default_procs, &zero, want);
    n = atomic_load(&default_procs);
  }
  return n;
}

int mpl_set_procs(int n) {
  if (n < 1 || n > MPL_MAX_PROCS) {
    mpl__set_errmsg("the worker count must be from 1 to %d (got %d)",
                    MPL_MAX_PROCS, n);
    return MPL_EINVAL;
  }
  atomic_store(&default_procs, n);
  return 0;
}
