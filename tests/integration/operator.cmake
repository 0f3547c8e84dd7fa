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
  set(cs_op_suites demo guards prometheus faults failover sigkill defects plan selection pool_labels adopt)
endif()
# One CTest test per test method (operator.<suite>.<method without test_>; a suite of one method keeps the
# name operator.<suite>): they mostly wait (reconciles, rebuilds, scrapes, Leases), so `make check` runs
# many at once (label "waits", see cmake/Tests.cmake). The methods are listed by unittest's own loader at
# configure time; a suite that does not import is registered whole, and fails there.
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/cs_list_unittests.py [=[
import os
import sys
import unittest

sys.path.insert(0, os.getcwd())


def walk(s):
    for t in s:
        if isinstance(t, unittest.TestSuite):
            yield from walk(t)
        else:
            yield t.id()


print("\n".join(walk(unittest.defaultTestLoader.loadTestsFromName(sys.argv[1]))))
]=])
foreach(suite ${cs_op_suites})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${cs_op_dir}/test_${suite}.py)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONDONTWRITEBYTECODE=1
                          python3 -W ignore ${CMAKE_CURRENT_BINARY_DIR}/cs_list_unittests.py test_${suite}
                  WORKING_DIRECTORY ${cs_op_dir} OUTPUT_VARIABLE cs_op_out RESULT_VARIABLE cs_op_rc ERROR_QUIET)
  string(REGEX MATCHALL "[^\n]+" cs_op_ids "${cs_op_out}")
  list(LENGTH cs_op_ids cs_op_n)
  if(NOT cs_op_rc EQUAL 0 OR cs_op_n EQUAL 0 OR cs_op_out MATCHES "unittest\\.loader\\.")
    set(cs_op_ids test_${suite})
    set(cs_op_n 1)
  endif()
  foreach(id ${cs_op_ids})
    if(cs_op_n EQUAL 1)
      set(name operator.${suite})
    else()
      string(REGEX REPLACE "^.*\\.test_" "" name "${id}")
      set(name operator.${suite}.${name})
      if(TEST ${name})   # the same method name in two classes: add the class
        string(REGEX REPLACE "^test_${suite}\\.([^.]+)\\.test_(.*)$" "operator.${suite}.\\1.\\2" name "${id}")
      endif()
    endif()
    add_test(NAME ${name}
             COMMAND python3 -W ignore::ResourceWarning -m unittest -v ${id}
             WORKING_DIRECTORY ${cs_op_dir})
    set_tests_properties(${name} PROPERTIES
      ENVIRONMENT "${CS_TEST_ENV};PYTHONDONTWRITEBYTECODE=1;PYTHONUNBUFFERED=1"
      TIMEOUT 420
      LABELS "operator;waits")
  endforeach()
endforeach()
