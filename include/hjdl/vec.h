/* vec.h — the small vector helpers every module uses: dot product, norms,
 * distances, arg-max. Inline, so the operations (and their rounding) are
 * the same in every caller: sums run in index order, one product per term.
 *
 * Shapes: a, b, v (n).
 */
#ifndef HJDL_VEC_H
#define HJDL_VEC_H

#include <math.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* sum_i a_i b_i. */
static inline double hj_vec_dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* |v|_2. */
static inline double hj_vec_norm(const double *v, size_t n)
{
    return sqrt(hj_vec_dot(v, v, n));
}

/* |a - b|_2^2. */
static inline double hj_vec_sqdist(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double t = a[i] - b[i];
        s += t * t;
    }
    return s;
}

/* |a - b|_2. */
static inline double hj_vec_dist(const double *a, const double *b, size_t n)
{
    return sqrt(hj_vec_sqdist(a, b, n));
}

/* Index of the largest of v (n >= 1), the lowest index on ties. */
static inline size_t hj_vec_argmax(const double *v, size_t n)
{
    size_t k = 0;
    for (size_t c = 1; c < n; c++)
        if (v[c] > v[k])
            k = c;
    return k;
}

#ifdef __cplusplus
}
#endif

#endif /* HJDL_VEC_H */
