import CKernels
import QCore

/// Runs a float graph on batches of NHWC samples.
///
/// Layers (with their packed weights) are built once. Activation buffers are allocated by each `run`
/// for at most `maxBatch` samples, reused across its chunks (larger inputs run in chunks of
/// `maxBatch`) and freed when it returns: an idle executor holds only its weights, so a conversion
/// that keeps several (the canonical, equalized and smoothed graphs) holds one set of activation
/// buffers at a time (ResNet50 at 224 px and batch 32: ~400 MB each). Each layer parallelises
/// internally over `Parallel.threadCount`, except when `run` splits a batch by samples (below).
public final class FloatExecutor {
    public let graph: Graph
    public let maxBatch: Int
    private let plan: ExecutionPlan
    private let layers: [FloatLayer?]
    /// The unobserved path's layers and buffers: nodes folded into the kernel before them
    /// (`FusionPlan`) run nothing and share its buffer.
    private let fusedPlan: ExecutionPlan
    let fusedLayers: [FloatLayer?]
    /// Floats of the largest layer workspace for `maxBatch` samples.
    private let workspaceCount: Int
    /// Samples per pass when `run` splits a batch by samples (at most `maxBatch`): small enough that
    /// a pass's activations stay in the core's L2 cache, large enough to amortise each op's setup.
    public var samplesPerPass = 8

    /// Bytes that `run` allocates (at most) for activation buffers and the workspace, computed
    /// without allocating them (saturating at `Int.max`), so a caller can refuse a graph over budget.
    public static func bufferBytes(graph: Graph, maxBatch: Int) throws(GraphError) -> Int {
        let batch = max(1, maxBatch)
        var total = 0
        func add(_ elements: Int) {
            let (bytes, o1) = elements.multipliedReportingOverflow(by: batch * MemoryLayout<Float>.stride)
            let (sum, o2) = total.addingReportingOverflow(bytes)
            total = o1 || o2 ? Int.max : sum
        }
        // The unobserved path's plan (nodes folded) shares buffers differently; count the larger.
        let plain = ExecutionPlan(graph: graph).slotSizes, fused = ExecutionPlan(graph: graph, folded: FusionPlan(graph: graph).folded).slotSizes
        for size in Self.total(plain) >= Self.total(fused) ? plain : fused { add(size) }
        var scratch = 0
        for node in graph.nodes {
            scratch = max(scratch, try LayerFactory.make(node: node, graph: graph)?.workspaceCount(batch: batch) ?? 0)
        }
        let (bytes, overflow) = scratch.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        let (sum, o2) = total.addingReportingOverflow(bytes)
        return overflow || o2 ? Int.max : sum
    }

    /// Floats in `sizes` (saturating).
    private static func total(_ sizes: [Int]) -> Int {
        sizes.reduce(0) { sum, size in
            let (result, overflow) = sum.addingReportingOverflow(size)
            return overflow ? Int.max : result
        }
    }

    public init(graph: Graph, maxBatch: Int = 32) throws(GraphError) {
        guard graph.inputs.count == 1 else {
            throw .invalidGraph(node: "<inputs>", reason: "the float engine runs single-input graphs; this one has \(graph.inputs.count) inputs")
        }
        self.graph = graph
        self.maxBatch = max(1, maxBatch)
        plan = ExecutionPlan(graph: graph)
        var layers: [FloatLayer?] = []
        for node in graph.nodes {
            layers.append(try LayerFactory.make(node: node, graph: graph))
        }
        self.layers = layers
        // The unobserved path: each foldable node with its tail, the folded nodes executing nothing.
        let fusion = FusionPlan(graph: graph)
        var fusedLayers = layers, folded = [Bool](repeating: false, count: layers.count)
        for (i, tail) in fusion.tails.enumerated() where !tail.isEmpty {
            var affine: ChannelAffineLayer?, activation: Activation?, understood = true
            for j in tail {
                if let layer = layers[j] as? ChannelAffineLayer, affine == nil, activation == nil {
                    affine = layer
                } else if case .activation(let a) = graph.nodes[j].op, activation == nil {
                    activation = a
                } else {
                    understood = false
                }
            }
            guard understood else { continue }
            if let kernel = (layers[i] as? KernelLayer)?.kernel as? TailTakingKernel {
                fusedLayers[i] = TailedKernelLayer(kernel, tail: ChannelTail(affine: affine, activation: activation))
            } else if let merge = layers[i] as? MergeLayer, affine == nil, let activation {
                fusedLayers[i] = ActivatedMergeLayer(merge, activation: activation)
            } else {
                continue
            }
            for j in tail {
                fusedLayers[j] = nil
                folded[j] = true
            }
        }
        // A Rescaling or BatchNormalization before a stem read from padded images: the stem maps each
        // sample as it copies it, and the affine node executes nothing (the stem reads its input).
        for (i, head) in fusion.heads.enumerated() {
            guard let head, !folded[head], let affine = layers[head] as? ChannelAffineLayer else { continue }
            let stem: Conv2DKernel, tail: ChannelTail?
            if let tailed = fusedLayers[i] as? TailedKernelLayer, let conv = tailed.kernel as? Conv2DKernel {
                stem = conv; tail = tailed.tail
            } else if let conv = (fusedLayers[i] as? KernelLayer)?.kernel as? Conv2DKernel {
                stem = conv; tail = nil
            } else {
                continue
            }
            guard stem.paddedImage != nil, affine.channels == stem.inChannels else { continue }
            fusedLayers[i] = HeadedStemLayer(stem, head: affine, tail: tail)
            fusedLayers[head] = nil
            folded[head] = true
        }
        self.fusedLayers = fusedLayers
        fusedPlan = ExecutionPlan(graph: graph, folded: folded)
        let batch = self.maxBatch
        workspaceCount = max(1, layers.compactMap { $0?.workspaceCount(batch: batch) }.max() ?? 0)
    }

    public var inputShape: [Int] { graph.nodes[graph.inputs[0]].shape }
    public var outputShapes: [[Int]] { graph.outputs.map { graph.nodes[$0].shape } }

    /// Runs `batch` samples from `input` (batch x inputShape floats) and returns each graph output
    /// (batch x outputShape floats). `observe` sees every node's output (batch rows) right after it
    /// is computed, in node order: calibration gathers its statistics there. `perturb`, when given,
    /// may change every node's output in place before `observe` and the node's consumers see it (the
    /// evaluation's noise floor adds rounding noise there).
    ///
    /// Without `observe` and `perturb`, a batch of at least two samples per worker is split by
    /// samples: the workers take passes of `samplesPerPass` samples in turn (a shared counter, so a
    /// worker whose core is busy with other work takes fewer) and run each through the whole graph on
    /// their own, with every layer single-threaded (`Parallel.serially`), so the workers meet once per
    /// call instead of once per op and a pass's activations stay in cache. Every sample's arithmetic is the
    /// same either way (no kernel mixes samples, and each kernel's sums run in a fixed order), so the
    /// outputs are too.
    public func run(input: UnsafeBufferPointer<Float>, batch: Int,
                    observe: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil,
                    perturb: ((Int, UnsafeMutableBufferPointer<Float>) -> Void)? = nil) -> [[Float]] {
        let inputCount = inputShape.reduce(1, *)
        precondition(input.count == batch * inputCount, "FloatExecutor.run: input holds \(input.count) floats, expected \(batch) x \(inputCount)")
        let outputCounts = outputShapes.map { batch * $0.reduce(1, *) }
        guard batch > 0, let source = input.baseAddress else { return outputCounts.map { [Float](repeating: 0, count: $0) } }
        let targets = outputCounts.map { UnsafeMutablePointer<Float>.allocate(capacity: max($0, 1)) }
        defer { for t in targets { t.deallocate() } }
        let workers = min(Parallel.workers, batch / 2)
        if observe == nil, perturb == nil, workers > 1 {
            let passSize = max(1, min(maxBatch, samplesPerPass))
            // Each worker takes the batch's passes in turn from a shared counter (a worker whose core
            // is busy with other work leaves more of them to the others) and writes only its passes'
            // rows of `targets` (disjoint); all read `input`.
            var next = 0
            withUnsafeMutablePointer(to: &next) { next in
                let shared = UnsafeSendable((source, targets, next))
                Parallel.forEach(workers) { _ in
                    Parallel.serially {
                        self.runPasses(input: shared.value.0, samples: 0..<batch, passSize: passSize,
                                       targets: shared.value.1, claim: shared.value.2)
                    }
                }
            }
        } else {
            // Observed or perturbed runs keep whole `maxBatch` chunks (observers see them at once).
            let passSize = observe == nil && perturb == nil ? max(1, min(maxBatch, samplesPerPass)) : maxBatch
            runPasses(input: source, samples: 0..<batch, passSize: passSize, targets: targets, observe: observe, perturb: perturb)
        }
        return zip(targets, outputCounts).map { Array(UnsafeBufferPointer(start: $0, count: $1)) }
    }

    /// `samples` of `input` through the graph, `passSize` at a time, each output's rows written to
    /// `targets` at the samples' offsets: every pass in order, or with `claim`, the passes whose
    /// indices `qc_take_next(claim)` hands this caller until none is left.
    private func runPasses(input: UnsafePointer<Float>, samples: Range<Int>, passSize: Int,
                           targets: [UnsafeMutablePointer<Float>], claim: UnsafeMutablePointer<Int>? = nil,
                           observe: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil,
                           perturb: ((Int, UnsafeMutableBufferPointer<Float>) -> Void)? = nil) {
        let inputCount = inputShape.reduce(1, *)
        // Observers and perturbations see every node; otherwise folded nodes run inside their kernel.
        let unobserved = observe == nil && perturb == nil
        let plan = unobserved ? fusedPlan : self.plan, layers = unobserved ? fusedLayers : self.layers
        // Zero-filled once per call, as they were once per executor: a chunk sees the same initial state.
        let chunk = max(1, min(passSize, samples.count))
        let buffers = plan.slotSizes.map { size in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(size * chunk, 1))
            buffer.initialize(repeating: 0, count: max(size * chunk, 1))
            return buffer
        }
        let workspace = UnsafeMutablePointer<Float>.allocate(capacity: workspaceCount)
        workspace.initialize(repeating: 0, count: workspaceCount)
        defer {
            for b in buffers { b.deallocate() }
            workspace.deallocate()
        }
        var pass = 0
        while true {
            if let claim { pass = qc_take_next(claim) }
            let start = samples.lowerBound + pass * chunk
            guard start < samples.upperBound else { break }
            let n = min(chunk, samples.upperBound - start)
            runChunk(input: input + start * inputCount, batch: n, plan: plan, layers: layers, buffers: buffers,
                     workspace: workspace, perturb: perturb, observe: observe)
            for (k, o) in graph.outputs.enumerated() {
                let size = graph.nodes[o].shape.reduce(1, *)
                (targets[k] + start * size).update(from: buffers[plan.slot[o]], count: n * size)
            }
            pass += 1
        }
    }

    private func runChunk(input: UnsafePointer<Float>, batch: Int, plan: ExecutionPlan, layers: [FloatLayer?],
                          buffers: [UnsafeMutablePointer<Float>], workspace: UnsafeMutablePointer<Float>,
                          perturb: ((Int, UnsafeMutableBufferPointer<Float>) -> Void)?,
                          observe: ((Int, UnsafeBufferPointer<Float>) -> Void)?) {
        for (i, node) in graph.nodes.enumerated() {
            let output = buffers[plan.slot[i]]
            if case .input = node.op {
                output.update(from: input, count: batch * node.shape.reduce(1, *))
            } else if let layer = layers[i] {
                let inputs = node.inputs.map { UnsafePointer(buffers[plan.slot[$0]]) }
                layer.run(inputs: inputs, output: output, batch: batch, workspace: workspace)
            }
            let count = batch * node.shape.reduce(1, *)
            perturb?(i, UnsafeMutableBufferPointer(start: output, count: count))
            observe?(i, UnsafeBufferPointer(start: output, count: count))
        }
    }
}
