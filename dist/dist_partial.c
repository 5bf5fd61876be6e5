/* dist_partial.c — merging partial reductions (LSE states, top-K) across ranks with user-defined MPI reductions. */
#include "dist-impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HJDL_HAVE_MPI

/* What the partial-state reduction needs besides the records: it rides on
 * the record datatype as an attribute; the attribute's keyval is written
 * into the datatype's name ("hjdl_partial kv=K"), so the operator finds
 * everything from the datatype it is handed and nothing is global. */
typedef struct partial_attr {
    double eps;
    size_t dv;
} partial_attr;

#define PARTIAL_TYPE_NAME "hjdl_partial kv="

/* MPI user function: inout[i] <- in[i] (+) inout[i] for *len records. */
static void partial_op(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    char name[MPI_MAX_OBJECT_NAME];
    int nl = 0, kv = 0, flag = 0;
    void *val = NULL;
    if (MPI_Type_get_name(*dt, name, &nl) != MPI_SUCCESS ||
        sscanf(name, PARTIAL_TYPE_NAME "%d", &kv) != 1 ||
        MPI_Type_get_attr(*dt, kv, &val, &flag) != MPI_SUCCESS || !flag || val == NULL)
        MPI_Abort(MPI_COMM_WORLD, 70); /* a datatype without its attribute: a bug, not input */
    const partial_attr *a = val;
    hj_partial_merge(inout, in, (size_t)*len, a->dv, a->eps);
}

hj_status hj_dist_reduce_partial(hj_dist *ctx, double *P, size_t n, size_t dv, double eps,
                                 hj_error *err)
{
    if (ctx == NULL || (n > 0 && P == NULL))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to the partial-state reduction");
    const size_t w = hj_partial_width(dv);
    hj__dist_count(ctx, HJ__TRAFFIC_PARTIAL, (uint64_t)n * w * sizeof *P);
    if (!ctx->mpi || ctx->size == 1 || n == 0)
        return HJ_OK;
    if (w > (size_t)INT32_MAX)
        return hj_error_set(err, HJ_ERANGE, "dist: record width %zu too large", w);
    partial_attr attr = {eps, dv};
    MPI_Datatype rec = MPI_DATATYPE_NULL;
    MPI_Op op = MPI_OP_NULL;
    int kv = MPI_KEYVAL_INVALID, rc;
    hj_status st = HJ_OK;
    char name[64];
    if ((rc = MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, MPI_TYPE_NULL_DELETE_FN, &kv, NULL)) !=
        MPI_SUCCESS) {
        st = hj__dist_mpi_error(ctx, rc, "MPI_Type_create_keyval", err);
        goto done;
    }
    snprintf(name, sizeof name, PARTIAL_TYPE_NAME "%d", kv);
    if ((rc = MPI_Type_contiguous((int)w, MPI_DOUBLE, &rec)) != MPI_SUCCESS ||
        (rc = MPI_Type_commit(&rec)) != MPI_SUCCESS ||
        (rc = MPI_Type_set_attr(rec, kv, &attr)) != MPI_SUCCESS ||
        (rc = MPI_Type_set_name(rec, name)) != MPI_SUCCESS ||
        (rc = MPI_Op_create(partial_op, 1, &op)) != MPI_SUCCESS) {
        st = hj__dist_mpi_error(ctx, rc, "partial-state datatype", err);
        goto done;
    }
    const size_t per = HJ__DIST_CHUNK / w > 0 ? HJ__DIST_CHUNK / w : 1;
    for (size_t off = 0; off < n; off += per) {
        const int cnt = (int)(n - off < per ? n - off : per);
        double *b = P + off * w;
        rc = MPI_Reduce(ctx->rank == 0 ? MPI_IN_PLACE : b, b, cnt, rec, op, 0, ctx->comm);
        if (rc != MPI_SUCCESS) {
            st = hj__dist_mpi_error(ctx, rc, "MPI_Reduce (partial states)", err);
            goto done;
        }
    }
done:
    if (op != MPI_OP_NULL)
        MPI_Op_free(&op);
    if (rec != MPI_DATATYPE_NULL)
        MPI_Type_free(&rec);
    if (kv != MPI_KEYVAL_INVALID)
        MPI_Type_free_keyval(&kv);
    return st;
}

_Static_assert(sizeof(size_t) == sizeof(double), "top-K records pack size_t indices as 8 bytes");

/* MPI user function on top-K records: each record is K logits (double)
 * then K global indices (size_t); K is the record size / 16. */
static void topk_op(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    int bytes = 0;
    MPI_Type_size(*dt, &bytes);
    const size_t K = (size_t)bytes / (2 * sizeof(double));
    char *src = in, *dst = inout;
    for (int i = 0; i < *len; i++) {
        hj_topk a, b;
        a.n = b.n = 1;
        a.K = b.K = K;
        a.logit = (double *)(void *)(dst + (size_t)i * (size_t)bytes);
        a.index = (size_t *)(void *)(dst + (size_t)i * (size_t)bytes + K * sizeof(double));
        b.logit = (double *)(void *)(src + (size_t)i * (size_t)bytes);
        b.index = (size_t *)(void *)(src + (size_t)i * (size_t)bytes + K * sizeof(double));
        hj_topk_merge(&a, &b);
    }
}

hj_status hj_dist_reduce_topk(hj_dist *ctx, hj_topk *tk, hj_error *err)
{
    if (ctx == NULL || tk == NULL || (tk->n > 0 && (tk->logit == NULL || tk->index == NULL)))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to the top-K reduction");
    const size_t n = tk->n, K = tk->K, rb = 2 * K * sizeof(double);
    hj__dist_count(ctx, HJ__TRAFFIC_TOPK, (uint64_t)n * rb);
    if (!ctx->mpi || ctx->size == 1 || n == 0)
        return HJ_OK;
    if (rb > (size_t)INT32_MAX)
        return hj_error_set(err, HJ_ERANGE, "dist: top-K of %zu too large", K);
    const size_t per = HJ__DIST_CHUNK * sizeof(double) / rb > 0 ? HJ__DIST_CHUNK * sizeof(double) / rb : 1;
    const size_t chunk = n < per ? n : per;
    char *buf = malloc(chunk * rb);
    if (buf == NULL)
        return hj_error_set(err, HJ_ENOMEM, "dist: out of memory packing the top-K");
    MPI_Datatype rec = MPI_DATATYPE_NULL;
    MPI_Op op = MPI_OP_NULL;
    hj_status st = HJ_OK;
    int rc;
    if ((rc = MPI_Type_contiguous((int)rb, MPI_BYTE, &rec)) != MPI_SUCCESS ||
        (rc = MPI_Type_commit(&rec)) != MPI_SUCCESS ||
        (rc = MPI_Op_create(topk_op, 1, &op)) != MPI_SUCCESS) {
        st = hj__dist_mpi_error(ctx, rc, "top-K datatype", err);
        goto done;
    }
    for (size_t off = 0; off < n; off += chunk) {
        const size_t cnt = n - off < chunk ? n - off : chunk;
        for (size_t i = 0; i < cnt; i++) {
            memcpy(buf + i * rb, tk->logit + (off + i) * K, K * sizeof(double));
            memcpy(buf + i * rb + K * sizeof(double), tk->index + (off + i) * K, K * sizeof(size_t));
        }
        rc = MPI_Reduce(ctx->rank == 0 ? MPI_IN_PLACE : buf, buf, (int)cnt, rec, op, 0, ctx->comm);
        if (rc != MPI_SUCCESS) {
            st = hj__dist_mpi_error(ctx, rc, "MPI_Reduce (top-K)", err);
            goto done;
        }
        if (ctx->rank == 0)
            for (size_t i = 0; i < cnt; i++) {
                memcpy(tk->logit + (off + i) * K, buf + i * rb, K * sizeof(double));
                memcpy(tk->index + (off + i) * K, buf + i * rb + K * sizeof(double), K * sizeof(size_t));
            }
    }
done:
    if (op != MPI_OP_NULL)
        MPI_Op_free(&op);
    if (rec != MPI_DATATYPE_NULL)
        MPI_Type_free(&rec);
    free(buf);
    return st;
}

#else /* one process: the states are already complete */

hj_status hj_dist_reduce_partial(hj_dist *ctx, double *P, size_t n, size_t dv, double eps,
                                 hj_error *err)
{
    (void)eps;
    if (ctx == NULL || (n > 0 && P == NULL))
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to the partial-state reduction");
    hj__dist_count(ctx, HJ__TRAFFIC_PARTIAL, (uint64_t)n * hj_partial_width(dv) * sizeof *P);
    return HJ_OK;
}

hj_status hj_dist_reduce_topk(hj_dist *ctx, hj_topk *tk, hj_error *err)
{
    if (ctx == NULL || tk == NULL)
        return hj_error_set(err, HJ_EINVAL, "dist: NULL argument to the top-K reduction");
    hj__dist_count(ctx, HJ__TRAFFIC_TOPK, (uint64_t)tk->n * 2 * tk->K * sizeof(double));
    return HJ_OK;
}

#endif /* HJDL_HAVE_MPI */
