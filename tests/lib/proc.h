/*
** proc.h: what the C tests read from /proc about processes: the clock,
** whether a process still runs (and waiting for one to be gone), counts
** of descriptors, mappings, processes and arena pages, a host that reaps
** its children itself, and an event fired from a thread after a delay.
*/
#ifndef MPL_TEST_PROC_H
#define MPL_TEST_PROC_H

#include <dirent.h>
#include <errno.h>
#include <mpl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
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

/* Wait up to `seconds` for pid to be gone, reaping what comes to us. */
static inline int gone_within(pid_t pid, double seconds) {
  double t0 = now();
  while (now() - t0 < seconds) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (!alive(pid)) return 1;
    usleep(5000);
  }
  return 0;
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

/* Mappings the engine could leak: shared ones (the arena, control blocks,
** results) and file mappings.  Private anonymous mappings are left out:
** they are malloc's, and a sanitizer's heap grows them. */
static inline int count_maps(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512], perms[8], path[300];
  int n = 0;
  CHECK(f != NULL);
  while (fgets(line, sizeof line, f)) {
    path[0] = '\0';
    if (sscanf(line, "%*s %7s %*s %*s %*s %299s", perms, path) < 1) continue;
    n += perms[3] == 's' || path[0] == '/';
  }
  fclose(f);
  return n;
}

/* Allocated 512-byte blocks of this process's memfd named name (-1 when
** none is open): populated shared memory, e.g. of "mpl-arena". */
static inline long long memfd_blocks(const char *name) {
  DIR *d = opendir("/proc/self/fd");
  long long blocks = -1;
  char want[128];
  snprintf(want, sizeof want, "/memfd:%s (deleted)", name);
  CHECK(d != NULL);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[300], target[300];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = '\0';
    struct stat st;
    if (strcmp(target, want) == 0 && fstat(atoi(e->d_name), &st) == 0)
      blocks = (long long)st.st_blocks;
  }
  closedir(d);
  return blocks;
}

/* Processes below pid, zombies included, through the children lists of
** its threads. */
static inline int count_descendants(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  if (!d) return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char cpath[320];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pid,
             e->d_name);
    FILE *f = fopen(cpath, "r");
    if (!f) continue;
    int child;
    while (fscanf(f, "%d", &child) == 1) n += 1 + count_descendants(child);
    fclose(f);
  }
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

/* An event a thread fires `delay` seconds after do_later starts: signal
** sig to pid, or mpl_interrupt() when sig is 0; `at` is when it fired. */
typedef struct later {
  double delay;
  pid_t pid;
  int sig;
  double at;
} later;

static inline void *do_later(void *p) {
  later *l = p;
  usleep((useconds_t)(l->delay * 1e6));
  l->at = now();
  if (l->sig)
    kill(l->pid, l->sig);
  else
    mpl_interrupt();
  return NULL;
}

#endif
