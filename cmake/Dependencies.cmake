# External libraries, each wrapped in an INTERFACE target cs_ext_<name>.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

function(cs_pkg name module)
  pkg_check_modules(PC_${name} REQUIRED IMPORTED_TARGET ${module})
  add_library(cs_ext_${name} INTERFACE)
  target_link_libraries(cs_ext_${name} INTERFACE PkgConfig::PC_${name})
endfunction()

cs_pkg(jansson jansson)
cs_pkg(yaml yaml-0.1)
cs_pkg(isal libisal)
cs_pkg(lz4 liblz4)
cs_pkg(curl libcurl)
cs_pkg(yajl yajl)
cs_pkg(mhd libmicrohttpd)
cs_pkg(uring liburing)
