import QBin
import QCore
import XCTest

/// The batch edges (`quantizeEdge(_:into:)`, `dequantizeEdge(_:into:)`) against the per-value
/// definitions, bit for bit, for every type of the registry.
final class EdgeBatchTests: XCTestCase {
    /// Floats that reach every branch: exact ties of `x / scale` (k + 0.5 and one ulp either side), the
    /// clamp bounds and one past them, signed zeros, NaN, infinities, subnormals, huge values, and
    /// random values over many magnitudes.
    static func hardFloats(scale: Float, count: Int, seed: UInt64) -> [Float] {
        var values: [Float] = [0, -0, .nan, -.nan, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e30, -1e30, 0.49999997, -0.49999997]
        for k in -70_000...70_000 where k % 97 == 0 || abs(k) < 300 || abs(abs(k) - 32_768) < 3 || abs(abs(k) - 65_536) < 3 {
            let tie = (Float(k) + 0.5) * scale
            values += [tie, tie.nextUp, tie.nextDown, Float(k) * scale]
        }
        var rng = SplitMix64(seed: seed)
        for _ in 0..<count {
            let magnitude = Float(pow(10, 6 * rng.symmetric()))
            values.append(Float(rng.symmetric()) * magnitude * scale * 100)
        }
        return values
    }

    func testBatchQuantizeEqualsPerValueForEveryType() {
        for type in QType.all {
            let bounds = (type.minValue, type.maxValue)
            let zeros: [Int64] = [bounds.0, 0, (bounds.0 + bounds.1) / 2, bounds.1, 3, -5]
            for (z, zero) in zeros.enumerated() {
                for (s, scale) in [Float(0.0078125), 0.0173, 1, 3.7e-5, 250].enumerated() {
                    let tensor = QTensor.activation("x", shape: [1], type: type, scale: scale, zeroPoint: Int32(clamping: zero))
                    let input = Self.hardFloats(scale: scale, count: 2000, seed: UInt64(z * 10 + s))
                    let expected = input.map { tensor.quantizeEdge($0) }
                    var got = [Int32](repeating: 0, count: input.count)
                    input.withUnsafeBufferPointer { x in got.withUnsafeMutableBufferPointer { tensor.quantizeEdge(x, into: $0) } }
                    if let i = got.indices.first(where: { got[$0] != expected[$0] }) {
                        XCTFail("\(type) zp \(zero) scale \(scale): x = \(input[i]) (\(input[i].bitPattern)) gives \(got[i]), per value \(expected[i])")
                    }

                    var floats = [Float](repeating: 0, count: expected.count)
                    expected.withUnsafeBufferPointer { q in floats.withUnsafeMutableBufferPointer { tensor.dequantizeEdge(q, into: $0) } }
                    XCTAssertEqual(floats.map(\.bitPattern), expected.map { tensor.dequantizeEdge($0).bitPattern }, "\(type) zp \(zero)")
                }
            }
        }
    }

    /// A zero point beyond the fast path's range (an i32 tensor's) takes the per-value path.
    func testLargeZeroPointTakesThePerValuePath() {
        let tensor = QTensor.activation("x", shape: [1], type: .int32, scale: 0.5, zeroPoint: 1 << 24)
        let input = Self.hardFloats(scale: 0.5, count: 500, seed: 7)
        var got = [Int32](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { x in got.withUnsafeMutableBufferPointer { tensor.quantizeEdge(x, into: $0) } }
        XCTAssertEqual(got, input.map { tensor.quantizeEdge($0) })
    }
}
