/*
** procs.c: the default worker count, shared by every thread of the host.
*/
#include <stdatomic.h>
#include <unistd.h>

#include "mpl.h"

static atomic_int default_procs; /* 0 until first asked or set */

int mpl_procs(void) {
  int n = atomic_load(&default_procs);
  if (n <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cpus > 0 ? (int)cpus : 1, zero = 0;
    atomic_compare_exchange_strong(&default_procs, &zero, want);
    n = atomic_load(&default_procs);
  }
  return n;
}

int mpl_set_procs(int n) {
  if (n < 1) return MPL_EINVAL;
  atomic_store(&default_procs, n);
  return 0;
}
