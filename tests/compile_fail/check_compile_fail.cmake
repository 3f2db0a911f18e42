# Runs one "ko" compile-fail check (cmake -P): building TARGET in BUILD_DIR must fail, and the
# output must match the regex given on the first line of SOURCE as `// expect: <regex>`.
cmake_minimum_required(VERSION 3.21)

set(_expect "")
file(STRINGS "${SOURCE}" _first_line LIMIT_COUNT 1)
if(_first_line MATCHES "^// *expect: *(.+)$")
  set(_expect "${CMAKE_MATCH_1}")
  string(STRIP "${_expect}" _expect)
endif()

set(_config_args "")
if(CONFIG)
  set(_config_args --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
                        ${_config_args}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)

if(_rc EQUAL 0)
  message(FATAL_ERROR "${TARGET}: compiled with RECURRENT_SHOULD_FAIL, but it must not:\n${_out}")
endif()
if(_expect STREQUAL "")
  message(WARNING "${SOURCE} has no first line '// expect: <regex>'; only the failure is checked")
elseif(NOT _out MATCHES "${_expect}")
  message(FATAL_ERROR "${TARGET}: failed to compile as it should, but the output does not match "
                      "'${_expect}' (wrong reason?):\n${_out}")
endif()
message(STATUS "${TARGET}: fails to compile as expected ('${_expect}')")
