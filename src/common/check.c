/* check.c — check lists (value <= threshold, PASS/FAIL) and their JSON form. */
#include "hjdl/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hj_status hj_check_add(hj_check_list *list, const char *claim, const char *name,
                       double value, double threshold, hj_error *err)
{
    if (list == NULL || claim == NULL || name == NULL)
        return hj_error_set(err, HJ_EINVAL, "check: NULL argument");
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 32;
        hj_check *items = realloc(list->items, cap * sizeof *items);
        if (items == NULL)
            return hj_error_set(err, HJ_ENOMEM, "check: out of memory");
        list->items = items;
        list->cap = cap;
    }
    hj_check *c = &list->items[list->n++];
    memset(c, 0, sizeof *c);
    strncpy(c->claim, claim, sizeof c->claim - 1);
    strncpy(c->name, name, sizeof c->name - 1);
    c->value = value;
    c->threshold = threshold;
    c->pass = (value <= threshold); /* false for NaN */
    return HJ_OK;
}

size_t hj_check_failures(const hj_check_list *list)
{
    size_t k = 0;
    for (size_t i = 0; i < list->n; i++)
        k += !list->items[i].pass;
    return k;
}

void hj_check_list_free(hj_check_list *list)
{
    if (list == NULL)
        return;
    free(list->items);
    list->items = NULL;
    list->n = list->cap = 0;
}

void hj_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void hj_json_write_number(FILE *f, double v)
{
    if (isnan(v))
        fputs("\"nan\"", f);
    else if (isinf(v))
        fputs(v > 0 ? "\"inf\"" : "\"-inf\"", f);
    else
        fprintf(f, "%.17g", v);
}

hj_status hj_check_list_write_json(FILE *f, const hj_check_list *list, hj_error *err)
{
    if (f == NULL || list == NULL)
        return hj_error_set(err, HJ_EINVAL, "check: NULL argument");
    fputs("[", f);
    for (size_t i = 0; i < list->n; i++) {
        const hj_check *c = &list->items[i];
        fputs(i ? ",\n  {" : "\n  {", f);
        fputs("\"claim\": ", f);
        hj_json_write_string(f, c->claim);
        fputs(", \"name\": ", f);
        hj_json_write_string(f, c->name);
        fputs(", \"value\": ", f);
        hj_json_write_number(f, c->value);
        fputs(", \"threshold\": ", f);
        hj_json_write_number(f, c->threshold);
        fprintf(f, ", \"pass\": %s}", c->pass ? "true" : "false");
    }
    fputs(list->n ? "\n]" : "]", f);
    if (ferror(f))
        return hj_error_set(err, HJ_EIO, "check: write error");
    return HJ_OK;
}
