/* runtime.h — process-wide execution settings of the libraries hjdl runs on
 * (OpenMP threads, OpenBLAS threads) and build facts. */
#ifndef HJDL_RUNTIME_H
#define HJDL_RUNTIME_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Use n threads in hjdl's OpenMP loops and in OpenBLAS (n >= 1). This sets
 * the runtimes' own process-wide knobs (like OMP_NUM_THREADS would). */
HJ_API void hj_set_threads(size_t n);
/* Threads an OpenMP region would use now (1 without OpenMP). */
HJ_API size_t hj_get_threads(void);
/* The library version, e.g. "0.1.0". */
HJ_API const char *hj_version(void);
/* Monotonic wall-clock time in seconds (CLOCK_MONOTONIC): the one clock
 * of the library's timings (experiments, perf). */
HJ_API double hj_now_seconds(void);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_RUNTIME_H */
