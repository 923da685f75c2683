import QCore

// Single-precision GEMM `C = act(A * B + bias)` in the BLIS shape: B (the weights) is packed once
// into 16-column panels, A is packed per worker into 6-row panels straight from its source (a matrix
// or an NHWC image, see GEMM+Sources.swift), and a 6x16 micro-kernel of twelve `SIMD8<Float>`
// accumulators does the arithmetic. Built with `-target-cpu haswell`, `addingProduct` is one
// `vfmadd231ps` (without it, eight libm `fmaf` calls: NOTES.md).

/// Tile and cache-block sizes of the GEMM.
enum GEMMTile {
    /// Rows of the micro-tile: 12 accumulators + 2 B vectors + 1 broadcast use 15 of 16 YMM registers.
    static let mr = 6
    /// Columns of the micro-tile: two `SIMD8<Float>`.
    static let nr = 16
    /// Largest K block: a 256 x 16 B micro-panel (16 KiB) and a 256 x 6 A micro-panel stay in the 32 KiB L1.
    static let maxKC = 256
    /// Bytes of packed A per worker block, sized to stay in the 512 KiB L2 beside B.
    static let aBlockBytes = 128 * 1024
    /// Multiply-adds below which a kernel runs on one thread: a parallel call costs ~20 us (~2 MFLOP).
    /// Tests lower it to 0 so that small shapes exercise the split.
    nonisolated(unsafe) static var minParallelWork = 1 << 20
    /// Up to this many 16-column B panels, A panels are used as soon as they are read (in place from
    /// the image where possible) instead of packing a whole A block first: with N <= 32 each packed
    /// value would feed at most two micro-kernel calls, so packing cost as much as the arithmetic.
    static let inPlaceMaxPanels = 2
}

/// How the K dimension is cut into blocks, and the rows of A packed per block.
struct GEMMBlocking {
    let k: Int, kBlocks: Int, kc: Int, mc: Int

    init(k: Int) {
        self.k = k
        kBlocks = max(1, (k + GEMMTile.maxKC - 1) / GEMMTile.maxKC)
        kc = max(1, (k + kBlocks - 1) / kBlocks)
        let panels = max(1, GEMMTile.aBlockBytes / (4 * kc * GEMMTile.mr))
        mc = min(panels, 512) * GEMMTile.mr
    }

    /// Floats of per-worker scratch: one packed A block plus one 6x16 edge tile.
    var scratchCount: Int { mc * kc + GEMMTile.mr * GEMMTile.nr }
}

/// The activation folded into the micro-kernel's store: a clamp to `[lo, hi]`.
struct GEMMEpilogue {
    var clamps: Bool, lo: Float, hi: Float

    static let none = GEMMEpilogue(clamps: false, lo: -.infinity, hi: .infinity)

    /// The clamp that implements `activation`, and the activation left to apply afterwards (nil when fused).
    static func split(_ activation: Activation) -> (GEMMEpilogue, Activation?) {
        switch activation {
        case .linear: return (.none, nil)
        case .relu: return (GEMMEpilogue(clamps: true, lo: 0, hi: .infinity), nil)
        case .relu6: return (GEMMEpilogue(clamps: true, lo: 0, hi: 6), nil)
        default: return (.none, activation)
        }
    }
}

/// Weights `B[group]` (K x N each) packed as `[group][panel][K][16]`, columns past N zero, and the
/// bias as `[group][panels * 16]`. Packed once when a kernel is built; 64-byte aligned.
final class PackedWeights: @unchecked Sendable {
    let k: Int, n: Int, groups: Int, panels: Int
    let data: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>

    /// `value(group, k, n)` gives `B[group][k][n]`; `bias` holds `groups * n` values.
    init(k: Int, n: Int, groups: Int, bias: [Float], value: (Int, Int, Int) -> Float) {
        precondition(bias.count == groups * n, "PackedWeights: bias has \(bias.count) values, expected \(groups * n)")
        self.k = k; self.n = n; self.groups = groups
        panels = (n + GEMMTile.nr - 1) / GEMMTile.nr
        let nr = GEMMTile.nr
        let dataCount = max(1, groups * panels * k * nr), biasCount = max(1, groups * panels * nr)
        data = alignedFloats(dataCount)
        self.bias = alignedFloats(biasCount)
        data.initialize(repeating: 0, count: dataCount)
        self.bias.initialize(repeating: 0, count: biasCount)
        for g in 0..<groups {
            for j in 0..<n {
                let panel = j / nr, lane = j % nr
                let base = (g * panels + panel) * k * nr + lane
                for kk in 0..<k { data[base + kk * nr] = value(g, kk, j) }
                self.bias[g * panels * nr + j] = bias[g * n + j]
            }
        }
    }

    deinit {
        data.deallocate()
        bias.deallocate()
    }

    @inline(__always) func panel(group: Int, index: Int) -> UnsafePointer<Float> {
        UnsafePointer(data + (group &* panels &+ index) &* k &* GEMMTile.nr)
    }

    @inline(__always) func bias(group: Int, index: Int) -> UnsafePointer<Float> {
        UnsafePointer(bias + (group &* panels &+ index) &* GEMMTile.nr)
    }
}

/// 64-byte aligned, uninitialised floats; free with `deallocate()`.
func alignedFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(count, 1))
}

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

extension SIMD8 where Scalar == Float {
    /// Lanes limited to `[lo, hi]`. The standard library's `clamped(lowerBound:upperBound:)` is not
    /// inlined here (a call per vector that also forces the accumulators through memory).
    @inline(__always) func clamped(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>) -> SIMD8<Float> {
        var v = self
        v.replace(with: lo, where: v .< lo)
        v.replace(with: hi, where: v .> hi)
        return v
    }
}

/// Where the micro-kernel reads `A[r][k]` (r < 6) of its panel: a packed panel or the image itself.
protocol MicroPanelA {
    /// The six values of column `k`, rows 0...5.
    func column(_ k: Int) -> (Float, Float, Float, Float, Float, Float)
}

/// A panel packed `[k][6]` by `GEMMPanelSource.packPanel`.
struct PackedPanelA: MicroPanelA {
    let a: UnsafePointer<Float>
    @inline(__always) func column(_ k: Int) -> (Float, Float, Float, Float, Float, Float) {
        let p = a + k &* GEMMTile.mr
        return (p[0], p[1], p[2], p[3], p[4], p[5])
    }
}

/// Six rows read where they lie: `A[r][k] = base[r * step + offsets[k]]` (six output pixels of one
/// row whose convolution patches are inside the image; see `GEMMPanelSource.inPlacePanel`).
struct InPlacePanelA: MicroPanelA {
    let base: UnsafePointer<Float>
    let step: Int
    let offsets: UnsafePointer<Int>
    @inline(__always) func column(_ k: Int) -> (Float, Float, Float, Float, Float, Float) {
        let p = base + offsets[k]
        return (p[0], p[step], p[2 &* step], p[3 &* step], p[4 &* step], p[5 &* step])
    }
}

/// `C[6x16] = clamp((bias ?? C) + A[6 x kc] * B[kc x 16])` with `A` read through `a`, `B` packed
/// `[k][16]` and `C` rows `ldc` floats apart. Starting from `bias` on the first K block and from `C`
/// on the later ones accumulates over blocks; the clamp is applied on the last.
@inline(__always)
func microKernel6x16<A: MicroPanelA>(kc: Int, a: A, b: UnsafePointer<Float>,
                                     c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                                     epilogue: GEMMEpilogue) {
    let c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc
    var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51: SIMD8<Float>
    if let bias {
        let b0 = load8(bias), b1 = load8(bias + 8)
        c00 = b0; c01 = b1; c10 = b0; c11 = b1; c20 = b0; c21 = b1
        c30 = b0; c31 = b1; c40 = b0; c41 = b1; c50 = b0; c51 = b1
    } else {
        c00 = load8(c); c01 = load8(c + 8); c10 = load8(c1); c11 = load8(c1 + 8)
        c20 = load8(c2); c21 = load8(c2 + 8); c30 = load8(c3); c31 = load8(c3 + 8)
        c40 = load8(c4); c41 = load8(c4 + 8); c50 = load8(c5); c51 = load8(c5 + 8)
    }
    var bp = b
    for k in 0..<kc {
        let b0 = load8(bp), b1 = load8(bp + 8)
        let column = a.column(k)
        var av = SIMD8<Float>(repeating: column.0)
        c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: column.1)
        c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: column.2)
        c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: column.3)
        c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: column.4)
        c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: column.5)
        c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1)
        bp += GEMMTile.nr
    }
    if epilogue.clamps {
        let lo = SIMD8<Float>(repeating: epilogue.lo), hi = SIMD8<Float>(repeating: epilogue.hi)
        c00 = c00.clamped(lo, hi); c01 = c01.clamped(lo, hi)
        c10 = c10.clamped(lo, hi); c11 = c11.clamped(lo, hi)
        c20 = c20.clamped(lo, hi); c21 = c21.clamped(lo, hi)
        c30 = c30.clamped(lo, hi); c31 = c31.clamped(lo, hi)
        c40 = c40.clamped(lo, hi); c41 = c41.clamped(lo, hi)
        c50 = c50.clamped(lo, hi); c51 = c51.clamped(lo, hi)
    }
    store8(c00, c); store8(c01, c + 8); store8(c10, c1); store8(c11, c1 + 8)
    store8(c20, c2); store8(c21, c2 + 8); store8(c30, c3); store8(c31, c3 + 8)
    store8(c40, c4); store8(c41, c4 + 8); store8(c50, c5); store8(c51, c5 + 8)
}

/// A source of the GEMM's A operand that packs itself into micro-panels.
protocol GEMMPanelSource {
    /// Writes rows `m0 ..< m0 + rows` (`rows <= 6`) and columns `k0 ..< k0 + kc` of group `group`'s
    /// A as `dst[k * 6 + r]`; rows `rows ..< 6` are written as zeros.
    func packPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int, into dst: UnsafeMutablePointer<Float>)

    /// Rows `m0 ..< m0 + 6` from column `k0` on, readable in place without packing (nil when they
    /// are not, e.g. a patch touches the padding). Saves the packing pass where each packed value
    /// would feed only one or two 16-column panels of B.
    func inPlacePanel(m0: Int, rows: Int, k0: Int, group: Int) -> InPlacePanelA?
}

extension GEMMPanelSource {
    @inline(__always)
    func inPlacePanel(m0: Int, rows: Int, k0: Int, group: Int) -> InPlacePanelA? { nil }
}

/// Computes rows `rows` of `C = epilogue(A * B[group] + bias)` on the calling thread. `c` points at
/// the group's first output column; row `m` starts at `c + m * ldc`. `scratch` holds
/// `blocking.scratchCount` floats.
@inline(__always)
func gemmRows<Source: GEMMPanelSource>(_ source: Source, rows: Range<Int>, weights: PackedWeights, group: Int,
                                       blocking: GEMMBlocking, c: UnsafeMutablePointer<Float>, ldc: Int,
                                       epilogue: GEMMEpilogue, scratch: UnsafeMutablePointer<Float>) {
    let mr = GEMMTile.mr, nr = GEMMTile.nr
    let k = weights.k
    let aBlock = scratch, tile = scratch + blocking.mc &* blocking.kc
    var mStart = rows.lowerBound
    while mStart < rows.upperBound {
        let mEnd = min(mStart &+ blocking.mc, rows.upperBound)
        let mPanels = (mEnd &- mStart &+ mr &- 1) / mr
        for kb in 0..<blocking.kBlocks {
            let k0 = kb &* blocking.kc
            let kc = min(blocking.kc, k &- k0)
            if kc <= 0 { break }
            let first = kb == 0, last = k0 &+ kc >= k
            let blockEpilogue = last ? epilogue : .none
            if weights.panels <= GEMMTile.inPlaceMaxPanels {
                // Few B panels: each A panel is read from the image where possible (packed
                // otherwise) and used at once against every B panel, which stay in L1.
                for p in 0..<mPanels {
                    let m0 = mStart &+ p &* mr
                    let mValid = min(mr, mEnd &- m0)
                    if let inPlace = source.inPlacePanel(m0: m0, rows: mValid, k0: k0, group: group) {
                        for j in 0..<weights.panels {
                            gemmTile(inPlace, kc: kc, weights: weights, group: group, panel: j, k0: k0, first: first,
                                     c: c + (m0 &* ldc &+ j &* nr), ldc: ldc, mValid: mValid, epilogue: blockEpilogue, tile: tile)
                        }
                    } else {
                        source.packPanel(m0: m0, rows: mValid, k0: k0, kc: kc, group: group, into: aBlock)
                        for j in 0..<weights.panels {
                            gemmTile(PackedPanelA(a: aBlock), kc: kc, weights: weights, group: group, panel: j, k0: k0,
                                     first: first, c: c + (m0 &* ldc &+ j &* nr), ldc: ldc, mValid: mValid,
                                     epilogue: blockEpilogue, tile: tile)
                        }
                    }
                }
                continue
            }
            for p in 0..<mPanels {
                let m0 = mStart &+ p &* mr
                source.packPanel(m0: m0, rows: min(mr, mEnd &- m0), k0: k0, kc: kc, group: group,
                                 into: aBlock + p &* kc &* mr)
            }
            for j in 0..<weights.panels {
                for p in 0..<mPanels {
                    let m0 = mStart &+ p &* mr
                    gemmTile(PackedPanelA(a: aBlock + p &* kc &* mr), kc: kc, weights: weights, group: group, panel: j,
                             k0: k0, first: first, c: c + (m0 &* ldc &+ j &* nr), ldc: ldc,
                             mValid: min(mr, mEnd &- m0), epilogue: blockEpilogue, tile: tile)
                }
            }
        }
        mStart = mEnd
    }
}

/// One 6x16 tile of C for K block `k0 ..< k0 + kc` against B panel `panel`. The micro-kernel is the
/// narrowest of 6x16, 6x8 and 6x4 that covers the panel's valid columns (`nValid`); it runs in place
/// when it covers exactly the valid part of C (`mValid == 6`, `nValid` equal to its width), else, at
/// the edges of C, on the 6x16 `tile` copy with only the valid part written back.
@inline(__always)
func gemmTile<A: MicroPanelA>(_ a: A, kc: Int, weights: PackedWeights, group: Int, panel j: Int, k0: Int, first: Bool,
                              c cTile: UnsafeMutablePointer<Float>, ldc: Int, mValid: Int, epilogue: GEMMEpilogue,
                              tile: UnsafeMutablePointer<Float>) {
    let mr = GEMMTile.mr, nr = GEMMTile.nr
    let bPanel = weights.panel(group: group, index: j) + k0 &* nr
    let bias: UnsafePointer<Float>? = first ? weights.bias(group: group, index: j) : nil
    let nValid = min(nr, weights.n &- j &* nr)
    let width = nValid > 8 ? nr : (nValid > 4 ? 8 : 4)
    let inPlace = mValid == mr && nValid == width
    let target = inPlace ? cTile : tile, ldt = inPlace ? ldc : nr
    if !inPlace && !first {
        for r in 0..<mValid {
            for q in 0..<nValid { tile[r &* nr &+ q] = cTile[r &* ldc &+ q] }
        }
    }
    switch width {
    case nr: microKernel6x16(kc: kc, a: a, b: bPanel, c: target, ldc: ldt, bias: bias, epilogue: epilogue)
    case 8: microKernel6x8(kc: kc, a: a, b: bPanel, c: target, ldc: ldt, bias: bias, epilogue: epilogue)
    default: microKernel6x4(kc: kc, a: a, b: bPanel, c: target, ldc: ldt, bias: bias, epilogue: epilogue)
    }
    if !inPlace {
        for r in 0..<mValid {
            for q in 0..<nValid { cTile[r &* ldc &+ q] = tile[r &* nr &+ q] }
        }
    }
}

/// Runs `work(rows, scratch)` over `m` rows split into one chunk of whole micro-tiles per worker
/// (one chunk when the GEMM is too small to pay for a parallel call). `scratch` holds
/// `scratchCount` floats private to the chunk.
func forEachRowChunk(m: Int, work multiplyAdds: Int, scratchCount: Int,
                     _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
    let tiles = (m + GEMMTile.mr - 1) / GEMMTile.mr
    let chunks = multiplyAdds < GEMMTile.minParallelWork ? 1 : max(1, min(Parallel.threadCount, tiles))
    Parallel.forEach(chunks) { chunk in
        let rows = Parallel.alignedRange(chunk, chunks: chunks, count: m, alignment: GEMMTile.mr)
        guard !rows.isEmpty else { return }
        let scratch = alignedFloats(scratchCount)
        defer { scratch.deallocate() }
        body(rows, scratch)
    }
}
