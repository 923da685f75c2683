import QCore

/// Edge-aware total-variation smoothing of a feature map (Ben-Yair, Ben Shalom, Eliasof, Treister,
/// "Quantized convolutional neural networks through the lens of partial differential equations", 2022):
/// `steps` explicit steps of TV flow per sample and channel of an `[H, W, C]` map,
///
///     x <- x - gamma * D^T( D x / sqrt(|D x|^2 + epsilon) )
///
/// with `D x = (dx, dy)` the forward differences in x and y (`dx[y, x] = x[y, x+1] - x[y, x]`, zero in
/// the last column; `dy` likewise, zero in the last row: a reflective, Neumann boundary) and `|D x|^2 =
/// dx^2 + dy^2` per pixel. Written out, with `p = D x / sqrt(|D x|^2 + epsilon)`:
///
///     x[y, x] += gamma * (px[y, x] - px[y, x-1] + py[y, x] - py[y-1, x])      (p outside the map = 0)
///
/// `gamma` is in the units of the values (each step moves a value by at most `4 gamma`). With
/// `epsilon >= 16 gamma^2` (`defaultEpsilon`) every step is a convex combination of a pixel and its
/// four neighbours, so the output stays within the input's range (docs/tv-smoothing.md).
public struct TVSmoothing: GraphOp, Equatable, Hashable {
    public var gamma: Float
    public var steps: Int
    public var epsilon: Float

    public init(gamma: Float, steps: Int, epsilon: Float? = nil) {
        self.gamma = gamma
        self.steps = steps
        self.epsilon = epsilon ?? Self.defaultEpsilon(gamma: gamma)
    }

    /// `16 gamma^2`, the smallest epsilon for which each explicit step obeys the discrete maximum
    /// principle (`gamma / sqrt(|Dx|^2 + eps) <= 1/4` on all four edges of a pixel); a positive floor
    /// keeps `gamma = 0` well defined.
    public static func defaultEpsilon(gamma: Float) -> Float {
        Swift.max(16 * gamma * gamma, 1e-12)
    }

    /// Why the parameters cannot be used, or nil: gamma finite and >= 0, steps in 0...`maxSteps`,
    /// epsilon finite and > 0.
    public var invalidReason: String? {
        if !gamma.isFinite || gamma < 0 { return "gamma \(gamma) must be finite and >= 0" }
        if !(0...Self.maxSteps).contains(steps) { return "steps \(steps) must be within 0...\(Self.maxSteps)" }
        if !epsilon.isFinite || epsilon <= 0 { return "eps \(epsilon) must be finite and > 0" }
        return nil
    }

    public var name: String { "TVSmoothing" }

    /// One `[H, W, C]` map in, the same shape out.
    public func outputShape(_ inputShapes: [[Int]]) -> Result<[Int], ShapeRuleFailure> {
        if let reason = invalidReason { return .failure(ShapeRuleFailure(expected: "valid TV parameters (\(reason))")) }
        guard inputShapes.count == 1, inputShapes[0].count == 3 else {
            return .failure(ShapeRuleFailure(expected: "exactly one H x W x C input (per sample)"))
        }
        return .success(inputShapes[0])
    }

    /// The smoothed map gets its own calibrated range (smoothing narrows it).
    public var copiesInputEncoding: Bool { false }

    /// More steps than this are an error, not a model: an explicit scheme this long is a different method.
    public static let maxSteps = 64

    /// The scalar reference of one sample's `[height, width, channels]` map, in Double, in place.
    /// The float engine's kernel and the integer op are tested against it.
    public func reference(_ map: inout [Double], height: Int, width: Int, channels: Int) {
        let g = Double(gamma), eps = Double(epsilon)
        var px = [Double](repeating: 0, count: map.count), py = px
        for _ in 0..<steps {
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<channels {
                        let i = (y * width + x) * channels + c
                        let dx = x + 1 < width ? map[i + channels] - map[i] : 0
                        let dy = y + 1 < height ? map[i + width * channels] - map[i] : 0
                        let n = (dx * dx + dy * dy + eps).squareRoot()
                        px[i] = dx / n; py[i] = dy / n
                    }
                }
            }
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<channels {
                        let i = (y * width + x) * channels + c
                        var div = px[i] + py[i]
                        if x > 0 { div -= px[i - channels] }
                        if y > 0 { div -= py[i - width * channels] }
                        map[i] += g * div
                    }
                }
            }
        }
    }
}
