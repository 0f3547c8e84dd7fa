# cs_module(NAME [HEADERS h...] [DEPS module...] [EXT target...]): an OBJECT
# library cs_NAME from src/NAME/*.c. HEADERS (its public headers) are read by
# scripts/check-deps.py only. A module without sources yet is recorded but
# not built.
set_property(GLOBAL PROPERTY CS_MODULES "")

function(cs_module name)
  cmake_parse_arguments(M "" "" "HEADERS;DEPS;EXT" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.c)
  set_property(GLOBAL PROPERTY CS_DEPS_${name} ${M_DEPS})
  set_property(GLOBAL PROPERTY CS_EXT_${name} ${M_EXT})
  if(NOT srcs)
    return()
  endif()
  add_library(cs_${name} OBJECT ${srcs})
  target_include_directories(cs_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                           PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cs_${name} PUBLIC ${M_EXT})
  foreach(d ${M_DEPS})
    if(TARGET cs_${d})
      target_link_libraries(cs_${name} PUBLIC $<TARGET_PROPERTY:cs_${d},INTERFACE_LINK_LIBRARIES>)
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY CS_MODULES ${name})
endfunction()

# The module and all the modules it depends on, transitively.
function(cs_closure out)
  set(todo ${ARGN})
  set(seen "")
  while(todo)
    list(POP_FRONT todo m)
    if(m IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${m})
    get_property(deps GLOBAL PROPERTY CS_DEPS_${m})
    list(APPEND todo ${deps})
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# cs_link(TARGET module...): link the objects of the modules (and their
# dependencies) and their external libraries into TARGET. Used by tests,
# benchmarks and fuzzers so that each builds only what it needs.
function(cs_link target)
  cs_closure(mods ${ARGN})
  foreach(m ${mods})
    if(TARGET cs_${m})
      target_sources(${target} PRIVATE $<TARGET_OBJECTS:cs_${m}>)
      target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
      get_property(ext GLOBAL PROPERTY CS_EXT_${m})
      target_link_libraries(${target} PRIVATE ${ext})
    endif()
  endforeach()
endfunction()

# libcouchestor: every built module in one static archive.
function(cs_library target)
  get_property(mods GLOBAL PROPERTY CS_MODULES)
  add_library(${target} STATIC)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  foreach(m ${mods})
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:cs_${m}>)
    get_property(ext GLOBAL PROPERTY CS_EXT_${m})
    target_link_libraries(${target} PUBLIC ${ext})
  endforeach()
endfunction()
