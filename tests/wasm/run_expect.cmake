# Runs a command and checks its exit status, and optionally its output:
#
#   cmake -DCOMMAND="prog|arg|..." -DEXPECT=3 [-DMATCH=REGEX] -P run_expect.cmake
#
# COMMAND's words are separated by "|". Used to check that the Node runner
# passes a module's exit status on (ctest would otherwise see every failure
# as a pass).
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE status
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT "${status}" STREQUAL "${EXPECT}")
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT}")
endif()
if(DEFINED MATCH AND NOT "${out}${err}" MATCHES "${MATCH}")
  message(FATAL_ERROR "the output does not match '${MATCH}'")
endif()
