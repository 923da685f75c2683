extension QModel {
    /// The activation tensors an executor may free after each op: entry `i` lists the tensors whose
    /// last reader is op `i` (ops run in file order). Graph inputs and outputs are never listed, nor a
    /// tensor no op reads (it is freed by nobody: an output, or a dead value kept as the file has it).
    ///
    /// Executors that keep every activation of a pass hold the sum of all tensor sizes times the batch
    /// (ResNet50 at 224 px: ~11 M values per sample); freeing after the last reader holds only the
    /// live set (a few of the largest tensors).
    public func releasedAfterOp() -> [[Int]] {
        var lastReader = [Int?](repeating: nil, count: tensors.count)
        for (index, op) in ops.enumerated() {
            for t in op.inputs where !tensors[t].isConstant { lastReader[t] = index }
        }
        let kept = Set(inputs + outputs)
        var released = [[Int]](repeating: [], count: ops.count)
        for (tensor, reader) in lastReader.enumerated() {
            if let reader, !kept.contains(tensor) { released[reader].append(tensor) }
        }
        return released
    }
}
