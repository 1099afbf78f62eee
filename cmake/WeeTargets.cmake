# Helpers that build the core and the shim as object libraries, so the
# static and shared libraries and the tests share one set of sources.

# Objects are position-independent where shared libraries exist (the same
# objects go into libwee_malloc.so); wasm32 has none, and PIC would cost it
# code size.
get_property(WEE_PIC GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS)

# Compiler warnings for every target of ours.
function(wee_warnings target)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra $<$<BOOL:${WEE_WERROR}>:-Werror>)
  endif()
endfunction()

# The core compiled as position-independent objects for one backend, so the
# static and shared libraries (and tests) share one set of sources.
# Optional: STATIC_BYTES n (the static backend's array size).
function(wee_core_objects target backend)
  cmake_parse_arguments(ARG "" "STATIC_BYTES" "" ${ARGN})
  if(NOT ARG_STATIC_BYTES)
    set(ARG_STATIC_BYTES ${WEE_STATIC_BYTES})
  endif()
  set(src ${PROJECT_SOURCE_DIR}/src)
  add_library(${target} OBJECT
    ${src}/check.c ${src}/free_list.c ${src}/misuse.c ${src}/release.c ${src}/run.c ${src}/walk.c
    ${src}/wee_alloc.c
    ${src}/backend_${backend}.c ${src}/report_${WEE_REPORT}.c)
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(${target} PRIVATE
    WEE_EXTRA_ASSERTIONS=$<BOOL:${WEE_EXTRA_ASSERTIONS}>
    WEE_TINY=$<BOOL:${WEE_TINY}>
    WEE_INTROSPECT=$<BOOL:${WEE_INTROSPECT}>
    WEE_HARDEN=$<BOOL:${WEE_HARDEN}>
    WEE_VALGRIND=$<BOOL:${WEE_USE_VALGRIND}>
    WEE_SINGLE_THREADED=$<NOT:$<BOOL:${WEE_THREADS}>>
    WEE_PAGE_BYTES=${WEE_PAGE_BYTES}
    WEE_STATIC_BYTES=${ARG_STATIC_BYTES}
    WEE_BACKEND_RELEASES=$<STREQUAL:${backend},unix>)
  set_target_properties(${target} PROPERTIES
    POSITION_INDEPENDENT_CODE ${WEE_PIC} C_VISIBILITY_PRESET hidden)
  wee_warnings(${target})
endfunction()

# The malloc shim over a core object library; `prefixed` renames its
# functions to wee_shim_NAME. Optional: NO_CACHE (no thread caches).
function(wee_shim_objects target core prefixed)
  cmake_parse_arguments(ARG "NO_CACHE" "" "" ${ARGN})
  add_library(${target} OBJECT ${PROJECT_SOURCE_DIR}/shim/malloc.c
    ${PROJECT_SOURCE_DIR}/shim/${WEE_PLATFORM}.c)
  # Thread caches where there are threads; not with extra assertions, which
  # must see every free.
  set(cache OFF)
  if(WEE_THREAD_CACHE AND WEE_THREADS AND WEE_PLATFORM STREQUAL "unix" AND NOT WEE_EXTRA_ASSERTIONS
     AND NOT ARG_NO_CACHE)
    set(cache ON)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/shim/cache.c)
  endif()
  if(WEE_PLATFORM STREQUAL "unix")
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/shim/introspect.c)
  endif()
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_compile_definitions(${target} PRIVATE
    $<TARGET_PROPERTY:${core},COMPILE_DEFINITIONS> WEE_SHIM_CACHE=$<BOOL:${cache}>)
  if(prefixed)
    foreach(name malloc free calloc realloc reallocarray posix_memalign aligned_alloc memalign
                 valloc pvalloc malloc_usable_size mallinfo mallinfo2 malloc_stats malloc_info
                 malloc_trim)
      target_compile_definitions(${target} PRIVATE ${name}=wee_shim_${name})
    endforeach()
  endif()
  # Keep the compiler from turning the shim's own calls into malloc/calloc.
  target_compile_options(${target} PRIVATE -fno-builtin)
  set_target_properties(${target} PROPERTIES
    POSITION_INDEPENDENT_CODE ${WEE_PIC} C_VISIBILITY_PRESET hidden)
  wee_warnings(${target})
endfunction()
