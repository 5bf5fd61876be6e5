/* dist_mpi.c — the distributed runtime on MPI: start-up, sums, broadcasts, gathers, status agreement. */
#include "dist-impl.h"

#ifdef HJDL_HAVE_MPI

#include "hjdl/optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

hj_status hj__dist_mpi_error(const hj_dist *ctx, int code, const char *what, hj_error *err)
{
    char text[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        len = snprintf(text, sizeof text, "MPI error %d", code);
    text[len < (int)sizeof text ? len : (int)sizeof text - 1] = '\0';
    return hj_error_set(err, HJ_EIO, "%s (rank %d of %d): %s", what, ctx ? ctx->rank : 0,
                        ctx ? ctx->size : 1, text);
}

/* One process without MPI. */
static hj_status make_single(hj_dist **ctx, hj_error *err)
{
    hj_dist *c = calloc(1, sizeof *c);
    if (c == NULL)
        return hj_error_set(err, HJ_ENOMEM, "out of memory");
    c->rank = 0;
    c->size = 1;
    c->mpi = 0;
    c->comm = MPI_COMM_NULL;
    *ctx = c;
    return HJ_OK;
}

hj_status hj_dist_init(hj_dist **ctx, int *argc, char ***argv, hj_error *err)
{
    if (ctx == NULL)
        return hj_error_set(err, HJ_EINVAL, "dist: NULL context pointer");
    *ctx = NULL;
    if (!hj_dist_launched())
        return make_single(ctx, err);
    hj_dist *c = calloc(1, sizeof *c);
    if (c == NULL)
        return hj_error_set(err, HJ_ENOMEM, "out of memory");
    int inited = 0, rc;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided = 0;
        rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) {
            free(c);
            return hj_error_set(err, HJ_EIO, "MPI_Init_thread failed (error %d)", rc);
        }
        c->owns_init = 1;
    }
    c->mpi = 1;
    c->comm = MPI_COMM_NULL;
    /* errors come back as codes on the world and on our duplicate of it */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &c->comm)) != MPI_SUCCESS) {
        hj_status st = hj__dist_mpi_error(c, rc, "MPI_Comm_dup", err);
        hj_dist_finalize(c);
        return st;
    }
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    *ctx = c;
    return HJ_OK;
}

void hj_dist_finalize(hj_dist *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->mpi && ctx->comm != MPI_COMM_NULL)
        MPI_Comm_free(&ctx->comm);
    if (ctx->owns_init) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin)
            MPI_Finalize();
    }
    free(ctx);
}

hj_status hj_dist_allreduce_sum(hj_dist *ctx, double *buf, size_t n, hj_error *err)
{
    if (ctx == NULL || (n > 0 && buf == NULL))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to the sum all-reduce");
    hj__dist_count(ctx, HJ__TRAFFIC_SUM, (uint64_t)n * sizeof *buf);
    if (!ctx->mpi || ctx->size == 1)
        return HJ_OK;
    /* reduce to rank 0, then broadcast: every rank gets the same bits */
    for (size_t off = 0; off < n; off += HJ__DIST_CHUNK) {
        const int len = (int)(n - off < HJ__DIST_CHUNK ? n - off : HJ__DIST_CHUNK);
        int rc = MPI_Reduce(ctx->rank == 0 ? MPI_IN_PLACE : buf + off, buf + off, len, MPI_DOUBLE,
                            MPI_SUM, 0, ctx->comm);
        if (rc != MPI_SUCCESS)
            return hj__dist_mpi_error(ctx, rc, "MPI_Reduce (sum)", err);
        rc = MPI_Bcast(buf + off, len, MPI_DOUBLE, 0, ctx->comm);
        if (rc != MPI_SUCCESS)
            return hj__dist_mpi_error(ctx, rc, "MPI_Bcast (sum)", err);
    }
    return HJ_OK;
}

hj_status hj_dist_bcast(hj_dist *ctx, void *buf, size_t len, int root, hj_error *err)
{
    if (ctx == NULL || (len > 0 && buf == NULL))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to broadcast");
    if (root < 0 || root >= ctx->size)
        return hj_error_set(err, HJ_EINVAL, "dist: broadcast root %d outside 0..%d", root, ctx->size - 1);
    ctx->stats.calls++;
    if (ctx->rank == root)
        ctx->stats.other_bytes += len, ctx->stats.bytes += len;
    if (!ctx->mpi || ctx->size == 1)
        return HJ_OK;
    for (size_t off = 0; off < len; off += HJ__DIST_CHUNK) {
        const int k = (int)(len - off < HJ__DIST_CHUNK ? len - off : HJ__DIST_CHUNK);
        int rc = MPI_Bcast((char *)buf + off, k, MPI_BYTE, root, ctx->comm);
        if (rc != MPI_SUCCESS)
            return hj__dist_mpi_error(ctx, rc, "MPI_Bcast", err);
    }
    return HJ_OK;
}

hj_status hj_dist_gather_bytes(hj_dist *ctx, const void *buf, size_t len, void **out,
                               size_t *lens, hj_error *err)
{
    if (ctx == NULL || out == NULL || (len > 0 && buf == NULL) || (ctx->rank == 0 && lens == NULL))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to gather");
    *out = NULL;
    ctx->stats.calls++;
    ctx->stats.other_bytes += len, ctx->stats.bytes += len;
    if (!ctx->mpi || ctx->size == 1) {
        void *copy = malloc(len ? len : 1);
        if (copy == NULL)
            return hj_error_set(err, HJ_ENOMEM, "dist: out of memory gathering %zu bytes", len);
        if (len)
            memcpy(copy, buf, len);
        *out = copy;
        lens[0] = len;
        return HJ_OK;
    }
    const int P = ctx->size;
    unsigned long long mine = len, *all = NULL;
    int *counts = NULL, *displs = NULL;
    char *recv = NULL;
    hj_status st = HJ_OK;
    if (ctx->rank == 0) {
        all = malloc((size_t)P * sizeof *all);
        counts = malloc((size_t)P * sizeof *counts);
        displs = malloc((size_t)P * sizeof *displs);
        if (all == NULL || counts == NULL || displs == NULL)
            st = hj_error_set(err, HJ_ENOMEM, "dist: out of memory");
    }
    /* the length exchange happens even when rank 0 is short of memory, so
     * nobody is left waiting; rank 0 then reports the failure */
    unsigned long long dummy[1];
    int rc = MPI_Gather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all ? all : dummy, 1,
                        MPI_UNSIGNED_LONG_LONG, 0, ctx->comm);
    if (rc != MPI_SUCCESS) {
        st = hj__dist_mpi_error(ctx, rc, "MPI_Gather (lengths)", err);
        goto done;
    }
    unsigned long long total = 0;
    int ok = 1;
    if (ctx->rank == 0) {
        if (st != HJ_OK)
            ok = 0;
        for (int r = 0; r < P && ok; r++) {
            if (all[r] > (unsigned long long)INT32_MAX || total > (unsigned long long)INT32_MAX - all[r]) {
                st = hj_error_set(err, HJ_ERANGE, "dist: gathered data exceed 2 GiB");
                ok = 0;
                break;
            }
            counts[r] = (int)all[r];
            displs[r] = (int)total;
            total += all[r];
        }
        if (ok && (recv = malloc(total ? (size_t)total : 1)) == NULL) {
            st = hj_error_set(err, HJ_ENOMEM, "dist: out of memory gathering %llu bytes", total);
            ok = 0;
        }
    }
    rc = MPI_Bcast(&ok, 1, MPI_INT, 0, ctx->comm);
    if (rc != MPI_SUCCESS) {
        st = hj__dist_mpi_error(ctx, rc, "MPI_Bcast", err);
        goto done;
    }
    if (!ok) {
        if (ctx->rank != 0)
            st = hj_error_set(err, HJ_ENOMEM, "dist: rank 0 could not receive the gathered data");
        goto done;
    }
    rc = MPI_Gatherv(buf, (int)len, MPI_BYTE, recv, counts, displs, MPI_BYTE, 0, ctx->comm);
    if (rc != MPI_SUCCESS) {
        st = hj__dist_mpi_error(ctx, rc, "MPI_Gatherv", err);
        goto done;
    }
    if (ctx->rank == 0) {
        for (int r = 0; r < P; r++)
            lens[r] = (size_t)all[r];
        *out = recv;
        recv = NULL;
    }
done:
    free(all), free(counts), free(displs), free(recv);
    return st;
}

/* What travels in the agreement: the failing rank's status and message. */
typedef struct agree_msg {
    int code;
    char msg[HJ_ERROR_MSG_LEN];
} agree_msg;

hj_status hj_dist_agree(hj_dist *ctx, hj_status local, const hj_error *local_err,
                        int *failed_rank, hj_error *err)
{
    if (failed_rank)
        *failed_rank = -1;
    if (ctx == NULL)
        return hj_error_set(err, HJ_EINVAL, "dist: NULL context");
    ctx->stats.calls++;
    ctx->stats.other_bytes += sizeof(int), ctx->stats.bytes += sizeof(int);
    agree_msg m;
    memset(&m, 0, sizeof m);
    m.code = (int)local;
    if (local != HJ_OK)
        snprintf(m.msg, sizeof m.msg, "%s",
                 local_err && local_err->msg[0] ? local_err->msg : hj_status_string(local));
    if (!ctx->mpi || ctx->size == 1) {
        if (local == HJ_OK)
            return HJ_OK;
        if (failed_rank)
            *failed_rank = 0;
        return hj_error_set(err, local, "%s", m.msg);
    }
    /* key: a failure of this rank's own < a failure only because a peer
     * failed (HJ_PEER_FAILED_MSG) < no failure; lower ranks first */
    const int P = ctx->size;
    int mine = 2 * P, first = 2 * P;
    if (local != HJ_OK)
        mine = strstr(m.msg, HJ_PEER_FAILED_MSG) ? P + ctx->rank : ctx->rank;
    int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, ctx->comm);
    if (rc != MPI_SUCCESS)
        return hj__dist_mpi_error(ctx, rc, "MPI_Allreduce (status agreement)", err);
    if (first >= 2 * P)
        return HJ_OK;
    first %= P;
    if (ctx->rank == first)
        ctx->stats.other_bytes += sizeof m, ctx->stats.bytes += sizeof m;
    rc = MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, ctx->comm);
    if (rc != MPI_SUCCESS)
        return hj__dist_mpi_error(ctx, rc, "MPI_Bcast (status agreement)", err);
    m.msg[sizeof m.msg - 1] = '\0';
    if (failed_rank)
        *failed_rank = first;
    hj_status code = m.code > 0 && m.code <= (int)HJ_ERANGE ? (hj_status)m.code : HJ_EIO;
    return hj_error_set(err, code, "rank %d failed: %s", first, m.msg);
}

hj_status hj_dist_barrier(hj_dist *ctx, hj_error *err)
{
    if (ctx == NULL || !ctx->mpi || ctx->size == 1)
        return HJ_OK;
    ctx->stats.calls++;
    /* a non-blocking barrier polled with short sleeps: a rank that waits
     * long (for the others' experiments, for rank 0 loading data) leaves
     * its core to them instead of spinning in MPI's progress loop */
    MPI_Request req;
    int rc = MPI_Ibarrier(ctx->comm, &req);
    if (rc != MPI_SUCCESS)
        return hj__dist_mpi_error(ctx, rc, "MPI_Ibarrier", err);
    int done = 0;
    const struct timespec nap = {0, 1000000}; /* 1 ms */
    while ((rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE)) == MPI_SUCCESS && !done)
        nanosleep(&nap, NULL);
    return rc == MPI_SUCCESS ? HJ_OK : hj__dist_mpi_error(ctx, rc, "MPI_Barrier", err);
}

void hj_dist_abort(hj_dist *ctx, int code)
{
    if (ctx != NULL && ctx->mpi)
        MPI_Abort(MPI_COMM_WORLD, code);
}

#else
/* Built without MPI: dist_serial.c provides these functions. */
typedef int hj__dist_mpi_unused;
#endif /* HJDL_HAVE_MPI */
