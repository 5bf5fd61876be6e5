/* empty.c — keeps the test-support library non-empty. */
typedef int hjdl_testsupport_nonempty;
