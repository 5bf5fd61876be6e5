/* explorer_api.c — flat functions for the explorer page (explorer/index.html),
 * compiled with libhjdl to WebAssembly. Thin glue only: every number comes
 * from the public API (hopf.h, lse.h, influence.h, landscape.h, model.h,
 * robust.h); nothing here re-derives a formula of the theory.
 *
 * Conventions for JavaScript: arrays are double* into the wasm heap, atoms
 * are positions y (N, d) and heights g (N), points x (n, d) row-major. Every
 * function returns 0 (HJ_OK) or a positive hj_status with the library's
 * message in msg (HJ_ERROR_MSG_LEN bytes, caller-owned); counting functions
 * return the count (>= 0) or minus the status. Nothing lives here between
 * calls except models, which JavaScript holds as opaque pointers. */
#include <emscripten.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"
#include "hjdl/hopf.h"
#include "hjdl/influence.h"
#include "hjdl/landscape.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/robust.h"

#define API EMSCRIPTEN_KEEPALIVE

/* Copy the error into msg and return its (non-zero) status. */
static int fail(const hj_error *e, char *msg)
{
    if (msg != NULL) {
        strncpy(msg, e->msg[0] ? e->msg : hj_status_string(e->code), HJ_ERROR_MSG_LEN - 1);
        msg[HJ_ERROR_MSG_LEN - 1] = '\0';
    }
    return e->code == HJ_OK ? (int)HJ_ENOMEM : (int)e->code;
}

static int oom(hj_error *e, char *msg)
{
    hj_error_set(e, HJ_ENOMEM, "out of memory");
    return fail(e, msg);
}

API int ex_error_len(void) { return HJ_ERROR_MSG_LEN; }

/* ---- the four views of one eps ---------------------------------------------------------- */

/* At n points x: out (n, 5 + d) rows u, f, f + u - |x|^2/(4t), H, u_0, grad u (d), where u is
 * the plain Hopf–Cole u_eps (Hopf–Lax at eps = 0), f the LSE layer of the equivalent weights
 * (w, b) = hj_atoms_to_weights, H the entropy of the Gibbs weights and u_0 the Hopf–Lax
 * limit. */
API int ex_solve(int N, int d, const double *y, const double *g, double t, double eps, int n,
                 const double *x, double *out, char *msg)
{
    hj_error e = {0};
    const size_t nn = (size_t)n, dd = (size_t)d, NN = (size_t)N, S = 5 + dd;
    double *u = malloc(nn * sizeof *u), *H = malloc(nn * sizeof *H),
           *gr = malloc(nn * dd * sizeof *gr), *u0 = malloc(nn * sizeof *u0),
           *f = malloc(nn * sizeof *f), *w = malloc(NN * dd * sizeof *w), *b = malloc(NN * sizeof *b);
    int rc = 0;
    if (!u || !H || !gr || !u0 || !f || !w || !b) {
        rc = oom(&e, msg);
        goto done;
    }
    hj_atoms a = {NN, dd, y, g};
    hj_hc_out o = {.u = u, .grad = gr, .entropy = H};
    if (hj_hopf_cole_eval(&a, NULL, x, nn, t, eps, &o, &e) != HJ_OK ||
        hj_hopf_lax_eval(&a, NULL, x, nn, t, u0, NULL, &e) != HJ_OK ||
        hj_atoms_to_weights(y, g, NN, dd, t, NULL, w, b, &e) != HJ_OK) {
        rc = fail(&e, msg);
        goto done;
    }
    hj_lse_layer L = {NN, dd, w, b, eps};
    if (hj_lse_forward(&L, x, nn, f, NULL, NULL, &e) != HJ_OK) {
        rc = fail(&e, msg);
        goto done;
    }
    for (size_t i = 0; i < nn; i++) {
        double *r = out + i * S;
        r[0] = u[i], r[1] = f[i];
        r[2] = f[i] + u[i] - hj_hopf_quadratic(NULL, x + i * dd, dd, t);
        r[3] = H[i], r[4] = u0[i];
        memcpy(r + 5, gr + i * dd, dd * sizeof *gr);
    }
done:
    free(u), free(H), free(gr), free(u0), free(f), free(w), free(b);
    return rc;
}

/* Attribution at one point x (d): pi (N) the Gibbs weights, abl (N) the exact ablation change
 * u_{-k} - u, loo (N, d) the exact leave-one-out change of the Gibbs mean E_pi[y] (so of
 * grad u = (x - E_pi y)/(2t)), sum (7): H, n_eff, regime, u, and the entropy-regularised
 * objective Phi(q) = sum_j q_j a_j + eps H(q) (a_j = -(g_j + |x-y_j|^2/(4t))) at its maximiser
 * q = pi, at the uniform q and at the vertex of the largest logit: Phi(pi) = -u.
 * top (2K) the K largest weights' atom indices then weights (hj_explain_atoms). */
API int ex_point(int N, int d, const double *y, const double *g, double t, double eps,
                 const double *x, int K, double *pi, double *abl, double *loo, double *sum,
                 double *top, char *msg)
{
    hj_error e = {0};
    const size_t NN = (size_t)N, dd = (size_t)d, KK = (size_t)K;
    hj_atoms a = {NN, dd, y, g};
    double u = 0.0, H = 0.0;
    hj_hc_out o = {.u = &u, .entropy = &H, .pi = pi};
    hj_explain ex;
    double *pt = malloc((KK ? KK : 1) * sizeof *pt), *lg = malloc(NN * sizeof *lg);
    size_t *it = malloc((KK ? KK : 1) * sizeof *it);
    int rc = 0;
    if (!pt || !it || !lg) {
        rc = oom(&e, msg);
        goto done;
    }
    if (hj_hopf_cole_eval(&a, NULL, x, 1, t, eps, &o, &e) != HJ_OK ||
        hj_explain_atoms(&a, NULL, x, 1, t, eps, KK, &ex, pt, it, &e) != HJ_OK) {
        rc = fail(&e, msg);
        goto done;
    }
    if (NN >= 2) {
        if (hj_influence_ablation_atoms(&a, NULL, x, 1, t, eps, NULL, abl, &e) != HJ_OK ||
            hj_influence_loo_atoms(&a, NULL, x, 1, t, eps, y, dd, NULL, loo, &e) != HJ_OK) {
            rc = fail(&e, msg);
            goto done;
        }
    } else {
        abl[0] = 0.0; /* one atom: nothing to leave out */
        memset(loo, 0, dd * sizeof *loo);
    }
    /* the convex view: logits of the point and Phi at three distributions */
    const double q = 1.0 / (4.0 * t);
    size_t jmax = 0;
    double phi_pi = 0.0, phi_u = 0.0;
    for (size_t j = 0; j < NN; j++) {
        double r2 = 0.0;
        for (size_t c = 0; c < dd; c++)
            r2 += (x[c] - y[j * dd + c]) * (x[c] - y[j * dd + c]);
        lg[j] = -(g[j] + r2 * q);
        if (lg[j] > lg[jmax])
            jmax = j;
        phi_pi += pi[j] * lg[j];
        phi_u += lg[j] / (double)NN;
    }
    sum[0] = ex.entropy, sum[1] = ex.n_eff, sum[2] = (double)ex.regime, sum[3] = u;
    sum[4] = phi_pi + eps * H, sum[5] = phi_u + eps * log((double)NN), sum[6] = lg[jmax];
    for (size_t k = 0; k < KK; k++)
        top[k] = (double)it[k], top[KK + k] = pt[k];
done:
    free(pt), free(it), free(lg);
    return rc;
}

/* explain at n points: out (n, 3 + 2K) rows entropy, n_eff, regime, then (atom, pi) pairs,
 * the columns of `hjdl explain --atoms`. */
API int ex_explain(int N, int d, const double *y, const double *g, double t, double eps, int n,
                   const double *x, int K, double *out, char *msg)
{
    hj_error e = {0};
    const size_t nn = (size_t)n, KK = (size_t)K, S = 3 + 2 * KK;
    hj_atoms a = {(size_t)N, (size_t)d, y, g};
    hj_explain *ex = malloc(nn * sizeof *ex);
    double *pt = malloc((nn * KK + 1) * sizeof *pt);
    size_t *it = malloc((nn * KK + 1) * sizeof *it);
    int rc = 0;
    if (!ex || !pt || !it)
        rc = oom(&e, msg);
    else if (hj_explain_atoms(&a, NULL, x, nn, t, eps, KK, ex, pt, it, &e) != HJ_OK)
        rc = fail(&e, msg);
    else
        for (size_t i = 0; i < nn; i++) {
            double *r = out + i * S;
            r[0] = ex[i].entropy, r[1] = ex[i].n_eff, r[2] = (double)ex[i].regime;
            for (size_t k = 0; k < KK; k++)
                r[3 + 2 * k] = (double)it[i * KK + k], r[4 + 2 * k] = pt[i * KK + k];
        }
    free(ex), free(pt), free(it);
    return rc;
}

API double ex_critical_eps(int N, int d) { return hj_critical_eps((size_t)N, (size_t)d); }

API const char *ex_regime_name(int r) { return hj_regime_name((hj_regime)r); }

/* ---- the entropy landscape ------------------------------------------------------------ */

static hj_landscape *landscape(int N, int d, const double *y, const double *g, double t,
                               hj_error *e)
{
    hj_atoms a = {(size_t)N, (size_t)d, y, g};
    hj_landscape *L = NULL;
    return hj_landscape_alloc(&L, &a, t, e) == HJ_OK ? L : NULL;
}

/* The default domain (lo, hi (d)) for padding pad. */
API int ex_domain(int N, int d, const double *y, const double *g, double t, double pad,
                  double *lo, double *hi, char *msg)
{
    hj_error e = {0};
    hj_landscape *L = landscape(N, d, y, g, t, &e);
    if (L == NULL)
        return fail(&e, msg);
    hj_landscape_domain(L, pad, lo, hi);
    hj_landscape_free(L);
    return 0;
}

/* H on a grid of n nodes per dimension over [lo, hi] (d = 1 or 2): H (n) or (n, n) with node
 * (i, j) at H[i*n + j], x_1 along i (the layout of hj_basins). */
API int ex_landscape_map(int N, int d, const double *y, const double *g, double t, double eps,
                         const double *lo, const double *hi, int n, double *H, char *msg)
{
    hj_error e = {0};
    if (d < 1 || d > 2 || n < 2) {
        hj_error_set(&e, HJ_EINVAL, "landscape map: d must be 1 or 2 and n >= 2");
        return fail(&e, msg);
    }
    const size_t nn = (size_t)n, np = d == 1 ? nn : nn * nn;
    double *x = malloc(np * (size_t)d * sizeof *x);
    hj_landscape *L = landscape(N, d, y, g, t, &e);
    int rc = 0;
    if (x == NULL) {
        rc = oom(&e, msg);
        goto done;
    }
    if (L == NULL) {
        rc = fail(&e, msg);
        goto done;
    }
    for (size_t p = 0; p < np; p++) {
        const size_t i = d == 1 ? p : p / nn, j = p % nn;
        x[p * (size_t)d] = lo[0] + (hi[0] - lo[0]) * (double)i / (double)(nn - 1);
        if (d == 2)
            x[p * 2 + 1] = lo[1] + (hi[1] - lo[1]) * (double)j / (double)(nn - 1);
    }
    if (hj_landscape_batch(L, eps, x, np, H, &e) != HJ_OK)
        rc = fail(&e, msg);
done:
    free(x);
    hj_landscape_free(L);
    return rc;
}

/* Critical points at eps (default options, default domain): up to cap of them, x (cap, d),
 * H (cap), index (cap) Morse index. Returns their number (all found; only cap written). */
API int ex_critical(int N, int d, const double *y, const double *g, double t, double eps,
                    int cap, double *x, double *H, int *index, char *msg)
{
    hj_error e = {0};
    hj_landscape *L = landscape(N, d, y, g, t, &e);
    if (L == NULL)
        return -fail(&e, msg);
    hj_landscape_options o;
    hj_landscape_options_default(&o);
    hj_crit_list c = {0};
    int rc;
    if (hj_landscape_critical_points(L, eps, &o, &c, &e) != HJ_OK) {
        rc = -fail(&e, msg);
    } else {
        rc = (int)c.n;
        for (size_t k = 0; k < c.n && k < (size_t)cap; k++) {
            memcpy(x + k * (size_t)d, c.x + k * (size_t)d, (size_t)d * sizeof *x);
            H[k] = c.H[k], index[k] = c.index[k];
        }
    }
    hj_crit_list_free(&c);
    hj_landscape_free(L);
    return rc;
}

/* The bifurcation diagram exactly as `hjdl landscape --atoms A --t T` traces it (default range
 * eps* / 25 .. 25 eps*, step 0.05, 16 levels, the domain widened while minima exit it). Branch
 * points: pts (pcap, d + 4) rows eps, x (d), H, index, branch; folds: fl (fcap, d + 6) rows
 * eps, x (d), H, type, direction, lambda_rel, check. info (4): n_points, n_folds, eps_min,
 * eps_max (all of them counted; only the first pcap / fcap written). */
API int ex_bifurcation(int N, int d, const double *y, const double *g, double t, int pcap,
                       double *pts, int fcap, double *fl, double *info, char *msg)
{
    hj_error e = {0};
    hj_landscape *L = landscape(N, d, y, g, t, &e);
    if (L == NULL)
        return fail(&e, msg);
    const double es = hj_landscape_critical_eps(L);
    hj_landscape_options o;
    hj_landscape_options_default(&o);
    o.eps_min = es / 25.0, o.eps_max = es * 25.0, o.h_max = 0.05, o.seed_levels = 16;
    if (o.h_min >= o.h_max)
        o.h_min = o.h_max * 1e-6;
    hj_bifurcation b = {0};
    int rc = 0;
    for (o.pad = 0.5;; o.pad *= 2.0) {
        if (hj_landscape_continue(L, &o, &b, &e) != HJ_OK) {
            rc = fail(&e, msg);
            goto done;
        }
        if (b.n_min_exits == 0 || o.pad >= 4.0)
            break;
        hj_bifurcation_free(&b);
    }
    const size_t dd = (size_t)d, SP = dd + 4, SF = dd + 6;
    for (size_t k = 0; k < b.n_points && k < (size_t)pcap; k++) {
        double *r = pts + k * SP;
        r[0] = b.eps[k];
        memcpy(r + 1, b.x + k * dd, dd * sizeof *r);
        r[dd + 1] = b.H[k], r[dd + 2] = b.index[k], r[dd + 3] = (double)b.branch[k];
    }
    for (size_t k = 0; k < b.n_folds && k < (size_t)fcap; k++) {
        const hj_fold *f = &b.folds[k];
        double *r = fl + k * SF;
        r[0] = f->eps;
        memcpy(r + 1, f->x, dd * sizeof *r);
        r[dd + 1] = f->H, r[dd + 2] = f->type, r[dd + 3] = f->dir, r[dd + 4] = f->lam_rel;
        r[dd + 5] = f->ok;
    }
    info[0] = (double)b.n_points, info[1] = (double)b.n_folds;
    info[2] = b.eps_min, info[3] = b.eps_max;
done:
    hj_bifurcation_free(&b);
    hj_landscape_free(L);
    return rc;
}

/* Basins of -grad H on the grid of n nodes per dimension over [lo, hi]: label as hj_basins
 * (n or n*n ints, 0 = outside). Returns the number of basins. */
API int ex_basins(int N, int d, const double *y, const double *g, double t, double eps,
                  const double *lo, const double *hi, int n, int *label, char *msg)
{
    hj_error e = {0};
    hj_landscape *L = landscape(N, d, y, g, t, &e);
    if (L == NULL)
        return -fail(&e, msg);
    hj_basins B = {0};
    int rc;
    if (hj_landscape_basins(L, eps, lo, hi, (size_t)n, &B, &e) != HJ_OK) {
        rc = -fail(&e, msg);
    } else {
        const size_t np = d == 1 ? (size_t)n : (size_t)n * (size_t)n;
        memcpy(label, B.label, np * sizeof *label);
        rc = (int)B.n_basins;
    }
    hj_basins_free(&B);
    hj_landscape_free(L);
    return rc;
}

/* ---- files ------------------------------------------------------------------------------ */

/* Read a matrix file (CSV with header, or .npy) from the in-memory file system with the
 * CLI's reader: dims (2) rows, cols; data (up to cap values) row-major. */
API int ex_matrix_read(const char *path, int cap, double *data, int *dims, char *msg)
{
    hj_error e = {0};
    hj_matrix A = {0};
    if (hj_matrix_read(path, &A, &e) != HJ_OK)
        return fail(&e, msg);
    int rc = 0;
    if (A.rows * A.cols > (size_t)cap) {
        hj_error_set(&e, HJ_ERANGE, "%s: %zu x %zu values are more than the explorer holds (%d)",
                     path, A.rows, A.cols, cap);
        rc = fail(&e, msg);
    } else {
        dims[0] = (int)A.rows, dims[1] = (int)A.cols;
        memcpy(data, A.data, A.rows * A.cols * sizeof *data);
    }
    hj_matrix_free(&A);
    return rc;
}

/* ---- models: training, certificates, .hjm ----------------------------------------------- */

/* A new model of architecture spec (e.g. "lse:8", "lse-class:4") on d inputs, n_classes 0
 * (regression) or >= 2, seeded; NULL with msg on failure. */
API hj_model *ex_model_new(const char *spec, int d, int n_classes, double eps, double t,
                           double seed, char *msg)
{
    hj_error e = {0};
    hj_arch arch;
    hj_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        oom(&e, msg);
        return NULL;
    }
    if (hj_arch_parse(spec, (size_t)d, (size_t)n_classes, 0, &arch, &e) != HJ_OK ||
        hj_model_init(m, &arch, eps, t, (uint64_t)seed, &e) != HJ_OK) {
        fail(&e, msg);
        free(m);
        return NULL;
    }
    return m;
}

API void ex_model_free(hj_model *m)
{
    if (m != NULL)
        hj_model_free(m);
    free(m);
}

/* info (7): d_in (raw), n_classes, N_total readout atoms, readout dim, eps, n_layers, t. */
API void ex_model_info(const hj_model *m, double *info)
{
    size_t N = 0, d = 0;
    hj_model_readout_shape(m, &N, &d);
    info[0] = (double)m->pre.d_raw, info[1] = (double)m->arch.n_classes;
    info[2] = (double)N, info[3] = (double)d, info[4] = m->eps, info[5] = (double)m->arch.n_layers;
    info[6] = m->t;
}

API void ex_model_set_eps(hj_model *m, double eps) { m->eps = eps; }

/* Adam for iters full-batch steps from the current parameters (a fresh optimiser state each
 * call) on x (n, d_in), y (n); loss (iters) the per-step loss. */
API int ex_model_train(hj_model *m, const double *x, const double *y, int n, int iters, double lr,
                       double *loss, char *msg)
{
    hj_error e = {0};
    hj_train_options opt;
    hj_train_options_default(&opt);
    opt.optimizer = HJ_OPT_ADAM, opt.iters = (size_t)iters, opt.lr = lr;
    hj_train_result res = {0};
    if (hj_model_train(m, x, y, (size_t)n, &opt, &res, &e) != HJ_OK) {
        free(res.loss_trace);
        return fail(&e, msg);
    }
    for (size_t k = 0; k < (size_t)iters; k++)
        loss[k] = res.loss_trace != NULL && k < res.steps ? res.loss_trace[k] : res.final_loss;
    free(res.loss_trace);
    return 0;
}

/* eps chosen on held-out data (hj_model_fit_eps_auto over grid (ngrid)): the first n - n_val
 * points of x (n, d_in), y (n) train, the last n_val validate; Adam, iters steps, lr. The model
 * is refitted with the winning eps (m->eps); curve (ngrid + 1) gets the validation loss of each
 * eps, then the final training loss of the refit. */
API int ex_model_fit_auto(hj_model *m, const double *x, const double *y, int n, int n_val,
                          int iters, double lr, double seed, const double *grid, int ngrid,
                          double *curve, char *msg)
{
    hj_error e = {0};
    const size_t d = m->arch.d_in, nt = (size_t)(n - n_val);
    hj_train_options opt;
    hj_train_options_default(&opt);
    opt.optimizer = HJ_OPT_ADAM, opt.iters = (size_t)iters, opt.lr = lr;
    hj_fit_options fo;
    hj_fit_options_default(&fo);
    fo.x_val = x + nt * d, fo.y_val = y + nt, fo.n_val = (size_t)n_val;
    hj_train_result res = {0};
    if (hj_model_fit_eps_auto(m, (uint64_t)seed, grid, (size_t)ngrid, x, y, nt, &opt, &fo, &res,
                              &e) != HJ_OK) {
        free(res.loss_trace);
        return fail(&e, msg);
    }
    curve[ngrid] = res.final_loss;
    free(res.loss_trace);
    for (size_t k = 0; k < (size_t)ngrid; k++)
        curve[k] = k < m->n_eps_curve ? m->eps_val_loss[k] : NAN;
    return 0;
}

/* The readout's atoms at the model's t: y (N_total, dim), g (N_total). */
API int ex_model_atoms(const hj_model *m, double *y, double *g, char *msg)
{
    hj_error e = {0};
    return hj_model_initial_data(m, 0.0, y, g, &e) == HJ_OK ? 0 : fail(&e, msg);
}

/* Predictions at raw points: out (n, n_out). */
API int ex_model_predict(const hj_model *m, const double *x, int n, double *out, char *msg)
{
    hj_error e = {0};
    return hj_model_predict(m, x, (size_t)n, out, &e) == HJ_OK ? 0 : fail(&e, msg);
}

API int ex_model_save(const hj_model *m, const char *path, char *msg)
{
    hj_error e = {0};
    return hj_model_save(m, path, &e) == HJ_OK ? 0 : fail(&e, msg);
}

API hj_model *ex_model_load(const char *path, char *msg)
{
    hj_error e = {0};
    hj_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        oom(&e, msg);
        return NULL;
    }
    if (hj_model_load(m, path, &e) != HJ_OK) {
        fail(&e, msg);
        free(m);
        return NULL;
    }
    return m;
}

/* Certified radii at n raw points: out (n, 4) rows class, runner_up, margin, radius. */
API int ex_certify(const hj_model *m, const double *x, int n, double *out, char *msg)
{
    hj_error e = {0};
    hj_certificate *c = malloc((size_t)n * sizeof *c);
    if (c == NULL)
        return oom(&e, msg);
    int rc = 0;
    if (hj_certify(m, x, (size_t)n, c, &e) != HJ_OK)
        rc = fail(&e, msg);
    else
        for (size_t i = 0; i < (size_t)n; i++) {
            out[4 * i] = (double)c[i].cls, out[4 * i + 1] = (double)c[i].runner_up;
            out[4 * i + 2] = c[i].margin, out[4 * i + 3] = c[i].radius;
        }
    free(c);
    return rc;
}

/* Curvature bounds of readout block `block`: out (4) paper, meb, diameter, best. */
API int ex_curvature(const hj_model *m, int block, double *out, char *msg)
{
    hj_error e = {0};
    hj_lse_layer L;
    hj_curvature_bounds b;
    if (hj_model_readout_layer(m, (size_t)block, &L, &e) != HJ_OK ||
        hj_lse_curvature_bounds(&L, &b, &e) != HJ_OK)
        return fail(&e, msg);
    out[0] = b.paper, out[1] = b.meb, out[2] = b.diameter, out[3] = b.best;
    return 0;
}
