# Checks that a linked wasm module holds our allocator and none of
# wasi-libc's (dlmalloc), by the function names of its name section:
#
#   cmake -DOBJDUMP=wasm-objdump -DMODULE=prog.wasm -P no_dlmalloc.cmake
#
# The name section survives only a link without -O (clang runs wasm-opt
# otherwise, which drops it).
if(NOT OBJDUMP)
  message(FATAL_ERROR "wasm-objdump not found: install wabt")
endif()
execute_process(COMMAND ${OBJDUMP} -x ${MODULE} RESULT_VARIABLE status
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(status)
  message(FATAL_ERROR "wasm-objdump -x ${MODULE} failed (${status}): ${err}")
endif()
# Without names there is nothing to look for.
if(NOT out MATCHES "<malloc>" OR NOT out MATCHES "<wee_[a-z_]+>")
  message(FATAL_ERROR "${MODULE}: no functions named malloc and wee_*: "
                      "no name section, or not linked with wee_malloc")
endif()
set(found "")
foreach(name dlmalloc dlfree dlrealloc dlcalloc dlmemalign dlposix_memalign
             dispose_chunk internal_memalign try_realloc_chunk sys_alloc
             tmalloc_small tmalloc_large init_mparams)
  if(out MATCHES "<${name}>")
    list(APPEND found ${name})
  endif()
endforeach()
if(found)
  message(FATAL_ERROR "${MODULE} holds dlmalloc's functions: ${found}")
endif()
message("${MODULE}: wee_malloc's functions, no dlmalloc")
