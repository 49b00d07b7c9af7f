/*
** replay.c: a main() for the fuzz harnesses without libFuzzer: runs
** LLVMFuzzerTestOneInput once on every file named on the command line (a
** directory means every file in it), so ctest can replay the seed corpus
** and the hostile files under the sanitizer build.  Prints one line per
** file and "N passed, 0 failed"; a contract violation aborts.
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  size_t k;
  while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (!buf) return 1;
  /* an exact-size copy, so ASan sees a read past the end */
  uint8_t *exact = malloc(n ? n : 1);
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  printf("ok - %s (%zu bytes)\n", path, n);
  return 0;
}

int main(int argc, char **argv) {
  int files = 0, bad = 0;
  LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      bad += run_file(argv[i]);
      files++;
      continue;
    }
    struct dirent **list;
    int n = scandir(argv[i], &list, NULL, alphasort);
    for (int j = 0; j < n; j++) {
      if (list[j]->d_name[0] != '.') {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[i], list[j]->d_name);
        bad += run_file(path);
        files++;
      }
      free(list[j]);
    }
    free(list);
  }
  printf("%d passed, %d failed\n", files - bad, bad);
  return bad || files == 0;
}
