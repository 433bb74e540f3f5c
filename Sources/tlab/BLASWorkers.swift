import Foundation

/// OpenBLAS's worker threads spin, calling sched_yield, for 2^28 cycles (about 0.1 s) after every GEMM
/// before they sleep. tlab runs its own loops (batch norm, depthwise, activations) between GEMMs on the same
/// two cores, so those spinning threads took a core from them: about 15 % of a training step's samples were
/// in sched_yield. OPENBLAS_THREAD_TIMEOUT=4 makes them sleep after 16 cycles (Lite0 train step +21 %;
/// docs/benchmarks.md, 2026-12-02). OpenBLAS reads the variable once, when the library loads —
/// before any Swift code runs — so the only way to set it from inside tlab is to start again with it set.
enum BLASWorkers {
    static let variable = "OPENBLAS_THREAD_TIMEOUT"
    static let quietTimeout = "4"

    /// Re-executes tlab with the variable set, unless it is set already (a user's own value wins). Same pid,
    /// same arguments, same descriptors; if exec fails (no /proc) tlab goes on with spinning workers, and
    /// the variable is taken back so that `timeout` does not claim a value OpenBLAS never read.
    static func sleepSoonAfterEachGEMM() {
        guard getenv(variable) == nil else { return }
        setenv(variable, quietTimeout, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv(variable)
    }

    /// The value OpenBLAS read at load time.
    static var timeout: String { ProcessInfo.processInfo.environment[variable] ?? "default" }
}
