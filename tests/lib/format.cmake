# Fails when a C file of the project drifts from .clang-format: run as
#   cmake -DSRC=<source dir> -DCLANG_FORMAT=<path> -P format.cmake
# Every .c and .h under src/, include/, tests/ and examples/ is checked
# (the fuzz corpora hold no C).  `clang-format -i <file>` fixes a file.
if(NOT CLANG_FORMAT)
  message(FATAL_ERROR "clang-format not found: install the Debian package "
                      "clang-format (the formatting check needs it)")
endif()
file(GLOB_RECURSE files
  ${SRC}/src/*.c ${SRC}/src/*.h ${SRC}/include/*.h
  ${SRC}/tests/*.c ${SRC}/tests/*.h ${SRC}/examples/*.c ${SRC}/examples/*.h)
list(SORT files)
set(bad "")
foreach(f ${files})
  execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${f}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    file(RELATIVE_PATH rel ${SRC} ${f})
    string(APPEND bad "  ${rel}\n")
  endif()
endforeach()
list(LENGTH files n)
if(bad)
  message(FATAL_ERROR "not formatted as .clang-format says (fix with "
                      "clang-format -i):\n${bad}")
endif()
message(STATUS "${n} files formatted as .clang-format says")
