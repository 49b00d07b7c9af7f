/*
** os.c: the small operating-system helpers the pool, the teams and the
** map binding share (a monotonic clock, a bounded futex wait), defined
** once here.
*/
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

long mpl__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

long mpl__futex_wait_ms(_Atomic uint32_t *addr, uint32_t val, long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  return syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, val, &ts, NULL, 0);
}
