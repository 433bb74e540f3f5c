import XCTest
import Kernels

final class BufferPoolTests: XCTestCase {
    func testSizeClassesRoundUpByLessThanAQuarter() {
        XCTAssertEqual(BufferPool.sizeClass(1), 4096)
        XCTAssertEqual(BufferPool.sizeClass(4097), 8192)
        XCTAssertEqual(BufferPool.sizeClass(600_000), 5 * 131_072)
        XCTAssertEqual(BufferPool.sizeClass(1 << 20), 1 << 20)
        var gen = SeededGenerator(seed: 12)   // the same sizes every run
        for _ in 0..<10_000 {
            let bytes = Int.random(in: 4097...(1 << 30), using: &gen), size = BufferPool.sizeClass(bytes)
            XCTAssertGreaterThanOrEqual(size, bytes)
            XCTAssertLessThan(size - bytes, bytes / 4)
            XCTAssertEqual(size % 4096, 0)
        }
    }

    func testReleasedBufferIsHandedOutAgainForTheSameClass() {
        let pool = BufferPool()
        let (p, size) = pool.allocate(bytes: 1_000_000)
        pool.release(p, size: size)
        let fresh = pool.freshBytes
        let (q, again) = pool.allocate(bytes: 1_000_001)
        XCTAssertEqual(q, p); XCTAssertEqual(again, size)
        XCTAssertEqual(pool.freshBytes, fresh, "a cache hit allocates nothing new")
        XCTAssertEqual(pool.liveBytes, size); XCTAssertEqual(pool.cachedBytes, 0)
        pool.release(q, size: again)
    }

    /// Live plus cached may reach the high-water mark of live memory plus the slack, no more: the oldest
    /// releases go.
    func testFootprintIsBoundedByTheHighWaterMarkPlusSlack() {
        let pool = BufferPool()
        pool.slackBytes = 0
        let mb = 1 << 20
        let small = (0..<4).map { _ in pool.allocate(bytes: mb) }
        XCTAssertEqual(pool.peakLiveBytes, 4 * mb)
        for (p, s) in small { pool.release(p, size: s) }
        XCTAssertEqual(pool.cachedBytes, 4 * mb, "everything released fits under the peak")
        let (big, bigSize) = pool.allocate(bytes: 2 * mb)   // another class: a fresh buffer
        pool.release(big, size: bigSize)
        XCTAssertEqual(pool.cachedBytes, 4 * mb, "the two oldest 1 MiB buffers were freed to stay under the peak")
        let fresh = pool.freshBytes
        let again = pool.allocate(bytes: 2 * mb), kept = (0..<2).map { _ in pool.allocate(bytes: mb) }
        XCTAssertEqual(pool.freshBytes, fresh, "the newest releases are still cached")
        let third = pool.allocate(bytes: mb)
        XCTAssertEqual(pool.freshBytes, fresh + mb, "the evicted ones are not")
        for (p, s) in kept + [again, third] { pool.release(p, size: s) }
    }
}
