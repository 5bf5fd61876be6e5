/* certify.c — certified l2 radii of single-readout lse-class classifiers from margin, gradient and curvature bounds.
 *
 * Shapes: C classes of W neurons each, NT = C W; w (NT, d) readout weights
 * (d = d_in, the preprocessed width), wt (NT, d) = w / scale (the weights'
 * raw-space norms, see robust.h), kappa (C) curvature bounds of the class
 * scores, Lip (C, C) Lipschitz bounds of the pairwise margins; per point
 * z (NT) logits -> Gibbs weights, F (C) class scores, gr (C, d) raw-space
 * class-score gradients (in the wt coordinates).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/lse.h"
#include "hjdl/robust.h"
#include "hjdl/vec.h"
#include "robust/robust-impl.h"

/* The radius of one competitor: the s where int_0^s min(G + kappa t, Lip) dt = mm. */
static double pair_radius(double mm, double G, double kappa, double Lip)
{
    if (!(mm > 0.0))
        return 0.0;
    if (Lip <= 0.0)
        return INFINITY; /* both classes have one and the same weight vector: m_c is constant */
    if (G >= Lip || !isfinite(kappa))
        return mm / Lip;
    if (kappa <= 0.0)
        return G > 0.0 ? mm / G : INFINITY; /* F_c affine, F_y convex: m_c >= m_c(x) - G s */
    const double s1 = (Lip - G) / kappa, phi1 = G * s1 + 0.5 * kappa * s1 * s1;
    if (mm <= phi1)
        return 2.0 * mm / (G + sqrt(G * G + 2.0 * kappa * mm));
    return s1 + (mm - phi1) / Lip;
}

hj_status hj_certify(const hj_model *m, const double *x_raw, size_t n, hj_certificate *out,
                     hj_error *err)
{
    if (m == NULL || m->params == NULL)
        return hj_error_set(err, HJ_EINVAL, "certify: NULL model");
    if (n > 0 && (x_raw == NULL || out == NULL))
        return hj_error_set(err, HJ_EINVAL, "certify: NULL points or output");
    const hj_arch *A = &m->arch;
    const hj_layer *R = &A->layers[A->n_layers - 1];
    if (A->n_classes < 2 || R->kind != HJ_LAYER_LSE_CLASS)
        return hj_error_set(err, HJ_EINVAL, "certify: certified radii are defined for classifiers "
                                            "(an lse-class readout); this model is a regression model");
    if (A->n_layers != 1) {
        char arch[256];
        hj_arch_format(A, arch, sizeof arch);
        return hj_error_set(err, HJ_EINVAL,
                            "certify: the model (%s) has hidden layers; a sound radius needs a global "
                            "curvature bound of the whole stack, which hjdl does not derive: only "
                            "single-readout lse-class:N models are certified", arch);
    }
    if (!(m->eps >= 0.0) || !isfinite(m->eps))
        return hj_error_set(err, HJ_EINVAL, "certify: eps = %g must be finite and >= 0", m->eps);
    const size_t C = A->n_classes, W = R->width, d = R->in, NT = C * W;
    if (m->pre.d_out != d)
        return hj_error_set(err, HJ_ESHAPE, "certify: preprocessing gives %zu features, the readout takes %zu",
                            m->pre.d_out, d);
    const double *w = m->params + R->offset, *b = w + NT * d, eps = m->eps;
    const double up = 1.0 + HJ_ROBUST_ROUNDING;
    size_t nmem = NT * d + d + C + C * C + NT + C + C * d + (n ? n * d : 0);
    double *mem = malloc(nmem * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "certify: cannot allocate %zu doubles", nmem);
    double *wt = mem, *s = wt + NT * d, *kappa = s + d, *Lip = kappa + C, *z = Lip + C * C;
    double *F = z + NT, *gr = F + C, *xp = gr + C * d;
    hj_status st = HJ_OK;
    hj__robust_pre_scale(&m->pre, s);
    for (size_t j = 0; j < NT; j++)
        for (size_t k = 0; k < d; k++)
            wt[j * d + k] = w[j * d + k] / s[k];
    /* curvature of each class score, valid everywhere: min(R_MEB^2, D^2/4)/eps */
    for (size_t c = 0; c < C && st == HJ_OK; c++) {
        double r, D = hj_point_diameter(wt + c * W * d, W, d);
        st = hj_meb(wt + c * W * d, W, d, 1e-9, NULL, &r, NULL, err);
        kappa[c] = eps > 0.0 ? up * fmin(r * r, 0.25 * D * D) / eps : INFINITY;
    }
    /* Lipschitz constant of F_y - F_c: max |wt_j - wt_k| over j in y, k in c */
    for (size_t y = 0; y < C && st == HJ_OK; y++)
        for (size_t c = y; c < C; c++) {
            double best = 0.0;
            for (size_t j = y * W; j < (y + 1) * W; j++)
                for (size_t k = c * W; k < (c + 1) * W; k++) {
                    double t = 0.0;
                    for (size_t q = 0; q < d; q++) {
                        double u = wt[j * d + q] - wt[k * d + q];
                        t += u * u;
                    }
                    best = t > best ? t : best;
                }
            Lip[y * C + c] = Lip[c * C + y] = up * sqrt(best);
        }
    if (st == HJ_OK && n > 0)
        st = hj_preprocess_apply(&m->pre, x_raw, n, xp, err);
    for (size_t i = 0; i < n && st == HJ_OK; i++) {
        const double *xi = xp + i * d;
        for (size_t k = 0; k < d; k++)
            if (!isfinite(xi[k])) {
                st = hj_error_set(err, HJ_ENAN, "certify: point %zu is not finite", i);
                break;
            }
        if (st != HJ_OK)
            break;
        for (size_t j = 0; j < NT; j++) {
            double t = b[j];
            for (size_t k = 0; k < d; k++)
                t += w[j * d + k] * xi[k];
            z[j] = t;
        }
        for (size_t c = 0; c < C; c++) {
            F[c] = hj_lse_vec(z + c * W, W, eps, z + c * W); /* z <- pi */
            double *g = gr + c * d;
            memset(g, 0, d * sizeof *g);
            for (size_t j = c * W; j < (c + 1) * W; j++)
                if (z[j] > 0.0)
                    for (size_t k = 0; k < d; k++)
                        g[k] += z[j] * wt[j * d + k];
        }
        const size_t y = hj_vec_argmax(F, C);
        hj_certificate *o = out + i;
        o->cls = y;
        o->runner_up = y == 0 ? 1 : 0;
        o->margin = INFINITY;
        o->radius = INFINITY;
        for (size_t c = 0; c < C; c++) {
            if (c == y)
                continue;
            double mc = F[y] - F[c], G = 0.0;
            for (size_t k = 0; k < d; k++) {
                double u = gr[y * d + k] - gr[c * d + k];
                G += u * u;
            }
            G = sqrt(G);
            double meff = mc - HJ_ROBUST_ROUNDING * (1.0 + fabs(F[y]) + fabs(F[c]));
            double r = pair_radius(meff, G, kappa[c], Lip[y * C + c]);
            if (mc < o->margin)
                o->margin = mc;
            if (r < o->radius) {
                o->radius = r;
                o->runner_up = c;
            }
        }
    }
    free(mem);
    return st;
}
