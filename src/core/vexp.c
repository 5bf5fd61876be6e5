/* vexp.c — exp over an array: glibc's vector math library (libmvec, AVX2) when present, libm otherwise.
 *
 * The n N exponentials of the Gibbs weights dominate every LSE kernel.
 * glibc's scalar exp does not vectorise without -ffast-math, which this
 * project never enables; libmvec's _ZGVdN4v_exp is glibc's own 4-wide AVX2
 * exp (documented accuracy within 4 ulp, special values handled), about
 * twice as fast here. It is called explicitly, only when the CPU has AVX2.
 */
#include <math.h>
#include <stddef.h>

#include "core/core-impl.h"

#if defined(HJDL_HAVE_MVEC) && defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__m256d _ZGVdN4v_exp(__m256d x);

__attribute__((target("avx2"))) static void exp_avx2(double *v, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(v + i, _ZGVdN4v_exp(_mm256_loadu_pd(v + i)));
    if (i < n) {
        /* the tail goes through the same vector function (padded), so equal
         * inputs always give bit-equal outputs wherever they sit */
        double pad[4] = {0.0, 0.0, 0.0, 0.0};
        for (size_t k = 0; i + k < n; k++)
            pad[k] = v[i + k];
        _mm256_storeu_pd(pad, _ZGVdN4v_exp(_mm256_loadu_pd(pad)));
        for (size_t k = 0; i + k < n; k++)
            v[i + k] = pad[k];
    }
}

void hj__exp_inplace(double *v, size_t n)
{
    if (__builtin_cpu_supports("avx2")) {
        exp_avx2(v, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = exp(v[i]);
}
#else
void hj__exp_inplace(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = exp(v[i]);
}
#endif
