// Hot kernels of the float engine and the integer simulator, compiled once per instruction-set level
// and chosen at run time (docs/isa-dispatch.md).
//
// Every level's kernels live in their own .c file under a per-function target attribute
// (`#pragma clang attribute push(__attribute__((target("avx2,fma"))), ...)`), so the package needs no
// global `-march` / `-target-cpu` flag: one binary runs on any x86-64 (and the portable level builds
// on arm64). `isa.c` detects the CPU once (cpuid, and xgetbv for the OS-enabled register state) and
// points the `qc_*` entry points below at the best level, or at the level `QCONVERT_ISA` names.
//
// Levels and what they are tested against (Tests/*/ISALevelTests.swift, every level the CPU runs):
//   scalar  portable C (the compiler may use the baseline SSE2 / NEON); the reference of the others.
//   avx2    AVX2 + FMA: vpmaddwd / vpmaddubsw int8 GEMM, 6x16 vfmadd231ps float GEMM.
//   avx512  AVX-512 F/BW/VL: the AVX2 level's kernels at 16 lanes, opmask registers for channel tails.
//   avx512vnni  AVX-512 VNNI: `vpdpbusd` / `vpdpwssd` int8 GEMM, the avx512 level's other kernels.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    QC_ISA_SCALAR = 0,
    QC_ISA_AVX2 = 1,
    QC_ISA_AVX512 = 2,
    QC_ISA_AVX512VNNI = 3,
    QC_ISA_COUNT = 4
} qc_isa;

/// The nodes folded after a float GEMM (a BatchNormalization or Rescaling, then relu or relu6), applied
/// by the micro-kernel to its accumulators after the clamp, before the one store: per column n,
/// `y = x * scale[n]` then `y = y + shift[n]` (two roundings, never one FMA: the separate layers'
/// expression), then relu `0 >= y ? 0 : y` or relu6 `6 < r ? 6 : r` of that (Swift's `max(y, 0)` and
/// `min(_, 6)`: a NaN stays NaN, -0 becomes +0). `scale` and `shift` hold the tile's width of columns.
typedef struct qc_f32_tail {
    const float *scale;  // NULL: no affine step
    const float *shift;
    int activation;      // QC_TAIL_NONE, QC_TAIL_RELU or QC_TAIL_RELU6
} qc_f32_tail;

enum { QC_TAIL_NONE = 0, QC_TAIL_RELU = 1, QC_TAIL_RELU6 = 2 };

/// The kernels of one level. Contracts are those of the `qc_*` entry points of the same names below.
typedef struct qc_kernels {
    qc_isa level;
    void (*gemm_s16_4x16)(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c, ptrdiff_t ldc,
                          int accumulate);
    void (*gemm_s16_4x8)(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c, ptrdiff_t ldc,
                         int accumulate);
    void (*gemm_u8s8_4x16)(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c, ptrdiff_t ldc,
                           int accumulate);
    void (*gemm_u8s8_4x16_i16)(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c,
                               ptrdiff_t ldc, int accumulate, ptrdiff_t chunk);
    void (*requant_rows)(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t channels, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out,
                         ptrdiff_t out_stride, int profile);
    void (*requant_flat)(const int32_t *x, ptrdiff_t n, int32_t m, int32_t shift, int32_t zout, int32_t lo, int32_t hi,
                         int32_t *out, int profile);
    void (*rescale_accumulate)(const int32_t *x, ptrdiff_t n, int32_t z, int32_t left, int32_t m, int32_t shift,
                               int32_t sign, int32_t *acc, int accumulate, int profile);
    void (*sgemm_6x16)(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b,
                       float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                       const qc_f32_tail *tail);
    void (*sgemm_6x8)(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b,
                      float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                      const qc_f32_tail *tail);
    void (*sgemm_6x4)(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b,
                      float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                      const qc_f32_tail *tail);
    void (*depthwise_row_f32)(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                              const float *weights, const float *bias, ptrdiff_t kernel_h, ptrdiff_t kernel_w,
                              ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w,
                              ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, float *out,
                              int clamps, float lo, float hi);
    float (*fma_probe)(ptrdiff_t iterations, float seed, int64_t *flops);
    int64_t (*int8_probe)(ptrdiff_t iterations, int64_t seed, int64_t *ops);
    void (*depthwise_row_i32)(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                              const int32_t *weights, int32_t zin, ptrdiff_t kernel_h, ptrdiff_t kernel_w,
                              ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w,
                              ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc);
    void (*sgemm_6xw_indirect)(int width, ptrdiff_t taps, ptrdiff_t cin, const float *const *rows, const float *b,
                               float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                               const qc_f32_tail *tail);
    void (*gemm_u8s8_4x16_indirect)(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                    int32_t *c, ptrdiff_t ldc, int accumulate);
    void (*gemm_u8s8_4x32_indirect)(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                    ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate);
    void (*maxpool_row_i32)(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                            ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
                            ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t empty, int32_t *out);
    void (*lookup_i32)(const int32_t *x, ptrdiff_t n, ptrdiff_t channels, const int32_t *table, ptrdiff_t levels,
                       int32_t offset, int32_t *out);
    void (*avgpool_row_i32)(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                            ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
                            ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, const uint64_t *magic,
                            const uint64_t *shift, int32_t empty, int32_t lo, int32_t hi, int32_t *out);
    void (*offset_u8)(const int32_t *x, ptrdiff_t n, int32_t offset, uint8_t *out);
    void (*pool_row_f32)(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                         ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
                         ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int average, float *out);
    void (*activation_f32)(int kind, float *x, ptrdiff_t n);
    void (*gemm_u8s8_4x8_indirect)(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                   int32_t *c, ptrdiff_t ldc, int accumulate);
    void (*gemm_u8s8_4x24_indirect)(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                    ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate);
    void (*dw3x3_pairs_build)(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin,
                              ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t height, ptrdiff_t width, int32_t *pairs);
    void (*dw3x3_pairs_row)(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
                            ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc);
    void (*quantize_edge_f32)(const float *x, ptrdiff_t n, float scale, int32_t zero, float below, float above,
                              int32_t *q);
    void (*gemm_u8s8_indirect_tiles)(int width, ptrdiff_t tiles, ptrdiff_t tile_entries, ptrdiff_t taps,
                                     ptrdiff_t tap_quads, const uint8_t *const *rows, ptrdiff_t row_offset,
                                     const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate);
    void (*add2_requant)(const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0, int32_t z1, int32_t left,
                         int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0, int32_t sign1, int32_t m,
                         int32_t shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out, int profile);
    void (*add_f32)(const float *a, const float *b, float *out, ptrdiff_t n, int activation);
    /// NULL where the level's `int8_probe` already is its exact 8-bit-weight instruction.
    int64_t (*int8_probe_s16)(ptrdiff_t iterations, int64_t seed, int64_t *ops);
} qc_kernels;

// ---- Levels -----------------------------------------------------------------------------------------

/// Lower-case name of a level ("scalar", "avx2", "avx512", "avx512vnni"); "?" outside the enum.
const char *qc_isa_name(int level);
/// The level named `name` (as `qc_isa_name` spells it), or -1.
int qc_isa_parse(const char *name);
/// 1 when this CPU and OS run `level`'s instructions (cpuid + xgetbv), whether or not it is built.
int qc_isa_cpu_supports(int level);
/// 1 when this build has kernels for `level` (compiled for this architecture).
int qc_isa_built(int level);
/// The best level that is both built and supported here.
int qc_isa_best(void);
/// The level the `qc_*` entry points use now.
int qc_isa_active(void);
/// Makes `level` the active one. 0 on success; -1 when the CPU lacks it, -2 when it is not built,
/// -3 when it is not a level. The state is unchanged on failure.
int qc_isa_select(int level);
/// What `QCONVERT_ISA` asked for at start-up: 0 unset or honoured, -1 the CPU lacks it, -2 not built,
/// -3 not a level name (then the active level is `scalar`, always correct). `qc_isa_env_value` is
/// the variable's text (empty when unset).
int qc_isa_env_status(void);
const char *qc_isa_env_value(void);
/// The kernels of `level`, or NULL when it is not built or the CPU lacks it.
const qc_kernels *qc_kernels_for(int level);
/// The CPU's brand string (cpuid 0x80000002...4, blanks trimmed) with its family and model, e.g.
/// "AMD EPYC (family 25 model 1)"; "unknown" on other architectures.
const char *qc_cpu_model(void);
/// Comma-separated CPU features relevant here, e.g. "sse2,avx2,fma" (what cpuid + xgetbv report).
const char *qc_cpu_features(void);

// ---- Integer GEMM (the simulator) -------------------------------------------------------------------
// A 4 x 16 tile of int32 accumulators over K. Packed layouts (prepared once by the Swift packer,
// Sources/Simulator/Kernels/PackedGEMMWeights.swift):
//   s16: A rows of int16 (x - zin), K padded to a multiple of 2; a B panel holds 16 output channels,
//        per K pair 32 int16: channels 0-7 as (w[2p], w[2p+1]) pairs, then channels 8-15.
//   u8:  A rows of uint8 (x - typeMin), K padded to a multiple of 4; per K quad 64 int8: channels 0-7
//        as 4 consecutive weights each, then channels 8-15.
// Every level computes the same integers (int32 sums wrap); the exactness argument of each level's
// instructions is next to its code (int8_avx2.c).

/// c[r * ldc + n] (+)= sum over pairs p < kpairs of a[r * lda + 2p + j] * w[n][2p + j], r < 4, n < 16.
/// `a` int16 rows (lda elements apart), `b` the panel at pair 0, `accumulate` 0 = overwrite.
void qc_gemm_s16_4x16(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c, ptrdiff_t ldc,
                      int accumulate);
/// `qc_gemm_s16_4x16` for a panel whose channels 8...15 are all zero: only channels 0...7 are computed
/// and written (c[r * ldc + 8 ...] is not touched).
void qc_gemm_s16_4x8(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c, ptrdiff_t ldc,
                     int accumulate);
/// c[r * ldc + n] (+)= sum over quads q < kquads of a[r * lda + 4q + j] * w[n][4q + j]; `a` uint8 rows,
/// `b` int8 panel. Exact only for |w| <= 64 (the AVX2 level's vpmaddubsw pair sums; int8_avx2.c).
void qc_gemm_u8s8_4x16(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c, ptrdiff_t ldc,
                       int accumulate);
/// `qc_gemm_u8s8_4x16` with int16 partial sums over runs of `chunk` quads: exact (equal to it) while
/// chunk * 2 * 255 * max|w| <= 32767.
void qc_gemm_u8s8_4x16_i16(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c, ptrdiff_t ldc,
                           int accumulate, ptrdiff_t chunk);

/// The indirect form of `qc_gemm_u8s8_4x16` for convolutions (XNNPACK's IGEMM): no im2col copy, A is
/// read through a table of row pointers, `rows[4 t + r]` pointing at the `4 * tap_quads` bytes (one
/// tap's input channels, `x - typeMin`) that output pixel r reads through tap t, or at as many bytes of
/// the padding value for a tap in the padding. With k = 4 (t * tap_quads + q) + j:
///   c[r * ldc + n] (+)= sum over t < taps, q < tap_quads, j < 4 of rows[4t + r][4q + j] * w[n][k],
/// `b` the u8 panel at the first tap's first quad. Equal to `qc_gemm_u8s8_4x16` on the im2col rows
/// (int32 sums wrap, so the order does not matter); the same exactness as that kernel per level.
void qc_gemm_u8s8_4x16_indirect(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                int32_t *c, ptrdiff_t ldc, int accumulate);
/// Two adjacent panels of `qc_gemm_u8s8_4x16_indirect` in one call: channels 0-15 from the panel at `b`,
/// 16-31 from the panel `panel_stride` bytes further, into c[r * ldc + 0 ... 31].
void qc_gemm_u8s8_4x32_indirect(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate);
/// `tiles` consecutive tiles of the indirect kernel of `width` channels (8: `_4x8`, 16: `_4x16`, 24:
/// `_4x24`, 32: `_4x32`): tile t reads its row pointers from `rows + t * tile_entries` and writes
/// `c + 4 t ldc`. Every entry is read `row_offset` bytes on (XNNPACK's `a_offset`): a table built once
/// with entries relative to one image serves every image, `row_offset` its address (0 for a table of
/// addresses). One call per block instead of one per tile; the level's own loop where it has one
/// (avx512vnni, the kernels inlined), else a loop over the level's kernels (with a nonzero
/// `row_offset`, on a copy of each tile's entries with the offset added).
void qc_gemm_u8s8_indirect_tiles(int width, ptrdiff_t tiles, ptrdiff_t tile_entries, ptrdiff_t taps, ptrdiff_t tap_quads,
                                 const uint8_t *const *rows, ptrdiff_t row_offset, const int8_t *b,
                                 ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate);
/// `qc_gemm_u8s8_4x16_indirect` for a panel whose channels 8-15 are zero padding: c[r * ldc + 0 ... 7]
/// as that kernel writes them; c[r * ldc + 8 ... 15] may be written or not. Levels without a narrower
/// kernel run the 16-channel one.
void qc_gemm_u8s8_4x8_indirect(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                               int32_t *c, ptrdiff_t ldc, int accumulate);
/// `qc_gemm_u8s8_4x32_indirect` for a pair whose second panel's channels 8-15 are zero padding:
/// c[r * ldc + 0 ... 23] as that kernel writes them; c[r * ldc + 24 ... 31] may be written or not.
void qc_gemm_u8s8_4x24_indirect(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate);

// ---- Requantization (docs/numerics.md; `RoundingProfile.multiply` is the reference) -----------------
//   out[r * out_stride + j] = clamp(multiply(c[r * ldc + j] + bias[j], mult[j], shift[j]) + zout, lo, hi)
// profile 0 = gemmlowp:  x << max(shift, 0), SaturatingRoundingDoublingHighMul by mult, then
//                        RoundingDivideByPOT by max(-shift, 0) (ties away from zero);
// profile 1 = single:    (x * mult + 2^(30 - shift)) >> (31 - shift), arithmetic, 64-bit.
// All int32 adds wrap. shift must be in -31...30.
void qc_requant_rows(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t channels, const int32_t *bias,
                     const int32_t *mult, const int32_t *shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out,
                     ptrdiff_t out_stride, int profile);
/// Per-tensor requantization of a flat array, in place allowed (`out == x`):
///   out[i] = clamp(multiply(x[i], m, shift) + zout, lo, hi)
void qc_requant_flat(const int32_t *x, ptrdiff_t n, int32_t m, int32_t shift, int32_t zout, int32_t lo, int32_t hi,
                     int32_t *out, int profile);
/// One input of an element-wise add / subtract (TFLite's integer `Add`), summed into `acc`:
///   acc[i] = (accumulate ? acc[i] : 0) + sign * multiply((x[i] - z) << left, m, shift)
/// every int32 step wrapping; `sign` is +1 or -1, `left` in 0...31.
void qc_rescale_accumulate(const int32_t *x, ptrdiff_t n, int32_t z, int32_t left, int32_t m, int32_t shift,
                           int32_t sign, int32_t *acc, int accumulate, int profile);
/// A two-input add / subtract whole: `qc_rescale_accumulate` of x0 (m0, s0, sign0) and of x1 (m1, s1,
/// sign1) into `out`, then `qc_requant_flat(out, n, m, shift, zout, lo, hi, out)`, the same integers.
/// The avx512 levels do it in one pass where the three multipliers take their merged forms (gemmlowp
/// with right shifts of 1...31) or all take the single-rounding form, an input's multiplier of exactly
/// 1/2 (2^30, shift 0, left >= 1) standing in for either as a shift (int8_avx512.c); otherwise it is
/// those three kernels over blocks of `out`. The avx2 level does every form in one pass, 8 values at a
/// time, the last n % 8 through the blocks (int8_avx2.c); the scalar level runs the blocks.
void qc_add2_requant(const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0, int32_t z1, int32_t left,
                     int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0, int32_t sign1, int32_t m,
                     int32_t shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out, int profile);

/// The graph input's quantization, `QTensor.quantizeEdge` bit for bit, for a type of at most 16 bits
/// whose zero point lies inside it (`below = typeMin - zero`, `above = typeMax - zero`):
///   q[i] = y != y ? zero : roundHalfAwayFromZero(clamp(y, below, above)) + zero,   y = x[i] / scale
/// (a NaN quotient gives `zero`; the clamp comes first, so the rounding works on magnitudes < 2^22).
void qc_quantize_edge_f32(const float *x, ptrdiff_t n, float scale, int32_t zero, float below, float above, int32_t *q);

/// The 3x3 depthwise convolution (multiplier 1, dilation 1) from an image of int16 pairs, where a
/// level has it (the avx2 and avx512 levels: `qc_dw3x3_pairs_supported`; a NULL table slot at scalar).
/// `qc_dw3x3_pairs_build` writes the padded image `height x width x channels` of dwords
///   pairs[(y * width + x) * channels + c] = (v(y, x, c) & 0xFFFF) | (v(y, x + 1, c) << 16),
/// v = sample[y - pad_top][x - pad_left][c] - zin inside the sample, 0 in the padding and past the last
/// column. Every sample value - zin must fit int16 (it does for 8-bit activations).
/// `qc_dw3x3_pairs_row` gives output row `out_y`'s accumulators before bias, as `qc_depthwise_row_i32`
/// does on the sample (taps in the padding add 0 either way):
///   acc[ox * channels + c] = sum over fy, fx < 3 of v(out_y * stride_h + fy, ox * stride_w + fx, c) * w[fy][fx][c]
/// with `wpairs` [3][2][channels]: (w[fy][0][c] & 0xFFFF) | (w[fy][1][c] << 16), then w[fy][2][c] & 0xFFFF
/// (weights must fit int16). Each dword lane's two int16 products are summed at once (`vpmaddwd`,
/// `vpdpwssd`): 6 instead of 9 multiplies and no zero-point correction. Exact: int16 products are
/// exact in int32, and their sums wrap modulo 2^32 as `qc_depthwise_row_i32`'s do (`vpmaddwd`'s one
/// overflowing pair, 2 * (-32768)^2, wraps too; 8-bit operands never come near it).
int qc_dw3x3_pairs_supported(void);
void qc_dw3x3_pairs_build(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin,
                          ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t height, ptrdiff_t width, int32_t *pairs);
void qc_dw3x3_pairs_row(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
                        ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc);

/// The integer depthwise convolution's accumulators for output row `out_y` (multiplier 1), before bias
/// and requantization: acc[x * channels + c] = sum over taps inside the image of
/// (sample[y][x'][c] - zin) * weights[ky][kx][c], every int32 step wrapping (so adding the bias
/// afterwards gives the reference's bias-first sum exactly). `sample` is one image H x W x channels.
void qc_depthwise_row_i32(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                          const int32_t *weights, int32_t zin, ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h,
                          ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w, ptrdiff_t pad_top,
                          ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc);

/// One output row `out_y` of the integer max pool (`ReferenceMaxPool2D`): `sample` is one image
/// H x W x channels, `out` out_w x channels. out[x][c] = the largest sample value of channel c in the
/// window clipped to the image (padding excluded), or `empty` where the clipped window is empty.
void qc_maxpool_row_i32(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                        ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top, ptrdiff_t pad_left,
                        ptrdiff_t out_y, ptrdiff_t out_w, int32_t empty, int32_t *out);

/// One output row `out_y` of the integer average pool on its narrow path (`FastPool2D`: inputs of at
/// most 16 bits, windows of at most 2^13 pixels, so |sum| < 2^28): per channel the int32 sum over the
/// window clipped to the image, then mean = sign(sum) * (((|sum| + n / 2) * magic[n]) >> shift[n]) with
/// n the clipped window's pixel count, clamped to [lo, hi]; `empty` where the clipped window is empty.
void qc_avgpool_row_i32(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                        ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top, ptrdiff_t pad_left,
                        ptrdiff_t out_y, ptrdiff_t out_w, const uint64_t *magic, const uint64_t *shift, int32_t empty,
                        int32_t lo, int32_t hi, int32_t *out);

/// The u8 GEMM path's A values: out[i] = the low byte of x[i] - offset (int32 wrapping; the caller's
/// values lie in 0...255 after the offset).
void qc_offset_u8(const int32_t *x, ptrdiff_t n, int32_t offset, uint8_t *out);

/// Per-channel table lookup (an 8-bit input's requantized image, precomputed): with element i in channel
/// c = i % channels, out[i] = table[c * levels + (x[i] - offset)]. `n` is whole rows of `channels`;
/// every `x[i] - offset` must lie in 0 ..< levels (the caller's input type guarantees it).
void qc_lookup_i32(const int32_t *x, ptrdiff_t n, ptrdiff_t channels, const int32_t *table, ptrdiff_t levels,
                   int32_t offset, int32_t *out);

// ---- Float GEMM micro-kernels (the float engine; Sources/FloatEngine/Kernels/GEMM.swift) -----------
/// C[6 x 16] = clamp((bias ? bias : C) + A[6 x kc] * B[kc x 16]), clamp only when `clamps`.
/// Then `tail` (NULL: none), which reads `scale` / `shift` from column 0 of the tile.
/// B is packed [k][16] (the 6x8 / 6x4 kernels read the left 8 / 4 of the same panel); C rows are
/// `ldc` floats apart. A: with `a_offsets` NULL a packed panel, A[r][k] = a[6k + r]; otherwise read in
/// place, A[r][k] = a[a_offsets[k] + r * a_step].
void qc_sgemm_6x16(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b, float *c,
                   ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail);
void qc_sgemm_6x8(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b, float *c,
                  ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail);
void qc_sgemm_6x4(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b, float *c,
                  ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail);

/// One output row of a convolution read in place, every B panel: pixels x < `count`, A[x][k] =
/// a[x * a_step + a_offsets[k]], C row x at c + x * ldc. `b` and `bias` are the packed weights and bias
/// of `panels` 16-column panels (panel j at b + 16 j kc and bias + 16 j), `n` real columns in all;
/// `tail`'s scale and shift start at column 0. The same floats as `qc_sgemm_6x16` / `6x8` / `6x4` of
/// the active level called per 6 pixels and panel (the avx512 levels run blocks of up to 14 pixels per
/// call, as even as they come, where a panel has 16 real columns, each output the same FMA chain). Every
/// 6-pixel group from pixel 0 on, the last one included, may read six rows of A.
void qc_sgemm_row_inplace(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets,
                          const float *b, ptrdiff_t panels, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                          int clamps, float lo, float hi, const qc_f32_tail *tail);

/// Rows m < `count` of a matrix GEMM's K block, every B panel: A[m][k] = a[m * lda + k] (k < kc), C row m
/// at c + m * ldc; `b` the K block of panel 0, panel j `b_stride` floats further (its bias at bias + 16 j;
/// NULL: C is the start), `n` real columns in all; `tail`'s scale and shift start at column 0. The same
/// floats as the active level's `qc_sgemm_6xw_indirect` per 6 rows and panel through a one-tap row table
/// (the avx512 levels run 12 rows per call where a panel has 16 real columns, each output the same FMA
/// chain). No row past `count` is read.
void qc_sgemm_matrix_rows(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t lda, const float *b,
                          ptrdiff_t b_stride, ptrdiff_t panels, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                          int clamps, float lo, float hi, const qc_f32_tail *tail);

/// Most taps per call of `qc_sgemm_patch_rows` (its 6-row groups build a row table of 6 per tap on the stack).
#define QC_PATCH_MAX_TAPS 64

/// Rows m < `count` of a convolution's K block whose patches lie inside the image, each read from its
/// own origin, every B panel: with k = t * cin + i (t < kc / cin <= QC_PATCH_MAX_TAPS, kc a multiple of
/// `cin`), A[m][k] = origins[m][offsets[t * cin] + i], C row m at c + m * ldc; `b` the K block of panel 0,
/// panel j `b_stride` floats further (its bias at bias + 16 j; NULL: C is the start), `n` real columns
/// in all; `tail`'s scale and shift start at column 0. Any rows: across output rows and samples. The
/// same floats as the active level's `qc_sgemm_6xw_indirect` per 6 rows and panel through the row table
/// `origins[r] + offsets[t * cin]` (the avx512 levels run 12 rows per call where a panel has 16 real
/// columns, each output the same FMA chain). No origin past `count` is read.
void qc_sgemm_patch_rows(ptrdiff_t count, ptrdiff_t kc, ptrdiff_t cin, const float *const *origins,
                         const ptrdiff_t *offsets, const float *b, ptrdiff_t b_stride, ptrdiff_t panels, ptrdiff_t n,
                         float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                         const qc_f32_tail *tail);

/// The indirect form (XNNPACK's IGEMM) for convolutions: A is not packed but read through a table of
/// row pointers, `rows[6 t + r]` pointing at the `cin` input channels that output pixel r reads through
/// tap t (or at `cin` zeros for a tap in the padding). With k = t * cin + i:
///   C[6 x width] = clamp((bias ? bias : C) + sum over t < taps, i < cin of rows[6t + r][i] * B[k][n]),
/// B packed [k][16] as for `qc_sgemm_6x16` (width 16, 8 or 4: the left columns of the panel). Each
/// output accumulates over k in order, as the packed kernels do, so both forms give the same floats.
void qc_sgemm_6xw_indirect(int width, ptrdiff_t taps, ptrdiff_t cin, const float *const *rows, const float *b, float *c,
                           ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail);

/// One output row `out_y` of a depthwise convolution (multiplier 1; the caller expands the sample
/// otherwise): `sample` is H x W x channels (NHWC, one image), `weights` [kh][kw][channels], `out`
/// out_w x channels. out[x][c] = clamp(bias[c] + sum over taps inside the image of in * w).
void qc_depthwise_row_f32(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, const float *weights,
                          const float *bias, ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h,
                          ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w, ptrdiff_t pad_top,
                          ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, float *out, int clamps, float lo,
                          float hi);

/// One output row `out_y` of a float max (`average` 0) or average pool over `sample` (H x W x channels,
/// one image; `out` out_w x channels), each window clipped to the input. Max: from -inf, a value
/// replaces the running one when `v >= acc` (Swift's `max`: NaN never replaces); average: the sum in
/// (y, x) order from 0, times 1 / max(pixels, 1). The same floats at every level.
void qc_pool_row_f32(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                     ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top, ptrdiff_t pad_left,
                     ptrdiff_t out_y, ptrdiff_t out_w, int average, float *out);

/// In place over `n` floats: sigmoid (`kind` 0), tanh (1) or swish, x sigmoid(x) (2), with Cephes'
/// polynomials evaluated exactly as the Swift `VectorMath` (a rounding per multiply and per add, no
/// fused multiply-add), so the same floats at every level and as `VectorMath`; vectorised at the
/// level's width.
void qc_activation_f32(int kind, float *x, ptrdiff_t n);

/// `out[i] = a[i] + b[i]`, then relu `0 >= y ? 0 : y` or relu6 `6 < r ? 6 : r` of that (`activation`
/// QC_TAIL_NONE, QC_TAIL_RELU or QC_TAIL_RELU6: Swift's `max(y, 0)` and `min(_, 6)`, a NaN stays NaN,
/// -0 becomes +0), over `n` floats; `out` may be `a` or `b` (each element is read before it is
/// written). One rounding per element, so the same floats at every level and as the float engine's
/// Swift merge (a residual Add and the ReLU after it in one pass, at the level's width).
void qc_add_f32(const float *a, const float *b, float *out, ptrdiff_t n, int activation);

/// Twelve independent multiply-add chains of the level's widest float vector (8 lanes at scalar and
/// avx2, 16 at avx512) run `iterations` times (the bench's FP32 peak probe). Stores the floating-point
/// operations done (2 per lane and multiply-add) in `*flops`; returns their sum so the work is kept.
float qc_fma_probe(ptrdiff_t iterations, float seed, int64_t *flops);

/// The level's densest int8 multiply-add in twelve independent chains run `iterations` times (the
/// bench's int8 peak probe: `vpdpbusd` at avx512vnni, `vpmaddubsw` + `vpaddw` at avx2, a 32-bit
/// multiply-add at scalar). Stores the integer operations done (2 per multiply-add) in `*ops`;
/// returns a checksum so the work is kept.
int64_t qc_int8_probe(ptrdiff_t iterations, int64_t seed, int64_t *ops);

/// The peak of the s16 path's multiply-add, for levels whose densest int8 instruction (`qc_int8_probe`)
/// is not exact for 8-bit weights: `vpmaddwd` (16 int16 multiply-adds per YMM, summed in int32 pairs)
/// plus `vpaddd`, twelve independent chains, at avx2 and avx512 (ZMM there). Returns -1 and stores 0
/// where the level has none (its `qc_int8_probe` is the peak of every path: scalar, avx512vnni's
/// `vpdpbusd`).
int64_t qc_int8_probe_s16(ptrdiff_t iterations, int64_t seed, int64_t *ops);

#include "qc_pool.h"

#endif
