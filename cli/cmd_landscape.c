/* cmd_landscape.c — `hjdl landscape`: critical points and fold bifurcations of the entropy landscape H(x; eps), with figures. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cli.h"
#include "cli_data.h"
#include "hjdl/data.h"
#include "hjdl/hopf.h"
#include "hjdl/landscape.h"
#include "hjdl/plot.h"

static const char *DESCRIPTION =
    "Follows the critical points of the attribution-entropy landscape\n"
    "    H(x; eps) = -sum_j pi_j log pi_j,  pi_j ~ exp(-(g_j + |x - y_j|^2/(4t))/eps),\n"
    "in eps: multi-start Newton (exact Hessian) seeds the branches at several eps,\n"
    "pseudo-arclength continuation in s = log eps follows them over [E1, E2], and\n"
    "every fold (a branch turning in eps, where the Hessian is singular) is located\n"
    "by Newton on the extended system {grad H = 0, hess H v = 0, |v| = 1} and\n"
    "checked: one Hessian eigenvalue crosses zero there.\n\n"
    "ATOMS: one row per atom, columns y_1..y_d then g (CSV with a header, or .npy).\n"
    "Writes into DIR (created if needed):\n"
    "  critical_points.csv  eps,x_1..x_d,H,type,branch: points along every branch;\n"
    "                       type = Morse index (0 minimum, d maximum, between: saddle)\n"
    "  folds.csv            eps,x_1..x_d,type,H,direction,lambda_rel,check: type k\n"
    "                       joins indices k and k+1 (0: minimum-saddle, in 1-D\n"
    "                       minimum-maximum); direction -1: the pair exists below\n"
    "                       the fold and annihilates as eps grows, +1: it is born;\n"
    "                       lambda_rel: |smallest Hessian eigenvalue|/scale (~0);\n"
    "                       check 1: the eigenvalue check passed\n"
    "  bifurcation.png/.svg H at the critical points vs eps (log axis), folds marked\n"
    "  map_cold, map_critical, map_hot (.png/.svg, d = 1, 2 only): the landscape at\n"
    "                       E1, eps* = N^(-1/d) and E2 with its critical points\n"
    "  basins.csv           (d = 1, 2) eps,minima,basins: minima on the branches and\n"
    "                       basins of the flow -grad H on a grid (the region that\n"
    "                       flows out of the grid, where H -> 0, counts as one)\n"
    "Default range: E1 = eps*/25, E2 = 25 eps*. The domain is the atoms' box widened\n"
    "on each side by half its longest side, and twice, four, eight times that while\n"
    "a branch of minima crosses its edge. A summary and the fold list go to stdout.\n"
    "Exit status 1 when a fold fails its eigenvalue check.";

/* Render p into dir; on failure warn once (gnuplot missing) and go on. */
static void render(const char *dir, const hj_plot *p, int *warned)
{
    hj_error e = {0};
    if (hj_plot_render(dir, p, &e) != HJ_OK && !*warned) {
        fprintf(stderr, "hjdl landscape: note: figures not rendered (%s); CSV files and .gp scripts are written\n",
                e.msg);
        *warned = 1;
    }
}

/* eps,minima,basins on a log grid of 25 eps values (d = 1, 2). */
static hj_status write_basins(hj_landscape *L, const hj_bifurcation *b, const char *path,
                              hj_error *err)
{
    const size_t n_eps = 25, d = b->d, nodes = d == 1 ? 2001 : 241;
    hj_matrix m = {0};
    hj_status st = hj_matrix_alloc(&m, n_eps, 3, err);
    for (size_t i = 0; i < n_eps && st == HJ_OK; i++) {
        double eps = exp(log(b->eps_min) + (log(b->eps_max) - log(b->eps_min)) * (double)i /
                                               (double)(n_eps - 1));
        size_t nm = 0;
        hj_basins bs;
        if ((st = hj_bifurcation_count(L, b, eps, 0, &nm, err)) != HJ_OK ||
            (st = hj_landscape_basins(L, eps, b->lo, b->hi, nodes, &bs, err)) != HJ_OK)
            break;
        m.data[3 * i] = eps;
        m.data[3 * i + 1] = (double)nm;
        m.data[3 * i + 2] = (double)bs.n_basins;
        hj_basins_free(&bs);
    }
    static const char *const names[] = {"eps", "minima", "basins"};
    if (st == HJ_OK)
        st = hj_matrix_write(path, &m, names, err);
    hj_matrix_free(&m);
    return st;
}

int cmd_landscape(int argc, char **argv)
{
    const char *atoms_path = NULL, *out_dir = NULL;
    double t = NAN, e1 = NAN, e2 = NAN, step = 0.05;
    size_t levels = 16, threads = 0;
    cli_io io = {0};
    const cli_opt opts[] = {
        {"atoms", CLI_INPUT, &atoms_path, "FILE", "atoms: rows y_1..y_d, g; '-': stdin", 1},
        {"t", CLI_DOUBLE, &t, "T", "time, > 0", 1},
        {"eps-min", CLI_DOUBLE, &e1, "E1", "smallest eps (default eps*/25)", 0},
        {"eps-max", CLI_DOUBLE, &e2, "E2", "largest eps (default 25 eps*)", 0},
        {"out", CLI_OUTDIR, &out_dir, "DIR", "output directory (created if needed)", 1},
        {"step", CLI_DOUBLE, &step, "H", "largest continuation step in (x, log eps) (default 0.05)", 0},
        {"levels", CLI_SIZE, &levels, "K", "eps levels seeding the branches (default 16, >= 2)", 0},
        CLI_IO_OPTIONS(io),
        CLI_THREADS_OPTION(threads),
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, NULL, 0, NULL, "landscape");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "landscape",
                       "--atoms FILE --t T [--eps-min E1 --eps-max E2] --out DIR [--step H] [--levels K]",
                       DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (!(t > 0.0))
        return cli_error("landscape", "--t must be > 0 (got %g)", t);
    if (!isnan(e1) && !(e1 > 0.0))
        return cli_error("landscape", "--eps-min must be > 0 (got %g)", e1);
    if (!isnan(e2) && !(e2 > 0.0))
        return cli_error("landscape", "--eps-max must be > 0 (got %g)", e2);
    if (!isnan(e1) && !isnan(e2) && !(e1 < e2))
        return cli_error("landscape", "--eps-min (%g) must be smaller than --eps-max (%g)", e1, e2);
    if (!(step > 0.0) || step > 1.0)
        return cli_error("landscape", "--step must be in (0, 1] (got %g)", step);
    if (levels < 2 || levels > 1000)
        return cli_error("landscape", "--levels must be in 2..1000 (got %zu)", levels);
    if (out_dir[0] == '\0')
        return cli_error("landscape", "--out must not be empty");

    hj_error err = {0};
    hj_matrix A = {0};
    hj_landscape *L = NULL;
    hj_bifurcation b = {0};
    double *y = NULL, *g = NULL;
    int created = 0; /* --out did not exist: removed again if the command fails */
    char crit[1200] = "", folds[1200] = "", bas[1200] = "";
    rc = CLI_OK;
    if ((rc = cli_read_matrix(atoms_path, &io, &A, "landscape")) != CLI_OK)
        goto done;
    if (A.cols < 2) {
        rc = cli_error("landscape", "%s: atoms need at least 2 columns (y_1..y_d, g), found %zu",
                       atoms_path, A.cols);
        goto done;
    }
    const size_t d = A.cols - 1, N = A.rows;
    y = malloc(N * d * sizeof *y), g = malloc(N * sizeof *g);
    if (y == NULL || g == NULL) {
        rc = cli_error("landscape", "out of memory");
        goto done;
    }
    for (size_t j = 0; j < N; j++) {
        memcpy(y + j * d, A.data + j * A.cols, d * sizeof *y);
        g[j] = A.data[j * A.cols + d];
    }
    hj_atoms atoms = {N, d, y, g};
    if (hj_landscape_alloc(&L, &atoms, t, &err) != HJ_OK) {
        hj_error_prefix(&err, "%s: ", atoms_path);
        rc = cli_report("landscape", &err);
        goto done;
    }
    const double es = hj_landscape_critical_eps(L);
    if (isnan(e1))
        e1 = isnan(e2) ? es / 25.0 : fmin(es / 25.0, e2 / 625.0);
    if (isnan(e2))
        e2 = fmax(es * 25.0, e1 * 625.0);
    hj_landscape_options o;
    hj_landscape_options_default(&o);
    o.eps_min = e1, o.eps_max = e2, o.h_max = step, o.seed_levels = levels;
    if (o.h_min >= step)
        o.h_min = step * 1e-6;
    /* widen the domain (pad 0.5, x2 up to 4) while a branch of minima crosses
     * its edge, so that minima appear and vanish only at folds */
    for (o.pad = 0.5;; o.pad *= 2.0) {
        if (hj_landscape_continue(L, &o, &b, &err) != HJ_OK) {
            rc = cli_report("landscape", &err);
            goto done;
        }
        if (b.n_min_exits == 0 || o.pad >= 4.0)
            break;
        hj_bifurcation_free(&b);
    }
    if (b.n_points == 0) {
        rc = cli_error("landscape", "no critical points were found in the domain");
        goto done;
    }
    /* everything computed: now the files */
    if ((rc = cli_make_out_dir("landscape", out_dir, &created)) != CLI_OK)
        goto done;
    snprintf(crit, sizeof crit, "%s/critical_points.csv", out_dir);
    snprintf(folds, sizeof folds, "%s/folds.csv", out_dir);
    snprintf(bas, sizeof bas, "%s/basins.csv", out_dir);
    if (hj_bifurcation_write(&b, crit, folds, &err) != HJ_OK) {
        rc = cli_report("landscape", &err);
        goto done;
    }
    int warned = 0;
    /* bifurcation diagram */
    {
        char fmin[64], fsad[96], fmax[64];
        const int tc = (int)d + 3, hc = (int)d + 2;
        snprintf(fmin, sizeof fmin, "$%d == 0", tc);
        snprintf(fsad, sizeof fsad, "$%d > 0 && $%d < %zu", tc, tc, d);
        snprintf(fmax, sizeof fmax, "$%d == %zu", tc, d);
        hj_plot p = {0};
        char title[160];
        snprintf(title, sizeof title, "Critical points of H(x; eps): %zu atoms in %zu-D, t = %g", N, d, t);
        p.name = "bifurcation";
        p.title = title;
        p.xlabel = "eps";
        p.ylabel = "H at the critical point";
        p.logx = 1;
        size_t k = 0;
        p.series[k++] = (hj_plot_series){"critical_points.csv", 1, hc, 0, "minima", "points", fmin};
        if (d > 1)
            p.series[k++] = (hj_plot_series){"critical_points.csv", 1, hc, 0, "saddles", "points", fsad};
        p.series[k++] = (hj_plot_series){"critical_points.csv", 1, hc, 0, "maxima", "points", fmax};
        if (b.n_folds > 0)
            p.series[k++] = (hj_plot_series){"folds.csv", 1, (int)d + 3, 0, "folds", "points", NULL};
        p.n_series = k;
        render(out_dir, &p, &warned);
    }
    if (d <= 2) {
        const double eps3[3] = {e1, es, e2};
        const char *names[3] = {"map_cold", "map_critical", "map_hot"};
        const char *what[3] = {"cold", "eps*", "hot"};
        for (int i = 0; i < 3; i++) {
            hj_crit_list cl;
            if (hj_landscape_critical_points(L, eps3[i], &o, &cl, &err) != HJ_OK) {
                rc = cli_report("landscape", &err);
                goto done;
            }
            char title[160];
            snprintf(title, sizeof title, "H(x; eps) at eps = %.4g (%s)", eps3[i], what[i]);
            hj_error e2r = {0};
            hj_status st = hj_landscape_map_render(L, eps3[i], b.lo, b.hi, d == 1 ? 2001 : 201, &cl,
                                                   out_dir, names[i], title, &e2r);
            hj_crit_list_free(&cl);
            if (st == HJ_EIO) {
                if (!warned)
                    fprintf(stderr, "hjdl landscape: note: %s\n", e2r.msg);
                warned = 1;
            } else if (st != HJ_OK) {
                rc = cli_report("landscape", &e2r);
                goto done;
            }
        }
        if (write_basins(L, &b, bas, &err) != HJ_OK) {
            rc = cli_report("landscape", &err);
            goto done;
        }
    }
    size_t bad = 0;
    for (size_t i = 0; i < b.n_folds; i++)
        bad += !b.folds[i].ok;
    printf("%zu atoms in %zu-D, t = %g, eps in [%g, %g], eps* = %g\n", N, d, t, e1, e2, es);
    printf("domain [%g, %g]", b.lo[0], b.hi[0]);
    for (size_t k = 1; k < d && k < 4; k++)
        printf(" x [%g, %g]", b.lo[k], b.hi[k]);
    printf("%s\n", d > 4 ? " x ..." : "");
    printf("%zu branches, %zu branch points, %zu folds (%zu pass the eigenvalue check)%s\n",
           b.n_branches, b.n_points, b.n_folds, b.n_folds - bad,
           b.n_incomplete ? "; some branch ends stopped early (numerically degenerate)" : "");
    if (b.n_min_exits)
        printf("note: %zu branch(es) of minima cross the domain's edge even at its widest\n",
               b.n_min_exits);
    if (b.n_folds) {
        printf("%-22s", "eps");
        for (size_t k = 0; k < d && k < 4; k++)
            printf(" %12s%zu", "x_", k + 1);
        printf("  %-16s %-12s %s\n", "type", "as eps grows", "check");
    }
    for (size_t i = 0; i < b.n_folds; i++) {
        const hj_fold *f = &b.folds[i];
        printf("%-22.15g", f->eps);
        for (size_t k = 0; k < d && k < 4; k++)
            printf(" %13.6f", f->x[k]);
        const char *ty = f->type == 0 ? (d == 1 ? "minimum-maximum" : "minimum-saddle")
                         : f->type == (int)d - 1 ? "saddle-maximum" : "saddle-saddle";
        printf("  %-16s %-12s %s\n", f->type < 0 ? "unclassified" : ty,
               f->dir < 0 ? "annihilates" : f->dir > 0 ? "is born" : "?", f->ok ? "pass" : "FAIL");
    }
    printf("files in %s\n", out_dir);
    if (bad) {
        fprintf(stderr, "hjdl landscape: %zu fold(s) failed the eigenvalue check\n", bad);
        rc = CLI_FAIL;
    }
done:
    if (rc == CLI_USAGE && created) { /* a failed run leaves no directory it made */
        unlink(crit), unlink(folds), unlink(bas);
        cli_remove_out_dir(out_dir, created);
    }
    hj_bifurcation_free(&b);
    hj_landscape_free(L);
    hj_matrix_free(&A);
    free(y), free(g);
    return rc;
}
