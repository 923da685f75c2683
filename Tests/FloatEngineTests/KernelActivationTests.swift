@testable import FloatEngine
import QCore
import XCTest

/// ActivationKernel against FloatReference.activation (evaluated in Double).
final class KernelActivationTests: XCTestCase {
    /// libm's expf/tanhf are within ~1 ulp; sigmoid and swish add a division and an addition, so a
    /// few ulps (1.2e-7 each) relative to the value, plus a floor for results that round to ~0.
    static let relativeTolerance: Float = 1e-6
    static let absoluteFloor: Float = 1e-30

    static let activations: [Activation] = [
        .linear, .relu, .relu6, .leakyRelu(alpha: 0.3),
        .generalRelu(maxValue: 4, negativeSlope: 0.1, threshold: 0.5), .generalRelu(maxValue: nil, negativeSlope: 0, threshold: -1),
        .sigmoid, .tanh, .hardSigmoid(slope: 0.2, offset: 0.5), .hardSigmoid(slope: 1.0 / 6, offset: 0.5), .swish, .hardSwish, .gelu, .softmax,
    ]

    func testEveryActivationMatchesReference() {
        var values = SeededValues(seed: 5)
        let channels = 10
        // Moderate values, then extremes that overflow a naive exp.
        var input = values.array(channels * 40, scale: 8)
        input += [-200, -88, -20, 0, 1e-7, -1e-7, 20, 88, 200, 1000]
        for activation in Self.activations {
            let expected = FloatReference.activation(activation, input, channels: channels)
            forEachThreadCount { threads in
                var actual = input
                actual.withUnsafeMutableBufferPointer {
                    ActivationKernel.apply(activation, to: $0.baseAddress!, count: $0.count, channels: channels)
                }
                for i in input.indices {
                    var allowed = max(Self.relativeTolerance * abs(expected[i]), Self.absoluteFloor)
                    if case .hardSigmoid(let slope, let offset) = activation {
                        // `slope * x + offset` cancels near 0: float32 rounding is an ulp of its terms, not of the result.
                        allowed += 2 * Float.ulpOfOne * (abs(slope * input[i]) + abs(offset))
                    }
                    if case .gelu = activation {
                        // erfc(z) changes by 2z per unit of z relatively: the ulp of z = -x / sqrt(2) costs ~x^2 ulps.
                        allowed += 2 * Float.ulpOfOne * input[i] * input[i] * abs(expected[i])
                    }
                    if case .hardSwish = activation {
                        // `x + 3` cancels near -3 in float32: an ulp of the terms, times |x| / 6.
                        allowed += 2 * Float.ulpOfOne * (abs(input[i]) + 3) * abs(input[i]) / 6
                    }
                    if !(abs(actual[i] - expected[i]) <= allowed) {
                        XCTFail("\(activation.name), \(threads) threads: f(\(input[i])) = \(actual[i]), reference \(expected[i])")
                        break
                    }
                }
            }
        }
    }

    func testSoftmaxRowsSumToOne() {
        var buffer: [Float] = [1, 2, 3, 1000, 1001, 1002]
        buffer.withUnsafeMutableBufferPointer { ActivationKernel.apply(.softmax, to: $0.baseAddress!, count: 6, channels: 3) }
        XCTAssertEqual(buffer[0] + buffer[1] + buffer[2], 1, accuracy: 1e-6)
        XCTAssertEqual(buffer[3], buffer[0], accuracy: 1e-7)
    }
}
