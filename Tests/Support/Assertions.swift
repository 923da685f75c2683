import XCTest

/// Index of the largest value of each row of a `rows x width` matrix.
public func argmaxRows(_ values: [Float], width: Int) -> [Int] {
    stride(from: 0, to: values.count, by: width).map { start in
        var best = start
        for i in start..<start + width where values[i] > values[best] { best = i }
        return best - start
    }
}

/// Checks `actual` against `expected` row by row: each element within `absolute`, or within
/// `relative` times the row's largest magnitude (for logits, whose scale varies per model).
public func assertRowsClose(_ actual: [Float], _ expected: [Float], width: Int,
                            absolute: Float = 0, relative: Float = 0,
                            _ message: @autoclosure () -> String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "element counts differ \(message())", file: file, line: line)
    guard actual.count == expected.count else { return }
    var worst: (excess: Float, index: Int) = (0, -1)
    for start in stride(from: 0, to: expected.count, by: width) {
        let rowScale = expected[start..<start + width].map(abs).max() ?? 0
        let allowed = max(absolute, relative * rowScale)
        for i in start..<start + width {
            let excess = abs(actual[i] - expected[i]) - allowed
            if excess > worst.excess { worst = (excess, i) }
        }
    }
    if worst.index >= 0 {
        let i = worst.index
        XCTFail("row \(i / width) element \(i % width): got \(actual[i]), expected \(expected[i]) (abs \(absolute), rel \(relative)) \(message())",
                file: file, line: line)
    }
}
