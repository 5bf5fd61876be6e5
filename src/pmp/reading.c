/* reading.c — the HJ reading of a trained model's own layers: the table of state equation,
 * Hamiltonian, co-state and source of viscosity per layer kind, and for a trained
 * recurrent layer (rnn, lstm, ssm) the states, the co-states of the adjoint recursion,
 * the discrete Hamiltonian per step and the Pontryagin gradients, set against reverse
 * mode through the model's own backward pass (pmp.h).
 *
 * Independence: the co-states here come from the Hamiltonian derivatives of
 * recurrent.c (per sequence, written from H = p . F), the reverse-mode numbers from
 * the batched layer backward passes of src/model; nothing is shared but the
 * parameters and the running-cost gradients g_k of the layers above.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/pmp.h"
#include "pmp/pmp-impl.h"

static const hj_layer_reading READINGS[] = {
    {HJ_LAYER_DENSE, "h' = softplus_eps(A h + c)", "(a map, not a time step)",
     "p = A^T (softplus_eps'(A h + c) p')", "eps: the softplus (two-atom LSE) temperature"},
    {HJ_LAYER_RESNET, "h_{k+1} = h_k + s softplus_eps(A h_k + c), s = 1/K",
     "H_k = p_{k+1} . softplus_eps(A h_k + c)", "p_k = p_{k+1} + s grad_h H_k",
     "eps: the softplus temperature (viscous HJ step)"},
    {HJ_LAYER_GIBBS, "h' = sum_j pi_j(h) v_j, pi = softmax((K h + beta)/eps)",
     "(a map: the characteristic velocity of an LSE layer)", "p = J^T p', J = Cov_pi(v, k)/eps",
     "eps: the Gibbs temperature"},
    {HJ_LAYER_LSE, "f = LSE_eps(w_j . h + b_j)", "(the Hopf-Cole solution at time t)",
     "grad f = sum_j pi_j w_j", "eps: the viscosity of the HJ equation"},
    {HJ_LAYER_LSE_CLASS, "F_c = LSE_eps over class c's neurons", "(one Hopf-Cole solution per class)",
     "grad F_c = sum_j pi_j w_j", "eps: the viscosity of the HJ equation"},
    {HJ_LAYER_RNN, "h_{k+1} = phi(W h_k + U u_k + b), phi = tanh or softplus_eps",
     "H_k = p_{k+1} . phi(W h_k + U u_k + b)", "p_k = W^T (phi' . p_{k+1}) + g_k",
     "none for tanh (inviscid); eps for softplus_eps"},
    {HJ_LAYER_LSTM, "(h, c)_{k+1}: c' = f c + i g, h' = o tanh(c'), gates of Wg [h; u] + bg",
     "H_k = p^h_{k+1} . h_{k+1} + p^c_{k+1} . c_{k+1}", "p_k = grad_(h,c) H_k + (g_k, 0)",
     "none: sigmoid gates are smooth switches (inviscid limit of a Gibbs choice)"},
    {HJ_LAYER_SSM, "h_{k+1} = Abar h_k + Bbar u_k (zero-order hold of dh/dt = A h + B u)",
     "H_k = p_{k+1} . (Abar h_k + Bbar u_k)", "p_k = Abar p_{k+1} + C^T (softplus_eps' . g_k)",
     "none in the state (linear, the value is exactly quadratic); eps in the read-out"},
    {HJ_LAYER_ATTN, "x += Attn(LN x) (causal), then x += G(LN x): two residual HJ steps in depth",
     "H = p . Attn(LN x) + p' . G(LN x)", "reverse mode through the two residual steps",
     "sqrt(H/heads): the attention softmax temperature; eps: the Gibbs feed-forward's"},
    {HJ_LAYER_POOL_LAST, "o = h_T", "(terminal cost only: Phi(h_T))", "p_T = grad Phi",
     "none"},
    {HJ_LAYER_POOL_MEAN, "o = (1/T) sum_k h_k", "(a running cost at every step)",
     "g_k = (1/T) grad_o L", "none"},
};

const hj_layer_reading *hj_layer_reading_of(hj_layer_kind kind)
{
    for (size_t i = 0; i < sizeof READINGS / sizeof READINGS[0]; i++)
        if (READINGS[i].kind == kind)
            return &READINGS[i];
    return NULL;
}

void hj_sequence_reading_free(hj_sequence_reading *r)
{
    if (r == NULL)
        return;
    free(r->X), free(r->P), free(r->H), free(r->grad), free(r->grad_rev), free(r->gin),
        free(r->gin_rev), free(r->out_rev);
    memset(r, 0, sizeof *r);
}

/* max |a - b| / max(max |b|, tiny) over n entries. */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double dmax = 0.0, bmax = 0.0;
    for (size_t k = 0; k < n; k++) {
        dmax = fmax(dmax, fabs(a[k] - b[k]));
        bmax = fmax(bmax, fabs(b[k]));
    }
    return dmax / (bmax > 0.0 ? bmax : 1e-300);
}

hj_status hj_sequence_reading_compute(const hj_model *m, size_t layer, const double *x,
                                      const double *y, size_t n, hj_sequence_reading *r,
                                      hj_error *err)
{
    if (m == NULL || r == NULL || x == NULL || y == NULL || n == 0)
        return hj_error_set(err, HJ_EINVAL, "sequence reading: NULL argument or no inputs");
    memset(r, 0, sizeof *r);
    if (layer >= m->arch.n_layers)
        return hj_error_set(err, HJ_EINVAL, "sequence reading: the model has %zu layers (asked for %zu)",
                            m->arch.n_layers, layer + 1);
    const hj_layer *L = &m->arch.layers[layer];
    hj_rnn_kind kind;
    switch (L->kind) {
    case HJ_LAYER_RNN: kind = HJ_RNN_ELMAN; break;
    case HJ_LAYER_LSTM: kind = HJ_RNN_LSTM; break;
    case HJ_LAYER_SSM: kind = HJ_RNN_SSM; break;
    default:
        return hj_error_set(err, HJ_EINVAL,
                            "sequence reading: layer %zu is not a recurrent layer (rnn, lstm or ssm); its time is "
                            "%s",
                            layer + 1, L->kind == HJ_LAYER_ATTN ? "depth (two residual steps), not the sequence"
                                                                : "not a sequence");
    }
    const size_t T = L->steps, d = L->step_in, H = L->width, S = kind == HJ_RNN_LSTM ? 2 * H : H;
    const size_t n_out = kind == HJ_RNN_SSM ? H : 1;
    const size_t np = hj_recurrent_num_params(kind, d, H, n_out), cnt = L->count;
    const double *theta_l = m->params + L->offset;
    r->layer = layer, r->n = n, r->T = T, r->S = S, r->d = d, r->count = cnt;
    r->X = malloc(n * (T + 1) * S * sizeof *r->X);
    r->P = malloc(n * (T + 1) * S * sizeof *r->P);
    r->H = malloc(n * T * sizeof *r->H);
    r->grad = calloc(cnt, sizeof *r->grad);
    r->grad_rev = malloc(m->arch.n_params * sizeof *r->grad_rev);
    r->gin = malloc(n * T * d * sizeof *r->gin);
    r->gin_rev = malloc(n * T * d * sizeof *r->gin_rev);
    r->out_rev = malloc(n * T * H * sizeof *r->out_rev);
    double *u = malloc(n * T * d * sizeof *u), *g = malloc(n * T * H * sizeof *g);
    double *theta = calloc(np, sizeof *theta), *gth = calloc(np, sizeof *gth);
    hj_workspace *ws = NULL;
    hj_status st = HJ_OK;
    if (!r->X || !r->P || !r->H || !r->grad || !r->grad_rev || !r->gin || !r->gin_rev || !r->out_rev || !u ||
        !g || !theta || !gth) {
        st = hj_error_set(err, HJ_ENOMEM, "sequence reading: out of memory (%zu inputs)", n);
        goto done;
    }
    /* reverse mode through the model: the layer's inputs, outputs, and the loss gradients */
    if ((st = hj_workspace_alloc(&ws, m, n, err)) != HJ_OK ||
        (st = hj_model_layer_gradients(m, ws, x, y, n, layer, u, r->out_rev, g, r->gin_rev, &r->loss,
                                       r->grad_rev, err)) != HJ_OK)
        goto done;
    memmove(r->grad_rev, r->grad_rev + L->offset, cnt * sizeof *r->grad_rev);
    /* the layer as an hj_recurrent cell: rnn and lstm without read-out (C = 0), the
     * ssm's (a, B, C, log_dt) as they are (its read-out C (H, H) is the layer's) */
    memcpy(theta, theta_l, (kind == HJ_RNN_SSM ? np : cnt) * sizeof *theta);
    const hj_recurrent cell = {kind, d, H, n_out, theta, L->activation == HJ_RNN_SOFTPLUS, m->eps};
    const hj__rnn_layout Lo = hj__rnn_layout_of(kind, d, H, n_out);
    const double *C = theta_l + Lo.C, *cb = theta_l + np; /* ssm read-out C (H, H), c (H) */
    double *gC = r->grad + Lo.C, *gc = r->grad + np;
    double out_max = 0.0;
    for (size_t i = 0; i < n && st == HJ_OK; i++) {
        double *X = r->X + i * (T + 1) * S, *P = r->P + i * (T + 1) * S;
        const double *ui = u + i * T * d;
        if ((st = hj_recurrent_forward(&cell, ui, T, NULL, X, err)) != HJ_OK)
            break;
        /* co-state: p_k = grad_x H_k(x_k, p_{k+1}) + (do_k/dx_k)^T g_k, p_T from the output alone */
        for (size_t k = T + 1; k-- > 0;) {
            double *pk = P + k * S;
            if (k == T)
                memset(pk, 0, S * sizeof *pk);
            else
                r->H[i * T + k] = hj__recurrent_hamiltonian_u(&cell, X + k * S, P + (k + 1) * S, ui + k * d, pk,
                                                              r->gin + (i * T + k) * d, gth);
            if (k == 0)
                break;
            const double *gk = g + (i * T + k - 1) * H, *hk = X + k * S;
            const double *ok = r->out_rev + (i * T + k - 1) * H;
            if (kind != HJ_RNN_SSM) { /* o_k = h_k, the hidden part of the state */
                for (size_t a = 0; a < H; a++) {
                    pk[a] += gk[a];
                    out_max = fmax(out_max, fabs(hk[a] - ok[a]));
                }
                continue;
            }
            for (size_t a = 0; a < H; a++) { /* o_k = softplus_eps(C h_k + c) */
                double z = cb[a];
                for (size_t l = 0; l < H; l++)
                    z += C[a * H + l] * hk[l];
                out_max = fmax(out_max, fabs(hj_softplus(z, m->eps) - ok[a]));
                const double ra = gk[a] * hj_softplus_grad(z, m->eps);
                gc[a] += ra;
                for (size_t l = 0; l < H; l++) {
                    pk[l] += C[a * H + l] * ra;
                    gC[a * H + l] += ra * hk[l];
                }
            }
        }
    }
    if (st != HJ_OK)
        goto done;
    /* the layer's parameters: the transition part from the Hamiltonian (the ssm's C
     * block of gth is 0: y == NULL drops hj_recurrent's own read-out cost) */
    for (size_t k = 0; k < (kind == HJ_RNN_SSM ? np : cnt); k++)
        r->grad[k] += gth[k];
    r->grad_rel = rel_diff(r->grad, r->grad_rev, cnt);
    r->gin_rel = rel_diff(r->gin, r->gin_rev, n * T * d);
    r->out_diff = out_max;
    double s2 = 0.0;
    for (size_t k = 0; k < cnt; k++)
        s2 += r->grad[k] * r->grad[k];
    r->stationarity = sqrt(s2);
    if (!hj__pmp_finite(r->P, n * (T + 1) * S) || !hj__pmp_finite(r->grad, cnt))
        st = hj_error_set(err, HJ_ENAN, "sequence reading: non-finite co-state");
done:
    hj_workspace_free(ws);
    free(u), free(g), free(theta), free(gth);
    if (st != HJ_OK)
        hj_sequence_reading_free(r);
    return st;
}
