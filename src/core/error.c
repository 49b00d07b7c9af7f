/*
** error.c: error codes, the detail of the last failure, and the version;
** the one place MPL_E* codes get words.
*/
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

const char *mpl_strerror(int code) {
  switch (code) {
  case 0:
    return "success";
#define MPL_ERRNO_CASE(name, num, msg)                                         \
  case MPL_##name:                                                             \
    return msg;
    MPL_ERRNO_MAP(MPL_ERRNO_CASE)
#undef MPL_ERRNO_CASE
  default:
    return "unknown error";
  }
}

/* Per thread, so two host threads never read each other's details. */
static _Thread_local char errmsg[256];

void mpl__set_errmsg(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errmsg, sizeof errmsg, fmt, ap);
  va_end(ap);
}

const char *mpl_errmsg(void) { return errmsg; }

const char *mpl_version(void) { return MPL_VERSION; }
