import Dispatch
import Foundation

/// Splits loops that OpenBLAS does not run across the machine's cores.
///
/// Calls are synchronous from the calling thread, and tlab never runs a Parallel loop while a GEMM is in
/// flight on the same thread, so OpenBLAS's worker threads and these never compete for the same cores.
public enum Parallel {
    public static let cores: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` over contiguous sub-ranges of 0..<count. `grain` is the smallest range worth a thread.
    @inlinable
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = min(cores, max(1, count / max(grain, 1)))
        if chunks == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// 0..<count split into one contiguous range per core (fewer when count is smaller), in order: the fixed
    /// split that per-core partial sums are added back in, so results depend only on the core count.
    public static func contiguousParts(_ count: Int) -> [Range<Int>] {
        let parts = min(cores, count)
        return (0..<parts).map { count * $0 / parts..<count * ($0 + 1) / parts }
    }

    /// Runs `body(i)` for every i in 0..<count across cores; rethrows the first error any call threw.
    public static func forEachIndex(_ count: Int, grain: Int = 1, _ body: (Int) throws -> Void) throws {
        var failure: Error?
        let lock = NSLock()
        forEach(count, grain: grain) { r in
            for i in r {
                do { try body(i) } catch { lock.lock(); failure = failure ?? error; lock.unlock(); return }
            }
        }
        if let failure { throw failure }
    }
}
