import FixedPoint
import QBin
import XCTest
@testable import Simulator

/// The scalar reference kernels against values computed by hand (derivations in the comments).
final class ReferenceKernelTests: XCTestCase {
    /// 3x3 input (u8, zin 3), 2x2 kernel, padding top 1 / left 1 filled with zin, bias -5, M = 0.5,
    /// zout 4, clamp 0...8. `x - zin = [[2,0,-3],[4,-2,6],[-1,1,3]]`, `w = [[1,-2],[3,-1]]`; the
    /// correlation gives [-2,6,3,-8,16,-6,-7,4,-14], plus bias [-7,1,-2,-13,11,-11,-12,-1,-19], times 0.5
    /// with ties toward +inf (both profiles: shift 0) [-3,1,-1,-6,6,-5,-6,0,-9], plus 4, clamped.
    func testConv2DNegativeAccumulatorsPaddingAndClamp() throws {
        for profile in RoundingProfile.allCases {
            var b = ModelBuilder()
            let x = b.input([3, 3, 1], u8, zero: 3)
            let w = b.constant("w", [1, 2, 2, 1], s8, [1, -2, 3, -1])
            let bias = b.constant("b", [1], .int32, [-5])
            let y = b.activation("y", [3, 3, 1], u8, zero: 4)
            b.op(.conv2D, [x, w, bias], y, window(kernel: (2, 2), padding: (1, 0, 1, 0))
                .merging(["groups": [1], "multiplier": [1 << 30], "shift": [0], "clamp": [0, 8]]))
            let model = b.finished(outputs: [y])
            let input: [Int32] = [5, 3, 0, 7, 1, 9, 2, 4, 6]
            XCTAssertEqual(try runReference(model, input, profile: profile), [1, 5, 3, 0, 8, 0, 0, 4, 0], "\(profile)")
            try assertFastMatchesReference(model, profile: profile, batch: 3, seed: 1, context: "hand conv")
        }
    }

    /// `requantize` by M = 0.25 (`2^30`, shift -1) shows the two profiles' tie rules: 5 * 0.25 = 1.25
    /// is 2 by gemmlowp's double rounding (round(2.5) = 3, then 3 / 2 = 1.5 away from zero) and 1 by
    /// single rounding; -6 * 0.25 = -1.5 is -2 (ties away) and -1 (ties up).
    func testRequantizeRoundingProfiles() throws {
        var b = ModelBuilder()
        let x = b.input([4], s8, zero: 0)
        let y = b.activation("y", [4], s8, zero: 1)
        b.op(.requantize, [x], y, ["multiplier": [1 << 30], "shift": [-1], "clamp": [-128, 127]])
        let model = b.finished(outputs: [y])
        XCTAssertEqual(try runReference(model, [5, -6, 4, -128], profile: .gemmlowp), [3, -1, 2, -31])
        XCTAssertEqual(try runReference(model, [5, -6, 4, -128], profile: .single), [2, 0, 2, -31])
    }

    /// Rounded mean, ties away from zero, padding excluded from the count: windows [1, 2] -> 1.5 -> 2,
    /// [-1, -2] -> -2; with one padded column: [pad, 1] -> 1, [2, -1] -> 0.5 -> 1, [-2, pad]...
    func testAveragePoolTiesAndPadding() throws {
        var b = ModelBuilder()
        let x = b.input([1, 4, 1], s8, zero: 0)
        let y = b.activation("y", [1, 2, 1], s8)
        b.op(.averagePool2D, [x], y, ["kernel": [1, 2], "stride": [1, 2], "padding": [0, 0, 0, 0], "clamp": [-128, 127]])
        XCTAssertEqual(try runReference(b.finished(outputs: [y]), [1, 2, -1, -2]), [2, -2])

        var p = ModelBuilder()
        let px = p.input([1, 4, 1], s8, zero: 5)
        let py = p.activation("y", [1, 3, 1], s8, zero: 5)
        p.op(.averagePool2D, [px], py, ["kernel": [1, 2], "stride": [1, 2], "padding": [0, 0, 1, 1], "clamp": [-1, 127]])
        // windows: [pad, 1] -> 1; [2, -1] -> 0.5 -> 1; [-2, pad] -> -2, clamped to -1.
        XCTAssertEqual(try runReference(p.finished(outputs: [py]), [1, 2, -1, -2]), [1, 1, -1])

        var g = ModelBuilder()
        let gx = g.input([2, 2, 2], s8)
        let gy = g.activation("y", [2], s8)
        g.op(.globalAveragePool2D, [gx], gy, ["clamp": [-128, 127]])
        // channel 0: (1 + 2 + 3 + 4) / 4 = 2.5 -> 3; channel 1: (-1 - 2 - 3 - 4) / 4 = -2.5 -> -3.
        XCTAssertEqual(try runReference(g.finished(outputs: [gy]), [1, -1, 2, -2, 3, -3, 4, -4]), [3, -3])
    }

    /// Max pooling ignores the padding (all-negative windows stay negative); global max; zero padding
    /// writes zin.
    func testMaxPoolGlobalMaxAndZeroPadding() throws {
        var b = ModelBuilder()
        let x = b.input([2, 2, 1], s8, zero: 0)
        let y = b.activation("y", [2, 2, 1], s8)
        b.op(.maxPool2D, [x], y, ["kernel": [2, 2], "stride": [1, 1], "padding": [1, 0, 1, 0]])
        XCTAssertEqual(try runReference(b.finished(outputs: [y]), [-5, -3, -7, -9]), [-5, -3, -5, -3])

        var g = ModelBuilder()
        let gx = g.input([1, 3, 2], u8)
        let gy = g.activation("y", [2], u8)
        g.op(.globalMaxPool2D, [gx], gy, [:])
        XCTAssertEqual(try runReference(g.finished(outputs: [gy]), [1, 9, 7, 2, 3, 4]), [7, 9])

        var z = ModelBuilder()
        let zx = z.input([1, 1, 2], u8, zero: 17)
        let zy = z.activation("y", [2, 3, 2], u8, zero: 17)
        z.op(.zeroPadding2D, [zx], zy, ["padding": [1, 0, 1, 1]])
        XCTAssertEqual(try runReference(z.finished(outputs: [zy]), [4, 5]),
                       [17, 17, 17, 17, 17, 17, 17, 17, 4, 5, 17, 17])
    }

    /// Same-scale add / subtract (input multipliers 1.0 after `<< 20`, output multiplier 2^-20):
    /// `q = zout + (q0 - z0) +- (q1 - z1)`, clamped.
    func testAddSubtractAndMultiply() throws {
        for kind in [QOpKind.add, .subtract] {
            var b = ModelBuilder()
            let x = b.input([3], u8, zero: 10)
            let r = b.activation("r", [3], u8, zero: 20)
            b.op(.requantize, [x], r, ["multiplier": [1 << 30], "shift": [1], "clamp": [0, 255]])  // r = x + 10
            let y = b.activation("y", [3], u8, zero: 100)
            b.op(kind, [x, r], y, ["left_shift": [20], "input_multiplier": [1 << 30, 1 << 30], "input_shift": [1, 1],
                                   "output_multiplier": [1 << 30], "output_shift": [-19], "clamp": [0, 120]])
            let got = try runReference(b.finished(outputs: [y]), [0, 15, 40])
            // x - 10 = [-10, 5, 30]; r - 20 is the same.
            XCTAssertEqual(got, kind == .add ? [80, 110, 120] : [100, 100, 100], "\(kind)")
        }
        var m = ModelBuilder()
        let x = m.input([3], s8, zero: 2)
        let r = m.activation("r", [3], s8, zero: 0)
        m.op(.requantize, [x], r, ["multiplier": [1 << 30], "shift": [1], "clamp": [-128, 127]])  // r = x - 2
        let y = m.activation("y", [3], s8, zero: -1)
        m.op(.multiply, [x, r], y, ["multiplier": [1 << 30], "shift": [0], "clamp": [-128, 10]])
        // (x - 2)^2 * 0.5 - 1: x = [5, -1, 7] -> 9 * 0.5 = 4.5 -> 5 (ties up), 4.5 -> 5, 12.5 -> 13; minus 1; clamp 10.
        XCTAssertEqual(try runReference(m.finished(outputs: [y]), [5, -1, 7]), [4, 4, 10])
    }

    /// Concatenate along channels with the second input rescaled by 0.5 and saturated to the type.
    func testConcatenateRescales() throws {
        var d = ModelBuilder()
        let dx = d.input([2], u8, zero: 10)
        let dr = d.activation("r", [2], u8, zero: 200)
        d.op(.dense, [dx, d.constant("w", [2, 2], s8, [1, 0, 0, -1])], dr, identityMultiplier.merging(["clamp": [0, 255]]))
        let y = d.activation("y", [4], u8, zero: 250)
        d.op(.concatenate, [dx, dr], y, ["axis": [0], "input_multiplier": [1 << 30, 1 << 30], "input_shift": [1, 0]])
        // x = [30, 3]: x - 10 = [20, -7] -> 250 + [20, -7] = [270 -> 255, 243];
        // r = 200 + [20, 7] = [220, 207]; (r - 200) * 0.5 = [10, 3.5 -> 4] -> [260 -> 255, 254].
        XCTAssertEqual(try runReference(d.finished(outputs: [y]), [30, 3]), [255, 243, 255, 254])
    }

    /// Depthwise with depth_multiplier 2; transposed conv scattering with stride 2; dense; channel
    /// affine; lookup table; flatten / reshape.
    func testDepthwiseTransposeDenseAffineLookup() throws {
        var b = ModelBuilder()
        let x = b.input([1, 2, 1], s8, zero: 1)
        let dw = b.activation("dw", [1, 1, 2], s8)
        // out c reads input c / 2: taps (x0 - 1, x1 - 1) . w[c]; x = [3, -1] -> [2, -2].
        b.op(.depthwiseConv2D, [x, b.constant("wd", [2, 1, 2], s8, [1, 1, 2, -1], perChannel: true)], dw,
             window(kernel: (1, 2)).merging(["depth_multiplier": [2], "clamp": [-128, 127]]).merging(identityMultiplier))
        let model = b.finished(outputs: [dw])
        XCTAssertEqual(try runReference(model, [3, -1]), [0, 6])

        var t = ModelBuilder()
        let tx = t.input([1, 2, 1], s8, zero: 0)
        let ty = t.activation("y", [1, 4, 1], s8)
        t.op(.conv2DTranspose, [tx, t.constant("w", [1, 1, 2, 1], s8, [1, -2]), t.constant("b", [1], .int32, [3])], ty,
             window(kernel: (1, 2), stride: (1, 2)).merging(["output_size": [1, 4], "clamp": [-128, 127]]).merging(identityMultiplier))
        // x = [5, -4] -> [5, -10, -4, 8] + 3.
        XCTAssertEqual(try runReference(t.finished(outputs: [ty]), [5, -4]), [8, -7, -1, 11])

        var a = ModelBuilder()
        let ax = a.input([2, 2], u8, zero: 5)
        let ay = a.activation("y", [2, 2], u8, zero: 7)
        a.op(.channelAffine, [ax, a.constant("a", [2], s8, [2, -3], perChannel: true), a.constant("b", [2], .int32, [1, -1])], ay,
             identityMultiplier.merging(["clamp": [0, 255]]))
        // (x - 5) * a[c] + b[c] + 7: x = [6, 9, 4, 3] -> [2+1, -12-1, -2+1, 6-1] + 7 = [10, -6 -> 0, 6, 12].
        XCTAssertEqual(try runReference(a.finished(outputs: [ay]), [6, 9, 4, 3]), [10, 0, 6, 12])

        var l = ModelBuilder()
        let lx = l.input([1, 3], QType.signed(2)!, zero: 0)
        let flat = l.activation("f", [3], QType.signed(2)!)
        l.op(.flatten, [lx], flat, [:])
        let ly = l.activation("y", [3], u8)
        l.op(.lookupTable, [flat, l.constant("t", [4], .int32, [40, 30, 20, 10])], ly, [:])
        let back = l.activation("r", [3, 1], u8)
        l.op(.reshape, [ly], back, ["shape": [3, 1]])
        // index q - (-2): [-2, 1, 0] -> [0, 3, 2].
        XCTAssertEqual(try runReference(l.finished(outputs: [back]), [-2, 1, 0]), [40, 10, 20])

        var d = ModelBuilder()
        let dx = d.input([2, 3], s8, zero: -1)
        let dy = d.activation("y", [2, 2], s8, zero: 0)
        d.op(.dense, [dx, d.constant("w", [2, 3], s8, [1, 2, 3, -1, 0, 1], perChannel: true), d.constant("b", [2], .int32, [0, 100])], dy,
             identityMultiplier.merging(["clamp": [-128, 127]]))
        // rows x + 1: [1, 2, 3] -> [14, 102]; [0, -1, 4] -> [10, 104].
        XCTAssertEqual(try runReference(d.finished(outputs: [dy]), [0, 1, 2, -1, -2, 3]), [14, 102, 10, 104])
    }

    func testInvalidModelsThrowWithContext() throws {
        var b = ModelBuilder()
        let x = b.input([3, 3, 1], u8)
        let y = b.activation("y", [3, 3, 1], u8)  // 2x2 kernel, no padding gives 2x2
        b.op(.conv2D, [x, b.constant("w", [1, 2, 2, 1], s8, [1, 1, 1, 1])], y,
             window(kernel: (2, 2)).merging(["groups": [1], "clamp": [0, 255]]).merging(identityMultiplier))
        XCTAssertThrowsError(try IntegerSimulator(model: b.finished(outputs: [y]), rounding: .gemmlowp)) { error in
            XCTAssertTrue("\(error)".contains("conv2D0"), "\(error)")
            XCTAssertTrue("\(error)".contains("[2, 2, 1]"), "\(error)")
        }
        XCTAssertThrowsError(try IntegerSimulator(path: "/nonexistent/model.qbin", rounding: .single)) { error in
            guard case SimulatorError.qbin = error else { return XCTFail("\(error)") }
        }
    }
}
