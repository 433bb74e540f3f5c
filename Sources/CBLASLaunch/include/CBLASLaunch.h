#ifndef TLAB_CBLASLAUNCH_H
#define TLAB_CBLASLAUNCH_H

/// The OpenBLAS kernel set to ask for (a value for OPENBLAS_CORETYPE), or NULL to keep OpenBLAS's choice.
/// `picked` is the core OpenBLAS chose at load (`openblas_get_corename()`); `avx512` and `avx2_fma` say what
/// this CPU and the OS support. Only a generic fallback core on a CPU with AVX2 is overridden: a core
/// OpenBLAS recognised stays as it is.
const char *tlab_blas_core_override(const char *picked, int avx512, int avx2_fma);

/// 1 when the CPU and the OS support AVX-512 F, CD, BW, DQ and VL (OpenBLAS's SkylakeX kernels), else 0.
int tlab_cpu_has_avx512(void);
/// 1 when the CPU and the OS support AVX2 and FMA (OpenBLAS's Haswell kernels), else 0.
int tlab_cpu_has_avx2_fma(void);

/// The environment OpenBLAS is started with: the variables tlab sets when they are absent.
extern const char *const tlab_blas_thread_timeout_variable;   // "OPENBLAS_THREAD_TIMEOUT"
extern const char *const tlab_blas_quiet_thread_timeout;      // "4"
extern const char *const tlab_blas_coretype_variable;         // "OPENBLAS_CORETYPE"

#endif
