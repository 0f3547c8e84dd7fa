# Integration tests of `couchestor ec` (run the binary; see tests/integration/ec/).
find_package(Python3 COMPONENTS Interpreter QUIET)
add_test(NAME ec.cli_roundtrip COMMAND bash ${PROJECT_SOURCE_DIR}/tests/integration/ec/cli.sh)
set_tests_properties(ec.cli_roundtrip PROPERTIES ENVIRONMENT "${CS_TEST_ENV}" TIMEOUT 120)
if(Python3_Interpreter_FOUND)
  add_test(NAME ec.cli_crash_encode
           COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/integration/ec/crash_encode.py)
  set_tests_properties(ec.cli_crash_encode PROPERTIES ENVIRONMENT "${CS_TEST_ENV}" TIMEOUT 300)
  add_test(NAME ec.cli_crash_delete
           COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/integration/ec/crash_delete.py)
  set_tests_properties(ec.cli_crash_delete PROPERTIES ENVIRONMENT "${CS_TEST_ENV}" TIMEOUT 300)
endif()
