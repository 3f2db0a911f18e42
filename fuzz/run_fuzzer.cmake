# Runs one libFuzzer target for a bounded time (the fuzz.<target>.run tests; cmake -P).
#
#   -DFUZZER=<binary> -DSEEDS=<committed corpus dir> -DWORK_DIR=<dir in the build tree>
#   -DSECONDS=<n> -DMAX_LEN=<bytes> [-DDICT=<file>] [-DRSS_LIMIT_MB=2048] [-DTIMEOUT=10]
#
# New inputs go to WORK_DIR/corpus (libFuzzer writes into the first corpus directory, so the
# committed seeds, given second, are only read), crashes to WORK_DIR/artifacts, the log to
# WORK_DIR/fuzz.log. Nothing is written into the source tree. On a crash the test fails and prints
# the end of the log and the reproducer: copy it to fuzz/regressions/<target>/ to make it a
# regression test.
cmake_minimum_required(VERSION 3.21)

foreach(_var FUZZER SEEDS WORK_DIR SECONDS MAX_LEN)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${_var} not set")
  endif()
endforeach()
if(NOT DEFINED RSS_LIMIT_MB)
  set(RSS_LIMIT_MB 2048)
endif()
if(NOT DEFINED TIMEOUT)
  set(TIMEOUT 10)
endif()

file(MAKE_DIRECTORY "${WORK_DIR}/corpus" "${WORK_DIR}/artifacts")
set(_log "${WORK_DIR}/fuzz.log")
set(_args -max_total_time=${SECONDS} -timeout=${TIMEOUT} -rss_limit_mb=${RSS_LIMIT_MB}
          -max_len=${MAX_LEN} -print_final_stats=1 "-artifact_prefix=${WORK_DIR}/artifacts/")
if(DEFINED DICT AND NOT DICT STREQUAL "")
  list(APPEND _args "-dict=${DICT}")
endif()

execute_process(COMMAND "${FUZZER}" ${_args} "${WORK_DIR}/corpus" "${SEEDS}"
                RESULT_VARIABLE _rc OUTPUT_FILE "${_log}" ERROR_FILE "${_log}")

# The statistics: the status lines "#<n> INITED/DONE cov: ... exec/s: ..." and the final stats.
# (Read as a string: log lines hold '[' and ';', which CMake lists do not survive.)
file(READ "${_log}" _text)
string(REGEX MATCHALL "#[0-9]+[ \t]+(INITED|DONE)[^\n]*|stat::[^\n]*|Done [0-9]+ runs[^\n]*"
       _summary "${_text}")
string(REPLACE ";" "\n" _summary "${_summary}")
file(GLOB _corpus "${WORK_DIR}/corpus/*")
list(LENGTH _corpus _corpus_n)

if(NOT _rc EQUAL 0)
  string(LENGTH "${_text}" _len)
  set(_from 0)
  if(_len GREATER 12000)
    math(EXPR _from "${_len} - 12000")
  endif()
  string(SUBSTRING "${_text}" ${_from} -1 _tail)
  file(GLOB _artifacts "${WORK_DIR}/artifacts/*")
  message("---- end of ${_log} ----\n${_tail}\n----")
  message(FATAL_ERROR "fuzzer exited with ${_rc}. Reproducer: ${_artifacts} (copy it to "
                      "fuzz/regressions/<target>/, it then runs as fuzz.<target>.regressions)")
endif()
message("fuzzed ${SECONDS} s, ${_corpus_n} inputs in ${WORK_DIR}/corpus\n${_summary}")
