import Foundation

/// Escaping and number formatting for the HTML page. Every string from a report (layer names,
/// file paths, warnings) passes through `escape` before it reaches the page; numbers go through
/// `String(format:)`, which ignores the user's locale, so pages are byte-identical everywhere.
enum HTMLFormat {
    /// Text safe inside HTML/SVG element content and double- or single-quoted attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters would make the document ill-formed; show them as U+FFFD.
                if ch.value < 0x20 && ch != "\n" && ch != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    /// Placeholder for an absent value.
    static let missing = "—"

    /// `0.9933` → `"99.33%"`.
    static func percent(_ fraction: Double?, digits: Int = 2) -> String {
        guard let fraction, fraction.isFinite else { return missing }
        return String(format: "%.\(digits)f%%", fraction * 100)
    }

    /// SQNR in dB, or "exact" at the cap.
    static func decibels(_ value: Double?, digits: Int = 1) -> String {
        guard let value, value.isFinite else { return missing }
        if value >= ReportMetrics.sqnrCapDB { return "exact" }
        return String(format: "%.\(digits)f dB", value)
    }

    /// Fixed decimals.
    static func fixed(_ value: Double?, digits: Int) -> String {
        guard let value else { return missing }
        guard value.isFinite else { return value.isNaN ? missing : (value > 0 ? "∞" : "−∞") }
        return String(format: "%.\(digits)f", value)
    }

    /// Significant digits, switching to exponent form for very small or large values.
    static func significant(_ value: Double?, digits: Int = 3) -> String {
        guard let value else { return missing }
        guard value.isFinite else { return value.isNaN ? missing : (value > 0 ? "∞" : "−∞") }
        return String(format: "%.\(digits)g", value)
    }

    /// Bytes in B, KiB or MiB with one decimal.
    static func bytes(_ count: Double) -> String {
        if count < 1024 { return String(format: "%.0f B", count) }
        if count < 1024 * 1024 { return String(format: "%.1f KiB", count / 1024) }
        return String(format: "%.2f MiB", count / (1024 * 1024))
    }

    /// Integer with thin-space thousands separators, independent of locale.
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "\u{2009}" }
            out.append(ch)
        }
        return value < 0 ? "−" + out : out
    }

    /// The layer's weight-bits colour, shared by the table badges and the chart markers.
    static func bitsClass(_ bits: Int?) -> String {
        guard let bits else { return "bn" }
        switch bits {
        case 8...: return "b8"
        case 5...7: return "b6"
        case 4: return "b4"
        default: return "b2"
        }
    }

    /// Shortened display label (the full name stays in the tooltip).
    static func truncated(_ text: String, to length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    /// Display labels of at most `maxLength` characters that tell names apart: a long name keeps its
    /// head and its tail around a middle "…" (`batch_n…ization_12`), since Keras names differ at the
    /// end (`_12`, `_13`) or in a block prefix (`block_12_…`). When long names share a label, the
    /// split nearest the default that gives each of them its own label is used for all of them.
    /// Names that fit are kept whole.
    static func distinctLabels(_ names: [String], maxLength: Int) -> [String] {
        func label(_ name: String, head: Int) -> String {
            name.count <= maxLength ? name : String(name.prefix(head)) + "…" + String(name.suffix(maxLength - 1 - head))
        }
        let defaultHead = (maxLength - 1) * 2 / 5
        var labels = names.map { label($0, head: defaultHead) }
        let groups = Dictionary(grouping: names.indices.filter { names[$0].count > maxLength }, by: { labels[$0] })
        let heads = (1..<max(2, maxLength - 1)).sorted { abs($0 - defaultHead) < abs($1 - defaultHead) }
        for (shared, members) in groups where Set(members.map { names[$0] }).count > 1 {
            let others = Set(labels.enumerated().filter { $0.element != shared }.map(\.element))
            for head in heads {
                let candidate = members.map { label(names[$0], head: head) }
                let distinctNames = Set(members.map { names[$0] }).count
                if Set(candidate).count == distinctNames, others.isDisjoint(with: candidate) {
                    for (k, m) in members.enumerated() { labels[m] = candidate[k] }
                    break
                }
            }
        }
        return labels
    }
}
