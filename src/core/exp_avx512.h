/* exp_avx512.h — the inline AVX-512 exp of the Gibbs-weight kernels: exp(t) for t <= 0, flushed to 0 below 1e-307.
 *
 * Every Gibbs weight is exp(t) with t = (z - max z)/eps <= 0, and weights
 * under 1e-307 are flushed to 0 (hj__lse_full's rule). The blocked kernels
 * (lse_simd.c) spend most of their time here, so the exp is written out
 * inline instead of calling glibc's libmvec _ZGVeN8v_exp: a call clobbers
 * every vector register (the kernel's accumulators are spilled around it),
 * and libmvec needs a clamp before it and a compare-and-mask after it for
 * the flush. Measured on the development machine (one thread, L1-resident
 * data, summing exps, best of 7, shared machine): 0.31 ns per element
 * against 0.57 ns for libmvec alone and 0.66 ns with its clamp and flush.
 * libmvec stays the library's general-purpose vector exp (vexp.c).
 *
 * Method: t = (k + r/L) L with L = ln2/16, k = round(t/L) by the 1.5 * 2^52
 * shifter, r = t - k L in two FMAs (L split hi + lo), |r| <= L/2 = 0.0217;
 * exp(t) = 2^(k/16) e^r, 2^(k/16) = 2^(k>>4) * 2^((k & 15)/16) from a
 * 16-entry table held in two registers (vpermt2q indexes by the low 4 bits
 * of the shifted value; the exponent k>>4 is added as integer bits, the
 * table entries being pre-biased by -(j << 48) so that adding k << 48 adds
 * exactly (k >> 4) << 52), e^r by its Taylor polynomial to degree 7
 * (truncation r^8/8! <= 1.2e-18). Accuracy: within 1.02 ulp of expl over
 * t in [-706.9, 0] (tests/test_kernels.c, the measured worst case is
 * printed). Lanes with t < HJ_EXP_FLUSH_T (exp(t) < 1e-307), t = -inf or
 * NaN give exactly 0 (NaN: the weight of a NaN logit is dropped, as the
 * clamp of the previous kernels did); the integer exponent arithmetic is
 * only valid for t >= -708, which the flush guarantees. t > 0 is outside
 * the contract.
 */
#ifndef HJDL_EXP_AVX512_H
#define HJDL_EXP_AVX512_H

#include <immintrin.h>
#include <stdint.h>

/* 2^(j/16), j = 0..15, rounded to nearest (computed to 60 digits), as IEEE
 * bits minus j << 48. */
static const int64_t hj__exp_table_bits[16] = {
    0x3ff0000000000000, 0x3fefb5586cf9890f, 0x3fef72b83c7d517b, 0x3fef387a6e756238,
    0x3fef06fe0a31b715, 0x3feedea64c123422, 0x3feebfdad5362a27, 0x3feeab07dd485429,
    0x3feea09e667f3bcd, 0x3feea11473eb0187, 0x3feeace5422aa0db, 0x3feec49182a3f090,
    0x3feee89f995ad3ad, 0x3fef199bdd85529c, 0x3fef5818dcfba487, 0x3fefa4afa2a490da};

/* The table in two registers (load once per loop). */
typedef struct hj__exp_table {
    __m512i lo, hi;
} hj__exp_table;

/* The smallest double t with exp(t) >= 1e-307 (the double nearest
 * log(1e-307) = -706.89362354917202... has an exp just under 1e-307): below
 * it weights are flushed to 0, the portable path's rule exp(t) < 1e-307. */
#define HJ_EXP_FLUSH_T (-706.89362354917193)

__attribute__((target("avx512f"))) static inline hj__exp_table hj__exp_table_load(void)
{
    hj__exp_table T;
    T.lo = _mm512_loadu_si512((const void *)hj__exp_table_bits);
    T.hi = _mm512_loadu_si512((const void *)(hj__exp_table_bits + 8));
    return T;
}

/* 16/ln2, and the shifter 1.5 * 2^52 that rounds to an integer in the low
 * mantissa bits (exp_avx2.h uses it too) */
#define HJ_EXP_AVX512_C 0x1.71547652b82fep+4
#define HJ_EXP_SHIFTER 0x1.8p52

/* The exp given t and y = k + 1.5 * 2^52 with k = t * 16/ln2 rounded to an
 * integer (formed by the two callers below): exp(t) lane-wise for t <= 0,
 * exactly 0 where t < HJ_EXP_FLUSH_T or t is NaN. */
__attribute__((target("avx512f"), always_inline)) static inline __m512d
hj__exp_nonpos_y(__m512d t, __m512d y, hj__exp_table T)
{
    const __m512d k = _mm512_sub_pd(y, _mm512_set1_pd(HJ_EXP_SHIFTER));
    __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(0x1.62e42fefa39efp-5), t); /* ln2/16, hi */
    r = _mm512_fnmadd_pd(k, _mm512_set1_pd(0x1.abc9e3b39803fp-60), r);       /* and lo */
    const __m512i yi = _mm512_castpd_si512(y);
    const __m512i bits = _mm512_add_epi64(_mm512_permutex2var_epi64(T.lo, yi, T.hi),
                                          _mm512_slli_epi64(yi, 48));
    const __m512d scale = _mm512_castsi512_pd(bits); /* 2^(k/16) */
    /* e^r - 1 = r + r^2 (1/2 + r/6 + ... + r^5/7!) */
    __m512d h = _mm512_fmadd_pd(_mm512_set1_pd(1.0 / 5040.0), r, _mm512_set1_pd(1.0 / 720.0));
    h = _mm512_fmadd_pd(h, r, _mm512_set1_pd(1.0 / 120.0));
    h = _mm512_fmadd_pd(h, r, _mm512_set1_pd(1.0 / 24.0));
    h = _mm512_fmadd_pd(h, r, _mm512_set1_pd(1.0 / 6.0));
    h = _mm512_fmadd_pd(h, r, _mm512_set1_pd(0.5));
    const __m512d em1 = _mm512_fmadd_pd(_mm512_mul_pd(r, r), h, r);
    const __mmask8 keep = _mm512_cmp_pd_mask(t, _mm512_set1_pd(HJ_EXP_FLUSH_T), _CMP_GE_OQ);
    return _mm512_maskz_fmadd_pd(keep, scale, em1, scale);
}

/* exp(t) lane-wise for t <= 0; exactly 0 where t < HJ_EXP_FLUSH_T or t is NaN. */
__attribute__((target("avx512f"), always_inline)) static inline __m512d
hj__exp_nonpos(__m512d t, hj__exp_table T)
{
    const __m512d y = _mm512_fmadd_pd(t, _mm512_set1_pd(HJ_EXP_AVX512_C), _mm512_set1_pd(HJ_EXP_SHIFTER));
    return hj__exp_nonpos_y(t, y, T);
}

/* exp(zm s) for zm s <= 0 with vc = s * HJ_EXP_AVX512_C rounded: k rounded
 * from zm vc, off the chain through t = zm s (exp_avx2.h's
 * hj__exp_nonpos_avx2_scaled says why the contract is unchanged). */
__attribute__((target("avx512f"), always_inline)) static inline __m512d
hj__exp_nonpos_scaled(__m512d zm, __m512d s, __m512d vc, hj__exp_table T)
{
    const __m512d y = _mm512_fmadd_pd(zm, vc, _mm512_set1_pd(HJ_EXP_SHIFTER));
    return hj__exp_nonpos_y(_mm512_mul_pd(zm, s), y, T);
}

#endif /* HJDL_EXP_AVX512_H */
