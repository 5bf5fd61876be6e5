/* landscape_search.c — multi-start search for the critical points of H: starts, Newton, deduplication, classification. */
#include "hjdl/landscape.h"
#include "attribution/landscape-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>



/* ---- multi-start ------------------------------------------------------------------ */

void hj_landscape_options_default(hj_landscape_options *o)
{
    memset(o, 0, sizeof *o);
    o->eps_min = NAN;
    o->eps_max = NAN;
    o->pad = 0.5;
    o->lo = o->hi = NULL;
    o->h_max = 0.05;
    o->h_min = 1e-8;
    o->max_steps = 20000;
    o->seed_levels = 16;
    o->grid_seeds = 0;
    o->neighbours = 8;
}

void hj_crit_list_free(hj_crit_list *c)
{
    if (c == NULL)
        return;
    free(c->x), free(c->H), free(c->index), free(c->lam_rel);
    memset(c, 0, sizeof *c);
}

static hj_status crit_push(hj_crit_list *c, const double *x, const hj_crit_info *info,
                           hj_error *err)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        double *nx = realloc(c->x, cap * c->d * sizeof *nx);
        if (nx)
            c->x = nx;
        double *nH = realloc(c->H, cap * sizeof *nH);
        if (nH)
            c->H = nH;
        int *ni = realloc(c->index, cap * sizeof *ni);
        if (ni)
            c->index = ni;
        double *nl = realloc(c->lam_rel, cap * sizeof *nl);
        if (nl)
            c->lam_rel = nl;
        if (!nx || !nH || !ni || !nl)
            return hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
        c->cap = cap;
    }
    memcpy(c->x + c->n * c->d, x, c->d * sizeof *x);
    c->H[c->n] = info->H;
    c->index[c->n] = info->index;
    c->lam_rel[c->n] = info->lam_rel;
    c->n++;
    return HJ_OK;
}

typedef struct key_idx {
    double key;
    size_t i;
} key_idx;

static int cmp_key(const void *a, const void *b)
{
    const key_idx *p = a, *q = b;
    return (p->key > q->key) - (p->key < q->key);
}

/* Resolve the options' domain into lo, hi (d). */
static void options_domain(const hj_landscape *L, const hj_landscape_options *o, double *lo,
                           double *hi)
{
    if (o->lo && o->hi) {
        memcpy(lo, o->lo, L->d * sizeof *lo);
        memcpy(hi, o->hi, L->d * sizeof *hi);
    } else {
        hj_landscape_domain(L, o->pad, lo, hi);
    }
}

hj_status hj_landscape_critical_points(hj_landscape *L, double eps, const hj_landscape_options *o,
                                       hj_crit_list *out, hj_error *err)
{
    if (L == NULL || o == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "landscape: NULL argument");
    memset(out, 0, sizeof *out);
    out->d = L->d;
    if (!(eps > 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "landscape: eps must be finite and > 0 (got %g)", eps);
    const size_t N = L->N, d = L->d;
    size_t ng = o->grid_seeds;
    if (ng == 0)
        ng = d == 1 ? 96 : d == 2 ? 20 : d == 3 ? 6 : 0;
    /* two seed grids: ng^d over the atoms' box (widened by 10%) and
     * (ng/2)^d over the whole domain, for minima far from the atoms */
    size_t n_in = 1, n_out = 1, ng2 = ng / 2 > 1 ? ng / 2 : (ng ? 2 : 0);
    if (ng == 0 || d > 6)
        n_in = n_out = 0;
    else
        for (size_t k = 0; k < d; k++)
            n_in *= ng, n_out *= ng2;
    size_t kn = o->neighbours < N ? o->neighbours : N - 1;
    const size_t n_seeds = N + N * kn + n_in + n_out;
    double *seeds = malloc(n_seeds * d * sizeof *seeds);
    double *lo = malloc(d * sizeof *lo), *hi = malloc(d * sizeof *hi);
    double *xs = malloc(d * sizeof *xs);
    double *dmem = malloc((5 * d + d * d) * sizeof *dmem);
    key_idx *nb = malloc((N ? N : 1) * sizeof *nb);
    hj_status st = HJ_OK;
    if (!seeds || !lo || !hi || !xs || !dmem || !nb) {
        st = hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
        goto done;
    }
    options_domain(L, o, lo, hi);
    double diam = 0.0;
    for (size_t k = 0; k < d; k++)
        diam += (hi[k] - lo[k]) * (hi[k] - lo[k]);
    diam = sqrt(diam);
    size_t ns = 0;
    for (size_t j = 0; j < N; j++)
        memcpy(seeds + (ns++) * d, L->y + j * d, d * sizeof *seeds);
    for (size_t j = 0; j < N && kn > 0; j++) {
        size_t m = 0;
        for (size_t i = 0; i < N; i++) {
            if (i == j)
                continue;
            double s2 = 0.0;
            for (size_t k = 0; k < d; k++) {
                double e = L->y[i * d + k] - L->y[j * d + k];
                s2 += e * e;
            }
            nb[m].key = s2, nb[m].i = i, m++;
        }
        qsort(nb, m, sizeof *nb, cmp_key);
        for (size_t a = 0; a < kn && a < m; a++) {
            double *sd = seeds + (ns++) * d;
            for (size_t k = 0; k < d; k++)
                sd[k] = 0.5 * (L->y[j * d + k] + L->y[nb[a].i * d + k]);
        }
    }
    const double side = hj__landscape_box_side(L);
    for (int pass = 0; pass < 2; pass++) {
        const size_t cnt = pass == 0 ? n_in : n_out, per = pass == 0 ? ng : ng2;
        for (size_t gi = 0; gi < cnt; gi++) {
            size_t rem = gi;
            double *sd = seeds + (ns++) * d;
            for (size_t k = 0; k < d; k++) {
                size_t ik = rem % per;
                rem /= per;
                double a = pass == 0 ? L->box_lo[k] - 0.1 * side : lo[k];
                double b = pass == 0 ? L->box_hi[k] + 0.1 * side : hi[k];
                sd[k] = a + (b - a) * ((double)ik + 0.5) / (double)per;
            }
        }
    }
    const size_t mid_lo = N, mid_hi = N + N * kn; /* the midpoint seeds */
    for (size_t i = 0; i < ns * 3; i++) {
        /* from each seed: Newton (any critical point), descent (a minimum),
         * ascent (a maximum); from the midpoints, placed for saddles, Newton only */
        const double *sd = seeds + (i / 3) * d;
        hj_error e2 = {0};
        if (i % 3 != 0 && i / 3 >= mid_lo && i / 3 < mid_hi)
            continue;
        if (i % 3 == 0) {
            if (hj_landscape_newton(L, eps, sd, lo, hi, xs, NULL, &e2) != HJ_OK)
                continue;
        } else if (hj__landscape_descend(L, eps, sd, lo, hi, i % 3 == 1 ? 1.0 : -1.0, 0.05 * diam, diam, xs,
                           dmem) != 0) {
            continue;
        }
        if (!hj__landscape_inside(xs, lo, hi, d))
            continue;
        hj_crit_info info;
        if (hj_landscape_classify(L, eps, xs, &info, &e2) != HJ_OK)
            continue;
        if (info.index < 0 || !(info.grad_rel <= 1e-8))
            continue;
        int dup = 0;
        for (size_t c = 0; c < out->n && !dup; c++) {
            double s2 = 0.0;
            for (size_t k = 0; k < d; k++) {
                double e = out->x[c * d + k] - xs[k];
                s2 += e * e;
            }
            if (sqrt(s2) <= 1e-7 * diam)
                dup = 1;
        }
        if (dup)
            continue;
        if ((st = crit_push(out, xs, &info, err)) != HJ_OK)
            goto done;
    }
    /* sort by x_1 */
    if (out->n > 1) {
        key_idx *ord = malloc(out->n * sizeof *ord);
        hj_crit_list tmp = {0};
        tmp.d = d;
        if (ord == NULL) {
            st = hj_error_set(err, HJ_ENOMEM, "landscape: out of memory");
            goto done;
        }
        for (size_t c = 0; c < out->n; c++)
            ord[c].key = out->x[c * d], ord[c].i = c;
        qsort(ord, out->n, sizeof *ord, cmp_key);
        for (size_t c = 0; c < out->n && st == HJ_OK; c++) {
            hj_crit_info info = {0};
            size_t i = ord[c].i;
            info.H = out->H[i], info.index = out->index[i], info.lam_rel = out->lam_rel[i];
            st = crit_push(&tmp, out->x + i * d, &info, err);
        }
        free(ord);
        if (st != HJ_OK) {
            hj_crit_list_free(&tmp);
            goto done;
        }
        hj_crit_list_free(out);
        *out = tmp;
    }
done:
    if (st != HJ_OK)
        hj_crit_list_free(out);
    free(seeds), free(lo), free(hi), free(xs), free(nb), free(dmem);
    return st;
}

