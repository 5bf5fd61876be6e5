/* robust-impl.h — helpers shared by the robustness module's files (not installed). */
#ifndef HJDL_ROBUST_IMPL_H
#define HJDL_ROBUST_IMPL_H

#include <stddef.h>

#include "hjdl/model.h"
#include "hjdl/robust.h"

/* Map a gradient with respect to the preprocessed input, g (d_out), to the
 * raw input space, graw (d_raw) = A^T g for x' = A (x - mean): identity,
 * g / scale (standardise), or P^T (g / scale) (PCA). */
void hj__robust_grad_to_raw(const hj_preprocess *p, const double *g, double *graw);

/* Per-coordinate scale s (d_out) such that |A^T u| = |u / s| for every u:
 * 1 (none), the standardisation scale, or the PCA scale (orthonormal
 * components). s (d_out). */
void hj__robust_pre_scale(const hj_preprocess *p, double *s);

#endif /* HJDL_ROBUST_IMPL_H */
