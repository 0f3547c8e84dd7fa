# Benchmarks: bench/<name>.c is a program that prints its result beside a
# baseline measured in the same run. `make bench` builds Release and runs them.
file(GLOB cs_benches CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/bench/*.c)
foreach(src ${cs_benches})
  get_filename_component(stem ${src} NAME_WE)
  add_executable(bench_${stem} ${src})
  target_link_libraries(bench_${stem} PRIVATE couchestor_lib)
  target_include_directories(bench_${stem} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/bench)
endforeach()
