import CKernels
import QBin

/// Which exact integer scheme a GEMM uses (layouts in `Sources/CKernels/include/CKernels.h`).
enum GEMMPath: Sendable {
    /// `(x - zin)` as int16 pairs times int16 weights with `vpmaddwd`: exact for any <= 8-bit input and weights.
    case s16
    /// Stored activations offset to unsigned bytes `(x - min(type))` times int8 weights with `vpmaddubsw`:
    /// exact only for signed weights of <= 7 bits (|w| <= 64), 4 weights per step instead of 2.
    /// The offset is taken back out per channel: `sum (x - zin) w = sum (x - min) w - (zin - min) sum w`.
    case u8

    /// The path for an input of type `input` and weights of type `weights`; nil when neither is exact
    /// (wider than 8-bit values), and the op runs its reference kernel.
    /// With the avx512vnni level active, signed 8-bit weights take the u8 path too: `vpdpbusd` adds four
    /// u8 x s8 products in int32 with no int16 step, exact for |w| <= 128 (docs/isa-dispatch.md).
    static func choose(input: QType, weights: QType) -> GEMMPath? {
        guard input.bits <= 8, weights.bits <= 8 else { return nil }
        guard weights.isSigned else { return .s16 }
        return weights.bits <= 7 || exactQuadsActive ? .u8 : .s16
    }

    /// Whether the active kernel level's u8 x s8 quad kernel is exact for any int8 weights (VNNI).
    static var exactQuadsActive: Bool { qc_isa_active() == Int32(QC_ISA_AVX512VNNI.rawValue) }

    /// Values of K per kernel step: a pair (s16) or a quad (u8).
    var stepLength: Int { self == .s16 ? 2 : 4 }
    /// Bytes of one A element.
    var elementSize: Int { self == .s16 ? 2 : 1 }
}

/// The weights of one GEMM, `n` output channels by `k`, packed once into 16-channel panels: per panel
/// and K step, 64 bytes (16 channels x one int16 pair, or x one int8 quad); channels past `n` and K
/// past `k` are zero.
final class PackedGEMMWeights: @unchecked Sendable {
    let n: Int, k: Int
    let path: GEMMPath
    let panels: Int
    let steps: Int
    /// `steps * path.stepLength`: the row length of A.
    var paddedK: Int { steps * path.stepLength }
    /// `sum_k w[c][k]` per channel (the u8 path's offset correction).
    let rowSums: [Int32]
    let storage: UnsafeMutableRawPointer
    /// u8 path: K quads whose `vpmaddubsw` pair sums can be added in int16 before widening
    /// (`chunk * 2 * 255 * max|w| <= 32767`); 1 = widen every quad.
    let int16Chunk: Int
    /// u8 path with weights beyond |w| <= 64 (packed while the avx512vnni level was active): only an exact
    /// quad kernel may run them; if another level is active by then, the scalar level's kernel does.
    let needsExactQuads: Bool

    static let bytesPerStep = 64

    /// `weights[c * rowStride + offset + i]` is `w[c][i]`, c < n, i < k.
    init(weights: UnsafeBufferPointer<Int32>, n: Int, k: Int, rowStride: Int, offset: Int = 0, path: GEMMPath) {
        self.n = n; self.k = k; self.path = path
        panels = (n + 15) / 16
        steps = (k + path.stepLength - 1) / path.stepLength
        let bytes = Swift.max(panels * steps * Self.bytesPerStep, 64)
        storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var sums = [Int32](repeating: 0, count: n)
        let stepLength = path.stepLength
        for channel in 0..<n {
            let panel = channel / 16, lane = channel % 16
            for i in 0..<k {
                let w = weights[channel * rowStride + offset + i]
                sums[channel] = sums[channel] &+ w
                let step = i / stepLength, e = i % stepLength
                let stepBase = (panel * steps + step) * Self.bytesPerStep
                switch path {
                case .s16:
                    // ch 0-7 then 8-15, each an adjacent (w[2p], w[2p+1]) pair.
                    let index = (lane / 8) * 16 + (lane % 8) * 2 + e
                    storage.storeBytes(of: Int16(truncatingIfNeeded: w), toByteOffset: stepBase + index * 2, as: Int16.self)
                case .u8:
                    let index = (lane / 8) * 32 + (lane % 8) * 4 + e
                    storage.storeBytes(of: Int8(truncatingIfNeeded: w), toByteOffset: stepBase + index, as: Int8.self)
                }
            }
        }
        rowSums = sums
        var largest: Int64 = 0
        for channel in 0..<n {
            for i in 0..<k { largest = Swift.max(largest, abs(Int64(weights[channel * rowStride + offset + i]))) }
        }
        int16Chunk = largest == 0 ? 64 : Int(Swift.min(64, Swift.max(1, Int64(Int16.max) / (2 * 255 * largest))))
        needsExactQuads = path == .u8 && largest > 64
    }

    deinit { storage.deallocate() }

    /// K steps per cache block: 512 values of K, so that a 4-row A tile and a panel slice stay in L1.
    var stepsPerBlock: Int { 512 / path.stepLength }

    /// Whether `multiplyIndirect` may run this panel at the active kernel level: the u8 path, K whole
    /// quads per tap (`tapLength` values), and the level's plain quad kernel exact for these weights
    /// (VNNI, or |w| <= 64 with no int16 partial sums to gain: `int16Chunk == 1`).
    func runsIndirect(tapLength: Int) -> Bool {
        guard path == .u8, tapLength % 4 == 0, k % tapLength == 0 else { return false }
        return GEMMPath.exactQuadsActive || (!needsExactQuads && int16Chunk == 1)
    }

    /// `multiply` without im2col: `tiles` tiles of 4 rows, A read through `table`, which holds per
    /// tile, tap and row a pointer to that tap's `tapQuads * 4` bytes (`table[(tile * taps + t) * 4 + r]`,
    /// `k == taps * tapQuads * 4`). K is cut into blocks of whole taps of about `stepsPerBlock` quads,
    /// as `multiply` cuts it, so a panel's slice stays in L1 across the tiles. Only where
    /// `runsIndirect(tapLength: tapQuads * 4)`. Columns `n ..< panels * 16` of `c` may be left unwritten.
    /// Every entry is read `rowOffset` bytes on: a table of offsets relative to an image, built once,
    /// with the image's address here (0 for a table of addresses).
    func multiplyIndirect(table: UnsafePointer<UnsafePointer<UInt8>?>, rowOffset: Int = 0, tiles: Int, taps: Int,
                          tapQuads: Int, c: UnsafeMutablePointer<Int32>, ldc: Int) {
        let tapsPerBlock = Swift.max(1, stepsPerBlock / tapQuads)
        let b = UnsafeRawPointer(storage).assumingMemoryBound(to: Int8.self)
        var t0 = 0
        while t0 < taps {
            let count = Swift.min(tapsPerBlock, taps &- t0)
            let accumulate: Int32 = t0 > 0 ? 1 : 0
            // Panels in pairs (32 channels per call), then the odd one; a last panel of at most 8 real
            // channels takes the half-width kernels (4x24, 4x8), which leave its padding channels unwritten.
            let panelStride = steps &* Self.bytesPerStep
            var panel = 0
            while panel < panels {
                let panelB = b + (panel &* steps &+ t0 &* tapQuads) &* Self.bytesPerStep
                let pair = panel &+ 1 < panels
                let narrow = n &- (pair ? panel &+ 1 : panel) &* 16 <= 8
                let width: Int32 = (pair ? 32 : 16) &- (narrow ? 8 : 0)
                qc_gemm_u8s8_indirect_tiles(width, tiles, taps &* 4, count, tapQuads, table + t0 &* 4, rowOffset, panelB,
                                            panelStride, c + panel &* 16, ldc, accumulate)
                panel &+= pair ? 2 : 1
            }
            t0 &+= count
        }
    }

    /// `c[r * ldc + ch] = sum_i a[r][i] * w[ch][i]` for `r < rows` (a multiple of 4) and every channel
    /// of every panel (`ldc >= panels * 16`; with `n <= 8` on the s16 path, channels 0..<8 only). `a`
    /// holds rows of `paddedK` elements of the path's type, `lda` elements apart.
    func multiply(a: UnsafeRawPointer, lda: Int, rows: Int, c: UnsafeMutablePointer<Int32>, ldc: Int) {
        let blockSteps = stepsPerBlock
        // One panel of at most 8 channels (the s16 path): channels 8...15 are zeros, and not computed.
        let halfPanel = path == .s16 && n <= 8
        var kb = 0
        while kb < steps {
            let ks = Swift.min(blockSteps, steps &- kb)
            let accumulate: Int32 = kb > 0 ? 1 : 0
            for panel in 0..<panels {
                let bOffset: Int = (panel &* steps &+ kb) &* Self.bytesPerStep
                let b = storage + bOffset
                var r = 0
                while r < rows {
                    let cOffset: Int = r &* ldc &+ panel &* 16
                    let cTile = c + cOffset
                    switch path {
                    case .s16:
                        let aOffset: Int = (r &* lda &+ kb &* 2) &* 2
                        let aTile = (a + aOffset).assumingMemoryBound(to: Int16.self)
                        if halfPanel {
                            qc_gemm_s16_4x8(aTile, lda, b.assumingMemoryBound(to: Int16.self), ks, cTile, ldc, accumulate)
                        } else {
                            qc_gemm_s16_4x16(aTile, lda, b.assumingMemoryBound(to: Int16.self), ks, cTile, ldc, accumulate)
                        }
                    case .u8:
                        let aOffset: Int = r &* lda &+ kb &* 4
                        let aTile = (a + aOffset).assumingMemoryBound(to: UInt8.self)
                        if needsExactQuads && !GEMMPath.exactQuadsActive {
                            qc_kernels_for(Int32(QC_ISA_SCALAR.rawValue))!.pointee.gemm_u8s8_4x16!(
                                aTile, lda, b.assumingMemoryBound(to: Int8.self), ks, cTile, ldc, accumulate)
                        } else if int16Chunk > 1 {
                            qc_gemm_u8s8_4x16_i16(aTile, lda, b.assumingMemoryBound(to: Int8.self), ks, cTile, ldc, accumulate, int16Chunk)
                        } else {
                            qc_gemm_u8s8_4x16(aTile, lda, b.assumingMemoryBound(to: Int8.self), ks, cTile, ldc, accumulate)
                        }
                    }
                    r &+= 4
                }
            }
            kb &+= blockSteps
        }
    }
}
