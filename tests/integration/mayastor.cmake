# mayastor.* integration tests: the Mayastor REST client against the
# Mayastor simulator and the Kubernetes API stand-in (no Prometheus), in a
# test world started once (CTest fixture mayastor_world).
set(cs_ms_world ${PROJECT_BINARY_DIR}/itest-mayastor-world)
add_executable(itest_mayastor ${PROJECT_SOURCE_DIR}/tests/integration/mayastor/itest_mayastor.c)
cs_link(itest_mayastor mayastor)
target_include_directories(itest_mayastor PRIVATE ${PROJECT_SOURCE_DIR}/tests/integration)
target_link_libraries(itest_mayastor PRIVATE PkgConfig::PC_criterion)

add_test(NAME mayastor.world_up
         COMMAND ${PROJECT_SOURCE_DIR}/tests/sandbox/sandbox up
                 ${PROJECT_SOURCE_DIR}/tests/integration/mayastor/scenario.json --dir ${cs_ms_world} --no-prometheus)
set_tests_properties(mayastor.world_up PROPERTIES FIXTURES_SETUP mayastor_world TIMEOUT 120)
add_test(NAME mayastor.world_down COMMAND ${PROJECT_SOURCE_DIR}/tests/sandbox/sandbox down --dir ${cs_ms_world})
set_tests_properties(mayastor.world_down PROPERTIES FIXTURES_CLEANUP mayastor_world TIMEOUT 60)

# One CTest test per scenario; each works on its own volume or pool.
add_test(NAME mayastor.live COMMAND itest_mayastor --short-filename --jobs 2)
set_tests_properties(mayastor.live PROPERTIES FIXTURES_REQUIRED mayastor_world TIMEOUT 120
                     ENVIRONMENT "${CS_TEST_ENV};CS_WORLD_DIR=${cs_ms_world}")
