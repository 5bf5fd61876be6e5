/* fma_loop.h — the roofline's FMA-rate loop, written once over simd_vec.h and compiled once per kernel set (included by roofline.c).
 *
 * HJ_FMA_CHAINS independent chains a = a h + h (h = 0.5: each converges to
 * 1, no overflow or subnormal), named variables so that they stay in
 * registers, iters steps each; returns the sum of the chains' lanes.
 */
#define HJ_FMA_CHAINS 12
#define FMA_REP(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

V_TARGET static double V_NAME(fma_loop)(size_t iters)
{
    const V h = V_SET1(0.5);
#define FMA_DECL(c) V a##c = V_SET1((double)(c));
    FMA_REP(FMA_DECL)
    for (size_t it = 0; it < iters; it++) {
#define FMA_STEP(c) a##c = V_FMA(a##c, h, h);
        FMA_REP(FMA_STEP)
    }
    double sum = 0.0;
#define FMA_SUM(c) sum += V_RADD(a##c);
    FMA_REP(FMA_SUM)
    return sum;
}

#undef FMA_REP
#undef FMA_DECL
#undef FMA_STEP
#undef FMA_SUM
