/* readout_fused.c — fused loss + gradient for models that are one LSE readout (the HJ layer itself).
 *
 * The general path (model.c) materialises the logits and Gibbs weights of a
 * whole batch, (n, N), and streams them through memory four or five times.
 * For a single readout layer the gradient of row i depends on row i alone,
 * so everything fits in one row's buffer and the batch never exists: the
 * cost is the n N exponentials and n N d multiply-adds and nothing else.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core-impl.h"
#include "model/model-impl.h"

hj_status hj__readout_only_loss_grad(const hj_model *m, const double *x, const double *y,
                                     size_t n, double *loss, double *grad, hj_error *err)
{
    const hj_arch *A = &m->arch;
    const hj_layer *L = &A->layers[0];
    const size_t d = L->in, W = L->width, C = A->n_classes, blocks = C ? C : 1, NT = W * blocks;
    const size_t P = A->n_params;
    const double *w = m->params + L->offset, *b = w + NT * d, eps = m->eps;
    const int scaled = A->output_scale;
    const double a = scaled ? m->params[P - 2] : 1.0, c0 = scaled ? m->params[P - 1] : 0.0;
    const int parallel = n * NT * (d + 1) >= HJ_PARALLEL_MIN_WORK;
    const size_t nthreads = parallel ? HJ_MAX_THREADS() : 1;
    const size_t per = NT + 2 * blocks + (grad ? P : 0) + 1;
    double *mem = calloc(nthreads * per, sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "loss: cannot allocate %zu doubles", nthreads * per);
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)nthreads) if (parallel)
#endif
    {
        double *z = mem + HJ_THREAD_ID() * per, *F = z + NT, *gF = F + blocks;
        double *acc = grad ? gF + blocks : NULL, *lsum = gF + blocks + (grad ? P : 0);
#ifdef HJDL_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (size_t i = 0; i < n; i++) {
            const double *xi = x + i * d;
            for (size_t j = 0; j < NT; j++) {
                const double *wj = w + j * d;
                double s = b[j];
                for (size_t k = 0; k < d; k++)
                    s += wj[k] * xi[k];
                z[j] = s;
            }
            for (size_t c = 0; c < blocks; c++)
                F[c] = hj__lse_full(z + c * W, W, eps, z + c * W, NULL, NULL); /* z <- pi */
            if (C == 0) {
                double r = a * F[0] + c0 - y[i];
                *lsum += r * r;
                double go = 2.0 * r / (double)n;
                gF[0] = a * go;
                if (acc && scaled) {
                    acc[P - 2] += go * F[0];
                    acc[P - 1] += go;
                }
            } else {
                size_t k = (size_t)y[i];
                double lse = hj__lse_full(F, C, 1.0, gF, NULL, NULL); /* gF <- softmax(F) */
                *lsum += lse - F[k];
                for (size_t c = 0; c < C; c++)
                    gF[c] = (gF[c] - (c == k)) / (double)n;
            }
            if (acc == NULL)
                continue;
            for (size_t c = 0; c < blocks; c++) {
                const double g = gF[c];
                for (size_t j = c * W; j < (c + 1) * W; j++) {
                    double t = g * z[j];
                    if (t == 0.0)
                        continue;
                    double *dw = acc + L->offset + j * d;
                    for (size_t k = 0; k < d; k++)
                        dw[k] += t * xi[k];
                    acc[L->offset + NT * d + j] += t;
                }
            }
        }
    }
    /* reduce the per-thread partial sums in thread order */
    double total = 0.0;
    if (grad)
        memset(grad, 0, P * sizeof *grad);
    for (size_t th = 0; th < nthreads; th++) {
        const double *base = mem + th * per + NT + 2 * blocks;
        if (grad)
            for (size_t k = 0; k < P; k++)
                grad[k] += base[k];
        total += base[grad ? P : 0];
    }
    *loss = total / (double)n;
    free(mem);
    return HJ_OK;
}
