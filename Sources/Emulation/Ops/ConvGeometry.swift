/// Geometry and integer parameters of the convolution-like ops (`conv2D`, `depthwiseConv2D`,
/// `conv2DTranspose`): NHWC activations, weights in the stored layout (`docs/qbin-format.md` 5.2).
struct ConvGeometry: Sendable {
    var inH: Int, inW: Int, inC: Int
    var outH: Int, outW: Int, outC: Int
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var dilationH: Int, dilationW: Int
    var padTop: Int, padLeft: Int
    /// `conv2D` only (1 otherwise).
    var groups: Int = 1
    /// `depthwiseConv2D` only (1 otherwise).
    var depthMultiplier: Int = 1
    var inputZero: Int32
    /// Largest `|q_x - zin|` the input type allows (bounds the Int32 partial sums).
    var maxInputMagnitude: Int64
    /// Unpacked weights, row-major in the stored layout.
    var weights: [Int32]
    /// One per output channel (zeros without a bias), at scale `s_x * s_w[c]`.
    var bias: [Int32]
    var rescale: RealRescale

    var inChannelsPerGroup: Int { inC / groups }
    var outChannelsPerGroup: Int { outC / groups }
    var maxWeightMagnitude: Int64 { weights.reduce(Int64(0)) { Swift.max($0, abs(Int64($1))) } }
}
