import FixedPoint
import QBin
import Simulator

/// The integer kernels of `tvSmoothing`: the scalar reference and the fast kernel (`FastTVSmoothing`, bit-exact).
public struct TVSmoothingInteger: IntegerOpDefinition {
    public init() {}
    public var code: UInt16 { TVSmoothingKind().code }

    public func makeReferenceLayer(_ context: IntegerOpContext) throws(SimulatorError) -> any IntegerLayer {
        return ReferenceTVSmoothing(try params(context), requant: try context.requantizer(channels: 1))
    }

    public func makeFastLayer(_ context: IntegerOpContext) throws(SimulatorError) -> (any IntegerLayer)? {
        FastTVSmoothing(try params(context), requant: try context.requantizer(channels: 1), inputBits: context.input(0).type.bits)
    }

    private func params(_ context: IntegerOpContext) throws(SimulatorError) -> TVSmoothingParams {
        let x = context.input(0)
        let steps = try context.values("steps", 1)[0], fractionBits = try context.values("fraction_bits", 1)[0]
        let gamma = try context.values("gamma", 1)[0], epsilon = try context.values("epsilon", 2)
        return TVSmoothingParams(height: x.shape[0], width: x.shape[1], channels: x.shape[2], inputZero: try context.zero(x),
                                 steps: Int(steps), fractionBits: Int(fractionBits), gamma: Int64(gamma),
                                 epsilon: TVSmoothingLimits.epsilon(epsilon))
    }
}

/// `tvSmoothing` (docs/qbin-format.md 5.1, arithmetic in docs/numerics.md): `steps` explicit TV-flow
/// steps per sample and channel of an `[H, W, C]` map in fixed point, then a requantize:
///
///     u = (q_x - zin) * 2^F                                           (Int64, units s_x 2^-F)
///     per step, per pixel: dx = u[y, x+1] - u[y, x] (0 in the last column), dy likewise (0 in the last row)
///         n = dx^2 + dy^2 + E;  (R, e) = fixedPointInverseSquareRoot(n)
///         px = rdbpot(dx * R, e),  py = rdbpot(dy * R, e)             (Q30: D x / |D x|_eps)
///     per pixel: u += rdbpot(G * (px - px[left] + py - py[up]), 30)   (p outside the map = 0)
///     q = clamp(zout + requant(u, m, s))
///
/// `rdbpot` rounds to nearest, ties away from zero; `G = round(gamma 2^F / s_x)`, `E = round(eps 2^2F / s_x^2)`.
/// The attribute limits (`TVSmoothingParams.check`) keep every value inside Int64 and `u` inside Int32.
final class ReferenceTVSmoothing: IntegerLayer {
    let p: TVSmoothingParams
    let requant: ChannelRequantizer

    init(_ p: TVSmoothingParams, requant: ChannelRequantizer) { self.p = p; self.requant = requant }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let count = p.height * p.width * p.channels
        var u = [Int64](repeating: 0, count: count), px = u, py = u
        for n in 0..<batch {
            for i in 0..<count { u[i] = Int64(inputs[0][n * count + i] &- p.inputZero) << p.fractionBits }
            for _ in 0..<p.steps { step(&u, &px, &py) }
            for i in 0..<count { output[n * count + i] = requant.apply(Int32(u[i]), channel: 0) }
        }
    }

    /// One explicit step on one sample, in place.
    func step(_ u: inout [Int64], _ px: inout [Int64], _ py: inout [Int64]) {
        let c = p.channels, row = p.width * p.channels
        for y in 0..<p.height {
            for x in 0..<p.width {
                for k in 0..<c {
                    let i = y * row + x * c + k
                    let dx = x + 1 < p.width ? u[i + c] - u[i] : 0
                    let dy = y + 1 < p.height ? u[i + row] - u[i] : 0
                    let (r, e) = fixedPointInverseSquareRoot(dx * dx + dy * dy + p.epsilon)
                    px[i] = roundingDivideByPowerOfTwo(dx * r, e)
                    py[i] = roundingDivideByPowerOfTwo(dy * r, e)
                }
            }
        }
        for y in 0..<p.height {
            for x in 0..<p.width {
                for k in 0..<c {
                    let i = y * row + x * c + k
                    var div = px[i] + py[i]
                    if x > 0 { div -= px[i - c] }
                    if y > 0 { div -= py[i - row] }
                    u[i] += roundingDivideByPowerOfTwo(p.gamma * div, 30)
                }
            }
        }
    }
}

/// The integer parameters of a `tvSmoothing` op, read from its attributes.
struct TVSmoothingParams: Sendable {
    let height: Int, width: Int, channels: Int
    let inputZero: Int32
    let steps: Int
    /// `F`: fraction bits of `u` below one input step.
    let fractionBits: Int
    /// `G`, in units of `s_x 2^-F`.
    let gamma: Int64
    /// `E`, in units of `(s_x 2^-F)^2`, from the attribute's two 31-bit halves.
    let epsilon: Int64
}
