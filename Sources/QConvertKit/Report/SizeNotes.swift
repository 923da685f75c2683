import Foundation
import Quantizer

extension ConvertOutcome {
    /// Share of the weighted layers' packed weight bytes above which the summary explains that the
    /// first and last weighted layers, kept wider by `--first-last-bits`, hold back the file size:
    /// past half, those two layers outweigh everything the lower `--weight-bits` packed.
    static let edgeLayersNoteShare = 0.5

    /// Notes on the file size for the terminal summary: when the first and last weighted layers stay
    /// at wider bits than `--weight-bits` and take most of the packed weight bytes, a lower
    /// `--bits` shrinks the file little; the note says so and names `--first-last-bits`.
    var sizeNotes: [String] {
        guard let edge = recipe.firstLastBits, edge > recipe.weightBits else { return [] }
        let weighted = Quantizer.weightedLayers(of: canonical)
        guard let first = weighted.first, let last = weighted.last else { return [] }
        // The weighted layers' packed weights: what --weight-bits packs (not lookup tables or the input rescale).
        let weightedNames = Set(weighted)
        let rows = writtenModel.weightSummary().filter { weightedNames.contains($0.opName) }
        let edgeRows = rows.filter { ($0.opName == first || $0.opName == last) && $0.type.bits == edge }
        let totalBytes = rows.reduce(0) { $0 + $1.packedBytes }, totalParams = rows.reduce(0) { $0 + $1.params }
        let edgeBytes = edgeRows.reduce(0) { $0 + $1.packedBytes }, edgeParams = edgeRows.reduce(0) { $0 + $1.params }
        guard totalBytes > 0, totalParams > 0, Double(edgeBytes) >= Self.edgeLayersNoteShare * Double(totalBytes) else { return [] }
        let names = Array(Set(edgeRows.map(\.opName))).sorted { weighted.firstIndex(of: $0)! < weighted.firstIndex(of: $1)! }
        let shares = String(format: "%.0f%% of the weighted layers' packed bytes (%.0f%% of their weights)",
                            100 * Double(edgeBytes) / Double(totalBytes), 100 * Double(edgeParams) / Double(totalParams))
        return ["size note: the first and last weighted layers (\(names.joined(separator: ", "))) stay at \(edge) bits "
                + "(--first-last-bits) and take \(shares), so \(recipe.weightBits)-bit weights shrink the file little; "
                + "--first-last-bits \(recipe.weightBits) packs them too, or 'same' treats them like the rest (check the fidelity it costs)"]
    }
}
