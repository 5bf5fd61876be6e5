# MPI tests (included by tests/CMakeLists.txt when the MPI backend is on):
# each tests/mpi/*.sh runs `mpirun -np 2` on this machine and gets the hjdl
# binary, a scratch dir, the tests source dir and the launcher.
file(GLOB MPI_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/mpi/*.sh)
set(HJDL_MPI_TEST_ENV
  "OMP_WAIT_POLICY=PASSIVE" "OMP_NUM_THREADS=1" "OPENBLAS_NUM_THREADS=1"
  # as root in CI containers; 2 ranks on any number of cores
  "OMPI_ALLOW_RUN_AS_ROOT=1" "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
  # ranks that wait yield the core instead of spinning (2 ranks, 2 shared cores)
  "OMPI_MCA_mpi_yield_when_idle=1"
  # containers often forbid cross-memory attach between processes
  "OMPI_MCA_btl_vader_single_copy_mechanism=none")
if(HJDL_SANITIZE)
  # OpenMPI's own start-up allocations (PMIx, hwloc, its components) are
  # reported by LeakSanitizer at exit; suppress those libraries only. Its
  # components are dlclose'd before the leak check, so the fast unwinder
  # cannot name them: the slow one walks up into libopen-pal/libmpi, which
  # the suppressions match. hjdl's own leaks are still reported.
  list(APPEND HJDL_MPI_TEST_ENV "ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0"
       "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/mpi/lsan.supp:print_suppressions=0")
endif()
foreach(script ${MPI_TESTS})
  get_filename_component(name ${script} NAME_WE)
  # the experiment sweep is slow under the sanitizers; it runs in the Release build
  if(HJDL_SANITIZE AND name STREQUAL "sweep")
    continue()
  endif()
  add_test(NAME mpi_${name}
           COMMAND bash ${script} $<TARGET_FILE:hjdl_cli> ${CMAKE_CURRENT_BINARY_DIR}/mpi_${name}.tmp
                   ${CMAKE_CURRENT_SOURCE_DIR} ${MPIEXEC_EXECUTABLE})
  set_tests_properties(mpi_${name} PROPERTIES TIMEOUT 600 ENVIRONMENT "${HJDL_MPI_TEST_ENV}")
endforeach()
