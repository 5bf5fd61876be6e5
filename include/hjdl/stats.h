/* stats.h — the small statistics experiments report: means, spreads, fitted slopes. */
#ifndef HJDL_STATS_H
#define HJDL_STATS_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean and sample standard deviation (n - 1; 0 when n == 1) of v (n). */
HJ_API void hj_mean_sd(const double *v, size_t n, double *mean, double *sd);

/* Ordinary least squares y = a + b x over n >= 3 points: slope b, intercept
 * a and the standard error of the slope (from the residual variance,
 * n - 2 degrees of freedom). HJ_EINVAL for n < 3 or constant x. */
HJ_API hj_status hj_fit_line(const double *x, const double *y, size_t n, double *slope,
                      double *intercept, double *slope_se, hj_error *err);

/* The same on log(x), log(y): the exponent of a power law y ~ x^b.
 * Non-positive values are refused (HJ_EDOM). */
HJ_API hj_status hj_fit_power_law(const double *x, const double *y, size_t n, double *exponent,
                           double *log_prefactor, double *exponent_se, hj_error *err);

/* Spearman rank correlation of a (n) and b (n) with average ranks for ties. */
HJ_API hj_status hj_spearman(const double *a, const double *b, size_t n, double *rho, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_STATS_H */
