/* lse_kernels.h — the body of the blocked LSE kernels, written once over simd_vec.h and compiled once per kernel set (included by lse_simd.c).
 *
 * Why one body over a vector abstraction, and not GCC's target_clones: the
 * kernels are register-blocked by hand (2 V_LP logit accumulators and V_LP
 * running maxima live in registers, the exp is inlined so that no call
 * clobbers them), and the block shape has to change with the register file
 * (32 vector registers with AVX-512, 16 with AVX2) while the exp is
 * hand-written per set (exp_avx512.h's table lookup needs vpermt2q, which
 * AVX2 lacks). Multiversioning would compile one C loop for several targets
 * and leave both decisions to the auto-vectoriser, which does neither. The
 * blocking, packing, streaming and reduction logic below is the same text
 * for both sets; only simd_vec.h's few definitions differ.
 *
 * See lse_simd.c for the algorithm (logits and maxima in registers, one exp
 * pass per point, the outputs while the row is in L1). Every per-point
 * number comes from the same instruction sequence whatever block or thread
 * the point is in.
 */

/* Logits of the block into Z (HJ_BLK_P, Np) and each point's largest into
 * m (HJ_BLK_P); xT (d, HJ_BLK_P). V_LP points at a time, 2 vectors of
 * neurons per step: each wT vector is loaded once for the V_LP points, each
 * x_ik broadcast once for 2 VW neurons; the maxima ride along in V_LP more
 * registers, so the rows are not read again for them. */
V_TARGET static void V_NAME(block_logits)(const hj__packed_layer *pk, const double *xT, double *Z,
                                          double *m)
{
    const size_t d = pk->d, Np = pk->Np;
    const double *wT = pk->wT, *bT = pk->bT;
    for (size_t p0 = 0; p0 < HJ_BLK_P; p0 += V_LP) {
        double *Zp = Z + p0 * Np;
#define DECL_MAX(p) V mx##p = V_SET1(-INFINITY);
        V_REP(DECL_MAX)
        size_t j = 0;
        for (; j + 2 * VW <= Np; j += 2 * VW) {
            const V b0 = V_LOAD(bT + j), b1 = V_LOAD(bT + j + VW);
#define DECL_ACC2(p) V a##p##0 = b0, a##p##1 = b1;
            V_REP(DECL_ACC2)
            const double *wk = wT + j, *xk = xT + p0;
            for (size_t k = 0; k < d; k++, wk += Np, xk += HJ_BLK_P) {
                const V w0 = V_LOAD(wk), w1 = V_LOAD(wk + VW);
#define STEP2(p)                                                                                  \
    {                                                                                             \
        const V xv = V_SET1(xk[p]);                                                               \
        a##p##0 = V_FMA(w0, xv, a##p##0);                                                         \
        a##p##1 = V_FMA(w1, xv, a##p##1);                                                         \
    }
                V_REP(STEP2)
            }
#define STORE2(p)                                                                                 \
    V_STORE(Zp + (p) * Np + j, a##p##0);                                                          \
    V_STORE(Zp + (p) * Np + j + VW, a##p##1);                                                     \
    mx##p = V_MAX(mx##p, V_MAX(a##p##0, a##p##1));
            V_REP(STORE2)
        }
        for (; j < Np; j += VW) { /* one vector of neurons left */
            const V b0 = V_LOAD(bT + j);
#define DECL_ACC1(p) V a##p##0 = b0;
            V_REP(DECL_ACC1)
            const double *wk = wT + j, *xk = xT + p0;
            for (size_t k = 0; k < d; k++, wk += Np, xk += HJ_BLK_P) {
                const V w0 = V_LOAD(wk);
#define STEP1(p) a##p##0 = V_FMA(w0, V_SET1(xk[p]), a##p##0);
                V_REP(STEP1)
            }
#define STORE1(p)                                                                                 \
    V_STORE(Zp + (p) * Np + j, a##p##0);                                                          \
    mx##p = V_MAX(mx##p, a##p##0);
            V_REP(STORE1)
        }
#define REDUCE_MAX(p) m[p0 + (p)] = V_RMAX(mx##p);
        V_REP(REDUCE_MAX)
    }
}

/* One vector v of the pending row pr (NULL: none) streamed out. */
V_TARGET static inline __attribute__((always_inline)) void
V_NAME(pending_store)(const pending_row *pr, size_t v, V vinv)
{
    if (pr != NULL && v < pr->ns)
        V_STREAM(pr->dst + v * VW, V_MUL(V_LOADU(pr->src + v * VW), vinv));
}

/* row_exp's loop with t = (z - m) * scale (mul) or (z - m) / scale; one
 * vector of the pending row pr (NULL: none) goes out with every vector of
 * exps (pr->ns <= Np / VW, so it is done by the end). mul and pr == NULL
 * are constants at every call, so each variant compiles without the tests. */
V_TARGET static inline __attribute__((always_inline)) double
V_NAME(row_exp_loop)(double *z, size_t Np, double m, double scale, int mul, const pending_row *pr)
{
    const V vm = V_SET1(m), vs = V_SET1(scale), vc = V_SET1(scale * V_EXP_C);
    const V vinv = V_SET1(pr ? pr->inv : 0.0);
    V_EXP_SETUP;
    /* exp((z - m) * scale) when mul (vc = scale V_EXP_C), else exp((z - m) / scale) */
#define SHIFTED_EXP(at)                                                                           \
    (mul ? V_EXP_SCALED(V_SUB(V_LOAD(at), vm), vs, vc) : V_EXP(V_DIV(V_SUB(V_LOAD(at), vm), vs)))
    V a0 = V_ZERO(), a1 = a0;
    size_t j = 0;
#if V_EXP_PAIRS /* two vectors per iteration into two accumulators */
    for (; j + 2 * VW <= Np; j += 2 * VW) {
        const V e0 = SHIFTED_EXP(z + j);
        const V e1 = SHIFTED_EXP(z + j + VW);
        V_STORE(z + j, e0);
        V_STORE(z + j + VW, e1);
        a0 = V_ADD(a0, e0);
        a1 = V_ADD(a1, e1);
        V_NAME(pending_store)(pr, j / VW, vinv);
        V_NAME(pending_store)(pr, j / VW + 1, vinv);
    }
#endif
    for (; j < Np; j += VW) {
        const V e0 = SHIFTED_EXP(z + j);
        V_STORE(z + j, e0);
        a0 = V_ADD(a0, e0);
        V_NAME(pending_store)(pr, j / VW, vinv);
    }
#undef SHIFTED_EXP
    return V_RADD(V_ADD(a0, a1));
}

/* Row z (Np) -> e = exp((z - m)/eps) in place (flushed); returns sum e. One
 * pass (the row may live in L2 for large N), two vectors per iteration into
 * two accumulators. Multiplies by inv_eps when it is set. Streams out the
 * pending row pr meanwhile. */
V_TARGET static double V_NAME(row_exp)(double *z, size_t Np, double m, double eps, double inv_eps,
                                       const pending_row *pr)
{
    if (pr->ns == 0)
        return inv_eps != 0.0 ? V_NAME(row_exp_loop)(z, Np, m, inv_eps, 1, NULL)
                              : V_NAME(row_exp_loop)(z, Np, m, eps, 0, NULL);
    return inv_eps != 0.0 ? V_NAME(row_exp_loop)(z, Np, m, inv_eps, 1, pr)
                          : V_NAME(row_exp_loop)(z, Np, m, eps, 0, pr);
}

/* max of z (len, a multiple of HJ_VEC), two accumulators. */
V_TARGET static double V_NAME(segment_max)(const double *z, size_t len)
{
    V m0 = V_LOAD(z), m1 = m0;
    size_t j = VW;
    for (; j + 2 * VW <= len; j += 2 * VW) {
        m0 = V_MAX(m0, V_LOAD(z + j));
        m1 = V_MAX(m1, V_LOAD(z + j + VW));
    }
    for (; j < len; j += VW)
        m0 = V_MAX(m0, V_LOAD(z + j));
    return V_RMAX(V_MAX(m0, m1));
}

/* hj__lse_block for this set (core-impl.h). */
V_TARGET void V_NAME(hj__lse_block)(const hj__packed_layer *pk, const double *xT, double *Z,
                                    double *m, double *s)
{
    const pending_row none = {NULL, NULL, 0, 0.0};
    const size_t nseg = pk->nseg, segp = pk->segp;
    double mrow[HJ_BLK_P];
    V_NAME(block_logits)(pk, xT, Z, mrow);
    for (size_t p = 0; p < HJ_BLK_P; p++)
        for (size_t c = 0; c < nseg; c++) {
            double *z = Z + p * pk->Np + c * segp;
            const double mc = nseg == 1 ? mrow[p] : V_NAME(segment_max)(z, segp);
            m[p * nseg + c] = mc;
            s[p * nseg + c] = V_NAME(row_exp)(z, segp, mc, pk->eps, pk->inv_eps, &none);
        }
}

/* grad (valid, d): grad_ik = (sum_j e_ij w_jk) / s_i, two coordinates and
 * V_LP points at a time. */
V_TARGET static void V_NAME(block_grad)(const hj__packed_layer *pk, const double *Z,
                                        const double *s, size_t valid, double *grad)
{
    const size_t d = pk->d, Np = pk->Np;
    double g[HJ_BLK_P][2];
    for (size_t k = 0; k < d; k += 2) {
        const int two = k + 1 < d;
        const double *w0p = pk->wT + k * Np, *w1p = pk->wT + (two ? k + 1 : k) * Np;
        for (size_t p0 = 0; p0 < HJ_BLK_P; p0 += V_LP) {
            const double *Zp = Z + p0 * Np;
#define DECL_G(p) V g##p##0 = V_ZERO(), g##p##1 = V_ZERO();
            V_REP(DECL_G)
            for (size_t j = 0; j < Np; j += VW) {
                const V w0 = V_LOAD(w0p + j), w1 = V_LOAD(w1p + j);
#define STEP_G(p)                                                                                 \
    {                                                                                             \
        const V e = V_LOAD(Zp + (p) * Np + j);                                                    \
        g##p##0 = V_FMA(e, w0, g##p##0);                                                          \
        g##p##1 = V_FMA(e, w1, g##p##1);                                                          \
    }
                V_REP(STEP_G)
            }
#define RED_G(p)                                                                                  \
    g[p0 + (p)][0] = V_RADD(g##p##0);                                                             \
    g[p0 + (p)][1] = V_RADD(g##p##1);
            V_REP(RED_G)
        }
        for (size_t p = 0; p < valid; p++) {
            const double inv = 1.0 / s[p];
            grad[p * d + k] = g[p][0] * inv;
            if (two)
                grad[p * d + k + 1] = g[p][1] * inv;
        }
    }
}

/* out (N) = e (N) * inv by plain stores. */
V_TARGET static void V_NAME(row_scale_store)(const double *e, size_t N, double inv, double *out)
{
    const V vinv = V_SET1(inv);
    size_t j = 0;
    for (; j + VW <= N; j += VW)
        V_STOREU(out + j, V_MUL(V_LOADU(e + j), vinv));
    for (; j < N; j++)
        out[j] = e[j] * inv;
}

V_TARGET static void V_NAME(pending_flush)(const pending_row *pr)
{
    const V vinv = V_SET1(pr->inv);
    for (size_t v = 0; v < pr->ns; v++)
        V_NAME(pending_store)(pr, v, vinv);
}

/* One block of the forward pass: logits and maxima, then per point its exp
 * pass, f and, while the row is still in L1, its pi row (with nt: streamed
 * out during the next row's exps); grad last. f (valid); pi (valid, N) with
 * row stride N, or NULL; grad (valid, d) or NULL. */
V_TARGET static void V_NAME(block_forward)(const hj__packed_layer *pk, const double *xT, double *Z,
                                           double *m, double *s, size_t valid, double *f,
                                           double *pi, double *grad, int nt)
{
    const size_t N = pk->N, Np = pk->Np;
    pending_row pend = {NULL, NULL, 0, 0.0};
    V_NAME(block_logits)(pk, xT, Z, m);
    for (size_t p = 0; p < HJ_BLK_P; p++) {
        double *e = Z + p * Np;
        s[p] = V_NAME(row_exp)(e, Np, m[p], pk->eps, pk->inv_eps, &pend);
        pend.ns = 0;
        if (p >= valid)
            continue;
        f[p] = m[p] + pk->eps * log(s[p]);
        if (pi && nt)
            pend = pending_start(e, N, 1.0 / s[p], pi + p * N, VW);
        else if (pi)
            V_NAME(row_scale_store)(e, N, 1.0 / s[p], pi + p * N);
    }
    V_NAME(pending_flush)(&pend);
    if (grad)
        V_NAME(block_grad)(pk, Z, s, valid, grad);
}

/* hj__block_accumulate for this set (core-impl.h): one pass over Z, each
 * loaded accumulator vector takes the 8 points' terms in point order. */
V_TARGET void V_NAME(hj__block_accumulate)(const double *Z, size_t Np, size_t d, const double *xcT,
                                           const double *c, double *dwT, double *db)
{
    for (size_t j = 0; j < Np; j += VW) {
#define LOAD_E(p) const V e##p = V_LOAD(Z + (p) * Np + j);
        LOAD_E(0) LOAD_E(1) LOAD_E(2) LOAD_E(3) LOAD_E(4) LOAD_E(5) LOAD_E(6) LOAD_E(7)
        V acc = V_LOAD(db + j);
#define FMA_C(p) acc = V_FMA(e##p, V_SET1(c[p]), acc);
        FMA_C(0) FMA_C(1) FMA_C(2) FMA_C(3) FMA_C(4) FMA_C(5) FMA_C(6) FMA_C(7)
        V_STORE(db + j, acc);
        const double *xk = xcT;
        double *r = dwT + j;
        for (size_t k = 0; k < d; k++, xk += HJ_BLK_P, r += Np) {
            V a = V_LOAD(r);
#define FMA_X(p) a = V_FMA(e##p, V_SET1(xk[p]), a);
            FMA_X(0) FMA_X(1) FMA_X(2) FMA_X(3) FMA_X(4) FMA_X(5) FMA_X(6) FMA_X(7)
            V_STORE(r, a);
        }
    }
}

#undef DECL_MAX
#undef DECL_ACC2
#undef STEP2
#undef STORE2
#undef DECL_ACC1
#undef STEP1
#undef STORE1
#undef REDUCE_MAX
#undef DECL_G
#undef STEP_G
#undef RED_G
#undef LOAD_E
#undef FMA_C
#undef FMA_X
