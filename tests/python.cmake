# Python binding tests (python/tests, pytest) against the freshly built libhjdl.so. Included by
# tests/CMakeLists.txt. Skipped in sanitizer builds (the interpreter is not instrumented), when
# the shared library is off, or when Debian's Python lacks numpy or pytest.
set(HJDL_SYSTEM_PYTHON /usr/bin/python3)
if(HJDL_SANITIZE)
  message(STATUS "hjdl: Python binding tests skipped (sanitizer build)")
  return()
endif()
if(NOT HJDL_SHARED)
  message(STATUS "hjdl: Python binding tests skipped (HJDL_SHARED is OFF)")
  return()
endif()
execute_process(COMMAND ${HJDL_SYSTEM_PYTHON} -c "import numpy, pytest"
                RESULT_VARIABLE HJDL_PY_RC OUTPUT_QUIET ERROR_QUIET)
if(NOT HJDL_PY_RC EQUAL 0)
  message(STATUS "hjdl: Python binding tests skipped (${HJDL_SYSTEM_PYTHON} cannot import numpy and pytest)")
  return()
endif()
message(STATUS "hjdl: Python binding tests on (${HJDL_SYSTEM_PYTHON}, pytest)")
add_test(NAME python_binding
         COMMAND ${HJDL_SYSTEM_PYTHON} -m pytest -q -p no:cacheprovider ${PROJECT_SOURCE_DIR}/python/tests
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(python_binding PROPERTIES
  TIMEOUT 120
  ENVIRONMENT "HJDL_LIBRARY=$<TARGET_FILE:hjdl_shared>;HJDL_CLI=$<TARGET_FILE:hjdl_cli>;PYTHONPATH=${PROJECT_SOURCE_DIR}/python;PYTHONDONTWRITEBYTECODE=1;OMP_WAIT_POLICY=PASSIVE")
