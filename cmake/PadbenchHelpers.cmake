# Warnings for project code only (never for third-party headers, which are SYSTEM).
function(padbench_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter)
endfunction()

# padbench_library(NAME sim SOURCES ... DEPS ...) -> target padbench_<NAME>, alias padbench::<NAME>.
function(padbench_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(padbench_${ARG_NAME} STATIC ${ARG_SOURCES})
  add_library(padbench::${ARG_NAME} ALIAS padbench_${ARG_NAME})
  target_include_directories(padbench_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(padbench_${ARG_NAME} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  padbench_warnings(padbench_${ARG_NAME})
endfunction()

# padbench_add_test(NAME sim_env SOURCES ... DEPS ... [LABELS slow] [RESOURCE_LOCK xvfb]) -> one Catch2 binary,
# tests discovered by ctest; tests sharing a RESOURCE_LOCK never run at the same time.
function(padbench_add_test)
  cmake_parse_arguments(ARG "" "NAME;RESOURCE_LOCK" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(test_${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(test_${ARG_NAME} PRIVATE ${ARG_DEPS} Catch2::Catch2WithMain)
  padbench_warnings(test_${ARG_NAME})
  set(props)
  if(ARG_LABELS OR ARG_RESOURCE_LOCK)
    set(props PROPERTIES)
  endif()
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  if(ARG_RESOURCE_LOCK)
    list(APPEND props RESOURCE_LOCK "${ARG_RESOURCE_LOCK}")
  endif()
  catch_discover_tests(test_${ARG_NAME} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                       TEST_PREFIX "${ARG_NAME}:" ${props})
endfunction()
