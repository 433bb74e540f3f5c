/// Reference-counted float32 buffer shared by tensors that view the same memory.
public final class TensorStorage {
    public let base: UnsafeMutablePointer<Float>
    public let capacity: Int
    private let allocatedBytes: Int

    public init(capacity: Int) {
        self.capacity = capacity
        // 64-byte alignment (BufferPool's) keeps AVX-512 loads aligned for whole rows.
        let (raw, size) = BufferPool.shared.allocate(bytes: max(capacity, 1) * 4)
        allocatedBytes = size
        base = raw.bindMemory(to: Float.self, capacity: max(capacity, 1))
    }

    deinit { BufferPool.shared.release(UnsafeMutableRawPointer(base), size: allocatedBytes) }
}

/// A float32 strided tensor: a view (shape, strides, offset) over shared storage.
///
/// Views made by `reshaped` (contiguous input only), `permuted` and `slice` share memory with their source;
/// kernels that need dense rows call `contiguous()`, which copies only when the view is not already dense.
public final class Tensor: CustomStringConvertible {
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int
    public let storage: TensorStorage

    /// Pointer to element (0, 0, …); for a contiguous tensor, to its `count` dense values.
    @inlinable public var data: UnsafeMutablePointer<Float> { storage.base + offset }
    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { strides[i] = acc; acc *= shape[i] }
        return strides
    }

    public init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int = 0) {
        require(shape.count == strides.count, "shape and strides differ in rank")
        self.storage = storage; self.shape = shape; self.strides = strides; self.offset = offset
    }

    /// Zero-filled dense tensor.
    public convenience init(zeros shape: [Int]) {
        require(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        let n = shape.reduce(1, *)
        let s = TensorStorage(capacity: n)
        s.base.initialize(repeating: 0, count: max(n, 1))
        self.init(storage: s, shape: shape, strides: Tensor.contiguousStrides(shape))
    }

    /// Dense tensor whose contents the caller will overwrite completely (memory is not cleared).
    public convenience init(uninitialized shape: [Int]) {
        let n = shape.reduce(1, *)
        let s = TensorStorage(capacity: n)
        self.init(storage: s, shape: shape, strides: Tensor.contiguousStrides(shape))
    }

    public convenience init(shape: [Int], repeating value: Float) {
        self.init(uninitialized: shape)
        data.initialize(repeating: value, count: count)
    }

    public convenience init(shape: [Int], values: [Float]) {
        require(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    public var isContiguous: Bool { strides == Tensor.contiguousStrides(shape) }

    /// A view with a new shape over the same dense memory; one dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        require(isContiguous, "reshape needs a contiguous tensor; call contiguous() first")
        var dims = newShape
        if let i = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            dims[i] = known == 0 ? 0 : count / known
        }
        require(dims.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(storage: storage, shape: dims, strides: Tensor.contiguousStrides(dims), offset: offset)
    }

    /// A view with dimensions reordered: result dimension i is source dimension `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        require(order.sorted() == Array(0..<rank), "\(order) is not a permutation of 0..<\(rank)")
        return Tensor(storage: storage, shape: order.map { shape[$0] }, strides: order.map { strides[$0] }, offset: offset)
    }

    /// A view of indices `range` along dimension `dim`.
    public func slice(dim: Int, _ range: Range<Int>) -> Tensor {
        require(range.lowerBound >= 0 && range.upperBound <= shape[dim], "slice \(range) out of \(shape[dim])")
        var s = shape; s[dim] = range.count
        return Tensor(storage: storage, shape: s, strides: strides, offset: offset + range.lowerBound * strides[dim])
    }

    /// This tensor if already dense, otherwise a dense copy.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitialized: shape)
        copyStrided(from: self, to: out.data)
        return out
    }

    public func copy() -> Tensor {
        let out = Tensor(uninitialized: shape)
        copyStrided(from: self, to: out.data)
        return out
    }

    public func toArray() -> [Float] {
        let c = contiguous()
        return Array(UnsafeBufferPointer(start: c.data, count: count))
    }

    public func fill(_ value: Float) {
        require(isContiguous, "fill needs a contiguous tensor")
        data.update(repeating: value, count: count)
    }

    /// Element at a multi-index (slow; for tests and small lookups).
    public subscript(_ index: Int...) -> Float {
        get { data[linearOffset(index)] }
        set { data[linearOffset(index)] = newValue }
    }

    private func linearOffset(_ index: [Int]) -> Int {
        require(index.count == rank, "index rank \(index.count) != tensor rank \(rank)")
        var o = 0
        for d in 0..<rank {
            require(index[d] >= 0 && index[d] < shape[d], "index \(index) out of shape \(shape)")
            o += index[d] * strides[d]
        }
        return o
    }

    public var description: String { "Tensor\(shape)" }
}

/// Copies a strided view into dense memory in row-major order of its shape.
public func copyStrided(from src: Tensor, to dst: UnsafeMutablePointer<Float>) {
    let n = src.count
    if n == 0 { return }
    if src.isContiguous { dst.update(from: src.data, count: n); return }
    let rank = src.rank
    let inner = src.shape[rank - 1], innerStride = src.strides[rank - 1]
    let outer = n / max(inner, 1)
    let base = src.data
    let shape = src.shape, strides = src.strides
    Parallel.forEach(outer, grain: max(1, 4096 / max(inner, 1))) { range in
        var idx = [Int](repeating: 0, count: rank)
        for row in range {
            var r = row, off = 0
            for d in stride(from: rank - 2, through: 0, by: -1) {
                idx[d] = r % shape[d]; r /= shape[d]; off += idx[d] * strides[d]
            }
            let s = base + off, o = dst + row * inner
            if innerStride == 1 { o.update(from: s, count: inner) }
            else { for i in 0..<inner { o[i] = s[i * innerStride] } }
        }
    }
}
