import Foundation

extension QBinSummary {
    /// A fixed-width text table for terminals: one row per op, then totals and metadata.
    public func table() -> String {
        func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ",") + "]" }
        var rows: [[String]] = [["#", "name", "op", "input", "output", "weights", "activation (scale, zp)", "clip", "packed B", "acc bound", "headroom"]]
        for op in ops {
            let weights = op.weights.map { "\($0.type) \($0.granularity)" } ?? "-"
            let out = op.output
            rows.append(["\(op.index)", op.name, op.kind, op.inputShapes.map(shape).joined(separator: " "), shape(op.outputShape),
                         weights, "\(out.type) \(Self.number(Double(out.scale))) \(out.zeroPoint)", out.clipping ?? "-",
                         op.weights.map { ModelSummary.grouped($0.packedBytes) } ?? "-",
                         op.accumulator.map { ModelSummary.grouped(Int($0.bound)) } ?? "-",
                         op.accumulator.map { "\($0.headroomBits) bits" } ?? "-"])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var text = "model: \(model)\n"
        text += "producer: \(producer ?? "-")\n"
        text += "input: \(shape(inputShape)) \(input.type) scale \(Self.number(Double(input.scale))) zero point \(input.zeroPoint)\n"
        if let outputActivation { text += "output activation: \(outputActivation) (applied in float after dequantizing)\n" }
        text += "\n"
        for (r, row) in rows.enumerated() {
            let cells = row.enumerated().map { c, cell in
                c >= row.count - 3 ? String(repeating: " ", count: widths[c] - cell.count) + cell
                                   : cell + String(repeating: " ", count: widths[c] - cell.count)
            }
            text += cells.joined(separator: "  ") + "\n"
            if r == 0 { text += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        let t = totals
        text += "\ntotal: \(ops.count) ops, \(ModelSummary.grouped(t.params)) parameters; "
        text += "file \(ModelSummary.grouped(t.fileBytes)) bytes, float32 \(ModelSummary.grouped(t.floatBytes)) bytes, "
        text += "compression \(String(format: "%.2f", t.compressionRatio))x\n"
        text += "weights: \(ModelSummary.grouped(t.packedWeightBytes)) packed bytes vs \(String(format: "%.1f", t.idealWeightBytes)) ideal "
        text += "(params x bits / 8), + \(ModelSummary.grouped(t.perChannelBytes)) bytes per-channel parameters; "
        text += "overhead \(String(format: "%.2f", t.overheadVersusIdeal * 100)) %\n"
        if !metadata.isEmpty {
            text += "\nmetadata:\n"
            for entry in metadata { text += "  \(entry.key) = \(entry.value)\n" }
        }
        return text
    }

    /// A scale in at most 6 significant digits (`0.0039215689` -> `0.00392157`).
    static func number(_ x: Double) -> String { String(format: "%.6g", x) }
}
