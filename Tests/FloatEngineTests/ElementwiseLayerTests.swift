@testable import FloatEngine
import QCore
import XCTest

/// `ChannelAffineLayer` and `MergeLayer` (eight lanes at a time, then single elements) against plain
/// element-at-a-time loops, bit for bit: channel counts around the vector width, NaN, infinities and
/// -0.0 among the inputs, in place and out of place, one and two threads; a merge with an activation
/// folded in against the merge then `ActivationKernel`.
final class ElementwiseLayerTests: XCTestCase {
    func testChannelAffineMatchesAScalarLoopBitForBit() {
        var values = SeededValues(seed: 83)
        for channels in [1, 3, 8, 13, 16, 20] {
            let shape = [5, 3, channels]
            let scale = values.array(channels), shift = values.array(channels)
            let layer = ChannelAffineLayer(scale: scale, shift: shift, inputShape: shape)
            for batch in [1, 3] {
                let input = Self.withSpecialValues(values.array(batch * shape.reduce(1, *)))
                var expected = input
                for i in expected.indices { expected[i] = input[i] * scale[i % channels] + shift[i % channels] }
                forEachThreadCount { threads in
                    var actual = [Float](repeating: 7, count: input.count)
                    var workspace: [Float] = [0]
                    input.withUnsafeBufferPointer { i in
                        layer.run(inputs: [i.baseAddress!], output: &actual, batch: batch, workspace: &workspace)
                    }
                    XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern), "C \(channels) batch \(batch), \(threads) threads")
                    var inPlace = input
                    inPlace.withUnsafeMutableBufferPointer { buffer in
                        layer.run(inputs: [UnsafePointer(buffer.baseAddress!)], output: buffer.baseAddress!, batch: batch,
                                  workspace: &workspace)
                    }
                    XCTAssertEqual(inPlace.map(\.bitPattern), expected.map(\.bitPattern), "in place, C \(channels) batch \(batch)")
                }
            }
        }
    }

    func testMergeMatchesAScalarLoopBitForBit() {
        var values = SeededValues(seed: 89)
        let cases: [(MergeLayer.Kind, inputs: Int)] = [(.add, 2), (.add, 3), (.subtract, 2), (.multiply, 2), (.multiply, 3)]
        for (kind, inputCount) in cases {
            for perSample in [1, 7, 8, 21, 40] {
                let layer = MergeLayer(kind: kind, inputShape: [perSample])
                for batch in [1, 3] {
                    let inputs = (0..<inputCount).map { _ in Self.withSpecialValues(values.array(batch * perSample)) }
                    var expected = inputs[0]
                    for other in inputs.dropFirst() {
                        for i in expected.indices {
                            switch kind {
                            case .add: expected[i] += other[i]
                            case .subtract: expected[i] -= other[i]
                            case .multiply: expected[i] *= other[i]
                            }
                        }
                    }
                    forEachThreadCount { threads in
                        var actual = [Float](repeating: 7, count: expected.count)
                        var workspace: [Float] = [0]
                        let pointers = inputs.map { array in
                            let copy = UnsafeMutablePointer<Float>.allocate(capacity: array.count)
                            copy.initialize(from: array, count: array.count)
                            return copy
                        }
                        defer { pointers.forEach { $0.deallocate() } }
                        layer.run(inputs: pointers.map { UnsafePointer($0) }, output: &actual, batch: batch, workspace: &workspace)
                        XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern),
                                       "\(kind) x\(inputCount), \(perSample) per sample, batch \(batch), \(threads) threads")
                        // With an activation folded in (the unobserved path): the merge, then the activation layer's kernel.
                        for activation in [Activation.relu, .relu6, .leakyRelu(alpha: 0.1), .sigmoid] {
                            var activated = expected
                            ActivationKernel.apply(activation, to: &activated, count: activated.count, channels: perSample)
                            var folded = [Float](repeating: 7, count: expected.count)
                            layer.run(inputs: pointers.map { UnsafePointer($0) }, output: &folded, batch: batch, activation: activation)
                            XCTAssertEqual(folded.map(\.bitPattern), activated.map(\.bitPattern), "\(kind) then \(activation)")
                        }
                        // In place over the first input, as the executor may run it.
                        layer.run(inputs: pointers.map { UnsafePointer($0) }, output: pointers[0], batch: batch, workspace: &workspace)
                        XCTAssertEqual(Array(UnsafeBufferPointer(start: pointers[0], count: expected.count)).map(\.bitPattern),
                                       expected.map(\.bitPattern), "in place, \(kind) x\(inputCount), batch \(batch)")
                    }
                }
            }
        }
    }

    /// `values` with a NaN, both infinities and -0.0 placed at positions that land in vector bodies and tails.
    private static func withSpecialValues(_ values: [Float]) -> [Float] {
        var values = values
        for (position, special) in [(2, Float.nan), (5, .infinity), (9, -.infinity), (12, -0.0), (19, 0.0)] {
            values[position % values.count] = special
        }
        return values
    }
}

/// `ChannelTail` (what a kernel applies for the BatchNormalization and activation folded into it)
/// against `ChannelAffineLayer` then `ActivationKernel`, bit for bit: with and without the affine
/// step, relu and relu6 (one pass) and others, rows wider than the channels (`ldc`), NaN, infinities
/// and -0.0.
final class ChannelTailTests: XCTestCase {
    func testTailMatchesTheSeparateLayersBitForBit() {
        var values = SeededValues(seed: 97)
        let activations: [Activation?] = [nil, .linear, .relu, .relu6, .leakyRelu(alpha: 0.2), .sigmoid, .hardSwish]
        for channels in [1, 5, 8, 19, 32] {
            // The tail covers `ldc` channels and is applied to `channels` of them from `channel0` (a group).
            let extra = 3, ldc = channels + extra, channel0 = extra
            let scale = values.array(ldc).map { $0 * 4 }, shift = values.array(ldc).map { $0 * 4 }
            for withAffine in [false, true] {
                let affine = ChannelAffineLayer(scale: scale, shift: shift, inputShape: [ldc])
                for activation in activations where withAffine || activation != nil {
                    let tail = ChannelTail(affine: withAffine ? affine : nil, activation: activation)
                    let rows = 7
                    var data = values.array(rows * ldc).map { $0 * 8 }
                    for (position, special) in [(2, Float.nan), (5, .infinity), (9, -.infinity), (12, -0.0), (19, 0.0)] {
                        data[position % data.count] = special
                    }
                    var expected = data
                    for r in 0..<rows {
                        for c in channel0..<ldc where withAffine {
                            expected[r * ldc + c] = data[r * ldc + c] * scale[c] + shift[c]
                        }
                        if let activation {
                            expected.withUnsafeMutableBufferPointer {
                                ActivationKernel.apply(activation, to: $0.baseAddress! + r * ldc + channel0, count: channels,
                                                       channels: channels)
                            }
                        }
                    }
                    var actual = data
                    actual.withUnsafeMutableBufferPointer {
                        tail.apply($0.baseAddress! + channel0, rows: rows, ldc: ldc, channel0: channel0, count: channels)
                    }
                    XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern),
                                   "C \(channels), affine \(withAffine), \(String(describing: activation))")
                }
            }
        }
    }
}
