import Foundation

/// Writes a `FidelityReport` as JSON and as a self-contained HTML page. Both are deterministic: the
/// same report gives the same bytes (no timestamps, sorted keys, canonical numbers).
public enum ReportWriter {
    /// Significant digits of every non-integral JSON number. Nine digits reproduce any float32 value
    /// exactly (clip ranges), and drop Double noise that depends on summation order.
    public static let jsonSignificantDigits = 9

    /// Pretty-printed UTF-8 JSON with sorted keys, ending in a newline.
    ///
    /// Non-integral numbers are written with `jsonSignificantDigits` significant digits (`%.9g`).
    /// NaN and ±infinity, which JSON cannot hold, are written as `null`: optional fields then read
    /// back as `nil`, so every metric that can be undefined is optional in the schema.
    public static func json(_ report: FidelityReport) throws(ReportError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonFiniteMarker, negativeInfinity: nonFiniteMarker, nan: nonFiniteMarker)
        let raw: Data
        do {
            raw = try encoder.encode(report)
        } catch {
            throw .encodingFailed(String(describing: error))
        }
        var text = canonicalJSON(Array(raw))
        text.append(UInt8(ascii: "\n"))
        return Data(text)
    }

    /// Stands in for a non-finite number during encoding, replaced by `null` afterwards. The control
    /// character keeps it from colliding with any name a model could plausibly hold.
    static let nonFiniteMarker = "\u{1}qconvert-non-finite"

    /// Rewrites encoder output: the marker string becomes `null`, non-integral numbers are
    /// reformatted; everything else (strings included) is copied byte for byte.
    static func canonicalJSON(_ input: [UInt8]) -> [UInt8] {
        let markerToken = Array("\"\\u0001qconvert-non-finite\"".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let byte = input[i]
            if byte == UInt8(ascii: "\"") {
                let end = endOfString(input, from: i)
                let token = input[i..<end]
                if token.elementsEqual(markerToken) || token.elementsEqual(Array("\"\(nonFiniteMarker)\"".utf8)) {
                    output += Array("null".utf8)
                } else {
                    output += token
                }
                i = end
            } else if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                var end = i
                while end < input.count, isNumberByte(input[end]) { end += 1 }
                output += canonicalNumber(input[i..<end])
                i = end
            } else {
                output.append(byte)
                i += 1
            }
        }
        return output
    }

    /// Index just past the closing quote of the string token starting at `start`.
    private static func endOfString(_ input: [UInt8], from start: Int) -> Int {
        var i = start + 1
        while i < input.count {
            switch input[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return input.count
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    /// Integers unchanged; other numbers as `%.9g`.
    private static func canonicalNumber(_ token: ArraySlice<UInt8>) -> [UInt8] {
        let isIntegral = !token.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        guard !isIntegral, let value = Double(String(decoding: token, as: UTF8.self)) else { return Array(token) }
        return Array(String(format: "%.\(jsonSignificantDigits)g", value).utf8)
    }
}
