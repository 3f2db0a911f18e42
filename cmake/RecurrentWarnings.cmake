# recurrent_target_warnings(<target>)
#
# Adds recurrent's warning set to one of *our own* compiled targets (tests, examples, benchmarks).
# Never call it on the INTERFACE library targets: consumers would inherit the flags. Turning the
# warnings into errors is left to CMAKE_COMPILE_WARNING_AS_ERROR (set by the presets), so that a
# user building our tests with a newer compiler is not stopped by a new warning.
include_guard(GLOBAL)

function(recurrent_target_warnings tgt)
  if(NOT TARGET ${tgt})
    message(FATAL_ERROR "recurrent_target_warnings: '${tgt}' is not a target")
  endif()
  get_target_property(_type ${tgt} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    message(FATAL_ERROR "recurrent_target_warnings: '${tgt}' is an INTERFACE target; warning "
                        "flags there would leak to every consumer")
  endif()
  if(CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang)$")
    target_compile_options(
      ${tgt}
      PRIVATE -Wall
              -Wextra
              -Wpedantic
              -Wconversion
              -Wsign-conversion
              -Wshadow
              -Wold-style-cast
              -Wnon-virtual-dtor
              -Woverloaded-virtual)
  elseif(MSVC)
    target_compile_options(${tgt} PRIVATE /W4 /permissive-)
  endif()
endfunction()
