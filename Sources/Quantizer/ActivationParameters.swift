import Foundation
import QBin

/// The integer encoding of one activation tensor: `r = scale * (q - zeroPoint)`, `q` in the unsigned
/// `bits`-wide type `0 ... 2^bits - 1`.
///
/// Asymmetric: the clip range `low ... high` (which always contains zero) is mapped onto the whole
/// type, and the zero point is rounded so that real zero is exactly representable (ReLU clamps and
/// zero padding need it). A non-negative tensor has `low = 0`, so zero point 0 and the full type
/// for `0 ... high`.
public struct ActivationParameters: Sendable, Equatable {
    public var type: QType
    public var scale: Float
    public var zeroPoint: Int32
    /// The clip range it was derived from and the method that chose it.
    public var low: Float
    public var high: Float
    public var method: String

    public init(low: Float, high: Float, bits: Int, method: String) {
        let type = QType.unsigned(bits)!
        var low = Swift.min(low, 0), high = Swift.max(high, 0)
        if !(high - low > 1e-12) || !(high - low).isFinite { low = 0; high = 1 } // a constant tensor: any scale works
        let levels = Float(type.maxValue)
        var scale = (high - low) / levels
        if !(scale >= Float.leastNormalMagnitude) { scale = Float.leastNormalMagnitude }
        let zero = (-low / scale).rounded(.toNearestOrAwayFromZero)
        self.type = type
        self.scale = scale
        self.zeroPoint = Int32(Swift.min(Swift.max(zero, 0), levels))
        self.low = low; self.high = high
        self.method = method
    }

    /// A wide int32 encoding for a graph output (logits): symmetric, `scale = max(|low|, |high|) / 2^23`,
    /// so the calibrated range uses 24 bits and values 256 times beyond it still fit: the output adds no
    /// rounding or clipping error worth measuring, and it costs no weight bits.
    public static func wide(low: Float, high: Float, method: String) -> ActivationParameters {
        var p = ActivationParameters(low: low, high: high, bits: 8, method: method)
        let magnitude = Swift.max(abs(p.low), abs(p.high))
        p.type = .int32
        p.scale = Swift.max(magnitude / Float(1 << 23), Float.leastNormalMagnitude)
        p.zeroPoint = 0
        return p
    }

    /// The stored value of real `x`: `round(x / scale) + zeroPoint`, clamped to the type.
    public func quantize(_ x: Float) -> Int32 {
        let q = (Double(x) / Double(scale)).rounded(.toNearestOrAwayFromZero) + Double(zeroPoint)
        if q.isNaN { return zeroPoint }
        return Int32(Swift.min(Swift.max(q, Double(type.minValue)), Double(type.maxValue)))
    }

    public func dequantize(_ q: Int32) -> Float { Float(Double(scale) * Double(Int64(q) - Int64(zeroPoint))) }

    /// The full type range, or the ReLU / ReLU6 clamp in stored values.
    func clamp(relu: Bool, relu6: Bool) -> [Int32] {
        var lower = Int32(type.minValue), upper = Int32(type.maxValue)
        if relu || relu6 { lower = Swift.max(lower, zeroPoint) }
        if relu6 {
            let six = Double(zeroPoint) + (6 / Double(scale)).rounded(.toNearestOrAwayFromZero)
            upper = Int32(Swift.min(Double(upper), Swift.max(six, Double(lower))))
        }
        return [lower, upper]
    }

    func tensor(_ name: String, shape: [Int]) -> QTensor {
        .activation(name, shape: shape, type: type, scale: scale, zeroPoint: zeroPoint)
    }
}
