import QCore

/// Builds the executable layer of each node (nil for nodes that execute nothing).
enum LayerFactory {
    static func make(node: Node, graph: Graph) throws(GraphError) -> FloatLayer? {
        let inputShapes = node.inputs.map { graph.nodes[$0].shape }
        switch node.op {
        case .input, .flatten, .reshape, .identity:
            return nil
        case .conv2D(let conv):
            return KernelLayer(Conv2DKernel(conv, inputShape: inputShapes[0]))
        case .depthwiseConv2D(let conv):
            return KernelLayer(DepthwiseConv2DKernel(conv, inputShape: inputShapes[0]))
        case .conv2DTranspose(let conv):
            return KernelLayer(Conv2DTransposeKernel(conv, inputShape: inputShapes[0]))
        case .dense(let dense):
            return KernelLayer(DenseKernel(dense, rows: inputShapes[0].dropLast().reduce(1, *)))
        case .batchNorm(let bn):
            let (scale, shift) = bn.scaleAndShift
            return ChannelAffineLayer(scale: scale, shift: shift, inputShape: inputShapes[0])
        case .layerNorm(let ln):
            return LayerNormLayer(ln, inputShape: inputShapes[0])
        case .rescaling(let scale, let offset):
            return ChannelAffineLayer(scale: scale, shift: offset, inputShape: inputShapes[0])
        case .activation(let activation):
            return ActivationLayer(activation: activation, inputShape: inputShapes[0])
        case .maxPool2D(let pool):
            return Pool2DLayer(kind: .max, pool: pool, inputShape: inputShapes[0], outputShape: node.shape)
        case .averagePool2D(let pool):
            return Pool2DLayer(kind: .average, pool: pool, inputShape: inputShapes[0], outputShape: node.shape)
        case .globalAveragePool2D:
            return GlobalPool2DLayer(isMax: false, inputShape: inputShapes[0])
        case .globalMaxPool2D:
            return GlobalPool2DLayer(isMax: true, inputShape: inputShapes[0])
        case .add:
            return MergeLayer(kind: .add, inputShape: node.shape)
        case .subtract:
            return MergeLayer(kind: .subtract, inputShape: node.shape)
        case .multiply where inputShapes.count == 2 && inputShapes[0] != inputShapes[1]:
            return BroadcastMultiplyLayer(outputShape: node.shape, smallInput: inputShapes[0] == node.shape ? 1 : 0)
        case .multiply:
            return MergeLayer(kind: .multiply, inputShape: node.shape)
        case .concatenate(let axis):
            return ConcatenateLayer(axis: axis, inputShapes: inputShapes)
        case .zeroPadding2D(let padding):
            return ZeroPadding2DLayer(padding: padding, inputShape: inputShapes[0])
        case .registered(let r):
            guard let op = r.op as? any FloatOp else {
                throw .invalidGraph(node: node.name, reason: "op \(r.op.name) is registered without a float kernel (docs/op-registry.md)")
            }
            return op.makeFloatLayer(inputShapes: inputShapes, outputShape: node.shape)
        }
    }
}

/// The convolution-family kernels share one calling convention; this adapts it to `FloatLayer`.
protocol SingleInputKernel: AnyObject {
    func workspaceCount(batch: Int) -> Int
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, workspace: UnsafeMutablePointer<Float>)
}

extension Conv2DKernel: SingleInputKernel {}
extension DepthwiseConv2DKernel: SingleInputKernel {}
extension Conv2DTransposeKernel: SingleInputKernel {}
extension DenseKernel: SingleInputKernel {}

final class KernelLayer: FloatLayer {
    let kernel: SingleInputKernel
    init(_ kernel: SingleInputKernel) { self.kernel = kernel }
    func workspaceCount(batch: Int) -> Int { kernel.workspaceCount(batch: batch) }
    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        kernel.run(input: inputs[0], output: output, batch: batch, workspace: workspace)
    }
}
