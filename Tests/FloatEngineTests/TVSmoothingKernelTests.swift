@testable import FloatEngine
@testable import Ops
import QCore
import XCTest

/// The float engine's TVSmoothing kernel against `TVSmoothing.reference` (Double), and the flow's
/// properties: mass conservation (Neumann boundary), the maximum principle at eps >= 16 gamma^2,
/// identity on constant and 1x1 maps.
final class TVSmoothingKernelTests: XCTestCase {
    /// Float32 arithmetic on values of magnitude ~1 over up to 8 steps: a few ulps per step.
    static let absoluteTolerance: Float = 2e-5

    func run(_ tv: TVSmoothing, _ input: [Float], shape: [Int], batch: Int) throws -> [Float] {
        let graph = Graph(nodes: [Node(name: "x", sourceClass: "InputLayer", op: .input, inputs: [], shape: shape),
                                  Node(name: "tv", sourceClass: "TVSmoothing", op: .registered(tv), inputs: [0], shape: shape)],
                          inputs: [0], outputs: [1])
        let executor = try FloatExecutor(graph: graph, maxBatch: 4)
        return input.withUnsafeBufferPointer { executor.run(input: $0, batch: batch)[0] }
    }

    func testKernelMatchesReference() throws {
        var values = SeededValues(seed: 17)
        for (shape, gamma, steps) in [([7, 5, 3], Float(0.05), 1), ([9, 9, 2], 0.2, 4), ([1, 6, 2], 0.1, 3), ([4, 1, 1], 0.1, 2),
                                      ([12, 10, 4], 0.02, 8)] {
            let tv = TVSmoothing(gamma: gamma, steps: steps)
            let count = shape.reduce(1, *), batch = 3
            let input = values.array(batch * count, scale: 1)
            try forEachThreadCount { threads in
                let got = try run(tv, input, shape: shape, batch: batch)
                for n in 0..<batch {
                    var map = input[n * count..<(n + 1) * count].map(Double.init)
                    tv.reference(&map, height: shape[0], width: shape[1], channels: shape[2])
                    for i in 0..<count where abs(got[n * count + i] - Float(map[i])) > Self.absoluteTolerance {
                        XCTFail("\(shape) steps \(steps), \(threads) threads: \(got[n * count + i]) vs \(map[i])")
                        return
                    }
                }
            }
        }
    }

    /// The kernel's row loops equal, bit for bit, one value at a time with the same Float expressions
    /// (the form the row loops replaced): widths and heights of 1, 1-5 channels, several steps, more
    /// samples than the layer's workspace slots (each slot then runs several samples), 1-2 threads.
    func testRowLoopsEqualThePerElementLoopBitForBit() throws {
        var values = SeededValues(seed: 19)
        for (shape, gamma, steps) in [([7, 5, 3], Float(0.05), 2), ([1, 6, 2], 0.1, 3), ([4, 1, 1], 0.1, 2),
                                      ([12, 10, 5], 0.02, 4), ([28, 28, 1], 0.05, 2)] {
            let tv = TVSmoothing(gamma: gamma, steps: steps)
            let count = shape.reduce(1, *), batch = TVSmoothingLayer.slots + 3
            let input = values.array(batch * count, scale: 1)
            var expected: [Float] = []
            for n in 0..<batch {
                var map = Array(input[n * count..<(n + 1) * count])
                Self.perElement(tv, &map, height: shape[0], width: shape[1], channels: shape[2])
                expected += map
            }
            let graph = Graph(nodes: [Node(name: "x", sourceClass: "InputLayer", op: .input, inputs: [], shape: shape),
                                      Node(name: "tv", sourceClass: "TVSmoothing", op: .registered(tv), inputs: [0], shape: shape)],
                              inputs: [0], outputs: [1])
            let executor = try FloatExecutor(graph: graph, maxBatch: batch)
            forEachThreadCount { threads in
                let got = input.withUnsafeBufferPointer { executor.run(input: $0, batch: batch)[0] }
                XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "\(shape) steps \(steps), \(threads) threads")
                // Observed runs pass the whole batch to the layer at once.
                let observed = input.withUnsafeBufferPointer { executor.run(input: $0, batch: batch, observe: { _, _ in })[0] }
                XCTAssertEqual(observed.map(\.bitPattern), expected.map(\.bitPattern), "observed, \(shape), \(threads) threads")
            }
        }
    }

    /// One value at a time: `dx`, `dy` 0 where the neighbour is missing.
    private static func perElement(_ tv: TVSmoothing, _ map: inout [Float], height: Int, width: Int, channels c: Int) {
        let row = width * c
        var px = [Float](repeating: 0, count: map.count), py = px
        for _ in 0..<tv.steps {
            for y in 0..<height {
                for x in 0..<width {
                    for k in 0..<c {
                        let i = y * row + x * c + k, v = map[i]
                        let dx: Float = x + 1 < width ? map[i + c] - v : 0
                        let dy: Float = y + 1 < height ? map[i + row] - v : 0
                        let inverse = 1 / (dx * dx + dy * dy + tv.epsilon).squareRoot()
                        px[i] = dx * inverse
                        py[i] = dy * inverse
                    }
                }
            }
            for y in 0..<height {
                for x in 0..<width {
                    for k in 0..<c {
                        let i = y * row + x * c + k
                        var div = px[i] + py[i]
                        if x > 0 { div -= px[i - c] }
                        if y > 0 { div -= py[i - row] }
                        map[i] += tv.gamma * div
                    }
                }
            }
        }
    }

    func testMassIsConservedAndMaximumPrincipleHolds() throws {
        var values = SeededValues(seed: 18)
        let shape = [10, 8, 3], count = 240
        var input = values.array(count, scale: 1)
        input[37] = 40 // one huge outlier
        let tv = TVSmoothing(gamma: 0.3, steps: 6)
        var map = input.map(Double.init)
        tv.reference(&map, height: 10, width: 8, channels: 3)
        for c in 0..<3 {
            let before = stride(from: c, to: count, by: 3).map { Double(input[$0]) }
            let after = stride(from: c, to: count, by: 3).map { map[$0] }
            XCTAssertEqual(before.reduce(0, +), after.reduce(0, +), accuracy: 1e-9, "channel \(c): the sum is kept")
            XCTAssertGreaterThanOrEqual(after.min()!, before.min()! - 1e-12)
            XCTAssertLessThanOrEqual(after.max()!, before.max()! + 1e-12)
        }
        XCTAssertLessThan(map[37], 40 - 4 * 0.3 * 6 * 0.5, "the outlier comes down by a sizeable share of 4 gamma per step")
        let got = try run(tv, input, shape: shape, batch: 1)
        XCTAssertEqual(Double(got[37]), map[37], accuracy: 1e-4)
    }

    func testConstantAndOneByOneMapsAreUnchanged() throws {
        let tv = TVSmoothing(gamma: 0.5, steps: 8)
        XCTAssertEqual(try run(tv, [Float](repeating: 2.5, count: 60), shape: [5, 4, 3], batch: 1), [Float](repeating: 2.5, count: 60))
        let oneByOne: [Float] = [1, -7, 1e6, 0]
        XCTAssertEqual(try run(tv, oneByOne, shape: [1, 1, 4], batch: 1), oneByOne)
    }

    func testDefaultEpsilonAndInvalidParameters() {
        XCTAssertEqual(TVSmoothing(gamma: 0.25, steps: 1).epsilon, 1)
        XCTAssertNil(TVSmoothing(gamma: 0, steps: 0).invalidReason)
        XCTAssertNotNil(TVSmoothing(gamma: -1, steps: 1).invalidReason)
        XCTAssertNotNil(TVSmoothing(gamma: 1, steps: 65).invalidReason)
        XCTAssertNotNil(TVSmoothing(gamma: 1, steps: 1, epsilon: 0).invalidReason)
        XCTAssertNotNil(TVSmoothing(gamma: .nan, steps: 1).invalidReason)
    }
}
