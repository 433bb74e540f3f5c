import Foundation

/// A caching allocator for tensor memory. Large buffers from malloc are fresh mmap regions that the kernel
/// zero-fills page by page on first touch; a network allocates dozens of them per batch. Keeping released
/// buffers and handing them out again removes that cost — the same idea as PyTorch's caching allocators.
///
/// Layers drop what they kept for backward as soon as their backward has run, so at the end of a training
/// step most of the step's activations sit here, ready for the next forward. A fixed cap would evict them
/// every step (1 GiB did: 0.8–2.7 GB fresh per step); instead the footprint, live plus cached, is capped at
/// the high-water mark of live bytes plus `slackBytes`. A steady training step then allocates nothing, and
/// the cache never grows the process beyond what it once needed at its peak, plus the slack.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]   // by size class
    private var order: [(Int, UnsafeMutableRawPointer)] = []   // oldest release first
    private let lock = NSLock()
    private var _slackBytes = 1 << 30, _cachedBytes = 0, _freshBytes = 0, _liveBytes = 0, _peakLiveBytes = 0

    public init() {}

    private func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }

    /// Bytes the footprint may exceed the high-water mark of live bytes by.
    public var slackBytes: Int {
        get { locked { _slackBytes } }
        set { locked { _slackBytes = newValue } }
    }
    /// Released bytes kept for reuse.
    public var cachedBytes: Int { locked { _cachedBytes } }
    /// Bytes handed out that did not come from the cache (fresh allocations) since the process started: a
    /// steady-state training step should add nothing (`tlab bench train` reports it per step).
    public var freshBytes: Int { locked { _freshBytes } }
    /// Bytes handed out and not yet released, and the most that ever were (both in size-class bytes).
    public var liveBytes: Int { locked { _liveBytes } }
    public var peakLiveBytes: Int { locked { _peakLiveBytes } }

    /// Buffers are rounded up to a size class (1/8 steps of the power of two) so that similar shapes share.
    public static func sizeClass(_ bytes: Int) -> Int {
        if bytes <= 4096 { return 4096 }
        let p = Int.bitWidth - (bytes - 1).leadingZeroBitCount   // 2^p ≥ bytes
        let step = 1 << max(p - 3, 12)
        return (bytes + step - 1) / step * step
    }

    public func allocate(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        let size = Self.sizeClass(bytes)
        lock.lock(); defer { lock.unlock() }
        _liveBytes += size
        _peakLiveBytes = max(_peakLiveBytes, _liveBytes)
        if let p = free[size]?.popLast() {
            _cachedBytes -= size
            if let i = order.lastIndex(where: { $0.1 == p }) { order.remove(at: i) }
            return (p, size)
        }
        _freshBytes += size
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size)
    }

    public func release(_ p: UnsafeMutableRawPointer, size: Int) {
        lock.lock(); defer { lock.unlock() }
        _liveBytes -= size
        free[size, default: []].append(p)
        order.append((size, p))
        _cachedBytes += size
        // Oldest first: the buffers released long ago are the ones a repeating step no longer asks for.
        var evicted = 0
        while _liveBytes + _cachedBytes > _peakLiveBytes + _slackBytes, evicted < order.count {
            let (s, q) = order[evicted]
            evicted += 1
            if let i = free[s]?.firstIndex(of: q) { free[s]?.remove(at: i) }
            _cachedBytes -= s
            q.deallocate()
        }
        if evicted > 0 { order.removeFirst(evicted) }
    }
}
