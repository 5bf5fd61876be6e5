/* stream.c — Hopf–Cole solve and explain over atoms streamed from a file in tiles, sharded over the processes of an hj_shard. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/limits.h"
#include "hjdl/stream.h"

void hj_stream_range(size_t n, int rank, int size, size_t *begin, size_t *end)
{
    if (size < 1)
        size = 1;
    if (rank < 0)
        rank = 0;
    if (rank >= size)
        rank = size - 1;
    const size_t p = (size_t)size, r = (size_t)rank, q = n / p, extra = n % p;
    const size_t b = r * q + (r < extra ? r : extra);
    if (begin)
        *begin = b;
    if (end)
        *end = b + q + (r < extra ? 1 : 0);
}

hj_status hj_stream_check_coords(const double *v, size_t rows, size_t cols, size_t ncheck,
                                 size_t row0, const char *what, hj_error *err)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < ncheck; k++) {
            double c = v[i * cols + k];
            if (!(fabs(c) <= HJ_MAX_COORD))
                return hj_error_set(err, HJ_ERANGE,
                                    "%s row %zu, column %zu: %g is beyond +-%g, where |x - y|^2 "
                                    "overflows a double",
                                    what, row0 + i + 1, k + 1, c, HJ_MAX_COORD);
        }
    return HJ_OK;
}

hj_status hj_stream_open(const char *path, hj_rows **atoms, hj_error *err)
{
    if (atoms == NULL)
        return hj_error_set(err, HJ_EINVAL, "stream: NULL argument");
    hj_status st = hj_rows_open(path, atoms, err);
    if (st == HJ_OK && hj_rows_cols(*atoms) < 2) {
        st = hj_error_set(err, HJ_EFORMAT, "%s: atoms need at least 2 columns (y_1..y_d, g), found %zu",
                          path, hj_rows_cols(*atoms));
        hj_rows_close(*atoms);
        *atoms = NULL;
    }
    return st;
}

/* The group's view: one process when shard is NULL. */
static int shard_rank(const hj_shard *s) { return s ? s->rank : 0; }
static int shard_size(const hj_shard *s) { return s ? s->size : 1; }

/* Every process's outcome agreed on (no shard: its own, with a message). */
static hj_status agree(const hj_shard *s, hj_status local, hj_error *err)
{
    if (s != NULL)
        return s->agree(s->ctx, local, err, err);
    if (local != HJ_OK && err != NULL && err->msg[0] == '\0')
        return hj_error_set(err, local, "%s", hj_status_string(local));
    return local;
}

static hj_status check_shard(const hj_shard *s, hj_error *err)
{
    if (s != NULL && (s->size < 1 || s->rank < 0 || s->rank >= s->size || !s->agree ||
                      !s->reduce_partial || !s->reduce_topk))
        return hj_error_set(err, HJ_EINVAL, "stream: bad shard (rank %d of %d, or a missing collective)",
                            s->rank, s->size);
    return HJ_OK;
}

/* Fold rows [begin, end) of the atom file (rows y_1..y_d, g) into the states P
 * (n, 3 + dv) and top (may be NULL) at points x (n, d), in tiles of `tile`
 * rows (0: the whole range at once). Memory: tile (d + 2) doubles. */
static hj_status fold_rows(hj_rows *rows, size_t begin, size_t end, size_t tile,
                           const hj_metric *metric, const double *x, size_t n, double t,
                           double eps, int with_grad, double *P, hj_topk *top, hj_error *err)
{
    const size_t cols = hj_rows_cols(rows), d = cols - 1, len = end - begin;
    if (len == 0)
        return HJ_OK; /* an empty shard leaves the states empty */
    const size_t R = tile == 0 || tile > len ? len : tile;
    if (R > SIZE_MAX / sizeof(double) / cols)
        return hj_error_set(err, HJ_ENOMEM, "out of memory: a tile of %zu atoms", R);
    double *buf = malloc(R * cols * sizeof *buf), *g = malloc(R * sizeof *g);
    hj_status st = HJ_OK;
    if (buf == NULL || g == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "out of memory reading %zu atoms (%zu MB)", R,
                          (size_t)((double)R * (double)(cols + 1) * sizeof(double) / 1e6));
        goto done;
    }
    if ((st = hj_rows_seek(rows, begin, err)) != HJ_OK)
        goto done;
    for (size_t off = 0; off < len;) {
        size_t got = 0;
        if ((st = hj_rows_read(rows, buf, R < len - off ? R : len - off, &got, err)) != HJ_OK)
            goto done;
        if (got == 0) {
            st = hj_error_set(err, HJ_EIO, "unexpected end of the atoms at row %zu", begin + off);
            goto done;
        }
        if ((st = hj_stream_check_coords(buf, got, cols, d, begin + off, "atoms", err)) != HJ_OK)
            goto done;
        /* rows (y_1..y_d, g) -> y (got, d) in place and g (got) */
        for (size_t j = 0; j < got; j++) {
            g[j] = buf[j * cols + d];
            memmove(buf + j * d, buf + j * cols, d * sizeof *buf);
        }
        hj_atoms a = {got, d, buf, g};
        if ((st = hj_partial_atoms(&a, begin + off, metric, x, n, t, eps, with_grad, P, top, err)) !=
            HJ_OK)
            goto done;
        off += got;
    }
done:
    free(buf);
    free(g);
    return st;
}

/* This process's part, when st is HJ_OK: its slice of the atoms folded into
 * the states *P (n, 3 + dv, allocated here) and top (may be NULL). Returns
 * the outcome agreed on by every process; on HJ_OK the states are merged on
 * process 0 and *merged is the merge's own status (not agreed: the caller's
 * final agreement carries it, with whatever process 0 does next). */
static hj_status fold_and_merge(hj_status st, hj_rows *atoms, const hj_metric *metric,
                                const double *x, size_t n, double t, double eps, size_t tile,
                                const hj_shard *shard, int with_grad, double **P, hj_topk *top,
                                hj_status *merged, hj_error *err)
{
    *merged = HJ_OK;
    const size_t dv = with_grad ? hj_rows_cols(atoms) - 1 : 0;
    *P = NULL;
    if (st == HJ_OK && (*P = malloc((n ? n : 1) * hj_partial_width(dv) * sizeof **P)) == NULL)
        st = hj_error_set(err, HJ_ENOMEM, "out of memory");
    if (st == HJ_OK) {
        size_t begin, end;
        hj_stream_range(hj_rows_count(atoms), shard_rank(shard), shard_size(shard), &begin, &end);
        hj_partial_init(*P, n, dv);
        st = fold_rows(atoms, begin, end, tile, metric, x, n, t, eps, with_grad, *P, top, err);
    }
    if ((st = agree(shard, st, err)) != HJ_OK || shard == NULL)
        return st;
    *merged = shard->reduce_partial(shard->ctx, *P, n, dv, eps, err);
    if (*merged == HJ_OK && top != NULL)
        *merged = shard->reduce_topk(shard->ctx, top, err);
    return HJ_OK;
}

/* Arguments every process checks alike (before anything collective). */
static hj_status check_args(hj_rows *atoms, const double *x, size_t n, const hj_shard *shard,
                            hj_error *err)
{
    if (atoms == NULL || (n > 0 && x == NULL))
        return hj_error_set(err, HJ_EINVAL, "stream: NULL atoms or points");
    return check_shard(shard, err);
}

hj_status hj_stream_solve(hj_rows *atoms, const hj_metric *metric, const double *x, size_t n,
                          double t, double eps, size_t tile, const hj_shard *shard,
                          const hj_hc_out *out, hj_error *err)
{
    hj_status st = check_args(atoms, x, n, shard, err);
    if (st == HJ_OK && out == NULL)
        st = hj_error_set(err, HJ_EINVAL, "stream solve: NULL output");
    if (st != HJ_OK)
        return st;
    const int with_grad = out->grad != NULL;
    double *P = NULL;
    hj_status merged;
    st = fold_and_merge(HJ_OK, atoms, metric, x, n, t, eps, tile, shard, with_grad, &P, NULL,
                        &merged, err);
    if (st != HJ_OK) { /* agreed: every process stops here */
        free(P);
        return st;
    }
    st = merged;
    if (st == HJ_OK && shard_rank(shard) == 0)
        st = hj_partial_atoms_finish(P, n, hj_rows_cols(atoms) - 1, metric, x, t, eps, with_grad,
                                     out, NULL, NULL, err);
    free(P);
    return agree(shard, st, err);
}

hj_status hj_stream_explain(hj_rows *atoms, const double *x, size_t n, double t, double eps,
                            size_t K, size_t tile, const hj_shard *shard, hj_explain *sum,
                            double *pi_top, size_t *idx_top, hj_error *err)
{
    hj_status st = check_args(atoms, x, n, shard, err);
    const size_t N = atoms ? hj_rows_count(atoms) : 0, Kt = K ? K : 1;
    if (st == HJ_OK && K > N)
        st = hj_error_set(err, HJ_EINVAL, "explain: top K = %zu exceeds the %zu atoms", K, N);
    if (st != HJ_OK)
        return st;
    /* the top-K state: K slots (one when only the summaries are wanted) */
    double *logit = malloc((n * Kt + 1) * sizeof *logit), *P = NULL, *pt = NULL;
    size_t *index = malloc((n * Kt + 1) * sizeof *index);
    hj_topk top;
    if (logit == NULL || index == NULL)
        st = hj_error_set(err, HJ_ENOMEM, "out of memory");
    else
        hj_topk_init(&top, n, Kt, logit, index);
    hj_status merged;
    if ((st = fold_and_merge(st, atoms, NULL, x, n, t, eps, tile, shard, 0, &P, &top, &merged,
                             err)) != HJ_OK)
        goto done; /* agreed: every process stops here */
    st = merged;
    if (st == HJ_OK && shard_rank(shard) == 0) {
        pt = K ? pi_top : malloc(n * sizeof *pt + 1);
        if (pt == NULL || (K && idx_top == NULL))
            st = K ? hj_error_set(err, HJ_EINVAL, "explain: NULL output buffer")
                   : hj_error_set(err, HJ_ENOMEM, "out of memory");
        if (st == HJ_OK && sum != NULL)
            st = hj_partial_explain(P, n, 0, eps, N, sum, err);
        if (st == HJ_OK) {
            hj_hc_out none = {0};
            st = hj_partial_atoms_finish(P, n, hj_rows_cols(atoms) - 1, NULL, x, t, eps, 0, &none,
                                         &top, pt, err);
        }
        if (st == HJ_OK && K)
            memcpy(idx_top, index, n * K * sizeof *idx_top);
        if (!K)
            free(pt);
    }
    st = agree(shard, st, err);
done:
    free(P), free(logit), free(index);
    return st;
}
