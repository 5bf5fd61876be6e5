/* pde-impl.h — internals shared by the PDE cross-check solvers (not installed). */
#ifndef HJDL_PDE_IMPL_H
#define HJDL_PDE_IMPL_H

#include <stddef.h>

#include "hjdl/pde.h"
#include "hjdl/status.h"

#define HJ_PDE_PI 3.14159265358979323846

/* Spacing h_k = (hi[k] - lo[k]) / (n[k] - 1) of axis k of a checked grid. */
double hj__pde_spacing(const hj_grid *G, size_t axis);

/* Coordinate of index i on axis k: lo + i*h, and exactly hi for the last
 * node so that every node lies inside the closed box. */
double hj__pde_coord(const hj_grid *G, size_t axis, size_t i);

/* Trapezoid weight of node idx (product of the 1-D weights h_k, halved at
 * the two ends of each axis). Their sum is the box volume. */
double hj__pde_trap_weight(const hj_grid *G, size_t idx);

/* Validate grid `what` ("grid G", "quadrature grid Q") with a message that
 * names it. */
hj_status hj__pde_check_grid(const hj_grid *G, const char *what, hj_error *err);

/* Evaluate fn at every node of G into vals (hj_grid_size(G)); HJ_ENAN with
 * the node and its coordinates when a value is not finite. `what` names the
 * function in the message ("g0", "phi"). */
hj_status hj__pde_sample(const hj_grid *G, hj_scalar_fn fn, void *ctx,
                         const char *what, double *vals, hj_error *err);

/* Validate query points x (n, d): non-NULL, n >= 1, all finite. */
hj_status hj__pde_check_points(const double *x, size_t n, size_t d, hj_error *err);

#endif /* HJDL_PDE_IMPL_H */
