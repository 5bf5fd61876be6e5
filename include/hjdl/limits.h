/* limits.h — the documented bounds on every size that input can drive.
 *
 * Each size a file or an option chooses (threads, iterations, neurons,
 * atoms, seeds, dimensions, the matrix built from a file) is checked, before
 * anything is allocated, against the fixed limit below and against this
 * machine's physical memory (hj_memory_check); a refusal names the option
 * or file and the limit, and the command-line tool exits 2.
 */
#ifndef HJDL_LIMITS_H
#define HJDL_LIMITS_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HJ_MAX_THREADS 1024          /* --threads */
#define HJ_MAX_ITERS 100000000       /* optimiser steps (--iters, --epochs x batches) */
#define HJ_MAX_WIDTH 1048576         /* neurons of one layer (--arch lse:N, dense:H, ...) */
#define HJ_MAX_EXP_N 10000000        /* experiment --N (atoms / neurons / nodes) */
#define HJ_MAX_EXP_D 100000          /* experiment --d */
#define HJ_MAX_SEEDS 10000           /* experiment / reproduce --seeds */
#define HJ_MAX_MATRIX_BYTES (1ULL << 30) /* doubles of one matrix read from an IDX file (1 GiB) */
#define HJ_MAX_SCALE 1e100           /* eps and t of a model; attack --radius */
#define HJ_MAX_COORD 1e150           /* |coordinate| of a point or atom: |x - y|^2 stays finite */

/* HJ_ENOMEM "WHAT needs N GB, more than this machine's M GB of memory" when
 * `bytes` exceed the physical memory (sysconf _SC_PHYS_PAGES x page size);
 * HJ_OK when it fits or the memory size is unknown. */
HJ_API hj_status hj_memory_check(double bytes, const char *what, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_LIMITS_H */
