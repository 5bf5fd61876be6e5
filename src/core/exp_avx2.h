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
 * table (degree 13); worst error 0.98 ulp over 4 million random t. The
 * flush guarantees t >= -706.9, where the exponent arithmetic is valid.
 */
#ifndef HJDL_EXP_AVX2_H
#define HJDL_EXP_AVX2_H

#include <immintrin.h>

#include "core/exp_avx512.h" /* HJ_EXP_FLUSH_T */

/* exp(t) lane-wise for t <= 0; exactly 0 where t < HJ_EXP_FLUSH_T or t is NaN. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256d
hj__exp_nonpos_avx2(__m256d t)
{
    /* 2^(j/8), j = 0..7, rounded to nearest (computed to 60 digits), as IEEE
     * bits minus j << 49: the high and the low 32 bits */
    const __m256i thi = _mm256_setr_epi32(0x3ff00000, 0x3fef72b8, 0x3fef06fe, 0x3feebfda,
                                          0x3feea09e, 0x3feeace5, 0x3feee89f, 0x3fef5818);
    const __m256i tlo = _mm256_setr_epi32(0x0, 0x3c7d517b, 0x0a31b715, (int)0xd5362a27,
                                          0x667f3bcd, 0x422aa0db, (int)0x995ad3ad,
                                          (int)0xdcfba487);
    const __m256d shifter = _mm256_set1_pd(0x1.8p52);
    const __m256d y = _mm256_fmadd_pd(t, _mm256_set1_pd(0x1.71547652b82fep+3), shifter); /* 8/ln2 */
    const __m256d k = _mm256_sub_pd(y, shifter);
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

#endif /* HJDL_EXP_AVX2_H */
