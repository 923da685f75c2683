/// The output pixel of a convolution's GEMM row `m = (sample * height + y) * width + x` (NHWC maps,
/// rows in that order), stepped pixel by pixel without dividing: the float engine's and the
/// simulator's panel and row-table builders walk their rows with it.
@frozen
public struct OutputPixel {
    public var sample: Int, y: Int, x: Int
    public let height: Int, width: Int

    @inlinable
    public init(row m: Int, height: Int, width: Int) {
        self.height = height; self.width = width
        x = m % width
        let rest = m / width
        y = rest % height
        sample = rest / height
    }

    /// The next `count` pixels along the row (`x + count <= width`): to the next row or sample where
    /// that ends the row.
    @inlinable @inline(__always)
    public mutating func advance(by count: Int = 1) {
        x &+= count
        if x == width {
            x = 0; y &+= 1
            if y == height { y = 0; sample &+= 1 }
        }
    }
}
