/* exp_architectures.c — experiment "architectures" (C11): ResNet, Elman RNN, LSTM, diagonal SSM and a transformer as discretised HJ / Hamiltonian systems; co-state = reverse mode = finite differences, the SSM's Riccati value function, and the trained transformer's per-layer attention entropy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/exp-common.h"
#include "experiments/experiments-impl.h"
#include "hjdl/optim.h"
#include "hjdl/plot.h"
#include "hjdl/pmp.h"
#include "hjdl/rng.h"

/*
 * Per architecture (random parameters, fixed seed):
 *   ResNet       x_{k+1} = x_k + h softplus_eps(A_k x_k + c_k)
 *   Elman RNN    h_{k+1} = tanh(W h_k + U u_k + b)
 *   LSTM         (h, c) -> (o tanh(f c + i g), f c + i g)
 *   SSM          h_{k+1} = Abar h_k + Bbar u_k (zero-order hold of diagonal A, B, step Delta)
 * the co-state gradient (written from the Hamiltonian) against reverse mode (written
 * from the cached activations) and against central differences of the forward loss;
 * the co-states p_k against central differences of the loss-to-go in x_k. For the SSM
 * the Riccati (Lyapunov) value function V_k(h) = h^T P_k h + q_k.h + r_k against the
 * loss-to-go of a rollout from random states, and grad V_k(h_k) against p_k.
 * Transformer (pre-LN attention + Gibbs feed-forward, residual updates = HJ steps):
 * reverse-mode gradient against central differences, then training with Adam on two
 * synthetic sequence tasks ("mean": every token predicts the sequence mean; "first":
 * every token predicts the first value) and the per-layer attention entropy H/log n
 * before and after training.
 */

#define AR_NAME "architectures"
#define FD_STEP 1e-5

typedef struct actx {
    const hj_experiment_options *opt;
    hj_result *res;
    hj_error *err;
    int quick;
    uint64_t seed;
    hj_rng rng;
    double tab[5][6];   /* per architecture: id, n_params, co-state vs reverse, vs FD, p_k vs FD, extra */
} actx;

enum { AR_RESNET, AR_ELMAN, AR_LSTM, AR_SSM, AR_TRANSFORMER, AR_N };

static double *dnew(actx *c, size_t n)
{
    return hj__exp_dnew(AR_NAME, n, c->err);
}

/* ---- ResNet ----------------------------------------------------------------------------- */

/* Fill the table row `id` (n_params np): co-state gradient g1 against reverse
 * mode g2 and finite differences gfd (np each), co-states against finite
 * differences dp; the extra column is NaN. Returns the row. */
static double *set_row(actx *c, int id, size_t np, const double *g1, const double *g2, const double *gfd,
                       double dp)
{
    double *row = c->tab[id];
    row[0] = id, row[1] = (double)np, row[2] = hj__exp_rel_diff(g1, g2, np);
    row[3] = hj__exp_rel_diff(g1, gfd, np), row[4] = dp, row[5] = NAN;
    return row;
}

static hj_status arch_resnet(actx *c)
{
    const size_t K = 6, D = 4, n = 8, m = 3, nD = n * D;
    const size_t np = hj_resnet_num_params(K, D);
    hj_status st = HJ_ENOMEM;
    double *th = dnew(c, np), *R = dnew(c, m * D), *y = dnew(c, n * m), *x0 = dnew(c, nD);
    double *g1 = dnew(c, np), *g2 = dnew(c, np), *gfd = dnew(c, np), *X = dnew(c, (K + 1) * nD);
    double *P = dnew(c, (K + 1) * nD), *work = dnew(c, (K + 1) * nD), *xs = dnew(c, nD), *pfd = dnew(c, nD);
    if (!th || !R || !y || !x0 || !g1 || !g2 || !gfd || !X || !P || !work || !xs || !pfd)
        goto done;
    hj__exp_fill_normal(&c->rng, th, np, 0.6);
    hj__exp_fill_normal(&c->rng, R, m * D, 1.0);
    hj__exp_fill_normal(&c->rng, y, n * m, 1.0);
    hj__exp_fill_normal(&c->rng, x0, nD, 1.0);
    hj_resnet net = {K, D, 0.3, 1.0, th};
    hj_pmp_target tg = {m, R, y};
    double L = NAN;
    TRY(hj_resnet_pmp_gradient(&net, &tg, x0, n, &L, g1, X, P, c->err));
    TRY(hj_resnet_backprop(&net, &tg, x0, n, &L, g2, c->err));
    hj__exp_resnet_eval ev = {&net, &tg, 0, n, x0, work};
    TRY(hj__exp_fd_gradient(hj__exp_resnet_loss, &ev, th, np, FD_STEP, gfd, c->err));
    double dp = 0.0;
    for (size_t k = 0; k <= K; k += K / 2) {
        memcpy(xs, X + k * nD, nD * sizeof *xs);
        ev.from = k, ev.x = xs;
        TRY(hj__exp_fd_gradient(hj__exp_resnet_loss, &ev, xs, nD, FD_STEP, pfd, c->err));
        dp = fmax(dp, hj__exp_rel_diff(P + k * nD, pfd, nD));
    }
    set_row(c, AR_RESNET, np, g1, g2, gfd, dp);
    st = HJ_OK;
done:
    free(th), free(R), free(y), free(x0), free(g1), free(g2), free(gfd), free(X), free(P), free(work);
    free(xs), free(pfd);
    return st;
}

/* ---- recurrent models ------------------------------------------------------------------ */

/* Loss-to-go from state x at step k: l_k(x) [k >= 1] + the rollout's later costs;
 * work holds (K - k + 1) S. */
typedef struct rnn_eval {
    const hj_recurrent *m;
    const double *u, *y;   /* (K, n_in), (K, n_out) */
    size_t K, k;
    const double *x;
    double *work;
} rnn_eval;

static hj_status rnn_loss_to_go(const void *ctx, double *out, hj_error *err)
{
    const rnn_eval *e = ctx;
    const hj_recurrent *m = e->m;
    const size_t k = e->k;
    double L = 0.0;
    hj_status st = hj_recurrent_forward(m, e->u + k * m->n_in, e->K - k, e->x, e->work, err);
    if (st == HJ_OK)
        st = hj_recurrent_loss(m, e->work, e->y + k * m->n_out, e->K - k, &L, err);
    if (st == HJ_OK && k >= 1)
        L += hj_recurrent_hamiltonian(m, e->x, NULL, NULL, e->y + (k - 1) * m->n_out, NULL, NULL);
    *out = L;
    return st;
}

static hj_status arch_recurrent(actx *c, hj_rnn_kind kind, int row_id)
{
    const size_t ni = 3, H = 6, no = 2, K = 16;
    const size_t np = hj_recurrent_num_params(kind, ni, H, no);
    const size_t S = kind == HJ_RNN_LSTM ? 2 * H : H;
    hj_status st = HJ_ENOMEM;
    double *th = dnew(c, np), *u = dnew(c, K * ni), *y = dnew(c, K * no), *x0 = dnew(c, S);
    double *g1 = dnew(c, np), *g2 = dnew(c, np), *gfd = dnew(c, np), *P = dnew(c, (K + 1) * S);
    double *X = dnew(c, (K + 1) * S), *work = dnew(c, (K + 1) * S), *xs = dnew(c, S), *pfd = dnew(c, S);
    double *Pr = dnew(c, (K + 1) * H * H), *qr = dnew(c, (K + 1) * H), *rr = dnew(c, K + 1), *gv = dnew(c, H);
    if (!th || !u || !y || !x0 || !g1 || !g2 || !gfd || !P || !X || !work || !xs || !pfd || !Pr || !qr ||
        !rr || !gv)
        goto done;
    hj__exp_fill_normal(&c->rng, th, np, kind == HJ_RNN_SSM ? 1.0 : 0.5);
    hj__exp_fill_normal(&c->rng, u, K * ni, 1.0);
    hj__exp_fill_normal(&c->rng, y, K * no, 0.5);
    hj__exp_fill_normal(&c->rng, x0, S, 0.5);
    if (kind == HJ_RNN_SSM) {   /* decay rates |A| = e^a in [0.2, 3], Delta = 0.3 */
        for (size_t a = 0; a < H; a++)
            th[a] = hj_rng_range(&c->rng, log(0.2), log(3.0));
        th[np - 1] = log(0.3);
    }
    hj_recurrent m = {kind, ni, H, no, th, 0, 0.0};
    double L1 = NAN, L2 = NAN;
    TRY(hj_recurrent_costate_grad(&m, u, y, K, x0, &L1, g1, P, c->err));
    TRY(hj_recurrent_bptt_grad(&m, u, y, K, x0, &L2, g2, c->err));
    rnn_eval ev = {&m, u, y, K, 0, x0, work};
    TRY(hj__exp_fd_gradient(rnn_loss_to_go, &ev, th, np, FD_STEP, gfd, c->err));
    TRY(hj_recurrent_forward(&m, u, K, x0, X, c->err));
    double dp = 0.0;
    for (size_t k = 0; k <= K; k += K / 4) {
        memcpy(xs, X + k * S, S * sizeof *xs);
        ev.k = k, ev.x = xs;
        TRY(hj__exp_fd_gradient(rnn_loss_to_go, &ev, xs, S, FD_STEP, pfd, c->err));
        dp = fmax(dp, hj__exp_rel_diff(P + k * S, pfd, S));
    }
    double *row = set_row(c, row_id, np, g1, g2, gfd, dp);
    if (kind == HJ_RNN_SSM) {
        TRY(hj_ssm_value_recursion(&m, u, y, K, Pr, qr, rr, c->err));
        double worst_v = 0.0, worst_g = 0.0;
        for (size_t k = 0; k <= K; k++) {
            for (int trial = 0; trial < 3; trial++) {
                hj__exp_fill_normal(&c->rng, xs, H, 2.0);
                double brute = NAN;
                ev.k = k, ev.x = xs;
                TRY(rnn_loss_to_go(&ev, &brute, c->err));
                const double v = hj_ssm_value(Pr + k * H * H, qr + k * H, rr[k], H, xs, NULL);
                worst_v = fmax(worst_v, fabs(v - brute) / fmax(1.0, fabs(brute)));
            }
            hj_ssm_value(Pr + k * H * H, qr + k * H, rr[k], H, X + k * H, gv);
            worst_g = fmax(worst_g, hj__exp_rel_diff(gv, P + k * H, H));
        }
        row[5] = worst_v;
        TRY(hj_result_check(c->res, "C11",
                            "SSM: Riccati value h^T P_k h + q_k.h + r_k = loss-to-go of a rollout from random h, all k (rel)",
                            worst_v, 1e-10, c->err));
        TRY(hj_result_check(c->res, "C11",
                            "SSM: grad V_k(h_k) = 2 P_k h_k + q_k = co-state p_k along the trajectory, all k (rel)",
                            worst_g, 1e-10, c->err));
        TRY(hj_result_metric(c->res, "ssm_riccati_vs_rollout", worst_v, c->err));
        TRY(hj_result_metric(c->res, "ssm_gradV_vs_costate", worst_g, c->err));
    }
    st = HJ_OK;
done:
    free(th), free(u), free(y), free(x0), free(g1), free(g2), free(gfd), free(P), free(X), free(work);
    free(xs), free(pfd), free(Pr), free(qr), free(rr), free(gv);
    return st;
}

/* ---- transformer ------------------------------------------------------------------------- */

typedef struct tf_data {
    hj_transformer tf;
    const double *s, *y;   /* (n, T) */
    size_t n;
    double *bs, *by;       /* (batch, T) gather buffers */
} tf_data;

static hj_status tf_objective(void *ctx, const double *params, const size_t *idx, size_t n_idx,
                              double *loss, double *grad, hj_error *err)
{
    tf_data *d = ctx;
    hj_transformer tf = d->tf;
    tf.theta = params;
    if (idx == NULL)
        return hj_transformer_loss_grad(&tf, d->s, d->y, d->n, loss, grad, NULL, err);
    const size_t T = tf.T;
    for (size_t b = 0; b < n_idx; b++) {
        memcpy(d->bs + b * T, d->s + idx[b] * T, T * sizeof *d->bs);
        memcpy(d->by + b * T, d->y + idx[b] * T, T * sizeof *d->by);
    }
    return hj_transformer_loss_grad(&tf, d->bs, d->by, n_idx, loss, grad, NULL, err);
}

/* The full-data loss of d->tf (for hj__exp_fd_gradient). */
static hj_status tf_loss(const void *ctx, double *loss, hj_error *err)
{
    const tf_data *d = ctx;
    return hj_transformer_loss_grad(&d->tf, d->s, d->y, d->n, loss, NULL, NULL, err);
}

/* Sequences s ~ U[-1, 1]^T and targets: task 0 "mean" (every token: the mean), task 1
 * "first" (every token: s_0). */
static void tf_make_data(actx *c, int task, size_t n, size_t T, double *s, double *y)
{
    for (size_t i = 0; i < n; i++) {
        double mean = 0.0;
        for (size_t t = 0; t < T; t++) {
            s[i * T + t] = hj_rng_range(&c->rng, -1.0, 1.0);
            mean += s[i * T + t] / (double)T;
        }
        for (size_t t = 0; t < T; t++)
            y[i * T + t] = task == 0 ? mean : s[i * T];
    }
}

static void tf_init(actx *c, size_t T, size_t D, size_t M, size_t L, double *th)
{
    const size_t per = 3 * D * D + 2 * M * D + M;
    hj__exp_fill_normal(&c->rng, th, D, 1.0);                 /* e */
    hj__exp_fill_normal(&c->rng, th + D, T * D, 1.0);         /* pos */
    for (size_t l = 0; l < L; l++) {
        double *lp = th + D + T * D + l * per;
        hj__exp_fill_normal(&c->rng, lp, 3 * D * D, 1.0 / sqrt((double)D));
        hj__exp_fill_normal(&c->rng, lp + 3 * D * D, M * D, 1.0);
        memset(lp + 3 * D * D + M * D, 0, M * sizeof *lp);
        hj__exp_fill_normal(&c->rng, lp + 3 * D * D + M * D + M, M * D, 0.1);
    }
    double *r = th + D + T * D + L * per;
    hj__exp_fill_normal(&c->rng, r, D, 1.0 / sqrt((double)D));
    r[D] = 0.0;
}

enum { TE_LAYER, TE_MEAN_INIT, TE_MEAN_TRAINED, TE_FIRST_INIT, TE_FIRST_TRAINED, TE_COLS };

static hj_status arch_transformer(actx *c)
{
    hj_status st = HJ_ENOMEM;
    /* (a) gradient check on a small random model */
    const size_t Tc = 5, Dc = 4, Mc = 6, Lc = 2, nc = 3;
    const size_t npc = hj_transformer_num_params(Tc, Dc, Mc, Lc);
    /* (b) training */
    const size_t T = 8, D = 8, M = 8, L = 2;
    const size_t ntr = c->quick ? 256 : 512, nte = 512, batch = 32;
    const size_t iters = c->opt->iters ? c->opt->iters : (c->quick ? 400 : 3000);
    const double eps_ffn = 1.0, lr = 3e-3;
    const size_t np = hj_transformer_num_params(T, D, M, L);
    double *thc = dnew(c, npc), *sc = dnew(c, nc * Tc), *yc = dnew(c, nc * Tc), *g1 = dnew(c, npc);
    double *gfd = dnew(c, npc), *th = dnew(c, np), *s = dnew(c, ntr * T), *y = dnew(c, ntr * T);
    double *st_ = dnew(c, nte * T), *yt = dnew(c, nte * T), *bs = dnew(c, batch * T), *by = dnew(c, batch * T);
    double *Hent = dnew(c, L), *etab = dnew(c, L * TE_COLS);
    hj_train_result tr = {0};
    if (!thc || !sc || !yc || !g1 || !gfd || !th || !s || !y || !st_ || !yt || !bs || !by || !Hent || !etab)
        goto done;
    hj__exp_fill_normal(&c->rng, thc, npc, 0.8);
    for (size_t i = 0; i < nc * Tc; i++)
        sc[i] = hj_rng_range(&c->rng, -1.0, 1.0);
    hj__exp_fill_normal(&c->rng, yc, nc * Tc, 1.0);
    hj_transformer tfc = {Tc, Dc, Mc, Lc, 0.7, thc};
    double Lv = NAN;
    TRY(hj_transformer_loss_grad(&tfc, sc, yc, nc, &Lv, g1, NULL, c->err));
    const tf_data dc = {tfc, sc, yc, nc, NULL, NULL};
    TRY(hj__exp_fd_gradient(tf_loss, &dc, thc, npc, FD_STEP, gfd, c->err));
    double *row = c->tab[AR_TRANSFORMER];
    row[0] = AR_TRANSFORMER, row[1] = (double)npc, row[2] = NAN, row[3] = hj__exp_rel_diff(g1, gfd, npc);
    row[4] = NAN, row[5] = NAN;

    static const char *const task_name[2] = {"mean", "first"};
    double mse_tr[2], mse_te[2], base[2];
    for (int task = 0; task < 2; task++) {
        char stage[64];
        snprintf(stage, sizeof stage, "transformer: training on the '%s' task", task_name[task]);
        hj_experiment_progress(c->opt, AR_NAME, stage, 0.3 + 0.3 * task);
        tf_make_data(c, task, ntr, T, s, y);
        tf_make_data(c, task, nte, T, st_, yt);
        tf_init(c, T, D, M, L, th);
        hj_transformer tf = {T, D, M, L, eps_ffn, th};
        TRY(hj_transformer_entropy(&tf, st_, nte, Hent, c->err));
        for (size_t l = 0; l < L; l++)
            etab[l * TE_COLS + (task == 0 ? TE_MEAN_INIT : TE_FIRST_INIT)] = Hent[l];
        tf_data data = {tf, s, y, ntr, bs, by};
        hj_train_options o;
        hj_train_options_default(&o);
        o.optimizer = HJ_OPT_ADAM, o.lr = lr, o.iters = iters, o.batch = batch, o.n_data = ntr;
        o.seed = c->seed + (uint64_t)task;
        TRY(hj_optimize(tf_objective, &data, th, np, &o, &tr, c->err));
        free(tr.loss_trace);
        tr.loss_trace = NULL;
        mse_tr[task] = tr.final_loss;
        TRY(hj_transformer_loss_grad(&tf, st_, yt, nte, &mse_te[task], NULL, NULL, c->err));
        TRY(hj_transformer_entropy(&tf, st_, nte, Hent, c->err));
        for (size_t l = 0; l < L; l++)
            etab[l * TE_COLS + (task == 0 ? TE_MEAN_TRAINED : TE_FIRST_TRAINED)] = Hent[l];
        /* baseline: predict the mean target (the target's variance) */
        double my = 0.0, vy = 0.0;
        for (size_t i = 0; i < nte * T; i++)
            my += yt[i] / (double)(nte * T);
        for (size_t i = 0; i < nte * T; i++)
            vy += (yt[i] - my) * (yt[i] - my) / (double)(nte * T);
        base[task] = vy;
        char key[64];
        snprintf(key, sizeof key, "transformer_%s_train_mse", task_name[task]);
        TRY(hj_result_metric(c->res, key, mse_tr[task], c->err));
        snprintf(key, sizeof key, "transformer_%s_test_mse", task_name[task]);
        TRY(hj_result_metric(c->res, key, mse_te[task], c->err));
        snprintf(key, sizeof key, "transformer_%s_baseline_mse", task_name[task]);
        TRY(hj_result_metric(c->res, key, base[task], c->err));
        for (size_t l = 0; l < L; l++) {
            snprintf(key, sizeof key, "transformer_%s_layer%zu_entropy_init", task_name[task], l + 1);
            TRY(hj_result_metric(c->res, key, etab[l * TE_COLS + (task == 0 ? TE_MEAN_INIT : TE_FIRST_INIT)], c->err));
            snprintf(key, sizeof key, "transformer_%s_layer%zu_entropy_trained", task_name[task], l + 1);
            TRY(hj_result_metric(c->res, key, etab[l * TE_COLS + (task == 0 ? TE_MEAN_TRAINED : TE_FIRST_TRAINED)], c->err));
        }
    }
    for (size_t l = 0; l < L; l++)
        etab[l * TE_COLS + TE_LAYER] = (double)(l + 1);
    static const char *const names[] = {"layer", "mean_task_init", "mean_task_trained", "first_task_init", "first_task_trained"};
    TRY(hj_result_write_csv(c->res, "transformer_entropy.csv", names, etab, L, TE_COLS, c->err));
    TRY(hj_result_param_text(c->res, "transformer",
                             "T = 8 tokens, D = 8, M = 8 Gibbs FFN slots, L = 2 layers, eps_att = sqrt(D), eps_ffn = 1; Adam lr 3e-3, batch 32",
                             c->err));
    TRY(hj_result_param_num(c->res, "transformer_train_sequences", (double)ntr, c->err));
    TRY(hj_result_param_num(c->res, "transformer_test_sequences", (double)nte, c->err));
    TRY(hj_result_param_num(c->res, "transformer_adam_steps", (double)iters, c->err));
    hj_plot p;
    memset(&p, 0, sizeof p);
    p.name = "transformer_entropy";
    p.title = "C11: attention entropy per layer, particle (0) vs wave (1)";
    p.xlabel = "layer";
    p.ylabel = "mean H(attention row) / log T";
    p.n_series = 4;
    p.series[0] = (hj_plot_series){"transformer_entropy.csv", 1, 2, 0, "mean task, initial", "linespoints", NULL};
    p.series[1] = (hj_plot_series){"transformer_entropy.csv", 1, 3, 0, "mean task, trained", "linespoints", NULL};
    p.series[2] = (hj_plot_series){"transformer_entropy.csv", 1, 4, 0, "first task, initial", "linespoints", NULL};
    p.series[3] = (hj_plot_series){"transformer_entropy.csv", 1, 5, 0, "first task, trained", "linespoints", NULL};
    TRY(hj__exp_figure(c->res, &p,
                       "Mean normalised entropy of the attention rows per layer of a 2-layer pre-LN transformer "
                       "(attention + Gibbs feed-forward), before and after Adam training, on held-out sequences. "
                       "Averaging every token ('mean') needs wave-like attention; copying one token ('first') "
                       "needs particle-like attention.",
                       c->err));
    hj_result_note(c->res,
                   "Transformer (full reverse-mode gradient, checked against finite differences): test MSE "
                   "'mean' %.3g (baseline %.3g), 'first' %.3g (baseline %.3g). Attention entropy H/log T by "
                   "layer: 'mean' %.3f, %.3f (initial %.3f, %.3f); 'first' %.3f, %.3f (initial %.3f, %.3f).",
                   mse_te[0], base[0], mse_te[1], base[1], etab[TE_MEAN_TRAINED],
                   etab[TE_COLS + TE_MEAN_TRAINED], etab[TE_MEAN_INIT], etab[TE_COLS + TE_MEAN_INIT],
                   etab[TE_FIRST_TRAINED], etab[TE_COLS + TE_FIRST_TRAINED], etab[TE_FIRST_INIT],
                   etab[TE_COLS + TE_FIRST_INIT]);
    st = HJ_OK;
done:
    free(tr.loss_trace);
    free(thc), free(sc), free(yc), free(g1), free(gfd), free(th), free(s), free(y), free(st_), free(yt);
    free(bs), free(by), free(Hent), free(etab);
    return st;
}

/* ---- the table ---------------------------------------------------------------------------- */

static const char *const ARCH_TEXT[AR_N][6] = {
    {"ResNet", "x_{k+1} = x_k + h softplus_eps(A_k x_k + c_k)", "H_k = p . softplus_eps(A_k x + c_k)",
     "p_K = grad Phi(x_K); p_k = p_{k+1} + h grad_x H_k(x_k, p_{k+1})",
     "noise: x_{k+1} = x_k + h alpha + sqrt(2 eps h) xi gives viscosity eps (experiment pmp); softplus temperature eps",
     "none"},
    {"Elman RNN", "h_{k+1} = tanh(W h_k + U u_k + b)", "H_k = p . tanh(W h + U u_k + b) + |C h - y_{k-1}|^2",
     "p_K = 2 C^T r_K; p_k = W^T (p_{k+1} (1 - h_{k+1}^2)) + 2 C^T r_k",
     "temperature: tanh(z) = 2 logistic(2z) - 1, a Gibbs weight of two atoms at eps = 1/2",
     "none"},
    {"LSTM", "c' = f c + i g, h' = o tanh(c'); i, f, o = logistic, g = tanh of Wg [h; u] + bg",
     "H_k = p_h . o tanh(c') + p_c . c' + |C h - y_{k-1}|^2",
     "p_k = grad_(h,c) H_k(x_k, p_{k+1}); p_c carries f (the forget gate) back in time",
     "gating: each gate is a two-atom Gibbs weight (eps = 1); f mixes the old cell, a convex average",
     "none"},
    {"SSM (S4D real)", "h_{k+1} = Abar h_k + Bbar u_k, Abar = exp(Delta A), Bbar = (Abar - 1) A^-1 B",
     "H_k = p . (Abar h + Bbar u_k) + |C h - y_{k-1}|^2", "p_k = Abar p_{k+1} + 2 C^T (C h_k - y_{k-1})",
     "dissipation: Re A < 0 damps the state (exponential forgetting); value function exactly quadratic",
     "Riccati value = rollout loss-to-go"},
    {"Transformer", "x <- x + Attn(LN x) (eps = sqrt(d_k)); x <- x + sum_j pi_j(LN x) v_j (eps_ffn)",
     "H = p . [Attn(LN x) + G(LN x)] per residual step (time step 1)",
     "reverse mode through LN, softmax and Gibbs weights (p_l = p_{l+1} + grad_x H_l)",
     "temperature: softmax eps = sqrt(d_k) (attention) and eps_ffn; entropy H/log n: particle vs wave",
     "none"},
};

/* One CSV field, quoted, with inner quotes doubled. */
static void csv_field(FILE *f, const char *s, int last)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
    fputc(last ? '\n' : ',', f);
}

static hj_status write_text_table(actx *c)
{
    char path[1200];
    hj_status st = hj_result_path(c->res, "architectures_table.csv", path, sizeof path, c->err);
    if (st != HJ_OK)
        return st;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return hj_error_set(c->err, HJ_EIO, "%s: cannot open for writing", path);
    fputs("architecture,state_equation,hamiltonian,costate,viscosity_source,costate_vs_reverse_rel,"
          "costate_vs_fd_rel,p_k_vs_fd_loss_to_go_rel,extra_identity,extra_value\n", f);
    for (int a = 0; a < AR_N; a++) {
        for (int k = 0; k < 5; k++)
            csv_field(f, ARCH_TEXT[a][k], 0);
        for (int k = 2; k < 5; k++) {
            if (isfinite(c->tab[a][k]))
                fprintf(f, "%.3e,", c->tab[a][k]);
            else
                fputs("n/a,", f);
        }
        csv_field(f, ARCH_TEXT[a][5], 0);
        if (isfinite(c->tab[a][5]))
            fprintf(f, "%.3e\n", c->tab[a][5]);
        else
            fputs("n/a\n", f);
    }
    if (fclose(f) != 0)
        return hj_error_set(c->err, HJ_EIO, "%s: write failed", path);
    return HJ_OK;
}

/* Experiment "architectures" (C11). Overrides: seed, iters (transformer Adam steps). */
hj_status hj__exp_architectures(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    if (opt == NULL || res == NULL)
        return hj_error_set(err, HJ_EINVAL, "architectures: NULL argument");
    actx c;
    memset(&c, 0, sizeof c);
    c.opt = opt, c.res = res, c.err = err, c.quick = opt->quick, c.seed = opt->seed;
    hj_rng_seed(&c.rng, opt->seed * 0x9e3779b97f4a7c15ULL + 0xa4c11ULL);
    hj_status st;
    TRY(hj_result_param_num(res, "seed", (double)opt->seed, err));
    TRY(hj_result_param_num(res, "quick", opt->quick ? 1.0 : 0.0, err));
    TRY(hj_result_param_text(res, "recurrent_case", "n_in = 3, n_hid = 6, n_out = 2, K = 16 steps; FD step 1e-5", err));
    hj_experiment_progress(opt, AR_NAME, "ResNet", 0.02);
    TRY(arch_resnet(&c));
    hj_experiment_progress(opt, AR_NAME, "Elman RNN, LSTM, SSM", 0.1);
    TRY(arch_recurrent(&c, HJ_RNN_ELMAN, AR_ELMAN));
    TRY(arch_recurrent(&c, HJ_RNN_LSTM, AR_LSTM));
    TRY(arch_recurrent(&c, HJ_RNN_SSM, AR_SSM));
    TRY(arch_transformer(&c));
    /* checks per architecture */
    for (int a = 0; a < AR_N; a++) {
        char nm[128];
        const char *name = ARCH_TEXT[a][0];
        if (isfinite(c.tab[a][2])) {
            snprintf(nm, sizeof nm, "%s: co-state (Hamiltonian) gradient = reverse-mode backprop (rel)", name);
            TRY(hj_result_check(res, "C11", nm, c.tab[a][2], 1e-12, err));
        }
        snprintf(nm, sizeof nm, "%s: %s gradient vs central finite differences (rel, step 1e-5)", name,
                 a == AR_TRANSFORMER ? "reverse-mode" : "co-state");
        TRY(hj_result_check(res, "C11", nm, c.tab[a][3], 1e-6, err));
        if (isfinite(c.tab[a][4])) {
            snprintf(nm, sizeof nm, "%s: co-state p_k = d(loss-to-go)/dx_k by central differences (rel)", name);
            TRY(hj_result_check(res, "C11", nm, c.tab[a][4], 1e-6, err));
        }
    }
    static const char *const names[] = {"architecture_id", "n_params", "costate_vs_reverse", "costate_vs_fd",
                                        "p_k_vs_fd_loss_to_go", "extra_identity"};
    /* NaN ("not applicable") cells are written as -1 so the CSV stays numeric */
    double tab[AR_N * 6];
    for (int a = 0; a < AR_N; a++)
        for (int k = 0; k < 6; k++)
            tab[a * 6 + k] = isfinite(c.tab[a][k]) ? c.tab[a][k] : -1.0;
    TRY(hj_result_write_csv(res, "architectures.csv", names, tab, AR_N, 6, err));
    TRY(write_text_table(&c));
    hj_result_note(res,
                   "Table architectures_table.csv: per architecture its state equation, Hamiltonian, co-state, "
                   "source of viscosity and the measured agreement (architectures.csv holds the numbers; "
                   "ids 0..4 = ResNet, Elman, LSTM, SSM, transformer; -1 = not applicable). Co-state vs "
                   "reverse mode: ResNet %.2g, Elman %.2g, LSTM %.2g, SSM %.2g; vs finite differences "
                   "%.2g, %.2g, %.2g, %.2g, transformer %.2g; SSM Riccati value vs rollout %.2g.",
                   c.tab[0][2], c.tab[1][2], c.tab[2][2], c.tab[3][2], c.tab[0][3], c.tab[1][3], c.tab[2][3],
                   c.tab[3][3], c.tab[4][3], c.tab[3][5]);
done:
    return st;
}
