/* plot.h — figures rendered by gnuplot from CSV files an experiment wrote.
 *
 * hj_plot_render writes NAME.gp (a plain gnuplot script that reads the CSV,
 * so anyone can restyle it) into dir and runs gnuplot on it twice, giving
 * NAME.png and NAME.svg. The CSV paths in series are relative to dir.
 */
#ifndef HJDL_PLOT_H
#define HJDL_PLOT_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HJ_PLOT_MAX_SERIES 16

typedef struct hj_plot_series {
    const char *csv;       /* file in dir, with a header line */
    int xcol, ycol;        /* 1-based columns */
    int errcol;            /* 1-based column of y error bars, 0 for none */
    const char *title;     /* legend entry ("" for none) */
    const char *style;     /* "linespoints" (default), "points", "lines" */
    const char *filter;    /* optional gnuplot condition on columns to select rows,
                              e.g. "$3 == 2" (rows failing it are skipped); NULL = all */
} hj_plot_series;

typedef struct hj_plot {
    const char *name;      /* base file name: NAME.gp, NAME.png, NAME.svg */
    const char *title;
    const char *xlabel, *ylabel;
    int logx, logy;
    size_t n_series;
    hj_plot_series series[HJ_PLOT_MAX_SERIES];
    /* optional extra plot elements as gnuplot function strings with titles,
     * e.g. fitted lines: "exp(-1.23)*x**(-0.5)" titled "fit slope -0.50" */
    size_t n_functions;
    const char *functions[4];
    const char *function_titles[4];
} hj_plot;

/* Render the plot into dir. HJ_EIO when gnuplot is missing or fails (the
 * message says so); the .gp script is written even then. */
HJ_API hj_status hj_plot_render(const char *dir, const hj_plot *p, hj_error *err);

/* Whether a working gnuplot is on PATH. */
HJ_API int hj_plot_available(void);

/* Run gnuplot on the script DIR/NAME.gp (which must read the variables
 * `term` and `outfile` as hj_plot_render's scripts do) to produce
 * DIR/NAME.png and DIR/NAME.svg, each via a temporary file renamed on
 * success; gnuplot's stderr becomes the error message. For figures plot.h
 * cannot describe (e.g. the entropy heat maps of landscape_plot.c). */
HJ_API hj_status hj_plot_run_script(const char *dir, const char *name, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_PLOT_H */
