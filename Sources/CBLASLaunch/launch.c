// OpenBLAS reads its environment once, in its own initialiser, before any tlab code runs. Two of its
// defaults cost tlab dearly on the machines it runs on:
//  - OPENBLAS_THREAD_TIMEOUT: idle workers spin (sched_yield) for 2^28 cycles after every GEMM, taking a
//    core from tlab's own loops between GEMMs; 4 makes them sleep after 16 cycles (Lite0 train step +21 %).
//  - OPENBLAS_CORETYPE: OpenBLAS 0.3.21 (Debian 12) does not know newer CPUs (Intel Xeon family 6 model
//    207, say) and falls back to its SSE3 "Prescott" kernels: sgemm 65 GFLOP/s where its SkylakeX kernels
//    reach 316 on the same two cores.
// This initialiser runs right after OpenBLAS's (a program's own initialisers follow its libraries'). When
// it would change either variable it sets them and restarts the process once — same pid, arguments and
// descriptors — so OpenBLAS loads again with them. A value already in the environment is never changed, and
// if exec fails the process goes on as it is. It lives in a C target of its own so that every program that
// links tlab's kernels, the test bundle included, runs the same kernels as `tlab` itself — which also means
// any other program linking the Kernels or Layers products restarts itself once at start-up (documented in
// docs/decisions.md; a host that sets both variables itself is never restarted).
#include "CBLASLaunch.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

const char *const tlab_blas_thread_timeout_variable = "OPENBLAS_THREAD_TIMEOUT";
const char *const tlab_blas_quiet_thread_timeout = "4";
const char *const tlab_blas_coretype_variable = "OPENBLAS_CORETYPE";

// OpenBLAS's pre-AVX x86 cores: what DYNAMIC_ARCH falls back to when it does not recognise a CPU.
static const char *const generic_cores[] = {
    "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington",
    "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Bobcat",
};

const char *tlab_blas_core_override(const char *picked, int avx512, int avx2_fma) {
    if (picked == NULL || !avx2_fma) return NULL;
    int generic = 0;
    for (size_t i = 0; i < sizeof generic_cores / sizeof generic_cores[0]; i++) {
        if (strcasecmp(picked, generic_cores[i]) == 0) { generic = 1; break; }
    }
    if (!generic) return NULL;
    return avx512 ? "SkylakeX" : "Haswell";
}

int tlab_cpu_has_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

int tlab_cpu_has_avx2_fma(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

// Whether /proc/self/exe is the program itself: not so when it was started through the dynamic loader
// (`ld.so ./tlab …`), where exec'ing it would run the loader with tlab's arguments.
static int exe_is_program(void) {
    const char *named = (const char *)getauxval(AT_EXECFN);
    char exe[PATH_MAX], program[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (named == NULL || n <= 0 || realpath(named, program) == NULL) return 0;
    exe[n] = 0;
    return strcmp(exe, program) == 0;
}

#if defined(__GLIBC__)
// glibc passes argc, argv and envp to initialisers (other C libraries pass nothing, so this runs on glibc only).
__attribute__((constructor)) static void tlab_blas_launch(int argc, char **argv, char **envp) {
    (void)argc; (void)envp;
    if (argv == NULL) return;
    int set_timeout = 0, set_core = 0;
    if (getenv(tlab_blas_thread_timeout_variable) == NULL) {
        // Only a variable really set counts: one that failed to set would be missing again after exec, forever.
        set_timeout = setenv(tlab_blas_thread_timeout_variable, tlab_blas_quiet_thread_timeout, 1) == 0;
    }
    if (getenv(tlab_blas_coretype_variable) == NULL) {
        const char *core = tlab_blas_core_override(openblas_get_corename(), tlab_cpu_has_avx512(), tlab_cpu_has_avx2_fma());
        if (core != NULL) set_core = setenv(tlab_blas_coretype_variable, core, 1) == 0;
    }
    if ((set_timeout || set_core) && exe_is_program()) execv("/proc/self/exe", argv);
    // Still here (nothing to set, exec failed, or the program is not /proc/self/exe): go on with OpenBLAS as
    // it loaded, and take back what it never read.
    if (set_timeout) unsetenv(tlab_blas_thread_timeout_variable);
    if (set_core) unsetenv(tlab_blas_coretype_variable);
}
#endif
