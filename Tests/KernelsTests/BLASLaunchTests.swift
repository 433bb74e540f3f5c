import Kernels
import XCTest

final class BLASLaunchTests: XCTestCase {
    /// Only OpenBLAS's generic fallback cores are replaced, and only on a CPU with AVX2 + FMA.
    func testCoreOverrideReplacesOnlyGenericFallbacks() {
        XCTAssertEqual(BLASLaunch.coreOverride(picked: "Prescott", avx512: true, avx2FMA: true), "SkylakeX")
        XCTAssertEqual(BLASLaunch.coreOverride(picked: "Prescott", avx512: false, avx2FMA: true), "Haswell")
        XCTAssertEqual(BLASLaunch.coreOverride(picked: "Barcelona", avx512: false, avx2FMA: true), "Haswell")
        XCTAssertEqual(BLASLaunch.coreOverride(picked: "nehalem", avx512: true, avx2FMA: true), "SkylakeX")
        XCTAssertNil(BLASLaunch.coreOverride(picked: "Prescott", avx512: false, avx2FMA: false))
        for known in ["Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen", "Sandybridge"] {
            XCTAssertNil(BLASLaunch.coreOverride(picked: known, avx512: true, avx2FMA: true), known)
        }
    }

    /// This very process went through the launch: its OpenBLAS workers sleep soon after each GEMM, and it does
    /// not run a generic fallback core on a CPU with AVX2 unless the environment asked for that core by name.
    func testThisProcessRunsTheLaunchedEnvironment() {
        XCTAssertNotEqual(BLASLaunch.threadTimeout, "default")
        let cpu = (avx512: BLASLaunch.cpuHasAVX512, avx2FMA: BLASLaunch.cpuHasAVX2FMA)
        if let requested = BLASLaunch.requestedCore, BLASLaunch.coreOverride(picked: requested, avx512: cpu.avx512, avx2FMA: cpu.avx2FMA) != nil {
            return   // someone asked for a fallback core by name: theirs to have
        }
        XCTAssertNil(BLASLaunch.coreOverride(picked: BLASLaunch.core, avx512: cpu.avx512, avx2FMA: cpu.avx2FMA),
                     "OpenBLAS runs its fallback \(BLASLaunch.core) kernels: the launch did not restart with better ones")
    }
}
