# Unit tests: tests/unit/<module>/<name>.c is a Criterion program, registered
# with CTest as "<module>.<name>" and linked with <module> and its dependencies.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PC_criterion REQUIRED IMPORTED_TARGET criterion)

set(CS_TEST_ENV
  "CS_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
  "CS_BUILD_DIR=${PROJECT_BINARY_DIR}"
  "CS_BINARY=$<TARGET_FILE:couchestor>"
  "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0"
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

file(GLOB cs_unit_dirs LIST_DIRECTORIES true ${PROJECT_SOURCE_DIR}/tests/unit/*)
foreach(dir ${cs_unit_dirs})
  if(NOT IS_DIRECTORY ${dir})
    continue()
  endif()
  get_filename_component(module ${dir} NAME)
  # Extra modules a test directory needs besides its own (e.g. an HTTP
  # client to probe a server), one per line in tests/unit/<module>/DEPS.
  set(extra_deps "")
  if(EXISTS ${dir}/DEPS)
    file(STRINGS ${dir}/DEPS extra_deps)
  endif()
  file(GLOB tests CONFIGURE_DEPENDS ${dir}/*.c)
  foreach(src ${tests})
    get_filename_component(stem ${src} NAME_WE)
    set(exe test_${module}_${stem})
    add_executable(${exe} ${src})
    cs_link(${exe} ${module} ${extra_deps})
    target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
    target_link_libraries(${exe} PRIVATE PkgConfig::PC_criterion)
    add_test(NAME ${module}.${stem} COMMAND ${exe} --jobs 2 --short-filename)
    set_tests_properties(${module}.${stem} PROPERTIES ENVIRONMENT "${CS_TEST_ENV}" TIMEOUT 300)
    # Stress tests (file name contains "stress") also run in the
    # ThreadSanitizer pass of `make check`. Criterion itself cannot start
    # under TSan (Snaipe/Criterion#274), so such a file must provide a plain
    # main() when built with -fsanitize=thread (see tests/unit/cache/stress.c).
    if(stem MATCHES "stress")
      set_tests_properties(${module}.${stem} PROPERTIES LABELS tsan)
    endif()
  endforeach()
endforeach()

# Other test areas register themselves: tests/<area>/tests.cmake.
file(GLOB cs_test_areas ${PROJECT_SOURCE_DIR}/tests/*/tests.cmake ${PROJECT_SOURCE_DIR}/tests/integration/*.cmake)
foreach(area ${cs_test_areas})
  include(${area})
endforeach()

# How `make check` shares the cores (scripts/check.sh runs ctest with a resource spec file: "cpus", one
# slot per core, and "worlds"): every test takes one of the cpus, except those labelled "waits" (a test
# world, an operator and polls: mostly idle, a few percent of a core), which take one of the worlds
# instead, so that several of them wait side by side while the CPU-bound tests keep the cores. A test
# that sets RESOURCE_GROUPS itself keeps them. A plain `ctest -jN` (no resource spec file) ignores all this.
function(cs_test_resources)
  get_property(tests DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY TESTS)
  foreach(t ${tests})
    get_test_property(${t} RESOURCE_GROUPS groups)
    if(groups)
      continue()
    endif()
    get_test_property(${t} LABELS labels)
    if("waits" IN_LIST labels)
      set_tests_properties(${t} PROPERTIES RESOURCE_GROUPS "worlds:1")
    else()
      set_tests_properties(${t} PROPERTIES RESOURCE_GROUPS "cpus:1")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER CALL cs_test_resources)
