/* fuzz_idx.c — libFuzzer harness for hj_idx_parse: arbitrary bytes must never
 * crash it or make it read outside the buffer; a rejection must leave the
 * output zeroed with a format/NaN status and a message naming the input; an
 * accepted matrix must agree with the header (shape, exact size, integer
 * ranges, finite values) and survive re-encoding as float64 IDX bit for bit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_idx: property violated: %s\n", what);
        abort();
    }
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Is v an integer within [lo, hi]? */
static int int_in(double v, double lo, double hi) { return v == floor(v) && v >= lo && v <= hi; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that any read past `size` is an ASan report. */
    uint8_t *buf = malloc(size ? size : 1);
    check(buf != NULL, "malloc");
    if (size)
        memcpy(buf, data, size);

    hj_matrix m;
    hj_error e = {0};
    hj_status st = hj_idx_parse(buf, size, "fuzz.idx", &m, &e);
    if (st != HJ_OK) {
        check(st == e.code, "status recorded in err");
        check(st == HJ_EFORMAT || st == HJ_ENAN, "only format/NaN errors for bytes");
        check(strncmp(e.msg, "fuzz.idx: ", 10) == 0, "message names the input");
        check(m.data == NULL && m.names == NULL && m.rows == 0 && m.cols == 0,
              "output zeroed on failure");
        free(buf);
        return 0;
    }

    /* Accepted: the header must describe exactly what came back. */
    check(size >= 8 && buf[0] == 0 && buf[1] == 0, "magic");
    unsigned type = buf[2], ndim = buf[3];
    size_t isz = type == 0x08 || type == 0x09 ? 1 : type == 0x0B ? 2
               : type == 0x0C || type == 0x0D ? 4 : type == 0x0E ? 8 : 0;
    check(isz != 0 && ndim >= 1 && ndim <= 4, "known type and ndim");
    check(size >= 4 + 4 * (size_t)ndim, "header present");
    check(m.rows == rd32(buf + 4), "rows = first dimension");
    size_t cols = 1;
    for (unsigned i = 1; i < ndim; i++)
        cols *= rd32(buf + 4 + 4 * i);
    check(m.cols == cols && m.rows >= 1 && m.cols >= 1, "cols = product of the others");
    check(m.data != NULL && m.names == NULL, "data, no names");
    check(size == 4 + 4 * (size_t)ndim + m.rows * m.cols * isz, "exact size");
    size_t count = m.rows * m.cols;
    for (size_t k = 0; k < count; k++) {
        double v = m.data[k];
        check(isfinite(v), "values finite");
        switch (type) {
        case 0x08: check(int_in(v, 0, 255), "u8 range"); break;
        case 0x09: check(int_in(v, -128, 127), "i8 range"); break;
        case 0x0B: check(int_in(v, -32768, 32767), "i16 range"); break;
        case 0x0C: check(int_in(v, -2147483648.0, 2147483647.0), "i32 range"); break;
        case 0x0D: check((double)(float)v == v, "f32 exact"); break;
        default: break;
        }
    }

    /* Re-encode as float64 (rows, cols) IDX and parse again: same bits. */
    size_t len2 = 12 + 8 * count;
    uint8_t *img = malloc(len2);
    check(img != NULL, "malloc");
    uint8_t hdr[12] = {0, 0, 0x0E, 2,
                       (uint8_t)(m.rows >> 24), (uint8_t)(m.rows >> 16), (uint8_t)(m.rows >> 8),
                       (uint8_t)m.rows,
                       (uint8_t)(cols >> 24), (uint8_t)(cols >> 16), (uint8_t)(cols >> 8),
                       (uint8_t)cols};
    int fits = cols <= 0xFFFFFFFFu;
    memcpy(img, hdr, 12);
    for (size_t k = 0; k < count; k++) {
        uint64_t u;
        memcpy(&u, &m.data[k], 8);
        for (int b = 0; b < 8; b++)
            img[12 + 8 * k + (size_t)b] = (uint8_t)(u >> (56 - 8 * b));
    }
    if (fits) {
        hj_matrix r;
        st = hj_idx_parse(img, len2, "again.idx", &r, &e);
        check(st == HJ_OK, "re-encoded IDX parses");
        check(r.rows == m.rows && r.cols == m.cols, "round trip shape");
        check(memcmp(r.data, m.data, count * sizeof(double)) == 0, "round trip bits");
        hj_matrix_free(&r);
    }
    free(img);
    hj_matrix_free(&m);
    free(buf);
    return 0;
}
