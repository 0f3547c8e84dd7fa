# Fuzz targets: tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput.
# Every build makes a replay program that feeds tests/fuzz/corpus/<name>/* to
# it (CTest "fuzz.<name>"), so the corpora run under ASan+UBSan in `make check`.
# With CS_FUZZ (clang) it also builds the libFuzzer program fuzz_<name>.
file(GLOB cs_fuzzers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(src ${cs_fuzzers})
  get_filename_component(stem ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${stem})
  if(CS_TESTS)
    add_executable(${stem}_replay ${src} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
    target_link_libraries(${stem}_replay PRIVATE couchestor_lib)
    target_include_directories(${stem}_replay PRIVATE ${PROJECT_SOURCE_DIR}/src)
    add_test(NAME fuzz.${name}
             COMMAND ${stem}_replay ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
    set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 300 ENVIRONMENT "${CS_TEST_ENV}")
  endif()
  if(CS_FUZZ)
    add_executable(${stem} ${src})
    target_compile_options(${stem} PRIVATE -fsanitize=fuzzer)
    target_link_options(${stem} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${stem} PRIVATE couchestor_lib)
    target_include_directories(${stem} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  endif()
endforeach()
