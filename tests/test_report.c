/* test_report.c — figures (gnuplot scripts, PNG and SVG) and the HTML report of a run.
 *
 * Expected properties come from the test itself: the CSV is written here by
 * hand, the PNG is checked by its magic bytes and IHDR size, the SVG by its
 * root element and legend text; the report is checked against counts the
 * test makes from the results it built (checks passed per claim, verdicts),
 * against the escaped form of text it chose, and for relative links.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hjdl/experiment.h"
#include "hjdl/plot.h"
#include "hjdl/report.h"

/* ---- helpers ------------------------------------------------------------ */

static void make_tmpdir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/hjdl-test-report-XXXXXX");
    assert_non_null(mkdtemp(buf));
}

/* rm -r for the small trees these tests make. */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[1200];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Whole file as a NUL-terminated string (NULL if absent); *len its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    size_t got;
    while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    fclose(f);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Number of entries in dir whose name contains `part`. */
static size_t count_names(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t c = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        c += strstr(e->d_name, part) != NULL;
    closedir(d);
    return c;
}

static size_t count_substr(const char *s, const char *needle)
{
    size_t c = 0, nl = strlen(needle);
    for (const char *p = strstr(s, needle); p; p = strstr(p + nl, needle))
        c++;
    return c;
}

/* The CSV a rate experiment would write: N, error, group, standard error.
 * Group g has error (g+1) * N^(-1/2) and a 10 % standard error. */
static void write_rate_csv(const char *dir, const char *file)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("N,err,group,se\n", f);
    for (int n = 16; n <= 4096; n *= 4)
        for (int g = 1; g <= 2; g++) {
            double e = (g + 1) / sqrt((double)n);
            fprintf(f, "%d,%.17g,%d,%.17g\n", n, e, g, 0.1 * e);
        }
    assert_int_equal(fclose(f), 0);
}

static hj_plot rate_plot(const char *name, const char *csv)
{
    hj_plot p;
    memset(&p, 0, sizeof p);
    p.name = name;
    p.title = "f''(x) vs eps: it's x_1^(-1/d) & {b}";
    p.xlabel = "N";
    p.ylabel = "error";
    p.logx = p.logy = 1;
    p.n_series = 2;
    p.series[0] = (hj_plot_series){csv, 1, 2, 4, "group one", "linespoints", "$3 == 1"};
    p.series[1] = (hj_plot_series){csv, 1, 2, 0, "group two", "points", "$3 == 2"};
    p.n_functions = 1;
    p.functions[0] = "2*x**(-0.5)";
    p.function_titles[0] = "slope -1/2";
    return p;
}

/* ---- plots ---------------------------------------------------------------- */

static void plot_renders_png_and_svg_from_csv(void **state)
{
    (void)state;
    if (!hj_plot_available())
        skip();
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    write_rate_csv(dir, "rates.csv");
    hj_plot p = rate_plot("rate", "rates.csv");
    hj_error err = {0};
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_OK);

    char path[1200];
    size_t len;
    snprintf(path, sizeof path, "%s/rate.png", dir);
    char *png = slurp(path, &len);
    assert_non_null(png);
    assert_true(len > 33);
    static const unsigned char magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_memory_equal(png, magic, 8);
    /* IHDR: width and height, big-endian, at bytes 16..23 */
    const unsigned char *u = (const unsigned char *)png;
    assert_memory_equal(png + 12, "IHDR", 4);
    unsigned w = ((unsigned)u[16] << 24) | ((unsigned)u[17] << 16) | ((unsigned)u[18] << 8) | u[19];
    unsigned h = ((unsigned)u[20] << 24) | ((unsigned)u[21] << 16) | ((unsigned)u[22] << 8) | u[23];
    assert_int_equal(w, 800);
    assert_int_equal(h, 560);
    free(png);

    snprintf(path, sizeof path, "%s/rate.svg", dir);
    char *svg = slurp(path, NULL);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "</svg>"));
    assert_non_null(strstr(svg, "group one"));   /* legend of series 1 */
    assert_non_null(strstr(svg, "slope -1/2"));  /* legend of the function */
    free(svg);

    snprintf(path, sizeof path, "%s/rate.gp", dir);
    char *gp = slurp(path, NULL);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "'rates.csv'"));
    assert_non_null(strstr(gp, "$3 == 1"));
    assert_non_null(strstr(gp, "2*x**(-0.5)"));
    assert_non_null(strstr(gp, "set logscale x"));
    assert_non_null(strstr(gp, "set logscale y"));
    /* enhanced text: primes, ε, sub/superscripts, specials escaped (and the PNG rendered above) */
    assert_non_null(strstr(gp, "'f′′(x) vs ε: it′s x_{1}^{-1/d} \\& \\{b\\}'"));
    free(gp);

    /* no temporary files are left behind */
    assert_int_equal(count_names(dir, ".tmp"), 0);
    remove_tree(dir);
}

/* The filter must select rows: rendering the script into a gnuplot table
 * would need gnuplot internals, so check instead that a filter matching no
 * row leaves gnuplot with nothing to plot, while the unfiltered series plots. */
static void plot_filter_selects_rows(void **state)
{
    (void)state;
    if (!hj_plot_available())
        skip();
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    write_rate_csv(dir, "rates.csv");
    hj_plot p;
    memset(&p, 0, sizeof p);
    p.name = "none";
    p.n_series = 1;
    p.series[0] = (hj_plot_series){"rates.csv", 1, 2, 0, "group three", NULL, "$3 == 3"};
    hj_error err = {0};
    hj_status st = hj_plot_render(dir, &p, &err);
    assert_int_equal(st, HJ_EIO);
    assert_non_null(strstr(err.msg, "gnuplot"));
    p.series[0].filter = "$3 == 2";
    p.name = "two";
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_OK);
    remove_tree(dir);
}

static void plot_rejects_bad_arguments(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    hj_plot good = rate_plot("ok", "rates.csv");
    hj_plot p;
    hj_error err = {0};

    p = good;
    p.name = "sub/dir";
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "/"));
    p.name = "";
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    p.name = NULL;
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    p.name = "..";
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);

    p = good;
    p.n_series = 0;
    p.n_functions = 0;
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "nothing to plot"));
    p.n_series = HJ_PLOT_MAX_SERIES + 1;
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);

    p = good;
    p.series[0].xcol = 0;
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    p = good;
    p.series[1].ycol = -2;
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    p = good;
    p.series[0].errcol = -1;
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    p = good;
    p.series[0].style = "bars";
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "bars"));
    p = good;
    p.series[0].csv = NULL;
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    p = good;
    p.functions[0] = "x; system('true')";
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    p = good;
    p.title = "two\nlines";
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EINVAL);
    assert_int_equal(hj_plot_render(NULL, &good, &err), HJ_EINVAL);
    assert_int_equal(hj_plot_render(dir, NULL, &err), HJ_EINVAL);
    assert_int_equal(hj_plot_render(dir, NULL, NULL), HJ_EINVAL);

    /* nothing was written for any of them */
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(d)) != NULL)
        files += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 0);

    /* functions only is a valid plot; the script is written whatever gnuplot does */
    p = good;
    p.name = "fonly";
    p.n_series = 0;
    p.logx = p.logy = 0;
    p.functions[0] = "sin(x)";
    hj_status st = hj_plot_render(dir, &p, &err);
    char path[1200];
    snprintf(path, sizeof path, "%s/fonly.gp", dir);
    assert_true(file_exists(path));
    if (hj_plot_available())
        assert_int_equal(st, HJ_OK);
    remove_tree(dir);
}

static void plot_missing_csv_reports_gnuplot_complaint(void **state)
{
    (void)state;
    if (!hj_plot_available())
        skip();
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    hj_plot p = rate_plot("broken", "absent.csv");
    hj_error err = {0};
    hj_status st = hj_plot_render(dir, &p, &err);
    assert_int_equal(st, HJ_EIO);
    assert_int_equal(err.code, HJ_EIO);
    /* gnuplot's own words, naming the file */
    assert_non_null(strstr(err.msg, "absent.csv"));
    assert_true(strstr(err.msg, "Cannot find or open") != NULL || strstr(err.msg, "No data") != NULL);
    assert_null(strchr(err.msg, '\n'));
    char path[1200];
    snprintf(path, sizeof path, "%s/broken.gp", dir);
    assert_true(file_exists(path));
    snprintf(path, sizeof path, "%s/broken.png", dir);
    assert_false(file_exists(path));
    assert_int_equal(count_names(dir, ".tmp"), 0);

    /* one good and one missing series: still an error (a silently missing series) */
    write_rate_csv(dir, "rates.csv");
    p.series[1].csv = "rates.csv";
    assert_int_equal(hj_plot_render(dir, &p, &err), HJ_EIO);
    assert_non_null(strstr(err.msg, "absent.csv"));
    remove_tree(dir);
}

static void plot_without_gnuplot_writes_script(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    write_rate_csv(dir, "rates.csv");
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    char empty[1200];
    snprintf(empty, sizeof empty, "%s/no-programs-here", dir);
    assert_int_equal(setenv("PATH", empty, 1), 0);

    assert_int_equal(hj_plot_available(), 0);
    hj_plot p = rate_plot("nognuplot", "rates.csv");
    hj_error err = {0};
    hj_status st = hj_plot_render(dir, &p, &err);

    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    } else {
        unsetenv("PATH");
    }
    assert_int_equal(st, HJ_EIO);
    assert_non_null(strstr(err.msg, "gnuplot not found"));
    assert_non_null(strstr(err.msg, "gnuplot-nox"));
    char path[1200];
    snprintf(path, sizeof path, "%s/nognuplot.gp", dir);
    char *gp = slurp(path, NULL);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "'rates.csv'"));
    free(gp);
    remove_tree(dir);
}

/* ---- report ---------------------------------------------------------------- */

static const char NOTE[] = "<b>&</b> x<y \"q\"";
static const char NOTE_ESCAPED[] = "&lt;b&gt;&amp;&lt;/b&gt; x&lt;y &quot;q&quot;";

/* Two results under out: "synthetic" (C8, C9; two C8 checks, one failing;
 * claims with every verdict) and "identity" (one C1 check; the registry says
 * it covers C1-C6). */
static void build_results(const char *out, hj_result res[2], int with_plot)
{
    hj_error err = {0};
    memset(res, 0, 2 * sizeof *res);

    hj_result *r = &res[0];
    snprintf(r->experiment, sizeof r->experiment, "synthetic");
    snprintf(r->dir, sizeof r->dir, "%s/synthetic", out);
    assert_int_equal(mkdir(r->dir, 0755), 0);
    write_rate_csv(r->dir, "rates.csv");
    if (with_plot) {
        hj_plot p = rate_plot("rate", "rates.csv");
        assert_int_equal(hj_plot_render(r->dir, &p, &err), HJ_OK);
    }
    assert_int_equal(hj_result_figure(r, "rate", "Error against N & a <fit>", &err), HJ_OK);
    assert_int_equal(hj_result_param_num(r, "N", 4096, &err), HJ_OK);
    assert_int_equal(hj_result_param_text(r, "target", "|x|", &err), HJ_OK);
    assert_int_equal(hj_result_metric(r, "fitted_slope", -0.4875, &err), HJ_OK);
    assert_int_equal(hj_result_check(r, "C8", "quadrature identity error", 1e-15, 1e-12, &err), HJ_OK);
    assert_int_equal(hj_result_check(r, "C8", "proved bound violation", 0.5, 0.1, &err), HJ_OK);
    /* verdicts decided by the rule: inside, outside and straddling the band */
    const hj_claim_spec s8 = {"C8", HJ_SOURCE_PAPER, "slope is -1/2 for d = 2", "the rate is N^(-1/d)",
                              HJ_FORM_EQUALS, -0.5, 0.05, "10 % of the exponent", 0};
    const hj_claim_spec s9a = {"C9", HJ_SOURCE_HJDL, "RMSE slope is -1/4 for d = 2", NULL,
                               HJ_FORM_EQUALS, -0.25, 0.05, "20 % of the exponent", 0};
    const hj_claim_spec s9b = {"C9", HJ_SOURCE_HJDL, "RMSE slope is -1/5 for d = 3", NULL,
                               HJ_FORM_EQUALS, -0.2, 0.05, "25 % of the exponent", 0};
    hj_claim_measurement m8 = {-0.4875, {{"seeds", 0.02}}, 1}, m9a = {-0.61, {{"fit", 0.04}}, 1},
                         m9b = {-0.1, {{"seeds", 0.9}}, 1};
    assert_int_equal(hj_result_claim_add(r, &s8, &m8, &err), HJ_OK);
    assert_int_equal(hj_result_claim_add(r, &s9a, &m9a, &err), HJ_OK);
    assert_int_equal(hj_result_claim_add(r, &s9b, &m9b, &err), HJ_OK);
    assert_int_equal(r->claims[0].verdict, HJ_VERDICT_AGREES);
    assert_int_equal(r->claims[1].verdict, HJ_VERDICT_DISAGREES);
    assert_int_equal(r->claims[2].verdict, HJ_VERDICT_INCONCLUSIVE);
    hj_result_note(r, "%s", NOTE);
    r->seconds = 3.25;

    r = &res[1];
    snprintf(r->experiment, sizeof r->experiment, "identity");
    snprintf(r->dir, sizeof r->dir, "%s/identity", out);
    assert_int_equal(mkdir(r->dir, 0755), 0);
    assert_int_equal(hj_result_check(r, "C1", "LSE + Hopf-Cole - |x|^2/(4t)", 2e-16, 1e-13, &err), HJ_OK);
    r->seconds = 0.5;
}

/* The summary row of claim k: from id="sum-Ck" to its </tr>. */
static char *summary_row(const char *page, int k)
{
    char id[32];
    snprintf(id, sizeof id, "id=\"sum-C%d\"", k);
    const char *a = strstr(page, id);
    if (a == NULL)
        return NULL;
    assert_null(strstr(a + 1, id)); /* exactly one row per claim */
    const char *b = strstr(a, "</tr>");
    assert_non_null(b);
    size_t n = (size_t)(b - a);
    char *row = malloc(n + 1);
    assert_non_null(row);
    memcpy(row, a, n);
    row[n] = '\0';
    return row;
}

/* The <tr>...</tr> around the first occurrence of needle after `from`. */
static char *row_around(const char *from, const char *needle)
{
    const char *hit = strstr(from, needle);
    assert_non_null(hit);
    const char *a = hit;
    while (a > from && strncmp(a, "<tr", 3) != 0)
        a--;
    const char *b = strstr(hit, "</tr>");
    assert_non_null(b);
    size_t n = (size_t)(b - a);
    char *row = malloc(n + 1);
    assert_non_null(row);
    memcpy(row, a, n);
    row[n] = '\0';
    return row;
}

/* The claims the registry says "identity" covers, parsed here ("Ca-Cb" or "Ca"). */
static void identity_range(int *lo, int *hi)
{
    const hj_experiment *e = hj_experiment_find("identity");
    assert_non_null(e);
    int a = 0, b = 0;
    if (sscanf(e->claims, "C%d-C%d", &a, &b) == 2) {
        *lo = a;
        *hi = b;
    } else {
        assert_int_equal(sscanf(e->claims, "C%d", &a), 1);
        *lo = *hi = a;
    }
}

static void report_has_summary_sections_and_escaping(void **state)
{
    (void)state;
    int plots = hj_plot_available();
    char out[64];
    make_tmpdir(out, sizeof out);
    hj_result res[2];
    build_results(out, res, plots);
    hj_error err = {0};
    assert_int_equal(hj_report_write_html(out, res, 2, 1, 12.5, &err), HJ_OK);

    char path[1200];
    snprintf(path, sizeof path, "%s/report.html", out);
    size_t len;
    char *page = slurp(path, &len);
    assert_non_null(page);
    assert_int_equal(strncmp(page, "<!DOCTYPE html>", 15), 0);
    assert_true(len > 8 && strcmp(page + len - 8, "</html>\n") == 0);
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "http://"));
    assert_null(strstr(page, "https://"));
    assert_non_null(strstr(page, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(page, "Hamilton–Jacobi theory of deep learning"));
    assert_non_null(strstr(page, "quick"));
    /* balanced tables and rows */
    assert_int_equal(count_substr(page, "<table"), count_substr(page, "</table>"));
    assert_int_equal(count_substr(page, "<tr"), count_substr(page, "</tr>"));
    assert_int_equal(count_substr(page, "<section"), count_substr(page, "</section>"));
    assert_int_equal(count_substr(page, "<div"), count_substr(page, "</div>"));

    /* overall counts, made here from the results */
    size_t total = 0, passed = 0;
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < res[i].checks.n; j++) {
            total++;
            passed += res[i].checks.items[j].value <= res[i].checks.items[j].threshold;
        }
    char want[64];
    snprintf(want, sizeof want, ">%zu/%zu</span> checks pass", passed, total);
    assert_non_null(strstr(page, want));

    int lo, hi;
    identity_range(&lo, &hi);
    for (int k = 1; k <= 13; k++) {
        char *row = summary_row(page, k);
        assert_non_null(row);
        char anchor[32];
        snprintf(anchor, sizeof anchor, "href=\"#C%d\"", k);
        assert_non_null(strstr(row, anchor));
        snprintf(anchor, sizeof anchor, "<section id=\"C%d\"", k);
        assert_non_null(strstr(page, anchor));
        int by_identity = (k >= lo && k <= hi) || k == 1;
        int by_synthetic = k == 8 || k == 9;
        if (by_identity || by_synthetic)
            assert_null(strstr(row, "not yet reproduced"));
        else
            assert_non_null(strstr(row, "not yet reproduced"));
        if (by_identity)
            assert_non_null(strstr(row, ">identity<"));
        if (by_synthetic)
            assert_non_null(strstr(row, ">synthetic<"));

        /* checks passed / total and verdicts for this claim, counted here */
        size_t t = 0, p = 0, v[3] = {0, 0, 0};
        char id[8];
        snprintf(id, sizeof id, "C%d", k);
        for (int i = 0; i < 2; i++) {
            for (size_t j = 0; j < res[i].checks.n; j++)
                if (strcmp(res[i].checks.items[j].claim, id) == 0) {
                    t++;
                    p += res[i].checks.items[j].value <= res[i].checks.items[j].threshold;
                }
            for (size_t j = 0; j < res[i].n_claims; j++)
                if (strcmp(res[i].claims[j].claim, id) == 0)
                    v[res[i].claims[j].verdict]++;
        }
        if (t > 0) {
            snprintf(want, sizeof want, ">%zu/%zu", p, t);
            assert_non_null(strstr(row, want));
        }
        static const char *names[3] = {"agrees", "disagrees", "inconclusive"};
        for (int q = 0; q < 3; q++) {
            /* badges read "N agrees" etc.; " agrees<" is not inside "disagrees<" */
            snprintf(want, sizeof want, ">%zu %s</span>", v[q], names[q]);
            if (v[q]) {
                assert_non_null(strstr(row, want));
            } else {
                snprintf(want, sizeof want, " %s</span>", names[q]);
                assert_null(strstr(row, want));
            }
        }
        free(row);
    }

    /* the disagreeing claim is rendered as such, in its own row */
    const char *c9 = strstr(page, "<section id=\"C9\"");
    assert_non_null(c9);
    char *row = row_around(c9, "RMSE slope is -1/4");
    assert_non_null(strstr(row, ">disagrees<"));
    assert_non_null(strstr(row, "-0.61"));
    free(row);
    row = row_around(c9, "RMSE slope is -1/5");
    assert_non_null(strstr(row, ">inconclusive<"));
    free(row);

    /* the failing check says FAIL, the passing one PASS */
    const char *c8 = strstr(page, "<section id=\"C8\"");
    assert_non_null(c8);
    row = row_around(c8, "proved bound violation");
    assert_non_null(strstr(row, "FAIL"));
    assert_null(strstr(row, "PASS"));
    free(row);
    row = row_around(c8, "quadrature identity error");
    assert_non_null(strstr(row, "PASS"));
    assert_null(strstr(row, "FAIL"));
    free(row);

    /* text is escaped */
    assert_non_null(strstr(page, NOTE_ESCAPED));
    assert_null(strstr(page, NOTE));
    assert_non_null(strstr(page, "Error against N &amp; a &lt;fit&gt;"));
    assert_non_null(strstr(page, "|x|"));

    /* figures by relative path, the image once (in its first claim's section) */
    if (plots) {
        assert_int_equal(count_substr(page, "<img src=\"synthetic/rate.png\""), 1);
        const char *img = strstr(page, "<img src=\"synthetic/rate.png\"");
        assert_true(img > c8 && img < c9);
    }
    assert_non_null(strstr(page, "href=\"synthetic/rate.svg\""));
    assert_null(strstr(page, "src=\"/"));
    assert_null(strstr(page, out)); /* no absolute paths at all */
    assert_non_null(strstr(c9, "href=\"#fig-synthetic-1\""));
    assert_int_equal(count_names(out, ".tmp"), 0);
    free(page);

    /* a trailing slash on out_dir gives the same relative links */
    char out_slash[80];
    snprintf(out_slash, sizeof out_slash, "%s/", out);
    assert_int_equal(hj_report_write_html(out_slash, res, 2, 0, 12.5, &err), HJ_OK);
    page = slurp(path, NULL);
    assert_non_null(page);
    assert_non_null(strstr(page, "href=\"synthetic/rate.svg\""));
    assert_non_null(strstr(page, "<b>full</b>"));
    free(page);

    hj_result_free(&res[0]);
    hj_result_free(&res[1]);
    remove_tree(out);
}

/* The paper's claims come first in their own table, then hjdl's; a quick run marks every
 * verdict provisional and lists no findings; a full run lists its disagreements; claims.tsv
 * round-trips and --compare flags a flip; --self-contained embeds the figure. */
static void report_orders_sources_and_compares_runs(void **state)
{
    (void)state;
    int plots = hj_plot_available();
    char out[64];
    make_tmpdir(out, sizeof out);
    hj_result res[2];
    build_results(out, res, plots);
    hj_error err = {0};
    for (size_t j = 0; j < res[0].n_claims; j++)
        res[0].claims[j].provisional = 1;
    assert_int_equal(hj_report_write_html(out, res, 2, 1, 12.5, &err), HJ_OK);
    char path[1200];
    snprintf(path, sizeof path, "%s/report.html", out);
    char *page = slurp(path, NULL);
    assert_non_null(page);
    const char *paper = strstr(page, "id=\"paper-claims\""), *ours = strstr(page, "id=\"hjdl-claims\"");
    assert_non_null(paper);
    assert_non_null(ours);
    assert_true(paper < ours);
    const char *p8 = strstr(page, "slope is -1/2 for d = 2"), *p9 = strstr(page, "RMSE slope is -1/4");
    assert_true(p8 > paper && p8 < ours); /* the paper claim in the first table */
    assert_true(p9 > ours);              /* hjdl's after */
    assert_non_null(strstr(page, "Quick run: every verdict below is provisional"));
    assert_null(strstr(page, "Findings:"));
    assert_true(count_substr(page, ">provisional</span>") >= 3);
    assert_non_null(strstr(page, "the rate is N^(-1/d)")); /* the paper's words */
    free(page);

    /* a full run: the disagreement is a finding, listed up front */
    for (size_t j = 0; j < res[0].n_claims; j++)
        res[0].claims[j].provisional = 0;
    assert_int_equal(hj_report_write_html(out, res, 2, 0, 12.5, &err), HJ_OK);
    page = slurp(path, NULL);
    const char *findings = strstr(page, "Findings:");
    assert_non_null(findings);
    assert_true(findings < strstr(page, "id=\"paper-claims\""));
    assert_null(strstr(page, "Quick run: every verdict"));
    free(page);

    /* claims.tsv round trip */
    assert_int_equal(hj_report_write_claims(out, res, 2, &err), HJ_OK);
    snprintf(path, sizeof path, "%s/claims.tsv", out);
    hj_report_claim_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(hj_report_read_claims(path, &rows, &n, &err), HJ_OK);
    assert_int_equal(n, 3);
    for (size_t j = 0; j < 3; j++) {
        const hj_claim *c = &res[0].claims[j];
        assert_string_equal(rows[j].experiment, "synthetic");
        assert_string_equal(rows[j].claim, c->claim);
        assert_string_equal(rows[j].statement, c->statement);
        assert_int_equal(rows[j].verdict, c->verdict);
        assert_true(rows[j].measured == c->measured && rows[j].lo == c->lo && rows[j].hi == c->hi);
    }
    assert_string_equal(rows[0].source, "paper");

    /* the other run disagrees where this one agrees: a flip, flagged */
    rows[0].verdict = HJ_VERDICT_DISAGREES;
    /* matched by position, not statement (a quick run names other sizes); the
     * other run lacks the last claim */
    snprintf(rows[0].statement, sizeof rows[0].statement, "slope at quick sizes");
    hj_report_options o = {0, 1.0, plots, rows, n - 1, "other-run"};
    assert_int_equal(hj_report_write(out, res, 2, &o, &err), HJ_OK);
    snprintf(path, sizeof path, "%s/report.html", out);
    page = slurp(path, NULL);
    const char *stab = strstr(page, "id=\"stability\"");
    assert_non_null(stab);
    assert_non_null(strstr(stab, "other-run"));
    char *row = row_around(stab, "slope is -1/2 for d = 2");
    assert_non_null(strstr(row, ">flip<"));
    free(row);
    row = row_around(stab, "RMSE slope is -1/4");
    assert_null(strstr(row, ">flip<"));
    assert_null(strstr(row, "not in the other run"));
    free(row);
    row = row_around(stab, "RMSE slope is -1/5");
    assert_non_null(strstr(row, "not in the other run"));
    free(row);
    assert_non_null(strstr(stab, "other run: slope at quick sizes"));
    assert_non_null(strstr(stab, "2 of this run's claims matched"));
    if (plots) { /* self-contained: the PNG inline, no relative image link */
        assert_non_null(strstr(page, "src=\"data:image/png;base64,iVBORw0KGgo"));
        assert_null(strstr(page, "<img src=\"synthetic/rate.png\""));
    }
    assert_int_equal(count_substr(page, "<table"), count_substr(page, "</table>"));
    assert_int_equal(count_substr(page, "<details"), count_substr(page, "</details>"));
    free(page);
    free(rows);

    /* malformed claims.tsv files are refused naming the file and line */
    snprintf(path, sizeof path, "%s/bad.tsv", out);
    static const char *bad[] = {
        "",
        "not a header\n",
        "experiment\tclaim\tsource\tverdict\tprovisional\tmeasured\tlo\thi\tstatement\nx\tC1\tpaper\n",
        "experiment\tclaim\tsource\tverdict\tprovisional\tmeasured\tlo\thi\tstatement\n"
        "x\tC1\tpaper\tmaybe\t0\t1\t0\t2\tstmt\n",
        "experiment\tclaim\tsource\tverdict\tprovisional\tmeasured\tlo\thi\tstatement\n"
        "x\tC1\tsomeone\tagrees\t0\t1\t0\t2\tstmt\n",
        "experiment\tclaim\tsource\tverdict\tprovisional\tmeasured\tlo\thi\tstatement\n"
        "x\tC1\tpaper\tagrees\t0\t1x\t0\t2\tstmt\n",
        "experiment\tclaim\tsource\tverdict\tprovisional\tmeasured\tlo\thi\tstatement\n"
        "x\tC1\tpaper\tagrees\t2\t1\t0\t2\tstmt\n",
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[k], f);
        fclose(f);
        err.msg[0] = '\0';
        assert_int_equal(hj_report_read_claims(path, &rows, &n, &err), HJ_EFORMAT);
        assert_non_null(strstr(err.msg, "bad.tsv"));
        assert_null(rows);
    }
    hj_result_free(&res[0]);
    hj_result_free(&res[1]);
    remove_tree(out);
}

static void report_numbers_ignore_the_locale(void **state)
{
    (void)state;
    const char *loc = setlocale(LC_ALL, "de_DE.UTF-8");
    if (loc == NULL)
        loc = setlocale(LC_ALL, "fr_FR.UTF-8");
    if (loc == NULL)
        skip();
    char out[64];
    make_tmpdir(out, sizeof out);
    hj_result res[2];
    build_results(out, res, 0);
    hj_error err = {0};
    hj_status st = hj_report_write_html(out, res, 2, 1, 1.0, &err);
    setlocale(LC_ALL, "C");
    assert_int_equal(st, HJ_OK);
    char path[1200];
    snprintf(path, sizeof path, "%s/report.html", out);
    char *page = slurp(path, NULL);
    assert_non_null(page);
    assert_non_null(strstr(page, "-0.4875"));
    assert_null(strstr(page, "-0,4875"));
    free(page);
    hj_result_free(&res[0]);
    hj_result_free(&res[1]);
    remove_tree(out);
}

static void report_error_paths_and_empty_run(void **state)
{
    (void)state;
    hj_error err = {0};
    assert_int_equal(hj_report_write_html(NULL, NULL, 0, 1, 0.0, &err), HJ_EINVAL);
    assert_int_equal(hj_report_write_html("", NULL, 0, 1, 0.0, &err), HJ_EINVAL);
    assert_int_equal(hj_report_write_html("/tmp", NULL, 3, 1, 0.0, &err), HJ_EINVAL);
    assert_int_equal(hj_report_write_html("/tmp", NULL, 3, 1, 0.0, NULL), HJ_EINVAL);

    char out[64];
    make_tmpdir(out, sizeof out);
    char missing[1200];
    snprintf(missing, sizeof missing, "%s/does/not/exist", out);
    assert_int_equal(hj_report_write_html(missing, NULL, 0, 1, 0.0, &err), HJ_EIO);
    assert_non_null(strstr(err.msg, "report.html"));

    /* an empty run: every claim is "not yet reproduced" */
    assert_int_equal(hj_report_write_html(out, NULL, 0, 0, 0.0, &err), HJ_OK);
    char path[1200];
    snprintf(path, sizeof path, "%s/report.html", out);
    char *page = slurp(path, NULL);
    assert_non_null(page);
    for (int k = 1; k <= 13; k++) {
        char *row = summary_row(page, k);
        assert_non_null(row);
        assert_non_null(strstr(row, "not yet reproduced"));
        free(row);
    }
    free(page);
    remove_tree(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plot_renders_png_and_svg_from_csv),
        cmocka_unit_test(plot_filter_selects_rows),
        cmocka_unit_test(plot_rejects_bad_arguments),
        cmocka_unit_test(plot_missing_csv_reports_gnuplot_complaint),
        cmocka_unit_test(plot_without_gnuplot_writes_script),
        cmocka_unit_test(report_has_summary_sections_and_escaping),
        cmocka_unit_test(report_orders_sources_and_compares_runs),
        cmocka_unit_test(report_numbers_ignore_the_locale),
        cmocka_unit_test(report_error_paths_and_empty_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
