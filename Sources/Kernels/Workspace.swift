import Foundation

/// A reusable scratch buffer pool: large im2col and GEMM staging buffers are taken and returned here
/// instead of being mapped and faulted in again for every layer call.
public final class Workspace: @unchecked Sendable {
    public static let shared = Workspace()
    private var free: [TensorStorage] = []
    private let lock = NSLock()

    /// A buffer of at least `count` floats; contents are undefined. Give it back with `give`.
    public func take(_ count: Int) -> TensorStorage {
        lock.lock(); defer { lock.unlock() }
        if let i = free.indices.filter({ free[$0].capacity >= count }).min(by: { free[$0].capacity < free[$1].capacity }) {
            return free.remove(at: i)
        }
        return TensorStorage(capacity: count)
    }

    public func give(_ s: TensorStorage) {
        lock.lock(); defer { lock.unlock() }
        free.append(s)
        if free.count > 8 { free.sort { $0.capacity > $1.capacity }; free.removeLast() }
    }

    /// Runs `body` with a scratch buffer of `count` floats.
    @inlinable public func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let s = take(count); defer { give(s) }
        return try body(s.base)
    }
}
