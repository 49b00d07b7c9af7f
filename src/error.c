/*
** error.c: error codes and version; the one place MPL_E* codes get words.
*/
#include "mpl.h"

const char *mpl_strerror(int code) {
  switch (code) {
    case 0: return "success";
#define MPL_ERRNO_CASE(name, num, msg) case MPL_##name: return msg;
    MPL_ERRNO_MAP(MPL_ERRNO_CASE)
#undef MPL_ERRNO_CASE
    default: return "unknown error";
  }
}

const char *mpl_version(void) { return MPL_VERSION; }
