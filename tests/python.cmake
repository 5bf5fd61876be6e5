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
# The scikit-learn conformance suite, grid searches in worker processes and the PyTorch round
# trip (python/tests/test_sklearn.py, test_pytorch.py) are a test of their own: ctest -j2 runs
# them beside the rest, each within its timeout on a busy machine.
set(HJDL_PY_ECOSYSTEM ${PROJECT_SOURCE_DIR}/python/tests/test_sklearn.py
                      ${PROJECT_SOURCE_DIR}/python/tests/test_pytorch.py)
add_test(NAME python_binding
         COMMAND ${HJDL_SYSTEM_PYTHON} -m pytest -q -p no:cacheprovider ${PROJECT_SOURCE_DIR}/python/tests
                 --ignore=${PROJECT_SOURCE_DIR}/python/tests/test_sklearn.py
                 --ignore=${PROJECT_SOURCE_DIR}/python/tests/test_pytorch.py
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME python_ecosystem
         COMMAND ${HJDL_SYSTEM_PYTHON} -m pytest -q -p no:cacheprovider -rs ${HJDL_PY_ECOSYSTEM}
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(python_binding PROPERTIES TIMEOUT 120)
set_tests_properties(python_ecosystem PROPERTIES TIMEOUT 300)  # worker processes, torch import
set_tests_properties(python_binding python_ecosystem PROPERTIES
  ENVIRONMENT "HJDL_LIBRARY=$<TARGET_FILE:hjdl_shared>;HJDL_CLI=$<TARGET_FILE:hjdl_cli>;PYTHONPATH=${PROJECT_SOURCE_DIR}/python;PYTHONDONTWRITEBYTECODE=1;OMP_WAIT_POLICY=PASSIVE")
