import Foundation

/// "Did you mean 'inspect'?" for a first word that is neither a subcommand nor an existing file.
/// `convert` is the default subcommand, so without this `qconvert inspct m.h5` would read `inspct`
/// as a model path and fail with "file not found".
enum SubcommandSuggestion {
    /// The subcommand `word` is probably a misspelling of, or nil when it is an option, a subcommand,
    /// an existing path, or not close to any subcommand (at most 2 edits, transpositions counting 1,
    /// and fewer edits than half the word).
    static func guess(_ word: String, among names: [String]) -> String? {
        guard !word.hasPrefix("-"), !names.contains(word), !FileManager.default.fileExists(atPath: word) else { return nil }
        let lower = word.lowercased()
        let scored = names.map { (name: $0, distance: editDistance(lower, $0)) }
        guard let best = scored.min(by: { $0.distance < $1.distance }) else { return nil }
        return best.distance <= 2 && 2 * best.distance < word.count ? best.name : nil
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
    /// transpositions each cost 1.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
