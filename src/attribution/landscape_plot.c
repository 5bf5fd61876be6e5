/* landscape_plot.c — landscape maps H(x; eps): grid CSV plus a gnuplot heat map (2-D) or curve (1-D). */
#include "hjdl/landscape.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"
#include "hjdl/plot.h"
#include "io/io.h"

/* plot.h draws line and point series only, so a 2-D map (a heat map of the
 * grid with `with image`) gets its own small script here; it is run the way
 * src/plot/plot.c runs gnuplot: as a separate program found on PATH, in
 * the figure directory, once for PNG and once for SVG, the script kept
 * beside the figure. 1-D maps are plain curves and use hj_plot_render. */

extern char **environ;

#define MAP_W 760
#define MAP_H 640

typedef struct gp_job {
    const char *name, *title;
    const double *lo, *hi;
    double cbmax;
} gp_job;

static void gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '\'')
            fputs("''", f);
        else if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('\'', f);
}

static hj_status write_gp(FILE *f, const void *ctxp, hj_error *err)
{
    const gp_job *j = ctxp;
    const char *nm = j->name;
    fprintf(f, "# %s.gp - landscape map written by hjdl (hj_landscape_map_render).\n", nm);
    fprintf(f, "# Render from this directory: gnuplot %s.gp  (or -e \"term='svg'\")\n\n", nm);
    fputs("if (!exists(\"term\")) term = 'png'\n", f);
    fprintf(f, "if (!exists(\"outfile\")) outfile = '%s.' . term\n", nm);
    fputs("if (term eq 'svg') {\n", f);
    fprintf(f, "    set terminal svg size %d,%d dynamic font 'Sans,13' background rgb 'white' noenhanced\n",
            MAP_W, MAP_H);
    fputs("} else {\n    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n", f);
    fprintf(f, "        set terminal pngcairo size %d,%d font 'Sans,11' background rgb 'white' noenhanced\n",
            MAP_W, MAP_H);
    fprintf(f, "    } else {\n        set terminal png size %d,%d background rgb 'white' noenhanced\n    }\n}\n",
            MAP_W, MAP_H);
    fputs("set output outfile\n", f);
    fputs("set datafile separator ','\nset key autotitle columnhead\nset datafile missing NaN\n", f);
    fputs("set key below center horizontal nobox\n", f);
    if (j->title) {
        fputs("set title ", f);
        gp_quote(f, j->title);
        fputc('\n', f);
    }
    fputs("set xlabel 'x_1'\nset ylabel 'x_2'\nset cblabel 'H(x; eps)'\n", f);
    fputs("set size ratio -1\nset tics out nomirror\n", f);
    fprintf(f, "set xrange [%.17g:%.17g]\nset yrange [%.17g:%.17g]\n", j->lo[0], j->hi[0], j->lo[1],
            j->hi[1]);
    fprintf(f, "set cbrange [0:%.17g]\n", j->cbmax);
    fputs("set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')\n",
          f);
    fprintf(f, "plot '%s.csv' using 1:2:3 with image notitle, \\\n", nm);
    fprintf(f, "     '%s_atoms.csv' using 1:2 with points pt 6 ps 1.3 lw 1.5 lc rgb '#d9d9d9' title 'atoms', \\\n",
            nm);
    fprintf(f, "     '%s_crit.csv' using 1:(($4 == 0) ? $2 : NaN) with points pt 7 ps 1.1 lc rgb '#1f77b4' title 'minimum', \\\n",
            nm);
    fprintf(f, "     '%s_crit.csv' using 1:(($4 > 0 && $4 < 2) ? $2 : NaN) with points pt 9 ps 1.3 lc rgb '#ff7f0e' title 'saddle', \\\n",
            nm);
    fprintf(f, "     '%s_crit.csv' using 1:(($4 == 2) ? $2 : NaN) with points pt 5 ps 1.0 lc rgb '#d62728' title 'maximum'\n",
            nm);
    return ferror(f) ? hj_error_set(err, HJ_EIO, "write error") : HJ_OK;
}

static hj_status write_csv(const char *dir, const char *name, const char *suffix, const double *data,
                           size_t rows, size_t cols, const char *const *names, hj_error *err)
{
    char path[1400];
    int k = snprintf(path, sizeof path, "%s/%s%s.csv", dir, name, suffix);
    if (k < 0 || (size_t)k >= sizeof path)
        return hj_error_set(err, HJ_EINVAL, "map: path too long");
    if (rows == 0) {
        /* a header-only table: a NaN row that every plot skips */
        double *nanrow = malloc(cols * sizeof *nanrow);
        if (nanrow == NULL)
            return hj_error_set(err, HJ_ENOMEM, "map: out of memory");
        FILE *f = fopen(path, "w");
        if (f == NULL) {
            free(nanrow);
            return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
        }
        for (size_t c = 0; c < cols; c++)
            fprintf(f, "%s%s", c ? "," : "", names[c]);
        fputc('\n', f);
        int bad = ferror(f);
        bad |= fclose(f) != 0;
        free(nanrow);
        return bad ? hj_error_set(err, HJ_EIO, "%s: write error", path) : HJ_OK;
    }
    hj_matrix m = {0};
    hj_status st = hj_matrix_alloc(&m, rows, cols, err);
    if (st != HJ_OK)
        return st;
    memcpy(m.data, data, rows * cols * sizeof *data);
    st = hj_matrix_write(path, &m, names, err);
    hj_matrix_free(&m);
    return st;
}

static int name_ok(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 120)
        return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\'' || *s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

hj_status hj_landscape_map_render(hj_landscape *L, double eps, const double *lo,
                                  const double *hi, size_t n, const hj_crit_list *crit,
                                  const char *dir, const char *name, const char *title,
                                  hj_error *err)
{
    if (L == NULL || lo == NULL || hi == NULL || dir == NULL)
        return hj_error_set(err, HJ_EINVAL, "map: NULL argument");
    if (!name_ok(name))
        return hj_error_set(err, HJ_EINVAL, "map: name must be a plain file name");
    const size_t d = hj_landscape_dim(L), N = hj_landscape_size(L);
    if (d != 1 && d != 2)
        return hj_error_set(err, HJ_EINVAL, "map: only d = 1 or 2 (got %zu)", d);
    if (n < 2 || n > 4000)
        return hj_error_set(err, HJ_EINVAL, "map: need 2 <= n <= 4000 nodes per side");
    if (crit && crit->d != d)
        return hj_error_set(err, HJ_ESHAPE, "map: critical points are %zu-D, landscape %zu-D",
                            crit->d, d);
    for (size_t k = 0; k < d; k++)
        if (!(lo[k] < hi[k]))
            return hj_error_set(err, HJ_EINVAL, "map: empty side %zu", k + 1);
    const size_t nodes = d == 1 ? n : n * n, cols = d + 1;
    double *grid = malloc(nodes * cols * sizeof *grid);
    double *atoms = malloc(N * cols * sizeof *atoms);
    size_t nc = crit ? crit->n : 0;
    double *cp = malloc((nc ? nc : 1) * (d + 2) * sizeof *cp);
    hj_status st = HJ_OK;
    if (!grid || !atoms || !cp) {
        st = hj_error_set(err, HJ_ENOMEM, "map: out of memory");
        goto done;
    }
    for (size_t id = 0; id < nodes; id++) {
        double *row = grid + id * cols;
        size_t idx[2] = {d == 2 ? id / n : id, d == 2 ? id % n : 0};
        for (size_t k = 0; k < d; k++)
            row[k] = lo[k] + (hi[k] - lo[k]) * (double)idx[k] / (double)(n - 1);
        if ((st = hj_landscape_eval(L, eps, row, &row[d], NULL, NULL, NULL, err)) != HJ_OK)
            goto done;
    }
    const hj_atoms at = hj_landscape_atoms(L);
    for (size_t j = 0; j < N; j++) {
        double *row = atoms + j * cols;
        memcpy(row, at.y + j * d, d * sizeof *row);
        if (d == 1) {
            if ((st = hj_landscape_eval(L, eps, row, &row[1], NULL, NULL, NULL, err)) != HJ_OK)
                goto done;
        } else {
            row[2] = at.g[j];
        }
    }
    for (size_t i = 0; i < nc; i++) {
        double *row = cp + i * (d + 2);
        memcpy(row, crit->x + i * d, d * sizeof *row);
        row[d] = crit->H[i];
        row[d + 1] = crit->index[i];
    }
    static const char *const n1[] = {"x", "H"}, *const n2[] = {"x1", "x2", "H"};
    static const char *const a1[] = {"y", "H"}, *const a2[] = {"y1", "y2", "g"};
    static const char *const c1[] = {"x", "H", "type"}, *const c2[] = {"x1", "x2", "H", "type"};
    if ((st = write_csv(dir, name, "", grid, nodes, cols, d == 1 ? n1 : n2, err)) != HJ_OK ||
        (st = write_csv(dir, name, "_atoms", atoms, N, cols, d == 1 ? a1 : a2, err)) != HJ_OK ||
        (st = write_csv(dir, name, "_crit", cp, nc, d + 2, d == 1 ? c1 : c2, err)) != HJ_OK)
        goto done;
    char csv[3][160];
    snprintf(csv[0], sizeof csv[0], "%s.csv", name);
    snprintf(csv[1], sizeof csv[1], "%s_atoms.csv", name);
    snprintf(csv[2], sizeof csv[2], "%s_crit.csv", name);
    if (d == 1) {
        hj_plot p = {0};
        p.name = name;
        p.title = title;
        p.xlabel = "x";
        p.ylabel = "H(x; eps)";
        p.series[0] = (hj_plot_series){csv[0], 1, 2, 0, "H(x; eps)", "lines", NULL};
        p.series[1] = (hj_plot_series){csv[1], 1, 2, 0, "atoms", "points", NULL};
        p.series[2] = (hj_plot_series){csv[2], 1, 2, 0, "minima", "points", "$3 == 0"};
        p.series[3] = (hj_plot_series){csv[2], 1, 2, 0, "maxima", "points", "$3 == 1"};
        p.n_series = 4;
        st = hj_plot_render(dir, &p, err);
        goto done;
    }
    char gp[1400];
    int k = snprintf(gp, sizeof gp, "%s/%s.gp", dir, name);
    if (k < 0 || (size_t)k >= sizeof gp) {
        st = hj_error_set(err, HJ_EINVAL, "map: path too long");
        goto done;
    }
    gp_job job = {name, title, lo, hi, log((double)N) > 0.0 ? log((double)N) : 1.0};
    hj_io_c_locale loc;
    if ((st = hj_io_c_locale_enter(&loc, err)) != HJ_OK)
        goto done;
    st = hj_io_write_atomic(gp, write_gp, &job, err);
    hj_io_c_locale_leave(&loc);
    if (st != HJ_OK)
        goto done;
    st = hj_plot_run_script(dir, name, err);
done:
    free(grid), free(atoms), free(cp);
    return st;
}
