/* verify_layers.c — C5 (softplus/ReLU, depth, ReLU = Hopf–Lax) and C6 (attention = Gibbs average). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/linalg.h"
#include "hjdl/attention.h"
#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "verify/verify-impl.h"

static const double LOG2 = 0.69314718055994530942;

/* ---- C5 ------------------------------------------------------------------ */

/* Two hidden softplus layers, scalar output:
 * out = a . sp(U sp(V x + c1) + c2), sp = softplus_eps (ReLU at eps = 0).
 * V (H, d), U (H, H), c1, c2, a (H). */
typedef struct net2 {
    size_t d, H;
    const double *V, *U, *c1, *c2, *a;
} net2;

static double net2_eval(const net2 *m, const double *x, double eps, double *h1, double *h2)
{
    for (size_t k = 0; k < m->H; k++) {
        double s = m->c1[k];
        for (size_t j = 0; j < m->d; j++)
            s += m->V[k * m->d + j] * x[j];
        h1[k] = hj_softplus(s, eps);
    }
    double out = 0.0;
    for (size_t k = 0; k < m->H; k++) {
        double s = m->c2[k];
        for (size_t j = 0; j < m->H; j++)
            s += m->U[k * m->H + j] * h1[j];
        h2[k] = hj_softplus(s, eps);
        out += m->a[k] * h2[k];
    }
    return out;
}

static hj_status verify_softplus(vctx *c)
{
    static const double eps_list[] = {1e-3, 1e-2, 0.1, 0.3, 1.0};
    double worst_ratio = 0.0, worst_attain = 0.0, worst_lse = 0.0;
    for (size_t e = 0; e < sizeof eps_list / sizeof eps_list[0]; e++) {
        const double eps = eps_list[e];
        double sup = 0.0;
        for (int i = -500; i <= 500; i++) {
            double z = 0.01 * i, relu = z > 0 ? z : 0.0;
            double sp = hj_softplus(z, eps), diff = sp - relu;
            worst_ratio = fmax(worst_ratio, diff < 0 ? INFINITY : diff / (eps * LOG2));
            sup = fmax(sup, diff);
            double pair[2] = {0.0, z};
            worst_lse = fmax(worst_lse, vrel(hj_lse_vec(pair, 2, eps, NULL), sp, fmax(eps, fabs(sp))));
        }
        worst_attain = fmax(worst_attain, vrel(sup, eps * LOG2, eps * LOG2));
    }
    hj_status st;
    if ((st = vcheck(c, "C5", worst_ratio, 1.0 + 1e-12, "0 <= softplus_eps - ReLU <= eps log 2 (max ratio)")))
        return st;
    if ((st = vcheck(c, "C5", worst_attain, 1e-14, "sup(softplus_eps - ReLU) = eps log 2 (rate attained)")))
        return st;
    return vcheck(c, "C5", worst_lse, 4e-15, "softplus_eps = LSE_eps(0, z) (N = 2)");
}

static hj_status verify_depth(vctx *c)
{
    const size_t d = 2, H = 16, nrand = 400, nkink = 5 * H, n = nrand + nkink;
    static const double eps_list[] = {1e-6, 1e-5, 1e-3, 0.1};
    hj_status st = HJ_ENOMEM;
    double *V = vnew(c, H * d), *U = vnew(c, H * H), *c1 = vnew(c, H), *c2 = vnew(c, H);
    double *a = vnew(c, H), *x = vnew(c, n * d), *h1 = vnew(c, H), *h2 = vnew(c, H);
    if (!V || !U || !c1 || !c2 || !a || !x || !h1 || !h2)
        goto done;
    vfill_normal(c, V, H * d, 1.0);
    vfill_normal(c, U, H * H, 1.0 / sqrt((double)H));
    vfill_normal(c, c1, H, 0.5);
    vfill_normal(c, c2, H, 0.5);
    vfill_normal(c, a, H, 1.0);
    vfill_uniform(c, x, nrand * d, -2.0, 2.0);
    /* The sup of the error sits on the kinks: add points on each first-layer
     * unit's hyperplane V_k . x + c1_k = 0 (where it is exactly eps log 2). */
    for (size_t k = 0; k < H; k++) {
        double v0 = V[k * d], v1 = V[k * d + 1], n2 = v0 * v0 + v1 * v1;
        for (size_t s = 0; s < 5; s++) {
            double along = -1.0 + 0.5 * (double)s;
            double *xk = x + (nrand + 5 * k + s) * d;
            xk[0] = -c1[k] * v0 / n2 - along * v1 / sqrt(n2);
            xk[1] = -c1[k] * v1 / n2 + along * v0 / sqrt(n2);
        }
    }
    net2 m = {d, H, V, U, c1, c2, a};
    /* propagated bound: |d h1| <= eps log2, |d h2_k| <= (sum_l |U_kl| + 1) eps log2 */
    double bound_unit = 0.0;
    for (size_t k = 0; k < H; k++) {
        double row = 1.0;
        for (size_t l = 0; l < H; l++)
            row += fabs(U[k * H + l]);
        bound_unit += fabs(a[k]) * row * LOG2;
    }
    /* sup error over all points (bound) and over the kink points alone: there
     * the error is linear in eps to leading order, so its log-log slope
     * between the two smallest eps measures the rate. */
    double worst_ratio = 0.0, sups[4];
    for (size_t e = 0; e < 4; e++) {
        double sup_kink = 0.0;
        for (size_t i = 0; i < n; i++) {
            double r0 = net2_eval(&m, x + i * d, 0.0, h1, h2);
            double re = net2_eval(&m, x + i * d, eps_list[e], h1, h2);
            double diff = fabs(re - r0);
            worst_ratio = fmax(worst_ratio, diff / (eps_list[e] * bound_unit));
            if (i >= nrand)
                sup_kink = fmax(sup_kink, diff);
        }
        sups[e] = sup_kink;
    }
    double slope = log(sups[1] / sups[0]) / log(eps_list[1] / eps_list[0]);
    VTRY(vcheck(c, "C5", worst_ratio, 1.0, "2-layer softplus net -> ReLU net within propagated eps bound"));
    VTRY(vcheck(c, "C5", fabs(slope - 1.0), 0.1,
                "2-layer net error rate in eps: slope %.3f, |slope - 1|", slope));
    st = HJ_OK;
done:
    free(V), free(U), free(c1), free(c2), free(a), free(x), free(h1), free(h2);
    return st;
}

/* ReLU is exactly the Hopf–Lax solution of the atoms y = (0, 2t), g = (0, -t):
 * f_0 = x^2/(4t) - u_0 = max(0, x); at eps > 0 the same atoms give softplus_eps. */
static hj_status verify_relu_atoms(vctx *c)
{
    static const double t_list[] = {0.5, 1.0, 2.0};
    static const double eps_list[] = {1e-3, 0.1, 1.0};
    double worst0 = 0.0, worst_eps = 0.0;
    for (size_t it = 0; it < 3; it++) {
        const double t = t_list[it];
        double y[2] = {0.0, 2.0 * t}, g[2] = {0.0, -t};
        hj_atoms atoms = {2, 1, y, g};
        for (int i = -250; i <= 250; i++) {
            double x = 0.02 * i, u0, q = x * x / (4.0 * t);
            hj_status st = hj_hopf_lax_eval(&atoms, NULL, &x, 1, t, &u0, NULL, c->err);
            if (st != HJ_OK)
                return st;
            worst0 = fmax(worst0, vrel(q - u0, x > 0 ? x : 0.0, fmax(1.0, q)));
            for (size_t e = 0; e < 3; e++) {
                double u;
                hj_hc_out out = {0};
                out.u = &u;
                st = hj_hopf_cole_eval(&atoms, NULL, &x, 1, t, eps_list[e], &out, c->err);
                if (st != HJ_OK)
                    return st;
                double sp = hj_softplus(x, eps_list[e]);
                worst_eps = fmax(worst_eps, vrel(q - u, sp, fmax(1.0, q)));
            }
        }
    }
    hj_status st = vcheck(c, "C5", worst0, 1e-14,
                          "ReLU = Hopf-Lax of atoms y=(0,2t), g=(0,-t), t=0.5,1,2");
    if (st != HJ_OK)
        return st;
    return vcheck(c, "C5", worst_eps, 1e-14, "softplus_eps = Hopf-Cole of the same two atoms");
}

hj_status hj__verify_relu(vctx *c)
{
    hj_status st;
    if ((st = verify_softplus(c)) != HJ_OK)
        return st;
    if ((st = verify_depth(c)) != HJ_OK)
        return st;
    return verify_relu_atoms(c);
}

/* ---- C6 ------------------------------------------------------------------ */

static hj_status attention_kernels(vctx *c)
{
    static const size_t dks[] = {4, 16, 64};
    hj_status st = HJ_OK;
    for (size_t s = 0; s < 3; s++) {
        const size_t dk = dks[s], dv = dk + 3, n = 37, m = 301;
        const double eps = sqrt((double)dk);
        double *Q = vnew(c, n * dk), *K = vnew(c, m * dk), *V = vnew(c, m * dv);
        double *o1 = vnew(c, n * dv), *o2 = vnew(c, n * dv), *l1 = vnew(c, n), *l2 = vnew(c, n);
        double *og = vnew(c, n * dk), *fp = vnew(c, 1), *fm = vnew(c, 1), *q = vnew(c, dk);
        st = HJ_ENOMEM;
        if (!Q || !K || !V || !o1 || !o2 || !l1 || !l2 || !og || !fp || !fm || !q)
            goto next;
        vfill_normal(c, Q, n * dk, 1.5);
        vfill_normal(c, K, m * dk, 1.5);
        vfill_normal(c, V, m * dv, 1.0);
        VTRY(hj_attention_forward(Q, K, V, n, m, dk, dv, eps, o1, l1, c->err));
        VTRY(hj_attention_reference(Q, K, V, n, m, dk, dv, eps, o2, l2, c->err));
        double worst = 0.0, vmax = 0.0;
        for (size_t k = 0; k < m * dv; k++)
            vmax = fmax(vmax, fabs(V[k]));
        for (size_t k = 0; k < n * dv; k++)
            worst = fmax(worst, vrel(o1[k], o2[k], vmax));
        for (size_t i = 0; i < n; i++)
            worst = fmax(worst, vrel(l1[i], l2[i], fmax(1.0, fabs(l2[i]))));
        VTRY(vcheck(c, "C6", worst, 1e-13, "tiled online-softmax attention = reference, d_k=%zu", dk));
        /* V = K: attention output is grad f_eps(q), f = LSE_eps(q K^T), by finite differences */
        VTRY(hj_attention_forward(Q, K, K, n, m, dk, dk, eps, og, NULL, c->err));
        double zero_b[301] = {0};
        hj_lse_layer L = {m, dk, K, zero_b, eps};
        double worst_fd = 0.0, kmax = 0.0;
        for (size_t k = 0; k < m * dk; k++)
            kmax = fmax(kmax, fabs(K[k]));
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < dk; k++) {
                const double h = 1e-5 * eps;
                memcpy(q, Q + i * dk, dk * sizeof *q);
                q[k] += h;
                VTRY(hj_lse_forward(&L, q, 1, fp, NULL, NULL, c->err));
                q[k] -= 2.0 * h;
                VTRY(hj_lse_forward(&L, q, 1, fm, NULL, NULL, c->err));
                worst_fd = fmax(worst_fd, vrel((fp[0] - fm[0]) / (2.0 * h), og[i * dk + k], kmax));
            }
        }
        VTRY(vcheck(c, "C6", worst_fd, 1e-7,
                    "attention with V=K = grad f_eps(q) by finite differences, d_k=%zu", dk));
    next:
    done:
        free(Q), free(K), free(V), free(o1), free(o2), free(l1), free(l2), free(og);
        free(fp), free(fm), free(q);
        if (st != HJ_OK)
            return st;
    }
    return st;
}

hj_status hj_lse_tf_init(hj_lse_tf *tf, size_t T, size_t D, size_t M, double t, double eps_ffn,
                          hj_error *err)
{
    const size_t R = T > M ? T : M;
    memset(tf, 0, sizeof *tf);
    tf->T = T, tf->D = D, tf->M = M;
    tf->t = t, tf->eps_att = sqrt((double)D), tf->eps_ffn = eps_ffn;
    struct {
        double **p;
        size_t n;
    } buf[] = {{&tf->Hn, T * D}, {&tf->Q, T * D},   {&tf->K, T * D},   {&tf->V, T * D},
               {&tf->A, T * D},  {&tf->lse, T},     {&tf->W, 3 * D * D}, {&tf->Wf, M * D},
               {&tf->bf, M},     {&tf->Vf, M * D},  {&tf->y, R * D},   {&tf->g, R},
               {&tf->zb, T},     {&tf->u, T},       {&tf->f, T},       {&tf->pi, T * M},
               {&tf->pih, T * R}, {&tf->ent_att, T}, {&tf->ent_ffn, T}};
    for (size_t k = 0; k < sizeof buf / sizeof buf[0]; k++) {
        if ((*buf[k].p = calloc(buf[k].n ? buf[k].n : 1, sizeof(double))) == NULL) {
            hj_lse_tf_free(tf);
            return hj_error_set(err, HJ_ENOMEM, "transformer: cannot allocate %zu doubles", buf[k].n);
        }
    }
    return HJ_OK;
}

void hj_lse_tf_free(hj_lse_tf *tf)
{
    free(tf->Hn), free(tf->Q), free(tf->K), free(tf->V), free(tf->A), free(tf->lse), free(tf->W);
    free(tf->Wf), free(tf->bf), free(tf->Vf), free(tf->y), free(tf->g), free(tf->zb), free(tf->u);
    free(tf->f), free(tf->pi), free(tf->pih), free(tf->ent_att), free(tf->ent_ffn);
    memset(tf, 0, sizeof *tf);
}

static void tf_fill(hj_rng *rng, double *v, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        v[i] = scale * hj_rng_normal(rng);
}

hj_status hj_lse_tf_layer(hj_lse_tf *tf, hj_rng *rng, double *X, hj_lse_tf_stats *s, hj_error *err)
{
    const size_t T = tf->T, D = tf->D, M = tf->M;
    const double t = tf->t;
    double *Hn = tf->Hn, *Q = tf->Q, *K = tf->K, *V = tf->V, *A = tf->A, *u = tf->u, *pih = tf->pih;
    hj_status st;
    memset(s, 0, sizeof *s);
    tf_fill(rng, tf->W, 3 * D * D, 1.0 / sqrt((double)D));
    tf_fill(rng, tf->Wf, M * D, 0.8);
    tf_fill(rng, tf->bf, M, 0.5);
    tf_fill(rng, tf->Vf, M * D, 0.5);
    /* attention sub-layer: keys are atoms (w_j = k_j, b_j = 0); u at each query */
    hj__layer_norm(X, T, D, 1e-5, Hn, NULL);
    hj__matmul_square(Hn, tf->W, T, D, Q);
    hj__matmul_square(Hn, tf->W + D * D, T, D, K);
    hj__matmul_square(Hn, tf->W + 2 * D * D, T, D, V);
    if ((st = hj_attention_forward(Q, K, V, T, T, D, D, tf->eps_att, A, tf->lse, err)) != HJ_OK ||
        (st = hj_weights_to_atoms(K, tf->zb, T, D, t, NULL, tf->y, tf->g, err)) != HJ_OK)
        return st;
    hj_atoms ka = {T, D, tf->y, tf->g};
    hj_hc_out out = {0};
    out.u = u, out.pi = pih, out.entropy = tf->ent_att;
    if ((st = hj_hopf_cole_eval(&ka, NULL, Q, T, t, tf->eps_att, &out, err)) != HJ_OK)
        return st;
    double vmax = 0.0;
    for (size_t k = 0; k < T * D; k++)
        vmax = fmax(vmax, fabs(V[k]));
    for (size_t i = 0; i < T; i++) {
        const double lse = tf->lse[i], q = hj_hopf_quadratic(NULL, Q + i * D, D, t);
        s->att_id = fmax(s->att_id, vrel(lse + u[i], q, fmax(fabs(q), fabs(lse))));
        for (size_t k = 0; k < D; k++) {
            double a = 0.0;
            for (size_t j = 0; j < T; j++)
                a += pih[i * T + j] * V[j * D + k];
            s->att_avg = fmax(s->att_avg, vrel(a, A[i * D + k], fmax(vmax, 1e-300)));
        }
        s->h_att += tf->ent_att[i] / log((double)T);
    }
    for (size_t k = 0; k < T * D; k++)
        X[k] += A[k];
    /* Gibbs feed-forward sub-layer */
    hj__layer_norm(X, T, D, 1e-5, Hn, NULL);
    hj_lse_layer L = {M, D, tf->Wf, tf->bf, tf->eps_ffn};
    if ((st = hj_lse_forward(&L, Hn, T, tf->f, tf->pi, NULL, err)) != HJ_OK ||
        (st = hj_weights_to_atoms(tf->Wf, tf->bf, M, D, t, NULL, tf->y, tf->g, err)) != HJ_OK)
        return st;
    hj_atoms fa = {M, D, tf->y, tf->g};
    hj_hc_out out2 = {0};
    out2.u = u, out2.pi = pih, out2.entropy = tf->ent_ffn;
    if ((st = hj_hopf_cole_eval(&fa, NULL, Hn, T, t, tf->eps_ffn, &out2, err)) != HJ_OK)
        return st;
    for (size_t i = 0; i < T; i++) {
        const double f = tf->f[i], q = hj_hopf_quadratic(NULL, Hn + i * D, D, t);
        s->ffn_id = fmax(s->ffn_id, vrel(f + u[i], q, fmax(fabs(q), fabs(f))));
        for (size_t k = 0; k < D; k++) {
            double a1 = 0.0, a2 = 0.0;
            for (size_t j = 0; j < M; j++) {
                a1 += tf->pi[i * M + j] * tf->Vf[j * D + k];
                a2 += pih[i * M + j] * tf->Vf[j * D + k];
            }
            s->ffn_avg = fmax(s->ffn_avg, fabs(a1 - a2));
            X[i * D + k] += a1;
        }
        s->h_ffn += tf->ent_ffn[i] / log((double)M);
    }
    s->h_att /= (double)T, s->h_ffn /= (double)T;
    return HJ_OK;
}

/* An LSE transformer (pre-LayerNorm attention + Gibbs feed-forward, two
 * layers, hj_lse_tf_layer). Per layer and per token: the attention row's LSE
 * and the FFN's LSE each satisfy f + u = |q|^2/(4t), with u from the
 * Hopf–Cole solution of the mapped atoms (not from f); and the FFN output
 * sum_j pi_j v_j equals the Gibbs average under the Hopf–Cole weights. */
static hj_status transformer_block(vctx *c)
{
    const size_t T = 12, D = 8, M = 16, layers = 2;
    hj_lse_tf tf;
    hj_status st = hj_lse_tf_init(&tf, T, D, M, 0.9, 0.5, c->err);
    if (st != HJ_OK)
        return st;
    double *X = vnew(c, T * D);
    if (X == NULL) {
        st = HJ_ENOMEM;
        goto done;
    }
    vfill_normal(c, X, T * D, 1.0);
    double worst_att = 0.0, worst_ffn = 0.0, worst_avg = 0.0;
    for (size_t layer = 0; layer < layers; layer++) {
        hj_lse_tf_stats s;
        VTRY(hj_lse_tf_layer(&tf, &c->rng, X, &s, c->err));
        worst_att = fmax(worst_att, s.att_id);
        worst_ffn = fmax(worst_ffn, s.ffn_id);
        worst_avg = fmax(worst_avg, s.ffn_avg);
    }
    VTRY(vcheck(c, "C6", worst_att, 1e-13, "transformer: attention LSE + Hopf-Cole u = |q|^2/4t per layer"));
    VTRY(vcheck(c, "C6", worst_ffn, 1e-13, "transformer: Gibbs FFN LSE + Hopf-Cole u = |h|^2/4t per layer"));
    VTRY(vcheck(c, "C6", worst_avg, 1e-13, "transformer: FFN output = Hopf-Cole Gibbs average of values"));
done:
    free(X);
    hj_lse_tf_free(&tf);
    return st;
}

hj_status hj__verify_attention(vctx *c)
{
    hj_status st = attention_kernels(c);
    if (st != HJ_OK)
        return st;
    return transformer_block(c);
}
