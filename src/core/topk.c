/* topk.c — the K largest entries of an array, best first, ties to the smaller index;
 * the streaming top-K of partial.h (heaps per point, merged across shards). */
#include "hjdl/partial.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core-impl.h"

int hj__ranks_below(double ka, size_t ia, double kb, size_t ib)
{
    return ka < kb || (ka == kb && ia > ib);
}

void hj__swap_ranked(double *key, size_t *idx, size_t a, size_t b)
{
    double tk = key[a];
    key[a] = key[b];
    key[b] = tk;
    size_t ti = idx[a];
    idx[a] = idx[b];
    idx[b] = ti;
}

void hj__heap_sift_down(double *key, size_t *idx, size_t n, size_t p)
{
    for (;;) {
        size_t l = 2 * p + 1, r = l + 1, w = p;
        if (l < n && hj__ranks_below(key[l], idx[l], key[w], idx[w]))
            w = l;
        if (r < n && hj__ranks_below(key[r], idx[r], key[w], idx[w]))
            w = r;
        if (w == p)
            return;
        hj__swap_ranked(key, idx, p, w);
        p = w;
    }
}

static void sift_up(double *key, size_t *idx, size_t p)
{
    while (p > 0) {
        size_t q = (p - 1) / 2;
        if (!hj__ranks_below(key[p], idx[p], key[q], idx[q]))
            return;
        hj__swap_ranked(key, idx, p, q);
        p = q;
    }
}

void hj__top_k(const double *key, size_t N, size_t K, double *top_key, size_t *top_idx)
{
    if (K == 0)
        return;
    size_t n = 0;
    for (size_t j = 0; j < N; j++) {
        if (n < K) {
            top_key[n] = key[j];
            top_idx[n] = j;
            sift_up(top_key, top_idx, n);
            n++;
        } else if (hj__ranks_below(top_key[0], top_idx[0], key[j], j)) {
            top_key[0] = key[j];
            top_idx[0] = j;
            hj__heap_sift_down(top_key, top_idx, K, 0);
        }
    }
    /* heap sort: move the worst to the end repeatedly -> best-first order */
    for (size_t m = n; m > 1; m--) {
        hj__swap_ranked(top_key, top_idx, 0, m - 1);
        hj__heap_sift_down(top_key, top_idx, m - 1, 0);
    }
}

/* ---- streaming top-K (partial.h: hj_topk) ----------------------------------- */

/* A best-first row is reversed into a worst-first one: a valid min-heap. */
void hj__topk_row_to_heap(double *key, size_t *idx, size_t K)
{
    for (size_t a = 0, b = K - 1; a < b; a++, b--)
        hj__swap_ranked(key, idx, a, b);
}

/* Heap sort back to best-first order. */
void hj__topk_heap_to_row(double *key, size_t *idx, size_t K)
{
    for (size_t m = K; m > 1; m--) {
        hj__swap_ranked(key, idx, 0, m - 1);
        hj__heap_sift_down(key, idx, m - 1, 0);
    }
}

/* Offer logits a (T) of global atoms off + j to the heap (key, idx) (K). */
void hj__topk_offer(double *key, size_t *idx, size_t K, const double *a, size_t T, size_t off)
{
    double thr = key[0];
    for (size_t j = 0; j < T; j++) {
        const double aj = a[j];
        if (aj < thr)
            continue;
        if (aj == thr && off + j > idx[0])
            continue;
        key[0] = aj;
        idx[0] = off + j;
        hj__heap_sift_down(key, idx, K, 0);
        thr = key[0];
    }
}

void hj_topk_init(hj_topk *tk, size_t n, size_t K, double *logit, size_t *index)
{
    tk->n = n;
    tk->K = K;
    tk->logit = logit;
    tk->index = index;
    for (size_t k = 0; k < n * K; k++) {
        logit[k] = -INFINITY;
        index[k] = SIZE_MAX;
    }
}

void hj_topk_merge(hj_topk *dst, const hj_topk *src)
{
    const size_t K = dst->K;
    double kbuf[64];
    size_t ibuf[64];
    double *key = K <= 64 ? kbuf : malloc(K * sizeof *key);
    size_t *idx = K <= 64 ? ibuf : malloc(K * sizeof *idx);
    if (key == NULL || idx == NULL) {
        /* no memory for the merge buffer: insert src into dst's heap instead */
        if (key != kbuf)
            free(key);
        if (idx != ibuf)
            free(idx);
        for (size_t i = 0; i < dst->n; i++) {
            double *dk = dst->logit + i * K;
            size_t *di = dst->index + i * K;
            hj__topk_row_to_heap(dk, di, K);
            for (size_t k = 0; k < K; k++) {
                const double a = src->logit[i * K + k];
                const size_t j = src->index[i * K + k];
                if (hj__ranks_below(dk[0], di[0], a, j)) {
                    dk[0] = a;
                    di[0] = j;
                    hj__heap_sift_down(dk, di, K, 0);
                }
            }
            hj__topk_heap_to_row(dk, di, K);
        }
        return;
    }
    for (size_t i = 0; i < dst->n; i++) {
        const double *ak = dst->logit + i * K, *bk = src->logit + i * K;
        const size_t *ai = dst->index + i * K, *bi = src->index + i * K;
        size_t p = 0, q = 0;
        for (size_t k = 0; k < K; k++) {
            if (q >= K || (p < K && !hj__ranks_below(ak[p], ai[p], bk[q], bi[q]))) {
                key[k] = ak[p];
                idx[k] = ai[p++];
            } else {
                key[k] = bk[q];
                idx[k] = bi[q++];
            }
        }
        memcpy(dst->logit + i * K, key, K * sizeof *key);
        memcpy(dst->index + i * K, idx, K * sizeof *idx);
    }
    if (key != kbuf)
        free(key);
    if (idx != ibuf)
        free(idx);
}
