/* report.c — the self-contained HTML report of `hjdl reproduce`: summary by claim, then one section per claim. */
#include "hjdl/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "io/io.h"

#define N_CLAIMS 13

/* One-line paraphrases of SPEC §2, C1..C13. */
static const char *const CLAIM_TITLE[N_CLAIMS + 1] = {
    "",
    "LSE = Hopf–Cole, exactly",
    "PDE residual",
    "Commutative diagram: four independent vertices",
    "Semigroup property",
    "Softplus/ReLU and depth",
    "Attention = Gibbs average",
    "Training selects initial data; recovery as ε → 0",
    "Quadrature / scaling rate O(N^(−1/d))",
    "Generalisation rate n^(−1/(d+2))",
    "Robustness controlled by ε",
    "Backprop = co-state (Pontryagin)",
    "Closed-form O(N) influence",
    "Fold bifurcations of the entropy landscape",
};

static const char *const CLAIM_STATEMENT[N_CLAIMS + 1] = {
    "",
    "An LSE layer and the Hopf–Cole solution of the mapped initial data satisfy "
    "f_ε + u_ε = |x|²/(4t) to ~1e-14 relative, for ε from 0 to 1e3.",
    "The closed-form residual of ∂_t u + |∇u|² − εΔu equals −εd/(2t), and central finite "
    "differences of u agree with it.",
    "Network (LSE), viscous PDE grid solver, tropical / Hopf–Lax (and a monotone inviscid "
    "scheme) and an iterative entropic solver agree; ε → 0 gaps stay within ε log N.",
    "Hopf–Lax and the viscous propagator compose: stepping s then t equals one step over t+s.",
    "softplus_ε → ReLU at rate ε log 2, 2-layer softplus nets → ReLU nets, and ReLU is exactly "
    "the Hopf–Lax solution of 2-atom initial data.",
    "A tiled online-softmax attention kernel equals the naive reference and, with V = K, the "
    "gradient ∇f_ε; an LSE transformer block satisfies the HJ identity per layer.",
    "Fitting an LSE layer to a Hopf–Lax solution recovers the initial data g*(y) = |y|, "
    "more closely as ε → 0.",
    "Grid quadrature and trained LSE networks converge as N^(−1/d) (slopes −1, −0.5, −0.25 for "
    "d = 1, 2, 4); the exponent follows the intrinsic dimension of the data.",
    "The Hopf–Cole (Gibbs) estimator on noisy Lipschitz data has test RMSE ~ n^(−1/(d+2)), the "
    "minimax rate.",
    "The exact Hessian Cov_π(w)/ε never exceeds max|w|²/ε (and tighter certificates); robust "
    "accuracy rises with ε and certified radii are never broken.",
    "For residual and recurrent networks the co-state recursion equals backprop; viscosity "
    "equals noise in the controlled system (expected cost = u_ε).",
    "Removing atom k changes the prediction by exactly π_k(v_k − P)/(1 − π_k), and removing a "
    "neuron changes f_ε by ε log(1 − π_k), at O(N) cost.",
    "Critical points of the entropy landscape followed in ε meet at fold bifurcations where "
    "attribution basins merge.",
};

typedef struct report_ctx {
    const char *out_dir;
    const hj_result *results;
    size_t n;
    int quick;
    double seconds;
    const hj_report_options *opt;
} report_ctx;

/* ---- small helpers ---------------------------------------------------------- */

/* 1..13 for "C1".."C13" (case-insensitive C), 0 otherwise. */
static int claim_index(const char *id)
{
    if (id == NULL || (id[0] != 'C' && id[0] != 'c'))
        return 0;
    int v = 0;
    const char *p = id + 1;
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = 10 * v + (*p - '0');
        if (v > N_CLAIMS)
            return 0;
    }
    return (*p == '\0' && v >= 1) ? v : 0;
}

/* Claims named by a registry spec such as "C8", "C1-C6", "C8,C9" as a bit mask. */
static unsigned spec_mask(const char *spec)
{
    unsigned mask = 0;
    const char *p = spec;
    while (p && *p) {
        while (*p == ' ' || *p == ',' || *p == ';')
            p++;
        if (*p != 'C' && *p != 'c') {
            if (*p)
                p++;
            continue;
        }
        char *end;
        long a = strtol(p + 1, &end, 10);
        long b = a;
        if (end == p + 1) {
            p++;
            continue;
        }
        p = end;
        if (*p == '-') {
            const char *q = p + 1;
            if (*q == 'C' || *q == 'c')
                q++;
            long bb = strtol(q, &end, 10);
            if (end != q) {
                b = bb;
                p = end;
            }
        }
        if (a < 1)
            a = 1;
        if (b > N_CLAIMS)
            b = N_CLAIMS;
        for (long k = a; k <= b; k++)
            mask |= 1u << k;
    }
    return mask;
}

/* Claims that a result's checks and claims mention (bit k for Ck; bit 0 for
 * rows whose claim id is not C1..C13). */
static unsigned mention_mask(const hj_result *r)
{
    unsigned mask = 0;
    for (size_t i = 0; i < r->checks.n; i++)
        mask |= 1u << claim_index(r->checks.items[i].claim);
    for (size_t i = 0; i < r->n_claims; i++)
        mask |= 1u << claim_index(r->claims[i].claim);
    return mask;
}

static const hj_experiment *registry_entry(const hj_result *r)
{
    return hj_experiment_find(r->experiment);
}

/* Sections a result appears in: claims it mentions plus those the registry
 * says it covers; bit 0 (the "other" section) when neither names a claim or
 * some row has an unknown claim id. */
static unsigned cover_mask(const hj_result *r)
{
    const hj_experiment *e = registry_entry(r);
    unsigned mask = mention_mask(r) | (e ? spec_mask(e->claims) : 0u);
    if ((mask & ~1u) == 0)
        mask |= 1u;
    return mask;
}

/* The section holding an experiment's figures: its first claim (0 = other). */
static int primary_section(const hj_result *r)
{
    unsigned m = cover_mask(r);
    for (int k = 1; k <= N_CLAIMS; k++)
        if (m & (1u << k))
            return k;
    return 0;
}

static void html(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\n':
        case '\t': fputc(*s, f); break;
        default:
            if ((unsigned char)*s < 0x20 || *s == 0x7f)
                fputc('?', f);
            else
                fputc(*s, f);
        }
    }
}

/* A relative URL path: percent-encode every byte outside [A-Za-z0-9-._~/]. */
static void url(FILE *f, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
            fputc(c, f);
        else
            fprintf(f, "%%%c%c", hex[c >> 4], hex[c & 15]);
    }
}

/* An anchor-safe form of a name. */
static void slug(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        char c = *s;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
        fputc(ok ? c : '-', f);
    }
}

/* Anchor of experiment r inside section k ("C3-identity", "other-x"). */
static void exp_anchor(FILE *f, int k, const hj_result *r)
{
    if (k > 0)
        fprintf(f, "C%d-", k);
    else
        fputs("other-", f);
    slug(f, r->experiment);
}

static void skip_dot_slash(const char **p)
{
    while ((*p)[0] == '.' && (*p)[1] == '/') {
        *p += 2;
        while (**p == '/')
            (*p)++;
    }
}

/* The directory of r relative to out_dir (the page's location), with a
 * trailing '/' unless empty. Falls back to the last path component. */
static void rel_dir(const char *out_dir, const char *dir, char *buf, size_t len)
{
    const char *o = out_dir, *d = dir;
    skip_dot_slash(&o);
    skip_dot_slash(&d);
    size_t ol = strlen(o);
    while (ol > 1 && o[ol - 1] == '/')
        ol--;
    size_t dl = strlen(d);
    while (dl > 1 && d[dl - 1] == '/')
        dl--;
    const char *rest = NULL;
    size_t rl = 0;
    if ((ol == 0 || (ol == 1 && o[0] == '.')) && d[0] != '/') {
        rest = d;
        rl = dl;
    } else if (dl >= ol && strncmp(o, d, ol) == 0 && (dl == ol || d[ol] == '/')) {
        rest = d + ol;
        rl = dl - ol;
        while (rl > 0 && *rest == '/') {
            rest++;
            rl--;
        }
    } else {
        const char *slash = NULL;
        for (size_t i = 0; i < dl; i++)
            if (d[i] == '/')
                slash = d + i;
        rest = slash ? slash + 1 : d;
        rl = (size_t)(d + dl - rest);
    }
    if (rl == 1 && rest[0] == '.')
        rl = 0;
    if (rl + 2 > len)
        rl = 0;
    memcpy(buf, rest, rl);
    if (rl > 0)
        buf[rl++] = '/';
    buf[rl] = '\0';
}

static void seconds_text(FILE *f, double s)
{
    if (!isfinite(s) || s < 0)
        fputs("—", f);
    else if (s < 10)
        fprintf(f, "%.2f s", s);
    else if (s < 120)
        fprintf(f, "%.1f s", s);
    else
        fprintf(f, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60.0));
}

/* A number with %.4g (value) or %.3g (threshold, uncertainty); prec is 4 or 3. */
static void num(FILE *f, int prec, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "∞" : "−∞", f);
    else if (prec == 3)
        fprintf(f, "%.3g", v);
    else
        fprintf(f, "%.4g", v);
}

static const char *verdict_class(hj_verdict v)
{
    switch (v) {
    case HJ_VERDICT_AGREES: return "agrees";
    case HJ_VERDICT_DISAGREES: return "disagrees";
    case HJ_VERDICT_INCONCLUSIVE: return "inconclusive";
    }
    return "inconclusive";
}

static void verdict_badge(FILE *f, hj_verdict v, size_t count, int with_count)
{
    fprintf(f, "<span class=\"verdict %s\">", verdict_class(v));
    if (with_count)
        fprintf(f, "%zu ", count);
    fputs(hj_verdict_name(v), f);
    fputs("</span>", f);
}

typedef struct tally {
    size_t checks, passed;
    size_t verdicts[3];
} tally;

/* Checks and verdicts of r in section k (k < 0: all rows). */
static void tally_result(const hj_result *r, int k, tally *t)
{
    for (size_t i = 0; i < r->checks.n; i++) {
        if (k >= 0 && claim_index(r->checks.items[i].claim) != k)
            continue;
        t->checks++;
        t->passed += r->checks.items[i].pass ? 1 : 0;
    }
    for (size_t i = 0; i < r->n_claims; i++) {
        if (k >= 0 && claim_index(r->claims[i].claim) != k)
            continue;
        unsigned v = (unsigned)r->claims[i].verdict;
        t->verdicts[v < 3 ? v : HJ_VERDICT_INCONCLUSIVE]++;
    }
}

static void checks_cell(FILE *f, const tally *t)
{
    if (t->checks == 0) {
        fputs("<td class=\"num muted\">—</td>", f);
        return;
    }
    size_t failed = t->checks - t->passed;
    fprintf(f, "<td class=\"num %s\">%zu/%zu", failed ? "fail" : "pass", t->passed, t->checks);
    if (failed)
        fprintf(f, " <span class=\"failcount\">%zu FAIL</span>", failed);
    fputs("</td>", f);
}

static void verdicts_cell(FILE *f, const tally *t)
{
    fputs("<td>", f);
    int any = 0;
    /* disagreements first: they are the findings */
    static const hj_verdict order[3] = {HJ_VERDICT_DISAGREES, HJ_VERDICT_AGREES,
                                        HJ_VERDICT_INCONCLUSIVE};
    for (int i = 0; i < 3; i++) {
        size_t c = t->verdicts[order[i]];
        if (c == 0)
            continue;
        if (any)
            fputc(' ', f);
        verdict_badge(f, order[i], c, 1);
        any = 1;
    }
    if (!any)
        fputs("<span class=\"muted\">no claims</span>", f);
    fputs("</td>", f);
}


/* Write the bytes of file path as base64 (RFC 4648); 0 when it cannot be read. */
static int base64_file(FILE *f, const char *path)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL)
        return 0;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char b[3];
    size_t k;
    while ((k = fread(b, 1, 3, in)) > 0) {
        unsigned v = (unsigned)b[0] << 16 | (k > 1 ? (unsigned)b[1] << 8 : 0u) | (k > 2 ? b[2] : 0u);
        fputc(b64[v >> 18 & 63], f);
        fputc(b64[v >> 12 & 63], f);
        fputc(k > 1 ? b64[v >> 6 & 63] : '=', f);
        fputc(k > 2 ? b64[v & 63] : '=', f);
        if (k < 3)
            break;
    }
    int ok = !ferror(in);
    fclose(in);
    return ok;
}

static void interval_text(FILE *f, double lo, double hi)
{
    fputc('[', f);
    num(f, 4, lo);
    fputs(", ", f);
    num(f, 4, hi);
    fputc(']', f);
}

static void parts_text(FILE *f, const hj_claim *cl)
{
    if (cl->n_parts == 0) {
        fputs("<span class=\"muted\">—</span>", f);
        return;
    }
    for (size_t k = 0; k < cl->n_parts; k++) {
        fputs(k ? "<br>" : "", f);
        html(f, cl->parts[k].name);
        fputs(" ±", f);
        num(f, 3, cl->parts[k].half_width);
    }
}

static void provisional_tag(FILE *f, const hj_claim *cl)
{
    if (cl->provisional)
        fputs(" <span class=\"prov\" title=\"measured in a --quick run: a full run decides\">"
              "provisional</span>",
              f);
}

/* One row of a verdict table: experiment, statement (and the paper's words),
 * form, predicted, tolerance, measured, interval, parts, verdict + why. */
static void verdict_row(FILE *f, const hj_result *r, const hj_claim *cl)
{
    const int k = claim_index(cl->claim);
    /* a provisional (quick) disagreement is not a finding: no red row */
    fputs(cl->verdict == HJ_VERDICT_DISAGREES && !cl->provisional ? "<tr class=\"row-disagrees\">" : "<tr>", f);
    fputs("<td class=\"cid\">", f);
    html(f, cl->claim);
    fputs("</td><td><a href=\"#", f);
    exp_anchor(f, k, r);
    fputs("\">", f);
    html(f, r->experiment);
    /* the verdict third, where a reader looks first (the row is wide) */
    fputs("</a></td><td class=\"vcell\">", f);
    verdict_badge(f, cl->verdict, 0, 0);
    provisional_tag(f, cl);
    if (cl->why[0]) {
        fputs("<div class=\"why\">", f);
        html(f, cl->why);
        fputs("</div>", f);
    }
    fputs("</td><td>", f);
    html(f, cl->statement);
    if (cl->paper_words[0]) {
        fputs("<div class=\"words\">paper: “", f);
        html(f, cl->paper_words);
        fputs("”</div>", f);
    }
    fputs("</td><td>", f);
    html(f, hj_claim_form_name(cl->form));
    fputs("</td><td class=\"num\">", f);
    if (cl->form == HJ_FORM_TREND)
        fputs(cl->predicted > 0 ? "&gt; 0" : "&lt; 0", f);
    else
        num(f, 4, cl->predicted);
    fputs("</td><td class=\"tol\" title=\"", f);
    html(f, cl->tolerance_reason);
    fputs("\">", f);
    num(f, 3, cl->tolerance);
    if (cl->tolerance_reason[0]) {
        fputs("<div class=\"why\">", f);
        html(f, cl->tolerance_reason);
        fputs("</div>", f);
    }
    fputs("</td><td class=\"num\">", f);
    num(f, 4, cl->measured);
    fputs("</td><td class=\"num\">", f);
    interval_text(f, cl->lo, cl->hi);
    fputs("</td><td class=\"parts\">", f);
    parts_text(f, cl);
    fputs("</td></tr>\n", f);
}

static const char VERDICT_HEAD[] =
    "<thead><tr><th>Claim</th><th>Experiment</th><th>Verdict</th><th>Statement</th><th>Form</th>"
    "<th>Predicted</th><th>Tolerance</th><th>Measured</th><th>95 % interval</th>"
    "<th>Interval parts</th></tr></thead>\n<tbody>\n";

/* The verdict tables: the paper's claims, then hjdl's own tests. */
static void write_verdict_tables(FILE *f, const report_ctx *c)
{
    for (int src = 0; src < 2; src++) {
        const hj_claim_source want = src == 0 ? HJ_SOURCE_PAPER : HJ_SOURCE_HJDL;
        size_t count = 0;
        for (size_t i = 0; i < c->n; i++)
            for (size_t j = 0; j < c->results[i].n_claims; j++)
                count += c->results[i].claims[j].source == want;
        if (src == 0) {
            fputs("<h2 id=\"paper-claims\">Verdicts: the paper's claims</h2>\n", f);
            fputs("<p class=\"legend\">Each row is a statement of the paper (its words below the "
                  "statement), measured here, with a 95 % interval whose parts are listed, and "
                  "judged by its form and tolerance (fixed in the code before the run): "
                  "<i>equals</i> agrees when the interval lies inside prediction ± tolerance and "
                  "disagrees when it misses that band; one-sided forms compare with one edge; a "
                  "<i>trend</i> is the sign of the interval. Anything else is inconclusive, and so "
                  "is a claim about trained models whose answer moves by more than its tolerance "
                  "when the training budget doubles (not converged).</p>\n",
                  f);
        } else {
            fputs("<h2 id=\"hjdl-claims\">Further tests of hjdl's</h2>\n", f);
            fputs("<p class=\"legend\">Predictions hjdl adds beyond the paper's statements (attacks, "
                  "certified radii, fitted laws the paper does not state), judged by the same "
                  "rule.</p>\n",
                  f);
        }
        if (count == 0) {
            fputs("<p class=\"none\">none in this run</p>\n", f);
            continue;
        }
        fputs("<div class=\"wide\"><table class=\"verdicts\">\n", f);
        fputs(VERDICT_HEAD, f);
        for (int k = 0; k <= N_CLAIMS; k++)
            for (size_t i = 0; i < c->n; i++)
                for (size_t j = 0; j < c->results[i].n_claims; j++) {
                    const hj_claim *cl = &c->results[i].claims[j];
                    if (cl->source == want && claim_index(cl->claim) == k)
                        verdict_row(f, &c->results[i], cl);
                }
        fputs("</tbody>\n</table></div>\n", f);
    }
}

static int flips(hj_verdict a, hj_verdict b)
{
    return (a == HJ_VERDICT_AGREES && b == HJ_VERDICT_DISAGREES) ||
           (a == HJ_VERDICT_DISAGREES && b == HJ_VERDICT_AGREES);
}

/* The other run's row for claim j of r: the k-th claim with r's experiment
 * and claim id in the other run, where claim j is the k-th with that id in r.
 * Matched by position, not by statement: statements name the run's sizes
 * (steps, grids), which differ between a quick and a full run. NULL when the
 * other run has no such claim. */
static const hj_report_claim_row *other_claim(const hj_report_options *o, const hj_result *r, size_t j)
{
    size_t k = 0;
    for (size_t i = 0; i < j; i++)
        k += strcmp(r->claims[i].claim, r->claims[j].claim) == 0;
    for (size_t q = 0; q < o->n_compare; q++) {
        const hj_report_claim_row *w = &o->compare[q];
        if (strcmp(w->experiment, r->experiment) == 0 && strcmp(w->claim, r->claims[j].claim) == 0 && k-- == 0)
            return w;
    }
    return NULL;
}

/* The verdict-stability table: this run's claims next to another run's. */
static void write_stability_table(FILE *f, const report_ctx *c)
{
    const hj_report_options *o = c->opt;
    if (o == NULL || o->compare == NULL)
        return;
    size_t matched = 0, nflip = 0, changed = 0;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->results[i].n_claims; j++) {
            const hj_report_claim_row *w = other_claim(o, &c->results[i], j);
            const hj_verdict v = c->results[i].claims[j].verdict;
            matched += w != NULL;
            nflip += w && flips(v, w->verdict);
            changed += w && v != w->verdict;
        }
    fputs("<h2 id=\"stability\">Verdict stability</h2>\n<p class=\"legend\">This run next to ", f);
    html(f, o->compare_label ? o->compare_label : "another run");
    fprintf(f, ": %zu of this run's claims matched (by experiment, claim id and order); %zu verdicts "
               "differ, %zu of them between agrees and disagrees (a flip: a tolerance or design "
               "problem to fix or explain).</p>\n",
            matched, changed, nflip);
    fputs("<details open><summary>Per claim</summary><div class=\"wide\"><table class=\"stability\">\n"
          "<thead><tr><th>Claim</th><th>Experiment</th><th>Statement</th><th>This run</th>"
          "<th>Interval</th><th>Other run</th><th>Interval</th><th></th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->results[i].n_claims; j++) {
            const hj_claim *cl = &c->results[i].claims[j];
            const hj_report_claim_row *w = other_claim(o, &c->results[i], j);
            const int flip = w && flips(cl->verdict, w->verdict);
            fputs(flip ? "<tr class=\"row-disagrees\"><td class=\"cid\">" : "<tr><td class=\"cid\">", f);
            html(f, cl->claim);
            fputs("</td><td>", f);
            html(f, c->results[i].experiment);
            fputs("</td><td>", f);
            html(f, cl->statement);
            if (w && strcmp(w->statement, cl->statement) != 0) {
                fputs("<div class=\"why\">other run: ", f);
                html(f, w->statement);
                fputs("</div>", f);
            }
            fputs("</td><td>", f);
            verdict_badge(f, cl->verdict, 0, 0);
            provisional_tag(f, cl);
            fputs("</td><td class=\"num\">", f);
            interval_text(f, cl->lo, cl->hi);
            fputs("</td><td>", f);
            if (w) {
                verdict_badge(f, w->verdict, 0, 0);
                if (w->provisional)
                    fputs(" <span class=\"prov\">provisional</span>", f);
                fputs("</td><td class=\"num\">", f);
                interval_text(f, w->lo, w->hi);
            } else {
                fputs("<span class=\"muted\">not in the other run</span></td><td>", f);
            }
            fputs("</td><td>", f);
            fputs(flip ? "<b class=\"bad\">flip</b>" : (w && w->verdict != cl->verdict ? "changed" : ""), f);
            fputs("</td></tr>\n", f);
        }
    fputs("</tbody>\n</table></div></details>\n", f);
}

/* ---- page parts ------------------------------------------------------------- */

static const char CSS[] =
    ":root{--ok:#137333;--okbg:#e6f4ea;--bad:#c5221f;--badbg:#fce8e6;--warn:#8a5300;"
    "--warnbg:#fef3d6;--muted:#5f6368;--line:#dadce0;--head:#f1f3f4;--link:#1a56b0}\n"
    "*{box-sizing:border-box}\n"
    "html{background:#eef0f3}\n"
    "body{margin:0;color:#202124;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'DejaVu Sans',Arial,sans-serif}\n"
    "main{max-width:1360px;margin:0 auto;padding:28px 36px 64px;background:#fff;"
    "box-shadow:0 0 0 1px #e3e5e8}\n"
    "a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}\n"
    "h1{font-size:25px;line-height:1.25;margin:0 0 6px}\n"
    "h2{font-size:20px;margin:40px 0 10px;padding-top:14px;border-top:2px solid var(--line)}\n"
    "h2 .cid{display:inline-block;min-width:44px;margin-right:10px;color:var(--link)}\n"
    "h2 .top{float:right;font-size:13px;font-weight:400}\n"
    "h3{font-size:17px;margin:22px 0 6px}\n"
    "h3 .secs{font-size:13px;font-weight:400;color:var(--muted);margin-left:8px}\n"
    "h4{font-size:14px;margin:14px 0 4px;color:#3c4043;text-transform:uppercase;"
    "letter-spacing:.04em}\n"
    ".meta{color:var(--muted);margin:0 0 16px}\n"
    ".statement{margin:0 0 10px;color:#3c4043}\n"
    ".status{display:flex;flex-wrap:wrap;gap:14px 28px;align-items:center;padding:14px 18px;"
    "border-radius:8px;border:1px solid var(--line);background:#fafbfc;margin:0 0 12px}\n"
    ".status.ok{border-left:6px solid var(--ok)}.status.bad{border-left:6px solid var(--bad)}\n"
    ".status .big{font-size:22px;font-weight:700;margin-right:4px}\n"
    ".status .ok{color:var(--ok)}.status .bad{color:var(--bad)}\n"
    ".alert{border:1px solid #f3b8b3;background:var(--badbg);border-radius:8px;"
    "padding:10px 16px;margin:10px 0}\n"
    ".alert h3{margin:2px 0 6px;font-size:15px;color:var(--bad)}\n"
    ".alert ul{margin:0;padding-left:20px}\n"
    ".legend{color:var(--muted);font-size:13.5px;margin:8px 0 0}\n"
    "table{border-collapse:collapse;width:100%;margin:6px 0 14px;font-size:14px}\n"
    "th,td{border:1px solid var(--line);padding:5px 9px;text-align:left;vertical-align:top}\n"
    "th{background:var(--head);font-weight:600;white-space:nowrap}\n"
    "tbody tr:nth-child(even){background:#fafbfc}\n"
    "td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\n"
    "td.cid{font-weight:700;white-space:nowrap}\n"
    "table.summary td.stmt b{display:block}\n"
    "table.summary td.stmt span{color:var(--muted);font-size:13px}\n"
    "table.summary tr.has-disagree{background:var(--badbg)!important}\n"
    "table.summary tr.has-fail td.cid{box-shadow:inset 4px 0 0 var(--bad)}\n"
    "table.kv{width:auto;min-width:50%}\n"
    "table.kv td:first-child{font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
    "font-size:13px}\n"
    "tr.row-disagrees{background:var(--badbg)!important}\n"
    "tr.row-fail{background:var(--badbg)!important}\n"
    ".none,.muted{color:var(--muted)}\n"
    ".none{font-style:italic}\n"
    ".pass{color:var(--ok);font-weight:700}\n"
    ".fail{color:var(--bad);font-weight:700}\n"
    ".tag{display:inline-block;padding:0 8px;border-radius:10px;font-weight:700;font-size:12.5px}\n"
    ".tag.pass{background:var(--okbg);color:var(--ok)}\n"
    ".tag.fail{background:var(--bad);color:#fff}\n"
    ".failcount{color:var(--bad)}\n"
    ".verdict{display:inline-block;padding:0 9px;border-radius:10px;font-weight:600;"
    "font-size:13px;white-space:nowrap;margin:1px 0}\n"
    ".verdict.agrees{background:var(--okbg);color:var(--ok)}\n"
    ".verdict.disagrees{background:var(--bad);color:#fff}\n"
    ".verdict.inconclusive{background:var(--warnbg);color:var(--warn)}\n"
    ".exp{border:1px solid var(--line);border-radius:8px;padding:4px 18px 10px;margin:14px 0}\n"
    ".exp h3{margin-top:10px}\n"
    ".desc{color:var(--muted);margin:0 0 6px}\n"
    ".figs{margin:8px 0}\n"
    "figure{margin:0 0 16px;max-width:800px}\n"
    "figure img{width:100%;max-width:800px;height:auto;display:block;border:1px solid var(--line);"
    "border-radius:4px}\n"
    "figcaption{font-size:13.5px;color:#3c4043;margin-top:4px}\n"
    "figcaption .links{color:var(--muted);white-space:nowrap}\n"
    ".missing{padding:12px;border:1px dashed var(--line);color:var(--muted)}\n"
    ".notes{background:#f8f9fa;border-left:4px solid #c6cace;padding:6px 12px;margin:10px 0;"
    "white-space:pre-wrap}\n"
    ".rule{font-size:12.5px;color:var(--muted);width:34%}\n"
    "table.claims td:first-child{min-width:220px}\n"
    "details{margin:8px 0}summary{cursor:pointer;color:var(--link)}\n"
    "footer{margin-top:48px;color:var(--muted);font-size:13px}\n"
    ".prov{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;"
    "background:#e8eaed;color:#3c4043;margin-left:4px}\n"
    ".why{font-size:12.5px;color:var(--muted);margin-top:2px}\n"
    ".words{font-size:12.5px;color:#3c4043;font-style:italic;margin-top:3px}\n"
    ".parts{font-size:12.5px;white-space:normal;min-width:130px}\n"
    ".wide{overflow-x:auto}\n"
    "table.verdicts,table.stability{font-size:13.5px}\n"
    "table.verdicts td:nth-child(4){min-width:240px}\ntable.stability td:nth-child(3){min-width:300px}\n"
    "td.tol{min-width:130px;max-width:220px;white-space:normal;font-variant-numeric:tabular-nums}\n"
    "td.tol .why{white-space:normal}\n"
    "td.vcell{min-width:130px;max-width:200px}\n"
    ".quickbanner{border:1px solid #c6cace;background:#f1f3f4;border-radius:8px;"
    "padding:10px 16px;margin:10px 0}\n"
    "nav.toc{font-size:14px;margin:10px 0 0}nav.toc a{margin-right:14px}\n";

static void write_header(FILE *f, const report_ctx *c)
{
    tally all = {0, 0, {0, 0, 0}};
    for (size_t i = 0; i < c->n; i++)
        tally_result(&c->results[i], -1, &all);
    size_t failed = all.checks - all.passed;

    char when[64] = "";
    time_t now = time(NULL);
    struct tm tmv;
    if (localtime_r(&now, &tmv) != NULL)
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tmv);

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", f);
    fputs("<title>hjdl reproduce — the Hamilton–Jacobi theory of deep learning</title>\n", f);
    fprintf(f, "<style>\n%s</style>\n</head>\n<body>\n<main>\n", CSS);
    fputs("<header>\n<h1>hjdl reproduce — the Hamilton–Jacobi theory of deep learning</h1>\n", f);
    fputs("<p class=\"meta\">Generated ", f);
    html(f, when);
    fputs(" · ", f);
    fputs(c->quick ? "<b>quick</b> mode (small sizes)" : "<b>full</b> mode", f);
    fputs(" · total wall time ", f);
    seconds_text(f, c->seconds);
    fprintf(f, " · %zu experiment%s</p>\n", c->n, c->n == 1 ? "" : "s");

    fprintf(f, "<div class=\"status %s\">\n", failed ? "bad" : "ok");
    fprintf(f, "<div><span class=\"big %s\">%zu/%zu</span> checks pass", failed ? "bad" : "ok",
            all.passed, all.checks);
    if (failed)
        fprintf(f, " — <b class=\"bad\">%zu FAIL</b> (a failing check is a bug)", failed);
    if (c->quick) {
        fprintf(f, "</div>\n<div>Claims, <span class=\"prov\">provisional</span>: %zu agree, %zu "
                   "disagree, %zu inconclusive (quick run)</div>\n</div>\n",
                all.verdicts[HJ_VERDICT_AGREES], all.verdicts[HJ_VERDICT_DISAGREES],
                all.verdicts[HJ_VERDICT_INCONCLUSIVE]);
    } else {
        fputs("</div>\n<div>Claims: ", f);
        verdict_badge(f, HJ_VERDICT_AGREES, all.verdicts[HJ_VERDICT_AGREES], 1);
        fputc(' ', f);
        verdict_badge(f, HJ_VERDICT_DISAGREES, all.verdicts[HJ_VERDICT_DISAGREES], 1);
        fputc(' ', f);
        verdict_badge(f, HJ_VERDICT_INCONCLUSIVE, all.verdicts[HJ_VERDICT_INCONCLUSIVE], 1);
        fputs("</div>\n</div>\n", f);
    }

    /* what needs a reader's attention, listed up front */
    if (failed) {
        fputs("<div class=\"alert\"><h3>Failing checks</h3><ul>\n", f);
        for (size_t i = 0; i < c->n; i++) {
            const hj_result *r = &c->results[i];
            for (size_t j = 0; j < r->checks.n; j++) {
                const hj_check *ck = &r->checks.items[j];
                if (ck->pass)
                    continue;
                int k = claim_index(ck->claim);
                fputs("<li><a href=\"#", f);
                exp_anchor(f, k, r);
                fputs("\">", f);
                html(f, r->experiment);
                fputs("</a> (", f);
                html(f, ck->claim);
                fputs("): ", f);
                html(f, ck->name);
                fputs(" — value ", f);
                num(f, 4, ck->value);
                fputs(" &gt; threshold ", f);
                num(f, 3, ck->threshold);
                fputs("</li>\n", f);
            }
        }
        fputs("</ul></div>\n", f);
    }
    if (c->quick) {
        fputs("<div class=\"quickbanner\"><b>Quick run: every verdict below is provisional.</b> "
              "Quick mode uses small sizes and short training so that the whole suite runs in "
              "about half a minute; its verdicts are marked <span class=\"prov\">provisional</span> "
              "and are not findings. A full run decides: <code>hjdl reproduce</code> (about 10–20 "
              "minutes on 2 cores). Checks are as strict in quick mode as in a full run.</div>\n",
              f);
    } else if (all.verdicts[HJ_VERDICT_DISAGREES]) {
        fputs("<div class=\"alert\"><h3>Findings: claims the measurement disagrees with"
              "</h3><ul>\n", f);
        for (int src = 0; src < 2; src++)
            for (size_t i = 0; i < c->n; i++) {
                const hj_result *r = &c->results[i];
                for (size_t j = 0; j < r->n_claims; j++) {
                    const hj_claim *cl = &r->claims[j];
                    if (cl->verdict != HJ_VERDICT_DISAGREES || (int)cl->source != src)
                        continue;
                    int k = claim_index(cl->claim);
                    fputs("<li><a href=\"#", f);
                    exp_anchor(f, k, r);
                    fputs("\">", f);
                    html(f, cl->claim);
                    fputs(" · ", f);
                    html(f, r->experiment);
                    fputs("</a> (", f);
                    html(f, hj_claim_source_name(cl->source));
                    fputs("): ", f);
                    html(f, cl->statement);
                    fputs(" — predicted ", f);
                    num(f, 4, cl->predicted);
                    fputs(", measured ", f);
                    num(f, 4, cl->measured);
                    fputs(" in ", f);
                    interval_text(f, cl->lo, cl->hi);
                    fputs("</li>\n", f);
                }
            }
        fputs("</ul></div>\n", f);
    }
    fprintf(f, "<p class=\"legend\"><b>Checks</b> hold whenever hjdl is correct (identities, proved "
          "bounds, two independent computations agreeing): PASS when value ≤ threshold. "
          "<b>Claims</b> are empirical predictions (the paper's, then hjdl's own), each with a form, "
          "a tolerance and a 95 %% interval, judged by a rule fixed before the run; a "
          "<span class=\"verdict disagrees\">disagrees</span> is a finding, not an error.</p>\n"
          "<nav class=\"toc\"><a href=\"#paper-claims\">The paper's claims</a>"
          "<a href=\"#hjdl-claims\">hjdl's tests</a>%s<a href=\"#summary\">Summary by claim</a>"
          "<a href=\"#experiments\">Experiments</a><a href=\"#C1\">Sections C1–C13</a></nav>\n"
          "</header>\n",
          c->opt && c->opt->compare ? "<a href=\"#stability\">Verdict stability</a>" : "");
}

static void write_summary_table(FILE *f, const report_ctx *c)
{
    fputs("<h2 id=\"summary\">Summary by claim</h2>\n", f);
    fputs("<table class=\"summary\">\n<thead><tr><th>Claim</th><th>Statement</th>"
          "<th>Experiments</th><th>Checks</th><th>Verdicts</th></tr></thead>\n<tbody>\n",
          f);
    for (int k = 1; k <= N_CLAIMS; k++) {
        tally t = {0, 0, {0, 0, 0}};
        size_t n_exp = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (cover_mask(&c->results[i]) & (1u << k)) {
                n_exp++;
                tally_result(&c->results[i], k, &t);
            }
        }
        const char *cls = "";
        /* provisional (quick) disagreements are not findings: only failing checks stand out */
        const int finding = t.verdicts[HJ_VERDICT_DISAGREES] && !c->quick;
        if (finding && t.checks > t.passed)
            cls = " class=\"has-disagree has-fail\"";
        else if (finding)
            cls = " class=\"has-disagree\"";
        else if (t.checks > t.passed)
            cls = " class=\"has-fail\"";
        fprintf(f, "<tr id=\"sum-C%d\"%s><td class=\"cid\"><a href=\"#C%d\">C%d</a></td>", k, cls,
                k, k);
        fputs("<td class=\"stmt\"><b>", f);
        html(f, CLAIM_TITLE[k]);
        fputs("</b><span>", f);
        html(f, CLAIM_STATEMENT[k]);
        fputs("</span></td>", f);
        if (n_exp == 0) {
            fputs("<td colspan=\"3\" class=\"none\">not yet reproduced</td></tr>\n", f);
            continue;
        }
        fputs("<td>", f);
        size_t shown = 0;
        for (size_t i = 0; i < c->n; i++) {
            const hj_result *r = &c->results[i];
            if (!(cover_mask(r) & (1u << k)))
                continue;
            fputs(shown++ ? ", " : "", f);
            fputs("<a href=\"#", f);
            exp_anchor(f, k, r);
            fputs("\">", f);
            html(f, r->experiment);
            fputs("</a>", f);
        }
        fputs("</td>", f);
        checks_cell(f, &t);
        verdicts_cell(f, &t);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void write_experiments_table(FILE *f, const report_ctx *c)
{
    if (c->n == 0)
        return;
    fputs("<h2 id=\"experiments\">Experiments</h2>\n", f);
    fputs("<table>\n<thead><tr><th>Experiment</th><th>Claims</th><th>Checks</th>"
          "<th>Verdicts</th><th>Wall time</th><th>Files</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < c->n; i++) {
        const hj_result *r = &c->results[i];
        const hj_experiment *e = registry_entry(r);
        unsigned m = cover_mask(r);
        tally t = {0, 0, {0, 0, 0}};
        tally_result(r, -1, &t);
        fputs("<tr><td><a href=\"#", f);
        exp_anchor(f, primary_section(r), r);
        fputs("\"><b>", f);
        html(f, r->experiment);
        fputs("</b></a>", f);
        if (e && e->description) {
            fputs("<div class=\"muted\">", f);
            html(f, e->description);
            fputs("</div>", f);
        }
        fputs("</td><td>", f);
        int shown = 0;
        for (int k = 1; k <= N_CLAIMS; k++) {
            if (!(m & (1u << k)))
                continue;
            fprintf(f, "%s<a href=\"#C%d\">C%d</a>", shown++ ? " " : "", k, k);
        }
        if (m & 1u)
            fprintf(f, "%s<a href=\"#other\">other</a>", shown ? " " : "");
        fputs("</td>", f);
        checks_cell(f, &t);
        verdicts_cell(f, &t);
        fputs("<td class=\"num\">", f);
        seconds_text(f, r->seconds);
        char rel[1100];
        rel_dir(c->out_dir, r->dir, rel, sizeof rel);
        fputs("</td><td><a href=\"", f);
        url(f, rel);
        fputs("summary.json\">summary.json</a></td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void write_figures(FILE *f, const report_ctx *c, const hj_result *r)
{
    char rel[1100];
    rel_dir(c->out_dir, r->dir, rel, sizeof rel);
    fputs("<div class=\"figs\" id=\"fig-", f);
    slug(f, r->experiment);
    fputs("\">\n", f);
    for (size_t i = 0; i < r->n_figures; i++) {
        const hj_figure *fig = &r->figures[i];
        char png[1400];
        snprintf(png, sizeof png, "%s/%s.png", r->dir, fig->file);
        struct stat sb;
        int have = stat(png, &sb) == 0 && sb.st_size > 0;
        fputs("<figure id=\"fig-", f);
        slug(f, r->experiment);
        fprintf(f, "-%zu\">", i + 1);
        if (have) {
            fputs("<a href=\"", f);
            url(f, rel);
            url(f, fig->file);
            fputs(".svg\"><img src=\"", f);
            if (c->opt && c->opt->self_contained) {
                fputs("data:image/png;base64,", f);
                base64_file(f, png);
            } else {
                url(f, rel);
                url(f, fig->file);
                fputs(".png", f);
            }
            fputs("\" alt=\"", f);
            html(f, fig->caption[0] ? fig->caption : fig->file);
            fputs("\"></a>", f);
        } else {
            fputs("<div class=\"missing\">Figure ", f);
            html(f, fig->file);
            fputs(" was not rendered (is gnuplot installed?); its script is linked below.</div>",
                  f);
        }
        fputs("<figcaption>", f);
        html(f, fig->caption);
        fputs(" <span class=\"links\">[<a href=\"", f);
        url(f, rel);
        url(f, fig->file);
        fputs(".svg\">SVG</a> · <a href=\"", f);
        url(f, rel);
        url(f, fig->file);
        fputs(".gp\">gnuplot script</a>]</span></figcaption></figure>\n", f);
    }
    fputs("</div>\n", f);
}

static void write_figure_links(FILE *f, const hj_result *r, int primary)
{
    fputs("<p class=\"muted\">Figures of this experiment: ", f);
    for (size_t i = 0; i < r->n_figures; i++) {
        fputs(i ? "; " : "", f);
        fputs("<a href=\"#fig-", f);
        slug(f, r->experiment);
        fprintf(f, "-%zu\">", i + 1);
        html(f, r->figures[i].caption[0] ? r->figures[i].caption : r->figures[i].file);
        fputs("</a>", f);
    }
    if (primary > 0)
        fprintf(f, " (in section <a href=\"#C%d\">C%d</a>)</p>\n", primary, primary);
    else
        fputs(" (in section <a href=\"#other\">other</a>)</p>\n", f);
}

static void write_kv_table(FILE *f, const char *title, const hj_kv *kv, size_t n)
{
    fprintf(f, "<h4>%s</h4>\n", title);
    if (n == 0) {
        fputs("<p class=\"none\">none</p>\n", f);
        return;
    }
    fputs("<table class=\"kv\"><tbody>\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        html(f, kv[i].key);
        if (kv[i].is_text) {
            fputs("</td><td>", f);
            html(f, kv[i].text);
        } else {
            fputs("</td><td class=\"num\">", f);
            num(f, 4, kv[i].value);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* Result r within section k (0 = other): only rows whose claim id is Ck. */
static void write_experiment_block(FILE *f, const report_ctx *c, const hj_result *r, int k)
{
    const hj_experiment *e = registry_entry(r);
    int primary = primary_section(r);
    fputs("<div class=\"exp\" id=\"", f);
    exp_anchor(f, k, r);
    fputs("\">\n<h3>", f);
    html(f, r->experiment);
    fputs("<span class=\"secs\">wall time ", f);
    seconds_text(f, r->seconds);
    if (e && e->claims) {
        fputs(" · covers ", f);
        html(f, e->claims);
    }
    fputs("</span></h3>\n", f);
    if (e && e->description) {
        fputs("<p class=\"desc\">", f);
        html(f, e->description);
        fputs("</p>\n", f);
    }

    if (r->n_figures > 0) {
        if (k == primary)
            write_figures(f, c, r);
        else
            write_figure_links(f, r, primary);
    }

    size_t n_checks = 0, n_claims = 0;
    for (size_t i = 0; i < r->checks.n; i++)
        n_checks += claim_index(r->checks.items[i].claim) == k;
    for (size_t i = 0; i < r->n_claims; i++)
        n_claims += claim_index(r->claims[i].claim) == k;
    if (n_checks == 0 && n_claims == 0)
        fputs("<p class=\"none\">This experiment recorded no checks or claims for this "
              "section.</p>\n",
              f);

    if (n_checks > 0) {
        fprintf(f, "<details open><summary>Checks (%zu)</summary>\n", n_checks);
        fputs("<table class=\"checks\">\n<thead><tr><th>Check</th>"
              "<th>Value</th><th>Threshold</th><th>Result</th></tr></thead>\n<tbody>\n",
              f);
        for (size_t i = 0; i < r->checks.n; i++) {
            const hj_check *ck = &r->checks.items[i];
            if (claim_index(ck->claim) != k)
                continue;
            fputs(ck->pass ? "<tr><td>" : "<tr class=\"row-fail\"><td>", f);
            if (k == 0 && ck->claim[0]) {
                fputs("[", f);
                html(f, ck->claim);
                fputs("] ", f);
            }
            html(f, ck->name);
            fputs("</td><td class=\"num\">", f);
            num(f, 4, ck->value);
            fputs("</td><td class=\"num\">", f);
            num(f, 3, ck->threshold);
            fputs(ck->pass ? "</td><td><span class=\"tag pass\">PASS</span></td></tr>\n"
                           : "</td><td><span class=\"tag fail\">FAIL</span></td></tr>\n",
                  f);
        }
        fputs("</tbody>\n</table></details>\n", f);
    }

    if (n_claims > 0) {
        fprintf(f, "<details open><summary>Claims (%zu)</summary>\n<div class=\"wide\">"
                   "<table class=\"claims verdicts\">\n",
                n_claims);
        fputs(VERDICT_HEAD, f);
        for (size_t i = 0; i < r->n_claims; i++)
            if (claim_index(r->claims[i].claim) == k)
                verdict_row(f, r, &r->claims[i]);
        fputs("</tbody>\n</table></div>\n<p class=\"legend\">Rules: ", f);
        for (size_t i = 0, shown = 0; i < r->n_claims; i++) {
            if (claim_index(r->claims[i].claim) != k)
                continue;
            fputs(shown++ ? "; " : "", f);
            html(f, r->claims[i].rule);
        }
        fputs(".</p></details>\n", f);
    }

    if (r->notes[0]) {
        fputs("<h4>Notes</h4>\n<p class=\"notes\">", f);
        html(f, r->notes);
        fputs("</p>\n", f);
    }
    if (r->n_params > 0 || r->n_metrics > 0) {
        fputs(k == primary ? "<details open>" : "<details>", f);
        fprintf(f, "<summary>Parameters (%zu) and metrics (%zu)</summary>\n", r->n_params,
                r->n_metrics);
        write_kv_table(f, "Parameters", r->params, r->n_params);
        write_kv_table(f, "Metrics", r->metrics, r->n_metrics);
        fputs("</details>\n", f);
    }
    fputs("</div>\n", f);
}

static void write_sections(FILE *f, const report_ctx *c)
{
    for (int k = 1; k <= N_CLAIMS; k++) {
        fprintf(f, "<section id=\"C%d\">\n<h2><span class=\"cid\">C%d</span>", k, k);
        html(f, CLAIM_TITLE[k]);
        fputs(" <a class=\"top\" href=\"#summary\">↑ summary</a></h2>\n<p class=\"statement\">",
              f);
        html(f, CLAIM_STATEMENT[k]);
        fputs("</p>\n", f);
        size_t shown = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (cover_mask(&c->results[i]) & (1u << k)) {
                write_experiment_block(f, c, &c->results[i], k);
                shown++;
            }
        }
        if (shown == 0)
            fputs("<p class=\"none\">not yet reproduced: no experiment in this run covers this "
                  "claim.</p>\n",
                  f);
        fputs("</section>\n", f);
    }
    size_t other = 0;
    for (size_t i = 0; i < c->n; i++)
        other += (cover_mask(&c->results[i]) & 1u) != 0;
    if (other) {
        fputs("<section id=\"other\">\n<h2><span class=\"cid\">·</span>Other results "
              "<a class=\"top\" href=\"#summary\">↑ summary</a></h2>\n<p class=\"statement\">"
              "Checks and claims whose claim id is not one of C1–C13, and experiments that name "
              "no claim.</p>\n",
              f);
        for (size_t i = 0; i < c->n; i++)
            if (cover_mask(&c->results[i]) & 1u)
                write_experiment_block(f, c, &c->results[i], 0);
        fputs("</section>\n", f);
    }
}

static hj_status write_page(FILE *f, const void *ctx, hj_error *err)
{
    const report_ctx *c = ctx;
    write_header(f, c);
    write_verdict_tables(f, c);
    write_stability_table(f, c);
    write_summary_table(f, c);
    write_experiments_table(f, c);
    write_sections(f, c);
    fputs("<footer>Written by hjdl (hj_report_write_html). Each experiment's directory holds its "
          "raw numbers (CSV), summary.json, and the gnuplot scripts behind the figures.</footer>\n",
          f);
    fputs("</main>\n</body>\n</html>\n", f);
    return ferror(f) ? hj_error_set(err, HJ_EIO, "write error") : HJ_OK;
}

hj_status hj_report_write(const char *out_dir, const hj_result *results, size_t n,
                          const hj_report_options *opt, hj_error *err)
{
    if (out_dir == NULL || out_dir[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "report: empty or NULL output directory");
    if (results == NULL && n > 0)
        return hj_error_set(err, HJ_EINVAL, "report: NULL results with n = %zu", n);
    if (opt == NULL)
        return hj_error_set(err, HJ_EINVAL, "report: NULL options");
    char path[1100];
    int k = snprintf(path, sizeof path, "%s/report.html", out_dir);
    if (k < 0 || (size_t)k >= sizeof path)
        return hj_error_set(err, HJ_EINVAL, "report: output path too long");
    report_ctx c = {out_dir, results, n, opt->quick, opt->seconds, opt};
    hj_io_c_locale loc;
    hj_status st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    st = hj_io_write_atomic(path, write_page, &c, err);
    hj_io_c_locale_leave(&loc);
    return st;
}

hj_status hj_report_write_html(const char *out_dir, const hj_result *results, size_t n,
                               int quick, double seconds, hj_error *err)
{
    hj_report_options o = {quick, seconds, 0, NULL, 0, NULL};
    return hj_report_write(out_dir, results, n, &o, err);
}
