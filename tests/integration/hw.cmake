# Integration tests of `couchestor discover` (tests/integration/hw/).
foreach(case real_machine table diskpools json usage no_pool)
  add_test(NAME hw.cli_${case}
           COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/hw/cli_discover.py ${case})
  set_tests_properties(hw.cli_${case} PROPERTIES ENVIRONMENT "${CS_TEST_ENV}" TIMEOUT 300)
endforeach()
