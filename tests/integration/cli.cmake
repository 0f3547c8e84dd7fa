# End-to-end tests of the couchestor binary's global behaviour.
add_test(NAME cli.global COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/cli/test_cli.py)
set_tests_properties(cli.global PROPERTIES ENVIRONMENT "${CS_TEST_ENV}" TIMEOUT 120)
