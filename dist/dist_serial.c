/* dist_serial.c — the distributed runtime when hjdl is built without MPI: one process, same interface. */
#include "dist-impl.h"

#ifndef HJDL_HAVE_MPI

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hj_status hj_dist_init(hj_dist **ctx, int *argc, char ***argv, hj_error *err)
{
    (void)argc, (void)argv;
    if (ctx == NULL)
        return hj_error_set(err, HJ_EINVAL, "dist: NULL context pointer");
    hj_dist *c = calloc(1, sizeof *c);
    if (c == NULL)
        return hj_error_set(err, HJ_ENOMEM, "out of memory");
    c->rank = 0;
    c->size = 1;
    *ctx = c;
    return HJ_OK;
}

void hj_dist_finalize(hj_dist *ctx)
{
    free(ctx);
}

hj_status hj_dist_allreduce_sum(hj_dist *ctx, double *buf, size_t n, hj_error *err)
{
    if (ctx == NULL || (n > 0 && buf == NULL))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to the sum all-reduce");
    hj__dist_count(ctx, HJ__TRAFFIC_SUM, (uint64_t)n * sizeof *buf);
    return HJ_OK;
}

hj_status hj_dist_bcast(hj_dist *ctx, void *buf, size_t len, int root, hj_error *err)
{
    if (ctx == NULL || (len > 0 && buf == NULL))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to broadcast");
    if (root != 0)
        return hj_error_set(err, HJ_EINVAL, "dist: broadcast root %d outside 0..0", root);
    ctx->stats.calls++;
    return HJ_OK;
}

hj_status hj_dist_gather_bytes(hj_dist *ctx, const void *buf, size_t len, void **out,
                               size_t *lens, hj_error *err)
{
    if (ctx == NULL || out == NULL || lens == NULL || (len > 0 && buf == NULL))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to gather");
    *out = malloc(len ? len : 1);
    if (*out == NULL)
        return hj_error_set(err, HJ_ENOMEM, "dist: out of memory gathering %zu bytes", len);
    if (len)
        memcpy(*out, buf, len);
    lens[0] = len;
    ctx->stats.calls++;
    return HJ_OK;
}

hj_status hj_dist_agree(hj_dist *ctx, hj_status local, const hj_error *local_err,
                        int *failed_rank, hj_error *err)
{
    (void)ctx;
    if (failed_rank)
        *failed_rank = local == HJ_OK ? -1 : 0;
    if (local == HJ_OK)
        return HJ_OK;
    char msg[HJ_ERROR_MSG_LEN]; /* err may be local_err itself */
    snprintf(msg, sizeof msg, "%s",
             local_err && local_err->msg[0] ? local_err->msg : hj_status_string(local));
    return hj_error_set(err, local, "%s", msg);
}

hj_status hj_dist_barrier(hj_dist *ctx, hj_error *err)
{
    (void)ctx, (void)err;
    return HJ_OK;
}

void hj_dist_abort(hj_dist *ctx, int code)
{
    (void)ctx, (void)code;
}

#else
/* Built with MPI: dist_mpi.c provides these functions. */
typedef int hj__dist_serial_unused;
#endif /* !HJDL_HAVE_MPI */
