#include <unistd.h>
#include "mpl.h"
static int default_procs;
int mpl_procs(void) {
  if (default_procs <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    default_procs = n > 0 ? (int)n : 1;
  }
  return default_procs;
}
int mpl_set_procs(int n) {
  if (n < 1) return MPL_EINVAL;
  default_procs = n;
  return 0;
}
