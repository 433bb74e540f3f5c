import COpenBLAS

/// Row-major single-precision matrix product through OpenBLAS:
/// C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C.
@inlinable
public func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        // BLAS leaves C untouched when K = 0 only if beta = 1; make the empty sum explicit.
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Number of threads OpenBLAS uses for its own kernels.
public enum BLASThreads {
    public static var count: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}

extension BLASThreads {
    /// Runs `body` over 0..<count split across cores, with OpenBLAS single-threaded inside: many small
    /// GEMMs (attention heads) are faster side by side than each spread over all cores.
    public static func perCore(_ count: Int, _ body: (Range<Int>) -> Void) {
        let saved = BLASThreads.count
        BLASThreads.count = 1
        defer { BLASThreads.count = saved }
        Parallel.forEach(count, grain: 1, body)
    }
}
