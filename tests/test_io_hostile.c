/* test_io_hostile.c — the library side of issue 22: the output-path policy, stale temporary files, bounded matrices from IDX and .npy headers, non-seekable inputs, duplicate column names, the one number syntax, whole-file CRC-32 against a bitwise reference. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"
#include "hjdl/limits.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
    fclose(f);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void expect_msg(hj_status st, const hj_error *e, hj_status want, const char *needle)
{
    if (st != want || strstr(e->msg, needle) == NULL) {
        print_error("status %d '%s'; wanted %d with '%s'\n", (int)st, e->msg, (int)want, needle);
        fail();
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hjdl-test-io-hostile-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A 2 x 2 matrix to write. */
static void small_matrix(hj_matrix *m)
{
    hj_error e = {0};
    assert_int_equal(hj_matrix_alloc(m, 2, 2, &e), HJ_OK);
    m->data[0] = 1, m->data[1] = 2, m->data[2] = 3, m->data[3] = 4;
}

/* FIFO, directory, device (through a link), dangling link: refused before
 * anything is written, the node unchanged; a link to a regular file is
 * followed and its target replaced. */
static void writers_refuse_what_is_not_a_regular_file(void **state)
{
    (void)state;
    hj_matrix m;
    small_matrix(&m);
    hj_error e = {0};
    const char *fifo = tmp_path("fifo");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    expect_msg(hj_csv_write(fifo, &m, NULL, &e), &e, HJ_EINVAL, "is a FIFO; refusing to replace it");
    struct stat sb;
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    expect_msg(hj_npy_write(tmpdir, &m, &e), &e, HJ_EINVAL, "is a directory");
    const char *dev = tmp_path("dev");
    assert_int_equal(symlink("/dev/null", dev), 0);
    expect_msg(hj_csv_write(dev, &m, NULL, &e), &e, HJ_EINVAL,
               "is a character device (through a symbolic link)");
    assert_int_equal(stat("/dev/null", &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
    const char *dangling = tmp_path("dangling");
    assert_int_equal(symlink("nowhere.csv", dangling), 0);
    expect_msg(hj_csv_write(dangling, &m, NULL, &e), &e, HJ_EINVAL, "cannot be reached");
    expect_msg(hj_csv_write(tmp_path("no/such/dir.csv"), &m, NULL, &e), &e, HJ_EIO,
               "does not exist");
    assert_int_equal(count_entries(tmpdir), 3); /* fifo, dev, dangling: nothing added */

    /* followed: the target gets the data, the link stays a link */
    write_text(tmp_path("target.csv"), "old\n");
    const char *link = tmp_path("link.csv");
    assert_int_equal(symlink("target.csv", link), 0);
    assert_int_equal(hj_csv_write(link, &m, NULL, &e), HJ_OK);
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    hj_matrix back;
    assert_int_equal(hj_csv_read(tmp_path("target.csv"), &back, &e), HJ_OK);
    assert_int_equal(back.rows, 2);
    assert_true(back.data[3] == 4.0);
    hj_matrix_free(&back);
    assert_int_equal(hj_output_check(tmp_path("new.csv"), &e), HJ_OK);
    assert_int_equal(hj_output_check(tmp_path("target.csv"), &e), HJ_OK);
    hj_matrix_free(&m);
}

static void same_file_sees_through_links_and_spellings(void **state)
{
    (void)state;
    write_text(tmp_path("a.csv"), "x\n1\n");
    assert_int_equal(symlink("a.csv", tmp_path("la.csv")), 0);
    assert_true(hj_path_same_file(tmp_path("a.csv"), tmp_path("la.csv")));
    char dotted[600];
    snprintf(dotted, sizeof dotted, "%s/./a.csv", tmpdir);
    assert_true(hj_path_same_file(tmp_path("a.csv"), dotted));
    write_text(tmp_path("b.csv"), "x\n1\n");
    assert_false(hj_path_same_file(tmp_path("a.csv"), tmp_path("b.csv")));
    assert_false(hj_path_same_file(tmp_path("a.csv"), tmp_path("missing.csv")));
}

/* A temporary file of a dead writer, older than this process, is swept by
 * the next write into its directory; a fresh one, one of a live process and
 * names that are not ours are kept. */
static void stale_temporary_files_are_swept_by_the_next_write(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/sweep", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    char stale[600], fresh[600], live[600], other[600];
    snprintf(stale, sizeof stale, "%s/m.hjm.tmp.999999999.AbCdEf", dir);
    snprintf(fresh, sizeof fresh, "%s/n.hjm.tmp.999999998.AbCdEf", dir);
    snprintf(live, sizeof live, "%s/m.hjm.tmp.1.AbCdEf", dir); /* pid 1 runs */
    snprintf(other, sizeof other, "%s/notes.tmp.txt", dir);
    const char *all[4] = {stale, fresh, live, other};
    for (int i = 0; i < 4; i++)
        write_text(all[i], "partial");
    struct timespec old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, live, old, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, other, old, 0), 0);
    hj_matrix m;
    small_matrix(&m);
    hj_error e = {0};
    char out[600];
    snprintf(out, sizeof out, "%s/out.csv", dir);
    assert_int_equal(hj_csv_write(out, &m, NULL, &e), HJ_OK);
    hj_matrix_free(&m);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(fresh, F_OK), 0);
    assert_int_equal(access(live, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
}

/* An IDX file whose bytes inflate within the 1 GiB cap but whose matrix of
 * doubles exceeds HJ_MAX_MATRIX_BYTES is refused before the matrix exists:
 * 140e6 zero bytes (a ~140 KB gzip) would make 1.12 GB of doubles. */
static void idx_matrix_of_doubles_is_bounded(void **state)
{
    (void)state;
    const unsigned rows = 140, cols = 1000000;
    const char *path = tmp_path("big-idx.gz");
    gzFile g = gzopen(path, "wb1");
    assert_non_null(g);
    unsigned char head[12] = {0, 0, 0x08, 2, 0, 0, 0, (unsigned char)rows,
                              (unsigned char)(cols >> 24), (unsigned char)(cols >> 16),
                              (unsigned char)(cols >> 8), (unsigned char)cols};
    assert_int_equal(gzwrite(g, head, sizeof head), (int)sizeof head);
    unsigned char *zero = calloc(cols, 1);
    assert_non_null(zero);
    for (unsigned i = 0; i < rows; i++)
        assert_int_equal(gzwrite(g, zero, cols), (int)cols);
    free(zero);
    assert_int_equal(gzclose(g), Z_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size < 2000000); /* a small file drives the size */
    hj_matrix m;
    hj_error e = {0};
    expect_msg(hj_idx_read(path, &m, &e), &e, HJ_ENOMEM,
               "shape 140 x 1000000 makes a matrix of 1.12 GB of doubles, more than the 1024 MiB");
    assert_null(m.data);
}

/* A .npy header claiming 10^12 x 2 doubles on a sparse 16 TB file is
 * refused from its header (no data byte read: the test would take hours
 * otherwise), naming the shape and this machine's memory. */
static void npy_header_is_checked_before_the_data_are_read(void **state)
{
    (void)state;
    char head[129];
    snprintf(head, sizeof head, "\x93NUMPY\x01%c\x76%c%-117s\n", 0, 0,
             "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 2), }");
    const char *path = tmp_path("huge.npy");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(head, 1, 128, f), 128);
    fclose(f);
    if (truncate(path, 128 + (off_t)16000000000000LL) != 0) {
        skip(); /* the file system has no sparse files this large */
        return;
    }
    hj_matrix m;
    hj_error e = {0};
    time_t t0 = time(NULL);
    expect_msg(hj_npy_read(path, &m, &e), &e, HJ_ENOMEM,
               "a 1000000000000 x 2 matrix needs 1.6e+04 GB, more than this machine's");
    assert_true(time(NULL) - t0 < 5);
    unlink(path);
}

static void memory_check_against_physical_memory(void **state)
{
    (void)state;
    hj_error e = {0};
    assert_int_equal(hj_memory_check(1e6, "a small buffer", &e), HJ_OK);
    expect_msg(hj_memory_check(1e18, "--thing", &e), &e, HJ_ENOMEM,
               "--thing needs 1e+09 GB, more than this machine's");
}

/* A FIFO is not seekable: the row reader says so instead of "unexpected
 * end of file". */
static void row_reader_refuses_a_fifo_as_not_seekable(void **state)
{
    (void)state;
    const char *fifo = tmp_path("atoms-fifo.csv");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    int keep = open(fifo, O_RDWR | O_NONBLOCK); /* a writer, so opening does not block */
    assert_true(keep >= 0);
    assert_int_equal(write(keep, "y,g\n0,0\n", 8), 8);
    hj_rows *r = NULL;
    hj_error e = {0};
    expect_msg(hj_rows_open(fifo, &r, &e), &e, HJ_EIO,
               "not a regular file (a pipe, FIFO or device): it is read in several passes");
    assert_null(r);
    close(keep);
}

static void duplicate_column_names_are_refused(void **state)
{
    (void)state;
    hj_matrix m;
    hj_error e = {0};
    const char *csv = "x,y,y\n1,2,3\n";
    expect_msg(hj_csv_parse(csv, strlen(csv), "d.csv", &m, &e), &e, HJ_EFORMAT,
               "d.csv:1: columns 2 and 3 are both named 'y'");
    const char *far = "a,b,c,d,e,a\n1,2,3,4,5,6\n";
    expect_msg(hj_csv_parse(far, strlen(far), "f.csv", &m, &e), &e, HJ_EFORMAT,
               "columns 1 and 6 are both named 'a'");
    const char *quoted = "\"y\",y\n1,2\n"; /* the same name, quoted or not */
    expect_msg(hj_csv_parse(quoted, strlen(quoted), "q.csv", &m, &e), &e, HJ_EFORMAT,
               "columns 1 and 2 are both named 'y'");
    const char *cased = "y,Y\n1,2\n"; /* names are case-sensitive: two columns */
    assert_int_equal(hj_csv_parse(cased, strlen(cased), "c.csv", &m, &e), HJ_OK);
    hj_matrix_free(&m);
    write_text(tmp_path("dup.csv"), csv);
    hj_rows *r = NULL;
    expect_msg(hj_rows_open(tmp_path("dup.csv"), &r, &e), &e, HJ_EFORMAT, "both named 'y'");
}

/* The one number syntax: decimal only; subnormals are numbers. */
static void number_syntax_is_decimal_and_subnormals_parse(void **state)
{
    (void)state;
    static const char *ok[] = {"1", "-0.5", "+.5", "5.", "1e-320", "4.9e-324", "1E+3"};
    static const char *bad[] = {"0x1p0", "0x10", "inf", "nan", " 1", "1 ", "1e", ".", "", "1,0",
                                "--1", "1e+-3"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(hj_number_syntax(ok[i], strlen(ok[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(hj_number_syntax(bad[i], strlen(bad[i])));
    hj_matrix m;
    hj_error e = {0};
    const char *csv = "a\n1e-320\n";
    assert_int_equal(hj_csv_parse(csv, strlen(csv), "s.csv", &m, &e), HJ_OK);
    assert_true(m.data[0] > 0.0 && m.data[0] < 2.2250738585072014e-308);
    hj_matrix_free(&m);
}

/* Bitwise CRC-32 (reflected polynomial 0xEDB88320), the reference for
 * hj_file_crc32, over a file larger than its 1 MiB chunks. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static void file_crc32_matches_a_bitwise_reference(void **state)
{
    (void)state;
    const size_t n = (1u << 20) * 2 + 12345;
    unsigned char *b = malloc(n);
    assert_non_null(b);
    uint64_t s = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        b[i] = (unsigned char)(s >> 24);
    }
    const char *path = tmp_path("crc.bin");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
    uint32_t crc = 0;
    uint64_t bytes = 0;
    hj_error e = {0};
    assert_int_equal(hj_file_crc32(path, &crc, &bytes, &e), HJ_OK);
    assert_int_equal(bytes, n);
    assert_int_equal(crc, crc32_bitwise(b, n));
    free(b);
    expect_msg(hj_file_crc32(tmp_path("missing"), &crc, &bytes, &e), &e, HJ_EIO, "missing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writers_refuse_what_is_not_a_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(same_file_sees_through_links_and_spellings, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_temporary_files_are_swept_by_the_next_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(idx_matrix_of_doubles_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(npy_header_is_checked_before_the_data_are_read, setup,
                                        teardown),
        cmocka_unit_test(memory_check_against_physical_memory),
        cmocka_unit_test_setup_teardown(row_reader_refuses_a_fifo_as_not_seekable, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_column_names_are_refused, setup, teardown),
        cmocka_unit_test(number_syntax_is_decimal_and_subnormals_parse),
        cmocka_unit_test_setup_teardown(file_crc32_matches_a_bitwise_reference, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
