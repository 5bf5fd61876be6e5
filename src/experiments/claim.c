/* claim.c — claims with a form, a tolerance and a 95 % interval, and the three-way verdict
 * rule of SPEC §4 (see experiment.h for the rule itself). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hjdl/experiment.h"
#include "experiments/experiments-impl.h"

const char *hj_claim_source_name(hj_claim_source s)
{
    return s == HJ_SOURCE_PAPER ? "paper" : "hjdl";
}

const char *hj_claim_form_name(hj_claim_form f)
{
    switch (f) {
    case HJ_FORM_EQUALS: return "equals";
    case HJ_FORM_AT_MOST: return "at most";
    case HJ_FORM_AT_LEAST: return "at least";
    case HJ_FORM_AS_FAST_AS: return "at least as fast as";
    case HJ_FORM_TREND: return "trend";
    }
    return "equals";
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static hj_verdict say(hj_verdict v, char *why, size_t len, const char *fmt, ...)
{
    if (why != NULL && len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return v;
}

hj_verdict hj_verdict_decide(hj_claim_form form, double p, double delta, double lo, double hi,
                             char *why, size_t len)
{
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(p) || !isfinite(delta) || lo > hi)
        return say(HJ_VERDICT_INCONCLUSIVE, why, len,
                   "the interval [%.4g, %.4g] (or the prediction %.4g, tolerance %.4g) is not finite",
                   lo, hi, p, delta);
    switch (form) {
    case HJ_FORM_EQUALS:
        if (lo >= p - delta && hi <= p + delta)
            return say(HJ_VERDICT_AGREES, why, len,
                       "the interval [%.4g, %.4g] lies inside the band [%.4g, %.4g]", lo, hi,
                       p - delta, p + delta);
        if (hi < p - delta || lo > p + delta)
            return say(HJ_VERDICT_DISAGREES, why, len,
                       "the interval [%.4g, %.4g] misses the band [%.4g, %.4g]", lo, hi, p - delta,
                       p + delta);
        return say(HJ_VERDICT_INCONCLUSIVE, why, len,
                   "the interval [%.4g, %.4g] straddles an edge of the band [%.4g, %.4g]", lo, hi,
                   p - delta, p + delta);
    case HJ_FORM_AT_MOST:
    case HJ_FORM_AS_FAST_AS:
        if (hi <= p + delta)
            return say(HJ_VERDICT_AGREES, why, len,
                       "the interval [%.4g, %.4g] lies at or below %.4g (= %.4g + tolerance)", lo, hi,
                       p + delta, p);
        if (lo > p + delta)
            return say(HJ_VERDICT_DISAGREES, why, len,
                       "the interval [%.4g, %.4g] lies above %.4g (= %.4g + tolerance)", lo, hi,
                       p + delta, p);
        return say(HJ_VERDICT_INCONCLUSIVE, why, len,
                   "the interval [%.4g, %.4g] contains the limit %.4g (= %.4g + tolerance)", lo, hi,
                   p + delta, p);
    case HJ_FORM_AT_LEAST:
        if (lo >= p - delta)
            return say(HJ_VERDICT_AGREES, why, len,
                       "the interval [%.4g, %.4g] lies at or above %.4g (= %.4g - tolerance)", lo, hi,
                       p - delta, p);
        if (hi < p - delta)
            return say(HJ_VERDICT_DISAGREES, why, len,
                       "the interval [%.4g, %.4g] lies below %.4g (= %.4g - tolerance)", lo, hi,
                       p - delta, p);
        return say(HJ_VERDICT_INCONCLUSIVE, why, len,
                   "the interval [%.4g, %.4g] contains the limit %.4g (= %.4g - tolerance)", lo, hi,
                   p - delta, p);
    case HJ_FORM_TREND: {
        const double s = p > 0.0 ? 1.0 : -1.0;
        const double a = s > 0.0 ? lo : -hi, b = s > 0.0 ? hi : -lo; /* the interval times s */
        if (a > 0.0)
            return say(HJ_VERDICT_AGREES, why, len,
                       "the interval [%.4g, %.4g] lies strictly on the predicted side of 0 (sign %+.0f)",
                       lo, hi, s);
        if (b < 0.0)
            return say(HJ_VERDICT_DISAGREES, why, len,
                       "the interval [%.4g, %.4g] lies strictly on the other side of 0 (predicted sign %+.0f)",
                       lo, hi, s);
        return say(HJ_VERDICT_INCONCLUSIVE, why, len,
                   "the interval [%.4g, %.4g] contains 0 (predicted sign %+.0f)", lo, hi, s);
    }
    }
    return say(HJ_VERDICT_INCONCLUSIVE, why, len, "unknown claim form %d", (int)form);
}

void hj_claim_rule_text(hj_claim_form form, double p, double delta, char *buf, size_t len)
{
    switch (form) {
    case HJ_FORM_EQUALS:
        snprintf(buf, len,
                 "equals %g within %g: agrees when the 95%% interval lies inside [%g, %g], disagrees "
                 "when it misses that band, inconclusive otherwise",
                 p, delta, p - delta, p + delta);
        return;
    case HJ_FORM_AT_MOST:
    case HJ_FORM_AS_FAST_AS:
        snprintf(buf, len,
                 "%s %g (tolerance %g): agrees when the 95%% interval lies at or below %g, disagrees "
                 "when it lies above, inconclusive when it contains %g",
                 hj_claim_form_name(form), p, delta, p + delta, p + delta);
        return;
    case HJ_FORM_AT_LEAST:
        snprintf(buf, len,
                 "at least %g (tolerance %g): agrees when the 95%% interval lies at or above %g, "
                 "disagrees when it lies below, inconclusive when it contains %g",
                 p, delta, p - delta, p - delta);
        return;
    case HJ_FORM_TREND:
        snprintf(buf, len,
                 "trend of sign %s: agrees when the 95%% interval of the slope lies strictly %s 0, "
                 "disagrees when it lies strictly %s 0, inconclusive when it contains 0",
                 p > 0.0 ? "+" : "-", p > 0.0 ? "above" : "below", p > 0.0 ? "below" : "above");
        return;
    }
    snprintf(buf, len, "unknown claim form");
}

hj_status hj_claim_part(hj_claim_measurement *m, const char *name, double half_width, hj_error *err)
{
    if (m == NULL || name == NULL)
        return hj_error_set(err, HJ_EINVAL, "claim part: NULL argument");
    if (m->n_parts >= HJ_CLAIM_MAX_PARTS)
        return hj_error_set(err, HJ_EINVAL, "claim part '%s': at most %d parts", name,
                            HJ_CLAIM_MAX_PARTS);
    hj_interval_part *pt = &m->parts[m->n_parts++];
    snprintf(pt->name, sizeof pt->name, "%s", name);
    pt->half_width = isnan(half_width) ? NAN : fabs(half_width);
    return HJ_OK;
}

double hj_student_t975(size_t dof)
{
    /* Exact table for small dof (the quantiles to 4 digits), then the
     * Cornish-Fisher expansion in 1/dof, which is within 1e-4 for dof > 30. */
    static const double table[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                     2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                     2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                     2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    const double z = 1.959963984540054;
    if (dof == 0)
        return z;
    if (dof <= 30)
        return table[dof - 1];
    const double n = (double)dof, z3 = z * z * z, z5 = z3 * z * z;
    return z + (z3 + z) / (4.0 * n) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n);
}

double hj_claim_half_width_se(double se, size_t dof)
{
    return hj_student_t975(dof) * se;
}
