/* topk.c — the K largest entries of an array, best first, ties to the smaller index. */
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
