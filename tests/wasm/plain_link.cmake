# Links a program the way a user would, with nothing but the compiler and
# the archive:
#
#   clang --target=wasm32-wasi prog.c libwee_malloc.a -o prog.wasm
#
# which must succeed (no duplicate symbol with wasi-libc's malloc), then
# runs the module (status 0 expected) and checks it for dlmalloc.
#
#   cmake -DCC=clang -DTARGET=wasm32-wasi -DSOURCE=prog.c -DLIB=libwee_malloc.a
#         -DOUT=prog.wasm -DRUNNER="node|runner.mjs" -DOBJDUMP=wasm-objdump
#         -P plain_link.cmake
execute_process(COMMAND ${CC} --target=${TARGET} ${SOURCE} ${LIB} -o ${OUT}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(status)
  message(FATAL_ERROR "${CC} --target=${TARGET} ${SOURCE} ${LIB} failed (${status}):\n${out}${err}")
endif()
string(REPLACE "|" ";" runner "${RUNNER}")
execute_process(COMMAND ${runner} ${OUT} RESULT_VARIABLE status
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT "${status}" STREQUAL "0")
  message(FATAL_ERROR "${OUT} exited with status ${status}")
endif()
set(MODULE ${OUT})
include(${CMAKE_CURRENT_LIST_DIR}/no_dlmalloc.cmake)
