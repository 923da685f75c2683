// The AVX-512 F level of the float kernels: the AVX2 level's kernels with one ZMM where that level
// uses two YMM, and opmask registers for channel tails. Each output is the same chain of fused
// multiply-adds in the same order as at the AVX2 level (one rounding per `vfmadd231ps`), so the two
// levels give the same floats; the tests still compare with the scalar level within a tolerance.
// On Zen 4 a ZMM FMA occupies both 256-bit pipes, so the peak is the AVX2 level's; the gain is half
// the instructions (loads, broadcasts, stores). Contracts in include/CKernels.h.
#include "kernels_internal.h"

#if QC_X86
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))), apply_to = function)

/// `tail` (CKernels.h) on one vector of 16 columns, `s` and `t` their scale and shift: a multiply then an
/// add (contraction off: two roundings, as the separate layers), then relu and relu6 as ordered
/// compares into opmasks and masked moves (a NaN stays NaN, -0 becomes +0, as Swift's max / min).
static inline __attribute__((always_inline)) __m512 qc_f32_tail512(__m512 v, __m512 s, __m512 t, int affine,
                                                                   int activation) {
#pragma clang fp contract(off)
    if (affine) v = _mm512_add_ps(_mm512_mul_ps(v, s), t);
    if (activation != QC_TAIL_NONE) {
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LE_OQ), _mm512_setzero_ps());
    }
    if (activation == QC_TAIL_RELU6) {
        const __m512 six = _mm512_set1_ps(6.0f);
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, six, _CMP_GT_OQ), six);
    }
    return v;
}

/// The 6x16 micro-kernel: six ZMM accumulators, one B vector and one broadcast per row. `mode` selects
/// how A is read (a constant after inlining): a packed panel, A[r][k] = a[6k + r] (0); six pixels in
/// place, A[r][k] = a[offsets[k] + r * a_step] (1); a row table, A[r][t * cin + i] = rows[6t + r][i]
/// (2). Each output sums over k in the same order in every mode, so all three give the same floats.
static inline __attribute__((always_inline)) void qc_sgemm_6x16_body512(
    int mode, ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *offsets, const float *const *rows,
    ptrdiff_t cin, const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
    const qc_f32_tail *tail) {
    __m512 c0, c1, c2, c3, c4, c5;
    if (bias) {
        c0 = c1 = c2 = c3 = c4 = c5 = _mm512_loadu_ps(bias);
    } else {
        c0 = _mm512_loadu_ps(c + 0 * ldc); c1 = _mm512_loadu_ps(c + 1 * ldc); c2 = _mm512_loadu_ps(c + 2 * ldc);
        c3 = _mm512_loadu_ps(c + 3 * ldc); c4 = _mm512_loadu_ps(c + 4 * ldc); c5 = _mm512_loadu_ps(c + 5 * ldc);
    }
    // One k step: B row `bk`, A's six values.
#define QC_STEP(bk, a0, a1, a2, a3, a4, a5) do {                                      \
        __m512 bv = _mm512_loadu_ps(bk);                                                  \
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(a0), bv, c0);                                 \
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(a1), bv, c1);                                 \
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(a2), bv, c2);                                 \
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(a3), bv, c3);                                 \
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(a4), bv, c4);                                 \
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(a5), bv, c5);                                 \
    } while (0)
    if (mode == 2) {
        for (ptrdiff_t t = 0; t < kc / cin; t++) {
            const float *p0 = rows[6 * t], *p1 = rows[6 * t + 1], *p2 = rows[6 * t + 2];
            const float *p3 = rows[6 * t + 3], *p4 = rows[6 * t + 4], *p5 = rows[6 * t + 5];
            const float *bt = b + 16 * t * cin;
            for (ptrdiff_t i = 0; i < cin; i++) QC_STEP(bt + 16 * i, p0[i], p1[i], p2[i], p3[i], p4[i], p5[i]);
        }
    } else {
        for (ptrdiff_t k = 0; k < kc; k++) {
            const float *p = mode == 1 ? a + offsets[k] : a + 6 * k;
            const ptrdiff_t s = mode == 1 ? a_step : 1;
            QC_STEP(b + 16 * k, p[0], p[s], p[2 * s], p[3 * s], p[4 * s], p[5 * s]);
        }
    }
#undef QC_STEP
    if (clamps) {
        const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#define QC_CLAMP(v) v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi)
        QC_CLAMP(c0); QC_CLAMP(c1); QC_CLAMP(c2); QC_CLAMP(c3); QC_CLAMP(c4); QC_CLAMP(c5);
#undef QC_CLAMP
    }
    if (tail) {
        const int affine = tail->scale != NULL, act = tail->activation;
        const __m512 s = affine ? _mm512_loadu_ps(tail->scale) : _mm512_setzero_ps();
        const __m512 t = affine ? _mm512_loadu_ps(tail->shift) : _mm512_setzero_ps();
        c0 = qc_f32_tail512(c0, s, t, affine, act); c1 = qc_f32_tail512(c1, s, t, affine, act);
        c2 = qc_f32_tail512(c2, s, t, affine, act); c3 = qc_f32_tail512(c3, s, t, affine, act);
        c4 = qc_f32_tail512(c4, s, t, affine, act); c5 = qc_f32_tail512(c5, s, t, affine, act);
    }
    _mm512_storeu_ps(c + 0 * ldc, c0); _mm512_storeu_ps(c + 1 * ldc, c1); _mm512_storeu_ps(c + 2 * ldc, c2);
    _mm512_storeu_ps(c + 3 * ldc, c3); _mm512_storeu_ps(c + 4 * ldc, c4); _mm512_storeu_ps(c + 5 * ldc, c5);
}

void qc_sgemm_6x16_avx512(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b,
                          float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                          const qc_f32_tail *tail) {
    if (a_offsets) {
        qc_sgemm_6x16_body512(1, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);
    } else {
        qc_sgemm_6x16_body512(0, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);
    }
}

/// The indirect 6x16 kernel is the same body reading A through the row table; the 8- and 4-column
/// ones are the AVX2 level's, which compute the same floats.
void qc_sgemm_6xw_indirect_avx512(int width, ptrdiff_t taps, ptrdiff_t cin, const float *const *rows, const float *b,
                                  float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                                  const qc_f32_tail *tail) {
    if (width != 16) {
        qc_sgemm_6xw_indirect_avx2(width, taps, cin, rows, b, c, ldc, bias, clamps, lo, hi, tail);
        return;
    }
    qc_sgemm_6x16_body512(2, taps * cin, NULL, 0, NULL, rows, cin, b, c, ldc, bias, clamps, lo, hi, tail);
}

/// The many-row kernels' epilogue on `rows` accumulators (a constant after inlining): the clamp, then
/// `tail`, then the stores, as the 6x16 body.
static inline __attribute__((always_inline)) void qc_sgemm_rx16_store512(const int rows, __m512 *acc, float *c,
                                                                         ptrdiff_t ldc, int clamps, float lo, float hi,
                                                                         const qc_f32_tail *tail) {
    if (clamps) {
        const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#pragma clang loop unroll(full)
        for (int r = 0; r < rows; r++) acc[r] = _mm512_min_ps(_mm512_max_ps(acc[r], vlo), vhi);
    }
    if (tail) {
        const int affine = tail->scale != NULL, act = tail->activation;
        const __m512 s = affine ? _mm512_loadu_ps(tail->scale) : _mm512_setzero_ps();
        const __m512 t = affine ? _mm512_loadu_ps(tail->shift) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
        for (int r = 0; r < rows; r++) acc[r] = qc_f32_tail512(acc[r], s, t, affine, act);
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) _mm512_storeu_ps(c + r * ldc, acc[r]);
}

/// `rows` pixels (at most 14, a constant after inlining) of one output row read in place,
/// A[r][k] = a[offsets[k] + r * a_step], against one 16-column panel: one ZMM accumulator per pixel,
/// one B load per k for `rows` FMAs (the 6x16 body loads B once per six), and one call's overhead per
/// block. Each output is the 6x16 body's FMA chain in the same order, then the same clamp and tail, so
/// the same floats. With `offsets` NULL, A is a matrix: A[r][k] = a[r * a_step + k].
static inline __attribute__((always_inline)) void qc_sgemm_rx16_in_place512(
    const int rows, ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *offsets, const float *b, float *c,
    ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail) {
    __m512 acc[14];
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) acc[r] = bias ? _mm512_loadu_ps(bias) : _mm512_loadu_ps(c + r * ldc);
    for (ptrdiff_t k = 0; k < kc; k++) {
        const float *p = offsets ? a + offsets[k] : a + k;
        const __m512 bv = _mm512_loadu_ps(b + 16 * k);
#pragma clang loop unroll(full)
        for (int r = 0; r < rows; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[r * a_step]), bv, acc[r]);
    }
    qc_sgemm_rx16_store512(rows, acc, c, ldc, clamps, lo, hi, tail);
}

/// Pixels `0 ..< count` of one output row against one 16-column panel in blocks of at most 14, as even
/// as they come (a 26-pixel row as 13 + 13): no pixel runs through the 6-row edge tile, which for
/// relu_logits_k2's stem (26-pixel rows as 12 + 12 + 2) computed six rows of FMAs and copied its tile
/// for the last two pixels.
static void qc_sgemm_row_blocks512(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t a_step,
                                   const ptrdiff_t *offsets, const float *b, float *c, ptrdiff_t ldc, const float *bias,
                                   int clamps, float lo, float hi, const qc_f32_tail *tail) {
    const ptrdiff_t blocks = (count + 13) / 14;
    ptrdiff_t x = 0;
    for (ptrdiff_t block = 0; block < blocks; block++) {
        const ptrdiff_t rows = (count - x) / (blocks - block);
        const float *ax = a + x * a_step;
        float *cx = c + x * ldc;
        switch (rows) {
#define QC_ROWS(r) case r: qc_sgemm_rx16_in_place512(r, kc, ax, a_step, offsets, b, cx, ldc, bias, clamps, lo, hi, tail); break;
            QC_ROWS(1) QC_ROWS(2) QC_ROWS(3) QC_ROWS(4) QC_ROWS(5) QC_ROWS(6) QC_ROWS(7)
            QC_ROWS(8) QC_ROWS(9) QC_ROWS(10) QC_ROWS(11) QC_ROWS(12) QC_ROWS(13) QC_ROWS(14)
#undef QC_ROWS
        }
        x += rows;
    }
}

void qc_sgemm_row_inplace_avx512(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t a_step,
                                 const ptrdiff_t *a_offsets, const float *b, ptrdiff_t panels, ptrdiff_t n, float *c,
                                 ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                                 const qc_f32_tail *tail) {
    for (ptrdiff_t j = 0; j < panels; j++) {
        const ptrdiff_t valid = n - 16 * j < 16 ? n - 16 * j : 16;
        const float *bj = b + 16 * j * kc, *biasj = bias ? bias + 16 * j : NULL;
        qc_f32_tail moved;
        const qc_f32_tail *tj = qc_f32_tail_panel(tail, j, &moved);
        if (valid == 16) {
            qc_sgemm_row_blocks512(count, kc, a, a_step, a_offsets, bj, c + 16 * j, ldc, biasj, clamps, lo, hi, tj);
            continue;
        }
        qc_sgemm_panel_row(qc_sgemm_6x16_avx512, qc_sgemm_6x8_avx2, qc_sgemm_6x4_avx2, count, kc, a, a_step, a_offsets,
                           bj, valid, c + 16 * j, ldc, biasj, clamps, lo, hi, tj);
    }
}

void qc_sgemm_matrix_rows_avx512(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t lda, const float *b,
                                 ptrdiff_t b_stride, ptrdiff_t panels, ptrdiff_t n, float *c, ptrdiff_t ldc,
                                 const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail) {
    for (ptrdiff_t j = 0; j < panels; j++) {
        const ptrdiff_t valid = n - 16 * j < 16 ? n - 16 * j : 16;
        const float *bj = b + j * b_stride, *biasj = bias ? bias + 16 * j : NULL;
        qc_f32_tail moved;
        const qc_f32_tail *tj = qc_f32_tail_panel(tail, j, &moved);
        ptrdiff_t x = 0;
        if (valid == 16) {
            for (; x + 12 <= count; x += 12) {
                qc_sgemm_rx16_in_place512(12, kc, a + x * lda, lda, NULL, bj, c + x * ldc + 16 * j, ldc, biasj, clamps,
                                          lo, hi, tj);
            }
        }
        qc_sgemm_panel_matrix(qc_sgemm_6xw_indirect_avx512, count - x, kc, a + x * lda, lda, bj, valid,
                              c + x * ldc + 16 * j, ldc, biasj, clamps, lo, hi, tj);
    }
}

/// `rows` output pixels (at most 12, a constant after inlining) of a convolution, each read from its
/// own patch origin, against one 16-column panel: A[r][t * cin + i] = origins[r][offsets[t * cin] + i].
/// The pointers of a tap are formed once per tap, then one B load feeds `rows` FMAs per channel. The
/// pixels may straddle output rows and samples (relu_logits_k2's 11-pixel rows split half of its
/// 6-pixel panels, which went through the 6-row indirect kernel with a row table built in Swift).
/// Each output is the 6x16 body's FMA chain in the same k order, then the same clamp and tail, so the
/// same floats.
static inline __attribute__((always_inline)) void qc_sgemm_rx16_patches512(
    const int rows, ptrdiff_t taps, ptrdiff_t cin, const float *const *origins, const ptrdiff_t *offsets,
    const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
    const qc_f32_tail *tail) {
    __m512 acc[12];
#pragma clang loop unroll(full)
    for (int r = 0; r < rows; r++) acc[r] = bias ? _mm512_loadu_ps(bias) : _mm512_loadu_ps(c + r * ldc);
    for (ptrdiff_t t = 0; t < taps; t++) {
        const ptrdiff_t o = offsets[t * cin];
        const float *p[12];
#pragma clang loop unroll(full)
        for (int r = 0; r < rows; r++) p[r] = origins[r] + o;
        const float *bt = b + 16 * t * cin;
        for (ptrdiff_t i = 0; i < cin; i++) {
            const __m512 bv = _mm512_loadu_ps(bt + 16 * i);
#pragma clang loop unroll(full)
            for (int r = 0; r < rows; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[r][i]), bv, acc[r]);
        }
    }
    qc_sgemm_rx16_store512(rows, acc, c, ldc, clamps, lo, hi, tail);
}

/// Rows outer, panels inner: a 12-row block's patches stay in L1 across the panels (B, at most a few
/// panels of one K block, stays there too). The last 1-11 rows run as one block of their own on
/// panels with 16 real columns (before, as 6-row tiles of the indirect kernel: six accumulators and
/// a row table per tile, 2.4 % of resnet_bn, whose M blocks of 222 rows left 6 each); panels with
/// fewer real columns run the 6-row indirect kernels.
void qc_sgemm_patch_rows_avx512(ptrdiff_t count, ptrdiff_t kc, ptrdiff_t cin, const float *const *origins,
                                const ptrdiff_t *offsets, const float *b, ptrdiff_t b_stride, ptrdiff_t panels,
                                ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                                const qc_f32_tail *tail) {
    const ptrdiff_t taps = kc / cin;
    for (ptrdiff_t x = 0; x < count; x += 12) {
        const ptrdiff_t rows = count - x < 12 ? count - x : 12;
        for (ptrdiff_t j = 0; j < panels; j++) {
            const ptrdiff_t valid = n - 16 * j < 16 ? n - 16 * j : 16;
            const float *bj = b + j * b_stride, *biasj = bias ? bias + 16 * j : NULL;
            qc_f32_tail moved;
            const qc_f32_tail *tj = qc_f32_tail_panel(tail, j, &moved);
            const float *const *ox = origins + x;
            float *cx = c + x * ldc + 16 * j;
            if (valid < 16) {
                qc_sgemm_panel_patches(qc_sgemm_6xw_indirect_avx512, rows, kc, cin, ox, offsets, bj, valid, cx, ldc,
                                       biasj, clamps, lo, hi, tj);
                continue;
            }
            switch (rows) {
#define QC_ROWS(r) case r: qc_sgemm_rx16_patches512(r, taps, cin, ox, offsets, bj, cx, ldc, biasj, clamps, lo, hi, tj); break;
                QC_ROWS(1) QC_ROWS(2) QC_ROWS(3) QC_ROWS(4) QC_ROWS(5) QC_ROWS(6)
                QC_ROWS(7) QC_ROWS(8) QC_ROWS(9) QC_ROWS(10) QC_ROWS(11) QC_ROWS(12)
#undef QC_ROWS
            }
        }
    }
}

/// Lanes `0 ..< n` (n <= 16) of a mask.
static inline __mmask16 qc_flanes16(ptrdiff_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

/// One depthwise output pixel, all channels: `base` is the offset in `sample` of tap (ky0, kx0), the
/// first tap inside the image, `w0` its weights. From the bias in (ky, kx) order, as every level does.
static inline void qc_dw_pixel_avx512(const float *sample, ptrdiff_t base, ptrdiff_t row_floats, ptrdiff_t channels,
                                      const float *w0, ptrdiff_t kernel_w, ptrdiff_t taps_y, ptrdiff_t taps_x,
                                      ptrdiff_t dilation_h, ptrdiff_t dilation_w, const float *bias, float *o,
                                      int clamps, float lo, float hi) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    ptrdiff_t ch = 0;
    // 64 channels at a time: four independent FMA chains hide the FMA latency.
    for (; ch + 64 <= channels; ch += 64) {
        __m512 a0 = _mm512_loadu_ps(bias + ch), a1 = _mm512_loadu_ps(bias + ch + 16);
        __m512 a2 = _mm512_loadu_ps(bias + ch + 32), a3 = _mm512_loadu_ps(bias + ch + 48);
        for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
            const float *in_row = sample + (base + ky * dilation_h * row_floats + ch);
            const float *w_row = w0 + ky * kernel_w * channels + ch;
            for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                const float *in = in_row + kx * dilation_w * channels, *w = w_row + kx * channels;
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(in), _mm512_loadu_ps(w), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(in + 16), _mm512_loadu_ps(w + 16), a1);
                a2 = _mm512_fmadd_ps(_mm512_loadu_ps(in + 32), _mm512_loadu_ps(w + 32), a2);
                a3 = _mm512_fmadd_ps(_mm512_loadu_ps(in + 48), _mm512_loadu_ps(w + 48), a3);
            }
        }
        if (clamps) {
            a0 = _mm512_min_ps(_mm512_max_ps(a0, vlo), vhi); a1 = _mm512_min_ps(_mm512_max_ps(a1, vlo), vhi);
            a2 = _mm512_min_ps(_mm512_max_ps(a2, vlo), vhi); a3 = _mm512_min_ps(_mm512_max_ps(a3, vlo), vhi);
        }
        _mm512_storeu_ps(o + ch, a0); _mm512_storeu_ps(o + ch + 16, a1);
        _mm512_storeu_ps(o + ch + 32, a2); _mm512_storeu_ps(o + ch + 48, a3);
    }
    for (; ch < channels; ch += 16) {
        const __mmask16 k = qc_flanes16(channels - ch);
        __m512 acc = _mm512_maskz_loadu_ps(k, bias + ch);
        for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
            const float *in_row = sample + (base + ky * dilation_h * row_floats + ch);
            const float *w_row = w0 + ky * kernel_w * channels + ch;
            for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, in_row + kx * dilation_w * channels),
                                      _mm512_maskz_loadu_ps(k, w_row + kx * channels), acc);
            }
        }
        if (clamps) acc = _mm512_min_ps(_mm512_max_ps(acc, vlo), vhi);
        _mm512_mask_storeu_ps(o + ch, k, acc);
    }
}

/// 3x3, dilation 1, any stride and padding: one output row, every pixel and channel (the last block
/// masked). Channel blocks outermost, so a block's nine weight vectors stay in registers across the
/// row. Pixels whose nine taps all lie inside the image (`[ox0, ox1)` of a row whose tap rows
/// `[ky0, ky1)` are all three) take nine unconditional FMAs; the others, at the borders, the taps
/// inside, each under its own test on the same registers (before, a loop over taps with weight loads
/// per channel block per pixel: about half the depthwise time of sepconv_wide, whose 7- and 14-pixel
/// rows are a third border). From the bias in (ky, kx) order, the taps outside skipped, as every level
/// does, so the same floats.
static void qc_dw3x3_row_avx512(const float *sample, ptrdiff_t origin_y, ptrdiff_t ky0, ptrdiff_t ky1, ptrdiff_t in_w,
                                ptrdiff_t channels, const float *weights, const float *bias, ptrdiff_t stride_w,
                                ptrdiff_t pad_left, ptrdiff_t ox0, ptrdiff_t ox1, ptrdiff_t out_w, float *out, int clamps,
                                float lo, float hi) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const ptrdiff_t c1 = channels, c2 = 2 * channels, row_floats = in_w * channels;
    const int full_rows = ky0 == 0 && ky1 == 3;
    // Eight channels at stride 1: two adjacent interior pixels fill one ZMM (their outputs, and each
    // tap's inputs, are 16 contiguous floats), the weights and bias repeated in both halves, instead of
    // one half-masked ZMM per pixel (mini_xception's first depthwise conv). Each lane is the interior
    // path's chain below, so the same floats. Pixels [ox0, pairs_end) are done here.
    ptrdiff_t pairs_end = ox0;
    if (channels == 8 && stride_w == 1 && full_rows) {
        pairs_end = ox0 + (ox1 - ox0) / 2 * 2;
#define QC_TWICE8(p) _mm512_shuffle_f32x4(_mm512_castps256_ps512(_mm256_loadu_ps(p)), \
                                          _mm512_castps256_ps512(_mm256_loadu_ps(p)), 0x44)
        const __m512 w00 = QC_TWICE8(weights), w01 = QC_TWICE8(weights + 8), w02 = QC_TWICE8(weights + 16);
        const __m512 w10 = QC_TWICE8(weights + 24), w11 = QC_TWICE8(weights + 32), w12 = QC_TWICE8(weights + 40);
        const __m512 w20 = QC_TWICE8(weights + 48), w21 = QC_TWICE8(weights + 56), w22 = QC_TWICE8(weights + 64);
        const __m512 b = QC_TWICE8(bias);
#undef QC_TWICE8
        for (ptrdiff_t ox = ox0; ox < pairs_end; ox += 2) {
            const float *p = sample + (origin_y * row_floats + (ox - pad_left) * 8);
            __m512 acc = _mm512_fmadd_ps(_mm512_loadu_ps(p), w00, b);
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(p + 8), w01, acc);
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(p + 16), w02, acc);
            p += row_floats;
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(p), w10, acc);
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(p + 8), w11, acc);
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(p + 16), w12, acc);
            p += row_floats;
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(p), w20, acc);
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(p + 8), w21, acc);
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(p + 16), w22, acc);
            if (clamps) acc = _mm512_min_ps(_mm512_max_ps(acc, vlo), vhi);
            _mm512_storeu_ps(out + ox * 8, acc);
        }
    }
    for (ptrdiff_t ch = 0; ch < channels; ch += 16) {
        const __mmask16 k = qc_flanes16(channels - ch);
        const float *w = weights + ch;
        const __m512 w00 = _mm512_maskz_loadu_ps(k, w), w01 = _mm512_maskz_loadu_ps(k, w + c1);
        const __m512 w02 = _mm512_maskz_loadu_ps(k, w + c2), w10 = _mm512_maskz_loadu_ps(k, w + 3 * c1);
        const __m512 w11 = _mm512_maskz_loadu_ps(k, w + 4 * c1), w12 = _mm512_maskz_loadu_ps(k, w + 5 * c1);
        const __m512 w20 = _mm512_maskz_loadu_ps(k, w + 6 * c1), w21 = _mm512_maskz_loadu_ps(k, w + 7 * c1);
        const __m512 w22 = _mm512_maskz_loadu_ps(k, w + 8 * c1);
        const __m512 b = _mm512_maskz_loadu_ps(k, bias + ch);
        for (ptrdiff_t ox = 0; ox < out_w; ox++) {
            if (ox == ox0 && pairs_end > ox0) {
                ox = pairs_end - 1;
                continue;
            }
            const ptrdiff_t origin_x = ox * stride_w - pad_left;
            if (full_rows && ox >= ox0 && ox + 4 <= ox1) {
                // Four interior pixels at once: four independent chains of nine FMAs, interleaved,
                // where one pixel's chain waited on each FMA's latency in turn (the depthwise rows
                // were 16 % of sepconv_wide's samples at a quarter of the FMA peak). Each pixel's
                // chain is the one below, so the same floats.
                const float *p = sample + (origin_y * row_floats + origin_x * channels + ch);
                const ptrdiff_t s1 = stride_w * channels, s2 = 2 * s1, s3 = 3 * s1;
                __m512 a0 = b, a1 = b, a2 = b, a3 = b;
#define QC_DW_TAP4(offset, wv)                                                   \
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + (offset)), wv, a0);      \
                a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + (offset) + s1), wv, a1); \
                a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + (offset) + s2), wv, a2); \
                a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + (offset) + s3), wv, a3);
                QC_DW_TAP4(0, w00) QC_DW_TAP4(c1, w01) QC_DW_TAP4(c2, w02)
                QC_DW_TAP4(row_floats, w10) QC_DW_TAP4(row_floats + c1, w11) QC_DW_TAP4(row_floats + c2, w12)
                QC_DW_TAP4(2 * row_floats, w20) QC_DW_TAP4(2 * row_floats + c1, w21)
                QC_DW_TAP4(2 * row_floats + c2, w22)
#undef QC_DW_TAP4
                if (clamps) {
                    a0 = _mm512_min_ps(_mm512_max_ps(a0, vlo), vhi); a1 = _mm512_min_ps(_mm512_max_ps(a1, vlo), vhi);
                    a2 = _mm512_min_ps(_mm512_max_ps(a2, vlo), vhi); a3 = _mm512_min_ps(_mm512_max_ps(a3, vlo), vhi);
                }
                float *o = out + ox * channels + ch;
                _mm512_mask_storeu_ps(o, k, a0); _mm512_mask_storeu_ps(o + channels, k, a1);
                _mm512_mask_storeu_ps(o + 2 * channels, k, a2); _mm512_mask_storeu_ps(o + 3 * channels, k, a3);
                ox += 3;
                continue;
            }
            __m512 acc;
            if (full_rows && ox >= ox0 && ox < ox1) {
                const float *p = sample + (origin_y * row_floats + origin_x * channels + ch);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p), w00, b);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + c1), w01, acc);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + c2), w02, acc);
                p += row_floats;
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p), w10, acc);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + c1), w11, acc);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + c2), w12, acc);
                p += row_floats;
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p), w20, acc);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + c1), w21, acc);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, p + c2), w22, acc);
            } else {
                ptrdiff_t kx0, kx1;
                qc_dw_tap_range(origin_x, 3, 1, in_w, &kx0, &kx1);
                acc = b;
                // Tap (ky, kx) when it lies inside; its pointer is formed only then.
#define QC_DW_TAP(ky, kx, wv)                                                                                         \
                if ((ky) >= ky0 && (ky) < ky1 && (kx) >= kx0 && (kx) < kx1)                                           \
                    acc = _mm512_fmadd_ps(                                                                            \
                        _mm512_maskz_loadu_ps(k, sample + ((origin_y + (ky)) * row_floats + (origin_x + (kx)) * channels + ch)), \
                        wv, acc);
                QC_DW_TAP(0, 0, w00) QC_DW_TAP(0, 1, w01) QC_DW_TAP(0, 2, w02)
                QC_DW_TAP(1, 0, w10) QC_DW_TAP(1, 1, w11) QC_DW_TAP(1, 2, w12)
                QC_DW_TAP(2, 0, w20) QC_DW_TAP(2, 1, w21) QC_DW_TAP(2, 2, w22)
#undef QC_DW_TAP
            }
            if (clamps) acc = _mm512_min_ps(_mm512_max_ps(acc, vlo), vhi);
            _mm512_mask_storeu_ps(out + ox * channels + ch, k, acc);
        }
    }
}

void qc_depthwise_row_f32_avx512(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                                 const float *weights, const float *bias, ptrdiff_t kernel_h, ptrdiff_t kernel_w,
                                 ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w,
                                 ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, float *out,
                                 int clamps, float lo, float hi) {
    ptrdiff_t origin_y = out_y * stride_h - pad_top, ky0, ky1;
    qc_dw_tap_range(origin_y, kernel_h, dilation_h, in_h, &ky0, &ky1);
    const ptrdiff_t row_floats = in_w * channels;
    if (kernel_h == 3 && kernel_w == 3 && dilation_h == 1 && dilation_w == 1) {
        // Pixels whose three tap columns lie inside: [ox0, ox1).
        ptrdiff_t ox0 = (pad_left + stride_w - 1) / stride_w;           // first with ox * sw - pad >= 0
        ptrdiff_t last = in_w - 3 + pad_left;                            // ox * sw <= last
        ptrdiff_t ox1 = last < 0 ? 0 : last / stride_w + 1;
        if (ox1 > out_w) ox1 = out_w;
        if (ox0 > ox1) ox0 = ox1;
        qc_dw3x3_row_avx512(sample, origin_y, ky0, ky1, in_w, channels, weights, bias, stride_w, pad_left, ox0, ox1,
                            out_w, out, clamps, lo, hi);
        return;
    }
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t origin_x = ox * stride_w - pad_left, kx0, kx1;
        qc_dw_tap_range(origin_x, kernel_w, dilation_w, in_w, &kx0, &kx1);
        // Offset of tap (ky0, kx0); taps outside the image are never formed as pointers.
        const ptrdiff_t base = (origin_y + ky0 * dilation_h) * row_floats + (origin_x + kx0 * dilation_w) * channels;
        qc_dw_pixel_avx512(sample, base, row_floats, channels, weights + (ky0 * kernel_w + kx0) * channels, kernel_w,
                           ky1 - ky0, kx1 - kx0, dilation_h, dilation_w, bias, out + ox * channels, clamps, lo, hi);
    }
}

/// One float pool output pixel, 16 channels per ZMM, the last block masked: the comparison
/// `v >= acc` is ordered (NaN never replaces, as Swift's `max`). `average` is a constant after inlining.
static inline __attribute__((always_inline)) void qc_pool_pixel_avx512(
    const float *sample, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t x0, ptrdiff_t x1,
    int average, float scale, float *o) {
    for (ptrdiff_t ch = 0; ch < channels; ch += 16) {
        const __mmask16 k = qc_flanes16(channels - ch);
        __m512 acc = _mm512_set1_ps(average ? 0.0f : -__builtin_inff());
        for (ptrdiff_t y = y0; y < y1; y++) {
            const float *row = sample + y * in_w * channels + ch;
            for (ptrdiff_t x = x0; x < x1; x++) {
                const __m512 v = _mm512_maskz_loadu_ps(k, row + x * channels);
                acc = average ? _mm512_add_ps(acc, v) : _mm512_mask_mov_ps(acc, _mm512_cmp_ps_mask(v, acc, _CMP_GE_OQ), v);
            }
        }
        _mm512_mask_storeu_ps(o + ch, k, average ? _mm512_mul_ps(acc, _mm512_set1_ps(scale)) : acc);
    }
}

void qc_pool_row_f32_avx512(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                            ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
                            ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int average, float *out) {
    ptrdiff_t y0, y1;
    qc_pool_window(out_y, stride_h, pad_top, kernel_h, in_h, &y0, &y1);
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t x0, x1;
        qc_pool_window(ox, stride_w, pad_left, kernel_w, in_w, &x0, &x1);
        if (average) {
            qc_pool_pixel_avx512(sample, in_w, channels, y0, y1, x0, x1, 1, qc_pool_scale(y0, y1, x0, x1),
                                 out + ox * channels);
        } else {
            qc_pool_pixel_avx512(sample, in_w, channels, y0, y1, x0, x1, 0, 1.0f, out + ox * channels);
        }
    }
}

void qc_activation_f32_avx512(int kind, float *x, ptrdiff_t n) { qc_activation_f32_loop(kind, x, n); }

void qc_add_f32_avx512(const float *a, const float *b, float *out, ptrdiff_t n, int activation) {
    qc_add_f32_loop(a, b, out, n, activation);
}

/// Twelve independent ZMM FMA chains: the FP32 peak probe of this level.
float qc_fma_probe_avx512(ptrdiff_t iterations, float seed, int64_t *flops) {
    *flops = (int64_t)iterations * 12 * 16 * 2;
    const __m512 m = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(seed);
    __m512 a[12];
    for (int j = 0; j < 12; j++) a[j] = _mm512_set1_ps((float)(j + 1));
    for (ptrdiff_t i = 0; i < iterations; i++) {
#define QC_PROBE_STEP(j) a[j] = _mm512_fmadd_ps(a[j], m, add);
        QC_PROBE_STEP(0) QC_PROBE_STEP(1) QC_PROBE_STEP(2) QC_PROBE_STEP(3) QC_PROBE_STEP(4) QC_PROBE_STEP(5)
        QC_PROBE_STEP(6) QC_PROBE_STEP(7) QC_PROBE_STEP(8) QC_PROBE_STEP(9) QC_PROBE_STEP(10) QC_PROBE_STEP(11)
#undef QC_PROBE_STEP
    }
    __m512 t = a[0];
    for (int j = 1; j < 12; j++) t = _mm512_add_ps(t, a[j]);
    return _mm512_reduce_add_ps(t);
}

#pragma clang attribute pop
#endif
