# prom.* integration tests: the Prometheus client against a real Prometheus
# scraping the Mayastor simulator, in a test world started once (CTest
# fixture prom_world) by tests/sandbox/sandbox and stopped afterwards.
set(cs_prom_world ${PROJECT_BINARY_DIR}/itest-prom-world)
add_executable(itest_prom ${PROJECT_SOURCE_DIR}/tests/integration/prom/itest_prom.c)
cs_link(itest_prom prom)
target_include_directories(itest_prom PRIVATE ${PROJECT_SOURCE_DIR}/tests/integration)
target_link_libraries(itest_prom PRIVATE PkgConfig::PC_criterion)

add_test(NAME prom.world_up
         COMMAND ${PROJECT_SOURCE_DIR}/tests/sandbox/sandbox up
                 ${PROJECT_SOURCE_DIR}/tests/integration/prom/scenario.json --dir ${cs_prom_world})
set_tests_properties(prom.world_up PROPERTIES FIXTURES_SETUP prom_world TIMEOUT 120)
add_test(NAME prom.world_down COMMAND ${PROJECT_SOURCE_DIR}/tests/sandbox/sandbox down --dir ${cs_prom_world})
set_tests_properties(prom.world_down PROPERTIES FIXTURES_CLEANUP prom_world TIMEOUT 60)

foreach(t batch:live/batch_* fallback:live/fallback_* load_change:live/a_load_change_* errors:live/prometheus_errors_*)
  string(REPLACE ":" ";" parts ${t})
  list(GET parts 0 name)
  list(GET parts 1 filter)
  add_test(NAME prom.${name} COMMAND itest_prom --filter ${filter} --short-filename)
  set_tests_properties(prom.${name} PROPERTIES FIXTURES_REQUIRED prom_world TIMEOUT 90
                       ENVIRONMENT "${CS_TEST_ENV};CS_WORLD_DIR=${cs_prom_world}" RESOURCE_LOCK prom_world_load)
endforeach()
# Stops Prometheus: runs after the others.
add_test(NAME prom.down COMMAND itest_prom --filter down/* --short-filename)
set_tests_properties(prom.down PROPERTIES FIXTURES_REQUIRED prom_world TIMEOUT 90
                     DEPENDS "prom.batch;prom.fallback;prom.load_change;prom.errors"
                     ENVIRONMENT "${CS_TEST_ENV};CS_WORLD_DIR=${cs_prom_world}")
