/*
** proc.h: what the C tests read from /proc about processes: the clock,
** whether a process still runs, counts of descriptors and processes, and
** a host that reaps its children itself.
*/
#ifndef MPL_TEST_PROC_H
#define MPL_TEST_PROC_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
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

/* Processes (threads: 0) or threads (threads: 1, what RLIMIT_NPROC
** counts) whose real uid is uid. */
static inline int count_user_tasks(uid_t uid, int threads) {
  DIR *d = opendir("/proc");
  int n = 0;
  CHECK(d != NULL);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    int mine = 0, count = 1;
    unsigned u;
    while (fgets(line, sizeof line, f)) {
      if (sscanf(line, "Uid: %u", &u) == 1) mine = u == uid;
      if (threads) sscanf(line, "Threads: %d", &count);
    }
    fclose(f);
    if (mine) n += count;
  }
  closedir(d);
  return n;
}

static inline int count_user_procs(uid_t uid) {
  return count_user_tasks(uid, 0);
}

static inline void reap_all_children(int sig) {
  (void)sig;
  int e = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = e;
}

/* Behave like a host whose SIGCHLD handler reaps every child it has. */
static inline void reap_children_on_sigchld(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = reap_all_children;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
}

#endif
