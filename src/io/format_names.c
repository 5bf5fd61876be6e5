/* format_names.c — the names of the matrix file formats, their choice by extension, and the shortest exact text of a double (no I/O: used by the writers, file.c's staging and the dispatch in format.c). */
#include "io/io-impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const format_names[] = {"auto", "csv", "tsv", "npy", "npz", "libsvm"};

const char *hj_format_name(hj_format f)
{
    return (unsigned)f < sizeof format_names / sizeof format_names[0] ? format_names[f] : "?";
}

hj_status hj_format_parse(const char *name, hj_format *f, hj_error *err)
{
    for (int k = HJ_FORMAT_CSV; k <= HJ_FORMAT_LIBSVM; k++)
        if (strcasecmp(name, format_names[k]) == 0) {
            *f = (hj_format)k;
            return HJ_OK;
        }
    if (strcasecmp(name, "svmlight") == 0 || strcasecmp(name, "svm") == 0) {
        *f = HJ_FORMAT_LIBSVM;
        return HJ_OK;
    }
    return hj_error_set(err, HJ_EINVAL, "unknown format '%s' (csv, tsv, npy, npz or libsvm)", name);
}

const char *hj_io_extension(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot : "";
}

hj_format hj_format_of_path(const char *path)
{
    static const struct { const char *ext; hj_format f; } map[] = {
        {".csv", HJ_FORMAT_CSV},    {".tsv", HJ_FORMAT_TSV},       {".tab", HJ_FORMAT_TSV},
        {".npy", HJ_FORMAT_NPY},    {".npz", HJ_FORMAT_NPZ},       {".svm", HJ_FORMAT_LIBSVM},
        {".libsvm", HJ_FORMAT_LIBSVM}, {".svmlight", HJ_FORMAT_LIBSVM}};
    const char *e = hj_io_extension(path);
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
        if (strcasecmp(e, map[k].ext) == 0)
            return map[k].f;
    return HJ_FORMAT_AUTO;
}

int hj_io_has_npy_extension(const char *path) { return hj_format_of_path(path) == HJ_FORMAT_NPY; }

char *hj_double_text(double v, char *buf, size_t len)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v || v != v)
            break;
    }
    return buf;
}
