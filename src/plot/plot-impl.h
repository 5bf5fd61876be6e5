/* plot-impl.h — internals of the plot module shared with other modules (not installed). */
#ifndef HJDL_PLOT_IMPL_H
#define HJDL_PLOT_IMPL_H

#include "hjdl/status.h"

/* Run gnuplot on the script DIR/NAME.gp (which must read the variables
 * `term` and `outfile` as hj_plot_render's scripts do) to produce
 * DIR/NAME.png and DIR/NAME.svg, each via a temporary file renamed on
 * success; gnuplot's stderr becomes the error message. For figures plot.h
 * cannot describe (e.g. the entropy heat maps of landscape_plot.c). */
hj_status hj__plot_run_script(const char *dir, const char *name, hj_error *err);

#endif /* HJDL_PLOT_IMPL_H */
