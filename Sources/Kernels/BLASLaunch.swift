import CBLASLaunch
import COpenBLAS
import Foundation

/// How OpenBLAS was started: which kernel set it runs and how soon its idle workers sleep.
///
/// OpenBLAS reads both from the environment once, when the library loads. `CBLASLaunch`'s initialiser sets
/// what is missing and restarts the process once, in every program that links `Kernels` (tlab and the
/// tests alike); this type reports the outcome and holds the rule it applied.
public enum BLASLaunch {
    /// The kernel set OpenBLAS chose or was told to use ("SkylakeX", "Haswell", "Zen", "Prescott", …).
    public static var core: String { String(cString: openblas_get_corename()) }

    /// OPENBLAS_THREAD_TIMEOUT as OpenBLAS read it: "4" unless the user set their own.
    public static var threadTimeout: String { environment(String(cString: tlab_blas_thread_timeout_variable)) ?? "default" }

    /// OPENBLAS_CORETYPE as OpenBLAS read it — set by the user, by a parent process or by the launch itself —
    /// or nil when OpenBLAS chose by itself.
    public static var requestedCore: String? { environment(String(cString: tlab_blas_coretype_variable)) }

    /// The kernel set to ask for instead of `picked`, or nil to keep it: only OpenBLAS's generic fallback
    /// cores (what it picks for a CPU it does not know) on a CPU with AVX2 and FMA are replaced.
    public static func coreOverride(picked: String, avx512: Bool, avx2FMA: Bool) -> String? {
        tlab_blas_core_override(picked, avx512 ? 1 : 0, avx2FMA ? 1 : 0).map { String(cString: $0) }
    }

    /// What this CPU and the OS support, as the launch rule sees it.
    public static var cpuHasAVX512: Bool { tlab_cpu_has_avx512() != 0 }
    public static var cpuHasAVX2FMA: Bool { tlab_cpu_has_avx2_fma() != 0 }

    private static func environment(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
}
