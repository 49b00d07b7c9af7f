/*
** ctest.h: the small harness of the C tests.  Each test runs in its own
** forked process under an alarm, so a crash or a hang fails that test and
** the rest still run; the last line is the "N passed, N failed" summary.
*/
#ifndef MPL_CTEST_H
#define MPL_CTEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);    \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if (a_ != b_) {                                                            \
      fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__,          \
              __LINE__, #a, a_, b_);                                           \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

typedef struct ctest {
  const char *name;
  void (*fn)(void);
} ctest;

/* Whether to run test `name`: the arguments name the tests to run, or,
** written "-name", tests to skip (under valgrind: cases that need a large
** arena or too much computing); no names runs them all. */
static inline int ctest_selected(const char *name, int argc, char **argv) {
  int only = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') {
      if (strcmp(argv[i] + 1, name) == 0) return 0;
    } else {
      only = 1;
      if (strcmp(argv[i], name) == 0) return 1;
    }
  }
  return !only;
}

/* Run the selected tests, each in a child with `seconds` to finish. */
static inline int ctest_main(const ctest *tests, size_t n, int argc,
                             char **argv, unsigned seconds) {
  int passed = 0, failed = 0;
  for (size_t i = 0; i < n; i++) {
    if (!ctest_selected(tests[i].name, argc, argv)) continue;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      alarm(seconds);
      tests[i].fn();
      exit(0);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0) {
    }
    int ok = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok)
      passed++;
    else
      failed++;
    printf("%s %zu - %s", ok ? "ok" : "not ok", i + 1, tests[i].name);
    if (pid > 0 && WIFSIGNALED(status))
      printf(" (killed by signal %d%s)", WTERMSIG(status),
             WTERMSIG(status) == SIGALRM ? ": timed out" : "");
    printf("\n");
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

#define CTEST_MAIN(tests, seconds)                                             \
  int main(int argc, char **argv) {                                            \
    return ctest_main(tests, sizeof tests / sizeof tests[0], argc, argv,       \
                      seconds);                                                \
  }

#endif
