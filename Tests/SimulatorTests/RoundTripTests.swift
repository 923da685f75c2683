import FixedPoint
import Foundation
import QBin
import XCTest
@testable import Simulator

/// A small CNN written with `QBinWriter`, loaded by the simulator from the file, and run on floats.
final class RoundTripTests: XCTestCase {
    func testSimulatorLoadsFromDiskAndMatchesInMemory() throws {
        var rng = TestRNG(seed: 23)
        var b = ModelBuilder()
        let x = b.input([6, 6, 2], s8, scale: 0.02, zero: -3)
        let c1 = b.activation("c1", [6, 6, 8], u8, scale: 0.04, zero: 0)
        b.op(.conv2D, [x, b.constant("w1", [8, 3, 3, 2], QType.signed(4)!, rng.values(8 * 18, QType.signed(4)!), perChannel: true),
                       b.constant("b1", [8], .int32, (0..<8).map { _ in rng.int32(-500...500) })], c1,
             window(kernel: (3, 3), padding: (1, 1, 1, 1)).merging(["groups": [1], "multiplier": [1_500_000_000], "shift": [-6], "clamp": [0, 255]]))
        let d1 = b.activation("d1", [3, 3, 8], u8, scale: 0.04, zero: 0)
        b.op(.depthwiseConv2D, [c1, b.constant("wd", [8, 3, 3], QType.signed(6)!, rng.values(72, QType.signed(6)!), perChannel: true)], d1,
             window(kernel: (3, 3), stride: (2, 2), padding: (0, 1, 0, 1))
                .merging(["depth_multiplier": [1], "multiplier": [1_200_000_000], "shift": [-7], "clamp": [0, 255]]))
        let p1 = b.activation("p1", [3, 3, 8], u8, scale: 0.04, zero: 0)
        b.op(.averagePool2D, [d1], p1, ["kernel": [2, 2], "stride": [1, 1], "padding": [0, 1, 0, 1], "clamp": [0, 255]])
        let s1 = b.activation("s1", [3, 3, 8], u8, scale: 0.06, zero: 5)
        b.op(.add, [d1, p1], s1, ["left_shift": [20], "input_multiplier": [1_431_655_765, 1_431_655_765], "input_shift": [0, 0],
                                  "output_multiplier": [1 << 30], "output_shift": [-19], "clamp": [5, 255]])
        let f1 = b.activation("f1", [72], u8, scale: 0.06, zero: 5)
        b.op(.flatten, [s1], f1, [:])
        let out = b.activation("out", [10], s8, scale: 0.1, zero: 2)
        b.op(.dense, [f1, b.constant("w2", [10, 72], s8, rng.values(720, s8), perChannel: true)], out,
             ["multiplier": [1_900_000_000], "shift": [-9], "clamp": [-128, 127]])
        var model = b.finished(outputs: [out, p1])
        model.metadata = [QMetadataEntry("producer", "SimulatorTests"), QMetadataEntry(QMetadataEntry.rounding, "gemmlowp")]

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("simtests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.qbin").path
        try QBinWriter.write(model, to: path)

        for profile in RoundingProfile.allCases {
            let fromDisk = try IntegerSimulator(path: path, rounding: profile, maxBatch: 2)
            XCTAssertEqual(fromDisk.inputShape, [6, 6, 2])
            XCTAssertEqual(fromDisk.outputShapes, [[10], [3, 3, 8]])
            let reference = try IntegerSimulator(model: model, rounding: profile, reference: true)
            let floats = (0..<5 * 72).map { _ in Float(rng.int(-300...300)) / 100 }
            let got = floats.withUnsafeBufferPointer { fromDisk.run(input: $0, batch: 5) }
            let expected = floats.withUnsafeBufferPointer { reference.run(input: $0, batch: 5) }
            XCTAssertEqual(got, expected, "\(profile)")
            XCTAssertEqual(got[0].count, 50)
            XCTAssertTrue(got[0].contains { $0 != got[0][0] }, "outputs should vary")
            // Dequantized outputs are scale * (q - zp).
            let q = fromDisk.runQuantized(input: floats.map { Int32(clamping: Int(($0 / 0.02).rounded(.toNearestOrAwayFromZero)) - 3) },
                                          batch: 5, observe: nil)
            XCTAssertEqual(q[0].map { 0.1 * Float($0 - 2) }, got[0])
            try assertFastMatchesReference(model, profile: profile, batch: 3, seed: 3, context: "round trip")
        }
    }

    /// Input quantization: round half away from zero, then clamp to the type.
    func testInputQuantizationRoundsAwayAndClamps() throws {
        var b = ModelBuilder()
        let x = b.input([5], s8, scale: 0.5, zero: 1)
        let y = b.activation("y", [5], s8, scale: 0.5, zero: 1)
        b.op(.requantize, [x], y, identityMultiplier.merging(["clamp": [-128, 127]]))
        let sim = try IntegerSimulator(model: b.finished(outputs: [y]), rounding: .gemmlowp)
        var seen: [Int32] = []
        let input: [Float] = [0.25, -0.25, 1000, -1000, 0.74]
        let out = input.withUnsafeBufferPointer { sim.run(input: $0, batch: 1) }
        _ = sim.runQuantized(input: [1, 0, 127, -128, 2], batch: 1) { _, _, v in seen = Array(v) }
        // 0.25 / 0.5 = 0.5 -> 1 (+1 = 2); -0.5 -> -1 (0); clamps; 1.48 -> 1 (2).
        XCTAssertEqual(seen, [1, 0, 127, -128, 2])
        XCTAssertEqual(out[0], [0.5, -0.5, 63, -64.5, 0.5])
    }
}
