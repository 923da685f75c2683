/// A dense float32 array with a row-major shape; weights and constants of the graph.
///
/// Convolution kernels keep Keras' layout (`[kernelH, kernelW, inChannels, outChannels]`), so an
/// imported model can be compared weight for weight with its source file.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
}
