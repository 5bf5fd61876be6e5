/* landscape_generator.c — the two-cluster test configuration of atoms used by the landscape tests and experiments. */
#include "hjdl/landscape.h"

#include <stdint.h>

#include "hjdl/rng.h"

void hj_landscape_two_clusters(size_t n, double spread, uint64_t seed, double *y, double *g)
{
    hj_rng r;
    hj_rng_seed(&r, seed);
    for (size_t j = 0; j < 2 * n; j++) {
        const double c = j < n ? -1.0 : 1.0;
        y[2 * j] = c + spread * hj_rng_normal(&r);
        y[2 * j + 1] = c + spread * hj_rng_normal(&r);
        g[j] = j < n ? 0.0 : 1.0;
    }
}
