import QBin
import Report

/// Finds the blocks of the forward-stability profile (`ForwardStability`) in a written model: the cut
/// points are the ops after which a single non-constant tensor (their output) is all that later ops and
/// the graph outputs read; a block runs from one cut to the next.
enum ForwardStabilityProfile {
    /// Ops (indices) after which only their own output is live, in execution order.
    static func cuts(_ model: QModel) -> [Int] {
        let n = model.ops.count
        var lastUse = [Int](repeating: -1, count: model.tensors.count)
        for (k, op) in model.ops.enumerated() {
            for t in op.inputs where model.tensors.indices.contains(t) && !model.tensors[t].isConstant { lastUse[t] = k }
        }
        for t in model.outputs where lastUse.indices.contains(t) { lastUse[t] = n }
        var live = Set(model.inputs.filter { lastUse.indices.contains($0) && lastUse[$0] >= 0 })
        var cuts: [Int] = []
        for (k, op) in model.ops.enumerated() {
            for t in op.inputs where lastUse.indices.contains(t) && lastUse[t] == k { live.remove(t) }
            for t in op.outputs where lastUse.indices.contains(t) && lastUse[t] > k { live.insert(t) }
            if live.count == 1, let only = live.first, op.outputs.first == only { cuts.append(k) }
        }
        return cuts
    }

    /// The profile from the measured per-layer errors (`layers[k]` describes op `k`); nil when fewer than
    /// two cuts have a positive measured error.
    static func profile(_ model: QModel, layers: [LayerReport]) -> ForwardStability? {
        guard layers.count == model.ops.count else { return nil }
        let measured = cuts(model).filter { k in (layers[k].outputRelativeError ?? 0) > 0 && layers[k].outputRelativeError!.isFinite }
        guard measured.count >= 2 else { return nil }
        var blocks: [StabilityBlock] = []
        for (a, b) in zip(measured, measured.dropFirst()) {
            blocks.append(StabilityBlock(firstLayer: layers[a + 1].name, lastLayer: layers[b].name, layerCount: b - a,
                                         inputError: layers[a].outputRelativeError!, outputError: layers[b].outputRelativeError!))
        }
        return ForwardStability(blocks: blocks)
    }
}
