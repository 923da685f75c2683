import CKernels
@testable import Simulator
import XCTest

/// 8-bit weights on the u8 path (what the packer does under the avx512vnni level): exact against a
/// plain int32 sum whatever level is active when the product runs (VNNI's `vpdpbusd`, or the scalar
/// kernel when a level whose u8 kernel saturates at |w| > 64 is active).
final class ExactQuadsTests: XCTestCase {
    func testEightBitWeightsOnTheU8PathAreExactAtEveryLevel() {
        var rng = TestRNG(seed: 91)
        let n = 20, k = 37, rows = 8
        let weights: [Int32] = (0..<(n * k)).map { i in i % 5 == 0 ? -128 : rng.int32(-128...127) }
        let packed = weights.withUnsafeBufferPointer { PackedGEMMWeights(weights: $0, n: n, k: k, rowStride: k, path: .u8) }
        XCTAssertTrue(packed.needsExactQuads)
        let lda = packed.paddedK
        var a = [UInt8](repeating: 0, count: rows * lda)
        for r in 0..<rows { for i in 0..<k { a[r * lda + i] = i % 3 == 0 ? 255 : UInt8(rng.int32(0...255)) } }
        var expected = [Int32](repeating: 0, count: rows * n)
        for r in 0..<rows { for c in 0..<n { for i in 0..<k { expected[r * n + c] &+= Int32(a[r * lda + i]) * weights[c * k + i] } } }
        let before = qc_isa_active()
        defer { _ = qc_isa_select(before) }
        for level in 0..<Int32(QC_ISA_COUNT.rawValue) where qc_kernels_for(level) != nil {
            XCTAssertEqual(qc_isa_select(level), 0)
            let ldc = packed.panels * 16
            var c = [Int32](repeating: 0, count: rows * ldc)
            a.withUnsafeBytes { pa in c.withUnsafeMutableBufferPointer { pc in
                packed.multiply(a: pa.baseAddress!, lda: lda, rows: rows, c: pc.baseAddress!, ldc: ldc)
            } }
            for r in 0..<rows { for ch in 0..<n {
                XCTAssertEqual(c[r * ldc + ch], expected[r * n + ch], "level \(String(cString: qc_isa_name(level))) row \(r) channel \(ch)")
            } }
        }
    }
}
