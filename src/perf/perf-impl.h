/* perf-impl.h — internals shared by the perf module (not installed). */
#ifndef HJDL_PERF_IMPL_H
#define HJDL_PERF_IMPL_H

#include <stddef.h>

#include "hjdl/perf.h"

/* Points per chunk of hj_model_train's full-batch evaluation (src/model/train.c),
 * mirrored here for the memory estimate. */
#define PERF_TRAIN_CHUNK 8192.0

/* Thread setting in force before a measurement, to restore afterwards. */
typedef struct perf_threads {
    size_t before;   /* hj_get_threads() on entry */
    size_t used;     /* threads of the measurement */
    int changed;
} perf_threads;

/* Apply o->threads (0: keep) and remember the old setting. */
void hj__perf_threads_enter(perf_threads *pt, size_t threads);
/* Restore what hj__perf_threads_enter found. */
void hj__perf_threads_leave(const perf_threads *pt);

#endif /* HJDL_PERF_IMPL_H */
