/// Layer normalization over the last axis (Keras `LayerNormalization(axis=-1)`, ConvNeXt): per row
/// `x` of the last axis (`C` values),
///
///     mean = sum(x) / C,   var = sum((x - mean)^2) / C,   y[c] = gamma[c] (x[c] - mean) / sqrt(var + epsilon) + beta[c]
///
/// `gamma` is ones without `scale=True`, `beta` zeros without `center=True`.
public struct LayerNorm: Sendable, Equatable {
    public var gamma: [Float], beta: [Float]
    public var epsilon: Float

    public init(gamma: [Float], beta: [Float], epsilon: Float) {
        self.gamma = gamma; self.beta = beta; self.epsilon = epsilon
    }
    public var channels: Int { gamma.count }

    /// Normalizes one row in place (Double accumulation, two passes), the float reference.
    public func apply(_ row: UnsafeMutableBufferPointer<Float>) {
        let c = row.count
        var sum = 0.0
        for v in row { sum += Double(v) }
        let mean = sum / Double(c)
        var squares = 0.0
        for v in row { let d = Double(v) - mean; squares += d * d }
        let inverse = 1 / (squares / Double(c) + Double(epsilon)).squareRoot()
        for k in 0..<c {
            row[k] = Float((Double(row[k]) - mean) * inverse * Double(gamma[k]) + Double(beta[k]))
        }
    }
}
