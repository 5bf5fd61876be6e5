/* runtime.c — thread settings for OpenMP and OpenBLAS; version string; the monotonic clock. */
#include "hjdl/runtime.h"

#include <time.h>

#ifdef HJDL_HAVE_OPENMP
#include <omp.h>
#endif
#ifdef HJDL_HAVE_CBLAS
#include <cblas.h>
#endif

void hj_set_threads(size_t n)
{
    if (n == 0)
        n = 1;
#ifdef HJDL_HAVE_OPENMP
    omp_set_num_threads((int)n);
#endif
#ifdef HJDL_HAVE_CBLAS
    openblas_set_num_threads((int)n);
#endif
}

size_t hj_get_threads(void)
{
#ifdef HJDL_HAVE_OPENMP
    return (size_t)omp_get_max_threads();
#else
    return 1;
#endif
}

const char *hj_version(void) { return HJDL_VERSION_STRING; }

double hj_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
