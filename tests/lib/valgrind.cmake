# Runs one C test binary under valgrind's memcheck and fails on anything it
# reports, in any process of the family (cmake -P, see tests/CMakeLists.txt).
#   -DVALGRIND=... -DSUPP=tests/lib/valgrind.supp -DLOGDIR=dir -DEXE=test_x
#   -DARGS=-case,-case   (optional: the harness's "-name" skips a case)
#
# Every process (the harness, each forked case, the pool's forkserver and
# workers, a case's own children) is checked, since fork keeps a process
# under valgrind; each writes its own log.  The test binary's exit status
# covers the processes whose status someone checks (--error-exitcode makes
# any error or leak fail the case that owns it), but the forkserver and its
# workers end unobserved (the workers by SIGKILL, with no summary at all),
# so every log is also searched: --error-markers brackets each reported
# error, leak records included, and a single marker fails the test.
#
# Flags: --leak-check=full with --show-leak-kinds and
# --errors-for-leak-kinds both definite,indirect,possible, so every kind of
# leak is printed and counts as an error; "still reachable" (memory a
# library keeps for its lifetime: libgfortran's units, OpenBLAS's buffers)
# is neither.  No --track-origins (it doubles the run time): add it by
# hand to locate an uninitialised value.  No --trace-children: nothing
# here execs.
cmake_minimum_required(VERSION 3.18)

string(REPLACE "," ";" ARGS "${ARGS}")
file(REMOVE_RECURSE "${LOGDIR}")
file(MAKE_DIRECTORY "${LOGDIR}")
execute_process(
  COMMAND "${VALGRIND}" --tool=memcheck --leak-check=full
          --show-leak-kinds=definite,indirect,possible
          --errors-for-leak-kinds=definite,indirect,possible
          --error-exitcode=99
          --error-markers=VALGRIND-ERROR-BEGIN,VALGRIND-ERROR-END
          --suppressions=${SUPP} --log-file=${LOGDIR}/%p.log
          "${EXE}" ${ARGS}
  RESULT_VARIABLE rc)

file(GLOB logs "${LOGDIR}/*.log")
list(LENGTH logs nlogs)
set(bad 0)
foreach(log ${logs})
  file(STRINGS "${log}" marks REGEX "VALGRIND-ERROR-BEGIN")
  if(marks)
    file(READ "${log}" text)
    message("---- ${log}\n${text}")
    math(EXPR bad "${bad} + 1")
  endif()
endforeach()
message("valgrind: ${nlogs} processes checked, ${bad} with errors; exit status ${rc}")
if(NOT rc EQUAL 0 OR bad GREATER 0 OR nlogs EQUAL 0)
  message(FATAL_ERROR "valgrind found errors (logs in ${LOGDIR})")
endif()
