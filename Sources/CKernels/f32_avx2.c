// The AVX2 + FMA level of the float kernels: compiled for AVX2/FMA by a per-function target
// attribute, called only when cpuid reports both and the OS saves YMM state. Every multiply-add is one
// `vfmadd231ps` (rounded once); the scalar level rounds twice, so the tests compare within a
// tolerance. Contracts in include/CKernels.h.
#include "kernels_internal.h"

#if QC_X86
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

// The GEMM micro-kernels read A in one of three ways (the `mode`, a constant after inlining), over the
// same accumulators, prologue and epilogue:
//   QC_A_PACKED    a packed panel, A[r][k] = a[6k + r];
//   QC_A_IN_PLACE  six pixels read where they lie, A[r][k] = a[offsets[k] + r * a_step];
//   QC_A_INDIRECT  a row table, A[r][t * cin + i] = rows[6t + r][i] (`taps` = kc / cin).
// Each output sums over k in the same order in every mode, so all three give the same floats.
enum { QC_A_PACKED = 0, QC_A_IN_PLACE = 1, QC_A_INDIRECT = 2 };

/// `tail` (CKernels.h) on one vector of columns, `s` and `t` their scale and shift: a multiply then an
/// add (contraction off: two roundings, as the separate layers), then relu `0 >= v ? 0 : v` and relu6
/// `6 < v ? 6 : v` by ordered compares and blends (a NaN stays NaN, -0 becomes +0, as Swift's max / min).
#define QC_F32_TAIL(NAME, V, MUL, ADD, SET1, CMP, BLENDV)                                                         \
    static inline __attribute__((always_inline)) V NAME(V v, V s, V t, int affine, int activation) {             \
        _Pragma("clang fp contract(off)")                                                                         \
        if (affine) v = ADD(MUL(v, s), t);                                                                        \
        if (activation != QC_TAIL_NONE) v = BLENDV(v, SET1(0.0f), CMP(v, SET1(0.0f), _CMP_LE_OQ));               \
        if (activation == QC_TAIL_RELU6) v = BLENDV(v, SET1(6.0f), CMP(v, SET1(6.0f), _CMP_GT_OQ));              \
        return v;                                                                                                 \
    }
QC_F32_TAIL(qc_f32_tail256, __m256, _mm256_mul_ps, _mm256_add_ps, _mm256_set1_ps, _mm256_cmp_ps, _mm256_blendv_ps)
QC_F32_TAIL(qc_f32_tail128, __m128, _mm_mul_ps, _mm_add_ps, _mm_set1_ps, _mm_cmp_ps, _mm_blendv_ps)
#undef QC_F32_TAIL

/// The 6x16 micro-kernel: twelve YMM accumulators, two B vectors and one broadcast (15 of 16
/// registers).
static inline __attribute__((always_inline)) void qc_sgemm_6x16_body(
    int mode, ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *offsets, const float *const *rows,
    ptrdiff_t cin, const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
    const qc_f32_tail *tail) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (bias) {
        __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
        c00 = c10 = c20 = c30 = c40 = c50 = b0;
        c01 = c11 = c21 = c31 = c41 = c51 = b1;
    } else {
        c00 = _mm256_loadu_ps(c + 0 * ldc); c01 = _mm256_loadu_ps(c + 0 * ldc + 8);
        c10 = _mm256_loadu_ps(c + 1 * ldc); c11 = _mm256_loadu_ps(c + 1 * ldc + 8);
        c20 = _mm256_loadu_ps(c + 2 * ldc); c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
        c30 = _mm256_loadu_ps(c + 3 * ldc); c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
        c40 = _mm256_loadu_ps(c + 4 * ldc); c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
        c50 = _mm256_loadu_ps(c + 5 * ldc); c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
    }
    // One k step: B row `bk`, A's six values at p0 ... p5.
#define QC_STEP(bk, p0, p1, p2, p3, p4, p5) do {                                                            \
        __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps((bk) + 8), av;                                   \
        av = _mm256_broadcast_ss(p0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01); \
        av = _mm256_broadcast_ss(p1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11); \
        av = _mm256_broadcast_ss(p2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21); \
        av = _mm256_broadcast_ss(p3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31); \
        av = _mm256_broadcast_ss(p4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41); \
        av = _mm256_broadcast_ss(p5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51); \
    } while (0)
    if (mode == QC_A_INDIRECT) {
        for (ptrdiff_t t = 0; t < kc / cin; t++) {
            const float *p0 = rows[6 * t], *p1 = rows[6 * t + 1], *p2 = rows[6 * t + 2];
            const float *p3 = rows[6 * t + 3], *p4 = rows[6 * t + 4], *p5 = rows[6 * t + 5];
            const float *bt = b + 16 * t * cin;
            for (ptrdiff_t i = 0; i < cin; i++) QC_STEP(bt + 16 * i, p0 + i, p1 + i, p2 + i, p3 + i, p4 + i, p5 + i);
        }
    } else {
        for (ptrdiff_t k = 0; k < kc; k++) {
            const float *p = mode == QC_A_IN_PLACE ? a + offsets[k] : a + 6 * k;
            const ptrdiff_t s = mode == QC_A_IN_PLACE ? a_step : 1;
            QC_STEP(b + 16 * k, p, p + s, p + 2 * s, p + 3 * s, p + 4 * s, p + 5 * s);
        }
    }
#undef QC_STEP
    if (clamps) {
        const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#define QC_CLAMP(v) v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi)
        QC_CLAMP(c00); QC_CLAMP(c01); QC_CLAMP(c10); QC_CLAMP(c11); QC_CLAMP(c20); QC_CLAMP(c21);
        QC_CLAMP(c30); QC_CLAMP(c31); QC_CLAMP(c40); QC_CLAMP(c41); QC_CLAMP(c50); QC_CLAMP(c51);
#undef QC_CLAMP
    }
    if (tail) {
        const int affine = tail->scale != NULL, act = tail->activation;
        const __m256 s0 = affine ? _mm256_loadu_ps(tail->scale) : _mm256_setzero_ps();
        const __m256 s1 = affine ? _mm256_loadu_ps(tail->scale + 8) : _mm256_setzero_ps();
        const __m256 t0 = affine ? _mm256_loadu_ps(tail->shift) : _mm256_setzero_ps();
        const __m256 t1 = affine ? _mm256_loadu_ps(tail->shift + 8) : _mm256_setzero_ps();
#define QC_TAIL(v0, v1) v0 = qc_f32_tail256(v0, s0, t0, affine, act); v1 = qc_f32_tail256(v1, s1, t1, affine, act)
        QC_TAIL(c00, c01); QC_TAIL(c10, c11); QC_TAIL(c20, c21); QC_TAIL(c30, c31); QC_TAIL(c40, c41); QC_TAIL(c50, c51);
#undef QC_TAIL
    }
    _mm256_storeu_ps(c + 0 * ldc, c00); _mm256_storeu_ps(c + 0 * ldc + 8, c01);
    _mm256_storeu_ps(c + 1 * ldc, c10); _mm256_storeu_ps(c + 1 * ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20); _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30); _mm256_storeu_ps(c + 3 * ldc + 8, c31);
    _mm256_storeu_ps(c + 4 * ldc, c40); _mm256_storeu_ps(c + 4 * ldc + 8, c41);
    _mm256_storeu_ps(c + 5 * ldc, c50); _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}

void qc_sgemm_6x16_avx2(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b,
                        float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                        const qc_f32_tail *tail) {
    if (a_offsets) {
        qc_sgemm_6x16_body(QC_A_IN_PLACE, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);
    } else {
        qc_sgemm_6x16_body(QC_A_PACKED, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);
    }
}

/// The 6x8 (`V` = __m256, 8 lanes) and 6x4 (`V` = __m128) kernels: the left columns of the same
/// 16-wide packed panel, six accumulators; the same three ways of reading A.
#define QC_SGEMM_6XN(NAME, V, LOAD, STORE, SET1, FMADD, MIN, MAX, BCAST, TAIL)                                       \
    static inline __attribute__((always_inline)) void NAME##_body(                                               \
        int mode, ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *offsets,                      \
        const float *const *rows, ptrdiff_t cin, const float *b, float *c, ptrdiff_t ldc, const float *bias,     \
        int clamps, float lo, float hi, const qc_f32_tail *tail) {                                               \
        V r0, r1, r2, r3, r4, r5;                                                                                \
        if (bias) {                                                                                              \
            r0 = r1 = r2 = r3 = r4 = r5 = LOAD(bias);                                                            \
        } else {                                                                                                 \
            r0 = LOAD(c); r1 = LOAD(c + ldc); r2 = LOAD(c + 2 * ldc);                                            \
            r3 = LOAD(c + 3 * ldc); r4 = LOAD(c + 4 * ldc); r5 = LOAD(c + 5 * ldc);                              \
        }                                                                                                        \
        if (mode == QC_A_INDIRECT) {                                                                             \
            for (ptrdiff_t t = 0; t < kc / cin; t++) {                                                           \
                const float *p0 = rows[6 * t], *p1 = rows[6 * t + 1], *p2 = rows[6 * t + 2];                     \
                const float *p3 = rows[6 * t + 3], *p4 = rows[6 * t + 4], *p5 = rows[6 * t + 5];                 \
                const float *bt = b + 16 * t * cin;                                                              \
                for (ptrdiff_t i = 0; i < cin; i++) {                                                            \
                    V b0 = LOAD(bt + 16 * i);                                                                    \
                    r0 = FMADD(BCAST(p0 + i), b0, r0); r1 = FMADD(BCAST(p1 + i), b0, r1);                        \
                    r2 = FMADD(BCAST(p2 + i), b0, r2); r3 = FMADD(BCAST(p3 + i), b0, r3);                        \
                    r4 = FMADD(BCAST(p4 + i), b0, r4); r5 = FMADD(BCAST(p5 + i), b0, r5);                        \
                }                                                                                                \
            }                                                                                                    \
        } else {                                                                                                 \
            for (ptrdiff_t k = 0; k < kc; k++) {                                                                 \
                V b0 = LOAD(b + 16 * k);                                                                         \
                const float *p = mode == QC_A_IN_PLACE ? a + offsets[k] : a + 6 * k;                             \
                const ptrdiff_t s = mode == QC_A_IN_PLACE ? a_step : 1;                                          \
                r0 = FMADD(BCAST(p), b0, r0); r1 = FMADD(BCAST(p + s), b0, r1);                                  \
                r2 = FMADD(BCAST(p + 2 * s), b0, r2); r3 = FMADD(BCAST(p + 3 * s), b0, r3);                      \
                r4 = FMADD(BCAST(p + 4 * s), b0, r4); r5 = FMADD(BCAST(p + 5 * s), b0, r5);                      \
            }                                                                                                    \
        }                                                                                                        \
        if (clamps) {                                                                                            \
            const V vlo = SET1(lo), vhi = SET1(hi);                                                              \
            r0 = MIN(MAX(r0, vlo), vhi); r1 = MIN(MAX(r1, vlo), vhi); r2 = MIN(MAX(r2, vlo), vhi);               \
            r3 = MIN(MAX(r3, vlo), vhi); r4 = MIN(MAX(r4, vlo), vhi); r5 = MIN(MAX(r5, vlo), vhi);               \
        }                                                                                                        \
        if (tail) {                                                                                              \
            const int affine = tail->scale != NULL, act = tail->activation;                                      \
            const V s0 = affine ? LOAD(tail->scale) : SET1(0.0f), t0 = affine ? LOAD(tail->shift) : SET1(0.0f);   \
            r0 = TAIL(r0, s0, t0, affine, act); r1 = TAIL(r1, s0, t0, affine, act);                              \
            r2 = TAIL(r2, s0, t0, affine, act); r3 = TAIL(r3, s0, t0, affine, act);                              \
            r4 = TAIL(r4, s0, t0, affine, act); r5 = TAIL(r5, s0, t0, affine, act);                              \
        }                                                                                                        \
        STORE(c, r0); STORE(c + ldc, r1); STORE(c + 2 * ldc, r2);                                                \
        STORE(c + 3 * ldc, r3); STORE(c + 4 * ldc, r4); STORE(c + 5 * ldc, r5);                                  \
    }                                                                                                            \
    void NAME##_avx2(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b, \
                     float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,                \
                     const qc_f32_tail *tail) {                                                                  \
        if (a_offsets) {                                                                                         \
            NAME##_body(QC_A_IN_PLACE, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);      \
        } else {                                                                                                 \
            NAME##_body(QC_A_PACKED, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);        \
        }                                                                                                        \
    }

QC_SGEMM_6XN(qc_sgemm_6x8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_min_ps,
             _mm256_max_ps, _mm256_broadcast_ss, qc_f32_tail256)
QC_SGEMM_6XN(qc_sgemm_6x4, __m128, _mm_loadu_ps, _mm_storeu_ps, _mm_set1_ps, _mm_fmadd_ps, _mm_min_ps, _mm_max_ps,
             _mm_broadcast_ss, qc_f32_tail128)
#undef QC_SGEMM_6XN

/// The indirect kernels are the same bodies reading A through the row table.
void qc_sgemm_6xw_indirect_avx2(int width, ptrdiff_t taps, ptrdiff_t cin, const float *const *rows, const float *b,
                                float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                                const qc_f32_tail *tail) {
    const ptrdiff_t kc = taps * cin;
    if (width == 16) qc_sgemm_6x16_body(QC_A_INDIRECT, kc, NULL, 0, NULL, rows, cin, b, c, ldc, bias, clamps, lo, hi, tail);
    else if (width == 8) qc_sgemm_6x8_body(QC_A_INDIRECT, kc, NULL, 0, NULL, rows, cin, b, c, ldc, bias, clamps, lo, hi, tail);
    else qc_sgemm_6x4_body(QC_A_INDIRECT, kc, NULL, 0, NULL, rows, cin, b, c, ldc, bias, clamps, lo, hi, tail);
}

static inline float qc_fmaf_avx2(float a, float b, float c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

/// One depthwise output pixel, channels `ch ..< channels`: `base` is the offset in `sample` of tap
/// (ky0, kx0), the first tap inside the image, `w0` its weights; `taps_y` x `taps_x` taps. Accumulates
/// from the bias in (ky, kx) order, as every path here does, so all paths give the same floats.
static inline void qc_dw_pixel_avx2(const float *sample, ptrdiff_t base, ptrdiff_t row_floats, ptrdiff_t channels,
                                    const float *w0, ptrdiff_t kernel_w, ptrdiff_t taps_y, ptrdiff_t taps_x,
                                    ptrdiff_t dilation_h, ptrdiff_t dilation_w, const float *bias, ptrdiff_t ch,
                                    float *o, int clamps, float lo, float hi) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    // 32 channels at a time: four independent FMA chains hide the FMA latency.
    for (; ch + 32 <= channels; ch += 32) {
        __m256 a0 = _mm256_loadu_ps(bias + ch), a1 = _mm256_loadu_ps(bias + ch + 8);
        __m256 a2 = _mm256_loadu_ps(bias + ch + 16), a3 = _mm256_loadu_ps(bias + ch + 24);
        for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
            const float *in_row = sample + (base + ky * dilation_h * row_floats + ch);
            const float *w_row = w0 + ky * kernel_w * channels + ch;
            for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                const float *in = in_row + kx * dilation_w * channels, *w = w_row + kx * channels;
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(in), _mm256_loadu_ps(w), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 8), _mm256_loadu_ps(w + 8), a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 16), _mm256_loadu_ps(w + 16), a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(in + 24), _mm256_loadu_ps(w + 24), a3);
            }
        }
        if (clamps) {
            a0 = _mm256_min_ps(_mm256_max_ps(a0, vlo), vhi); a1 = _mm256_min_ps(_mm256_max_ps(a1, vlo), vhi);
            a2 = _mm256_min_ps(_mm256_max_ps(a2, vlo), vhi); a3 = _mm256_min_ps(_mm256_max_ps(a3, vlo), vhi);
        }
        _mm256_storeu_ps(o + ch, a0); _mm256_storeu_ps(o + ch + 8, a1);
        _mm256_storeu_ps(o + ch + 16, a2); _mm256_storeu_ps(o + ch + 24, a3);
    }
    for (; ch + 8 <= channels; ch += 8) {
        __m256 acc = _mm256_loadu_ps(bias + ch);
        for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
            const float *in_row = sample + (base + ky * dilation_h * row_floats + ch);
            const float *w_row = w0 + ky * kernel_w * channels + ch;
            for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(in_row + kx * dilation_w * channels),
                                      _mm256_loadu_ps(w_row + kx * channels), acc);
            }
        }
        if (clamps) acc = _mm256_min_ps(_mm256_max_ps(acc, vlo), vhi);
        _mm256_storeu_ps(o + ch, acc);
    }
    for (; ch < channels; ch++) {
        float acc = bias[ch];
        for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
            for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                acc = qc_fmaf_avx2(sample[base + ky * dilation_h * row_floats + kx * dilation_w * channels + ch],
                                   w0[(ky * kernel_w + kx) * channels + ch], acc);
            }
        }
        if (clamps) acc = acc < lo ? lo : (acc > hi ? hi : acc);
        o[ch] = acc;
    }
}

/// 3x3, dilation 1, any stride and padding: one output row, channels `0 ..< channels & ~7` (the caller
/// does the rest). Channel blocks outermost, so a block's nine weight vectors stay in registers across
/// the row. Pixels whose three tap columns lie inside (`[ox0, ox1)`) run four at a time: four
/// interleaved chains over the tap rows `[ky0, ky1)` that lie inside. Zen 1 splits a YMM FMA into two
/// 128-bit halves on its two FMA pipes, one YMM FMA per cycle at a latency of 5, so one pixel's chain
/// of nine dependent FMAs ran at about a fifth of the peak (before: 3.4-14.6 GFLOP/s of 40 on
/// mini_xception's and sepconv_wide's shapes). The border pixels take the taps inside, each under its
/// own test, on the same registers. From the bias in (ky, kx) order, the taps outside skipped, as every
/// level does, so the same floats.
static void qc_dw3x3_row_avx2(const float *sample, ptrdiff_t origin_y, ptrdiff_t ky0, ptrdiff_t ky1, ptrdiff_t in_w,
                              ptrdiff_t channels, const float *weights, const float *bias, ptrdiff_t stride_w,
                              ptrdiff_t pad_left, ptrdiff_t ox0, ptrdiff_t ox1, ptrdiff_t out_w, float *out, int clamps,
                              float lo, float hi) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const ptrdiff_t c1 = channels, c2 = 2 * channels, row_floats = in_w * channels;
    const int row0 = ky0 <= 0, row2 = ky1 >= 3;  // tap row 1 always lies inside (ky0 <= 1 < ky1)
    for (ptrdiff_t ch = 0; ch + 8 <= channels; ch += 8) {
        const float *w = weights + ch;
        const __m256 w00 = _mm256_loadu_ps(w), w01 = _mm256_loadu_ps(w + c1), w02 = _mm256_loadu_ps(w + c2);
        const __m256 w10 = _mm256_loadu_ps(w + 3 * c1), w11 = _mm256_loadu_ps(w + 4 * c1);
        const __m256 w12 = _mm256_loadu_ps(w + 5 * c1), w20 = _mm256_loadu_ps(w + 6 * c1);
        const __m256 w21 = _mm256_loadu_ps(w + 7 * c1), w22 = _mm256_loadu_ps(w + 8 * c1);
        const __m256 b = _mm256_loadu_ps(bias + ch);
        for (ptrdiff_t ox = 0; ox < out_w; ox++) {
            const ptrdiff_t origin_x = ox * stride_w - pad_left;
            // Tap (1, 0) of this pixel, where rows 0 and 2 are a row before and after; a pointer is
            // formed only for taps inside the image.
            const ptrdiff_t base = (origin_y + 1) * row_floats + origin_x * channels + ch;
            if (stride_w == 1 && ox >= ox0 && ox + 6 <= ox1) {
                const float *p = sample + base;
                // Stride 1: six adjacent pixels read eight input vectors per tap row, each loaded once
                // and used by up to three pixels' chains (tap kx of pixel i is input i + kx), where
                // the block below loads one per FMA. Each chain still takes its taps in (ky, kx) order.
                __m256 a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, v;
#define QC_DW_ROW6(offset, wa, wb, wc)                                                                       \
                v = _mm256_loadu_ps(p + (offset)); a0 = _mm256_fmadd_ps(v, wa, a0);                              \
                v = _mm256_loadu_ps(p + (offset) + c1); a0 = _mm256_fmadd_ps(v, wb, a0); a1 = _mm256_fmadd_ps(v, wa, a1); \
                v = _mm256_loadu_ps(p + (offset) + c2); a0 = _mm256_fmadd_ps(v, wc, a0); a1 = _mm256_fmadd_ps(v, wb, a1); \
                a2 = _mm256_fmadd_ps(v, wa, a2);                                                                   \
                v = _mm256_loadu_ps(p + (offset) + 3 * c1); a1 = _mm256_fmadd_ps(v, wc, a1); a2 = _mm256_fmadd_ps(v, wb, a2); \
                a3 = _mm256_fmadd_ps(v, wa, a3);                                                                   \
                v = _mm256_loadu_ps(p + (offset) + 4 * c1); a2 = _mm256_fmadd_ps(v, wc, a2); a3 = _mm256_fmadd_ps(v, wb, a3); \
                a4 = _mm256_fmadd_ps(v, wa, a4);                                                                   \
                v = _mm256_loadu_ps(p + (offset) + 5 * c1); a3 = _mm256_fmadd_ps(v, wc, a3); a4 = _mm256_fmadd_ps(v, wb, a4); \
                a5 = _mm256_fmadd_ps(v, wa, a5);                                                                   \
                v = _mm256_loadu_ps(p + (offset) + 6 * c1); a4 = _mm256_fmadd_ps(v, wc, a4); a5 = _mm256_fmadd_ps(v, wb, a5); \
                v = _mm256_loadu_ps(p + (offset) + 7 * c1); a5 = _mm256_fmadd_ps(v, wc, a5);
                if (row0) { QC_DW_ROW6(-row_floats, w00, w01, w02) }
                QC_DW_ROW6(0, w10, w11, w12)
                if (row2) { QC_DW_ROW6(row_floats, w20, w21, w22) }
#undef QC_DW_ROW6
                if (clamps) {
                    a0 = _mm256_min_ps(_mm256_max_ps(a0, vlo), vhi); a1 = _mm256_min_ps(_mm256_max_ps(a1, vlo), vhi);
                    a2 = _mm256_min_ps(_mm256_max_ps(a2, vlo), vhi); a3 = _mm256_min_ps(_mm256_max_ps(a3, vlo), vhi);
                    a4 = _mm256_min_ps(_mm256_max_ps(a4, vlo), vhi); a5 = _mm256_min_ps(_mm256_max_ps(a5, vlo), vhi);
                }
                float *o = out + ox * channels + ch;
                _mm256_storeu_ps(o, a0); _mm256_storeu_ps(o + channels, a1); _mm256_storeu_ps(o + 2 * channels, a2);
                _mm256_storeu_ps(o + 3 * channels, a3); _mm256_storeu_ps(o + 4 * channels, a4);
                _mm256_storeu_ps(o + 5 * channels, a5);
                ox += 5;
                continue;
            }
            if (ox >= ox0 && ox + 4 <= ox1) {
                const float *p = sample + base;
                const ptrdiff_t s1 = stride_w * channels, s2 = 2 * s1, s3 = 3 * s1;
                __m256 a0 = b, a1 = b, a2 = b, a3 = b;
#define QC_DW_TAP4(offset, wv)                                                   \
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p + (offset)), wv, a0);      \
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(p + (offset) + s1), wv, a1); \
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(p + (offset) + s2), wv, a2); \
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(p + (offset) + s3), wv, a3);
                if (row0) { QC_DW_TAP4(-row_floats, w00) QC_DW_TAP4(c1 - row_floats, w01) QC_DW_TAP4(c2 - row_floats, w02) }
                QC_DW_TAP4(0, w10) QC_DW_TAP4(c1, w11) QC_DW_TAP4(c2, w12)
                if (row2) { QC_DW_TAP4(row_floats, w20) QC_DW_TAP4(row_floats + c1, w21) QC_DW_TAP4(row_floats + c2, w22) }
#undef QC_DW_TAP4
                if (clamps) {
                    a0 = _mm256_min_ps(_mm256_max_ps(a0, vlo), vhi); a1 = _mm256_min_ps(_mm256_max_ps(a1, vlo), vhi);
                    a2 = _mm256_min_ps(_mm256_max_ps(a2, vlo), vhi); a3 = _mm256_min_ps(_mm256_max_ps(a3, vlo), vhi);
                }
                float *o = out + ox * channels + ch;
                _mm256_storeu_ps(o, a0); _mm256_storeu_ps(o + channels, a1);
                _mm256_storeu_ps(o + 2 * channels, a2); _mm256_storeu_ps(o + 3 * channels, a3);
                ox += 3;
                continue;
            }
            const int col0 = origin_x >= 0, col2 = origin_x + 2 < in_w;
            // Tap (ky, kx) when it lies inside; its pointer is formed only then.
            __m256 acc = b;
#define QC_DW_TAP(ok, offset, wv) if (ok) acc = _mm256_fmadd_ps(_mm256_loadu_ps(sample + (base + (offset))), wv, acc);
            QC_DW_TAP(row0 && col0, -row_floats, w00) QC_DW_TAP(row0, c1 - row_floats, w01)
            QC_DW_TAP(row0 && col2, c2 - row_floats, w02)
            QC_DW_TAP(col0, 0, w10) QC_DW_TAP(1, c1, w11) QC_DW_TAP(col2, c2, w12)
            QC_DW_TAP(row2 && col0, row_floats, w20) QC_DW_TAP(row2, row_floats + c1, w21)
            QC_DW_TAP(row2 && col2, row_floats + c2, w22)
#undef QC_DW_TAP
            if (clamps) acc = _mm256_min_ps(_mm256_max_ps(acc, vlo), vhi);
            _mm256_storeu_ps(out + ox * channels + ch, acc);
        }
    }
}

void qc_depthwise_row_f32_avx2(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                               const float *weights, const float *bias, ptrdiff_t kernel_h, ptrdiff_t kernel_w,
                               ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w,
                               ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, float *out,
                               int clamps, float lo, float hi) {
    ptrdiff_t origin_y = out_y * stride_h - pad_top, ky0, ky1;
    qc_dw_tap_range(origin_y, kernel_h, dilation_h, in_h, &ky0, &ky1);
    const ptrdiff_t row_floats = in_w * channels;
    // The 3x3 rows do channels [0, vector_channels) of every pixel when tap row 1 lies inside and
    // tap column 1 of every pixel does (so each pixel has a tap there to form pointers from).
    ptrdiff_t first = 0;
    const ptrdiff_t vector_channels = channels & ~(ptrdiff_t)7;
    if (kernel_h == 3 && kernel_w == 3 && dilation_h == 1 && dilation_w == 1 && ky0 <= 1 && ky1 >= 2 &&
        vector_channels > 0 && pad_left <= 1 && (out_w - 1) * stride_w - pad_left + 1 < in_w) {
        // Pixels whose three tap columns lie inside: [ox0, ox1).
        ptrdiff_t ox0 = (pad_left + stride_w - 1) / stride_w;           // first with ox * sw - pad >= 0
        ptrdiff_t last = in_w - 3 + pad_left;                            // ox * sw <= last
        ptrdiff_t ox1 = last < 0 ? 0 : last / stride_w + 1;
        if (ox1 > out_w) ox1 = out_w;
        if (ox0 > ox1) ox0 = ox1;
        qc_dw3x3_row_avx2(sample, origin_y, ky0, ky1, in_w, channels, weights, bias, stride_w, pad_left, ox0, ox1, out_w,
                          out, clamps, lo, hi);
        first = vector_channels;
        if (first == channels) return;
    }
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t origin_x = ox * stride_w - pad_left, kx0, kx1;
        qc_dw_tap_range(origin_x, kernel_w, dilation_w, in_w, &kx0, &kx1);
        // Offset of tap (ky0, kx0); taps outside the image are never formed as pointers.
        const ptrdiff_t base = (origin_y + ky0 * dilation_h) * row_floats + (origin_x + kx0 * dilation_w) * channels;
        qc_dw_pixel_avx2(sample, base, row_floats, channels, weights + (ky0 * kernel_w + kx0) * channels, kernel_w,
                         ky1 - ky0, kx1 - kx0, dilation_h, dilation_w, bias, first, out + ox * channels, clamps, lo,
                         hi);
    }
}

/// One max-pool step, `v >= acc ? v : acc` by an ordered compare (a NaN never replaces, as Swift's
/// `max`).
static inline __attribute__((always_inline)) __m256 qc_max_step_avx2(__m256 acc, __m256 v) {
    return _mm256_blendv_ps(acc, v, _mm256_cmp_ps(v, acc, _CMP_GE_OQ));
}

/// Max pool of `blocks` (1, 2 or 4, a constant after inlining) 8-channel blocks from `ch` of one
/// output pixel over window rows [y0, y1) and columns [x0, x1). Each window row is folded from -inf
/// on its own chain and the rows' results then in order: the step keeps the last value that is >= all
/// before it (zeros of either sign equal) and never a NaN, so this gives the same bits as one fold over
/// the window in (y, x) order, with a third of its dependent steps. Before, one chain of compares and
/// blends per block waited on each step's latency in turn (mini_xception's 3x3 / 2 pool of 26x26x16 took
/// 6.1 us per image).
static inline __attribute__((always_inline)) void qc_maxpool_blocks_avx2(const float *sample, ptrdiff_t in_w,
                                                                          ptrdiff_t channels, ptrdiff_t ch, int blocks,
                                                                          ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t x0,
                                                                          ptrdiff_t x1, float *o) {
    const __m256 low = _mm256_set1_ps(-__builtin_inff());
    __m256 acc[4] = {low, low, low, low};
    for (ptrdiff_t y = y0; y < y1; y++) {
        __m256 row[4] = {low, low, low, low};
        for (ptrdiff_t x = x0; x < x1; x++) {
            const float *p = sample + (y * in_w + x) * channels + ch;
            for (int b = 0; b < blocks; b++) row[b] = qc_max_step_avx2(row[b], _mm256_loadu_ps(p + 8 * b));
        }
        for (int b = 0; b < blocks; b++) acc[b] = qc_max_step_avx2(acc[b], row[b]);
    }
    for (int b = 0; b < blocks; b++) _mm256_storeu_ps(o + ch + 8 * b, acc[b]);
}

/// Float pooling, 8 channels per YMM, the last channels one at a time. Max pools fold 32, 16 or 8
/// channels at a time (`qc_maxpool_blocks_avx2`); average pools sum each block in (y, x) order.
void qc_pool_row_f32_avx2(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                          ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
                          ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int average, float *out) {
    ptrdiff_t y0, y1;
    qc_pool_window(out_y, stride_h, pad_top, kernel_h, in_h, &y0, &y1);
    const ptrdiff_t vector_channels = channels & ~(ptrdiff_t)7;
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t x0, x1;
        qc_pool_window(ox, stride_w, pad_left, kernel_w, in_w, &x0, &x1);
        float *o = out + ox * channels;
        if (!average) {
            ptrdiff_t ch = 0;
            for (; ch + 32 <= vector_channels; ch += 32) qc_maxpool_blocks_avx2(sample, in_w, channels, ch, 4, y0, y1, x0, x1, o);
            if (ch + 16 <= vector_channels) {
                qc_maxpool_blocks_avx2(sample, in_w, channels, ch, 2, y0, y1, x0, x1, o);
                ch += 16;
            }
            if (ch < vector_channels) qc_maxpool_blocks_avx2(sample, in_w, channels, ch, 1, y0, y1, x0, x1, o);
            if (vector_channels < channels) {
                qc_pool_pixel_f32_plain(sample, in_w, channels, vector_channels, y0, y1, x0, x1, 0, 1.0f, o);
            }
        } else {
            const float scale = qc_pool_scale(y0, y1, x0, x1);
            for (ptrdiff_t ch = 0; ch < vector_channels; ch += 8) {
                __m256 acc = _mm256_setzero_ps();
                for (ptrdiff_t y = y0; y < y1; y++) {
                    for (ptrdiff_t x = x0; x < x1; x++) {
                        acc = _mm256_add_ps(acc, _mm256_loadu_ps(sample + (y * in_w + x) * channels + ch));
                    }
                }
                _mm256_storeu_ps(o + ch, _mm256_mul_ps(acc, _mm256_set1_ps(scale)));
            }
            qc_pool_pixel_f32_plain(sample, in_w, channels, vector_channels, y0, y1, x0, x1, 1, scale, o);
        }
    }
}

void qc_activation_f32_avx2(int kind, float *x, ptrdiff_t n) { qc_activation_f32_loop(kind, x, n); }

void qc_add_f32_avx2(const float *a, const float *b, float *out, ptrdiff_t n, int activation) {
    qc_add_f32_loop(a, b, out, n, activation);
}

float qc_fma_probe_avx2(ptrdiff_t iterations, float seed, int64_t *flops) {
    *flops = (int64_t)iterations * 12 * 8 * 2;
    const __m256 m = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(seed);
    __m256 a0 = _mm256_set1_ps(1), a1 = _mm256_set1_ps(2), a2 = _mm256_set1_ps(3), a3 = _mm256_set1_ps(4);
    __m256 a4 = _mm256_set1_ps(5), a5 = _mm256_set1_ps(6), a6 = _mm256_set1_ps(7), a7 = _mm256_set1_ps(8);
    __m256 a8 = _mm256_set1_ps(9), a9 = _mm256_set1_ps(10), a10 = _mm256_set1_ps(11), a11 = _mm256_set1_ps(12);
    for (ptrdiff_t i = 0; i < iterations; i++) {
        a0 = _mm256_fmadd_ps(a0, m, add); a1 = _mm256_fmadd_ps(a1, m, add); a2 = _mm256_fmadd_ps(a2, m, add);
        a3 = _mm256_fmadd_ps(a3, m, add); a4 = _mm256_fmadd_ps(a4, m, add); a5 = _mm256_fmadd_ps(a5, m, add);
        a6 = _mm256_fmadd_ps(a6, m, add); a7 = _mm256_fmadd_ps(a7, m, add); a8 = _mm256_fmadd_ps(a8, m, add);
        a9 = _mm256_fmadd_ps(a9, m, add); a10 = _mm256_fmadd_ps(a10, m, add); a11 = _mm256_fmadd_ps(a11, m, add);
    }
    __m256 t = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    t = _mm256_add_ps(t, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, t);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

#pragma clang attribute pop
#endif
