# operator.* integration tests (issue 9): `couchestor operator` against the test world
# (tests/sandbox/sandbox: Kubernetes API stand-in, Mayastor simulator, real Prometheus).
# Python 3 stdlib unittest suites in tests/integration/operator/, helpers in opworld.py.
# Each suite starts and stops its own worlds and operators.
#   CS_SIGKILL_KILLS (default 20) and CS_SIGKILL_SEED tune operator.sigkill (`make soak`).
set(cs_op_dir ${PROJECT_SOURCE_DIR}/tests/integration/operator)
# The ASan pass runs the SIGKILL invariant and the original's defects against
# the sanitized binary; the slow, clock-bound suites run once, in the normal
# build, so that `make check` stays well under CI's time.
if(CS_SANITIZE)
  set(cs_op_suites sigkill defects plan)
else()
  set(cs_op_suites demo guards prometheus faults failover sigkill defects plan selection pool_labels)
endif()
foreach(suite ${cs_op_suites})
  add_test(NAME operator.${suite}
           COMMAND python3 -W ignore::ResourceWarning -m unittest -v test_${suite}
           WORKING_DIRECTORY ${cs_op_dir})
  set_tests_properties(operator.${suite} PROPERTIES
    ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1"
    TIMEOUT 420
    LABELS "operator")
endforeach()
