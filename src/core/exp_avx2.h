/* exp_avx2.h — the inline AVX2 + FMA exp of the Gibbs-weight kernels: exp(t) for t <= 0, flushed to 0 below 1e-307.
 *
 * The same contract as exp_avx512.h (read it first): exp(t) for t <= 0,
 * within 1.02 ulp of expl over [HJ_EXP_FLUSH_T, 0] (tests/test_kernels.c
 * measures and prints the worst case), exactly 0 for t < HJ_EXP_FLUSH_T,
 * t = -inf and NaN; t > 0 is outside the contract.
 *
 * Method: t = (k + r/L) L with L = ln2/8, k = round(t/L) by the 1.5 * 2^52
 * shifter, r = t - k L in two FMAs (L split hi + lo), |r| <= L/2 = 0.0433;
 * exp(t) = 2^(k>>3) 2^((k & 7)/8) e^r. AVX2 has no two-register 64-bit
 * permute (exp_avx512.h's vpermt2q) and a gather is slow on many AVX2 CPUs,
 * so the 8-entry table of 2^(j/8) is held as two registers of 32-bit
 * halves: vpermd, which reads only the low 3 bits of each 32-bit index, picks
 * both halves of entry k & 7 straight from the low word of the shifted
 * value (no index arithmetic), and one shift and one blend join them. As in
 * exp_avx512.h the entries are pre-biased by -(j << 49) so that adding
 * k << 49 adds exactly (k >> 3) << 52. e^r by its Taylor polynomial to
 * degree 8 (truncation r^9/9! <= 1.5e-18). Measured on the development
 * machine (one thread, L1-resident data): 0.63 ns per element, against
 * 0.84 ns for a 4-entry table with hi + lo entries and 0.94 ns without a
 * table (degree 13); worst error 0.98 ulp over 4 million random t. On the
 * AMD EPYC (Zen 5) machine of 2026-12: 0.57 ns per element against 0.29 ns
 * for exp_avx512.h; that CPU sustains the same vector instructions per cycle
 * at both widths (about 2.5 in this code), and this exp is about 20 of them
 * per 4 lanes, so it costs twice as much per element there (a 64-entry table
 * by gather with one degree less measured 5 % slower; docs/performance.md). The
 * flush guarantees t >= -706.9, where the exponent arithmetic is valid.
 */
#ifndef HJDL_EXP_AVX2_H
#define HJDL_EXP_AVX2_H

#include <immintrin.h>

#include "core/exp_avx512.h" /* HJ_EXP_FLUSH_T */

/* The exp given t and y = k + 1.5 * 2^52 with k = t * 8/ln2 rounded to an
 * integer (how y is formed is the callers' business; see the two below):
 * exp(t) lane-wise for t <= 0, exactly 0 where t < HJ_EXP_FLUSH_T or t is
 * NaN. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256d
hj__exp_nonpos_avx2_y(__m256d t, __m256d y)
{
    /* 2^(j/8), j = 0..7, rounded to nearest (computed to 60 digits), as IEEE
     * bits minus j << 49: the high and the low 32 bits */
    const __m256i thi = _mm256_setr_epi32(0x3ff00000, 0x3fef72b8, 0x3fef06fe, 0x3feebfda,
                                          0x3feea09e, 0x3feeace5, 0x3feee89f, 0x3fef5818);
    const __m256i tlo = _mm256_setr_epi32(0x0, 0x3c7d517b, 0x0a31b715, (int)0xd5362a27,
                                          0x667f3bcd, 0x422aa0db, (int)0x995ad3ad,
                                          (int)0xdcfba487);
    const __m256d k = _mm256_sub_pd(y, _mm256_set1_pd(HJ_EXP_SHIFTER));
    __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(0x1.62e42fefa39efp-4), t); /* ln2/8, hi */
    r = _mm256_fnmadd_pd(k, _mm256_set1_pd(0x1.abc9e3b39803fp-59), r);       /* and lo */
    const __m256i yi = _mm256_castpd_si256(y);
    const __m256i hi = _mm256_permutevar8x32_epi32(thi, yi), lo = _mm256_permutevar8x32_epi32(tlo, yi);
    const __m256i entry = _mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0xAA);
    const __m256d scale = _mm256_castsi256_pd(_mm256_add_epi64(entry, _mm256_slli_epi64(yi, 49)));
    /* e^r - 1 = r + r^2 (1/2 + r/6 + ... + r^6/8!) */
    __m256d h = _mm256_fmadd_pd(_mm256_set1_pd(1.0 / 40320.0), r, _mm256_set1_pd(1.0 / 5040.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 720.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 120.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 24.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(1.0 / 6.0));
    h = _mm256_fmadd_pd(h, r, _mm256_set1_pd(0.5));
    const __m256d em1 = _mm256_fmadd_pd(_mm256_mul_pd(r, r), h, r);
    const __m256d keep = _mm256_cmp_pd(t, _mm256_set1_pd(HJ_EXP_FLUSH_T), _CMP_GE_OQ);
    return _mm256_and_pd(keep, _mm256_fmadd_pd(scale, em1, scale));
}

/* 8/ln2 (the shifter, HJ_EXP_SHIFTER, is exp_avx512.h's) */
#define HJ_EXP_AVX2_C 0x1.71547652b82fep+3

/* exp(t) lane-wise for t <= 0; exactly 0 where t < HJ_EXP_FLUSH_T or t is NaN. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256d
hj__exp_nonpos_avx2(__m256d t)
{
    const __m256d y = _mm256_fmadd_pd(t, _mm256_set1_pd(HJ_EXP_AVX2_C), _mm256_set1_pd(HJ_EXP_SHIFTER));
    return hj__exp_nonpos_avx2_y(t, y);
}

/* exp(zm s) for zm s <= 0, vc = s * HJ_EXP_AVX2_C rounded (the Gibbs
 * weights, zm = z - max z, s = 1/eps): k is rounded from zm vc, so it does
 * not wait for t = zm s (one multiply less on the longest dependency chain;
 * measured 7 % faster on the development machine). k may then differ by
 * one from round(t 8/ln2) where t * 8/ln2 is within about 2e-12 of a
 * half-integer: |r| stays within L/2 (1 + 4e-12), where the polynomial's
 * bound is unchanged, and r = t - k L is formed from t itself, so the
 * accuracy contract is the same. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256d
hj__exp_nonpos_avx2_scaled(__m256d zm, __m256d s, __m256d vc)
{
    const __m256d y = _mm256_fmadd_pd(zm, vc, _mm256_set1_pd(HJ_EXP_SHIFTER));
    return hj__exp_nonpos_avx2_y(_mm256_mul_pd(zm, s), y);
}

#endif /* HJDL_EXP_AVX2_H */
