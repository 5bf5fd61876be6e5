/* pmp.h — networks as discrete Hamiltonian systems (SPEC C11): backprop = Pontryagin co-state,
 * training by successive approximations, viscosity = noise, recurrent models and a transformer.
 *
 * Conventions shared by everything here:
 *   - a network is a controlled discrete-time system x_{k+1} = F_k(x_k, theta) with a loss
 *     L = sum_k l_k(x_k) + Phi(x_K);
 *   - its discrete Hamiltonian is H_k(x, p, theta) = p . F_k(x, theta) + l_k(x, theta);
 *   - the co-state carries the BACKPROP sign: p_K = grad Phi(x_K), p_k = grad_x H_k(x_k, p_{k+1});
 *     then dL/dtheta = sum_k grad_theta H_k(x_k, p_{k+1}, theta), and p_k = dL/dx_k, the
 *     gradient of the loss-to-go (the value function along the trajectory). With the
 *     opposite sign (lambda = -p) the maximum principle says "theta_k maximises
 *     lambda . F_k"; with ours it minimises p . F_k.
 *   - the Hamiltonian derivatives are written from H itself; a separate reverse-mode
 *     implementation (the chain rule through cached layer activations) is given for each
 *     model so that the two can be compared.
 *
 * Residual network (width D, K layers, step h):
 *   x_{k+1} = x_k + h f(x_k, theta_k),  f(x, theta) = softplus_eps(A x + c) elementwise,
 *   theta_k = (A_k (D, D), c_k (D)),  softplus_eps(z) = eps log(1 + e^{z/eps}) (lse.h; the
 *   two-atom LSE layer, so each block is an LSE evaluation; eps = 0 is ReLU).
 *   H_k(x, p, theta) = p . f(x, theta) (the residual identity part p . x does not depend on
 *   theta and is left out), co-state p_k = p_{k+1} + h grad_x H_k(x_k, p_{k+1}, theta_k),
 *   parameter gradient h grad_theta H_k(x_k, p_{k+1}, theta_k).
 *   A batch of n samples is one system of n independent states sharing theta: X (n, D),
 *   H = sum_i p_i . f(x_i, theta).
 *   Terminal cost Phi(X) = 1/(2n) sum_i |R x_i - y_i|^2 with a fixed read-out R (m, D).
 */
#ifndef HJDL_PMP_H
#define HJDL_PMP_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/hopf.h"
#include "hjdl/model.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== residual network ===================================================== */

/* A view of a residual network; it owns nothing. */
typedef struct hj_resnet {
    size_t K;             /* layers = time steps, >= 1 */
    size_t D;             /* width = state dimension, >= 1 */
    double h;             /* step > 0 (depth-time T = K h) */
    double eps;           /* softplus temperature >= 0 (0: ReLU) */
    const double *theta;  /* (K, D*D + D): layer k holds A_k (D, D) row-major, then c_k (D) */
} hj_resnet;

/* Terminal cost Phi(X) = 1/(2n) sum_i |R x_i - y_i|^2; a view, owns nothing. */
typedef struct hj_pmp_target {
    size_t m;           /* read-out dimension >= 1 */
    const double *R;    /* (m, D) fixed read-out; NULL means the identity (then m == D) */
    const double *y;    /* (n, m) targets */
} hj_pmp_target;

/* Parameters per layer (D*D + D) and in total (K (D*D + D)). */
HJ_API size_t hj_resnet_layer_params(size_t D);
HJ_API size_t hj_resnet_num_params(size_t K, size_t D);

/* Validate a network (sizes, h > 0, eps >= 0, finite theta) and, if tg != NULL, a target
 * for it (m >= 1, y non-NULL, R non-NULL unless m == D). */
HJ_API hj_status hj_resnet_check(const hj_resnet *net, const hj_pmp_target *tg, hj_error *err);

/* Phi(X) for states X (n, D); grad (n, D), if non-NULL, receives grad_X Phi
 * = (1/n) R^T (R x_i - y_i). Arguments are not validated (call hj_resnet_check). */
HJ_API double hj_resnet_terminal_cost(const hj_resnet *net, const hj_pmp_target *tg, const double *X,
                               size_t n, double *grad);

/* Forward state sweep: X (K+1, n, D) receives x_0 = x0 (n, D), ..., x_K. */
HJ_API hj_status hj_resnet_forward(const hj_resnet *net, const double *x0, size_t n, double *X,
                            hj_error *err);

/* H(x, p, theta_k) = sum_i p_i . softplus_eps(A x_i + c) for x, p (n, D) and the
 * parameters theta_k (D*D + D) of one layer (net gives D and eps; its theta is not used). */
HJ_API double hj_resnet_hamiltonian(const hj_resnet *net, const double *theta_k, const double *x,
                             const double *p, size_t n);

/* Derivatives of that Hamiltonian: gx (n, D) receives grad_x H per sample,
 * A^T (p_i * s'(z_i)); gtheta (D*D + D) receives grad_theta H summed over samples,
 * ((p_i * s'(z_i)) x_i^T, p_i * s'(z_i)); either may be NULL; both are overwritten. */
HJ_API void hj_resnet_hamiltonian_grad(const hj_resnet *net, const double *theta_k, const double *x,
                                const double *p, size_t n, double *gx, double *gtheta);

/* Backward co-state sweep for the states X (K+1, n, D) of hj_resnet_forward: P (K+1, n, D)
 * receives p_K = grad Phi(x_K) and p_k = p_{k+1} + h grad_x H_k(x_k, p_{k+1}, theta_k).
 * loss (may be NULL) receives Phi(x_K). */
HJ_API hj_status hj_resnet_costate(const hj_resnet *net, const hj_pmp_target *tg, const double *X,
                            size_t n, double *P, double *loss, hj_error *err);

/* Loss and gradient by the maximum principle: forward sweep, co-state sweep, then
 * grad (K, D*D + D) layer k = h grad_theta H_k(x_k, p_{k+1}, theta_k). X and P
 * ((K+1) n D each) may be NULL (allocated internally) or caller buffers that receive
 * the sweeps. */
HJ_API hj_status hj_resnet_pmp_gradient(const hj_resnet *net, const hj_pmp_target *tg, const double *x0,
                                 size_t n, double *loss, double *grad, double *X, double *P,
                                 hj_error *err);

/* The same loss and gradient by plain reverse-mode backprop: a forward pass caching
 * each layer's pre-activations, then the chain rule layer by layer (no Hamiltonian). */
HJ_API hj_status hj_resnet_backprop(const hj_resnet *net, const hj_pmp_target *tg, const double *x0,
                             size_t n, double *loss, double *grad, hj_error *err);

/* ==== method of successive approximations (extended Hamiltonian) ============ */

/* Extended Hamiltonian of layer k (Li, Chen, Tai & E, JMLR 2018), in the backprop sign,
 * to be MINIMISED over theta (D*D + D):
 *   J(theta) = (1/n) sum_i [ h q_{k+1,i} . f(x_{k,i}, theta)
 *                            + rho/2 |x_{k+1,i} - x_{k,i} - h f(x_{k,i}, theta)|^2
 *                            + rho/2 |q_{k,i} - q_{k+1,i} - h grad_x(q_{k+1,i} . f)(x_{k,i}, theta)|^2 ]
 * with q = n p the per-sample co-states (p from hj_resnet_costate carries the 1/n of the
 * mean loss). xk, xk1, pk, pk1 are (n, D) rows of the sweeps. At the theta that produced
 * the sweeps both penalties vanish and grad J = h grad_theta H_k, the loss gradient.
 * J and grad (D*D + D) may each be NULL. */
HJ_API hj_status hj_resnet_extended_hamiltonian(const hj_resnet *net, const double *theta_k,
                                         const double *xk, const double *xk1, const double *pk,
                                         const double *pk1, size_t n, double rho, double *J,
                                         double *grad, hj_error *err);

typedef struct hj_msa_options {
    size_t iters;        /* outer iterations (one state sweep + one co-state sweep each); default 200 */
    size_t inner_steps;  /* gradient steps on each layer's extended Hamiltonian per sweep; default 4 */
    double lr;           /* inner step size; default 1e-2 */
    double rho;          /* penalty of the extended Hamiltonian; default 1 */
    int inner_adam;      /* 1 (default): Adam-scaled inner steps, moments kept per layer across
                            sweeps; 0: plain gradient steps */
    double beta1, beta2, adam_eps;   /* default 0.9, 0.999, 1e-8 */
} hj_msa_options;

/* Defaults above. */
HJ_API void hj_msa_options_default(hj_msa_options *o);

/* Train theta (K (D*D + D), updated in place; net->theta is ignored) by extended MSA:
 * each outer iteration sweeps states and co-states at the current theta, then every
 * layer independently takes inner_steps steps on its extended Hamiltonian J_k with the
 * sweeps held fixed. loss_trace (iters + 1, may be NULL) receives the loss at the start
 * of each sweep and the final loss. HJ_ENAN if the loss stops being finite. */
HJ_API hj_status hj_resnet_msa(const hj_resnet *net, double *theta, const hj_pmp_target *tg,
                        const double *x0, size_t n, const hj_msa_options *opt,
                        double *loss_trace, hj_error *err);

/* ==== viscosity = noise: the controlled noisy residual system =============== */

/* dX = alpha dt + sqrt(2 eps) dW, discretised with K steps h = T/K:
 *   x_{k+1} = x_k + h alpha_k + sqrt(2 eps h) xi_k,   xi_k ~ N(0, I_d),
 * running cost h |alpha_k|^2 / 4, terminal cost g(x_K), g(x) = u~_eps(x, tau): the
 * NORMALISED Hopf–Cole solution (hopf.h) of the atoms at time tau (Hopf–Lax at eps = 0).
 * u~ solves d_t u + |grad u|^2 = eps Lap u exactly, so by the semigroup the value of the
 * control problem with horizon T is u~_eps(x, T + tau), the optimal feedback is
 * alpha = -2 grad u~_eps(x, T - t + tau), and the expected cost under it converges to
 * u~_eps(x_0, T + tau) as h -> 0 (weak order 1). At eps = 0 the controlled path is the
 * straight characteristic to the minimising atom and its cost is the Hopf–Lax value for
 * every h (the Euler step is exact on a straight characteristic). */
typedef struct hj_noisy_control {
    hj_atoms atoms;   /* terminal data (view) */
    double tau;       /* > 0 */
    double T;         /* horizon > 0 */
    double eps;       /* noise = viscosity >= 0 */
} hj_noisy_control;

/* One step size of a Monte Carlo run. */
typedef struct hj_mc_level {
    size_t K;           /* steps, h = T/K */
    double mean, se;    /* expected cost: sample mean over paths and its standard error */
    double mean_cv;     /* the same with the zero-mean control variate
                           sum_k sqrt(2 eps h) grad u(x_k) . xi_k subtracted */
    double se_cv;
} hj_mc_level;

/* Validate (atoms, tau > 0, T > 0, eps >= 0, all finite). */
HJ_API hj_status hj_noisy_control_check(const hj_noisy_control *nc, hj_error *err);

/* The exact value u~_eps(x0, T + tau) at x0 (d). */
HJ_API hj_status hj_noisy_control_value(const hj_noisy_control *nc, const double *x0, double *value,
                                 hj_error *err);

/* One controlled path with K steps: xi (K, d) the standard normal increments (may be NULL
 * when eps == 0), X (K+1, d) (may be NULL) the path, *cost the realised cost. */
HJ_API hj_status hj_noisy_control_path(const hj_noisy_control *nc, const double *x0, size_t K,
                                const double *xi, double *X, double *cost, hj_error *err);

/* Monte Carlo over M paths from x0 at the step counts K[0..n_levels): every K[l] must
 * divide Kmax = max K[l]. The levels share their Brownian paths (common random numbers:
 * a coarse increment is the normalised sum of the fine ones), so their differences are
 * resolved far better than each mean. out (n_levels) receives the estimates;
 * reproducible for a given seed. */
HJ_API hj_status hj_noisy_control_mc(const hj_noisy_control *nc, const double *x0, size_t M,
                              const size_t *K, size_t n_levels, uint64_t seed, hj_mc_level *out,
                              hj_error *err);

/* ==== recurrent models ======================================================= */

/* The three recurrent cells; loss L = sum_{k=1..K} |C hid(x_k) - y_{k-1}|^2 on the hidden
 * part of the state after each input (C (n_out, n_hid) is a trained read-out).
 *   ELMAN  x = h (n_hid):  h_{k+1} = tanh(W h_k + U u_k + b)
 *          theta = W (H, H), U (H, n_in), b (H), C (n_out, H)
 *   LSTM   x = (h, c) (2 n_hid): a = Wg [h; u] + bg, gates i, f, o = sigmoid, g = tanh
 *          (rows of Wg in that order: i, f, g, o), c' = f c + i g, h' = o tanh(c')
 *          theta = Wg (4H, H + n_in), bg (4H), C (n_out, H)
 *   SSM    x = h (n_hid): diagonal linear state space, zero-order hold (S4D real):
 *          A_n = -exp(a_n), Delta = exp(log_dt), Abar_n = exp(Delta A_n),
 *          Bbar = diag((Abar_n - 1)/A_n) B, h_{k+1} = Abar h_k + Bbar u_k
 *          theta = a (H), B (H, n_in), C (n_out, H), log_dt (1)
 * Hamiltonian H_k(x, p, theta) = p . F(x, u_k, theta) + l_k(x), l_k(x) = |C hid(x) - y_{k-1}|^2
 * (l_0 = 0; H_K = l_K); co-state p_K = grad l_K(x_K), p_k = grad_x H_k(x_k, p_{k+1}).
 * Shapes: u (K, n_in) inputs, y (K, n_out) targets (row k-1 is the target of x_k),
 * X (K+1, S) states with S = hj_recurrent_state_dim. */
typedef enum hj_rnn_kind { HJ_RNN_ELMAN = 0, HJ_RNN_LSTM, HJ_RNN_SSM } hj_rnn_kind;

typedef struct hj_recurrent {
    hj_rnn_kind kind;
    size_t n_in, n_hid, n_out;
    const double *theta;   /* (hj_recurrent_num_params) */
    int softplus;          /* ELMAN only: 1 = softplus_eps instead of tanh (0, the default: tanh) */
    double eps;            /* its temperature (>= 0; 0 = ReLU) */
} hj_recurrent;

/* "elman", "lstm", "ssm". */
HJ_API const char *hj_rnn_kind_name(hj_rnn_kind kind);
/* Parameter count for the layout above (0 for an unknown kind). */
HJ_API size_t hj_recurrent_num_params(hj_rnn_kind kind, size_t n_in, size_t n_hid, size_t n_out);
/* State dimension S: n_hid, or 2 n_hid for the LSTM. */
HJ_API size_t hj_recurrent_state_dim(const hj_recurrent *m);
/* Validate sizes (all >= 1), kind, finite theta. */
HJ_API hj_status hj_recurrent_check(const hj_recurrent *m, hj_error *err);

/* Forward: X (K+1, S), x_0 = x0 (S) or zeros when x0 == NULL. K may be 0. */
HJ_API hj_status hj_recurrent_forward(const hj_recurrent *m, const double *u, size_t K, const double *x0,
                               double *X, hj_error *err);

/* L = sum_{k=1..K} |C hid(x_k) - y_{k-1}|^2 for states X (K+1, S). */
HJ_API hj_status hj_recurrent_loss(const hj_recurrent *m, const double *X, const double *y, size_t K,
                            double *loss, hj_error *err);

/* H(x, p, theta) = p . F(x, u, theta) + |C hid(x) - y|^2 at one step: p == NULL drops the
 * transition term (u then unused), y == NULL drops the running cost. gx (S) and gtheta
 * (num_params) receive its gradients (each may be NULL; overwritten). Not validated. */
HJ_API double hj_recurrent_hamiltonian(const hj_recurrent *m, const double *x, const double *p,
                                const double *u, const double *y, double *gx, double *gtheta);

/* Loss and gradient by the co-state recursion of the Hamiltonian (BPTT as Pontryagin):
 * P (K+1, S) may be NULL or receive the co-states. */
HJ_API hj_status hj_recurrent_costate_grad(const hj_recurrent *m, const double *u, const double *y,
                                    size_t K, const double *x0, double *loss, double *grad,
                                    double *P, hj_error *err);

/* The same by reverse-mode backprop through time over cached cell activations. */
HJ_API hj_status hj_recurrent_bptt_grad(const hj_recurrent *m, const double *u, const double *y, size_t K,
                                 const double *x0, double *loss, double *grad, hj_error *err);

/* SSM only: the discretised diagonal Abar (n_hid) and Bbar (n_hid, n_in). */
HJ_API hj_status hj_ssm_discretize(const hj_recurrent *m, double *Abar, double *Bbar, hj_error *err);

/* SSM only: the loss-to-go V_k(h) = l_k(h) [k >= 1] + sum_{j > k} l_j(h_j) with h_k = h is
 * exactly quadratic, V_k(h) = h^T P_k h + q_k . h + r_k. The backward recursion
 *   P_K = C^T C, q_K = -2 C^T y_{K-1}, r_K = |y_{K-1}|^2,
 *   P_k = [C^T C] + Abar P_{k+1} Abar,  q_k = [-2 C^T y_{k-1}] + Abar (2 P_{k+1} e_k + q_{k+1}),
 *   r_k = [|y_{k-1}|^2] + e_k^T P_{k+1} e_k + q_{k+1} . e_k + r_{k+1},  e_k = Bbar u_k
 * (bracketed terms only for k >= 1) is the Riccati recursion of this control-free linear-
 * quadratic problem (its Lyapunov form). P (K+1, H, H), q (K+1, H), r (K+1). */
HJ_API hj_status hj_ssm_value_recursion(const hj_recurrent *m, const double *u, const double *y, size_t K,
                                 double *P, double *q, double *r, hj_error *err);

/* V(h) = h^T P h + q . h + r for one time slice P (H, H), q (H); grad (H) may be NULL or
 * receive 2 P h + q (P symmetric). */
HJ_API double hj_ssm_value(const double *P, const double *q, double r, size_t H, const double *h,
                    double *grad);

/* ==== transformer ============================================================== */

/* A small pre-LayerNorm transformer on sequences of T scalars s_t, width D:
 *   x_t = s_t e + pos_t;
 *   per layer l:  x <- x + Attn(Q, K, V),  (Q, K, V) = LN(x) (Wq, Wk, Wv),  eps_att = sqrt(D)
 *                 (hj_attention_forward; keys are atoms, the query the evaluation point);
 *                 x <- x + G(LN(x)),  G(z) = sum_j pi_j(z) v_j,  pi = Gibbs weights of the
 *                 LSE layer (w_j, b_j) at temperature eps_ffn;
 *   prediction yhat_t = r . x_t + r0;  loss = 1/(n T) sum (yhat - y)^2 (mean squared error).
 * Each residual update is an explicit HJ time step of size 1; its co-state is computed by
 * reverse mode. LN has no affine part: LN(x) = (x - mean)/sqrt(var + 1e-5).
 * theta layout: e (D), pos (T, D); per layer Wq, Wk, Wv (D, D), W (M, D), b (M), V (M, D);
 * then r (D), r0 (1). Inputs s (n, T), targets y (n, T). */
typedef struct hj_transformer {
    size_t T;         /* tokens per sequence >= 2 */
    size_t D;         /* width >= 1 */
    size_t M;         /* Gibbs feed-forward slots >= 1 */
    size_t L;         /* layers >= 1 */
    double eps_ffn;   /* feed-forward temperature > 0 */
    const double *theta;
} hj_transformer;

HJ_API size_t hj_transformer_num_params(size_t T, size_t D, size_t M, size_t L);
HJ_API hj_status hj_transformer_check(const hj_transformer *tf, hj_error *err);

/* Mean squared error over the n sequences; grad (num_params) may be NULL. pred (n, T)
 * may be NULL or receive the predictions. */
HJ_API hj_status hj_transformer_loss_grad(const hj_transformer *tf, const double *s, const double *y,
                                   size_t n, double *loss, double *grad, double *pred,
                                   hj_error *err);

/* Per-layer attention entropy: H_att (L) receives the mean over sequences and query tokens
 * of H(softmax row)/log T, in [0, 1] (0 particle-like: one key; 1 wave-like: uniform). */
HJ_API hj_status hj_transformer_entropy(const hj_transformer *tf, const double *s, size_t n,
                                 double *H_att, hj_error *err);

/* ==== the HJ reading of a trained model's own layers ========================== */

/* One row of the table: state equation, Hamiltonian, co-state and source of
 * viscosity of a layer kind of model.h (static strings). */
typedef struct hj_layer_reading {
    hj_layer_kind kind;
    const char *state, *hamiltonian, *costate, *viscosity;
} hj_layer_reading;
/* The row of a kind (NULL for an unknown kind). */
HJ_API const hj_layer_reading *hj_layer_reading_of(hj_layer_kind kind);

/* A trained recurrent layer (rnn, lstm or ssm; model.h) as a controlled system:
 * layer `layer` of m is the hj_recurrent cell above with state x = h (rnn, ssm)
 * or (h, c) (lstm), x_0 = 0, x_{k+1} = F(x_k, u_k, theta), u_k its input at step
 * k = 0..T-1, and outputs o_k = h_k (rnn, lstm) or softplus_eps(C h_k + c) (ssm),
 * k = 1..T. The network above the layer enters through the running-cost gradients
 * g_k = dL/do_k of the mean loss L over the n inputs (hj_model_layer_gradients).
 * The adjoint recursion (backprop sign, as above):
 *     p_T = (do_T/dx_T)^T g_T,
 *     p_k = grad_x H_k(x_k, p_{k+1}) + (do_k/dx_k)^T g_k   (k = T-1 .. 1; k = 0 without g),
 *     H_k = p_{k+1} . F(x_k, u_k, theta)                    (k = 0 .. T-1),
 * and Pontryagin's stationarity: dL/dtheta = sum_{i,k} grad_theta H_k (+ the
 * ssm read-out's own terms), dL/du_k = grad_u H_k. Both are set against the
 * model's reverse mode. */
typedef struct hj_sequence_reading {
    size_t layer;        /* 0-based */
    size_t n, T, S, d;   /* inputs, steps, state dimension, input width per step */
    size_t count;        /* the layer's parameters */
    double loss;         /* mean loss over the n inputs */
    double *X;           /* (n, T+1, S) states x_0 .. x_T (this module's own forward pass) */
    double *P;           /* (n, T+1, S) co-states p_0 .. p_T */
    double *H;           /* (n, T) H_k, k = 0 .. T-1 */
    double *grad;        /* (count) dL/dtheta of the layer from the co-states */
    double *grad_rev;    /* (count) the same by the model's reverse mode */
    double *gin;         /* (n, T, d) dL/du_k from the co-states */
    double *gin_rev;     /* (n, T, d) by reverse mode */
    double *out_rev;     /* (n, T, H) the layer's outputs o_1 .. o_T in the model's forward pass */
    double grad_rel;     /* max |grad - grad_rev| / max |grad_rev| */
    double gin_rel;      /* the same for the input gradients */
    double out_diff;     /* max |o_k from X - o_k of the model|: the two forward passes agree */
    double stationarity; /* |dL/dtheta|_2 of the layer: the stationarity residual (0 at a critical point) */
} hj_sequence_reading;

/* Compute the reading of layer `layer` on x (n, d_in, preprocessed) with targets
 * y (n) as for hj_model_loss_grad. Other layer kinds are refused with a message
 * saying why (attn: its HJ time is depth). Free with hj_sequence_reading_free. */
HJ_API hj_status hj_sequence_reading_compute(const hj_model *m, size_t layer, const double *x,
                                             const double *y, size_t n, hj_sequence_reading *r,
                                             hj_error *err);
HJ_API void hj_sequence_reading_free(hj_sequence_reading *r);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_PMP_H */
