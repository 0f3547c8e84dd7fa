# End-to-end tests of the couchestor binary's global behaviour.
add_test(NAME cli.global COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/integration/cli/test_cli.py)
set_tests_properties(cli.global PROPERTIES ENVIRONMENT "${CS_TEST_ENV}" TIMEOUT 120)
# `couchestor doctor` against one test world, broken one check at a time (issue 14 part 11).
add_test(NAME cli.doctor
         COMMAND python3 -W ignore::ResourceWarning -m unittest -v test_doctor
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/integration/cli)
set_tests_properties(cli.doctor PROPERTIES
  ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1" TIMEOUT 180)
# `kubectl couchestor`: the binary run as the kubectl plugin kubectl-couchestor against one test world (issue 19
# part 3).
add_test(NAME cli.plugin
         COMMAND python3 -W ignore::ResourceWarning -m unittest -v test_plugin
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/integration/cli)
set_tests_properties(cli.plugin PROPERTIES
  ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1" TIMEOUT 180)
