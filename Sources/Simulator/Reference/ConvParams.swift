/// Geometry and integer parameters shared by the convolution-like ops (`conv2D`, `depthwiseConv2D`,
/// `conv2DTranspose`), NHWC activations, weights as stored (`docs/qbin-format.md`, section 5.2).
struct ConvParams: Sendable {
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
    /// Unpacked weights, row-major in the stored layout.
    var weights: [Int32]
    /// One per output channel, zeros when the op has no bias.
    var bias: [Int32]
    var requant: ChannelRequantizer

    var inChannelsPerGroup: Int { inC / groups }
    var outChannelsPerGroup: Int { outC / groups }
}
