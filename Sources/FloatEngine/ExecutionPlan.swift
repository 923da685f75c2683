import QCore

/// Where each node's output lives during a run: nodes that only reinterpret their input
/// (Flatten, Reshape, Identity) share its buffer, and buffers whose last reader has run are reused.
struct ExecutionPlan {
    /// Buffer slot of each node's output.
    var slot: [Int]
    /// Floats per sample each slot must hold.
    var slotSizes: [Int]
    /// True for nodes that execute nothing (their output is their input's buffer).
    var isAlias: [Bool]

    /// `folded` marks nodes computed in place by an earlier node (`FusionPlan`): they too share their
    /// input's buffer.
    init(graph: Graph, folded: [Bool]? = nil) {
        let count = graph.nodes.count
        isAlias = graph.nodes.enumerated().map { i, node in
            if folded?[i] == true { return true }
            switch node.op {
            case .flatten, .reshape, .identity: return true
            default: return false
            }
        }
        // The node whose buffer each node's output really lives in.
        var owner = Array(0..<count)
        for i in 0..<count where isAlias[i] { owner[i] = owner[graph.nodes[i].inputs[0]] }
        // Last step that reads each owner's buffer; graph outputs live to the end.
        var lastUse = Array(0..<count)
        for i in 0..<count {
            for p in graph.nodes[i].inputs { lastUse[owner[p]] = max(lastUse[owner[p]], i) }
        }
        for o in graph.outputs { lastUse[owner[o]] = Int.max }

        slot = [Int](repeating: -1, count: count)
        slotSizes = []
        var free: [Int] = []
        var releaseAt: [Int: [Int]] = [:]
        for i in 0..<count {
            if isAlias[i] {
                slot[i] = slot[owner[i]]
            } else {
                let size = graph.nodes[i].shape.reduce(1, *)
                // Best fit among free slots; grow the largest if none is big enough.
                if let pick = free.filter({ slotSizes[$0] >= size }).min(by: { slotSizes[$0] < slotSizes[$1] })
                    ?? free.max(by: { slotSizes[$0] < slotSizes[$1] }) {
                    free.removeAll { $0 == pick }
                    slotSizes[pick] = max(slotSizes[pick], size)
                    slot[i] = pick
                } else {
                    slot[i] = slotSizes.count
                    slotSizes.append(size)
                }
                if lastUse[i] != Int.max { releaseAt[lastUse[i], default: []].append(slot[i]) }
            }
            // Buffers whose last reader is node i become free after it runs. A node never writes
            // into a slot it reads, because release happens after its own slot was chosen.
            free.append(contentsOf: releaseAt[i] ?? [])
        }
    }
}
