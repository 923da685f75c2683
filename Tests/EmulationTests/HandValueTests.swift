import Emulation
import QBin
import XCTest

/// The emulator against values computed by hand (derivations in the comments).
final class HandValueTests: XCTestCase {
    /// 3x3 input (u8, zin 3, s_x 0.5), 2x2 kernel `[[1, -2], [3, -1]]` on both output channels,
    /// padding top 1 / left 1 (real zero), bias -5, s_out 0.25, zout 4, clamp 0 ... 8.
    /// `x - zin = [[2,0,-3],[4,-2,6],[-1,1,3]]`; the correlation plus bias is
    /// acc = [-7, 1, -2, -13, 11, -11, -12, -1, -19].
    /// Channel 0, s_w 0.25: factor 0.5 * 0.25 / 0.25 = 0.5 -> [-3.5, 0.5, -1, -6.5, 5.5, -5.5, -6, -0.5, -9.5],
    /// ties away from zero [-4, 1, -1, -7, 6, -6, -6, -1, -10], + 4 and clamped: [0, 5, 3, 0, 8, 0, 0, 3, 0]
    /// (the simulator's ties-up fixed point gives [1, 5, 3, 0, 8, 0, 0, 4, 0]).
    /// Channel 1, s_w 0.15 (as Float): factor 0.3 -> [-2.1, 0.3, -0.6, -3.9, 3.3, -3.3, -3.6, -0.3, -5.7],
    /// rounded [-2, 0, -1, -4, 3, -3, -4, 0, -6], + 4 and clamped: [2, 4, 3, 0, 7, 1, 0, 4, 0].
    func testConv2DRealRescaleTiesAwayFromZero() throws {
        var b = ModelBuilder()
        let x = b.input([3, 3, 1], u8, scale: 0.5, zero: 3)
        let w = b.constant("w", [2, 2, 2, 1], s8, [1, -2, 3, -1, 1, -2, 3, -1], scales: [0.25, 0.15])
        let bias = b.constant("b", [2], .int32, [-5, -5])
        let y = b.activation("y", [3, 3, 2], u8, scale: 0.25, zero: 4)
        // Deliberately wrong fixed-point attributes: the emulator must not read them.
        b.op(.conv2D, [x, w, bias], y, window(kernel: (2, 2), padding: (1, 0, 1, 0))
            .merging(["groups": [1], "multiplier": [1 << 30], "shift": [-20], "clamp": [0, 8]]))
        let emulator = try QuantizedEmulator(model: b.finished(outputs: [y]))
        let got = emulator.runQuantized(input: [5, 3, 0, 7, 1, 9, 2, 4, 6], batch: 1, observe: nil)[0]
        let channel0 = stride(from: 0, to: 18, by: 2).map { got[$0] }, channel1 = stride(from: 1, to: 18, by: 2).map { got[$0] }
        XCTAssertEqual(channel0, [0, 5, 3, 0, 8, 0, 0, 3, 0])
        XCTAssertEqual(channel1, [2, 4, 3, 0, 7, 1, 0, 4, 0])
    }

    /// add with scales 0.125 and 0.375 into 0.25 (exact in Float, so the factors are exactly 0.5 and
    /// 1.5 and the ties are real): `q = 10 + round(0.5 (q0 - 0) + 1.5 (q1 - 2))`; subtract negates the
    /// second term; concatenate saturates.
    func testAddSubtractConcatenateByHand() throws {
        for kind in [QOpKind.add, .subtract] {
            var b = ModelBuilder()
            let x = b.input([3], s8, scale: 0.125, zero: 0)
            let r = b.activation("r", [3], s8, scale: 0.375, zero: 2)
            b.op(.requantize, [x], r, b.requant([1.0 / 3], output: r))  // r = 2 + round(x / 3)
            let y = b.activation("y", [3], s8, scale: 0.25, zero: 10)
            b.op(kind, [x, r], y, b.addRequant(inputs: [x, r], output: y))
            let got = try QuantizedEmulator(model: b.finished(outputs: [y])).runQuantized(input: [5, -7, 100], batch: 1, observe: nil)[0]
            // x = [5, -7, 100] -> r - 2 = [2 (1.67), -2 (-2.33), 33]; 0.5 x = [2.5, -3.5, 50]; 1.5 (r - 2) = [3, -3, 49.5].
            // add: [5.5 -> 6, -6.5 -> -7, 99.5 -> 100] + 10 = [16, 3, 110]; subtract: [-0.5 -> -1, -0.5 -> -1, 0.5 -> 1] + 10.
            XCTAssertEqual(got, kind == .add ? [16, 3, 110] : [9, 9, 11], "\(kind)")
        }
        var c = ModelBuilder()
        let x = c.input([2], u8, scale: 1, zero: 10)
        let y = c.activation("y", [4], u8, scale: 2, zero: 250)
        c.op(.concatenate, [x, x], y, ["axis": [0], "input_multiplier": [0, 0], "input_shift": [0, 0]])
        // (x - 10) / 2 = [10, -3.5] -> [10, -4] + 250 = [260 -> 255, 246], twice.
        XCTAssertEqual(try QuantizedEmulator(model: c.finished(outputs: [y])).runQuantized(input: [30, 3], batch: 1, observe: nil)[0],
                       [255, 246, 255, 246])
    }

    func testInvalidModelsThrowWithContext() throws {
        var b = ModelBuilder()
        let x = b.input([3, 3, 1], u8)
        let y = b.activation("y", [3, 3, 1], u8)  // a 2x2 kernel without padding gives 2x2
        b.op(.conv2D, [x, b.constant("w", [1, 2, 2, 1], s8, [1, 1, 1, 1])], y,
             window(kernel: (2, 2)).merging(["groups": [1], "multiplier": [1 << 30], "shift": [1], "clamp": [0, 255]]))
        // The shape rules live in QBin's validation, which the emulator runs before building.
        XCTAssertThrowsError(try QuantizedEmulator(model: b.finished(outputs: [y]))) { error in
            guard case EmulationError.qbin(let inner) = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(inner)".contains("conv2D0") && "\(inner)".contains("[2, 2, 1]"), "\(inner)")
        }
        XCTAssertThrowsError(try QuantizedEmulator(model: QModel())) { error in
            guard case EmulationError.qbin = error else { return XCTFail("\(error)") }
        }
    }
}
