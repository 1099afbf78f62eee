# Toolchain file: wasm32-wasi with clang, lld and Debian's wasi-libc.
#
#   cmake -S . -B build-wasm -DCMAKE_TOOLCHAIN_FILE=cmake/wasm32-wasi.cmake
#
# Selects the memory.grow backend and the wasi shim, builds at -Oz by
# default, and runs test programs under Node's WASI (tools/wasi-run.mjs).
# Packages: clang, lld, wasi-libc, libclang-rt-14-dev-wasm32, nodejs.

set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
# CMake has no WASI platform module of its own: ours is in Platform/.
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")

set(WEE_WASM_TRIPLE wasm32-wasi CACHE STRING "Target triple of the wasm32 build")
set(CMAKE_C_COMPILER clang)
set(CMAKE_C_COMPILER_TARGET ${WEE_WASM_TRIPLE})
find_program(CMAKE_AR NAMES llvm-ar llvm-ar-14 REQUIRED)
find_program(CMAKE_RANLIB NAMES llvm-ranlib llvm-ranlib-14 REQUIRED)

# Debian's clang finds the wasi-libc sysroot (/usr/include/wasm32-wasi,
# /usr/lib/wasm32-wasi) by itself; look for nothing on the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The default build type (MinSizeRel) is -Oz, the size gate's measure. A
# cache entry: CMake's own _INIT for clang would append -Os.
set(CMAKE_C_FLAGS_MINSIZEREL "-Oz -DNDEBUG" CACHE STRING "Flags for MinSizeRel builds")

find_program(WEE_NODE node REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR
    ${WEE_NODE} --no-warnings ${CMAKE_CURRENT_LIST_DIR}/../tools/wasi-run.mjs)

set(WEE_BACKEND wasm CACHE STRING "")
set(WEE_PAGE_BYTES 65536 CACHE STRING "")
# wasi-libc has no threads: no lock. A wasi-threads build (-pthread) must
# configure with -DWEE_THREADS=ON; src/backend_wasm.c refuses otherwise.
set(WEE_THREADS OFF CACHE BOOL "")
