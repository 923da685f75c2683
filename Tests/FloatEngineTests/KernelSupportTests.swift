@testable import FloatEngine
import QCore
import XCTest

/// Fast-kernel tolerance per element, relative to `max(1, |reference|)`, before scaling by sqrt(K):
/// float32 accumulation of K products of values in [-1, 1] in a different order from the Double
/// reference drifts by a few ulps (6e-8) per term as a random walk, so ~1e-5 * sqrt(K) leaves a wide
/// margin while still catching any wrong tap, channel or edge tile (errors of order 0.1).
let kernelRelativeTolerance: Float = 1e-5

/// Deterministic uniform values in `[-scale, scale]` (SplitMix64), so failures reproduce.
struct SeededValues {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 24) * 2 - 1
    }

    mutating func array(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in next() * scale }
    }
}

/// Runs `body` once per worker count with the parallel threshold lowered so that even the small
/// test shapes are split across workers; restores both afterwards.
func forEachThreadCount(_ body: (Int) throws -> Void) rethrows {
    let savedThreads = Parallel.threadCount, savedWork = GEMMTile.minParallelWork
    defer { Parallel.threadCount = savedThreads; GEMMTile.minParallelWork = savedWork }
    GEMMTile.minParallelWork = 0
    for threads in [1, 2] {
        Parallel.threadCount = threads
        try body(threads)
    }
}

/// Runs a kernel with the executor's calling convention on `input` and returns its output.
func runKernel(outputCount: Int, workspace: Int, input: [Float],
               _ run: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    // A NaN-filled output catches any element the kernel forgets to write.
    var output = [Float](repeating: .nan, count: outputCount)
    var scratch = [Float](repeating: .nan, count: max(workspace, 1))
    input.withUnsafeBufferPointer { i in
        output.withUnsafeMutableBufferPointer { o in
            scratch.withUnsafeMutableBufferPointer { s in run(i.baseAddress!, o.baseAddress!, s.baseAddress!) }
        }
    }
    return output
}

/// Each element within `kernelRelativeTolerance * sqrt(k) * max(1, |expected|)`; reports the worst one.
func assertKernelClose(_ actual: [Float], _ expected: [Float], k: Int, _ message: @autoclosure () -> String,
                       file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "element counts differ: \(message())", file: file, line: line)
    guard actual.count == expected.count else { return }
    let scale = kernelRelativeTolerance * Float(max(k, 1)).squareRoot()
    for i in actual.indices {
        let allowed = scale * max(1, abs(expected[i]))
        if !(abs(actual[i] - expected[i]) <= allowed) {
            XCTFail("element \(i) of \(actual.count): \(actual[i]) vs reference \(expected[i]) (allowed \(allowed)): \(message())",
                    file: file, line: line)
            return
        }
    }
}

final class KernelSupportTests: XCTestCase {
    func testSeededValuesAreInRangeAndDeterministic() {
        var a = SeededValues(seed: 7), b = SeededValues(seed: 7)
        let x = a.array(1000), y = b.array(1000)
        XCTAssertEqual(x, y)
        XCTAssertTrue(x.allSatisfy { $0 >= -1 && $0 < 1 })
        XCTAssertGreaterThan(Set(x).count, 990)
    }
}
