/* rng.c — xoshiro256** with splitmix64 seeding (public-domain algorithms by Blackman & Vigna). */
#include "hjdl/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void hj_rng_seed(hj_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int k = 0; k < 4; k++)
        r->s[k] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t hj_rng_next(hj_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hj_rng_uniform(hj_rng *r) { return (double)(hj_rng_next(r) >> 11) * 0x1.0p-53; }

double hj_rng_range(hj_rng *r, double lo, double hi) { return lo + (hi - lo) * hj_rng_uniform(r); }

double hj_rng_normal(hj_rng *r)
{
    double u1 = hj_rng_uniform(r), u2 = hj_rng_uniform(r);
    if (u1 <= 0.0)
        u1 = 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}
