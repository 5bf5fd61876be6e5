/* check.h — check records: a measured number, its threshold and PASS/FAIL.
 *
 * A check is something that holds whenever hjdl is correct (an identity, a
 * proved bound, two independent computations agreeing). Every check here is
 * of the form value <= threshold; a NaN value fails. Experiments and
 * `hjdl verify` collect them in an hj_check_list and print or serialise it.
 */
#ifndef HJDL_CHECK_H
#define HJDL_CHECK_H

#include "hjdl/export.h"

#include <stdio.h>
#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hj_check {
    char claim[8];      /* SPEC claim id, e.g. "C1" */
    char name[128];     /* what is compared, one line */
    double value;       /* measured number (error, ratio, violation, ...) */
    double threshold;   /* pass iff value <= threshold */
    int pass;           /* 1 / 0 */
} hj_check;

typedef struct hj_check_list {
    hj_check *items;
    size_t n;
    size_t cap;
} hj_check_list;

/* Append a check; pass = (value <= threshold). Names longer than the field
 * are truncated. HJ_ENOMEM on allocation failure. */
HJ_API hj_status hj_check_add(hj_check_list *list, const char *claim, const char *name,
                       double value, double threshold, hj_error *err);

/* Number of failing checks. */
HJ_API size_t hj_check_failures(const hj_check_list *list);

/* Free the items; leaves the list empty and reusable. */
HJ_API void hj_check_list_free(hj_check_list *list);

/* Write the list as a JSON array of {"claim","name","value","threshold","pass"}
 * objects (numbers with %.17g; non-finite values as strings "inf"/"nan"). */
HJ_API hj_status hj_check_list_write_json(FILE *f, const hj_check_list *list, hj_error *err);

/* Write a JSON string literal (quotes and escapes included) for s. */
HJ_API void hj_json_write_string(FILE *f, const char *s);
/* Write a JSON number, or the string "inf", "-inf", "nan" when not finite. */
HJ_API void hj_json_write_number(FILE *f, double v);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_CHECK_H */
