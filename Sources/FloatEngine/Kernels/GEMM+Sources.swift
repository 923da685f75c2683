import QCore

// The A operands of the GEMM. Each packs 6-row micro-panels `[k][6]` straight from where the data
// lives, so no kernel materialises a whole im2col matrix.

/// Per tap `t = ky * kernelW + kx` of a convolution: its row and column distance from the patch origin
/// (`ky * dilationH`, `kx * dilationW`), and `channels` zeros, what a tap outside the input reads:
/// the indirect form's tables, built once per kernel.
final class ConvTapTable: @unchecked Sendable {
    let dy: UnsafeMutablePointer<Int>, dx: UnsafeMutablePointer<Int>
    let zeros: UnsafeMutablePointer<Float>

    init(geometry g: ConvGeometry, channels: Int) {
        let count = g.kernelH * g.kernelW
        dy = .allocate(capacity: count)
        dx = .allocate(capacity: count)
        for ky in 0..<g.kernelH {
            for kx in 0..<g.kernelW {
                (dy + ky * g.kernelW + kx).initialize(to: ky * g.dilationH)
                (dx + ky * g.kernelW + kx).initialize(to: kx * g.dilationW)
            }
        }
        zeros = alignedFloats(channels)
        zeros.initialize(repeating: 0, count: max(channels, 1))
    }

    deinit {
        dy.deallocate()
        dx.deallocate()
        zeros.deallocate()
    }
}

/// A row-major matrix: Dense inputs, and 1x1 stride-1 unpadded convolutions, whose NHWC input is
/// already the `(N*H*W) x C` matrix. Group `g` reads columns `g * groupStride ..< ... + K`.
struct MatrixSource: GEMMPanelSource {
    let a: UnsafePointer<Float>
    let lda: Int
    let groupStride: Int

    static var hasFreeRowTable: Bool { true }

    /// The row table form, one tap of `kc` channels: row r's pointer is its own row of A at column
    /// `k0`, so the kernel reads the matrix where it lies. With few B panels (N <= 32) a packed value
    /// fed only one or two micro-kernel calls and the packing cost as much as the arithmetic. Rows past
    /// `rows` read row `m0` (valid memory; the kernel's edge tile drops them).
    @inline(__always)
    func indirectPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int,
                       table: UnsafeMutablePointer<UnsafePointer<Float>?>) -> PanelA? {
        let base = a + (m0 &* lda &+ group &* groupStride &+ k0)
        for r in 0..<GEMMTile.mr { table[r] = base + (r < rows ? r : 0) &* lda }
        return .indirect(UnsafePointer(table), cin: kc, zeros: base)
    }

    /// The matrix itself: `qc_sgemm_matrix_rows` runs a whole block of rows in one call (12 per
    /// micro-kernel call at avx512) instead of one Swift call per six rows and B panel (that loop was
    /// about 7 % of mini_xception, whose 1x1 convs have 8-32 channels).
    @inline(__always)
    func matrixBlock(m0: Int, k0: Int, group: Int) -> (base: UnsafePointer<Float>, lda: Int)? {
        (a + (m0 &* lda &+ group &* groupStride &+ k0), lda)
    }

    @inline(__always)
    func packPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int, into dst: UnsafeMutablePointer<Float>) {
        let mr = GEMMTile.mr
        let base = a + (m0 &* lda &+ group &* groupStride &+ k0)
        if rows == mr {
            let r1 = base + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda
            var d = dst
            for k in 0..<kc {
                d[0] = base[k]; d[1] = r1[k]; d[2] = r2[k]; d[3] = r3[k]; d[4] = r4[k]; d[5] = r5[k]
                d += mr
            }
            return
        }
        for r in 0..<mr {
            let src = base + r &* lda
            if r < rows {
                for k in 0..<kc { dst[k &* mr &+ r] = src[k] }
            } else {
                for k in 0..<kc { dst[k &* mr &+ r] = 0 }
            }
        }
    }
}

/// The patches of a (grouped, strided, dilated, padded) convolution over an NHWC batch: row
/// `m = (n * outH + outY) * outW + outX`, column `k = (ky * kernelW + kx) * groupChannels + i`,
/// matching Keras' weight layout `[kh, kw, cin / groups, cout]`. Pixels in the padding read as 0.
struct ConvPatchSource: GEMMPanelSource {
    let input: UnsafePointer<Float>
    let inH: Int, inW: Int, channels: Int, groupChannels: Int
    let outH: Int, outW: Int
    let geometry: ConvGeometry
    /// `offsets[k]`: where column `k` reads, in floats from the patch's top-left pixel (see `patchOffsets`).
    let offsets: UnsafePointer<Int>
    /// The taps' distances and `groupChannels` zeros, for the indirect form.
    let taps: ConvTapTable

    /// The indirect form: for each tap of the block and each of the six rows, a pointer to the
    /// group's channels of the input pixel that the row's patch reads there, or to `zeros` for a tap in
    /// the padding (and for rows past `rows`). Nothing is copied; the kernel reads the image.
    @inline(__always)
    func indirectPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int,
                       table: UnsafeMutablePointer<UnsafePointer<Float>?>) -> PanelA? {
        // Whole taps only (the kernel's blocking guarantees it; anything else packs).
        guard groupChannels >= GEMMTile.indirectMinChannels, k0 % groupChannels == 0, kc % groupChannels == 0 else { return nil }
        let mr = GEMMTile.mr, tapDY = taps.dy, tapDX = taps.dx, zeros = UnsafePointer(taps.zeros)
        let spanY = (geometry.kernelH &- 1) &* geometry.dilationH, spanX = (geometry.kernelW &- 1) &* geometry.dilationW
        let tap0 = k0 / groupChannels, tapCount = kc / groupChannels
        var pixel = OutputPixel(row: m0, height: outH, width: outW)
        for r in 0..<mr {
            if r >= rows {
                for t in 0..<tapCount { table[t &* mr &+ r] = zeros }
                continue
            }
            let originY = pixel.y &* geometry.strideH &- geometry.padding.top
            let originX = pixel.x &* geometry.strideW &- geometry.padding.left
            let sample = input + (pixel.sample &* inH &* inW &* channels &+ group &* groupChannels)
            if originY >= 0 && originY &+ spanY < inH && originX >= 0 && originX &+ spanX < inW {
                // The whole patch lies inside: tap t reads at the patch origin + offsets[t * groupChannels].
                let origin = sample + (originY &* inW &+ originX) &* channels
                for t in 0..<tapCount { table[t &* mr &+ r] = origin + offsets[(tap0 &+ t) &* groupChannels] }
            } else {
                for t in 0..<tapCount {
                    let y = originY &+ tapDY[tap0 &+ t], x = originX &+ tapDX[tap0 &+ t]
                    let inside = y >= 0 && y < inH && x >= 0 && x < inW
                    table[t &* mr &+ r] = inside ? sample + (y &* inW &+ x) &* channels : zeros
                }
            }
            pixel.advance()
        }
        return .indirect(UnsafePointer(table), cin: groupChannels, zeros: zeros)
    }

    /// For every column `k = (ky * kernelW + kx) * groupChannels + i`, the input offset
    /// `(ky * dilationH * inW + kx * dilationW) * channels + i` from the patch origin.
    static func patchOffsets(geometry g: ConvGeometry, inW: Int, channels: Int, groupChannels: Int) -> [Int] {
        var offsets: [Int] = []
        for ky in 0..<g.kernelH {
            for kx in 0..<g.kernelW {
                for i in 0..<groupChannels { offsets.append((ky * g.dilationH * inW + kx * g.dilationW) * channels + i) }
            }
        }
        return offsets
    }

    /// Six pixels of one output row whose patches all lie inside the image: row r, column k reads
    /// `origin + r * strideW * channels + offsets[k]`, with no checks.
    @inline(__always)
    func inPlacePanel(m0: Int, rows: Int, k0: Int, group: Int) -> PanelA? {
        let mr = GEMMTile.mr
        let outX = m0 % outW
        guard rows == mr && outX &+ (mr &- 1) < outW else { return nil }
        let rest = m0 / outW
        let outY = rest % outH, n = rest / outH
        let originY = outY &* geometry.strideH &- geometry.padding.top
        let firstX = outX &* geometry.strideW &- geometry.padding.left
        let lastX = firstX &+ (mr &- 1) &* geometry.strideW
        let spanY = (geometry.kernelH &- 1) &* geometry.dilationH, spanX = (geometry.kernelW &- 1) &* geometry.dilationW
        guard originY >= 0 && originY &+ spanY < inH && firstX >= 0 && lastX &+ spanX < inW else { return nil }
        let pixel: Int = (n &* inH &+ originY) &* inW &+ firstX
        return PanelA(base: input + (pixel &* channels &+ group &* groupChannels),
                             step: geometry.strideW &* channels, offsets: offsets + k0)
    }

    @inline(__always)
    func packPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int, into dst: UnsafeMutablePointer<Float>) {
        let mr = GEMMTile.mr
        let kEnd = k0 &+ kc
        let firstTap = k0 / groupChannels, firstChannel = k0 &- firstTap &* groupChannels
        let kernelW = geometry.kernelW
        var pixel = OutputPixel(row: m0, height: outH, width: outW)
        let spanY = (geometry.kernelH &- 1) &* geometry.dilationH, spanX = (kernelW &- 1) &* geometry.dilationW
        // Fast path: six pixels of one output row whose patches all lie inside the image. Column k
        // of row r then reads `origin + r * strideW * channels + offsets[k]`, with no checks.
        if rows == mr && pixel.x &+ (mr &- 1) < outW {
            let originY = pixel.y &* geometry.strideH &- geometry.padding.top
            let firstX = pixel.x &* geometry.strideW &- geometry.padding.left
            let lastX = firstX &+ (mr &- 1) &* geometry.strideW
            if originY >= 0 && originY &+ spanY < inH && firstX >= 0 && lastX &+ spanX < inW {
                let first: Int = (pixel.sample &* inH &+ originY) &* inW &+ firstX
                let origin = input + (first &* channels &+ group &* groupChannels)
                let step = geometry.strideW &* channels
                var d = dst
                for k in k0..<kEnd {
                    let p = origin + offsets[k]
                    d[0] = p[0]; d[1] = p[step]; d[2] = p[2 &* step]
                    d[3] = p[3 &* step]; d[4] = p[4 &* step]; d[5] = p[5 &* step]
                    d += mr
                }
                return
            }
        }
        for r in 0..<mr {
            var d = dst + r
            if r >= rows {
                for _ in 0..<kc { d.pointee = 0; d += mr }
                continue
            }
            let originY = pixel.y &* geometry.strideH &- geometry.padding.top
            let originX = pixel.x &* geometry.strideW &- geometry.padding.left
            let sample = input + (pixel.sample &* inH &* inW &* channels &+ group &* groupChannels)
            if originY >= 0 && originY &+ spanY < inH && originX >= 0 && originX &+ spanX < inW {
                // This pixel's patch lies inside the image: no per-tap checks.
                let origin = sample + (originY &* inW &+ originX) &* channels
                for k in k0..<kEnd { d.pointee = origin[offsets[k]]; d += mr }
                pixel.advance()
                continue
            }
            var k = k0, tap = firstTap, channel = firstChannel
            while k < kEnd {
                let segment = min(groupChannels &- channel, kEnd &- k)
                let ky = tap / kernelW, kx = tap &- ky &* kernelW
                let y = originY &+ ky &* geometry.dilationH, x = originX &+ kx &* geometry.dilationW
                if y >= 0 && y < inH && x >= 0 && x < inW {
                    let src = sample + ((y &* inW &+ x) &* channels &+ channel)
                    for s in 0..<segment { d[s &* mr] = src[s] }
                } else {
                    for s in 0..<segment { d[s &* mr] = 0 }
                }
                d += segment &* mr
                k &+= segment; tap &+= 1; channel = 0
            }
            pixel.advance()
        }
    }
}

/// The gather form of a transposed convolution: output pixel `(outY, outX)` takes input pixel
/// `((outY + padTop - ky * dilationH) / strideH, ...)` through tap `(ky, kx)` when that division is
/// exact and inside the input, else 0. Column `k = (ky * kernelW + kx) * inChannels + i`.
struct TransposedConvSource: GEMMPanelSource {
    let input: UnsafePointer<Float>
    let inH: Int, inW: Int, channels: Int
    let outH: Int, outW: Int
    let geometry: ConvGeometry
    /// The taps' distances and `channels` zeros (what a tap that hits no input pixel reads), for the
    /// indirect form.
    let taps: ConvTapTable

    /// The indirect form: per tap of the block and row, a pointer to the input pixel's channels that
    /// the tap gathers, or to `zeros` where the division is not exact or falls outside the input.
    @inline(__always)
    func indirectPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int,
                       table: UnsafeMutablePointer<UnsafePointer<Float>?>) -> PanelA? {
        // Whole taps only (the kernel's blocking guarantees it; anything else packs).
        guard channels >= GEMMTile.indirectMinChannels, k0 % channels == 0, kc % channels == 0 else { return nil }
        let mr = GEMMTile.mr, sh = geometry.strideH, sw = geometry.strideW
        let tapDY = taps.dy, tapDX = taps.dx, zeros = UnsafePointer(taps.zeros)
        let tap0 = k0 / channels, tapCount = kc / channels
        var pixel = OutputPixel(row: m0, height: outH, width: outW)
        for r in 0..<mr {
            if r >= rows {
                for t in 0..<tapCount { table[t &* mr &+ r] = zeros }
                continue
            }
            let sample = input + pixel.sample &* inH &* inW &* channels
            let baseY = pixel.y &+ geometry.padding.top, baseX = pixel.x &+ geometry.padding.left
            for t in 0..<tapCount {
                let ty = baseY &- tapDY[tap0 &+ t], tx = baseX &- tapDX[tap0 &+ t]
                let y = ty / sh, x = tx / sw
                let hit = ty >= 0 && tx >= 0 && y &* sh == ty && x &* sw == tx && y < inH && x < inW
                table[t &* mr &+ r] = hit ? sample + (y &* inW &+ x) &* channels : zeros
            }
            pixel.advance()
        }
        return .indirect(UnsafePointer(table), cin: channels, zeros: zeros)
    }

    @inline(__always)
    func packPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int, into dst: UnsafeMutablePointer<Float>) {
        let mr = GEMMTile.mr
        let kEnd = k0 &+ kc
        let firstTap = k0 / channels, firstChannel = k0 &- firstTap &* channels
        let kernelW = geometry.kernelW, sh = geometry.strideH, sw = geometry.strideW
        var pixel = OutputPixel(row: m0, height: outH, width: outW)
        for r in 0..<mr {
            var d = dst + r
            if r >= rows {
                for _ in 0..<kc { d.pointee = 0; d += mr }
                continue
            }
            let sample = input + pixel.sample &* inH &* inW &* channels
            let baseY = pixel.y &+ geometry.padding.top, baseX = pixel.x &+ geometry.padding.left
            var k = k0, tap = firstTap, channel = firstChannel
            while k < kEnd {
                let segment = min(channels &- channel, kEnd &- k)
                let ky = tap / kernelW, kx = tap &- ky &* kernelW
                let ty = baseY &- ky &* geometry.dilationH, tx = baseX &- kx &* geometry.dilationW
                let y = ty / sh, x = tx / sw
                if ty >= 0 && tx >= 0 && y &* sh == ty && x &* sw == tx && y < inH && x < inW {
                    let src = sample + ((y &* inW &+ x) &* channels &+ channel)
                    for s in 0..<segment { d[s &* mr] = src[s] }
                } else {
                    for s in 0..<segment { d[s &* mr] = 0 }
                }
                d += segment &* mr
                k &+= segment; tap &+= 1; channel = 0
            }
            pixel.advance()
        }
    }
}
