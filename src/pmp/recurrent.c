/* recurrent.c — Elman RNN, LSTM and diagonal SSM as discrete Hamiltonian systems: forward, loss, Hamiltonian derivatives, co-state BPTT, SSM discretisation and Riccati value function. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/pmp.h"
#include "pmp/pmp-impl.h"

/*
 * Shapes: H = n_hid, S = state dimension (H, or 2H for the LSTM: x = (h, c)),
 * u (K, n_in), y (K, n_out), X and P (K+1, S). Layouts of theta in pmp.h.
 */

hj__rnn_layout hj__rnn_layout_of(hj_rnn_kind kind, size_t n_in, size_t H, size_t n_out)
{
    hj__rnn_layout L;
    memset(&L, 0, sizeof L);
    switch (kind) {
    case HJ_RNN_ELMAN:
        L.W = 0;
        L.U = H * H;
        L.b = L.U + H * n_in;
        L.C = L.b + H;
        L.total = L.C + n_out * H;
        break;
    case HJ_RNN_LSTM:
        L.Wg = 0;
        L.bg = 4 * H * (H + n_in);
        L.C = L.bg + 4 * H;
        L.total = L.C + n_out * H;
        break;
    case HJ_RNN_SSM:
        L.a = 0;
        L.B = H;
        L.C = L.B + H * n_in;
        L.logdt = L.C + n_out * H;
        L.total = L.logdt + 1;
        break;
    }
    return L;
}

hj__ssm_coef hj__ssm_coef_of(double a_n, double log_dt)
{
    hj__ssm_coef c;
    const double dt = exp(log_dt);
    c.A = -exp(a_n);
    c.Abar = exp(dt * c.A);
    c.beta = expm1(dt * c.A) / c.A;
    c.dAbar_dA = dt * c.Abar;
    c.dAbar_ddt = c.A * c.Abar;
    c.dbeta_dA = (dt * c.Abar - c.beta) / c.A;
    c.dbeta_ddt = c.Abar;
    return c;
}

const char *hj_rnn_kind_name(hj_rnn_kind kind)
{
    switch (kind) {
    case HJ_RNN_ELMAN: return "elman";
    case HJ_RNN_LSTM: return "lstm";
    case HJ_RNN_SSM: return "ssm";
    }
    return "unknown";
}

size_t hj_recurrent_num_params(hj_rnn_kind kind, size_t n_in, size_t n_hid, size_t n_out)
{
    if (kind != HJ_RNN_ELMAN && kind != HJ_RNN_LSTM && kind != HJ_RNN_SSM)
        return 0;
    return hj__rnn_layout_of(kind, n_in, n_hid, n_out).total;
}

size_t hj_recurrent_state_dim(const hj_recurrent *m)
{
    return m->kind == HJ_RNN_LSTM ? 2 * m->n_hid : m->n_hid;
}

hj_status hj_recurrent_check(const hj_recurrent *m, hj_error *err)
{
    if (m == NULL)
        return hj_error_set(err, HJ_EINVAL, "recurrent: NULL model");
    if (m->kind != HJ_RNN_ELMAN && m->kind != HJ_RNN_LSTM && m->kind != HJ_RNN_SSM)
        return hj_error_set(err, HJ_EINVAL, "recurrent: unknown kind %d", (int)m->kind);
    if (m->n_in == 0 || m->n_hid == 0 || m->n_out == 0)
        return hj_error_set(err, HJ_EINVAL, "recurrent: n_in, n_hid, n_out must be >= 1 (got %zu, %zu, %zu)",
                            m->n_in, m->n_hid, m->n_out);
    if (m->theta == NULL)
        return hj_error_set(err, HJ_EINVAL, "recurrent: NULL parameters");
    if (m->softplus && (m->kind != HJ_RNN_ELMAN || !(m->eps >= 0.0) || !isfinite(m->eps)))
        return hj_error_set(err, HJ_EINVAL, "recurrent: softplus is an Elman activation with eps >= 0 (kind %s, eps %g)",
                            hj_rnn_kind_name(m->kind), m->eps);
    const size_t np = hj_recurrent_num_params(m->kind, m->n_in, m->n_hid, m->n_out);
    for (size_t i = 0; i < np; i++)
        if (!isfinite(m->theta[i]))
            return hj_error_set(err, HJ_ENAN, "recurrent (%s): parameter %zu is not finite",
                                hj_rnn_kind_name(m->kind), i);
    return HJ_OK;
}

/* ---- the state equation F ---------------------------------------------------- */


/* The four LSTM gate pre-activations of unit j (input, forget, cell, output):
 * z[g] = bg[g H + j] + Wg[g H + j] . (x_h, u), x_h the hidden half of x. */
static void lstm_gates(const double *th, const hj__rnn_layout *Lo, const double *x, const double *u,
                       size_t H, size_t ni, size_t j, double z[4])
{
    const size_t cols = H + ni;
    for (size_t gte = 0; gte < 4; gte++) {
        const size_t row = gte * H + j;
        const double *w = th + Lo->Wg + row * cols;
        double acc = th[Lo->bg + row];
        for (size_t l = 0; l < H; l++)
            acc += w[l] * x[l];
        for (size_t q = 0; q < ni; q++)
            acc += w[H + q] * u[q];
        z[gte] = acc;
    }
}

/* The Elman activation phi(z) (tanh, or softplus_eps when m->softplus) and, when
 * d != NULL, phi'(z) into *d. */
static double elman_act(const hj_recurrent *m, double z, double *d)
{
    if (m->softplus) {
        if (d)
            *d = hj_softplus_grad(z, m->eps);
        return hj_softplus(z, m->eps);
    }
    const double t = tanh(z);
    if (d)
        *d = 1.0 - t * t;
    return t;
}

static void cell_step(const hj_recurrent *m, const hj__rnn_layout *Lo, const double *x,
                      const double *u, double *xo)
{
    const size_t H = m->n_hid, ni = m->n_in;
    const double *th = m->theta;
    switch (m->kind) {
    case HJ_RNN_ELMAN:
        for (size_t a = 0; a < H; a++) {
            double z = th[Lo->b + a];
            for (size_t l = 0; l < H; l++)
                z += th[Lo->W + a * H + l] * x[l];
            for (size_t j = 0; j < ni; j++)
                z += th[Lo->U + a * ni + j] * u[j];
            xo[a] = elman_act(m, z, NULL);
        }
        break;
    case HJ_RNN_LSTM: {
        for (size_t j = 0; j < H; j++) {
            double z[4];
            lstm_gates(th, Lo, x, u, H, ni, j, z);
            const double gi = hj__sigmoid(z[0]), gf = hj__sigmoid(z[1]), gg = tanh(z[2]),
                         go = hj__sigmoid(z[3]);
            const double cn = gf * x[H + j] + gi * gg;
            xo[H + j] = cn;
            xo[j] = go * tanh(cn);
        }
        break;
    }
    case HJ_RNN_SSM: {
        const double logdt = th[Lo->logdt];
        for (size_t a = 0; a < H; a++) {
            const hj__ssm_coef c = hj__ssm_coef_of(th[Lo->a + a], logdt);
            double bu = 0.0;
            for (size_t j = 0; j < ni; j++)
                bu += th[Lo->B + a * ni + j] * u[j];
            xo[a] = c.Abar * x[a] + c.beta * bu;
        }
        break;
    }
    }
}

hj_status hj_recurrent_forward(const hj_recurrent *m, const double *u, size_t K, const double *x0,
                               double *X, hj_error *err)
{
    hj_status st = hj_recurrent_check(m, err);
    if (st != HJ_OK)
        return st;
    if (X == NULL || (u == NULL && K > 0))
        return hj_error_set(err, HJ_EINVAL, "recurrent forward: NULL buffer");
    const size_t S = hj_recurrent_state_dim(m);
    const hj__rnn_layout Lo = hj__rnn_layout_of(m->kind, m->n_in, m->n_hid, m->n_out);
    if (x0 != NULL)
        memcpy(X, x0, S * sizeof *X);
    else
        memset(X, 0, S * sizeof *X);
    for (size_t k = 0; k < K; k++)
        cell_step(m, &Lo, X + k * S, u + k * m->n_in, X + (k + 1) * S);
    if (!hj__pmp_finite(X, (K + 1) * S))
        return hj_error_set(err, HJ_ENAN, "recurrent forward: non-finite state");
    return HJ_OK;
}

/* |C h - y|^2 for one hidden vector h (n_hid). */
static double running_cost(const hj_recurrent *m, const hj__rnn_layout *Lo, const double *h,
                           const double *y)
{
    const size_t H = m->n_hid;
    double L = 0.0;
    for (size_t a = 0; a < m->n_out; a++) {
        double r = -y[a];
        for (size_t l = 0; l < H; l++)
            r += m->theta[Lo->C + a * H + l] * h[l];
        L += r * r;
    }
    return L;
}

hj_status hj_recurrent_loss(const hj_recurrent *m, const double *X, const double *y, size_t K,
                            double *loss, hj_error *err)
{
    hj_status st = hj_recurrent_check(m, err);
    if (st != HJ_OK)
        return st;
    if (X == NULL || loss == NULL || (y == NULL && K > 0))
        return hj_error_set(err, HJ_EINVAL, "recurrent loss: NULL buffer");
    const size_t S = hj_recurrent_state_dim(m);
    const hj__rnn_layout Lo = hj__rnn_layout_of(m->kind, m->n_in, m->n_hid, m->n_out);
    double L = 0.0;
    for (size_t k = 1; k <= K; k++)
        L += running_cost(m, &Lo, X + k * S, y + (k - 1) * m->n_out);
    *loss = L;
    return HJ_OK;
}

/* ---- the Hamiltonian and its derivatives ------------------------------------------ */

/* H = p . F(x, u) + |C hid(x) - y|^2; gx (S) overwritten; gtheta accumulated. */
static double hamiltonian_acc(const hj_recurrent *m, const hj__rnn_layout *Lo, const double *x,
                              const double *p, const double *u, const double *y, double *gx,
                              double *gu, double *gt)
{
    const size_t H = m->n_hid, ni = m->n_in, S = hj_recurrent_state_dim(m);
    const double *th = m->theta;
    double Hv = 0.0;
    if (gx != NULL)
        memset(gx, 0, S * sizeof *gx);
    if (gu != NULL)
        memset(gu, 0, ni * sizeof *gu);
    if (p != NULL) {
        switch (m->kind) {
        case HJ_RNN_ELMAN:
            for (size_t a = 0; a < H; a++) {
                const double *Wa = th + Lo->W + a * H, *Ua = th + Lo->U + a * ni;
                double z = th[Lo->b + a];
                for (size_t l = 0; l < H; l++)
                    z += Wa[l] * x[l];
                for (size_t j = 0; j < ni; j++)
                    z += Ua[j] * u[j];
                double dphi;
                const double tz = elman_act(m, z, &dphi), dl = p[a] * dphi;
                Hv += p[a] * tz;
                if (gx != NULL)
                    for (size_t l = 0; l < H; l++)
                        gx[l] += Wa[l] * dl;
                if (gu != NULL)
                    for (size_t j = 0; j < ni; j++)
                        gu[j] += Ua[j] * dl;
                if (gt != NULL) {
                    for (size_t l = 0; l < H; l++)
                        gt[Lo->W + a * H + l] += dl * x[l];
                    for (size_t j = 0; j < ni; j++)
                        gt[Lo->U + a * ni + j] += dl * u[j];
                    gt[Lo->b + a] += dl;
                }
            }
            break;
        case HJ_RNN_LSTM: {
            const size_t cols = H + ni;
            for (size_t j = 0; j < H; j++) {
                double z[4];
                lstm_gates(th, Lo, x, u, H, ni, j, z);
                const double gi = hj__sigmoid(z[0]), gf = hj__sigmoid(z[1]), gg = tanh(z[2]),
                             go = hj__sigmoid(z[3]);
                const double c = x[H + j], cn = gf * c + gi * gg, tc = tanh(cn);
                const double ph = p[j], pc = p[H + j];
                Hv += ph * go * tc + pc * cn;
                /* dH/dc' and the pre-activation derivatives of the four gates */
                const double gam = ph * go * (1.0 - tc * tc) + pc;
                double dl[4];
                dl[0] = gam * gg * gi * (1.0 - gi);
                dl[1] = gam * c * gf * (1.0 - gf);
                dl[2] = gam * gi * (1.0 - gg * gg);
                dl[3] = ph * tc * go * (1.0 - go);
                if (gx != NULL)
                    gx[H + j] += gam * gf;
                for (size_t gte = 0; gte < 4; gte++) {
                    const size_t row = gte * H + j;
                    const double *w = th + Lo->Wg + row * cols;
                    if (gx != NULL)
                        for (size_t l = 0; l < H; l++)
                            gx[l] += w[l] * dl[gte];
                    if (gu != NULL)
                        for (size_t q = 0; q < ni; q++)
                            gu[q] += w[H + q] * dl[gte];
                    if (gt != NULL) {
                        double *gw = gt + Lo->Wg + row * cols;
                        for (size_t l = 0; l < H; l++)
                            gw[l] += dl[gte] * x[l];
                        for (size_t q = 0; q < ni; q++)
                            gw[H + q] += dl[gte] * u[q];
                        gt[Lo->bg + row] += dl[gte];
                    }
                }
            }
            break;
        }
        case HJ_RNN_SSM: {
            const double logdt = th[Lo->logdt], dt = exp(logdt);
            double gdt = 0.0;
            for (size_t a = 0; a < H; a++) {
                const hj__ssm_coef c = hj__ssm_coef_of(th[Lo->a + a], logdt);
                const double *Ba = th + Lo->B + a * ni;
                double bu = 0.0;
                for (size_t j = 0; j < ni; j++)
                    bu += Ba[j] * u[j];
                Hv += p[a] * (c.Abar * x[a] + c.beta * bu);
                if (gx != NULL)
                    gx[a] = p[a] * c.Abar;
                if (gu != NULL)
                    for (size_t j = 0; j < ni; j++)
                        gu[j] += p[a] * c.beta * Ba[j];
                if (gt != NULL) {
                    for (size_t j = 0; j < ni; j++)
                        gt[Lo->B + a * ni + j] += p[a] * c.beta * u[j];
                    const double dA = p[a] * (c.dAbar_dA * x[a] + c.dbeta_dA * bu);
                    gt[Lo->a + a] += dA * c.A;   /* dA/da = A */
                    gdt += p[a] * (c.dAbar_ddt * x[a] + c.dbeta_ddt * bu);
                }
            }
            if (gt != NULL)
                gt[Lo->logdt] += gdt * dt;
            break;
        }
        }
    }
    if (y != NULL) {
        for (size_t a = 0; a < m->n_out; a++) {
            const double *Ca = th + Lo->C + a * H;
            double r = -y[a];
            for (size_t l = 0; l < H; l++)
                r += Ca[l] * x[l];
            Hv += r * r;
            for (size_t l = 0; l < H; l++) {
                if (gx != NULL)
                    gx[l] += 2.0 * r * Ca[l];
                if (gt != NULL)
                    gt[Lo->C + a * H + l] += 2.0 * r * x[l];
            }
        }
    }
    return Hv;
}

double hj_recurrent_hamiltonian(const hj_recurrent *m, const double *x, const double *p,
                                const double *u, const double *y, double *gx, double *gtheta)
{
    const hj__rnn_layout Lo = hj__rnn_layout_of(m->kind, m->n_in, m->n_hid, m->n_out);
    if (gtheta != NULL)
        memset(gtheta, 0, Lo.total * sizeof *gtheta);
    return hamiltonian_acc(m, &Lo, x, p, u, y, gx, NULL, gtheta);
}

double hj__recurrent_hamiltonian_u(const hj_recurrent *m, const double *x, const double *p,
                                   const double *u, double *gx, double *gu, double *gtheta)
{
    const hj__rnn_layout Lo = hj__rnn_layout_of(m->kind, m->n_in, m->n_hid, m->n_out);
    return hamiltonian_acc(m, &Lo, x, p, u, NULL, gx, gu, gtheta);
}

hj_status hj_recurrent_costate_grad(const hj_recurrent *m, const double *u, const double *y,
                                    size_t K, const double *x0, double *loss, double *grad,
                                    double *P, hj_error *err)
{
    hj_status st = hj_recurrent_check(m, err);
    if (st != HJ_OK)
        return st;
    if (grad == NULL || (K > 0 && (u == NULL || y == NULL)))
        return hj_error_set(err, HJ_EINVAL, "recurrent co-state: NULL buffer");
    const size_t S = hj_recurrent_state_dim(m);
    const hj__rnn_layout Lo = hj__rnn_layout_of(m->kind, m->n_in, m->n_hid, m->n_out);
    double *X = malloc((K + 1) * S * sizeof *X);
    double *Pw = P != NULL ? P : malloc((K + 1) * S * sizeof *Pw);
    if (X == NULL || Pw == NULL) {
        free(X);
        if (P == NULL)
            free(Pw);
        return hj_error_set(err, HJ_ENOMEM, "recurrent co-state: out of memory");
    }
    double L = 0.0;
    if ((st = hj_recurrent_forward(m, u, K, x0, X, err)) != HJ_OK ||
        (st = hj_recurrent_loss(m, X, y, K, &L, err)) != HJ_OK)
        goto done;
    memset(grad, 0, Lo.total * sizeof *grad);
    if (K == 0) {
        memset(Pw, 0, S * sizeof *Pw);
    } else {
        /* p_K = grad l_K(x_K), then p_k = grad_x H_k(x_k, p_{k+1}); grad = sum_k grad_theta H_k */
        hamiltonian_acc(m, &Lo, X + K * S, NULL, NULL, y + (K - 1) * m->n_out, Pw + K * S, NULL, grad);
        for (size_t k = K; k-- > 0;)
            hamiltonian_acc(m, &Lo, X + k * S, Pw + (k + 1) * S, u + k * m->n_in,
                            k >= 1 ? y + (k - 1) * m->n_out : NULL, Pw + k * S, NULL, grad);
    }
    if (loss != NULL)
        *loss = L;
    if (!hj__pmp_finite(grad, Lo.total))
        st = hj_error_set(err, HJ_ENAN, "recurrent co-state: non-finite gradient");
done:
    free(X);
    if (P == NULL)
        free(Pw);
    return st;
}

/* ---- SSM: discretisation and the quadratic value function -------------------------- */

hj_status hj_ssm_discretize(const hj_recurrent *m, double *Abar, double *Bbar, hj_error *err)
{
    hj_status st = hj_recurrent_check(m, err);
    if (st != HJ_OK)
        return st;
    if (m->kind != HJ_RNN_SSM)
        return hj_error_set(err, HJ_EINVAL, "ssm discretize: model is %s, not ssm",
                            hj_rnn_kind_name(m->kind));
    const hj__rnn_layout Lo = hj__rnn_layout_of(m->kind, m->n_in, m->n_hid, m->n_out);
    for (size_t a = 0; a < m->n_hid; a++) {
        const hj__ssm_coef c = hj__ssm_coef_of(m->theta[Lo.a + a], m->theta[Lo.logdt]);
        if (Abar != NULL)
            Abar[a] = c.Abar;
        if (Bbar != NULL)
            for (size_t j = 0; j < m->n_in; j++)
                Bbar[a * m->n_in + j] = c.beta * m->theta[Lo.B + a * m->n_in + j];
    }
    return HJ_OK;
}

hj_status hj_ssm_value_recursion(const hj_recurrent *m, const double *u, const double *y, size_t K,
                                 double *P, double *q, double *r, hj_error *err)
{
    hj_status st = hj_recurrent_check(m, err);
    if (st != HJ_OK)
        return st;
    if (m->kind != HJ_RNN_SSM)
        return hj_error_set(err, HJ_EINVAL, "ssm value: model is %s, not ssm", hj_rnn_kind_name(m->kind));
    if (K == 0 || u == NULL || y == NULL || P == NULL || q == NULL || r == NULL)
        return hj_error_set(err, HJ_EINVAL, "ssm value: NULL buffer or K = 0");
    const size_t H = m->n_hid, ni = m->n_in, no = m->n_out, HH = H * H;
    const hj__rnn_layout Lo = hj__rnn_layout_of(m->kind, ni, H, no);
    const double *C = m->theta + Lo.C;
    double *Ab = malloc((H + H * ni + 2 * H) * sizeof *Ab);
    if (Ab == NULL)
        return hj_error_set(err, HJ_ENOMEM, "ssm value: out of memory");
    double *Bb = Ab + H, *e = Bb + H * ni, *Pe = e + H;
    hj_ssm_discretize(m, Ab, Bb, NULL);
    for (size_t k = K + 1; k-- > 0;) {
        double *Pk = P + k * HH, *qk = q + k * H;
        double rk = 0.0;
        memset(Pk, 0, HH * sizeof *Pk);
        memset(qk, 0, H * sizeof *qk);
        if (k >= 1) {   /* running cost |C h - y_{k-1}|^2 */
            const double *yk = y + (k - 1) * no;
            for (size_t a = 0; a < no; a++) {
                for (size_t i = 0; i < H; i++) {
                    for (size_t j = 0; j < H; j++)
                        Pk[i * H + j] += C[a * H + i] * C[a * H + j];
                    qk[i] -= 2.0 * C[a * H + i] * yk[a];
                }
                rk += yk[a] * yk[a];
            }
        }
        if (k < K) {   /* + V_{k+1}(Abar h + e_k) */
            const double *P1 = P + (k + 1) * HH, *q1 = q + (k + 1) * H;
            const double *uk = u + k * ni;
            for (size_t i = 0; i < H; i++) {
                double v = 0.0;
                for (size_t j = 0; j < ni; j++)
                    v += Bb[i * ni + j] * uk[j];
                e[i] = v;
            }
            double ePe = 0.0, qe = 0.0;
            for (size_t i = 0; i < H; i++) {
                double v = 0.0;
                for (size_t j = 0; j < H; j++)
                    v += P1[i * H + j] * e[j];
                Pe[i] = v;
                ePe += e[i] * v;
                qe += q1[i] * e[i];
            }
            for (size_t i = 0; i < H; i++) {
                for (size_t j = 0; j < H; j++)
                    Pk[i * H + j] += Ab[i] * P1[i * H + j] * Ab[j];
                qk[i] += Ab[i] * (2.0 * Pe[i] + q1[i]);
            }
            rk += ePe + qe + r[k + 1];
        }
        r[k] = rk;
    }
    free(Ab);
    return HJ_OK;
}

double hj_ssm_value(const double *P, const double *q, double r, size_t H, const double *h,
                    double *grad)
{
    double v = r;
    for (size_t i = 0; i < H; i++) {
        double Ph = 0.0;
        for (size_t j = 0; j < H; j++)
            Ph += P[i * H + j] * h[j];
        v += h[i] * Ph + q[i] * h[i];
        if (grad != NULL)
            grad[i] = 2.0 * Ph + q[i];
    }
    return v;
}
