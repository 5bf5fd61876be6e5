/* bptt.c — reverse-mode backprop through time for the Elman RNN, LSTM and diagonal SSM over cached activations, written apart from the Hamiltonian code for comparison. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/pmp.h"
#include "pmp/pmp-impl.h"

/*
 * Each model is unrolled into a tape: the forward pass stores what every node needs
 * (Elman: the hidden states; LSTM: the four gates, the new cell and its tanh; SSM: the
 * states and the discretised Abar, Bbar), and the backward pass visits the nodes in
 * reverse order, turning output adjoints into input and parameter adjoints. The loss
 * node l_k = |C h_k - y_{k-1}|^2 adds 2 C^T r to the adjoint of h_k.
 */

/* Loss node at step k: adds to dh (H) and dC (n_out, H); returns l_k. */
static double loss_node(const hj_recurrent *m, const double *C, const double *h, const double *y,
                        double *dh, double *dC)
{
    const size_t H = m->n_hid;
    double L = 0.0;
    for (size_t a = 0; a < m->n_out; a++) {
        double out = 0.0;
        for (size_t l = 0; l < H; l++)
            out += C[a * H + l] * h[l];
        const double r = out - y[a];
        L += r * r;
        for (size_t l = 0; l < H; l++) {
            dC[a * H + l] += 2.0 * r * h[l];
            dh[l] += 2.0 * r * C[a * H + l];
        }
    }
    return L;
}

static hj_status bptt_elman(const hj_recurrent *m, const hj__rnn_layout *Lo, const double *u,
                            const double *y, size_t K, const double *x0, double *loss,
                            double *grad, hj_error *err)
{
    const size_t H = m->n_hid, ni = m->n_in;
    const double *W = m->theta + Lo->W, *U = m->theta + Lo->U, *b = m->theta + Lo->b,
                 *C = m->theta + Lo->C;
    double *hs = malloc((K + 1) * H * sizeof *hs), *dh = malloc(3 * H * sizeof *dh);
    if (hs == NULL || dh == NULL) {
        free(hs), free(dh);
        return hj_error_set(err, HJ_ENOMEM, "bptt: out of memory");
    }
    double *da = dh + H, *dprev = dh + 2 * H;
    if (x0)
        memcpy(hs, x0, H * sizeof *hs);
    else
        memset(hs, 0, H * sizeof *hs);
    for (size_t k = 0; k < K; k++) {
        const double *hp = hs + k * H, *uk = u + k * ni;
        for (size_t a = 0; a < H; a++) {
            double z = b[a];
            for (size_t l = 0; l < H; l++)
                z += W[a * H + l] * hp[l];
            for (size_t j = 0; j < ni; j++)
                z += U[a * ni + j] * uk[j];
            hs[(k + 1) * H + a] = tanh(z);
        }
    }
    double L = 0.0;
    memset(dh, 0, H * sizeof *dh);
    for (size_t k = K; k >= 1; k--) {
        const double *hk = hs + k * H, *hp = hs + (k - 1) * H, *uk = u + (k - 1) * ni;
        L += loss_node(m, C, hk, y + (k - 1) * m->n_out, dh, grad + Lo->C);
        /* tanh node: da = dh (1 - h^2), using the cached output */
        for (size_t a = 0; a < H; a++)
            da[a] = dh[a] * (1.0 - hk[a] * hk[a]);
        /* affine node z = W h + U u + b */
        memset(dprev, 0, H * sizeof *dprev);
        for (size_t a = 0; a < H; a++) {
            for (size_t l = 0; l < H; l++) {
                grad[Lo->W + a * H + l] += da[a] * hp[l];
                dprev[l] += W[a * H + l] * da[a];
            }
            for (size_t j = 0; j < ni; j++)
                grad[Lo->U + a * ni + j] += da[a] * uk[j];
            grad[Lo->b + a] += da[a];
        }
        memcpy(dh, dprev, H * sizeof *dh);
    }
    *loss = L;
    free(hs), free(dh);
    return HJ_OK;
}

/* Gate cache per step and unit: i, f, g, o, c_new, tanh(c_new). */
enum { LG_I, LG_F, LG_G, LG_O, LG_C, LG_TC, LG_N };

static hj_status bptt_lstm(const hj_recurrent *m, const hj__rnn_layout *Lo, const double *u,
                           const double *y, size_t K, const double *x0, double *loss, double *grad,
                           hj_error *err)
{
    const size_t H = m->n_hid, ni = m->n_in, cols = H + ni;
    const double *Wg = m->theta + Lo->Wg, *bg = m->theta + Lo->bg, *C = m->theta + Lo->C;
    double *hs = malloc((K + 1) * H * sizeof *hs), *cs = malloc((K + 1) * H * sizeof *cs);
    double *cache = malloc((K > 0 ? K : 1) * H * LG_N * sizeof *cache);
    double *adj = malloc(5 * H * sizeof *adj), *dz = malloc(4 * H * sizeof *dz);
    if (!hs || !cs || !cache || !adj || !dz) {
        free(hs), free(cs), free(cache), free(adj), free(dz);
        return hj_error_set(err, HJ_ENOMEM, "bptt: out of memory");
    }
    if (x0) {
        memcpy(hs, x0, H * sizeof *hs);
        memcpy(cs, x0 + H, H * sizeof *cs);
    } else {
        memset(hs, 0, H * sizeof *hs);
        memset(cs, 0, H * sizeof *cs);
    }
    for (size_t k = 0; k < K; k++) {
        const double *hp = hs + k * H, *cp = cs + k * H, *uk = u + k * ni;
        double *ca = cache + k * H * LG_N;
        for (size_t j = 0; j < H; j++) {
            double z[4];
            for (size_t gte = 0; gte < 4; gte++) {
                const double *w = Wg + (gte * H + j) * cols;
                double acc = bg[gte * H + j];
                for (size_t l = 0; l < H; l++)
                    acc += w[l] * hp[l];
                for (size_t q = 0; q < ni; q++)
                    acc += w[H + q] * uk[q];
                z[gte] = acc;
            }
            double *cj = ca + j * LG_N;
            cj[LG_I] = hj__sigmoid(z[0]);
            cj[LG_F] = hj__sigmoid(z[1]);
            cj[LG_G] = tanh(z[2]);
            cj[LG_O] = hj__sigmoid(z[3]);
            cj[LG_C] = cj[LG_F] * cp[j] + cj[LG_I] * cj[LG_G];
            cj[LG_TC] = tanh(cj[LG_C]);
            cs[(k + 1) * H + j] = cj[LG_C];
            hs[(k + 1) * H + j] = cj[LG_O] * cj[LG_TC];
        }
    }
    double L = 0.0;
    double *dh = adj, *dc = adj + H, *dhp = adj + 2 * H, *dcp = adj + 3 * H;
    memset(adj, 0, 5 * H * sizeof *adj);
    for (size_t k = K; k >= 1; k--) {
        const double *hp = hs + (k - 1) * H, *cp = cs + (k - 1) * H, *uk = u + (k - 1) * ni;
        const double *ca = cache + (k - 1) * H * LG_N;
        L += loss_node(m, C, hs + k * H, y + (k - 1) * m->n_out, dh, grad + Lo->C);
        for (size_t j = 0; j < H; j++) {
            const double *cj = ca + j * LG_N;
            /* h = o * tc */
            const double d_o = dh[j] * cj[LG_TC], d_tc = dh[j] * cj[LG_O];
            /* tc = tanh(c) */
            const double d_c = dc[j] + d_tc * (1.0 - cj[LG_TC] * cj[LG_TC]);
            /* c = f * c_prev + i * g */
            const double d_f = d_c * cp[j], d_i = d_c * cj[LG_G], d_g = d_c * cj[LG_I];
            dcp[j] = d_c * cj[LG_F];
            /* gate nonlinearities */
            dz[0 * H + j] = d_i * cj[LG_I] * (1.0 - cj[LG_I]);
            dz[1 * H + j] = d_f * cj[LG_F] * (1.0 - cj[LG_F]);
            dz[2 * H + j] = d_g * (1.0 - cj[LG_G] * cj[LG_G]);
            dz[3 * H + j] = d_o * cj[LG_O] * (1.0 - cj[LG_O]);
        }
        /* affine node z = Wg [h; u] + bg */
        memset(dhp, 0, H * sizeof *dhp);
        for (size_t row = 0; row < 4 * H; row++) {
            const double *w = Wg + row * cols;
            double *gw = grad + Lo->Wg + row * cols;
            for (size_t l = 0; l < H; l++) {
                gw[l] += dz[row] * hp[l];
                dhp[l] += w[l] * dz[row];
            }
            for (size_t q = 0; q < ni; q++)
                gw[H + q] += dz[row] * uk[q];
            grad[Lo->bg + row] += dz[row];
        }
        memcpy(dh, dhp, H * sizeof *dh);
        memcpy(dc, dcp, H * sizeof *dc);
    }
    *loss = L;
    free(hs), free(cs), free(cache), free(adj), free(dz);
    return HJ_OK;
}

static hj_status bptt_ssm(const hj_recurrent *m, const hj__rnn_layout *Lo, const double *u,
                          const double *y, size_t K, const double *x0, double *loss, double *grad,
                          hj_error *err)
{
    const size_t H = m->n_hid, ni = m->n_in;
    const double *a = m->theta + Lo->a, *B = m->theta + Lo->B, *C = m->theta + Lo->C;
    const double dt = exp(m->theta[Lo->logdt]);
    double *hs = malloc((K + 1) * H * sizeof *hs);
    double *mem = malloc((6 * H + 2 * H * ni) * sizeof *mem);
    if (hs == NULL || mem == NULL) {
        free(hs), free(mem);
        return hj_error_set(err, HJ_ENOMEM, "bptt: out of memory");
    }
    double *Ac = mem, *Ab = mem + H, *beta = mem + 2 * H, *dAb = mem + 3 * H, *dh = mem + 4 * H;
    double *dbeta = mem + 5 * H, *Bb = mem + 6 * H, *dBb = Bb + H * ni;
    /* discretisation nodes: A = -exp(a), Abar = exp(dt A), beta = (Abar - 1)/A, Bbar = beta B */
    for (size_t n = 0; n < H; n++) {
        Ac[n] = -exp(a[n]);
        Ab[n] = exp(dt * Ac[n]);
        beta[n] = expm1(dt * Ac[n]) / Ac[n];
        for (size_t j = 0; j < ni; j++)
            Bb[n * ni + j] = beta[n] * B[n * ni + j];
    }
    if (x0)
        memcpy(hs, x0, H * sizeof *hs);
    else
        memset(hs, 0, H * sizeof *hs);
    for (size_t k = 0; k < K; k++)
        for (size_t n = 0; n < H; n++) {
            double v = Ab[n] * hs[k * H + n];
            for (size_t j = 0; j < ni; j++)
                v += Bb[n * ni + j] * u[k * ni + j];
            hs[(k + 1) * H + n] = v;
        }
    double L = 0.0;
    memset(dh, 0, H * sizeof *dh);
    memset(dAb, 0, H * sizeof *dAb);
    memset(dBb, 0, H * ni * sizeof *dBb);
    for (size_t k = K; k >= 1; k--) {
        L += loss_node(m, C, hs + k * H, y + (k - 1) * m->n_out, dh, grad + Lo->C);
        /* h_k = Abar h_{k-1} + Bbar u_{k-1} */
        for (size_t n = 0; n < H; n++) {
            dAb[n] += dh[n] * hs[(k - 1) * H + n];
            for (size_t j = 0; j < ni; j++)
                dBb[n * ni + j] += dh[n] * u[(k - 1) * ni + j];
            dh[n] *= Ab[n];
        }
    }
    /* back through the discretisation nodes */
    double ddt = 0.0;
    for (size_t n = 0; n < H; n++) {
        dbeta[n] = 0.0;
        for (size_t j = 0; j < ni; j++) {
            dbeta[n] += dBb[n * ni + j] * B[n * ni + j];
            grad[Lo->B + n * ni + j] += dBb[n * ni + j] * beta[n];
        }
        /* beta = (Abar - 1)/A: d beta/d Abar = 1/A, d beta/d A (Abar fixed) = -beta/A */
        const double dAbar_tot = dAb[n] + dbeta[n] / Ac[n];
        double dA = -dbeta[n] * beta[n] / Ac[n];
        /* Abar = exp(dt A) */
        dA += dAbar_tot * dt * Ab[n];
        ddt += dAbar_tot * Ac[n] * Ab[n];
        /* A = -exp(a) */
        grad[Lo->a + n] += dA * Ac[n];
    }
    grad[Lo->logdt] += ddt * dt;   /* dt = exp(log_dt) */
    *loss = L;
    free(hs), free(mem);
    return HJ_OK;
}

hj_status hj_recurrent_bptt_grad(const hj_recurrent *m, const double *u, const double *y, size_t K,
                                 const double *x0, double *loss, double *grad, hj_error *err)
{
    hj_status st = hj_recurrent_check(m, err);
    if (st != HJ_OK)
        return st;
    if (grad == NULL || (K > 0 && (u == NULL || y == NULL)))
        return hj_error_set(err, HJ_EINVAL, "bptt: NULL buffer");
    if (m->softplus)
        return hj_error_set(err, HJ_EINVAL, "bptt: the reverse-mode reference is written for the tanh Elman cell only");
    const hj__rnn_layout Lo = hj__rnn_layout_of(m->kind, m->n_in, m->n_hid, m->n_out);
    memset(grad, 0, Lo.total * sizeof *grad);
    double L = 0.0;
    switch (m->kind) {
    case HJ_RNN_ELMAN: st = bptt_elman(m, &Lo, u, y, K, x0, &L, grad, err); break;
    case HJ_RNN_LSTM: st = bptt_lstm(m, &Lo, u, y, K, x0, &L, grad, err); break;
    case HJ_RNN_SSM: st = bptt_ssm(m, &Lo, u, y, K, x0, &L, grad, err); break;
    }
    if (st != HJ_OK)
        return st;
    if (loss != NULL)
        *loss = L;
    if (!isfinite(L) || !hj__pmp_finite(grad, Lo.total))
        return hj_error_set(err, HJ_ENAN, "bptt: non-finite loss or gradient");
    return HJ_OK;
}
