import CKernels
import QBin
import XCTest
@testable import Simulator

/// Every integer kernel of every level this CPU runs (`qc_kernels_for`), bit for bit against the
/// portable `scalar` level, on random data at the extremes of each layout's exactness bound
/// (Sources/CKernels/int8_avx2.c): s16 operands at |a| = 255 and w = -128, u8 weights at |w| = 64, the
/// int16-chunked u8 kernel at the largest chunk its weights allow, and requantization over every
/// shift, the saturating multiplier and int32 extremes.
final class ISALevelTests: XCTestCase {
    /// The levels to check against scalar; `scalar` itself is compared too (it must equal itself, and
    /// this keeps the test meaningful on a CPU with no vector level).
    private var levels: [UnsafePointer<qc_kernels>] {
        (0..<Int32(QC_ISA_COUNT.rawValue)).compactMap { qc_kernels_for($0) }
    }
    private var scalar: qc_kernels { qc_kernels_for(Int32(QC_ISA_SCALAR.rawValue))!.pointee }

    private func name(_ table: UnsafePointer<qc_kernels>) -> String {
        String(cString: qc_isa_name(Int32(table.pointee.level.rawValue)))
    }

    func testTheMachinesLevelsAreDetected() {
        XCTAssertNotNil(qc_kernels_for(Int32(QC_ISA_SCALAR.rawValue)), "the portable level is always available")
        XCTAssertNotNil(qc_kernels_for(qc_isa_best()))
        #if arch(x86_64)
        // Every x86-64 CPU this project has run on (Zen 1, 3, 4) has AVX2 + FMA: the fast level must be found there.
        if String(cString: qc_cpu_features()).split(separator: ",").contains("avx2") {
            XCTAssertNotNil(qc_kernels_for(Int32(QC_ISA_AVX2.rawValue)), "cpuid reports AVX2 but the avx2 level is not used")
        }
        #endif
    }

    func testInt16PairGEMMMatchesScalar() {
        var rng = TestRNG(seed: 31)
        for table in levels {
            for trial in 0..<24 {
                let kpairs = [1, 2, 7, 64, 256, 300][trial % 6], lda = 2 * kpairs + 2 * (trial % 3), ldc = 16 + trial % 5
                // Full-range operands: a = x - zin in -255...255, weights -128...127, with runs at the extremes.
                let a: [Int16] = (0..<(4 * lda)).map { i in i % 7 == 0 ? (i % 2 == 0 ? 255 : -255) : Int16(rng.int(-255...255)) }
                let b: [Int16] = (0..<(32 * kpairs)).map { i in i % 5 == 0 ? -128 : Int16(rng.int(-128...127)) }
                let start: [Int32] = (0..<(4 * ldc)).map { _ in rng.int32(-1_000_000...1_000_000) }
                for accumulate: Int32 in [0, 1] {
                    for half in [false, true] {
                        var expected = start, actual = start
                        let s = half ? scalar.gemm_s16_4x8! : scalar.gemm_s16_4x16!
                        let f = half ? table.pointee.gemm_s16_4x8! : table.pointee.gemm_s16_4x16!
                        s(a, lda, b, kpairs, &expected, ldc, accumulate)
                        f(a, lda, b, kpairs, &actual, ldc, accumulate)
                        XCTAssertEqual(actual, expected, "\(name(table)) s16 \(half ? "4x8" : "4x16") K pairs \(kpairs) accumulate \(accumulate)")
                    }
                }
            }
        }
    }

    func testUnsignedByteGEMMMatchesScalarAtItsWeightBound() {
        var rng = TestRNG(seed: 37)
        for table in levels {
            for trial in 0..<24 {
                let kquads = [1, 3, 16, 128, 200, 9][trial % 6], lda = 4 * kquads + 4 * (trial % 2), ldc = 16 + trial % 3
                let bound = [64, 7, 1][trial % 3]  // 7-bit, 4-bit and 2-bit weights
                let a: [UInt8] = (0..<(4 * lda)).map { i in i % 3 == 0 ? 255 : UInt8(rng.int(0...255)) }
                let b: [Int8] = (0..<(64 * kquads)).map { i in i % 4 == 0 ? Int8(-bound) : Int8(rng.int(-bound...bound)) }
                // The largest chunk the packer derives for these weights (PackedGEMMWeights.int16Chunk).
                let chunk = min(64, max(1, Int(Int16.max) / (2 * 255 * bound)))
                let start: [Int32] = (0..<(4 * ldc)).map { _ in rng.int32(-1_000_000...1_000_000) }
                for accumulate: Int32 in [0, 1] {
                    var expected = start, actual = start, chunked = start
                    scalar.gemm_u8s8_4x16!(a, lda, b, kquads, &expected, ldc, accumulate)
                    table.pointee.gemm_u8s8_4x16!(a, lda, b, kquads, &actual, ldc, accumulate)
                    table.pointee.gemm_u8s8_4x16_i16!(a, lda, b, kquads, &chunked, ldc, accumulate, chunk)
                    XCTAssertEqual(actual, expected, "\(name(table)) u8 |w| <= \(bound) K quads \(kquads)")
                    XCTAssertEqual(chunked, expected, "\(name(table)) u8 int16 chunk \(chunk) |w| <= \(bound) K quads \(kquads)")
                }
            }
        }
    }

    /// The indirect u8 kernels (one and two panels) of every level against the scalar im2col kernel on
    /// the same rows: taps of 1 to 16 quads, rows scattered (and repeated, as padding taps share one
    /// buffer) through the table.
    func testIndirectByteGEMMMatchesScalarOnTheGatheredRows() {
        var rng = TestRNG(seed: 53)
        for table in levels {
            guard let indirect = table.pointee.gemm_u8s8_4x16_indirect else { return XCTFail("\(name(table)) has no indirect u8 kernel") }
            for trial in 0..<18 {
                let taps = [1, 2, 9, 3, 25, 9][trial % 6], tapQuads = [1, 4, 16][trial % 3], ldc = 16 + trial % 3
                let kquads = taps * tapQuads
                let bound = trial % 2 == 0 ? 64 : 1
                // Twice as many candidate pixels as rows need, so rows share pixels as padding taps do.
                let pool: [UInt8] = (0..<(8 * taps * tapQuads * 4)).map { i in i % 3 == 0 ? 255 : UInt8(rng.int(0...255)) }
                let b: [Int8] = (0..<(64 * kquads)).map { i in i % 4 == 0 ? Int8(-bound) : Int8(rng.int(-bound...bound)) }
                let pick: [Int] = (0..<(4 * taps)).map { _ in rng.int(0...(2 * taps - 1)) }
                // The im2col rows the table describes: row r, tap t is pool's pixel pick[4t + r].
                var a = [UInt8](repeating: 0, count: 4 * kquads * 4)
                for r in 0..<4 {
                    for t in 0..<taps {
                        for i in 0..<(4 * tapQuads) { a[r * 4 * kquads + t * 4 * tapQuads + i] = pool[pick[4 * t + r] * 4 * tapQuads + i] }
                    }
                }
                let start: [Int32] = (0..<(4 * ldc)).map { _ in rng.int32(-1_000_000...1_000_000) }
                pool.withUnsafeBufferPointer { pool in
                    let rows: [UnsafePointer<UInt8>?] = pick.map { pool.baseAddress! + $0 * 4 * tapQuads }
                    for accumulate: Int32 in [0, 1] {
                        var expected = start, actual = start
                        scalar.gemm_u8s8_4x16!(a, 4 * kquads, b, kquads, &expected, ldc, accumulate)
                        indirect(taps, tapQuads, rows, b, &actual, ldc, accumulate)
                        XCTAssertEqual(actual, expected, "\(name(table)) indirect u8 |w| <= \(bound), \(taps) taps of \(tapQuads) quads")
                    }
                    // Two panels in one call (`b` then its reverse, one panel apart), into 32 columns.
                    guard let pair = table.pointee.gemm_u8s8_4x32_indirect else { return XCTFail("\(name(table)) has no 4x32 indirect kernel") }
                    let panels = b + b.reversed(), wide = ldc + 16
                    let start32: [Int32] = (0..<(4 * wide)).map { _ in rng.int32(-1_000_000...1_000_000) }
                    for accumulate: Int32 in [0, 1] {
                        var expected = start32, actual = start32
                        panels.withUnsafeBufferPointer { w in
                            expected.withUnsafeMutableBufferPointer { e in
                                scalar.gemm_u8s8_4x16!(a, 4 * kquads, w.baseAddress!, kquads, e.baseAddress!, wide, accumulate)
                                scalar.gemm_u8s8_4x16!(a, 4 * kquads, w.baseAddress! + b.count, kquads, e.baseAddress! + 16, wide, accumulate)
                            }
                            pair(taps, tapQuads, rows, w.baseAddress!, b.count, &actual, wide, accumulate)
                        }
                        XCTAssertEqual(actual, expected, "\(name(table)) indirect 4x32 u8, \(taps) taps of \(tapQuads) quads")
                        // The half-width forms: the first 8 columns of a panel, the first 24 of a pair.
                        guard let narrow = table.pointee.gemm_u8s8_4x8_indirect, let narrowPair = table.pointee.gemm_u8s8_4x24_indirect else {
                            return XCTFail("\(name(table)) has no half-width indirect kernels")
                        }
                        var eight = start32, twentyFour = start32
                        panels.withUnsafeBufferPointer { w in
                            narrow(taps, tapQuads, rows, w.baseAddress!, &eight, wide, accumulate)
                            narrowPair(taps, tapQuads, rows, w.baseAddress!, b.count, &twentyFour, wide, accumulate)
                        }
                        for r in 0..<4 {
                            XCTAssertEqual(eight[(r * wide)..<(r * wide + 8)], expected[(r * wide)..<(r * wide + 8)],
                                           "\(name(table)) indirect 4x8 u8 row \(r), \(taps) taps of \(tapQuads) quads")
                            XCTAssertEqual(twentyFour[(r * wide)..<(r * wide + 24)], expected[(r * wide)..<(r * wide + 24)],
                                           "\(name(table)) indirect 4x24 u8 row \(r), \(taps) taps of \(tapQuads) quads")
                        }
                    }
                }
            }
        }
    }

    /// `qc_gemm_u8s8_indirect_tiles` at every level (the avx512vnni loop, the other levels' loop over
    /// their kernels) on tables of addresses and on tables of offsets read `row_offset` bytes on: every
    /// width, several tiles, and more taps than the other levels' copy of a tile holds at once.
    func testIndirectTilesReadOffsetTablesAtEveryLevel() {
        var rng = TestRNG(seed: 59)
        let before = qc_isa_active()
        defer { _ = qc_isa_select(before) }
        for level in 0..<Int32(QC_ISA_COUNT.rawValue) where qc_kernels_for(level) != nil {
            XCTAssertEqual(qc_isa_select(level), 0)
            for trial in 0..<8 {
                let taps = [1, 3, 70, 9][trial % 4], tapQuads = [1, 4][trial % 2], tiles = 3, kquads = taps * tapQuads
                let width = [8, 16, 24, 32][trial % 4], ldc = 32 + trial % 3
                let pool: [UInt8] = (0..<(2 * taps * tapQuads * 4 + 4)).map { _ in UInt8(rng.int(0...255)) }
                // |w| <= 64: the bound within which every level's plain u8 kernel is exact (`vpmaddubsw` pair sums).
                let panels: [Int8] = (0..<(2 * 64 * kquads)).map { _ in Int8(rng.int(-64...64)) }
                let pick: [Int] = (0..<(tiles * 4 * taps)).map { _ in rng.int(0...(2 * taps - 1)) }
                var expected = [Int32](repeating: 0, count: 4 * tiles * ldc)
                for t in 0..<tiles {
                    var a = [UInt8](repeating: 0, count: 4 * kquads * 4)
                    for r in 0..<4 {
                        for tap in 0..<taps {
                            for i in 0..<(4 * tapQuads) {
                                a[r * 4 * kquads + tap * 4 * tapQuads + i] = pool[pick[(t * taps + tap) * 4 + r] * 4 * tapQuads + i]
                            }
                        }
                    }
                    panels.withUnsafeBufferPointer { w in
                        expected.withUnsafeMutableBufferPointer { e in
                            for panel in 0..<2 {
                                scalar.gemm_u8s8_4x16!(a, 4 * kquads, w.baseAddress! + panel * 64 * kquads, kquads,
                                                       e.baseAddress! + 4 * t * ldc + 16 * panel, ldc, 0)
                            }
                        }
                    }
                }
                pool.withUnsafeBufferPointer { pool in
                    let base = Int(bitPattern: pool.baseAddress!)
                    for relative in [false, true] {
                        let table: [UnsafePointer<UInt8>?] = pick.map { i in
                            UnsafePointer(bitPattern: i * 4 * tapQuads + (relative ? 0 : base))
                        }
                        var actual = [Int32](repeating: -7, count: 4 * tiles * ldc)
                        panels.withUnsafeBufferPointer { w in
                            qc_gemm_u8s8_indirect_tiles(Int32(width), tiles, 4 * taps, taps, tapQuads, table, relative ? base : 0,
                                                        w.baseAddress!, 64 * kquads, &actual, ldc, 0)
                        }
                        for row in 0..<(4 * tiles) {
                            XCTAssertEqual(actual[(row * ldc)..<(row * ldc + width)], expected[(row * ldc)..<(row * ldc + width)],
                                           "\(String(cString: qc_isa_name(level))) width \(width), \(taps) taps of \(tapQuads) quads, "
                                           + "row \(row), \(relative ? "offsets" : "addresses")")
                        }
                    }
                }
            }
        }
    }

    /// Blocks whose every lane shifts right by 1...31 (or has a zero multiplier), the avx512 levels'
    /// one-step gemmlowp form: each level against scalar, accumulators at the int32 extremes included.
    func testRightShiftOnlyRequantizationMatchesScalar() {
        var rng = TestRNG(seed: 67)
        let special: [Int32] = [0, 1, -1, Int32.min, Int32.max, Int32.min + 1, 1 << 30, -(1 << 30), -(1 << 30) - 1, 12345, -12345]
        for table in levels {
            for trial in 0..<48 {
                let channels = [16, 5, 23, 32, 8, 4][trial % 6], rows = 1 + trial % 7
                let mult: [Int32] = (0..<channels).map { j in
                    (j + trial) % 7 == 0 ? 0 : [1, 1 << 30, Int32.max, -Int32.max, 1_518_500_250, -3][(trial + j) % 6]
                }
                let shift: [Int32] = (0..<channels).map { j in
                    mult[j] == 0 && trial % 2 == 0 ? 0 : -Int32(1 + (trial * 7 + j * 5) % 31)
                }
                let ldc = channels + 1
                let c = (0..<(rows * ldc)).map { i in i % 3 == 0 ? special[(i / 3) % special.count] : rng.int32(Int64(Int32.min)...Int64(Int32.max)) }
                let bias = (0..<channels).map { j in j % 4 == 0 ? 0 : rng.int32(-100_000...100_000) }
                let zout = rng.int32(-300...300)
                let (lo, hi): (Int32, Int32) = trial % 3 == 0 ? (Int32.min, Int32.max) : (-128, 127)
                assertGemmlowpRequantMatchesScalar(table, c: c, ldc: ldc, rows: rows, channels: channels, bias: bias, mult: mult,
                                                   shift: shift, zout: zout, lo: lo, hi: hi, flatChannel: 0,
                                                   "right shifts only, trial \(trial)")
            }
        }
    }

    /// `requant_rows` (rows of `channels`, `ldc` apart, into rows of `channels`) and `requant_flat` (every
    /// value of `c` under channel `flatChannel`'s multiplier) of `table` against scalar, gemmlowp rounding.
    private func assertGemmlowpRequantMatchesScalar(_ table: UnsafePointer<qc_kernels>, c: [Int32], ldc: Int, rows: Int, channels: Int,
                                                    bias: [Int32], mult: [Int32], shift: [Int32], zout: Int32, lo: Int32, hi: Int32,
                                                    flatChannel: Int, _ label: String, line: UInt = #line) {
        // Rows `ldc` apart, then back to back (a depthwise row group's accumulators: `c`'s first values).
        for rowsIn in [ldc, channels] {
            var expected = [Int32](repeating: 0, count: rows * channels), actual = expected
            scalar.requant_rows!(c, rowsIn, rows, channels, bias, mult, shift, zout, lo, hi, &expected, channels, 0)
            table.pointee.requant_rows!(c, rowsIn, rows, channels, bias, mult, shift, zout, lo, hi, &actual, channels, 0)
            XCTAssertEqual(actual, expected, "\(name(table)) requant_rows ldc \(rowsIn) \(label)", line: line)
        }
        let n = rows * ldc, m = mult[flatChannel], s = shift[flatChannel]
        var flatExpected = [Int32](repeating: 0, count: n), flatActual = flatExpected
        scalar.requant_flat!(c, n, m, s, zout, lo, hi, &flatExpected, 0)
        table.pointee.requant_flat!(c, n, m, s, zout, lo, hi, &flatActual, 0)
        XCTAssertEqual(flatActual, flatExpected, "\(name(table)) requant_flat shift \(s) \(label)", line: line)
    }

    /// Outputs clamped below at or above the zero point (a ReLU's range), where the avx512 level drops
    /// the rounding correction and adds the zero point in its 64-bit step (`qc_rq16_clamp_below`): zero
    /// points up to the fold's bound and past it, lower bounds at and above the zero point, zero and
    /// negative multipliers (which refuse the shortcut), every right shift, inputs at the int32 extremes.
    func testClampedBelowRequantizationMatchesScalar() {
        var rng = TestRNG(seed: 71)
        let special: [Int32] = [0, 1, -1, Int32.min, Int32.max, Int32.min + 1, 1 << 30, -(1 << 30), -(1 << 30) - 1, -2, 5]
        for table in levels {
            for trial in 0..<96 {
                let channels = [16, 5, 23, 32, 8, 4][trial % 6], rows = 1 + trial % 5
                let negative = trial % 8 == 7
                let mult: [Int32] = (0..<channels).map { j in
                    (j + trial) % 9 == 0 ? 0 : (negative && j == channels - 1 ? -3 : [1, 1 << 30, Int32.max, 1_518_500_250, 3][(trial + j) % 5])
                }
                let right = 1 + trial % 30
                let shift: [Int32] = (0..<channels).map { j in mult[j] == 0 && trial % 2 == 0 ? 0 : -Int32(1 + (right + j * 7) % 30) }
                // |z| + 1 <= 2^(30 - r) holds for small zero points; the large ones pass it only for small shifts.
                let zout: Int32 = [-128, 0, 37, -5, 1 << 20, -(1 << 20), (1 << 27) - 1, 127][trial % 8]
                let lo = zout &+ Int32(trial % 3 == 0 ? 0 : trial % 11), hi = Swift.max(lo, zout &+ 200)
                let ldc = channels + 1
                let c = (0..<(rows * ldc)).map { i in i % 3 == 0 ? special[(i / 3) % special.count] : rng.int32(Int64(Int32.min)...Int64(Int32.max)) }
                let bias = (0..<channels).map { j in j % 4 == 0 ? 0 : rng.int32(-100_000...100_000) }
                assertGemmlowpRequantMatchesScalar(table, c: c, ldc: ldc, rows: rows, channels: channels, bias: bias, mult: mult,
                                                   shift: shift, zout: zout, lo: lo, hi: hi, flatChannel: 1,
                                                   "clamped below, trial \(trial)")
            }
        }
    }

    func testRequantizationMatchesScalarOnEveryLane() {
        var rng = TestRNG(seed: 41)
        let special: [Int32] = [0, 1, -1, Int32.min, Int32.max, Int32.min + 1, 1 << 30, -(1 << 30), 12345, -12345]
        for table in levels {
            for profile: Int32 in [0, 1] {
                for trial in 0..<64 {
                    let channels = [1, 4, 7, 8, 16, 23, 31, 40][trial % 8], rows = 1 + (trial / 2) % 7
                    let usual = trial >= 32  // the hoisted case: shift <= 0, no Int32.min multiplier
                    let mult: [Int32] = (0..<channels).map { j in
                        usual ? [1, 1 << 30, Int32.max, -Int32.max][(trial + j) % 4] : [0, 1, 1 << 30, Int32.max, Int32.min][(trial + j) % 5]
                    }
                    let shift: [Int32] = (0..<channels).map { j in usual ? -Int32((trial * 5 + j * 3) % 32) : Int32((trial * 7 + j * 3) % 62 - 31) }
                    let ldc = channels + 3, stride = channels + 2
                    let c = (0..<(rows * ldc)).map { i in i % 4 == 0 ? special[(i / 4) % special.count] : rng.int32(Int64(Int32.min)...Int64(Int32.max)) }
                    let bias = (0..<channels).map { j in j % 5 == 0 ? Int32.max : rng.int32(-100_000...100_000) }
                    let zout = rng.int32(-300...300)
                    let (lo, hi): (Int32, Int32) = trial % 3 == 0 ? (Int32.min, Int32.max) : (-128, 127)
                    // Rows apart in both (a GEMM block into the output), and back to back (a depthwise row group).
                    for (rowsIn, rowsOut) in [(ldc, stride), (channels, channels)] {
                        var expected = [Int32](repeating: 0, count: rows * rowsOut), actual = expected
                        scalar.requant_rows!(c, rowsIn, rows, channels, bias, mult, shift, zout, lo, hi, &expected, rowsOut, profile)
                        table.pointee.requant_rows!(c, rowsIn, rows, channels, bias, mult, shift, zout, lo, hi, &actual, rowsOut, profile)
                        XCTAssertEqual(actual, expected, "\(name(table)) requant_rows profile \(profile) trial \(trial) ldc \(rowsIn)")
                    }

                    // Per-tensor: one multiplier and shift for a flat array, and the Add input rescale.
                    let m = mult[0], s = shift[0], n = rows * ldc
                    var flatExpected = [Int32](repeating: 0, count: n), flatActual = flatExpected
                    scalar.requant_flat!(c, n, m, s, zout, lo, hi, &flatExpected, profile)
                    table.pointee.requant_flat!(c, n, m, s, zout, lo, hi, &flatActual, profile)
                    XCTAssertEqual(flatActual, flatExpected, "\(name(table)) requant_flat profile \(profile) trial \(trial)")
                    let left = Int32(trial % 21), sign: Int32 = trial % 2 == 0 ? 1 : -1
                    for accumulate: Int32 in [0, 1] {
                        var accExpected = bias + c.prefix(n - channels), accActual = accExpected
                        scalar.rescale_accumulate!(c, n, zout, left, m, s, sign, &accExpected, accumulate, profile)
                        table.pointee.rescale_accumulate!(c, n, zout, left, m, s, sign, &accActual, accumulate, profile)
                        XCTAssertEqual(accActual, accExpected, "\(name(table)) rescale_accumulate profile \(profile) trial \(trial)")
                    }
                }
            }
        }
    }

    /// The depthwise accumulators over strides, dilations, padding on every side and channel counts
    /// around the 8 / 16 vector widths, with int32 inputs and weights at the extremes (sums wrap).
    func testDepthwiseRowMatchesScalar() {
        var rng = TestRNG(seed: 43)
        for table in levels {
            for trial in 0..<60 {
                let channels = [1, 3, 8, 9, 16, 17, 24, 40, 33, 48][trial % 10], k = [1, 3, 5][trial % 3]
                let stride = 1 + trial % 2, dilation = trial % 5 == 4 ? 2 : 1, span = (k - 1) * dilation + 1
                let inH = span + rng.int(0...4), inW = span + rng.int(0...6), pad = trial % 2 == 0 ? span / 2 : 0
                let outH = (inH + 2 * pad - span) / stride + 1, outW = (inW + 2 * pad - span) / stride + 1
                let wide = trial % 4 == 0  // full int32 range: only the wrapping must agree
                let sample: [Int32] = (0..<(inH * inW * channels)).map { _ in wide ? rng.int32(Int64(Int32.min)...Int64(Int32.max)) : rng.int32(-128...255) }
                let weights: [Int32] = (0..<(k * k * channels)).map { _ in wide ? rng.int32(Int64(Int32.min)...Int64(Int32.max)) : rng.int32(-128...127) }
                let zin = wide ? Int32.min : rng.int32(-128...127)
                for outY in 0..<outH {
                    var expected = [Int32](repeating: 7, count: outW * channels), actual = expected
                    scalar.depthwise_row_i32!(sample, inH, inW, channels, weights, zin, k, k, stride, stride, dilation, dilation,
                                              pad, pad, outY, outW, &expected)
                    table.pointee.depthwise_row_i32!(sample, inH, inW, channels, weights, zin, k, k, stride, stride, dilation,
                                                     dilation, pad, pad, outY, outW, &actual)
                    XCTAssertEqual(actual, expected, "\(name(table)) depthwise \(k)x\(k) stride \(stride) C \(channels) row \(outY)")
                }
            }
        }
    }

    /// 3x3 dilation-1 rows wide enough for the interior paths (nine weight vectors held, the zero point
    /// taken out once; two pixels per vector for 8 channels at stride 1), odd and even interior widths,
    /// full-range operands whose sums wrap, against scalar.
    func testDepthwise3x3InteriorRowsMatchScalar() {
        var rng = TestRNG(seed: 47)
        for table in levels {
            for trial in 0..<40 {
                let channels = [8, 4, 16, 17, 40, 8, 1, 8][trial % 8], stride = 1 + (trial / 8) % 2
                let inH = 3 + rng.int(0...3), inW = 3 + rng.int(0...17), pad = trial % 3 == 0 ? 0 : 1
                let outH = (inH + 2 * pad - 3) / stride + 1, outW = (inW + 2 * pad - 3) / stride + 1
                let wide = trial % 5 == 0
                let sample: [Int32] = (0..<(inH * inW * channels)).map { _ in wide ? rng.int32(Int64(Int32.min)...Int64(Int32.max)) : rng.int32(-128...255) }
                let weights: [Int32] = (0..<(9 * channels)).map { _ in wide ? rng.int32(Int64(Int32.min)...Int64(Int32.max)) : rng.int32(-128...127) }
                let zin = wide ? rng.int32(Int64(Int32.min)...Int64(Int32.max)) : rng.int32(-128...127)
                for outY in 0..<outH {
                    var expected = [Int32](repeating: 7, count: outW * channels), actual = expected
                    scalar.depthwise_row_i32!(sample, inH, inW, channels, weights, zin, 3, 3, stride, stride, 1, 1, pad, pad, outY, outW, &expected)
                    table.pointee.depthwise_row_i32!(sample, inH, inW, channels, weights, zin, 3, 3, stride, stride, 1, 1, pad, pad,
                                                     outY, outW, &actual)
                    XCTAssertEqual(actual, expected, "\(name(table)) depthwise 3x3 stride \(stride) pad \(pad) C \(channels) \(inH)x\(inW) row \(outY)")
                }
            }
        }
    }

    /// The 3x3 depthwise pair kernels (the avx2 and avx512 levels) against the scalar depthwise row on the same
    /// sample: inputs and zero points at the 8-bit extremes (x - zin up to +-255) and at int16's, weights
    /// -128...127 and at int16's extremes, strides 1 and 2, padding on every side or none, odd and even
    /// widths (the 8-channel two-pixel form and its last pixel), channel counts around 8 and 16.
    func testDepthwisePairsMatchScalarRow() {
        var rng = TestRNG(seed: 73)
        var checked = 0
        for table in levels {
            guard let build = table.pointee.dw3x3_pairs_build, let row = table.pointee.dw3x3_pairs_row else { continue }
            for trial in 0..<48 {
                let channels = [8, 16, 5, 23, 32, 8, 40, 1][trial % 8], stride = 1 + (trial / 8) % 2
                let inH = 3 + rng.int(0...5), inW = 3 + rng.int(0...7)
                let padTop = trial % 3 == 0 ? 0 : 1, padLeft = trial % 4 == 0 ? 0 : 1
                let padBottom = trial % 5 == 0 ? 0 : 1, padRight = trial % 6 == 0 ? 0 : 1
                let outH = (inH + padTop + padBottom - 3) / stride + 1, outW = (inW + padLeft + padRight - 3) / stride + 1
                let height = Swift.max((outH - 1) * stride + 3, padTop + inH), width = Swift.max((outW - 1) * stride + 3, padLeft + inW)
                let wide = trial % 4 == 3  // x - zin and weights at int16's extremes
                let zin: Int32 = wide ? 0 : [-128, 127, 0, 37][trial % 4]
                let sample: [Int32] = (0..<(inH * inW * channels)).map { i in
                    wide ? [Int32(Int16.min), Int32(Int16.max), rng.int32(-32768...32767)][i % 3] : [-128, 127, rng.int32(-128...127)][i % 3]
                }
                let weights: [Int32] = (0..<(9 * channels)).map { i in
                    wide ? [Int32(Int16.min), Int32(Int16.max), rng.int32(-32768...32767)][i % 3] : [-128, 127, rng.int32(-128...127)][i % 3]
                }
                var pairs = [Int32](repeating: 0, count: 6 * channels)
                for fy in 0..<3 {
                    for c in 0..<channels {
                        let w = { (fx: Int) in UInt32(UInt16(truncatingIfNeeded: weights[(fy * 3 + fx) * channels + c])) }
                        pairs[2 * fy * channels + c] = Int32(bitPattern: w(0) | w(1) << 16)
                        pairs[(2 * fy + 1) * channels + c] = Int32(bitPattern: w(2))
                    }
                }
                var image = [Int32](repeating: -1, count: height * width * channels)
                build(sample, inH, inW, channels, zin, padTop, padLeft, height, width, &image)
                for outY in 0..<outH {
                    var expected = [Int32](repeating: 7, count: outW * channels), actual = expected
                    scalar.depthwise_row_i32!(sample, inH, inW, channels, weights, zin, 3, 3, stride, stride, 1, 1, padTop, padLeft,
                                              outY, outW, &expected)
                    row(image, width, channels, pairs, stride, stride, outY, outW, &actual)
                    XCTAssertEqual(actual, expected, "\(name(table)) depthwise pairs stride \(stride) pad \(padTop)\(padLeft) C \(channels) \(inH)x\(inW) row \(outY)")
                    checked += 1
                }
            }
        }
        #if arch(x86_64)
        if String(cString: qc_cpu_features()).split(separator: ",").contains("avx2") {
            XCTAssertGreaterThan(checked, 0, "the CPU has AVX2 but no level ran the pair kernels")
        }
        #endif
    }

    /// The graph input's quantization at every level against `QTensor.quantizeEdge` per value: ties of
    /// `x / scale` and one ulp either side, the clamp bounds and past them, signed zeros, NaN,
    /// infinities, subnormals and huge values, for every packed type and zero points at its ends;
    /// counts that leave every tail length; and the simulator's `quantizeEdgeFast` at the active level.
    func testQuantizeEdgeMatchesPerValueAtEveryLevel() {
        var rng = TestRNG(seed: 79)
        for type in QType.all where type.bits <= 8 {
            for zero in [Int32(type.minValue), 0, Int32(type.maxValue), 3] {
                for scale: Float in [0.0078125, 0.0173, 1, 3.7e-5] {
                    let tensor = QTensor.activation("x", shape: [1], type: type, scale: scale, zeroPoint: zero)
                    var input: [Float] = [0, -0, .nan, -.nan, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                          .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e30, -1e30, 0.49999997, -0.49999997]
                    for k in stride(from: -33_000, through: 33_000, by: 97) + Array(-300...300) {
                        let tie = (Float(k) + 0.5) * scale
                        input += [tie, tie.nextUp, tie.nextDown, Float(k) * scale]
                    }
                    input += (0..<(500 + Int(zero & 15))).map { _ in Float(rng.int(-1_000_000...1_000_000)) * scale / 997 }
                    let expected = input.map { tensor.quantizeEdge($0) }
                    let below = Float(type.minValue - Int64(zero)), above = Float(type.maxValue - Int64(zero))
                    for table in levels {
                        var got = [Int32](repeating: 7, count: input.count)
                        table.pointee.quantize_edge_f32!(input, input.count, scale, zero, below, above, &got)
                        if let i = got.indices.first(where: { got[$0] != expected[$0] }) {
                            XCTFail("\(name(table)) \(type) zp \(zero) scale \(scale): x = \(input[i]) gives \(got[i]), per value \(expected[i])")
                        }
                    }
                    var fast = [Int32](repeating: 7, count: input.count)
                    input.withUnsafeBufferPointer { x in fast.withUnsafeMutableBufferPointer { tensor.quantizeEdgeFast(x, into: $0) } }
                    XCTAssertEqual(fast, expected, "quantizeEdgeFast \(type) zp \(zero) scale \(scale)")
                }
            }
        }
    }

    /// The max-pool row of every level against scalar: 1 to 40 channels (masked tails), windows partly or
    /// wholly in the padding (empty windows give `empty`), strides 1 to 3, full-range values; the last
    /// trials are 3x3 pools over wide rows (many windows wholly inside: the avx512 unrolled form).
    func testMaxPoolRowMatchesScalar() {
        var rng = TestRNG(seed: 61)
        for table in levels {
            for trial in 0..<48 {
                let wide = trial >= 40
                let channels = [1, 3, 8, 9, 16, 17, 24, 40][trial % 8]
                let kh = wide ? 3 : 1 + trial % 3, kw = wide ? 3 : 1 + (trial / 3) % 3
                let strideH = 1 + trial % 3, strideW = 1 + (trial / 2) % 2, padTop = trial % 4 == 0 ? kh : trial % 2
                let padLeft = trial % 5 == 0 ? kw : (trial / 2) % 2
                let inH = kh + rng.int(0...4), inW = kw + rng.int(0...9) + (wide ? 12 : 0)
                let outH = (inH + 2 * padTop - kh) / strideH + 1, outW = (inW + 2 * padLeft - kw) / strideW + 1
                let sample: [Int32] = (0..<(inH * inW * channels)).map { _ in rng.int32(Int64(Int32.min)...Int64(Int32.max)) }
                for outY in 0..<outH {
                    var expected = [Int32](repeating: 7, count: outW * channels), actual = expected
                    scalar.maxpool_row_i32!(sample, inH, inW, channels, kh, kw, strideH, strideW, padTop, padLeft, outY, outW, -5, &expected)
                    table.pointee.maxpool_row_i32!(sample, inH, inW, channels, kh, kw, strideH, strideW, padTop, padLeft, outY, outW, -5, &actual)
                    XCTAssertEqual(actual, expected, "\(name(table)) max pool \(kh)x\(kw) C \(channels) row \(outY)")
                }
            }
        }
    }

    /// The narrow average-pool row of every level against scalar: 16-bit inputs at both extremes (sums
    /// up to 2^15 * 9 in magnitude, ties of the rounding), windows clipped by the padding or empty,
    /// 1 to 40 channels, narrow and full clamps.
    func testAveragePoolRowMatchesScalar() {
        var rng = TestRNG(seed: 79)
        let magic = (0...9).map { $0 == 0 ? UInt64(0) : FastPool2D.divisionMagic($0).magic }
        let shift = (0...9).map { $0 == 0 ? UInt64(0) : FastPool2D.divisionMagic($0).shift }
        for table in levels {
            for trial in 0..<40 {
                let channels = [1, 3, 8, 9, 16, 17, 24, 40][trial % 8], kh = 1 + trial % 3, kw = 1 + (trial / 3) % 3
                let strideH = 1 + trial % 2, strideW = 1 + (trial / 2) % 3, padTop = trial % 4 == 0 ? kh : trial % 2
                let padLeft = trial % 5 == 0 ? kw : (trial / 2) % 2
                let inH = kh + rng.int(0...4), inW = kw + rng.int(0...9)
                let outH = (inH + 2 * padTop - kh) / strideH + 1, outW = (inW + 2 * padLeft - kw) / strideW + 1
                let sample: [Int32] = (0..<(inH * inW * channels)).map { i in
                    i % 4 == 0 ? (i % 8 == 0 ? -32768 : 32767) : rng.int32(-32768...32767)
                }
                let (lo, hi): (Int32, Int32) = trial % 2 == 0 ? (-128, 127) : (Int32.min, Int32.max)
                for outY in 0..<outH {
                    var expected = [Int32](repeating: 7, count: outW * channels), actual = expected
                    scalar.avgpool_row_i32!(sample, inH, inW, channels, kh, kw, strideH, strideW, padTop, padLeft, outY, outW,
                                            magic, shift, -3, lo, hi, &expected)
                    table.pointee.avgpool_row_i32!(sample, inH, inW, channels, kh, kw, strideH, strideW, padTop, padLeft, outY, outW,
                                                   magic, shift, -3, lo, hi, &actual)
                    XCTAssertEqual(actual, expected, "\(name(table)) average pool \(kh)x\(kw) C \(channels) row \(outY)")
                }
            }
        }
    }

    /// The table lookup of every level against scalar: 1 to 40 channels (the flat form for 1, 2, 4, 8 and 16,
    /// rows of masked blocks otherwise), 1 to 9 rows, 16- and 256-entry tables, every index at its ends.
    func testLookupMatchesScalar() {
        var rng = TestRNG(seed: 71)
        for table in levels {
            for trial in 0..<32 {
                let channels = [1, 2, 4, 8, 16, 3, 17, 40][trial % 8], rows = 1 + trial % 9, levels = trial % 2 == 0 ? 256 : 16
                let offset = rng.int32(-200...200)
                let entries: [Int32] = (0..<(channels * levels)).map { _ in rng.int32(Int64(Int32.min)...Int64(Int32.max)) }
                let x: [Int32] = (0..<(rows * channels)).map { i in offset + Int32(i % 3 == 0 ? (i % 2) * (levels - 1) : rng.int(0...(levels - 1))) }
                var expected = [Int32](repeating: 7, count: x.count + 1), actual = expected
                scalar.lookup_i32!(x, x.count, channels, entries, levels, offset, &expected)
                table.pointee.lookup_i32!(x, x.count, channels, entries, levels, offset, &actual)
                XCTAssertEqual(actual, expected, "\(name(table)) lookup C \(channels) rows \(rows) levels \(levels)")
            }
        }
    }

    /// The u8 path's offset-and-narrow pass of every level against scalar: lengths around the vector
    /// widths, values whose difference wraps and keeps only its low byte.
    func testOffsetToBytesMatchesScalar() {
        var rng = TestRNG(seed: 83)
        for table in levels {
            for n in [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100] {
                let offset = rng.int32(Int64(Int32.min)...Int64(Int32.max))
                let x: [Int32] = (0..<n).map { i in i % 5 == 0 ? offset &+ Int32(rng.int(0...255)) : rng.int32(Int64(Int32.min)...Int64(Int32.max)) }
                var expected = [UInt8](repeating: 7, count: n + 1), actual = expected
                scalar.offset_u8!(x, n, offset, &expected)
                table.pointee.offset_u8!(x, n, offset, &actual)
                XCTAssertEqual(actual, expected, "\(name(table)) offset to bytes, n \(n)")
            }
        }
    }

    /// The bench's int8 peak probe of every level: it counts the operations of its idiom (12 chains of
    /// 1 scalar, 32 `vpmaddubsw` ymm, 64 `vpmaddubsw` zmm or 64 `vpdpbusd` multiply-adds per step) and
    /// runs them.
    func testInt8PeakProbeCountsItsOperations() {
        let perStep: [String: Int64] = ["scalar": 1, "avx2": 32, "avx512": 64, "avx512vnni": 64]
        for table in levels {
            var ops: Int64 = 0
            let sum = table.pointee.int8_probe(1000, 5, &ops)
            XCTAssertEqual(ops, 1000 * 12 * 2 * (perStep[name(table)] ?? 0), name(table))
            XCTAssertNotEqual(sum, 0, name(table))
        }
    }

    /// The s16 path's probe (`vpmaddwd`, 16 multiply-adds per ymm step, 32 per zmm) where the level's
    /// densest instruction is not exact for 8-bit weights; none at scalar and avx512vnni.
    func testS16PeakProbeCountsItsOperations() {
        let perStep: [String: Int64] = ["avx2": 16, "avx512": 32]
        for table in levels {
            guard let probe = table.pointee.int8_probe_s16 else {
                XCTAssertNil(perStep[name(table)], "\(name(table)) needs an s16 probe")
                continue
            }
            var ops: Int64 = 0
            let sum = probe(1000, 5, &ops)
            XCTAssertEqual(ops, 1000 * 12 * 2 * (perStep[name(table)] ?? 0), name(table))
            XCTAssertNotEqual(sum, 0, name(table))
        }
    }

    func testSelectingALevelTheCPULacksIsRefused() {
        let before = qc_isa_active()
        for level in 0..<Int32(QC_ISA_COUNT.rawValue) where qc_kernels_for(level) == nil {
            XCTAssertNotEqual(qc_isa_select(level), 0, "\(String(cString: qc_isa_name(level))) is not available here")
            XCTAssertEqual(qc_isa_active(), before, "a refused selection must leave the active level alone")
        }
        XCTAssertEqual(qc_isa_select(Int32(QC_ISA_COUNT.rawValue)), -3)
        XCTAssertEqual(qc_isa_parse("avx512vnni"), Int32(QC_ISA_AVX512VNNI.rawValue))
        XCTAssertEqual(qc_isa_parse("sse9"), -1)
    }
}
