import Foundation

/// A caching allocator for tensor memory. Large buffers from malloc are fresh mmap regions that the kernel
/// zero-fills page by page on first touch; a network allocates dozens of them per batch. Keeping released
/// buffers (up to `limitBytes`) and handing them out again removes that cost — the same idea as PyTorch's
/// caching allocators.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()
    /// Released buffers kept for reuse, in bytes; beyond it the oldest are freed.
    public var limitBytes = 1 << 30
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]   // by size class
    private var order: [(Int, UnsafeMutableRawPointer)] = []
    private var cachedBytes = 0
    private let lock = NSLock()
    /// Bytes handed out that did not come from the cache (fresh allocations) since the process started: a
    /// steady-state training step should add nothing (`tlab bench train` reports it per step).
    public private(set) var freshBytes = 0

    /// Buffers are rounded up to a size class (1/8 steps of the power of two) so that similar shapes share.
    static func sizeClass(_ bytes: Int) -> Int {
        if bytes <= 4096 { return 4096 }
        let p = Int.bitWidth - (bytes - 1).leadingZeroBitCount   // 2^p ≥ bytes
        let step = 1 << max(p - 3, 12)
        return (bytes + step - 1) / step * step
    }

    public func allocate(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        let size = Self.sizeClass(bytes)
        lock.lock()
        if var list = free[size], let p = list.popLast() {
            free[size] = list
            cachedBytes -= size
            if let i = order.lastIndex(where: { $0.1 == p }) { order.remove(at: i) }
            lock.unlock()
            return (p, size)
        }
        freshBytes += size
        lock.unlock()
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size)
    }

    public func release(_ p: UnsafeMutableRawPointer, size: Int) {
        lock.lock(); defer { lock.unlock() }
        free[size, default: []].append(p)
        order.append((size, p))
        cachedBytes += size
        while cachedBytes > limitBytes, !order.isEmpty {
            let (s, q) = order.removeFirst()
            if var list = free[s], let i = list.firstIndex(of: q) { list.remove(at: i); free[s] = list }
            cachedBytes -= s
            q.deallocate()
        }
    }
}
