import CKernels
@testable import FloatEngine
import XCTest

/// The float kernels of every instruction-set level this CPU runs (`qc_kernels_for`): each level made
/// active in turn and the float-engine kernel tests run against FloatReference (Dense, Conv2D with
/// packed and in-place A, the narrow 6x8 / 6x4 tiles, depthwise), within the kernels' tolerance
/// (`assertKernelClose`): the levels differ only in float rounding (one FMA rounding at avx2, a
/// multiply and an add at scalar on x86-64).
final class FloatISALevelTests: XCTestCase {
    private var levels: [Int32] { (0..<Int32(QC_ISA_COUNT.rawValue)).filter { qc_kernels_for($0) != nil } }

    /// Runs `body` once per available level with that level active, then restores the active one.
    private func forEachLevel(_ body: (String) throws -> Void) rethrows {
        let before = qc_isa_active()
        defer { _ = qc_isa_select(before) }
        for level in levels {
            XCTAssertEqual(qc_isa_select(level), 0)
            try body(String(cString: qc_isa_name(level)))
        }
    }

    /// An instance of another test class whose test methods are called directly: their assertions
    /// are recorded against the running test.
    private func make<T: XCTestCase>(_ type: T.Type) -> T { T(name: "\(type)", testClosure: { _ in }) }

    func testEveryLevelsGEMMKernelsMatchReference() {
        forEachLevel { _ in
            make(KernelDenseTests.self).testDenseMatchesReference()
            make(KernelNarrowTileTests.self).testNarrowDenseMatchesReference()
            make(KernelNarrowTileTests.self).testNarrowConvMatchesReference()
            make(KernelConvTests.self).testConv2DMatchesReference()
            make(KernelConvPathTests.self).testInPlaceAndPackedOrdersMatchReference()
        }
    }

    func testEveryLevelsDepthwiseKernelMatchesReference() {
        forEachLevel { _ in make(KernelConvTests.self).testDepthwiseMatchesReference() }
    }

    /// The micro-kernels directly, each level against the scalar one: packed and in-place A, bias or
    /// C as the start, with and without the clamp, every width.
    func testMicroKernelsAgreeWithScalar() {
        let scalar = qc_kernels_for(Int32(QC_ISA_SCALAR.rawValue))!.pointee
        var values = SeededValues(seed: 77)
        for level in levels {
            let table = qc_kernels_for(level)!.pointee
            for kc in [1, 5, 64, 256] {
                let packed = values.array(6 * kc), b = values.array(16 * kc), bias = values.array(16)
                // In place: A[r][k] = image[offsets[k] + r * step], a sparse read of a larger array.
                let step = 3, offsets = (0..<kc).map { 19 + 2 * $0 }
                let image = values.array(19 + 2 * kc + 5 * step + 1)
                let start = values.array(6 * 20)
                for (width, pick) in [(16, \qc_kernels.sgemm_6x16), (8, \qc_kernels.sgemm_6x8), (4, \qc_kernels.sgemm_6x4)] {
                    for inPlace in [false, true] {
                        for (useBias, clamps) in [(true, Int32(0)), (false, Int32(1))] {
                            var expected = start, actual = start
                            let a = inPlace ? image : packed
                            a.withUnsafeBufferPointer { a in
                                offsets.withUnsafeBufferPointer { o in
                                    let off = inPlace ? o.baseAddress : nil
                                    let bp: UnsafePointer<Float>? = nil
                                    bias.withUnsafeBufferPointer { bias in
                                        let biasPointer = useBias ? bias.baseAddress : bp
                                        scalar[keyPath: pick]!(kc, a.baseAddress, step, off, b, &expected, 20, biasPointer, clamps, -0.5, 0.5)
                                        table[keyPath: pick]!(kc, a.baseAddress, step, off, b, &actual, 20, biasPointer, clamps, -0.5, 0.5)
                                    }
                                }
                            }
                            for r in 0..<6 {
                                for n in 0..<20 where n >= width {
                                    XCTAssertEqual(actual[r * 20 + n], start[r * 20 + n], "6x\(width) wrote past its columns")
                                }
                            }
                            assertKernelClose(actual, expected, k: kc,
                                              "\(String(cString: qc_isa_name(level))) 6x\(width) kc \(kc) in place \(inPlace) bias \(useBias)")
                        }
                    }
                }
            }
        }
    }
}
