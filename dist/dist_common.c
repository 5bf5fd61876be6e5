/* dist_common.c — the parts of the distributed runtime that do not depend on MPI: ranges, queries, counters. */
#include <stdlib.h>
#include <string.h>

#include "dist-impl.h"

int hj_dist_launched(void)
{
    static const char *const VARS[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};
    for (size_t i = 0; i < sizeof VARS / sizeof VARS[0]; i++) {
        const char *v = getenv(VARS[i]);
        if (v != NULL && v[0] != '\0')
            return 1;
    }
    return 0;
}

int hj_dist_built_with_mpi(void)
{
#ifdef HJDL_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

int hj_dist_rank(const hj_dist *ctx)
{
    return ctx ? ctx->rank : 0;
}

int hj_dist_size(const hj_dist *ctx)
{
    return ctx ? ctx->size : 1;
}

int hj_dist_is_mpi(const hj_dist *ctx)
{
    return ctx ? ctx->mpi : 0;
}

void hj_dist_range(size_t n, int rank, int size, size_t *begin, size_t *end)
{
    hj_stream_range(n, rank, size, begin, end);
}

void hj_dist_stats_get(const hj_dist *ctx, hj_dist_stats *out)
{
    if (out == NULL)
        return;
    if (ctx == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = ctx->stats;
}

void hj__dist_count(hj_dist *ctx, hj__traffic kind, uint64_t bytes)
{
    hj_dist_stats *s = &ctx->stats;
    s->calls++;
    s->bytes += bytes;
    switch (kind) {
    case HJ__TRAFFIC_SUM:
        s->sum_calls++;
        s->sum_bytes += bytes;
        s->last_sum_bytes = bytes;
        break;
    case HJ__TRAFFIC_PARTIAL:
        s->partial_calls++;
        s->partial_bytes += bytes;
        break;
    case HJ__TRAFFIC_TOPK:
        s->topk_calls++;
        s->topk_bytes += bytes;
        break;
    case HJ__TRAFFIC_OTHER:
        s->other_bytes += bytes;
        break;
    }
}
