/* dist_shard.c — the runtime's collectives as callbacks for the library: an hj_shard for the streamed evaluation (stream.h) and the allreduce of data-parallel training. The top of dist: it calls the MPI and partial-state collectives, nothing here calls it. */
#include "dist-impl.h"

/* The collectives of an hj_shard (stream.h) on the runtime's context. */
static hj_status shard_agree(void *ctx, hj_status local, const hj_error *local_err, hj_error *err)
{
    return hj_dist_agree(ctx, local, local_err, NULL, err);
}

static hj_status shard_reduce_partial(void *ctx, double *P, size_t n, size_t dv, double eps,
                                      hj_error *err)
{
    return hj_dist_reduce_partial(ctx, P, n, dv, eps, err);
}

static hj_status shard_reduce_topk(void *ctx, hj_topk *tk, hj_error *err)
{
    return hj_dist_reduce_topk(ctx, tk, err);
}

void hj_dist_shard(hj_dist *ctx, hj_shard *out)
{
    out->rank = hj_dist_rank(ctx);
    out->size = hj_dist_size(ctx);
    out->ctx = ctx;
    out->agree = shard_agree;
    out->reduce_partial = shard_reduce_partial;
    out->reduce_topk = shard_reduce_topk;
}

hj_status hj_dist_allreduce_sum_cb(void *ctx, double *buf, size_t n, hj_error *err)
{
    return hj_dist_allreduce_sum(ctx, buf, n, err);
}
