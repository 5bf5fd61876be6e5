/* seq_rnn.c — the rnn and lstm sequence layers: forward over the T steps batched over the n
 * sequences, exact backprop through time, initialisation. Cells and layouts in model.h.
 *
 * Both cells are   a_k = R h_k + Win u_k + b,  then a pointwise cell  (k = 0 .. T-1, h_0 = 0)
 * with R rows = H (rnn: R = W, Win = U) or 4H (lstm: R = Wg[:, :H], Win = Wg[:, H:]), so
 *   forward:  A (n T, R) = in (n T, d) Win^T + b   one GEMM for all steps,
 *             then per step A_k += h_k R^T          one GEMM (n, H) x (H, R),
 *             and the cell, pointwise over the n points (OpenMP);
 *   backward: per step, descending, the cell's backward into dA_k (pointwise), then
 *             dh_k = dA_k R                           one GEMM (n, R) x (R, H);
 *             at the end, with every dA_k known:
 *             dR += dA^T Hp, dWin += dA^T in          GEMMs over all n T rows,
 *             db += column sums of dA, din = dA Win   one GEMM (n T, R) x (R, d).
 * Every sum has a fixed order (OpenBLAS splits GEMMs over their output, never over the
 * summed index; the pointwise loops are per element): the bits do not depend on the thread
 * count.
 *
 * Cache layout (the regions are whole-batch blocks, not per-point rows; the cache holds
 * n * cache width doubles, as the contract says):
 *   rnn:   Z (n, T, H) the pre-activations a_k, then Hp (n, T, H), Hp[i][k] = h_k (the state
 *          step k reads; Hp[i][0] = h_0 = 0)                          width T (ROW(H) + H)
 *   lstm:  G (n, T, 4H) the gates after their nonlinearities [i f g o], C (n, T, H) the cell
 *          states c_{k+1}, Hp (n, T, H) as for rnn                   width T (ROW(4H) + 2H)
 * (Z, G and dA with rows ROW(R) apart, see ROW.) dz scratch: dA (n, T, R), then dh (n, H)
 * (and lstm: the carried dL/dc (n, H)), which fits in the cache width since T >= 1.
 *
 * The lstm's sigmoids and tanhs go through the vector exp (hj__exp_inplace), in place in
 * the gate rows: sigmoid(x) = 1/(1 + exp(-x)), tanh(x) = 1 - 2/(exp(2x) + 1) (both exact
 * at the overflow ends: exp = inf gives 0 and 1 or -1, never NaN). The backward recomputes
 * tanh(c) with the same function, so it sees the forward's bits.
 */
#include <math.h>
#include <string.h>

#include "common/linalg.h"
#include "core/kernels.h"
#include "hjdl/lse.h"
#include "model/layers.h"

/* Row stride of the pre-activation and dA rows (R wide): 8 doubles of padding, so that
 * the rows of one step, T rows apart, do not sit a multiple of 4 KiB apart (T R = 28 x 512
 * doubles is 28 x 4 KiB) and fall into a quarter of the cache sets. */
#define ROW(R) ((R) + 8)

/* Threads: the GEMMs run on OpenBLAS's threads; the recurrence's cell loops stay on the
 * calling thread. Each step alternates a GEMM with the cell loop, and an OpenMP region
 * there would wake a second thread pool between two GEMMs: with OpenMP's default wait
 * policy (spin, then sleep) the two pools spin against each other on 2 cores. Measured
 * for lstm:128,last,lse-class:16, batch 128, 2 threads (hjdl_bench --seq-time): 0.138 s
 * per batch with the cell loops in OpenMP regions against 0.036 s without; 0.029 s
 * against 0.034 s with OMP_WAIT_POLICY=PASSIVE. */

/* The start of a forward pass: A (n T, R) = in (n T, d) Win^T + b, Win (R, d) with row
 * stride ldw, and the initial states Hp[i][0] = h_0 = 0 (Hp (n, T, H)). */
static void forward_begin(double *A, double *Hp, const double *in, const double *Win, size_t ldw,
                          const double *b, size_t n, size_t T, size_t d, size_t H, size_t R)
{
    const size_t S = ROW(R);
    for (size_t r = 0; r < n * T; r++)
        memcpy(A + r * S, b, R * sizeof *A);
    hj__gemm(0, 1, n * T, R, d, 1.0, in, d, Win, ldw, 1.0, A, S);
    for (size_t i = 0; i < n; i++)
        memset(Hp + i * T * H, 0, H * sizeof *Hp);
}

/* Step k's recurrent term: A_k (n, R; rows T R apart) += h_k R^T, h_k = Hp[:, k] (rows T H
 * apart), Rm (R, H) with row stride ldr. Nothing at k = 0 (h_0 = 0). */
static void recurrent_step(double *A, const double *Hp, const double *Rm, size_t ldr, size_t n,
                           size_t T, size_t H, size_t R, size_t k)
{
    if (k > 0)
        hj__gemm(0, 1, n, R, H, 1.0, Hp + k * H, T * H, Rm, ldr, 1.0, A + k * ROW(R), T * ROW(R));
}

/* dh (n, H) = dA_k R_m: the state gradient step k sends back to step k - 1. */
static void recurrent_step_backward(double *dh, const double *dA, const double *Rm, size_t ldr,
                                    size_t n, size_t T, size_t H, size_t R, size_t k)
{
    hj__gemm(0, 0, n, H, R, 1.0, dA + k * ROW(R), T * ROW(R), Rm, ldr, 0.0, dh, H);
}

/* The parameter and input gradients from every step's dA (nT, R): dRm (R, H; stride ldr)
 * += dA^T Hp, dWin (R, d; stride ldw) += dA^T in, db (R) += column sums of dA, and
 * din (nT, d) = dA Win when din != NULL. */
static void gate_gradients(double *din, double *dRm, double *dWin, size_t ldr, size_t ldw,
                           double *db, const double *dA, const double *Hp, const double *in,
                           const double *Win, size_t nT, size_t d, size_t H, size_t R)
{
    const size_t S = ROW(R);
    hj__gemm(1, 0, R, H, nT, 1.0, dA, S, Hp, H, 1.0, dRm, ldr);
    hj__gemm(1, 0, R, d, nT, 1.0, dA, S, in, d, 1.0, dWin, ldw);
    hj__add_column_sums(db, dA, nT, R, S);
    if (din)
        hj__gemm(0, 0, nT, d, R, 1.0, dA, S, Win, ldw, 0.0, din, d);
}

/* Hp[i][k + 1] = h_{k+1} (the output row o) for the next step, unless k is the last. */
static void keep_state(double *Hp, const double *o, size_t T, size_t H, size_t i, size_t k)
{
    if (k + 1 < T)
        memcpy(Hp + (i * T + k + 1) * H, o, H * sizeof *Hp);
}

/* ---- rnn:H   h_{k+1} = phi(W h_k + U u_k + b),  P = [W (H, H), U (H, d), b (H)] ----- */

size_t hj__rnn_cache_width(const hj_layer *L) { return L->steps * (ROW(L->width) + L->width); }

static double rnn_phi(double z, int tanh_cell, double eps)
{
    return tanh_cell ? tanh(z) : hj_softplus(z, eps);
}

/* phi'(z); for tanh 1 - tanh(z)^2. */
static double rnn_phi_grad(double z, int tanh_cell, double eps)
{
    if (!tanh_cell)
        return hj_softplus_grad(z, eps);
    const double t = tanh(z);
    return 1.0 - t * t;
}

void hj__rnn_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                     size_t n, double eps)
{
    const size_t T = L->steps, d = L->step_in, H = L->width;
    const double *W = P, *U = P + H * H, *b = U + H * d;
    const int tanh_cell = L->activation == HJ_RNN_TANH;
    double *Z = cache, *Hp = cache + n * T * ROW(H);
    forward_begin(Z, Hp, in, U, d, b, n, T, d, H, H);
    for (size_t k = 0; k < T; k++) {
        recurrent_step(Z, Hp, W, H, n, T, H, H, k);
        for (size_t i = 0; i < n; i++) {
            const double *z = Z + (i * T + k) * ROW(H);
            double *o = out + (i * T + k) * H;
            for (size_t j = 0; j < H; j++)
                o[j] = rnn_phi(z[j], tanh_cell, eps);
            keep_state(Hp, o, T, H, i, k);
        }
    }
}

void hj__rnn_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                      const double *cache, const double *in, const double *P, size_t n, double eps)
{
    const size_t T = L->steps, d = L->step_in, H = L->width;
    const double *W = P, *U = P + H * H;
    const int tanh_cell = L->activation == HJ_RNN_TANH;
    const double *Z = cache, *Hp = cache + n * T * ROW(H);
    double *dZ = dz, *dh = dz + n * T * ROW(H);
    for (size_t k = T; k-- > 0;) {
        for (size_t i = 0; i < n; i++) {
            const size_t r = i * T + k;
            const double *g = dout + r * H, *z = Z + r * ROW(H), *rec = dh + i * H;
            double *dzr = dZ + r * ROW(H);
            for (size_t j = 0; j < H; j++)
                dzr[j] = (g[j] + (k + 1 < T ? rec[j] : 0.0)) * rnn_phi_grad(z[j], tanh_cell, eps);
        }
        if (k > 0)
            recurrent_step_backward(dh, dZ, W, H, n, T, H, H, k);
    }
    gate_gradients(din, dP, dP + H * H, H, d, dP + H * H + H * d, dZ, Hp, in, U, n * T, d, H, H);
}

/* Uniform on +-1/sqrt(H) (PyTorch's nn.RNN default, so the two start from the same
 * distribution), b = 0: keeps W's spectral radius below 1 (about 1/sqrt(3)), so the
 * states neither blow up nor vanish over the first steps of training. */
void hj__rnn_init(const hj_layer *L, double *P, hj_rng *rng)
{
    const size_t H = L->width, nw = H * H + H * L->step_in;
    const double a = 1.0 / sqrt((double)H);
    for (size_t k = 0; k < nw; k++)
        P[k] = hj_rng_range(rng, -a, a);
    memset(P + nw, 0, H * sizeof *P);
}

/* ---- lstm:H   P = [Wg (4H, H + d), bg (4H)], gate rows i, f, g, o ------------------ */

size_t hj__lstm_cache_width(const hj_layer *L) { return L->steps * (ROW(4 * L->width) + 2 * L->width); }

/* One point's cell at one step: a (4H) the pre-activations, overwritten by the gates
 * [i f g o]; cprev (H) c_k or NULL for c_0 = 0; c (H) receives c_{k+1}, h (H) h_{k+1}. */
HJ_WIDE_CLONES static void lstm_cell(double *restrict a, const double *restrict cprev,
                                     double *restrict c, double *restrict h, size_t H)
{
    double *gi = a, *gf = a + H, *gg = a + 2 * H, *go = a + 3 * H;
    HJ_SIMD()
    for (size_t j = 0; j < 2 * H; j++) /* i, f */
        a[j] = -a[j];
    HJ_SIMD()
    for (size_t j = 0; j < H; j++) {
        gg[j] = 2.0 * gg[j];
        go[j] = -go[j];
    }
    hj__exp_inplace(a, 4 * H);
    HJ_SIMD()
    for (size_t j = 0; j < 2 * H; j++)
        a[j] = 1.0 / (1.0 + a[j]);
    HJ_SIMD()
    for (size_t j = 0; j < H; j++) {
        gg[j] = 1.0 - 2.0 / (gg[j] + 1.0);
        go[j] = 1.0 / (1.0 + go[j]);
        c[j] = (cprev ? gf[j] * cprev[j] : 0.0) + gi[j] * gg[j];
        h[j] = 2.0 * c[j];
    }
    hj__exp_inplace(h, H);
    HJ_SIMD()
    for (size_t j = 0; j < H; j++)
        h[j] = go[j] * (1.0 - 2.0 / (h[j] + 1.0));
}

void hj__lstm_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                      size_t n)
{
    const size_t T = L->steps, d = L->step_in, H = L->width, R = 4 * H, ld = H + d;
    double *G = cache, *C = cache + n * T * ROW(R), *Hp = C + n * T * H;
    forward_begin(G, Hp, in, P + H, ld, P + R * ld, n, T, d, H, R);
    for (size_t k = 0; k < T; k++) {
        recurrent_step(G, Hp, P, ld, n, T, H, R, k);
        for (size_t i = 0; i < n; i++) {
            const size_t r = i * T + k;
            double *o = out + r * H;
            lstm_cell(G + r * ROW(R), k > 0 ? C + (r - 1) * H : NULL, C + r * H, o, H);
            keep_state(Hp, o, T, H, i, k);
        }
    }
}

/* One point's cell backward at one step: g (4H) the gates, c (H) c_{k+1}, cprev (H) c_k or
 * NULL, dh (H) dL/dh_{k+1} in total, dc (H) dL/dc_{k+1} through c_{k+2} on entry (ignored
 * when last) and dL/dc_k through c_{k+1} on return; da (4H) receives dL/da. */
HJ_WIDE_CLONES static void lstm_cell_backward(double *restrict da, double *restrict dc,
                                              const double *restrict g, const double *restrict c,
                                              const double *restrict cprev,
                                              const double *restrict dh, int last, size_t H)
{
    double *tc = da + 3 * H; /* tanh(c_{k+1}), as the forward computed it, then da_o */
    for (size_t j = 0; j < H; j++)
        tc[j] = 2.0 * c[j];
    hj__exp_inplace(tc, H);
    const double *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    HJ_SIMD()
    for (size_t j = 0; j < H; j++) {
        const double t = 1.0 - 2.0 / (tc[j] + 1.0);
        const double dcj = (last ? 0.0 : dc[j]) + dh[j] * go[j] * (1.0 - t * t);
        da[j] = dcj * gg[j] * gi[j] * (1.0 - gi[j]);
        da[H + j] = cprev ? dcj * cprev[j] * gf[j] * (1.0 - gf[j]) : 0.0;
        da[2 * H + j] = dcj * gi[j] * (1.0 - gg[j] * gg[j]);
        da[3 * H + j] = dh[j] * t * go[j] * (1.0 - go[j]);
        dc[j] = dcj * gf[j];
    }
}

void hj__lstm_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                       const double *cache, const double *in, const double *P, size_t n)
{
    const size_t T = L->steps, d = L->step_in, H = L->width, R = 4 * H, ld = H + d;
    const double *G = cache, *C = cache + n * T * ROW(R), *Hp = C + n * T * H;
    double *dA = dz, *dh = dz + n * T * ROW(R), *dc = dh + n * H;
    for (size_t k = T; k-- > 0;) {
        const int last = k + 1 == T;
        for (size_t i = 0; i < n; i++) {
            const size_t r = i * T + k;
            double *dhi = dh + i * H;
            const double *g = dout + r * H;
            for (size_t j = 0; j < H; j++) /* dL/dh_{k+1}: the output's and the next step's */
                dhi[j] = last ? g[j] : g[j] + dhi[j];
            lstm_cell_backward(dA + r * ROW(R), dc + i * H, G + r * ROW(R), C + r * H,
                               k > 0 ? C + (r - 1) * H : NULL, dhi, last, H);
        }
        if (k > 0)
            recurrent_step_backward(dh, dA, P, ld, n, T, H, R, k);
    }
    gate_gradients(din, dP, dP + H, ld, ld, dP + R * ld, dA, Hp, in, P + H, n * T, d, H, R);
}

/* Uniform on +-1/sqrt(H) for Wg and bg (PyTorch's nn.LSTM default: the benchmark's peer
 * starts from the same distribution), then the forget-gate bias set to 1 (Gers et al.;
 * Jozefowicz et al. 2015): f starts near sigmoid(1) = 0.73 instead of 0.5, so the cell
 * keeps its memory and gradients reach the early steps of a 28-step sequence. */
void hj__lstm_init(const hj_layer *L, double *P, hj_rng *rng)
{
    const size_t H = L->width, R = 4 * H, nw = R * (H + L->step_in);
    const double a = 1.0 / sqrt((double)H);
    for (size_t k = 0; k < nw + R; k++)
        P[k] = hj_rng_range(rng, -a, a);
    for (size_t j = 0; j < H; j++)
        P[nw + H + j] = 1.0;
}
