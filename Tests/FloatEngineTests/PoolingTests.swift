@testable import FloatEngine
import QCore
import XCTest

/// `Pool2DLayer` (the per-level C kernel `qc_pool_row_f32`: 8- or 16-channel vectors, then single
/// channels or a masked block) against a plain per-channel loop with `Swift.max` and in-order sums, bit
/// for bit: channel counts around the vector widths, `same` and valid padding, strides 1 and 2, NaN,
/// infinite and signed-zero inputs, batch 1 and 3.
final class PoolingTests: XCTestCase {
    func testPoolingMatchesAPerChannelLoopBitForBit() {
        var values = SeededValues(seed: 71)
        for channels in [1, 3, 8, 13, 16, 20, 33, 40] {
            for (kernel, stride, pad) in [(2, 2, 0), (3, 1, 1), (3, 2, 1)] {
                let inH = 7, inW = 6
                let padding = Padding2D(top: pad, bottom: pad, left: pad, right: pad)
                let geometry = ConvGeometry(kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride, padding: padding)
                let out = geometry.outputSize(inH: inH, inW: inW)
                for kind in [Pool2DLayer.Kind.max, .average] {
                    let layer = Pool2DLayer(kind: kind, pool: Pool2D(geometry: geometry), inputShape: [inH, inW, channels],
                                            outputShape: [out.h, out.w, channels])
                    for batch in [1, 3] {
                        var input = values.array(batch * inH * inW * channels)
                        input[5 % input.count] = .nan
                        input[17 % input.count] = .infinity
                        input[23 % input.count] = -.infinity
                        // Equal values of opposite sign in one window: `>=` takes the later one.
                        input[(2 * inW + 2) * channels % input.count] = 0
                        input[(2 * inW + 3) * channels % input.count] = -0.0
                        input[(3 * inW + 2) * channels % input.count] = -0.0
                        let expected = Self.pool(kind, input, batch: batch, inH: inH, inW: inW, channels: channels,
                                                 geometry: geometry, outH: out.h, outW: out.w)
                        var actual = [Float](repeating: 7, count: expected.count)
                        var workspace: [Float] = [0]
                        input.withUnsafeBufferPointer { i in
                            layer.run(inputs: [i.baseAddress!], output: &actual, batch: batch, workspace: &workspace)
                        }
                        XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern),
                                       "\(kind) C \(channels) k \(kernel) s \(stride) pad \(pad) batch \(batch)")
                    }
                }
            }
        }
    }

    /// Max pools whose windows are full of ties and NaN, against the per-channel loop bit for bit: every
    /// input one of +0, -0, NaN, -1 and -inf, so the running maximum is often a zero met again with the
    /// other sign (`max` keeps the later), or NaN, which never replaces. The vector levels fold each
    /// window row on its own chain and then the rows in order, 32, 16 or 8 channels at a time; this
    /// checks that they keep the per-channel loop's choice, across 1-4 window rows and columns,
    /// clipped windows, and channel counts that use every block size and a tail.
    func testMaxPoolTiesAndNaNMatchAPerChannelLoop() {
        var state: UInt64 = 0x5EED
        let pool: [Float] = [0, -0.0, .nan, -1, -.infinity]
        for channels in [8, 16, 24, 32, 43, 72] {
            for (kernel, stride, pad) in [(2, 2, 0), (3, 2, 0), (3, 2, 1), (3, 1, 1), (4, 3, 2), (1, 1, 0)] {
                let inH = 7, inW = 8
                let padding = Padding2D(top: pad, bottom: pad, left: pad, right: pad)
                let geometry = ConvGeometry(kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride, padding: padding)
                let out = geometry.outputSize(inH: inH, inW: inW)
                let layer = Pool2DLayer(kind: .max, pool: Pool2D(geometry: geometry), inputShape: [inH, inW, channels],
                                        outputShape: [out.h, out.w, channels])
                let batch = 2
                let input: [Float] = (0..<(batch * inH * inW * channels)).map { _ in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return pool[Int(state >> 33) % pool.count]
                }
                let expected = Self.pool(.max, input, batch: batch, inH: inH, inW: inW, channels: channels,
                                         geometry: geometry, outH: out.h, outW: out.w)
                var actual = [Float](repeating: 7, count: expected.count)
                var workspace: [Float] = [0]
                input.withUnsafeBufferPointer { i in
                    layer.run(inputs: [i.baseAddress!], output: &actual, batch: batch, workspace: &workspace)
                }
                XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern), "C \(channels) k \(kernel) s \(stride) pad \(pad)")
            }
        }
    }

    /// `GlobalPool2DLayer` against a per-pixel loop with `Swift.max` and in-order sums, bit for bit.
    func testGlobalPoolingMatchesAPerPixelLoopBitForBit() {
        var values = SeededValues(seed: 73)
        for channels in [1, 10, 16, 40] {
            for (h, w) in [(1, 1), (7, 7), (4, 9)] {
                for isMax in [true, false] {
                    let layer = GlobalPool2DLayer(isMax: isMax, inputShape: [h, w, channels])
                    let batch = 3
                    var input = values.array(batch * h * w * channels)
                    input[3 % input.count] = .nan
                    input[11 % input.count] = -.infinity
                    var expected: [Float] = []
                    for n in 0..<batch {
                        for c in 0..<channels {
                            var acc: Float = isMax ? -.infinity : 0
                            for p in 0..<(h * w) {
                                let v = input[(n * h * w + p) * channels + c]
                                acc = isMax ? max(acc, v) : acc + v
                            }
                            expected.append(isMax ? acc : acc * (1 / Float(h * w)))
                        }
                    }
                    var actual = [Float](repeating: 7, count: expected.count)
                    var workspace: [Float] = [0]
                    input.withUnsafeBufferPointer { i in
                        layer.run(inputs: [i.baseAddress!], output: &actual, batch: batch, workspace: &workspace)
                    }
                    XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern), "max \(isMax) \(h)x\(w)x\(channels)")
                }
            }
        }
    }

    private static func pool(_ kind: Pool2DLayer.Kind, _ input: [Float], batch: Int, inH: Int, inW: Int, channels: Int,
                             geometry g: ConvGeometry, outH: Int, outW: Int) -> [Float] {
        var result: [Float] = []
        for n in 0..<batch {
            for oy in 0..<outH {
                for ox in 0..<outW {
                    let y0 = oy * g.strideH - g.padding.top, x0 = ox * g.strideW - g.padding.left
                    let ys = max(y0, 0)..<min(y0 + g.kernelH, inH), xs = max(x0, 0)..<min(x0 + g.kernelW, inW)
                    for c in 0..<channels {
                        var acc: Float = kind == .max ? -.infinity : 0
                        for y in ys {
                            for x in xs {
                                let v = input[((n * inH + y) * inW + x) * channels + c]
                                acc = kind == .max ? max(acc, v) : acc + v
                            }
                        }
                        result.append(kind == .max ? acc : acc * (1 / Float(max(ys.count * xs.count, 1))))
                    }
                }
            }
        }
        return result
    }
}
