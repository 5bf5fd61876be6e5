/* kernels.c — which kernel set runs: the CPU's sets, HJDL_KERNELS, and the
 * memo every dispatch reads (hj__kernels); the public hj_kernels names it.
 * The sets themselves are in lse_simd.c (blocked) and the portable loops. */
#include "hjdl/lse.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/kernels.h"

static int cpu_runs(hj__kernel_set set)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (set == HJ_KERNELS_AVX512)
        return __builtin_cpu_supports("avx512f") ? 1 : 0;
    if (set == HJ_KERNELS_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
#endif
    return set == HJ_KERNELS_PORTABLE;
}

static const char *const set_names[] = {"portable", "avx2", "avx512"};

const char *hj__kernels_name(hj__kernel_set set)
{
    return set_names[set];
}

hj_status hj__kernels_parse(const char *value, int have_avx512, int have_avx2, hj__kernel_set *set,
                            hj_error *err)
{
    const hj__kernel_set widest = have_avx512  ? HJ_KERNELS_AVX512
                                  : have_avx2 ? HJ_KERNELS_AVX2
                                              : HJ_KERNELS_PORTABLE;
    *set = widest;
    if (value == NULL || value[0] == '\0')
        return HJ_OK;
    for (int k = HJ_KERNELS_PORTABLE; k <= HJ_KERNELS_AVX512; k++) {
        if (strcmp(value, set_names[k]) != 0)
            continue;
        const int have = k == HJ_KERNELS_AVX512 ? have_avx512 : k == HJ_KERNELS_AVX2 ? have_avx2 : 1;
        if (!have)
            return hj_error_set(err, HJ_EINVAL,
                                "HJDL_KERNELS=%s: this CPU lacks %s (it runs %s%s)", value,
                                k == HJ_KERNELS_AVX512 ? "AVX-512F" : "AVX2 and FMA",
                                have_avx2 ? "avx2 and " : "", "portable");
        *set = (hj__kernel_set)k;
        return HJ_OK;
    }
    return hj_error_set(err, HJ_EINVAL,
                        "HJDL_KERNELS=%s: unknown kernel set (avx512, avx2 or portable)", value);
}

/* The set in force, read once per process: the dispatch runs per row in
 * some paths, where getenv would cost as much as the row. The memo is a
 * pure function of the CPU and of HJDL_KERNELS at the first call (POSIX
 * forbids changing the environment while other threads read it), stored
 * with C11 atomics: threads racing on the first call compute and store the
 * same value, so every caller sees one answer and no caller can change it
 * (it is not state of the library's in any observable sense). Encoded as
 * set + 1, plus 8 when HJDL_KERNELS was refused; 0 = not read yet. */
static _Atomic int kernels_memo = 0;

static int kernels_read(void)
{
    int v = atomic_load_explicit(&kernels_memo, memory_order_relaxed);
    if (v != 0)
        return v;
    hj__kernel_set set;
    const hj_status st = hj__kernels_parse(getenv("HJDL_KERNELS"), cpu_runs(HJ_KERNELS_AVX512),
                                           cpu_runs(HJ_KERNELS_AVX2), &set, NULL);
    v = (int)set + 1 + (st != HJ_OK ? 8 : 0);
    atomic_store_explicit(&kernels_memo, v, memory_order_relaxed);
    return v;
}

hj__kernel_set hj__kernels(void)
{
    return (hj__kernel_set)((kernels_read() & 7) - 1);
}

hj_status hj__kernels_check(hj_error *err)
{
    if ((kernels_read() & 8) == 0)
        return HJ_OK;
    hj__kernel_set set;
    const hj_status st = hj__kernels_parse(getenv("HJDL_KERNELS"), cpu_runs(HJ_KERNELS_AVX512),
                                           cpu_runs(HJ_KERNELS_AVX2), &set, err);
    if (st != HJ_OK)
        return st;
    return hj_error_set(err, HJ_EINVAL, "HJDL_KERNELS was refused when first read (it changed since)");
}

const char *hj_kernels(void) { return hj__kernels_name(hj__kernels()); }

hj_status hj_kernels_check(hj_error *err) { return hj__kernels_check(err); }
