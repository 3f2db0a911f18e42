# Driver of the consumer.* CTest tests (cmake -P). Not part of the consumer project itself.
#
# STEP=install     install RECURRENT_BINARY_DIR into a fresh PREFIX (BUILD_TYPE for multi-config);
#                  INSTALLED_TOOL (a path relative to PREFIX, e.g. bin/recurrent-predict) must
#                  then exist too, when given
# STEP=consumer    configure CONSUMER_SOURCE_DIR in a fresh BINARY_DIR with MODE
#                  (find_package | add_subdirectory | fetchcontent), build it, run it, and check
#                  that it prints EXPECTED_VERSION. For find_package: PREFIX (an install prefix)
#                  or PACKAGE_DIR (a directory holding recurrent-config.cmake, e.g. the build tree);
#                  WITH_JSON=ON also asks for the json component (WITH_TOOL=ON: and checks the
#                  imported executable recurrent::predict). VERSION_ONLY=ON builds the
#                  consumer without its layer run (RECURRENT_CONSUMER_VERSION_ONLY).
# STEP=pkg_config  query PKG_CONFIG for recurrent in PREFIX, then compile and run the consumer's
#                  main.cpp with only the flags pkg-config gives (VERSION_ONLY=ON as above).
cmake_minimum_required(VERSION 3.21)

function(run_checked what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "consumer test: ${what} failed (${_rc}):\n${_out}")
  endif()
  set(run_output "${_out}" PARENT_SCOPE)
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  set(_config_args "")
  if(BUILD_TYPE)
    set(_config_args --config "${BUILD_TYPE}")
  endif()
  run_checked("install" "${CMAKE_COMMAND}" --install "${RECURRENT_BINARY_DIR}" --prefix "${PREFIX}"
              ${_config_args})
  foreach(_f include/recurrent/version.hpp share/cmake/recurrent/recurrent-config.cmake
             share/cmake/recurrent/recurrent-config-version.cmake
             share/cmake/recurrent/recurrent-targets.cmake share/pkgconfig/recurrent.pc
             share/doc/recurrent/LICENSE ${INSTALLED_TOOL})
    if(NOT EXISTS "${PREFIX}/${_f}")
      message(FATAL_ERROR "consumer test: install did not produce ${_f}:\n${run_output}")
    endif()
  endforeach()
  message(STATUS "installed to ${PREFIX}")
  return()
endif()

file(REMOVE_RECURSE "${BINARY_DIR}")
file(MAKE_DIRECTORY "${BINARY_DIR}")

if(STEP STREQUAL "pkg_config")
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")
  run_checked("pkg-config --modversion" "${PKG_CONFIG}" --modversion recurrent)
  string(STRIP "${run_output}" _version)
  if(NOT _version STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "pkg-config reports version '${_version}', expected '${EXPECTED_VERSION}'")
  endif()
  run_checked("pkg-config --variable=includedir" "${PKG_CONFIG}" --variable=includedir recurrent)
  string(STRIP "${run_output}" _includedir)
  if(NOT EXISTS "${_includedir}/recurrent/version.hpp")
    message(FATAL_ERROR "pkg-config includedir '${_includedir}' has no recurrent/version.hpp")
  endif()
  run_checked("pkg-config --cflags" "${PKG_CONFIG}" --cflags recurrent)
  string(STRIP "${run_output}" _cflags)
  separate_arguments(_cflags UNIX_COMMAND "${_cflags}")
  set(_std 17)
  if(CXX_STANDARD)
    set(_std ${CXX_STANDARD})
  endif()
  set(_defs "-DRECURRENT_EXPECTED_VERSION=\"${EXPECTED_VERSION}\"")
  if(VERSION_ONLY)
    list(APPEND _defs -DRECURRENT_CONSUMER_VERSION_ONLY=1)
  endif()
  run_checked("compiling main.cpp with the pkg-config flags" "${CXX_COMPILER}" -std=c++${_std}
              ${_cflags} ${_defs}
              "${CONSUMER_SOURCE_DIR}/main.cpp" -o "${BINARY_DIR}/recurrent_consumer")
  run_checked("running the consumer" "${BINARY_DIR}/recurrent_consumer")
  message(STATUS "pkg-config: version ${_version}, cflags ${_cflags}\n${run_output}")
  return()
endif()

if(NOT STEP STREQUAL "consumer")
  message(FATAL_ERROR "run_consumer.cmake: unknown STEP '${STEP}'")
endif()

set(_args -S "${CONSUMER_SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
          "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DRECURRENT_CONSUMER_MODE=${MODE}"
          "-DRECURRENT_EXPECTED_VERSION=${EXPECTED_VERSION}"
          # Never pick up a copy registered elsewhere on this machine.
          -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(BUILD_TYPE)
  list(APPEND _args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
if(CXX_STANDARD)
  list(APPEND _args "-DCMAKE_CXX_STANDARD=${CXX_STANDARD}")
endif()
if(WARNING_AS_ERROR)
  list(APPEND _args "-DCMAKE_COMPILE_WARNING_AS_ERROR=${WARNING_AS_ERROR}")
endif()
if(WITH_JSON)
  list(APPEND _args "-DRECURRENT_CONSUMER_JSON=ON")
endif()
if(WITH_TOOL)
  list(APPEND _args "-DRECURRENT_CONSUMER_TOOL=ON")
endif()
if(VERSION_ONLY)
  list(APPEND _args "-DRECURRENT_CONSUMER_VERSION_ONLY=ON")
endif()
if(MODE STREQUAL "find_package")
  if(PACKAGE_DIR)
    list(APPEND _args "-Drecurrent_DIR=${PACKAGE_DIR}")
    set(_expected_dir "${PACKAGE_DIR}")
  else()
    list(APPEND _args "-DCMAKE_PREFIX_PATH=${PREFIX}")
    set(_expected_dir "${PREFIX}/share/cmake/recurrent")
  endif()
else()
  list(APPEND _args "-DRECURRENT_SOURCE_DIR=${RECURRENT_SOURCE_DIR}")
endif()

run_checked("configure (${MODE})" "${CMAKE_COMMAND}" ${_args})
set(_configure_output "${run_output}")

if(MODE STREQUAL "find_package")
  # Make sure the package came from where we meant it to come from.
  file(STRINGS "${BINARY_DIR}/CMakeCache.txt" _dir_line REGEX "^recurrent_DIR:")
  string(REGEX REPLACE "^recurrent_DIR:[A-Z]+=" "" _found_dir "${_dir_line}")
  get_filename_component(_found_dir "${_found_dir}" REALPATH)
  get_filename_component(_expected_dir "${_expected_dir}" REALPATH)
  if(NOT _found_dir STREQUAL _expected_dir)
    message(FATAL_ERROR "consumer found recurrent in '${_found_dir}', expected '${_expected_dir}'")
  endif()
endif()

set(_build_args --build "${BINARY_DIR}")
if(BUILD_TYPE)
  list(APPEND _build_args --config "${BUILD_TYPE}")
endif()
run_checked("build (${MODE})" "${CMAKE_COMMAND}" ${_build_args})
run_checked("run (${MODE})" "${BINARY_DIR}/bin/recurrent_consumer")
if(NOT run_output MATCHES "recurrent ${EXPECTED_VERSION}")
  message(FATAL_ERROR "consumer output does not mention 'recurrent ${EXPECTED_VERSION}':\n"
                      "${run_output}")
endif()
message(STATUS "consumer (${MODE}) OK:\n${run_output}")
