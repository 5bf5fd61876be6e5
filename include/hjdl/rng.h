/* rng.h — a small, explicit-state pseudo-random generator (xoshiro256**),
 * seeded by splitmix64. No hidden global state: every caller owns its
 * hj_rng, so results are reproducible for a given seed. */
#ifndef HJDL_RNG_H
#define HJDL_RNG_H

#include "hjdl/export.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hj_rng {
    uint64_t s[4];
} hj_rng;

HJ_API void hj_rng_seed(hj_rng *r, uint64_t seed);
HJ_API uint64_t hj_rng_next(hj_rng *r);
/* Uniform on [0, 1) with 53 random bits. */
HJ_API double hj_rng_uniform(hj_rng *r);
/* Uniform on [lo, hi). */
HJ_API double hj_rng_range(hj_rng *r, double lo, double hi);
/* Standard normal (Box–Muller, one value per call). */
HJ_API double hj_rng_normal(hj_rng *r);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_RNG_H */
