/* test_pmp.c — networks as Hamiltonian systems: co-state gradients vs reverse mode vs finite differences of naive forward passes (ResNet, RNN, LSTM, SSM, transformer), extended Hamiltonian and MSA, SSM Riccati value vs brute-force rollout, noisy control vs the closed form. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/pmp.h"
#include "naive_ref.h"

/* ---- helpers ----------------------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    assert_non_null(p);
    return p;
}

static double *dalloc(size_t n) { return xmalloc(n * sizeof(double)); }

/* |a - b| / max(|b|, tiny) in the Euclidean norm. */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num) / fmax(sqrt(den), 1e-300);
}

/* softplus_eps in long double, from its definition (eps > 0). */
static long double ref_softplus(long double z, long double eps)
{
    if (eps == 0.0L)
        return z > 0 ? z : 0.0L;
    long double a = z / eps;
    return a > 0 ? z + eps * log1pl(expl(-a)) : eps * log1pl(expl(a));
}

/* Central difference of a scalar function of one coordinate v[i]. */
typedef double (*scalar_fn)(void *ctx);

static double central_diff(double *v, size_t i, double step, scalar_fn f, void *ctx)
{
    const double keep = v[i];
    v[i] = keep + step;
    const double fp = f(ctx);
    v[i] = keep - step;
    const double fm = f(ctx);
    v[i] = keep;
    return (fp - fm) / (2.0 * step);
}

/* ---- residual network: naive forward, written from the state equation ---------------- */

typedef struct rn_case {
    size_t K, D, n, m;
    double h, eps;
    double *theta, *R, *y, *x0;
    size_t start;     /* layer at which the naive forward starts */
    double *xstart;   /* (n, D) state at that layer */
} rn_case;

/* L = 1/(2n) sum_i |R x_K,i - y_i|^2 after running layers start..K-1 from xstart. */
static double rn_naive_loss(void *ctx)
{
    rn_case *c = ctx;
    const size_t D = c->D, P = D * D + D;
    long double L = 0.0L;
    long double *x = xmalloc(D * sizeof *x), *xn = xmalloc(D * sizeof *xn);
    for (size_t i = 0; i < c->n; i++) {
        for (size_t a = 0; a < D; a++)
            x[a] = c->xstart[i * D + a];
        for (size_t k = c->start; k < c->K; k++) {
            const double *A = c->theta + k * P, *cc = A + D * D;
            for (size_t a = 0; a < D; a++) {
                long double z = cc[a];
                for (size_t l = 0; l < D; l++)
                    z += (long double)A[a * D + l] * x[l];
                xn[a] = x[a] + (long double)c->h * ref_softplus(z, c->eps);
            }
            memcpy(x, xn, D * sizeof *x);
        }
        for (size_t a = 0; a < c->m; a++) {
            long double o = 0.0L;
            for (size_t l = 0; l < D; l++)
                o += (long double)c->R[a * D + l] * x[l];
            o -= c->y[i * c->m + a];
            L += 0.5L * o * o;
        }
    }
    free(x), free(xn);
    return (double)(L / (long double)c->n);
}

static void rn_make(rn_case *c, nr_rng *r, size_t K, size_t D, size_t n, size_t m, double h, double eps)
{
    c->K = K, c->D = D, c->n = n, c->m = m, c->h = h, c->eps = eps;
    c->theta = dalloc(K * (D * D + D));
    c->R = dalloc(m * D);
    c->y = dalloc(n * m);
    c->x0 = dalloc(n * D);
    nr_fill_normal(r, c->theta, K * (D * D + D), 0.7);
    nr_fill_normal(r, c->R, m * D, 1.0);
    nr_fill_normal(r, c->y, n * m, 1.0);
    nr_fill_normal(r, c->x0, n * D, 1.0);
    c->start = 0;
    c->xstart = c->x0;
}

static void rn_free(rn_case *c)
{
    free(c->theta), free(c->R), free(c->y), free(c->x0);
}

static void resnet_costate_should_equal_backprop_and_finite_differences(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 11);
    const double eps_list[3] = {0.7, 0.05, 0.0};
    for (int trial = 0; trial < 3; trial++) {
        rn_case c;
        rn_make(&c, &r, 5, 4, 6, 2, 0.3, eps_list[trial]);
        hj_resnet net = {c.K, c.D, c.h, c.eps, c.theta};
        hj_pmp_target tg = {c.m, c.R, c.y};
        const size_t np = hj_resnet_num_params(c.K, c.D), nD = c.n * c.D;
        double *g1 = dalloc(np), *g2 = dalloc(np), *gfd = dalloc(np);
        double *X = dalloc((c.K + 1) * nD), *P = dalloc((c.K + 1) * nD);
        double L1 = NAN, L2 = NAN;
        hj_error err = {0};
        assert_int_equal(hj_resnet_pmp_gradient(&net, &tg, c.x0, c.n, &L1, g1, X, P, &err), HJ_OK);
        assert_int_equal(hj_resnet_backprop(&net, &tg, c.x0, c.n, &L2, g2, &err), HJ_OK);
        const double Lref = rn_naive_loss(&c);
        assert_true(fabs(L1 - Lref) <= 1e-13 * fmax(1.0, fabs(Lref)));
        assert_true(fabs(L2 - Lref) <= 1e-13 * fmax(1.0, fabs(Lref)));
        double d12 = rel_diff(g1, g2, np);
        if (d12 > 1e-12)
            fail_msg("eps = %g: co-state vs backprop %g", c.eps, d12);
        if (c.eps > 0.0) {
            /* parameters: central differences of the naive loss */
            for (size_t i = 0; i < np; i++)
                gfd[i] = central_diff(c.theta, i, 1e-5, rn_naive_loss, &c);
            double dfd = rel_diff(g1, gfd, np);
            if (dfd > 1e-6)
                fail_msg("eps = %g: co-state vs finite differences %g", c.eps, dfd);
            /* the co-state p_k is the gradient of the loss-to-go w.r.t. the state x_k */
            for (size_t k = 0; k <= c.K; k += 2) {
                rn_case ck = c;
                ck.start = k;
                ck.xstart = dalloc(nD);
                memcpy(ck.xstart, X + k * nD, nD * sizeof(double));
                double *pfd = dalloc(nD);
                for (size_t j = 0; j < nD; j++)
                    pfd[j] = central_diff(ck.xstart, j, 1e-5, rn_naive_loss, &ck);
                double dp = rel_diff(P + k * nD, pfd, nD);
                if (dp > 1e-6)
                    fail_msg("eps = %g: co-state p_%zu vs d(loss-to-go)/dx %g", c.eps, k, dp);
                free(ck.xstart), free(pfd);
            }
        }
        free(g1), free(g2), free(gfd), free(X), free(P);
        rn_free(&c);
    }
}

/* The Hamiltonian's derivatives against central differences of a naive H. */
typedef struct ham_case {
    size_t D, n;
    double eps;
    double *th, *x, *p;
} ham_case;

static double ham_naive(void *ctx)
{
    ham_case *c = ctx;
    long double H = 0.0L;
    for (size_t i = 0; i < c->n; i++)
        for (size_t a = 0; a < c->D; a++) {
            long double z = c->th[c->D * c->D + a];
            for (size_t l = 0; l < c->D; l++)
                z += (long double)c->th[a * c->D + l] * c->x[i * c->D + l];
            H += (long double)c->p[i * c->D + a] * ref_softplus(z, c->eps);
        }
    return (double)H;
}

static void resnet_hamiltonian_derivatives_should_match_finite_differences(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 12);
    ham_case c = {3, 4, 0.4, NULL, NULL, NULL};
    c.th = dalloc(12), c.x = dalloc(12), c.p = dalloc(12);
    nr_fill_normal(&r, c.th, 12, 1.0);
    nr_fill_normal(&r, c.x, 12, 1.0);
    nr_fill_normal(&r, c.p, 12, 1.0);
    hj_resnet net = {1, 3, 0.1, c.eps, c.th};
    double *gx = dalloc(12), *gt = dalloc(12), *fd = dalloc(12);
    const double H = hj_resnet_hamiltonian(&net, c.th, c.x, c.p, c.n);
    assert_true(fabs(H - ham_naive(&c)) <= 1e-14 * fmax(1.0, fabs(H)));
    hj_resnet_hamiltonian_grad(&net, c.th, c.x, c.p, c.n, gx, gt);
    for (size_t i = 0; i < 12; i++)
        fd[i] = central_diff(c.x, i, 1e-5, ham_naive, &c);
    assert_true(rel_diff(gx, fd, 12) <= 1e-8);
    for (size_t i = 0; i < 12; i++)
        fd[i] = central_diff(c.th, i, 1e-5, ham_naive, &c);
    assert_true(rel_diff(gt, fd, 12) <= 1e-8);
    free(gx), free(gt), free(fd), free(c.th), free(c.x), free(c.p);
}

/* ---- extended Hamiltonian and MSA ---------------------------------------------------- */

typedef struct ext_case {
    size_t D, n;
    double h, eps, rho;
    double *th, *xk, *xk1, *pk, *pk1;
} ext_case;

/* J written from its definition: q = n p, f = softplus(A x + c), g = grad_x (q'.f). */
static double ext_naive(void *ctx)
{
    ext_case *c = ctx;
    const size_t D = c->D;
    const double nn = (double)c->n;
    long double J = 0.0L;
    for (size_t i = 0; i < c->n; i++) {
        long double f[8], s1[8];
        for (size_t a = 0; a < D; a++) {
            long double z = c->th[D * D + a];
            for (size_t l = 0; l < D; l++)
                z += (long double)c->th[a * D + l] * c->xk[i * D + l];
            f[a] = ref_softplus(z, c->eps);
            s1[a] = 1.0L / (1.0L + expl(-z / c->eps));
        }
        long double ham = 0.0L, px = 0.0L, pp = 0.0L;
        for (size_t a = 0; a < D; a++) {
            ham += nn * c->pk1[i * D + a] * f[a];
            long double rr = c->xk1[i * D + a] - c->xk[i * D + a] - c->h * f[a];
            px += rr * rr;
        }
        for (size_t l = 0; l < D; l++) {
            long double g = 0.0L;
            for (size_t a = 0; a < D; a++)
                g += (long double)c->th[a * D + l] * nn * c->pk1[i * D + a] * s1[a];
            long double e = nn * c->pk[i * D + l] - nn * c->pk1[i * D + l] - c->h * g;
            pp += e * e;
        }
        J += c->h * ham + 0.5L * c->rho * (px + pp);
    }
    return (double)(J / nn);
}

static void extended_hamiltonian_should_match_definition_and_loss_gradient(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 13);
    rn_case c;
    rn_make(&c, &r, 3, 3, 5, 2, 0.4, 0.6);
    hj_resnet net = {c.K, c.D, c.h, c.eps, c.theta};
    hj_pmp_target tg = {c.m, c.R, c.y};
    const size_t np = hj_resnet_num_params(c.K, c.D), nD = c.n * c.D, lp = c.D * c.D + c.D;
    double *g = dalloc(np), *X = dalloc((c.K + 1) * nD), *P = dalloc((c.K + 1) * nD);
    double *gJ = dalloc(lp), *fd = dalloc(lp), *th = dalloc(lp);
    double L = NAN, J = NAN;
    assert_int_equal(hj_resnet_pmp_gradient(&net, &tg, c.x0, c.n, &L, g, X, P, NULL), HJ_OK);
    for (size_t k = 0; k < c.K; k++) {
        /* at the sweeping parameters the penalties vanish: grad J = loss gradient of layer k */
        memcpy(th, c.theta + k * lp, lp * sizeof *th);
        ext_case e = {c.D, c.n, c.h, c.eps, 2.5, th, X + k * nD, X + (k + 1) * nD, P + k * nD,
                      P + (k + 1) * nD};
        assert_int_equal(hj_resnet_extended_hamiltonian(&net, th, e.xk, e.xk1, e.pk, e.pk1, c.n,
                                                        e.rho, &J, gJ, NULL), HJ_OK);
        assert_true(rel_diff(gJ, g + k * lp, lp) <= 1e-12);
        assert_true(fabs(J - ext_naive(&e)) <= 1e-12 * fmax(1.0, fabs(J)));
        /* away from them: every term, against central differences of the definition */
        for (size_t j = 0; j < lp; j++)
            th[j] += 0.3 * nr_normal(&r);
        assert_int_equal(hj_resnet_extended_hamiltonian(&net, th, e.xk, e.xk1, e.pk, e.pk1, c.n,
                                                        e.rho, &J, gJ, NULL), HJ_OK);
        assert_true(fabs(J - ext_naive(&e)) <= 1e-12 * fmax(1.0, fabs(J)));
        for (size_t j = 0; j < lp; j++)
            fd[j] = central_diff(th, j, 1e-5, ext_naive, &e);
        double d = rel_diff(gJ, fd, lp);
        if (d > 1e-7)
            fail_msg("layer %zu: extended Hamiltonian gradient vs FD %g", k, d);
    }
    free(g), free(X), free(P), free(gJ), free(fd), free(th);
    rn_free(&c);
}

static void msa_should_reduce_to_gradient_descent_and_decrease_the_loss(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 14);
    rn_case c;
    rn_make(&c, &r, 4, 3, 8, 1, 0.25, 1.0);
    for (size_t i = 0; i < c.K * 12; i++)
        c.theta[i] *= 0.5;
    hj_resnet net = {c.K, c.D, c.h, c.eps, c.theta};
    hj_pmp_target tg = {c.m, c.R, c.y};
    const size_t np = hj_resnet_num_params(c.K, c.D);
    double *th = dalloc(np), *g = dalloc(np), trace[301];
    /* one sweep with one plain inner step is one gradient-descent step */
    hj_msa_options o;
    hj_msa_options_default(&o);
    o.iters = 1, o.inner_steps = 1, o.inner_adam = 0, o.lr = 0.05, o.rho = 3.0;
    memcpy(th, c.theta, np * sizeof *th);
    assert_int_equal(hj_resnet_msa(&net, th, &tg, c.x0, c.n, &o, trace, NULL), HJ_OK);
    double L0 = NAN;
    assert_int_equal(hj_resnet_backprop(&net, &tg, c.x0, c.n, &L0, g, NULL), HJ_OK);
    assert_true(fabs(trace[0] - L0) <= 1e-14 * L0);
    for (size_t i = 0; i < np; i++)
        assert_true(fabs(th[i] - (c.theta[i] - o.lr * g[i])) <= 1e-14 * fmax(1.0, fabs(th[i])));
    /* a few hundred sweeps with Adam inner steps: the loss falls well below its start */
    hj_msa_options_default(&o);
    o.iters = 300;
    memcpy(th, c.theta, np * sizeof *th);
    assert_int_equal(hj_resnet_msa(&net, th, &tg, c.x0, c.n, &o, trace, NULL), HJ_OK);
    assert_true(trace[300] < 0.5 * trace[0]);
    hj_resnet trained = net;
    trained.theta = th;
    double Lt = NAN;
    assert_int_equal(hj_resnet_backprop(&trained, &tg, c.x0, c.n, &Lt, g, NULL), HJ_OK);
    assert_true(fabs(Lt - trace[300]) <= 1e-13 * Lt);
    /* bad options */
    o.inner_steps = 0;
    hj_error err = {0};
    assert_int_equal(hj_resnet_msa(&net, th, &tg, c.x0, c.n, &o, trace, &err), HJ_EINVAL);
    assert_true(strlen(err.msg) > 0);
    free(th), free(g);
    rn_free(&c);
}

/* ---- recurrent models: naive forward passes, written from the cell equations ----------- */

typedef struct rec_case {
    hj_rnn_kind kind;
    size_t ni, H, no, K;
    double *theta, *u, *y, *x0;
    size_t start;      /* step at which the naive rollout starts */
    double *xstart;    /* (S) */
} rec_case;

static long double sigm(long double z) { return 1.0L / (1.0L + expl(-z)); }

/* sum_{k = start+1..K} |C h_k - y_{k-1}|^2 (+ the cost of x_start itself when start >= 1). */
static double rec_naive_loss(void *ctx)
{
    rec_case *c = ctx;
    const size_t H = c->H, ni = c->ni, no = c->no;
    const double *th = c->theta;
    long double h[16], cc[16], hn[16], cn[16], L = 0.0L;
    for (size_t a = 0; a < H; a++) {
        h[a] = c->xstart[a];
        cc[a] = c->kind == HJ_RNN_LSTM ? c->xstart[H + a] : 0.0L;
    }
    size_t offC = 0;
    for (size_t k = c->start; k <= c->K; k++) {
        if (k > c->start) {
            const double *u = c->u + (k - 1) * ni;
            if (c->kind == HJ_RNN_ELMAN) {
                const double *W = th, *U = th + H * H, *b = U + H * ni;
                offC = H * H + H * ni + H;
                for (size_t a = 0; a < H; a++) {
                    long double z = b[a];
                    for (size_t l = 0; l < H; l++)
                        z += (long double)W[a * H + l] * h[l];
                    for (size_t j = 0; j < ni; j++)
                        z += (long double)U[a * ni + j] * u[j];
                    hn[a] = tanhl(z);
                }
            } else if (c->kind == HJ_RNN_LSTM) {
                const size_t cols = H + ni;
                const double *Wg = th, *bg = th + 4 * H * cols;
                offC = 4 * H * cols + 4 * H;
                for (size_t j = 0; j < H; j++) {
                    long double z[4];
                    for (int q = 0; q < 4; q++) {
                        const double *w = Wg + (q * H + j) * cols;
                        z[q] = bg[q * H + j];
                        for (size_t l = 0; l < H; l++)
                            z[q] += (long double)w[l] * h[l];
                        for (size_t l = 0; l < ni; l++)
                            z[q] += (long double)w[H + l] * u[l];
                    }
                    cn[j] = sigm(z[1]) * cc[j] + sigm(z[0]) * tanhl(z[2]);
                    hn[j] = sigm(z[3]) * tanhl(cn[j]);
                }
                memcpy(cc, cn, sizeof cc);
            } else {
                const double *a = th, *B = th + H;
                offC = H + H * ni;
                const long double dt = expl(th[H + H * ni + no * H]);
                for (size_t n = 0; n < H; n++) {
                    const long double A = -expl(a[n]), Ab = expl(dt * A), beta = (Ab - 1.0L) / A;
                    long double v = Ab * h[n];
                    for (size_t j = 0; j < ni; j++)
                        v += beta * B[n * ni + j] * u[j];
                    hn[n] = v;
                }
            }
            memcpy(h, hn, sizeof h);
        } else {
            offC = c->kind == HJ_RNN_ELMAN ? H * H + H * ni + H
                 : c->kind == HJ_RNN_LSTM ? 4 * H * (H + ni) + 4 * H : H + H * ni;
        }
        if (k >= 1) {
            const double *C = th + offC, *y = c->y + (k - 1) * no;
            for (size_t q = 0; q < no; q++) {
                long double o = -(long double)y[q];
                for (size_t l = 0; l < H; l++)
                    o += (long double)C[q * H + l] * h[l];
                L += o * o;
            }
        }
    }
    return (double)L;
}

static void rec_make(rec_case *c, nr_rng *r, hj_rnn_kind kind, size_t ni, size_t H, size_t no, size_t K)
{
    c->kind = kind, c->ni = ni, c->H = H, c->no = no, c->K = K;
    const size_t np = hj_recurrent_num_params(kind, ni, H, no), S = kind == HJ_RNN_LSTM ? 2 * H : H;
    c->theta = dalloc(np);
    c->u = dalloc(K * ni);
    c->y = dalloc(K * no);
    c->x0 = dalloc(S);
    nr_fill_normal(r, c->theta, np, 0.6);
    nr_fill_normal(r, c->u, K * ni, 1.0);
    nr_fill_normal(r, c->y, K * no, 0.5);
    nr_fill_normal(r, c->x0, S, 0.5);
    if (kind == HJ_RNN_SSM) {   /* decay rates |A| in about [0.2, 3], dt about 0.3 */
        for (size_t n = 0; n < H; n++)
            c->theta[n] = nr_unif(r, -1.6, 1.1);
        c->theta[np - 1] = log(0.3);
    }
    c->start = 0;
    c->xstart = c->x0;
}

static void rec_free(rec_case *c)
{
    free(c->theta), free(c->u), free(c->y), free(c->x0);
}

static void recurrent_costate_should_equal_bptt_and_finite_differences(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 21);
    const hj_rnn_kind kinds[3] = {HJ_RNN_ELMAN, HJ_RNN_LSTM, HJ_RNN_SSM};
    for (int t = 0; t < 3; t++) {
        rec_case c;
        rec_make(&c, &r, kinds[t], 2, 4, 2, 7);
        hj_recurrent m = {c.kind, c.ni, c.H, c.no, c.theta, 0, 0.0};
        const size_t np = hj_recurrent_num_params(c.kind, c.ni, c.H, c.no), S = hj_recurrent_state_dim(&m);
        double *g1 = dalloc(np), *g2 = dalloc(np), *gfd = dalloc(np), *P = dalloc((c.K + 1) * S);
        double *X = dalloc((c.K + 1) * S);
        double L1 = NAN, L2 = NAN;
        hj_error err = {0};
        assert_int_equal(hj_recurrent_costate_grad(&m, c.u, c.y, c.K, c.x0, &L1, g1, P, &err), HJ_OK);
        assert_int_equal(hj_recurrent_bptt_grad(&m, c.u, c.y, c.K, c.x0, &L2, g2, &err), HJ_OK);
        const double Lref = rec_naive_loss(&c);
        assert_true(fabs(L1 - Lref) <= 1e-13 * fmax(1.0, Lref));
        assert_true(fabs(L2 - Lref) <= 1e-13 * fmax(1.0, Lref));
        double d12 = rel_diff(g1, g2, np);
        if (d12 > 1e-12)
            fail_msg("%s: co-state vs BPTT %g", hj_rnn_kind_name(c.kind), d12);
        for (size_t i = 0; i < np; i++)
            gfd[i] = central_diff(c.theta, i, 1e-5, rec_naive_loss, &c);
        double dfd = rel_diff(g1, gfd, np);
        if (dfd > 1e-6)
            fail_msg("%s: co-state vs finite differences %g", hj_rnn_kind_name(c.kind), dfd);
        /* co-states are the gradients of the loss-to-go w.r.t. the state */
        assert_int_equal(hj_recurrent_forward(&m, c.u, c.K, c.x0, X, NULL), HJ_OK);
        for (size_t k = 0; k <= c.K; k += 3) {
            rec_case ck = c;
            ck.start = k;
            ck.xstart = dalloc(S);
            memcpy(ck.xstart, X + k * S, S * sizeof(double));
            double *pfd = dalloc(S);
            for (size_t j = 0; j < S; j++)
                pfd[j] = central_diff(ck.xstart, j, 1e-5, rec_naive_loss, &ck);
            double dp = rel_diff(P + k * S, pfd, S);
            if (dp > 1e-6)
                fail_msg("%s: p_%zu vs d(loss-to-go)/dx %g", hj_rnn_kind_name(c.kind), k, dp);
            free(ck.xstart), free(pfd);
        }
        free(g1), free(g2), free(gfd), free(P), free(X);
        rec_free(&c);
    }
}

static void ssm_riccati_value_should_equal_bruteforce_loss_to_go(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 22);
    rec_case c;
    rec_make(&c, &r, HJ_RNN_SSM, 2, 5, 3, 9);
    hj_recurrent m = {c.kind, c.ni, c.H, c.no, c.theta, 0, 0.0};
    const size_t H = c.H, K = c.K;
    double *P = dalloc((K + 1) * H * H), *q = dalloc((K + 1) * H), *rr = dalloc(K + 1);
    double *Pc = dalloc((K + 1) * H), *X = dalloc((K + 1) * H), *gv = dalloc(H);
    assert_int_equal(hj_ssm_value_recursion(&m, c.u, c.y, K, P, q, rr, NULL), HJ_OK);
    double L = NAN, *g = dalloc(hj_recurrent_num_params(c.kind, c.ni, H, c.no));
    assert_int_equal(hj_recurrent_costate_grad(&m, c.u, c.y, K, c.x0, &L, g, Pc, NULL), HJ_OK);
    assert_int_equal(hj_recurrent_forward(&m, c.u, K, c.x0, X, NULL), HJ_OK);
    for (size_t k = 0; k <= K; k++) {
        /* from random states: V_k(h) = the naive rollout's loss-to-go */
        for (int trial = 0; trial < 4; trial++) {
            rec_case ck = c;
            ck.start = k;
            ck.xstart = dalloc(H);
            nr_fill_normal(&r, ck.xstart, H, 2.0);
            const double v = hj_ssm_value(P + k * H * H, q + k * H, rr[k], H, ck.xstart, NULL);
            const double brute = rec_naive_loss(&ck);
            if (fabs(v - brute) > 1e-10 * fmax(1.0, fabs(brute)))
                fail_msg("k = %zu: Riccati %.17g vs rollout %.17g", k, v, brute);
            free(ck.xstart);
        }
        /* along the trajectory: grad V_k(h_k) = co-state p_k */
        hj_ssm_value(P + k * H * H, q + k * H, rr[k], H, X + k * H, gv);
        assert_true(rel_diff(gv, Pc + k * H, H) <= 1e-11);
    }
    /* V_0(h_0) is the whole loss */
    assert_true(fabs(hj_ssm_value(P, q, rr[0], H, c.x0, NULL) - L) <= 1e-12 * fmax(1.0, L));
    /* the discretisation against its definition */
    double Ab[5], Bb[10];
    assert_int_equal(hj_ssm_discretize(&m, Ab, Bb, NULL), HJ_OK);
    for (size_t n = 0; n < H; n++) {
        const double A = -exp(c.theta[n]), dt = exp(c.theta[hj_recurrent_num_params(c.kind, c.ni, H, c.no) - 1]);
        assert_true(fabs(Ab[n] - exp(dt * A)) <= 1e-15);
        for (size_t j = 0; j < c.ni; j++)
            assert_true(fabs(Bb[n * c.ni + j] - (exp(dt * A) - 1.0) / A * c.theta[H + n * c.ni + j]) <= 1e-14);
    }
    hj_recurrent lstm = {HJ_RNN_LSTM, 1, 1, 1, c.theta, 0, 0.0};
    hj_error err = {0};
    assert_int_equal(hj_ssm_value_recursion(&lstm, c.u, c.y, K, P, q, rr, &err), HJ_EINVAL);
    free(P), free(q), free(rr), free(Pc), free(X), free(gv), free(g);
    rec_free(&c);
}

/* ---- noisy control ------------------------------------------------------------------------ */

/* Normalised Hopf–Cole u~(x, t) (Hopf–Lax at eps = 0) from the formula, in long double. */
static double ref_u(const double *y, const double *g, size_t N, size_t d, const double *x, double t,
                    double eps)
{
    long double best = INFINITY, c[16];
    for (size_t j = 0; j < N; j++) {
        long double s = 0.0L;
        for (size_t k = 0; k < d; k++)
            s += ((long double)x[k] - y[j * d + k]) * ((long double)x[k] - y[j * d + k]);
        c[j] = g[j] + s / (4.0L * t);
        if (c[j] < best)
            best = c[j];
    }
    if (eps == 0.0)
        return (double)best;
    long double S = 0.0L;
    for (size_t j = 0; j < N; j++)
        S += expl(-(c[j] - best) / eps);
    return (double)(best - eps * logl(S) + 0.5L * eps * (long double)d * logl(4.0L * 3.14159265358979323846L * eps * t));
}

static void noisy_control_at_eps0_should_follow_the_characteristic(void **state)
{
    (void)state;
    double y[8] = {-1.0, 0.5, 1.2, 0.8, 0.3, -1.1, 1.5, -0.4}, g[4] = {0.2, 0.0, 0.35, 0.1};
    hj_noisy_control nc = {{4, 2, y, g}, 0.2, 1.0, 0.0};
    const double x0[2] = {0.1, -0.2};
    double X[2 * 65], cost = NAN, v = NAN;
    const double exact = ref_u(y, g, 4, 2, x0, nc.T + nc.tau, 0.0);
    assert_int_equal(hj_noisy_control_value(&nc, x0, &v, NULL), HJ_OK);
    assert_true(fabs(v - exact) <= 1e-14);
    /* the minimising atom */
    size_t jstar = 0;
    double best = INFINITY;
    for (size_t j = 0; j < 4; j++) {
        double c = g[j] + ((x0[0] - y[2 * j]) * (x0[0] - y[2 * j]) + (x0[1] - y[2 * j + 1]) * (x0[1] - y[2 * j + 1])) / (4.0 * (nc.T + nc.tau));
        if (c < best)
            best = c, jstar = j;
    }
    const size_t Ks[3] = {1, 7, 64};
    for (int i = 0; i < 3; i++) {
        const size_t K = Ks[i];
        assert_int_equal(hj_noisy_control_path(&nc, x0, K, NULL, X, &cost, NULL), HJ_OK);
        assert_true(fabs(cost - exact) <= 1e-13);
        /* on the straight line from x0 towards y_j*, at the fraction t/(T + tau) */
        for (size_t k = 0; k <= K; k++) {
            const double frac = (double)k / (double)K * nc.T / (nc.T + nc.tau);
            for (size_t a = 0; a < 2; a++)
                assert_true(fabs(X[k * 2 + a] - (x0[a] + frac * (y[2 * jstar + a] - x0[a]))) <= 1e-13);
        }
    }
    /* Monte Carlo at eps = 0 is deterministic: zero standard error, the Hopf–Lax value */
    hj_mc_level lv[2];
    const size_t KL[2] = {4, 16};
    assert_int_equal(hj_noisy_control_mc(&nc, x0, 10, KL, 2, 5, lv, NULL), HJ_OK);
    for (int l = 0; l < 2; l++) {
        assert_true(fabs(lv[l].mean - exact) <= 1e-13);
        assert_true(lv[l].se <= 1e-13);
    }
}

static void noisy_control_monte_carlo_should_match_the_hopf_cole_value(void **state)
{
    (void)state;
    double y[6] = {-0.8, 0.4, 0.9, 0.6, 0.2, -0.9}, g[3] = {0.1, 0.0, 0.3};
    hj_noisy_control nc = {{3, 2, y, g}, 0.5, 1.0, 0.2};
    const double x0[2] = {0.3, -0.1};
    const double exact = ref_u(y, g, 3, 2, x0, nc.T + nc.tau, nc.eps);
    double v = NAN;
    assert_int_equal(hj_noisy_control_value(&nc, x0, &v, NULL), HJ_OK);
    assert_true(fabs(v - exact) <= 1e-13 * fmax(1.0, fabs(exact)));
    const size_t KL[3] = {8, 16, 32};
    hj_mc_level lv[3];
    assert_int_equal(hj_noisy_control_mc(&nc, x0, 6000, KL, 3, 77, lv, NULL), HJ_OK);
    /* bias at the finest K estimated by the difference to the next coarser level (order 1) */
    const double bias = fabs(lv[1].mean_cv - lv[2].mean_cv);
    for (int l = 0; l < 3; l++)
        assert_true(lv[l].se > 0.0 && lv[l].se_cv > 0.0 && lv[l].se_cv < lv[l].se);
    if (fabs(lv[2].mean - exact) > 4.0 * lv[2].se + 2.0 * bias)
        fail_msg("plain MC %g +- %g vs exact %g", lv[2].mean, lv[2].se, exact);
    if (fabs(lv[2].mean_cv - exact) > 4.0 * lv[2].se_cv + 2.0 * bias)
        fail_msg("control-variate MC %g +- %g vs exact %g (bias est %g)", lv[2].mean_cv, lv[2].se_cv, exact, bias);
    /* the coarsest level is further off than the finest (convergence in h) */
    assert_true(fabs(lv[0].mean_cv - exact) > fabs(lv[2].mean_cv - exact));
    /* K values that do not divide the finest are refused */
    const size_t bad[2] = {3, 8};
    hj_error err = {0};
    assert_int_equal(hj_noisy_control_mc(&nc, x0, 100, bad, 2, 1, lv, &err), HJ_EINVAL);
    nc.tau = 0.0;
    assert_int_equal(hj_noisy_control_value(&nc, x0, &v, &err), HJ_EINVAL);
}

/* ---- transformer ----------------------------------------------------------------------------- */

typedef struct tf_case {
    hj_transformer tf;
    double *theta, *s, *y;
    size_t n;
} tf_case;

static double tf_loss(void *ctx)
{
    tf_case *c = ctx;
    double L = NAN;
    assert_int_equal(hj_transformer_loss_grad(&c->tf, c->s, c->y, c->n, &L, NULL, NULL, NULL), HJ_OK);
    return L;
}

static void transformer_gradient_should_match_finite_differences(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 31);
    tf_case c;
    const size_t T = 4, D = 3, M = 5, L = 2;
    const size_t np = hj_transformer_num_params(T, D, M, L);
    c.n = 3;
    c.theta = dalloc(np), c.s = dalloc(c.n * T), c.y = dalloc(c.n * T);
    nr_fill_normal(&r, c.theta, np, 0.8);
    nr_fill_unif(&r, c.s, c.n * T, -1.0, 1.0);
    nr_fill_normal(&r, c.y, c.n * T, 1.0);
    c.tf = (hj_transformer){T, D, M, L, 0.7, c.theta};
    double *g = dalloc(np), *fd = dalloc(np), Lv = NAN;
    assert_int_equal(hj_transformer_loss_grad(&c.tf, c.s, c.y, c.n, &Lv, g, NULL, NULL), HJ_OK);
    for (size_t i = 0; i < np; i++)
        fd[i] = central_diff(c.theta, i, 1e-5, tf_loss, &c);
    double d = rel_diff(g, fd, np);
    if (d > 1e-6)
        fail_msg("transformer gradient vs FD %g", d);
    double Hs[2];
    assert_int_equal(hj_transformer_entropy(&c.tf, c.s, c.n, Hs, NULL), HJ_OK);
    for (size_t l = 0; l < L; l++)
        assert_true(Hs[l] >= 0.0 && Hs[l] <= 1.0 + 1e-15);
    free(g), free(fd), free(c.theta), free(c.s), free(c.y);
}

/* One layer, Wq = Wk = 0 (uniform attention, entropy exactly 1) and one FFN slot
 * (pi = 1, the FFN adds v_1): the prediction has a closed form computed here. */
static void transformer_forward_should_match_a_closed_form_case(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 32);
    const size_t T = 5, D = 3, M = 1, L = 1;
    const size_t np = hj_transformer_num_params(T, D, M, L);
    double *th = dalloc(np), s[5], y[5] = {0}, pred[5];
    nr_fill_normal(&r, th, np, 1.0);
    nr_fill_unif(&r, s, T, -1.0, 1.0);
    const double *e = th, *pos = th + D, *lp = th + D + T * D;
    double *Wqk = (double *)lp;
    memset(Wqk, 0, 2 * D * D * sizeof *Wqk);
    const double *Wv = lp + 2 * D * D, *v1 = lp + 3 * D * D + D + 1, *rr = th + np - 1 - D;
    const double r0 = th[np - 1];
    hj_transformer tf = {T, D, M, L, 0.5, th};
    double Lv = NAN, Hs = NAN;
    assert_int_equal(hj_transformer_loss_grad(&tf, s, y, 1, &Lv, NULL, pred, NULL), HJ_OK);
    assert_int_equal(hj_transformer_entropy(&tf, s, 1, &Hs, NULL), HJ_OK);
    assert_true(fabs(Hs - 1.0) <= 1e-14);
    /* mean over tokens of LN(x_t) Wv */
    double x[5][3], ln[5][3], mv[3] = {0};
    for (size_t t = 0; t < T; t++) {
        double mu = 0.0, var = 0.0;
        for (size_t k = 0; k < D; k++)
            mu += (x[t][k] = s[t] * e[k] + pos[t * D + k]) / (double)D;
        for (size_t k = 0; k < D; k++)
            var += (x[t][k] - mu) * (x[t][k] - mu) / (double)D;
        for (size_t k = 0; k < D; k++)
            ln[t][k] = (x[t][k] - mu) / sqrt(var + 1e-5);
    }
    for (size_t k = 0; k < D; k++)
        for (size_t t = 0; t < T; t++)
            for (size_t j = 0; j < D; j++)
                mv[k] += ln[t][j] * Wv[j * D + k] / (double)T;
    double sq = 0.0;
    for (size_t t = 0; t < T; t++) {
        double yh = r0;
        for (size_t k = 0; k < D; k++)
            yh += rr[k] * (x[t][k] + mv[k] + v1[k]);
        assert_true(fabs(pred[t] - yh) <= 1e-13 * fmax(1.0, fabs(yh)));
        sq += yh * yh;
    }
    assert_true(fabs(Lv - sq / (double)T) <= 1e-13 * fmax(1.0, Lv));
    hj_error err = {0};
    tf.eps_ffn = 0.0;
    assert_int_equal(hj_transformer_loss_grad(&tf, s, y, 1, &Lv, NULL, NULL, &err), HJ_EINVAL);
    free(th);
}

/* One layer with random Wq, Wk on two sequences: the attention entropy against a naive
 * long-double softmax of LN(x) Wq . LN(x) Wk / sqrt(D), averaged over tokens and sequences. */
static void transformer_entropy_should_match_a_naive_softmax(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 33);
    enum { T = 6, D = 4, n = 2 };
    const size_t M = 3, L = 1, np = hj_transformer_num_params(T, D, M, L);
    double *th = dalloc(np), s[n * T], Hs = NAN;
    nr_fill_normal(&r, th, np, 1.0);
    nr_fill_unif(&r, s, n * T, -1.0, 1.0);
    const double *e = th, *pos = th + D, *Wq = th + D + T * D, *Wk = Wq + D * D;
    hj_transformer tf = {T, D, M, L, 0.5, th};
    assert_int_equal(hj_transformer_entropy(&tf, s, n, &Hs, NULL), HJ_OK);
    long double ref = 0.0L;
    for (size_t i = 0; i < n; i++) {
        long double ln[T][D], q[T][D] = {{0}}, k[T][D] = {{0}};
        for (size_t t = 0; t < T; t++) {
            long double x[D], mu = 0.0L, var = 0.0L;
            for (size_t a = 0; a < D; a++)
                mu += (x[a] = (long double)s[i * T + t] * e[a] + pos[t * D + a]) / D;
            for (size_t a = 0; a < D; a++)
                var += (x[a] - mu) * (x[a] - mu) / D;
            for (size_t a = 0; a < D; a++)
                ln[t][a] = (x[a] - mu) / sqrtl(var + 1e-5L);
            for (size_t a = 0; a < D; a++)
                for (size_t b = 0; b < D; b++) {
                    q[t][b] += ln[t][a] * Wq[a * D + b];
                    k[t][b] += ln[t][a] * Wk[a * D + b];
                }
        }
        for (size_t t = 0; t < T; t++) {
            long double w[T], Z = 0.0L, H = 0.0L;
            for (size_t j = 0; j < T; j++) {
                long double sc = 0.0L;
                for (size_t b = 0; b < D; b++)
                    sc += q[t][b] * k[j][b];
                Z += (w[j] = expl(sc / sqrtl((long double)D)));
            }
            for (size_t j = 0; j < T; j++)
                H -= w[j] / Z * logl(w[j] / Z);
            ref += H / logl((long double)T) / (n * T);
        }
    }
    assert_true(ref > 0.05L && ref < 0.95L);   /* neither uniform nor one-hot: a real check */
    assert_true(fabsl((long double)Hs - ref) <= 1e-13L);
    free(th);
}

static void invalid_arguments_should_be_refused(void **state)
{
    (void)state;
    double th[12] = {0}, x[3] = {0}, X[6];
    hj_error err = {0};
    hj_resnet net = {1, 3, 0.0, 1.0, th};
    assert_int_equal(hj_resnet_forward(&net, x, 1, X, &err), HJ_EINVAL);
    assert_true(strstr(err.msg, "step") != NULL);
    net.h = 0.1;
    net.eps = -1.0;
    assert_int_equal(hj_resnet_forward(&net, x, 1, X, &err), HJ_EINVAL);
    net.eps = 1.0;
    th[3] = NAN;
    assert_int_equal(hj_resnet_forward(&net, x, 1, X, &err), HJ_ENAN);
    th[3] = 0.0;
    hj_pmp_target tg = {2, NULL, x};
    double g[12], L;
    assert_int_equal(hj_resnet_pmp_gradient(&net, &tg, x, 1, &L, g, NULL, NULL, &err), HJ_ESHAPE);
    hj_recurrent m = {(hj_rnn_kind)7, 1, 1, 1, th, 0, 0.0};
    assert_int_equal(hj_recurrent_check(&m, &err), HJ_EINVAL);
    assert_int_equal(hj_recurrent_num_params((hj_rnn_kind)7, 1, 1, 1), 0);
    m.kind = HJ_RNN_ELMAN;
    m.n_hid = 0;
    assert_int_equal(hj_recurrent_check(&m, &err), HJ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resnet_costate_should_equal_backprop_and_finite_differences),
        cmocka_unit_test(resnet_hamiltonian_derivatives_should_match_finite_differences),
        cmocka_unit_test(extended_hamiltonian_should_match_definition_and_loss_gradient),
        cmocka_unit_test(msa_should_reduce_to_gradient_descent_and_decrease_the_loss),
        cmocka_unit_test(recurrent_costate_should_equal_bptt_and_finite_differences),
        cmocka_unit_test(ssm_riccati_value_should_equal_bruteforce_loss_to_go),
        cmocka_unit_test(noisy_control_at_eps0_should_follow_the_characteristic),
        cmocka_unit_test(noisy_control_monte_carlo_should_match_the_hopf_cole_value),
        cmocka_unit_test(transformer_gradient_should_match_finite_differences),
        cmocka_unit_test(transformer_forward_should_match_a_closed_form_case),
        cmocka_unit_test(transformer_entropy_should_match_a_naive_softmax),
        cmocka_unit_test(invalid_arguments_should_be_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
