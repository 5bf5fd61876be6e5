/* influence.c — exact closed-form leave-one-out and ablation changes of Gibbs predictors, and the explain summary. */
#include "hjdl/influence.h"
#include "core/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * One point is reduced to its "split" (see influence.h): the first arg-max
 * j1, the largest other logit m2, r = exp((m2 - a_j1)/eps) and
 * f_j = exp((a_j - m2)/eps) for j != j1 (f_j1 = 0), R = sum f_j, s = 1 + r R.
 * Everything else is read off these in O(N nv).
 */
typedef struct split {
    size_t j1;
    double m1, m2;   /* largest logit, largest among j != j1 */
    double lr;       /* log r = (m2 - m1)/eps (0 or -inf at eps == 0) */
    double r, R, s;
} split;

/* Fill sp and f (N) from logits a (N >= 2), eps >= 0. */
static void make_split(const double *a, size_t N, double eps, double *f, split *sp)
{
    size_t j1 = 0;
    for (size_t j = 1; j < N; j++)
        if (a[j] > a[j1])
            j1 = j;
    double m2 = -INFINITY;
    for (size_t j = 0; j < N; j++)
        if (j != j1 && a[j] > m2)
            m2 = a[j];
    double R = 0.0;
    if (eps > 0.0) {
        for (size_t j = 0; j < N; j++) {
            f[j] = j == j1 ? 0.0 : exp((a[j] - m2) / eps);
            R += f[j];
        }
        sp->lr = (m2 - a[j1]) / eps;
        sp->r = exp(sp->lr);
    } else {
        for (size_t j = 0; j < N; j++) {
            f[j] = (j != j1 && a[j] == m2) ? 1.0 : 0.0;
            R += f[j];
        }
        sp->r = m2 == a[j1] ? 1.0 : 0.0;
        sp->lr = m2 == a[j1] ? 0.0 : -INFINITY;
    }
    sp->j1 = j1;
    sp->m1 = a[j1];
    sp->m2 = m2;
    sp->R = R;
    sp->s = 1.0 + sp->r * R;
}

/* LOO at one point from its logits; f (N) and V (nv) scratch. */
static void loo_point(const double *a, size_t N, double eps, const double *v, size_t nv,
                      double *P, double *delta, double *f, double *V)
{
    split sp;
    make_split(a, N, eps, f, &sp);
    for (size_t c = 0; c < nv; c++)
        V[c] = 0.0;
    for (size_t j = 0; j < N; j++) {
        if (f[j] == 0.0)
            continue;
        const double *vj = v + j * nv;
        for (size_t c = 0; c < nv; c++)
            V[c] += f[j] * vj[c];
    }
    const double *v1 = v + sp.j1 * nv;
    /* P first (delta may not alias P, but P is needed for every k) */
    double *Pc = P;
    for (size_t c = 0; c < nv; c++)
        Pc[c] = (v1[c] + sp.r * V[c]) / sp.s;
    for (size_t j = 0; j < N; j++) {
        double *dj = delta + j * nv;
        const double *vj = v + j * nv;
        if (j == sp.j1) {
            for (size_t c = 0; c < nv; c++)
                dj[c] = (V[c] / sp.R - v1[c]) / sp.s;
            continue;
        }
        const double w = sp.r * f[j];
        if (w == 0.0) {
            for (size_t c = 0; c < nv; c++)
                dj[c] = 0.0;
            continue;
        }
        const double q = w / (sp.s - w);   /* pi_j/(1 - pi_j) */
        for (size_t c = 0; c < nv; c++)
            dj[c] = q * (Pc[c] - vj[c]);
    }
}

/* Ablation at one point; f (N) scratch. Returns F. */
static double ablation_point(const double *a, size_t N, double eps, double *delta, double *f)
{
    split sp;
    make_split(a, N, eps, f, &sp);
    const double lg = log1p(sp.r * sp.R);   /* log s */
    for (size_t j = 0; j < N; j++) {
        if (j == sp.j1) {
            /* log(1 - pi_j1) = log(rR/(1 + rR)): as -log1p(1/(rR)) when rR >= 1
             * (no cancellation near 1 - pi -> 1), else log r + log R - log1p(rR) */
            const double rR = sp.r * sp.R;
            if (eps > 0.0 && rR >= 1.0)
                delta[j] = -eps * log1p(1.0 / rR);
            else
                delta[j] = (sp.m2 - sp.m1) + (eps > 0.0 ? eps * (log(sp.R) - lg) : 0.0);
        } else {
            delta[j] = eps > 0.0 ? eps * log1p(-sp.r * f[j] / sp.s) : 0.0;
        }
    }
    return sp.m1 + (eps > 0.0 ? eps * lg : 0.0);
}

/* ---- explain ---------------------------------------------------------------- */

const char *hj_regime_name(hj_regime r)
{
    switch (r) {
    case HJ_REGIME_PARTICLE:
        return "particle";
    case HJ_REGIME_MIXED:
        return "mixed";
    case HJ_REGIME_WAVE:
        return "wave";
    }
    return "?";
}

hj_regime hj_regime_classify(double H, size_t N)
{
    if (N <= 1)
        return HJ_REGIME_PARTICLE;
    const double h = H / log((double)N);
    if (h < HJ_REGIME_PARTICLE_MAX)
        return HJ_REGIME_PARTICLE;
    if (h > HJ_REGIME_WAVE_MIN)
        return HJ_REGIME_WAVE;
    return HJ_REGIME_MIXED;
}

double hj_critical_eps(size_t N, size_t d)
{
    if (N == 0 || d == 0)
        return NAN;
    return pow((double)N, -1.0 / (double)d);
}

static void fill_summary(double H, size_t N, hj_explain *out)
{
    const double Hmax = N > 1 ? log((double)N) : 0.0;
    H = fmin(fmax(H, 0.0), Hmax);
    out->entropy = H;
    out->n_eff = fmin(fmax(exp(H), 1.0), (double)N);
    out->regime = hj_regime_classify(H, N);
}

/* Explain one point from logits a (N >= 1); f (N) scratch. */
static void explain_point(const double *a, size_t N, double eps, size_t K, hj_explain *out,
                          double *pi_top, size_t *idx_top, double *f)
{
    if (N == 1) {
        fill_summary(0.0, 1, out);
        if (K > 0) {
            pi_top[0] = 1.0;
            idx_top[0] = 0;
        }
        return;
    }
    split sp;
    make_split(a, N, eps, f, &sp);
    double H;
    if (eps > 0.0) {
        /* H = log s - (1/s) sum_{j != j1} pi~_j l_j, pi~_j = r f_j, l_j = (a_j - m1)/eps */
        double acc = 0.0;
        for (size_t j = 0; j < N; j++) {
            const double w = sp.r * f[j];
            if (j != sp.j1 && w > 0.0)
                acc += w * ((a[j] - sp.m1) / eps);
        }
        H = log1p(sp.r * sp.R) - acc / sp.s;
    } else {
        H = log(sp.s);   /* uniform on the arg-max set of size s */
    }
    fill_summary(H, N, out);
    if (K > 0) {
        hj__top_k(a, N, K, pi_top, idx_top);
        for (size_t k = 0; k < K; k++) {
            const size_t j = idx_top[k];
            pi_top[k] = (j == sp.j1 ? 1.0 : sp.r * f[j]) / sp.s;
        }
    }
}

/* ---- validation ------------------------------------------------------------- */

static hj_status check_finite(const double *p, size_t n, size_t cols, const char *what,
                              const char *name, hj_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return hj_error_set(err, HJ_ENAN, "%s: %s[%zu][%zu] is not finite", what, name,
                                cols ? i / cols : i, cols ? i % cols : 0);
    return HJ_OK;
}

static hj_status check_logits(const double *a, size_t N, double eps, size_t Nmin, const char *what,
                              hj_error *err)
{
    if (a == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL logits", what);
    if (N < Nmin)
        return hj_error_set(err, HJ_EINVAL, "%s: needs at least %zu atoms, got %zu", what, Nmin, N);
    hj_status st = hj_check_eps(eps, what, err);
    if (st == HJ_OK)
        st = check_finite(a, N, 0, what, "logit", err);
    return st;
}

/* ---- batches: each point's logits from atoms or from an LSE layer ------------- */

typedef struct logit_src {
    const hj_atoms *at;         /* atoms, or NULL for a layer */
    const hj_metric *metric;    /* atoms: NULL means A = I */
    const hj_lse_layer *L;      /* layer, or NULL for atoms */
    double t, eps;
    size_t N, d;
    const char *noun;           /* "atoms" / "neurons", for messages */
} logit_src;

/* Validate the atoms/points/time/eps/metric of a batch call; fill s. */
static hj_status src_atoms(logit_src *s, const hj_atoms *a, const hj_metric *metric, const double *x,
                           size_t n, double t, double eps, size_t Nmin, const char *what, hj_error *err)
{
    if (a == NULL || (n > 0 && x == NULL))
        return hj_error_set(err, HJ_EINVAL, "%s: NULL argument", what);
    hj_status st = hj_atoms_check_eval(a, metric, x, n, t, eps, what, err);
    if (st != HJ_OK)
        return st;
    if (a->N < Nmin)
        return hj_error_set(err, HJ_EINVAL, "%s: needs at least %zu atoms, got %zu", what, Nmin, a->N);
    *s = (logit_src){a, metric, NULL, t, eps, a->N, a->d, "atoms"};
    return HJ_OK;
}

/* Validate the layer/points of a batch call; fill s. */
static hj_status src_layer(logit_src *s, const hj_lse_layer *L, const double *x, size_t n, size_t Nmin,
                           const char *what, hj_error *err)
{
    if (L == NULL || (n > 0 && x == NULL))
        return hj_error_set(err, HJ_EINVAL, "%s: NULL argument", what);
    hj_status st = hj_lse_check(L, err);
    if (st != HJ_OK)
        return st;
    if (L->N < Nmin)
        return hj_error_set(err, HJ_EINVAL, "%s: needs at least %zu neurons, got %zu", what, Nmin, L->N);
    if ((st = check_finite(x, n * L->d, L->d, what, "x", err)) != HJ_OK)
        return st;
    *s = (logit_src){NULL, NULL, L, 0.0, L->eps, L->N, L->d, "neurons"};
    return HJ_OK;
}

/* Logits z (N) of one point x (d); diff scratch (d). A layer: those of
 * hj_lse_forward (hj__layer_logits), bit for bit. Atoms:
 * a_j = -c_j(x), the atom cost of atoms.h, as in hj_hopf_cole_eval, bit
 * for bit. */
static void src_logits(const logit_src *s, const double *x, double *diff, double *z)
{
    if (s->L != NULL) {
        hj__layer_logits(s->L, x, z);
        return;
    }
    const size_t d = s->d;
    const double *Ainv = hj_metric_Ainv(s->metric);
    for (size_t j = 0; j < s->N; j++)
        z[j] = -hj_atom_cost(s->at->g[j], hj_atoms_sqdist(Ainv, x, s->at->y + j * d, d, diff), s->t);
}

/* Scratch of a batch: logits (N), f (N), `extra`, diff (d). */
static double *batch_scratch(const logit_src *s, size_t extra, const char *what, hj_error *err)
{
    double *mem = malloc((2 * s->N + extra + s->d + 1) * sizeof *mem);
    if (mem == NULL)
        hj_error_set(err, HJ_ENOMEM, "%s: out of memory (N = %zu)", what, s->N);
    return mem;
}

static hj_status batch_loo(const logit_src *s, const double *x, size_t n, const double *v, size_t nv,
                           double *P, double *delta, hj_error *err)
{
    static const char *W = "leave-one-out";
    if (v == NULL || nv == 0 || (n > 0 && delta == NULL))
        return hj_error_set(err, HJ_EINVAL, "%s: NULL values/output or nv = 0", W);
    hj_status st = check_finite(v, s->N * nv, nv, W, "v", err);
    if (st != HJ_OK)
        return st;
    const size_t N = s->N;
    double *mem = batch_scratch(s, 2 * nv, W, err);
    if (mem == NULL)
        return HJ_ENOMEM;
    double *z = mem, *f = z + N, *V = f + N, *Ptmp = V + nv, *diff = Ptmp + nv;
    for (size_t i = 0; i < n; i++) {
        src_logits(s, x + i * s->d, diff, z);
        loo_point(z, N, s->eps, v, nv, P ? P + i * nv : Ptmp, delta + i * N * nv, f, V);
    }
    free(mem);
    return HJ_OK;
}

/* F (n, may be NULL) and delta (n, N) of the LSE; negated (those of u = -F) when negate. */
static hj_status batch_ablation(const logit_src *s, const double *x, size_t n, int negate, double *F,
                                double *delta, hj_error *err)
{
    static const char *W = "ablation";
    if (n > 0 && delta == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL output", W);
    const size_t N = s->N;
    double *mem = batch_scratch(s, 0, W, err);
    if (mem == NULL)
        return HJ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        double *di = delta + i * N;
        src_logits(s, x + i * s->d, mem + 2 * N, mem);
        double Fi = ablation_point(mem, N, s->eps, di, mem + N);
        if (negate) {
            for (size_t k = 0; k < N; k++)
                di[k] = -di[k];
            Fi = -Fi;
        }
        if (F)
            F[i] = Fi;
    }
    free(mem);
    return HJ_OK;
}

static hj_status batch_explain(const logit_src *s, const double *x, size_t n, size_t K, hj_explain *out,
                               double *pi_top, size_t *idx_top, hj_error *err)
{
    static const char *W = "explain";
    if (K > s->N)
        return hj_error_set(err, HJ_EINVAL, "%s: top K = %zu exceeds the %zu %s", W, K, s->N, s->noun);
    if (n > 0 && (out == NULL || (K > 0 && (pi_top == NULL || idx_top == NULL))))
        return hj_error_set(err, HJ_EINVAL, "%s: NULL output", W);
    const size_t N = s->N;
    double *mem = batch_scratch(s, 0, W, err);
    if (mem == NULL)
        return HJ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        src_logits(s, x + i * s->d, mem + 2 * N, mem);
        explain_point(mem, N, s->eps, K, out + i, K ? pi_top + i * K : NULL, K ? idx_top + i * K : NULL,
                      mem + N);
    }
    free(mem);
    return HJ_OK;
}

/* ---- public: one point ------------------------------------------------------------ */

hj_status hj_influence_loo_logits(const double *a, size_t N, double eps, const double *v,
                                  size_t nv, double *P, double *delta, hj_error *err)
{
    hj_status st = check_logits(a, N, eps, 2, "leave-one-out", err);
    if (st != HJ_OK)
        return st;
    if (v == NULL || delta == NULL || nv == 0)
        return hj_error_set(err, HJ_EINVAL, "leave-one-out: NULL values/output or nv = 0");
    if ((st = check_finite(v, N * nv, nv, "leave-one-out", "v", err)) != HJ_OK)
        return st;
    double *mem = malloc((N + 2 * nv) * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "leave-one-out: out of memory (N = %zu)", N);
    loo_point(a, N, eps, v, nv, P ? P : mem + N + nv, delta, mem, mem + N);
    free(mem);
    return HJ_OK;
}

hj_status hj_influence_ablation_logits(const double *a, size_t N, double eps, double *F,
                                       double *delta, hj_error *err)
{
    hj_status st = check_logits(a, N, eps, 2, "ablation", err);
    if (st != HJ_OK)
        return st;
    if (delta == NULL)
        return hj_error_set(err, HJ_EINVAL, "ablation: NULL output");
    double *f = malloc(N * sizeof *f);
    if (f == NULL)
        return hj_error_set(err, HJ_ENOMEM, "ablation: out of memory (N = %zu)", N);
    double Fv = ablation_point(a, N, eps, delta, f);
    if (F)
        *F = Fv;
    free(f);
    return HJ_OK;
}

hj_status hj_explain_logits(const double *a, size_t N, double eps, size_t K, hj_explain *out,
                            double *pi_top, size_t *idx_top, hj_error *err)
{
    hj_status st = check_logits(a, N, eps, 1, "explain", err);
    if (st != HJ_OK)
        return st;
    if (out == NULL || (K > 0 && (pi_top == NULL || idx_top == NULL)))
        return hj_error_set(err, HJ_EINVAL, "explain: NULL output");
    if (K > N)
        return hj_error_set(err, HJ_EINVAL, "explain: top K = %zu exceeds the %zu atoms", K, N);
    double *f = malloc(N * sizeof *f);
    if (f == NULL)
        return hj_error_set(err, HJ_ENOMEM, "explain: out of memory (N = %zu)", N);
    explain_point(a, N, eps, K, out, pi_top, idx_top, f);
    free(f);
    return HJ_OK;
}

hj_status hj_explain_pi(const double *pi, size_t N, size_t K, hj_explain *out, double *pi_top,
                        size_t *idx_top, hj_error *err)
{
    if (pi == NULL || out == NULL || (K > 0 && (pi_top == NULL || idx_top == NULL)))
        return hj_error_set(err, HJ_EINVAL, "explain: NULL argument");
    if (N == 0)
        return hj_error_set(err, HJ_EINVAL, "explain: no atoms");
    if (K > N)
        return hj_error_set(err, HJ_EINVAL, "explain: top K = %zu exceeds the %zu atoms", K, N);
    double sum = 0.0, H = 0.0;
    for (size_t j = 0; j < N; j++) {
        if (!isfinite(pi[j]) || pi[j] < 0.0)
            return hj_error_set(err, HJ_EDOM, "explain: weight pi[%zu] = %g is not a probability", j, pi[j]);
        sum += pi[j];
        if (pi[j] > 0.0)
            H -= pi[j] * log(pi[j]);
    }
    if (fabs(sum - 1.0) > 1e-9 * (double)N)
        return hj_error_set(err, HJ_EDOM, "explain: weights sum to %.17g, not 1", sum);
    fill_summary(H, N, out);
    hj__top_k(pi, N, K, pi_top, idx_top);
    return HJ_OK;
}

/* ---- public: batches ---------------------------------------------------------------- */

hj_status hj_influence_loo_atoms(const hj_atoms *a, const hj_metric *metric, const double *x,
                                 size_t n, double t, double eps, const double *v, size_t nv,
                                 double *P, double *delta, hj_error *err)
{
    logit_src s;
    hj_status st = src_atoms(&s, a, metric, x, n, t, eps, 2, "leave-one-out", err);
    return st != HJ_OK ? st : batch_loo(&s, x, n, v, nv, P, delta, err);
}

hj_status hj_influence_loo_layer(const hj_lse_layer *L, const double *x, size_t n,
                                 const double *v, size_t nv, double *P, double *delta,
                                 hj_error *err)
{
    logit_src s;
    hj_status st = src_layer(&s, L, x, n, 2, "leave-one-out", err);
    return st != HJ_OK ? st : batch_loo(&s, x, n, v, nv, P, delta, err);
}

hj_status hj_influence_ablation(const hj_lse_layer *L, const double *x, size_t n, double *f,
                                double *delta, hj_error *err)
{
    logit_src s;
    hj_status st = src_layer(&s, L, x, n, 2, "ablation", err);
    return st != HJ_OK ? st : batch_ablation(&s, x, n, 0, f, delta, err);
}

hj_status hj_influence_ablation_atoms(const hj_atoms *a, const hj_metric *metric,
                                      const double *x, size_t n, double t, double eps,
                                      double *u, double *delta, hj_error *err)
{
    logit_src s;
    hj_status st = src_atoms(&s, a, metric, x, n, t, eps, 2, "ablation", err);
    return st != HJ_OK ? st : batch_ablation(&s, x, n, 1, u, delta, err);
}

hj_status hj_explain_atoms(const hj_atoms *a, const hj_metric *metric, const double *x,
                           size_t n, double t, double eps, size_t K, hj_explain *out,
                           double *pi_top, size_t *idx_top, hj_error *err)
{
    logit_src s;
    hj_status st = src_atoms(&s, a, metric, x, n, t, eps, 1, "explain", err);
    return st != HJ_OK ? st : batch_explain(&s, x, n, K, out, pi_top, idx_top, err);
}

hj_status hj_explain_layer(const hj_lse_layer *L, const double *x, size_t n, size_t K,
                           hj_explain *out, double *pi_top, size_t *idx_top, hj_error *err)
{
    logit_src s;
    hj_status st = src_layer(&s, L, x, n, 1, "explain", err);
    return st != HJ_OK ? st : batch_explain(&s, x, n, K, out, pi_top, idx_top, err);
}
