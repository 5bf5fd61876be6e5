/* transformer.c — a small pre-LayerNorm transformer (attention + Gibbs feed-forward, residual steps read as HJ time steps): loss, reverse-mode gradient, per-layer attention entropy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/linalg.h"
#include "core/kernels.h"
#include "hjdl/attention.h"
#include "hjdl/entropy.h"
#include "hjdl/lse.h"
#include "hjdl/pmp.h"
#include "model/layers.h"
#include "pmp/pmp-impl.h"

/*
 * Shapes per sequence: X (T, D) residual stream, Q, K, V (T, D), attention probabilities
 * P (T, T) (recomputed in the backward pass, never stored), Gibbs weights pi (T, M).
 * theta: e (D), pos (T, D), per layer [Wq, Wk, Wv (D, D), W (M, D), b (M), V (M, D)], r (D), r0.
 */

#define LN_EPS 1e-5

typedef struct tf_off {
    size_t e, pos, layer0, per_layer, r, r0, total;
} tf_off;

static tf_off tf_offsets(size_t T, size_t D, size_t M, size_t L)
{
    tf_off o;
    o.e = 0;
    o.pos = D;
    o.layer0 = D + T * D;
    o.per_layer = 3 * D * D + M * D + M + M * D;
    o.r = o.layer0 + L * o.per_layer;
    o.r0 = o.r + D;
    o.total = o.r0 + 1;
    return o;
}

size_t hj_transformer_num_params(size_t T, size_t D, size_t M, size_t L)
{
    return tf_offsets(T, D, M, L).total;
}

hj_status hj_transformer_check(const hj_transformer *tf, hj_error *err)
{
    if (tf == NULL || tf->theta == NULL)
        return hj_error_set(err, HJ_EINVAL, "transformer: NULL model or parameters");
    if (tf->T < 2 || tf->D == 0 || tf->M == 0 || tf->L == 0)
        return hj_error_set(err, HJ_EINVAL, "transformer: need T >= 2, D, M, L >= 1 (got %zu, %zu, %zu, %zu)",
                            tf->T, tf->D, tf->M, tf->L);
    if (!(tf->eps_ffn > 0.0) || !isfinite(tf->eps_ffn))
        return hj_error_set(err, HJ_EINVAL, "transformer: eps_ffn = %g must be finite and > 0",
                            tf->eps_ffn);
    const size_t np = hj_transformer_num_params(tf->T, tf->D, tf->M, tf->L);
    for (size_t i = 0; i < np; i++)
        if (!isfinite(tf->theta[i]))
            return hj_error_set(err, HJ_ENAN, "transformer: parameter %zu is not finite", i);
    return HJ_OK;
}

/* Per-layer cache of one sequence. */
typedef struct tf_cache {
    double *X, *Hn, *r1, *Q, *K, *V, *Xm, *Hn2, *r2, *pi;
} tf_cache;

static size_t cache_doubles(size_t T, size_t D, size_t M) { return 8 * T * D + 2 * T + T * M; }

static void cache_bind(tf_cache *c, double *mem, size_t T, size_t D, size_t M)
{
    c->X = mem;
    c->Hn = c->X + T * D;
    c->Q = c->Hn + T * D;
    c->K = c->Q + T * D;
    c->V = c->K + T * D;
    c->Xm = c->V + T * D;
    c->Hn2 = c->Xm + T * D;
    c->r1 = c->Hn2 + T * D;
    c->r2 = c->r1 + T;
    c->pi = c->r2 + T;
    (void)M;
}

/* Softmax row P (T) of the scores q . k_j / eps (the Gibbs weights of LSE_eps of the
 * scores); returns its entropy. */
static double attn_row(const double *q, const double *K, size_t T, size_t D, double eps, double *P)
{
    for (size_t j = 0; j < T; j++) {
        double s = 0.0;
        for (size_t k = 0; k < D; k++)
            s += q[k] * K[j * D + k];
        P[j] = s;
    }
    hj__lse_full(P, T, eps, P, NULL, NULL);   /* pi may alias z */
    return hj_entropy_vec(P, T);
}

/* Forward of one sequence s (T) through all layers, caching per layer in c[0..L) and the
 * final stream in Xout (T, D). ent (L) accumulates sum_t H(P_t)/log T if non-NULL;
 * work holds T + T*D + T doubles. */
static hj_status tf_forward_seq(const hj_transformer *tf, const tf_off *o, const double *s,
                                tf_cache *c, double *Xout, double *ent, double *work, hj_error *err)
{
    const size_t T = tf->T, D = tf->D, M = tf->M;
    const double *th = tf->theta, eps_att = sqrt((double)D);
    double *P = work, *Aout = work + T, *f = Aout + T * D;
    double *X = c[0].X;
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < D; k++)
            X[t * D + k] = s[t] * th[o->e + k] + th[o->pos + t * D + k];
    hj_status st = HJ_OK;
    for (size_t l = 0; l < tf->L; l++) {
        tf_cache *cl = &c[l];
        const double *lp = th + o->layer0 + l * o->per_layer;
        const double *Wq = lp, *Wk = lp + D * D, *Wv = lp + 2 * D * D, *Wf = lp + 3 * D * D;
        const double *bf = Wf + M * D, *Vf = bf + M;
        if (l > 0)
            memcpy(cl->X, Xout, T * D * sizeof *Xout);
        hj__layer_norm(cl->X, T, D, LN_EPS, cl->Hn, cl->r1);
        hj__matmul_square(cl->Hn, Wq, T, D, cl->Q);
        hj__matmul_square(cl->Hn, Wk, T, D, cl->K);
        hj__matmul_square(cl->Hn, Wv, T, D, cl->V);
        if ((st = hj_attention_forward(cl->Q, cl->K, cl->V, T, T, D, D, eps_att, Aout, NULL, err)) != HJ_OK)
            return st;
        for (size_t q = 0; q < T * D; q++)
            cl->Xm[q] = cl->X[q] + Aout[q];
        if (ent != NULL)
            for (size_t t = 0; t < T; t++)
                ent[l] += attn_row(cl->Q + t * D, cl->K, T, D, eps_att, P) / log((double)T);
        hj__layer_norm(cl->Xm, T, D, LN_EPS, cl->Hn2, cl->r2);
        hj_lse_layer G = {M, D, Wf, bf, tf->eps_ffn};
        if ((st = hj_lse_forward(&G, cl->Hn2, T, f, cl->pi, NULL, err)) != HJ_OK)
            return st;
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < D; k++) {
                double g = 0.0;
                for (size_t j = 0; j < M; j++)
                    g += cl->pi[t * M + j] * Vf[j * D + k];
                Xout[t * D + k] = cl->Xm[t * D + k] + g;
            }
    }
    return HJ_OK;
}

/* Backward of one sequence: dX (T, D) holds the adjoint of the final stream on entry;
 * grad is accumulated. work: T + 5 T D + T M doubles. */
static void tf_backward_seq(const hj_transformer *tf, const tf_off *o, const double *s,
                            const tf_cache *c, double *dX, double *grad, double *work)
{
    const size_t T = tf->T, D = tf->D, M = tf->M;
    const double *th = tf->theta, eps_att = sqrt((double)D), ef = tf->eps_ffn;
    double *P = work, *dH = P + T, *dQ = dH + T * D, *dK = dQ + T * D, *dV = dK + T * D;
    double *dXm = dV + T * D, *dpi = dXm + T * D;
    for (size_t l = tf->L; l-- > 0;) {
        const tf_cache *cl = &c[l];
        const double *lp = th + o->layer0 + l * o->per_layer;
        const double *Wq = lp, *Wk = lp + D * D, *Wv = lp + 2 * D * D, *Wf = lp + 3 * D * D;
        const double *Vf = Wf + M * D + M;
        double *gl = grad + o->layer0 + l * o->per_layer;
        double *gWq = gl, *gWk = gl + D * D, *gWv = gl + 2 * D * D, *gWf = gl + 3 * D * D;
        double *gbf = gWf + M * D, *gVf = gbf + M;
        /* feed-forward residual: X' = Xm + sum_j pi_j(LN(Xm)) v_j */
        memcpy(dXm, dX, T * D * sizeof *dX);
        memset(dH, 0, T * D * sizeof *dH);
        for (size_t t = 0; t < T; t++) {
            const double *pi = cl->pi + t * M, *dy = dX + t * D;
            for (size_t j = 0; j < M; j++) {
                double v = 0.0;
                for (size_t k = 0; k < D; k++) {
                    v += dy[k] * Vf[j * D + k];
                    gVf[j * D + k] += pi[j] * dy[k];
                }
                dpi[j] = v;
            }
            hj__gibbs_weights_backward(dpi, pi, M, ef); /* dpi <- dL/dz */
            for (size_t j = 0; j < M; j++) {
                const double dz = dpi[j];
                gbf[j] += dz;
                for (size_t k = 0; k < D; k++) {
                    gWf[j * D + k] += dz * cl->Hn2[t * D + k];
                    dH[t * D + k] += dz * Wf[j * D + k];
                }
            }
        }
        hj__layer_norm_backward(dXm, dH, cl->Hn2, cl->r2, T, D);
        /* attention residual: Xm = X + Attn(LN(X) Wq, LN(X) Wk, LN(X) Wv) */
        memcpy(dX, dXm, T * D * sizeof *dX);
        memset(dQ, 0, 3 * T * D * sizeof *dQ);
        for (size_t t = 0; t < T; t++) {
            attn_row(cl->Q + t * D, cl->K, T, D, eps_att, P);
            const double *da = dXm + t * D;
            for (size_t j = 0; j < T; j++) {
                double v = 0.0;
                for (size_t k = 0; k < D; k++) {
                    v += da[k] * cl->V[j * D + k];
                    dV[j * D + k] += P[j] * da[k];
                }
                dpi[j] = v;   /* dP_tj (the buffer holds max(T, M)) */
            }
            hj__gibbs_weights_backward(dpi, P, T, eps_att); /* the softmax of the scores / eps_att */
            for (size_t j = 0; j < T; j++) {
                const double dsc = dpi[j];
                for (size_t k = 0; k < D; k++) {
                    dQ[t * D + k] += dsc * cl->K[j * D + k];
                    dK[j * D + k] += dsc * cl->Q[t * D + k];
                }
            }
        }
        memset(dH, 0, T * D * sizeof *dH);
        for (size_t t = 0; t < T; t++)
            for (size_t j = 0; j < D; j++) {
                const double hn = cl->Hn[t * D + j];
                double acc = 0.0;
                for (size_t k = 0; k < D; k++) {
                    gWq[j * D + k] += hn * dQ[t * D + k];
                    gWk[j * D + k] += hn * dK[t * D + k];
                    gWv[j * D + k] += hn * dV[t * D + k];
                    acc += dQ[t * D + k] * Wq[j * D + k] + dK[t * D + k] * Wk[j * D + k] +
                           dV[t * D + k] * Wv[j * D + k];
                }
                dH[t * D + j] = acc;
            }
        hj__layer_norm_backward(dX, dH, cl->Hn, cl->r1, T, D);
    }
    /* embedding x_t = s_t e + pos_t */
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < D; k++) {
            grad[o->e + k] += s[t] * dX[t * D + k];
            grad[o->pos + t * D + k] += dX[t * D + k];
        }
}

hj_status hj_transformer_loss_grad(const hj_transformer *tf, const double *s, const double *y,
                                   size_t n, double *loss, double *grad, double *pred,
                                   hj_error *err)
{
    hj_status st = hj_transformer_check(tf, err);
    if (st != HJ_OK)
        return st;
    if (s == NULL || y == NULL || loss == NULL || n == 0)
        return hj_error_set(err, HJ_EINVAL, "transformer: NULL buffer or n = 0");
    const size_t T = tf->T, D = tf->D, M = tf->M, L = tf->L;
    const tf_off o = tf_offsets(T, D, M, L);
    const size_t cd = cache_doubles(T, D, M), TM = T > M ? T : M;
    double *mem = malloc((L * cd + 2 * T * D + 2 * T + 6 * T * D + TM) * sizeof *mem);
    tf_cache *c = malloc(L * sizeof *c);
    if (mem == NULL || c == NULL) {
        free(mem), free(c);
        return hj_error_set(err, HJ_ENOMEM, "transformer: out of memory");
    }
    for (size_t l = 0; l < L; l++)
        cache_bind(&c[l], mem + l * cd, T, D, M);
    double *Xout = mem + L * cd, *dX = Xout + T * D, *work = dX + T * D;
    if (grad != NULL)
        memset(grad, 0, o.total * sizeof *grad);
    const double *r = tf->theta + o.r, r0 = tf->theta[o.r0];
    const double scale = 1.0 / ((double)n * (double)T);
    double sum = 0.0;
    for (size_t i = 0; i < n && st == HJ_OK; i++) {
        const double *si = s + i * T, *yi = y + i * T;
        if ((st = tf_forward_seq(tf, &o, si, c, Xout, NULL, work, err)) != HJ_OK)
            break;
        for (size_t t = 0; t < T; t++) {
            double yh = r0;
            for (size_t k = 0; k < D; k++)
                yh += r[k] * Xout[t * D + k];
            if (pred != NULL)
                pred[i * T + t] = yh;
            const double res = yh - yi[t];
            sum += res * res;
            if (grad != NULL) {
                const double dy = 2.0 * res * scale;
                grad[o.r0] += dy;
                for (size_t k = 0; k < D; k++) {
                    grad[o.r + k] += dy * Xout[t * D + k];
                    dX[t * D + k] = dy * r[k];
                }
            }
        }
        if (grad != NULL)
            tf_backward_seq(tf, &o, si, c, dX, grad, work);
    }
    free(mem), free(c);
    if (st != HJ_OK)
        return st;
    *loss = sum * scale;
    if (!isfinite(*loss))
        return hj_error_set(err, HJ_ENAN, "transformer: non-finite loss");
    return HJ_OK;
}

hj_status hj_transformer_entropy(const hj_transformer *tf, const double *s, size_t n,
                                 double *H_att, hj_error *err)
{
    hj_status st = hj_transformer_check(tf, err);
    if (st != HJ_OK)
        return st;
    if (s == NULL || H_att == NULL || n == 0)
        return hj_error_set(err, HJ_EINVAL, "transformer entropy: NULL buffer or n = 0");
    const size_t T = tf->T, D = tf->D, M = tf->M, L = tf->L;
    const tf_off o = tf_offsets(T, D, M, L);
    const size_t cd = cache_doubles(T, D, M);
    double *mem = malloc((L * cd + T * D + 2 * T + T * D) * sizeof *mem);
    tf_cache *c = malloc(L * sizeof *c);
    if (mem == NULL || c == NULL) {
        free(mem), free(c);
        return hj_error_set(err, HJ_ENOMEM, "transformer entropy: out of memory");
    }
    for (size_t l = 0; l < L; l++)
        cache_bind(&c[l], mem + l * cd, T, D, M);
    double *Xout = mem + L * cd, *work = Xout + T * D;
    memset(H_att, 0, L * sizeof *H_att);
    for (size_t i = 0; i < n && st == HJ_OK; i++)
        st = tf_forward_seq(tf, &o, s + i * T, c, Xout, H_att, work, err);
    for (size_t l = 0; l < L; l++)
        H_att[l] /= (double)n * (double)T;
    free(mem), free(c);
    return st;
}
