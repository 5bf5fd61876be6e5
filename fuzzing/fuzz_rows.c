/* fuzz_rows.c — libFuzzer harness for the streaming row readers: for any
 * bytes, reading a file tile by tile (tile size from the first input byte)
 * must agree with the whole-file parser: both accept with bit-identical
 * rows, or both reject with the same status and a message naming the file. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hjdl/data.h"
#include "io/io-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_rows: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const int npy = data[0] & 1;
    const size_t tile = 1 + (data[0] >> 1) % 9;
    data++;
    size--;
    char path[64];
    /* tmpfs when there is one: a disk file per input caps the rate near 1000/s */
    static const char *dir;
    if (dir == NULL) {
        struct stat sb;
        dir = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    }
    snprintf(path, sizeof path, "%s/fuzz_rows_%ld.%s", dir, (long)getpid(), npy ? "npy" : "csv");
    FILE *f = fopen(path, "wb");
    check(f != NULL, "temporary file");
    check(fwrite(data, 1, size, f) == size || size == 0, "write temporary file");
    fclose(f);

    hj_matrix m;
    hj_error ew = {0}, es = {0};
    /* the whole-file reader of the same path: format by extension, content checked */
    hj_status sw = hj_matrix_parse(data, size, path, NULL, &m, &ew);
    hj_rows *r = NULL;
    hj_status ss = hj_rows_open(path, &r, &es);
    size_t at = 0;
    if (ss == HJ_OK) {
        check(r != NULL, "reader on success");
        size_t cols = hj_rows_cols(r), got = 0;
        double *buf = malloc(tile * cols * sizeof *buf);
        check(buf != NULL, "malloc");
        for (;;) {
            ss = hj_rows_read(r, buf, tile, &got, &es);
            if (ss != HJ_OK || got == 0)
                break;
            if (sw == HJ_OK) {
                check(cols == m.cols && at + got <= m.rows, "shape");
                check(memcmp(buf, m.data + at * cols, got * cols * sizeof *buf) == 0,
                      "tile equals whole read, bit for bit");
            }
            at += got;
        }
        if (ss == HJ_OK)
            check(at == hj_rows_count(r), "all rows read");
        free(buf);
        hj_rows_close(r);
    } else {
        check(r == NULL, "no reader on failure");
    }
    check(ss == sw, "same status as the whole parser");
    if (sw == HJ_OK) {
        check(at == m.rows, "same row count");
        hj_matrix_free(&m);
    } else {
        check(strncmp(es.msg, path, strlen(path)) == 0, "message names the file");
        if (!npy)
            check(strcmp(es.msg, ew.msg) == 0, "same CSV message");
    }
    unlink(path);
    return 0;
}
