/* runtime.h — process-wide execution settings of the libraries hjdl runs on
 * (OpenMP threads, OpenBLAS threads) and build facts. */
#ifndef HJDL_RUNTIME_H
#define HJDL_RUNTIME_H

#include <stddef.h>

#include "hjdl/status.h"

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
/* Which LSE kernels run (a constant string): "avx512" (the blocked AVX-512
 * kernels with their inline exp; x86-64 CPUs with AVX-512F), "avx2" (the
 * same kernels for AVX2 + FMA), or "portable" (vectorised row-by-row loops;
 * every other CPU). The widest set the CPU runs, unless the environment
 * variable HJDL_KERNELS (avx512, avx2 or portable; read once, at the first
 * kernel call) names a narrower one. They give the same numbers up to
 * rounding; docs/performance.md compares their speed. */
const char *hj_kernels(void);
/* HJ_OK, or HJ_EINVAL with a message when HJDL_KERNELS names an unknown set
 * or one this CPU lacks; hj_lse_forward and model losses refuse to run then
 * (hj_kernels() names the set the status-less functions fall back to). */
hj_status hj_kernels_check(hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_RUNTIME_H */
