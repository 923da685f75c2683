import QCore

/// Which nodes the unobserved path (`FloatExecutor.run` without `observe` or `perturb`) folds into
/// the convolution, dense or merge node before them: a Conv2D, DepthwiseConv2D or Dense whose
/// activation the kernel applies in its store (linear, relu, relu6), followed by a
/// BatchNormalization or Rescaling and/or an elementwise Activation; an Add, Subtract or same-shape
/// Multiply followed by an elementwise Activation (a residual block's add and relu). A node is folded only when it is the sole reader of
/// the node before it, which is not a graph output (so no one else sees the intermediate values).
/// The kernel then applies the folded steps to its output blocks while they are in cache
/// (`ChannelTail`), writing one buffer once instead of three; observed runs see every node and keep
/// the separate layers. A BatchNormalization or Rescaling whose sole reader is a Conv2D is a
/// candidate `head` of that conv: the executor folds it when the conv is a stem read from padded
/// images (`PaddedImagePlan`), which then applies it while copying each sample.
struct FusionPlan {
    /// For each node, the nodes folded into it, in order (empty for most).
    var tails: [[Int]]
    /// True for nodes folded into an earlier one (they execute nothing and share its buffer).
    var folded: [Bool]
    /// For each Conv2D, the affine node (not folded into an earlier node) it could apply to its input
    /// itself: the conv is that node's sole reader. Nil for most.
    var heads: [Int?]

    init(graph: Graph) {
        let count = graph.nodes.count
        var consumers = [[Int]](repeating: [], count: count)
        for (i, node) in graph.nodes.enumerated() {
            for p in node.inputs { consumers[p].append(i) }
        }
        let outputs = Set(graph.outputs)
        /// The only node reading `n`, when `n` is not an output and that node reads nothing else.
        func soleReader(of n: Int) -> Int? {
            guard !outputs.contains(n), consumers[n].count == 1 else { return nil }
            let reader = consumers[n][0]
            return graph.nodes[reader].inputs == [n] ? reader : nil
        }
        tails = [[Int]](repeating: [], count: count)
        folded = [Bool](repeating: false, count: count)
        for i in 0..<count {
            let node = graph.nodes[i]
            let merge = Self.isSameShapeMerge(node, graph: graph)
            guard merge || Self.takesTail(node.op) else { continue }
            var last = i
            if !merge, let next = soleReader(of: last), Self.isAffine(graph.nodes[next].op) {
                tails[i].append(next); last = next
            }
            if let next = soleReader(of: last), Self.isElementwiseActivation(graph.nodes[next].op) {
                tails[i].append(next); last = next
            }
            for j in tails[i] { folded[j] = true }
        }
        heads = [Int?](repeating: nil, count: count)
        for i in 0..<count {
            guard case .conv2D = graph.nodes[i].op, graph.nodes[i].inputs.count == 1 else { continue }
            let a = graph.nodes[i].inputs[0]
            if !folded[a], Self.isAffine(graph.nodes[a].op), soleReader(of: a) == i { heads[i] = a }
        }
    }

    /// Ops whose kernel can apply a tail: those that leave no activation to run after their GEMM or
    /// depthwise rows.
    private static func takesTail(_ op: Op) -> Bool {
        switch op {
        case .conv2D(let conv): return GEMMEpilogue.split(conv.activation).1 == nil
        case .depthwiseConv2D(let conv): return GEMMEpilogue.split(conv.activation).1 == nil
        case .dense(let dense): return GEMMEpilogue.split(dense.activation).1 == nil
        default: return false
        }
    }

    /// Add, Subtract and same-shape Multiply (`MergeLayer`), which take an activation only.
    private static func isSameShapeMerge(_ node: Node, graph: Graph) -> Bool {
        switch node.op {
        case .add, .subtract: return true
        case .multiply: return node.inputs.allSatisfy { graph.nodes[$0].shape == node.shape }
        default: return false
        }
    }

    private static func isAffine(_ op: Op) -> Bool {
        switch op {
        case .batchNorm, .rescaling: return true
        default: return false
        }
    }

    private static func isElementwiseActivation(_ op: Op) -> Bool {
        switch op {
        case .activation(.softmax): return false
        case .activation: return true
        default: return false
        }
    }
}

/// A kernel that can apply a `ChannelTail` to its output blocks.
protocol TailTakingKernel: SingleInputKernel {
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>, tail: ChannelTail?)
}

extension Conv2DKernel: TailTakingKernel {}
extension DepthwiseConv2DKernel: TailTakingKernel {}
extension DenseKernel: TailTakingKernel {}

/// A Conv2D, DepthwiseConv2D or Dense node with the nodes folded into it.
final class TailedKernelLayer: FloatLayer {
    let kernel: TailTakingKernel
    let tail: ChannelTail

    init(_ kernel: TailTakingKernel, tail: ChannelTail) {
        self.kernel = kernel
        self.tail = tail
    }

    func workspaceCount(batch: Int) -> Int { kernel.workspaceCount(batch: batch) }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        kernel.run(input: inputs[0], output: output, batch: batch, workspace: workspace, tail: tail)
    }
}

/// A stem Conv2D (read from padded images) with the affine node before it folded in (applied while
/// each sample is copied) and, optionally, the nodes after it.
final class HeadedStemLayer: FloatLayer {
    let kernel: Conv2DKernel
    let head: ChannelAffineLayer
    let tail: ChannelTail?

    init(_ kernel: Conv2DKernel, head: ChannelAffineLayer, tail: ChannelTail?) {
        precondition(kernel.paddedImage != nil && head.channels == kernel.inChannels,
                     "HeadedStemLayer: the conv is no stem read from padded images, or the channels differ")
        self.kernel = kernel
        self.head = head
        self.tail = tail
    }

    func workspaceCount(batch: Int) -> Int { kernel.workspaceCount(batch: batch) }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        kernel.run(input: inputs[0], output: output, batch: batch, workspace: workspace, tail: tail, head: head)
    }
}

/// A merge node with the activation folded into it, applied to each chunk right after the merge.
final class ActivatedMergeLayer: FloatLayer {
    let merge: MergeLayer
    let activation: Activation

    init(_ merge: MergeLayer, activation: Activation) {
        self.merge = merge
        self.activation = activation
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        merge.run(inputs: inputs, output: output, batch: batch, activation: activation)
    }
}
