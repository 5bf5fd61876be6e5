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

/* An LSE transformer (pre-LayerNorm attention + Gibbs feed-forward, two
 * layers). Per layer and per token: the attention row's LSE and the FFN's
 * LSE each satisfy f + u = |q|^2/(4t), with u from the Hopf–Cole solution of
 * the mapped atoms (not from f); and the FFN output sum_j pi_j v_j equals the
 * Gibbs average under the Hopf–Cole weights. */
static hj_status transformer_block(vctx *c)
{
    const size_t T = 12, D = 8, M = 16, layers = 2;
    const double t = 0.9, eps_att = sqrt((double)D), eps_ffn = 0.5;
    hj_status st = HJ_ENOMEM;
    double *X = vnew(c, T * D), *Hn = vnew(c, T * D), *Q = vnew(c, T * D), *K = vnew(c, T * D);
    double *V = vnew(c, T * D), *A = vnew(c, T * D), *lse = vnew(c, T);
    double *W = vnew(c, 3 * D * D), *Wf = vnew(c, M * D), *bf = vnew(c, M), *Vf = vnew(c, M * D);
    double *y = vnew(c, (T > M ? T : M) * D), *g = vnew(c, T > M ? T : M), *zb = vnew(c, T);
    double *u = vnew(c, T), *f = vnew(c, T), *pi = vnew(c, T * M), *pih = vnew(c, T * M);
    if (!X || !Hn || !Q || !K || !V || !A || !lse || !W || !Wf || !bf || !Vf || !y || !g || !zb ||
        !u || !f || !pi || !pih)
        goto done;
    vfill_normal(c, X, T * D, 1.0);
    double worst_att = 0.0, worst_ffn = 0.0, worst_avg = 0.0;
    for (size_t layer = 0; layer < layers; layer++) {
        vfill_normal(c, W, 3 * D * D, 1.0 / sqrt((double)D));
        vfill_normal(c, Wf, M * D, 0.8);
        vfill_normal(c, bf, M, 0.5);
        vfill_normal(c, Vf, M * D, 0.5);
        /* attention sub-layer */
        hj__layer_norm(X, T, D, 1e-5, Hn, NULL);
        hj__matmul_square(Hn, W, T, D, Q);
        hj__matmul_square(Hn, W + D * D, T, D, K);
        hj__matmul_square(Hn, W + 2 * D * D, T, D, V);
        VTRY(hj_attention_forward(Q, K, V, T, T, D, D, eps_att, A, lse, c->err));
        /* keys as weights (b = 0) -> atoms; u at each query */
        VTRY(hj_weights_to_atoms(K, zb, T, D, t, NULL, y, g, c->err));
        hj_atoms ka = {T, D, y, g};
        hj_hc_out out = {0};
        out.u = u;
        VTRY(hj_hopf_cole_eval(&ka, NULL, Q, T, t, eps_att, &out, c->err));
        for (size_t i = 0; i < T; i++) {
            double q = hj_hopf_quadratic(NULL, Q + i * D, D, t);
            worst_att = fmax(worst_att, vrel(lse[i] + u[i], q, fmax(fabs(q), fabs(lse[i]))));
        }
        for (size_t k = 0; k < T * D; k++)
            X[k] += A[k];
        /* Gibbs feed-forward sub-layer */
        hj__layer_norm(X, T, D, 1e-5, Hn, NULL);
        hj_lse_layer L = {M, D, Wf, bf, eps_ffn};
        VTRY(hj_lse_forward(&L, Hn, T, f, pi, NULL, c->err));
        VTRY(hj_weights_to_atoms(Wf, bf, M, D, t, NULL, y, g, c->err));
        hj_atoms fa = {M, D, y, g};
        hj_hc_out out2 = {0};
        out2.u = u;
        out2.pi = pih;
        VTRY(hj_hopf_cole_eval(&fa, NULL, Hn, T, t, eps_ffn, &out2, c->err));
        for (size_t i = 0; i < T; i++) {
            double q = hj_hopf_quadratic(NULL, Hn + i * D, D, t);
            worst_ffn = fmax(worst_ffn, vrel(f[i] + u[i], q, fmax(fabs(q), fabs(f[i]))));
            for (size_t k = 0; k < D; k++) {
                double a1 = 0.0, a2 = 0.0;
                for (size_t j = 0; j < M; j++) {
                    a1 += pi[i * M + j] * Vf[j * D + k];
                    a2 += pih[i * M + j] * Vf[j * D + k];
                }
                worst_avg = fmax(worst_avg, fabs(a1 - a2));
                X[i * D + k] += a1;
            }
        }
    }
    VTRY(vcheck(c, "C6", worst_att, 1e-13, "transformer: attention LSE + Hopf-Cole u = |q|^2/4t per layer"));
    VTRY(vcheck(c, "C6", worst_ffn, 1e-13, "transformer: Gibbs FFN LSE + Hopf-Cole u = |h|^2/4t per layer"));
    VTRY(vcheck(c, "C6", worst_avg, 1e-13, "transformer: FFN output = Hopf-Cole Gibbs average of values"));
done:
    free(X), free(Hn), free(Q), free(K), free(V), free(A), free(lse), free(W), free(Wf), free(bf);
    free(Vf), free(y), free(g), free(zb), free(u), free(f), free(pi), free(pih);
    return st;
}

hj_status hj__verify_attention(vctx *c)
{
    hj_status st = attention_kernels(c);
    if (st != HJ_OK)
        return st;
    return transformer_block(c);
}
