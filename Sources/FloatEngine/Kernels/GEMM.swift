import CKernels
import QCore

// Single-precision GEMM `C = act(A * B + bias)` in the BLIS shape: B (the weights) is packed once
// into 16-column panels, A is packed per worker into 6-row panels straight from its source (a matrix
// or an NHWC image, see GEMM+Sources.swift), and a 6x16 micro-kernel does the arithmetic. The
// micro-kernels are C (`qc_sgemm_6x16` / `6x8` / `6x4` in Sources/CKernels), compiled per
// instruction-set level and chosen at run time: Swift cannot emit `vfmadd231ps` without a global
// target-CPU flag (its `addingProduct` becomes libm `fmaf` calls, NOTES.md).

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
    /// Bytes of one K block of B (every 16-column panel) up to which a source whose row table costs
    /// six pointers per panel whatever K (`GEMMPanelSource.hasFreeRowTable`: a matrix, e.g. a 1x1
    /// conv's input) is read in place for any N, each A panel against every B panel while B stays in
    /// the 32 KiB L1: packing A for a 1x1 conv with 48 outputs was 15 % of dwsep_relu6. Tests set it
    /// to 0 to run the packed order.
    nonisolated(unsafe) static var inPlaceMaxBBytes = 20 * 1024
    /// Fewest channels per tap for which a convolution reads A through a row table (the indirect
    /// kernel) rather than in place or packed: with fewer, the six row pointers loaded per tap cost more
    /// than the copies they save (keras2_cnn's 1-channel stem ran 17 % slower through the table).
    static let indirectMinChannels = 8
    /// Whether a source with per-row patch origins (`GEMMPanelSource.patchRows`) runs each M and K
    /// block in one `qc_sgemm_patch_rows` call. Tests set it to false to run the 6-row panels.
    nonisolated(unsafe) static var readsPatchRows = true
}

/// How the K dimension is cut into blocks, and the rows of A packed per block.
struct GEMMBlocking {
    let k: Int, kBlocks: Int, kc: Int, mc: Int
    /// Every K block but the last is a multiple of this many columns (a convolution's channels per
    /// tap, so that a block is whole taps and the indirect kernel can read it).
    let granule: Int

    init(k: Int, granule: Int = 1) {
        self.k = k
        self.granule = max(1, granule)
        let blocks = max(1, (k + GEMMTile.maxKC - 1) / GEMMTile.maxKC)
        let even = max(1, (k + blocks - 1) / blocks)
        kc = (even + self.granule - 1) / self.granule * self.granule
        kBlocks = max(1, (k + kc - 1) / kc)
        let panels = max(1, GEMMTile.aBlockBytes / (4 * kc * GEMMTile.mr))
        mc = min(panels, 512) * GEMMTile.mr
    }

    /// Floats of per-worker scratch: one packed A block, one 6x16 edge tile, the indirect
    /// kernel's row table (6 pointers per tap of a K block, two floats' room each), and one patch
    /// origin per row of an M block (`GEMMPanelSource.patchRows`).
    var scratchCount: Int { mc * kc + GEMMTile.mr * GEMMTile.nr + 2 * GEMMTile.mr * indirectTaps + 2 * mc }

    /// Taps in one K block: the rows of the indirect kernel's table.
    var indirectTaps: Int { (kc + granule - 1) / granule }
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

/// Where the micro-kernel reads `A[r][k]` (r < 6) of its panel: a panel packed `[k][6]` by
/// `GEMMPanelSource.packPanel` (`offsets` nil), six rows read where they lie,
/// `A[r][k] = base[r * step + offsets[k]]` (six output pixels of one row whose convolution patches are
/// inside the image; see `GEMMPanelSource.inPlacePanel`), or through a row table,
/// `A[r][t * cin + i] = rows[6t + r][i]` (`GEMMPanelSource.indirectPanel`, the indirect kernel).
struct PanelA {
    let base: UnsafePointer<Float>
    let step: Int
    let offsets: UnsafePointer<Int>?
    /// The indirect form's row table and channels per tap (`rows` nil otherwise).
    var rows: UnsafePointer<UnsafePointer<Float>?>? = nil
    var cin: Int = 0

    static func packed(_ a: UnsafePointer<Float>) -> PanelA { PanelA(base: a, step: 1, offsets: nil) }

    static func indirect(_ rows: UnsafePointer<UnsafePointer<Float>?>, cin: Int, zeros: UnsafePointer<Float>) -> PanelA {
        PanelA(base: zeros, step: 0, offsets: nil, rows: rows, cin: cin)
    }
}

/// A source of the GEMM's A operand that packs itself into micro-panels.
protocol GEMMPanelSource {
    /// Writes rows `m0 ..< m0 + rows` (`rows <= 6`) and columns `k0 ..< k0 + kc` of group `group`'s
    /// A as `dst[k * 6 + r]`; rows `rows ..< 6` are written as zeros.
    func packPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int, into dst: UnsafeMutablePointer<Float>)

    /// Rows `m0 ..< m0 + 6` from column `k0` on, readable in place without packing (nil when they
    /// are not, e.g. a patch touches the padding). Saves the packing pass where each packed value
    /// would feed only one or two 16-column panels of B.
    func inPlacePanel(m0: Int, rows: Int, k0: Int, group: Int) -> PanelA?

    /// Rows `m0 ..< m0 + rows` and columns `k0 ..< k0 + kc` (whole taps) as the indirect kernel's row
    /// table, written to `table` (6 pointers per tap); nil when this source has no such form.
    func indirectPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int,
                       table: UnsafeMutablePointer<UnsafePointer<Float>?>) -> PanelA?

    /// True when `indirectPanel` always succeeds with six pointers per panel (one tap of all `kc`
    /// columns), so reading A in place costs nothing per column.
    static var hasFreeRowTable: Bool { get }

    /// Where A is a plain matrix, `A[m0 + r][k0 + k] = base[r * lda + k]`, for `qc_sgemm_matrix_rows`; nil otherwise.
    func matrixBlock(m0: Int, k0: Int, group: Int) -> (base: UnsafePointer<Float>, lda: Int)?

    /// Where every row's patch lies inside an image and is read from its own origin, for
    /// `qc_sgemm_patch_rows`: writes the origins of rows `m0 ..< m0 + count` to `origins` and returns
    /// `offsets` (from column `k0`) and `cin`, so that `A[m0 + r][k0 + t * cin + i] =
    /// origins[r][offsets[t * cin] + i]` for the whole taps of columns `k0 ..< k0 + kc`; nil otherwise.
    func patchRows(m0: Int, count: Int, k0: Int, kc: Int, group: Int,
                   origins: UnsafeMutablePointer<UnsafePointer<Float>?>) -> (offsets: UnsafePointer<Int>, cin: Int)?
}

extension GEMMPanelSource {
    static var hasFreeRowTable: Bool { false }

    @inline(__always)
    func inPlacePanel(m0: Int, rows: Int, k0: Int, group: Int) -> PanelA? { nil }

    @inline(__always)
    func indirectPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int,
                       table: UnsafeMutablePointer<UnsafePointer<Float>?>) -> PanelA? { nil }

    @inline(__always)
    func matrixBlock(m0: Int, k0: Int, group: Int) -> (base: UnsafePointer<Float>, lda: Int)? { nil }

    @inline(__always)
    func patchRows(m0: Int, count: Int, k0: Int, kc: Int, group: Int,
                   origins: UnsafeMutablePointer<UnsafePointer<Float>?>) -> (offsets: UnsafePointer<Int>, cin: Int)? { nil }
}

/// Computes rows `rows` of `C = epilogue(A * B[group] + bias)` on the calling thread. `c` points at
/// the group's first output column; row `m` starts at `c + m * ldc`. `scratch` holds
/// `blocking.scratchCount` floats. `tail`, when given, then maps each finished row block while it is
/// in cache (the group's columns are its channels `group * weights.n ..< ...`), or the micro-kernel
/// applies it before its store where it can (`ChannelTail.appliesInKernel`).
@inline(__always)
func gemmRows<Source: GEMMPanelSource>(_ source: Source, rows: Range<Int>, weights: PackedWeights, group: Int,
                                       blocking: GEMMBlocking, c: UnsafeMutablePointer<Float>, ldc: Int,
                                       epilogue: GEMMEpilogue, scratch: UnsafeMutablePointer<Float>,
                                       tail: ChannelTail? = nil) {
    let mr = GEMMTile.mr, nr = GEMMTile.nr
    let k = weights.k
    let aBlock = scratch, tile = scratch + blocking.mc &* blocking.kc
    let table = UnsafeMutableRawPointer(tile + mr &* nr).bindMemory(to: UnsafePointer<Float>?.self,
                                                                     capacity: mr &* blocking.indirectTaps)
    let tableFloats: Int = 2 &* mr &* blocking.indirectTaps
    let origins = UnsafeMutableRawPointer(tile + (mr &* nr &+ tableFloats))
        .bindMemory(to: UnsafePointer<Float>?.self, capacity: blocking.mc)
    let kernelTail = tail?.appliesInKernel == true ? tail : nil
    let storedTail = kernelTail == nil ? tail : nil
    let channel0 = group &* weights.n
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
            let blockTail = last ? kernelTail : nil
            if weights.panels <= GEMMTile.inPlaceMaxPanels
                || (Source.hasFreeRowTable && weights.panels &* kc &* nr &* 4 <= GEMMTile.inPlaceMaxBBytes) {
                // Few B panels, or a matrix whose B block fits L1: each A panel is read from the image
                // where possible (in place when its six pixels lie in one row inside the image, else
                // through a row table), packed otherwise, and used at once against every B panel,
                // which stay in L1. A plain matrix runs the whole block in one C call.
                if let matrix = source.matrixBlock(m0: mStart, k0: k0, group: group) {
                    let b = weights.panel(group: group, index: 0) + k0 &* nr
                    let bias = first ? weights.bias(group: group, index: 0) : nil
                    let clamps: Int32 = blockEpilogue.clamps ? 1 : 0
                    ChannelTail.withKernelTail(blockTail, channel0: channel0) { kernelTail in
                        qc_sgemm_matrix_rows(mEnd &- mStart, kc, matrix.base, matrix.lda, b, k &* nr, weights.panels,
                                             weights.n, c + mStart &* ldc, ldc, bias, clamps, blockEpilogue.lo,
                                             blockEpilogue.hi, kernelTail)
                    }
                    if last, let tail = storedTail {
                        tail.apply(c + mStart &* ldc, rows: mEnd &- mStart, ldc: ldc, channel0: channel0, count: weights.n)
                    }
                    continue
                }
                // Patches inside an image: the whole block in one C call (12 rows per micro-kernel
                // call at avx512, across output rows and samples).
                if GEMMTile.readsPatchRows,
                   let patches = source.patchRows(m0: mStart, count: mEnd &- mStart, k0: k0, kc: kc, group: group,
                                                  origins: origins) {
                    let b = weights.panel(group: group, index: 0) + k0 &* nr
                    let bias = first ? weights.bias(group: group, index: 0) : nil
                    let clamps: Int32 = blockEpilogue.clamps ? 1 : 0
                    ChannelTail.withKernelTail(blockTail, channel0: channel0) { kernelTail in
                        qc_sgemm_patch_rows(mEnd &- mStart, kc, patches.cin, origins, patches.offsets, b, k &* nr,
                                            weights.panels, weights.n, c + mStart &* ldc, ldc, bias, clamps,
                                            blockEpilogue.lo, blockEpilogue.hi, kernelTail)
                    }
                    if last, let tail = storedTail {
                        tail.apply(c + mStart &* ldc, rows: mEnd &- mStart, ldc: ldc, channel0: channel0, count: weights.n)
                    }
                    continue
                }
                for p in 0..<mPanels {
                    let m0 = mStart &+ p &* mr
                    let mValid = min(mr, mEnd &- m0)
                    let direct = source.inPlacePanel(m0: m0, rows: mValid, k0: k0, group: group)
                        ?? source.indirectPanel(m0: m0, rows: mValid, k0: k0, kc: kc, group: group, table: table)
                    if let direct {
                        for j in 0..<weights.panels {
                            gemmTile(direct, kc: kc, weights: weights, group: group, panel: j, k0: k0, first: first,
                                     c: c + (m0 &* ldc &+ j &* nr), ldc: ldc, mValid: mValid, epilogue: blockEpilogue, tile: tile,
                                     tail: blockTail, channel0: channel0)
                        }
                    } else {
                        source.packPanel(m0: m0, rows: mValid, k0: k0, kc: kc, group: group, into: aBlock)
                        for j in 0..<weights.panels {
                            gemmTile(PanelA.packed(aBlock), kc: kc, weights: weights, group: group, panel: j, k0: k0,
                                     first: first, c: c + (m0 &* ldc &+ j &* nr), ldc: ldc, mValid: mValid,
                                     epilogue: blockEpilogue, tile: tile, tail: blockTail, channel0: channel0)
                        }
                    }
                }
                if last, let tail = storedTail {
                    tail.apply(c + mStart &* ldc, rows: mEnd &- mStart, ldc: ldc, channel0: group &* weights.n, count: weights.n)
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
                    gemmTile(PanelA.packed(aBlock + p &* kc &* mr), kc: kc, weights: weights, group: group, panel: j,
                             k0: k0, first: first, c: c + (m0 &* ldc &+ j &* nr), ldc: ldc,
                             mValid: min(mr, mEnd &- m0), epilogue: blockEpilogue, tile: tile, tail: blockTail,
                             channel0: channel0)
                }
            }
            if last, let tail = storedTail {
                tail.apply(c + mStart &* ldc, rows: mEnd &- mStart, ldc: ldc, channel0: group &* weights.n, count: weights.n)
            }
        }
        mStart = mEnd
    }
}

/// One 6x16 tile of C for K block `k0 ..< k0 + kc` against B panel `panel`. The micro-kernel is the
/// narrowest of 6x16, 6x8 and 6x4 that covers the panel's valid columns (`nValid`: layers or groups
/// with few output channels would otherwise spend most multiply-adds on the panel's zero columns); it runs in place
/// when it covers exactly the valid part of C (`mValid == 6`, `nValid` equal to its width), else, at
/// the edges of C, on the 6x16 `tile` copy with only the valid part written back. `tail` (only with the
/// last K block), when its `appliesInKernel`, is applied to the panel's channels `channel0 + 16 j ...`
/// before the store.
@inline(__always)
func gemmTile(_ a: PanelA, kc: Int, weights: PackedWeights, group: Int, panel j: Int, k0: Int, first: Bool,
                              c cTile: UnsafeMutablePointer<Float>, ldc: Int, mValid: Int, epilogue: GEMMEpilogue,
                              tile: UnsafeMutablePointer<Float>, tail: ChannelTail? = nil, channel0: Int = 0) {
    ChannelTail.withKernelTail(tail, channel0: channel0 &+ j &* GEMMTile.nr) { kernelTail in
        gemmTile(a, kc: kc, weights: weights, group: group, panel: j, k0: k0, first: first, c: cTile, ldc: ldc,
                 mValid: mValid, epilogue: epilogue, tile: tile, kernelTail: kernelTail)
    }
}

@inline(__always)
private func gemmTile(_ a: PanelA, kc: Int, weights: PackedWeights, group: Int, panel j: Int, k0: Int, first: Bool,
                      c cTile: UnsafeMutablePointer<Float>, ldc: Int, mValid: Int, epilogue: GEMMEpilogue,
                      tile: UnsafeMutablePointer<Float>, kernelTail: UnsafePointer<qc_f32_tail>?) {
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
    let clamps: Int32 = epilogue.clamps ? 1 : 0
    if let rows = a.rows {
        qc_sgemm_6xw_indirect(Int32(width), kc / a.cin, a.cin, rows, bPanel, target, ldt, bias, clamps, epilogue.lo,
                              epilogue.hi, kernelTail)
    } else {
        let lo = epilogue.lo, hi = epilogue.hi
        switch width {
        case nr: qc_sgemm_6x16(kc, a.base, a.step, a.offsets, bPanel, target, ldt, bias, clamps, lo, hi, kernelTail)
        case 8: qc_sgemm_6x8(kc, a.base, a.step, a.offsets, bPanel, target, ldt, bias, clamps, lo, hi, kernelTail)
        default: qc_sgemm_6x4(kc, a.base, a.step, a.offsets, bPanel, target, ldt, bias, clamps, lo, hi, kernelTail)
        }
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
    let chunks = multiplyAdds < GEMMTile.minParallelWork ? 1 : max(1, min(Parallel.workers, tiles))
    Parallel.forEach(chunks) { chunk in
        let rows = Parallel.alignedRange(chunk, chunks: chunks, count: m, alignment: GEMMTile.mr)
        guard !rows.isEmpty else { return }
        let scratch = alignedFloats(scratchCount)
        defer { scratch.deallocate() }
        body(rows, scratch)
    }
}
