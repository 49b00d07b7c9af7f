/*
** proc.h: what the C tests read from /proc about processes: the clock,
** whether a process still runs, and counts of descriptors and processes.
*/
#ifndef MPL_TEST_PROC_H
#define MPL_TEST_PROC_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctest.h"

static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Running: it exists and is not a zombie (an orphan's zombie lingers
** until init reaps it, which a container's init may never do). */
static inline int alive(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int running = fgets(buf, sizeof buf, f) && strrchr(buf, ')') &&
                strrchr(buf, ')')[2] != 'Z';
  fclose(f);
  return running;
}

/* Entries of a directory such as /proc/self/fd. */
static inline int count_dir(const char *path) {
  DIR *d = opendir(path);
  int n = 0;
  CHECK(d != NULL);
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* Processes whose real uid is uid. */
static inline int count_user_procs(uid_t uid) {
  DIR *d = opendir("/proc");
  int n = 0;
  CHECK(d != NULL);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    while (fgets(line, sizeof line, f)) {
      unsigned u;
      if (sscanf(line, "Uid: %u", &u) == 1) {
        n += u == uid;
        break;
      }
    }
    fclose(f);
  }
  closedir(d);
  return n;
}

#endif
