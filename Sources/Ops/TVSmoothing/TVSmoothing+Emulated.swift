import Emulation
import QBin

/// The emulated twin of `tvSmoothing`.
public struct TVSmoothingTwin: EmulatedOpDefinition {
    public init() {}
    public var code: UInt16 { TVSmoothingKind().code }

    public func makeEmulatedOp(_ context: EmulatedOpContext) throws(EmulationError) -> any EmulatedOp {
        let x = context.input(0), out = context.output
        let steps = try context.values("steps", 1)[0], fractionBits = try context.values("fraction_bits", 1)[0]
        let gamma = try context.values("gamma", 1)[0], epsilon = try context.values("epsilon", 2)
        let factor = Double(x.scales[0]) / Double(out.scales[0]) / Double(Int64(1) << Int64(fractionBits))
        return EmulatedTVSmoothing(height: x.shape[0], width: x.shape[1], channels: x.shape[2], inputZero: try context.zero(x),
                                   steps: Int(steps), fractionBits: Int(fractionBits), gamma: Int64(gamma),
                                   epsilon: TVSmoothingLimits.epsilon(epsilon), rescale: try context.rescale(factors: [factor]))
    }
}

/// `tvSmoothing`'s emulated twin: the integer flow of docs/qbin-format.md 5.1, except that its two
/// fixed-point approximations are replaced by real arithmetic (Double), as for every emulated op:
///
///     px = round(dx * 2^30 / sqrt(n))     instead of rdbpot(dx * R, e) with R from the Newton inverse sqrt
///     q  = clamp(zout + round(u * s_x / (2^F s_out)))     instead of requant(u, m, s)  (`RealRescale`)
///
/// (round: nearest, ties away from zero). The differences, Newton's last bits and the multiplier's
/// 31-bit significand, stay below one output step except where a value sits on a rounding edge.
final class EmulatedTVSmoothing: EmulatedOp {
    let height: Int, width: Int, channels: Int
    let inputZero: Int32
    let steps: Int, fractionBits: Int
    let gamma: Int64, epsilon: Int64
    let rescale: RealRescale

    init(height: Int, width: Int, channels: Int, inputZero: Int32, steps: Int, fractionBits: Int,
         gamma: Int64, epsilon: Int64, rescale: RealRescale) {
        self.height = height; self.width = width; self.channels = channels; self.inputZero = inputZero
        self.steps = steps; self.fractionBits = fractionBits; self.gamma = gamma; self.epsilon = epsilon
        self.rescale = rescale
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let count = height * width * channels, c = channels, row = width * channels
        var u = [Int64](repeating: 0, count: count), px = u, py = u
        for n in 0..<batch {
            for i in 0..<count { u[i] = Int64(inputs[0][n * count + i] - inputZero) * (Int64(1) << fractionBits) }
            for _ in 0..<steps {
                for y in 0..<height {
                    for x in 0..<width {
                        for k in 0..<c {
                            let i = y * row + x * c + k
                            let dx = x + 1 < width ? u[i + c] - u[i] : 0
                            let dy = y + 1 < height ? u[i + row] - u[i] : 0
                            let norm = Double(dx * dx + dy * dy + epsilon).squareRoot()
                            px[i] = Int64((Double(dx) * 1_073_741_824 / norm).rounded(.toNearestOrAwayFromZero))
                            py[i] = Int64((Double(dy) * 1_073_741_824 / norm).rounded(.toNearestOrAwayFromZero))
                        }
                    }
                }
                for y in 0..<height {
                    for x in 0..<width {
                        for k in 0..<c {
                            let i = y * row + x * c + k
                            var div = px[i] + py[i]
                            if x > 0 { div -= px[i - c] }
                            if y > 0 { div -= py[i - row] }
                            u[i] += Int64((Double(gamma * div) / 1_073_741_824).rounded(.toNearestOrAwayFromZero))
                        }
                    }
                }
            }
            for i in 0..<count { output[n * count + i] = rescale.apply(u[i], channel: 0) }
        }
    }
}
