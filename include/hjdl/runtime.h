/* runtime.h — process-wide execution settings of the libraries hjdl runs on
 * (OpenMP threads, OpenBLAS threads) and build facts. */
#ifndef HJDL_RUNTIME_H
#define HJDL_RUNTIME_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Use n threads in hjdl's OpenMP loops and in OpenBLAS (n >= 1). This sets
 * the runtimes' own process-wide knobs (like OMP_NUM_THREADS would). */
void hj_set_threads(size_t n);
/* Threads an OpenMP region would use now (1 without OpenMP). */
size_t hj_get_threads(void);
/* The library version, e.g. "0.1.0". */
const char *hj_version(void);
/* Which LSE kernels run on this CPU (a constant string): "avx512" (the
 * blocked AVX-512 kernels with the inline exp; x86-64 CPUs with AVX-512F)
 * or "portable" (vectorised row-by-row loops; every other CPU). They give
 * the same numbers up to rounding; docs/performance.md compares their speed. */
const char *hj_kernels(void);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_RUNTIME_H */
