// Run-time choice of the kernel level: cpuid + xgetbv once at load, `QCONVERT_ISA` honoured when the
// CPU runs it, and the `qc_*` entry points forwarding to the chosen table (one indirect call per
// micro-kernel call; a micro-kernel call does hundreds of multiply-adds).
#include "kernels_internal.h"

#include <stdio.h>
#include <stdlib.h>

#if QC_X86
#include <cpuid.h>
#endif

#define QC_TABLE(sfx, lvl, dw_build, dw_row, add2, probe_s16)                                                                                       \
    {lvl, qc_gemm_s16_4x16_##sfx, qc_gemm_s16_4x8_##sfx, qc_gemm_u8s8_4x16_##sfx, qc_gemm_u8s8_4x16_i16_##sfx,      \
     qc_requant_rows_##sfx, qc_requant_flat_##sfx, qc_rescale_accumulate_##sfx, qc_sgemm_6x16_##sfx,               \
     qc_sgemm_6x8_##sfx, qc_sgemm_6x4_##sfx, qc_depthwise_row_f32_##sfx, qc_fma_probe_##sfx,                      \
     qc_int8_probe_##sfx, qc_depthwise_row_i32_##sfx, qc_sgemm_6xw_indirect_##sfx,                               \
     qc_gemm_u8s8_4x16_indirect_##sfx, qc_gemm_u8s8_4x32_indirect_##sfx, qc_maxpool_row_i32_##sfx, \
     qc_lookup_i32_##sfx, qc_avgpool_row_i32_##sfx, qc_offset_u8_##sfx, qc_pool_row_f32_##sfx, \
     qc_activation_f32_##sfx, qc_gemm_u8s8_4x16_indirect_##sfx, qc_gemm_u8s8_4x32_indirect_##sfx, dw_build, dw_row, \
     qc_quantize_edge_f32_##sfx, NULL, add2, qc_add_f32_##sfx, probe_s16}

static const qc_kernels qc_table_scalar = QC_TABLE(scalar, QC_ISA_SCALAR, NULL, NULL, NULL, NULL);
#if QC_X86
static const qc_kernels qc_table_avx2 = QC_TABLE(avx2, QC_ISA_AVX2, qc_dw3x3_pairs_build_avx2, qc_dw3x3_pairs_row_avx2,
                                                 qc_add2_requant_avx2, qc_int8_probe_s16_avx2);
/// AVX-512 F/BW/VL: 16-lane kernels; the 8- and 4-column float kernels and the 8-channel s16 GEMM are
/// the AVX2 level's (their vectors are 8 lanes or fewer).
static const qc_kernels qc_table_avx512 = {
    QC_ISA_AVX512, qc_gemm_s16_4x16_avx512, qc_gemm_s16_4x8_avx2, qc_gemm_u8s8_4x16_avx512,
    qc_gemm_u8s8_4x16_i16_avx512, qc_requant_rows_avx512, qc_requant_flat_avx512, qc_rescale_accumulate_avx512,
    qc_sgemm_6x16_avx512, qc_sgemm_6x8_avx2, qc_sgemm_6x4_avx2, qc_depthwise_row_f32_avx512, qc_fma_probe_avx512,
    qc_int8_probe_avx512, qc_depthwise_row_i32_avx512, qc_sgemm_6xw_indirect_avx512,
    qc_gemm_u8s8_4x16_indirect_avx512, qc_gemm_u8s8_4x32_indirect_avx512, qc_maxpool_row_i32_avx512,
    qc_lookup_i32_avx512, qc_avgpool_row_i32_avx512, qc_offset_u8_avx512, qc_pool_row_f32_avx512,
    qc_activation_f32_avx512, qc_gemm_u8s8_4x16_indirect_avx512, qc_gemm_u8s8_4x32_indirect_avx512,
    qc_dw3x3_pairs_build_avx512, qc_dw3x3_pairs_row_avx512, qc_quantize_edge_f32_avx512, NULL,
    qc_add2_requant_avx512, qc_add_f32_avx512, qc_int8_probe_s16_avx512};
/// AVX-512 VNNI: its own int8/int16 GEMM micro-kernels (`vpdpbusd`, `vpdpwssd`), the avx512 level's others.
static const qc_kernels qc_table_avx512vnni = {
    QC_ISA_AVX512VNNI, qc_gemm_s16_4x16_avx512vnni, qc_gemm_s16_4x8_avx2, qc_gemm_u8s8_4x16_avx512vnni,
    qc_gemm_u8s8_4x16_i16_avx512vnni, qc_requant_rows_avx512, qc_requant_flat_avx512, qc_rescale_accumulate_avx512,
    qc_sgemm_6x16_avx512, qc_sgemm_6x8_avx2, qc_sgemm_6x4_avx2, qc_depthwise_row_f32_avx512, qc_fma_probe_avx512,
    qc_int8_probe_avx512vnni, qc_depthwise_row_i32_avx512, qc_sgemm_6xw_indirect_avx512,
    qc_gemm_u8s8_4x16_indirect_avx512vnni, qc_gemm_u8s8_4x32_indirect_avx512vnni, qc_maxpool_row_i32_avx512,
    qc_lookup_i32_avx512, qc_avgpool_row_i32_avx512, qc_offset_u8_avx512, qc_pool_row_f32_avx512,
    qc_activation_f32_avx512, qc_gemm_u8s8_4x8_indirect_avx512vnni,
    qc_gemm_u8s8_4x24_indirect_avx512vnni, qc_dw3x3_pairs_build_avx512, qc_dw3x3_pairs_row_avx512vnni,
    qc_quantize_edge_f32_avx512, qc_gemm_u8s8_indirect_tiles_avx512vnni, qc_add2_requant_avx512,
    qc_add_f32_avx512, NULL};
#endif

static const qc_kernels *qc_active_table = &qc_table_scalar;
static int qc_env_status = 0;
static char qc_env_text[64];
static char qc_model[96] = "unknown";
static char qc_features[160] = "";
static int qc_supports[QC_ISA_COUNT];

static const char *const qc_names[QC_ISA_COUNT] = {"scalar", "avx2", "avx512", "avx512vnni"};

const char *qc_isa_name(int level) { return level >= 0 && level < QC_ISA_COUNT ? qc_names[level] : "?"; }

int qc_isa_parse(const char *name) {
    for (int level = 0; level < QC_ISA_COUNT; level++) {
        if (strcmp(name, qc_names[level]) == 0) return level;
    }
    return -1;
}

int qc_isa_built(int level) {
#if QC_X86
    return level == QC_ISA_SCALAR || level == QC_ISA_AVX2 || level == QC_ISA_AVX512 || level == QC_ISA_AVX512VNNI;
#else
    return level == QC_ISA_SCALAR;
#endif
}

static void qc_append_feature(const char *name) {
    size_t used = strlen(qc_features);
    snprintf(qc_features + used, sizeof qc_features - used, "%s%s", used ? "," : "", name);
}

#if QC_X86
/// XCR0: which register states the OS saves on a context switch (bit 1 XMM, 2 YMM, 5-7 opmask and ZMM).
static uint64_t qc_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/// Fills `qc_supports`, the feature list and the brand string.
static void qc_detect(void) {
    qc_supports[QC_ISA_SCALAR] = 1;
#if QC_X86
    unsigned a, b, c, d;
    unsigned max_leaf = __get_cpuid_max(0, 0);
    if (max_leaf < 1 || !__get_cpuid(1, &a, &b, &c, &d)) return;
    // Display family and model (the Intel/AMD rule: extended fields count when the base family is 15,
    // or for the model also 6): virtual machines often hide the brand's model number, not these.
    unsigned family = (a >> 8) & 0xF, model = (a >> 4) & 0xF;
    if (family == 0xF) family += (a >> 20) & 0xFF;
    if (family >= 6) model += ((a >> 16) & 0xF) << 4;
    qc_append_feature("sse2");
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    uint64_t xcr0 = osxsave ? qc_xgetbv0() : 0;
    int ymm_state = (xcr0 & 0x6) == 0x6, zmm_state = (xcr0 & 0xE6) == 0xE6;
    int avx2 = 0, avx512f = 0, avx512bw = 0, avx512vl = 0, avx512vnni = 0, avxvnni = 0;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        avx2 = (b >> 5) & 1;
        avx512f = (b >> 16) & 1;
        avx512bw = (b >> 30) & 1;
        avx512vl = (b >> 31) & 1;
        avx512vnni = (c >> 11) & 1;
        __cpuid_count(7, 1, a, b, c, d);
        avxvnni = (a >> 4) & 1;
    }
    if (avx && ymm_state) qc_append_feature("avx");
    if (avx2 && ymm_state) qc_append_feature("avx2");
    if (fma && ymm_state) qc_append_feature("fma");
    if (avxvnni && ymm_state) qc_append_feature("avxvnni");
    if (avx512f && zmm_state) qc_append_feature("avx512f");
    if (avx512bw && zmm_state) qc_append_feature("avx512bw");
    if (avx512vl && zmm_state) qc_append_feature("avx512vl");
    if (avx512vnni && zmm_state) qc_append_feature("avx512vnni");
    if (!ymm_state) qc_append_feature("(OS does not save YMM)");
    else if ((avx512f || avx512bw) && !zmm_state) qc_append_feature("(OS does not save ZMM)");
    qc_supports[QC_ISA_AVX2] = avx && avx2 && fma && ymm_state;
    qc_supports[QC_ISA_AVX512] = qc_supports[QC_ISA_AVX2] && avx512f && avx512bw && avx512vl && zmm_state;
    qc_supports[QC_ISA_AVX512VNNI] = qc_supports[QC_ISA_AVX512] && avx512vnni;

    if (__get_cpuid_max(0x80000000, 0) >= 0x80000004) {
        unsigned words[12];
        for (unsigned leaf = 0; leaf < 3; leaf++) {
            __get_cpuid(0x80000002 + leaf, &words[4 * leaf], &words[4 * leaf + 1], &words[4 * leaf + 2],
                        &words[4 * leaf + 3]);
        }
        char brand[49];
        memcpy(brand, words, 48);
        brand[48] = 0;
        const char *start = brand;
        while (*start == ' ') start++;
        size_t length = strlen(start);
        while (length > 0 && start[length - 1] == ' ') length--;
        if (length > 0) {
            if (length >= sizeof qc_model) length = sizeof qc_model - 1;
            memcpy(qc_model, start, length);
            qc_model[length] = 0;
        }
    }
    size_t used = strlen(qc_model);
    snprintf(qc_model + used, sizeof qc_model - used, " (family %u model %u)", family, model);
#elif defined(__aarch64__)
    qc_append_feature("neon");
#endif
}

int qc_isa_cpu_supports(int level) { return level >= 0 && level < QC_ISA_COUNT ? qc_supports[level] : 0; }

const qc_kernels *qc_kernels_for(int level) {
    if (!qc_isa_built(level) || !qc_isa_cpu_supports(level)) return NULL;
#if QC_X86
    if (level == QC_ISA_AVX2) return &qc_table_avx2;
    if (level == QC_ISA_AVX512) return &qc_table_avx512;
    if (level == QC_ISA_AVX512VNNI) return &qc_table_avx512vnni;
#endif
    return &qc_table_scalar;
}

int qc_isa_best(void) {
    for (int level = QC_ISA_COUNT - 1; level > 0; level--) {
        if (qc_kernels_for(level)) return level;
    }
    return QC_ISA_SCALAR;
}

int qc_isa_active(void) { return qc_active_table->level; }

int qc_isa_select(int level) {
    if (level < 0 || level >= QC_ISA_COUNT) return -3;
    if (!qc_isa_cpu_supports(level)) return -1;
    if (!qc_isa_built(level)) return -2;
    qc_active_table = qc_kernels_for(level);
    return 0;
}

int qc_isa_env_status(void) { return qc_env_status; }
const char *qc_isa_env_value(void) { return qc_env_text; }
const char *qc_cpu_model(void) { return qc_model; }
const char *qc_cpu_features(void) { return qc_features; }

/// Runs when the library is loaded, before any kernel: detect, then the best level or `QCONVERT_ISA`.
/// A request this CPU or build cannot honour leaves the portable level active (always correct) and is
/// reported through `qc_isa_env_status`, which the CLI turns into an error.
__attribute__((constructor)) static void qc_isa_init(void) {
    qc_detect();
    qc_active_table = qc_kernels_for(qc_isa_best());
    const char *request = getenv("QCONVERT_ISA");
    if (!request || !*request) return;
    snprintf(qc_env_text, sizeof qc_env_text, "%s", request);
    int level = qc_isa_parse(request);
    int status = level < 0 ? -3 : qc_isa_select(level);
    if (status != 0) {
        qc_env_status = status;
        qc_active_table = &qc_table_scalar;
    }
}

// ---- Entry points -----------------------------------------------------------------------------------

void qc_gemm_s16_4x16(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c, ptrdiff_t ldc,
                      int accumulate) {
    qc_active_table->gemm_s16_4x16(a, lda, b, kpairs, c, ldc, accumulate);
}

void qc_gemm_s16_4x8(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c, ptrdiff_t ldc,
                     int accumulate) {
    qc_active_table->gemm_s16_4x8(a, lda, b, kpairs, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x16(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c, ptrdiff_t ldc,
                       int accumulate) {
    qc_active_table->gemm_u8s8_4x16(a, lda, b, kquads, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x16_i16(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c, ptrdiff_t ldc,
                           int accumulate, ptrdiff_t chunk) {
    qc_active_table->gemm_u8s8_4x16_i16(a, lda, b, kquads, c, ldc, accumulate, chunk);
}

void qc_gemm_u8s8_4x16_indirect(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_active_table->gemm_u8s8_4x16_indirect(taps, tap_quads, rows, b, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x32_indirect(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_active_table->gemm_u8s8_4x32_indirect(taps, tap_quads, rows, b, panel_stride, c, ldc, accumulate);
}

/// One tile of the level's indirect kernel of `width` channels.
static void qc_indirect_tile(const qc_kernels *k, int width, ptrdiff_t taps, ptrdiff_t tap_quads,
                             const uint8_t *const *rows, const int8_t *b, ptrdiff_t panel_stride, int32_t *c,
                             ptrdiff_t ldc, int accumulate) {
    switch (width) {
    case 8: k->gemm_u8s8_4x8_indirect(taps, tap_quads, rows, b, c, ldc, accumulate); break;
    case 16: k->gemm_u8s8_4x16_indirect(taps, tap_quads, rows, b, c, ldc, accumulate); break;
    case 24: k->gemm_u8s8_4x24_indirect(taps, tap_quads, rows, b, panel_stride, c, ldc, accumulate); break;
    default: k->gemm_u8s8_4x32_indirect(taps, tap_quads, rows, b, panel_stride, c, ldc, accumulate); break;
    }
}

void qc_gemm_u8s8_indirect_tiles(int width, ptrdiff_t tiles, ptrdiff_t tile_entries, ptrdiff_t taps, ptrdiff_t tap_quads,
                                 const uint8_t *const *rows, ptrdiff_t row_offset, const int8_t *b,
                                 ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    const qc_kernels *k = qc_active_table;
    if (k->gemm_u8s8_indirect_tiles) {
        k->gemm_u8s8_indirect_tiles(width, tiles, tile_entries, taps, tap_quads, rows, row_offset, b, panel_stride, c, ldc,
                                    accumulate);
        return;
    }
    enum { span = 64 };  // taps per call on a copy of the entries
    const uint8_t *moved[4 * span];
    for (ptrdiff_t t = 0; t < tiles; t++) {
        const uint8_t *const *r = rows + t * tile_entries;
        int32_t *ct = c + 4 * t * ldc;
        if (row_offset == 0) {
            qc_indirect_tile(k, width, taps, tap_quads, r, b, panel_stride, ct, ldc, accumulate);
            continue;
        }
        // The same sums in runs of `span` taps, the later runs accumulating onto the first.
        for (ptrdiff_t t0 = 0; t0 < taps; t0 += span) {
            const ptrdiff_t count = taps - t0 < span ? taps - t0 : span;
            for (ptrdiff_t i = 0; i < 4 * count; i++) moved[i] = qc_row(r + 4 * t0, (int)i, row_offset);
            qc_indirect_tile(k, width, count, tap_quads, moved, b + t0 * 64 * tap_quads, panel_stride, ct, ldc,
                             t0 > 0 || accumulate);
        }
    }
}

void qc_gemm_u8s8_4x8_indirect(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                               int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_active_table->gemm_u8s8_4x8_indirect(taps, tap_quads, rows, b, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x24_indirect(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, const int8_t *b,
                                ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_active_table->gemm_u8s8_4x24_indirect(taps, tap_quads, rows, b, panel_stride, c, ldc, accumulate);
}

void qc_quantize_edge_f32(const float *x, ptrdiff_t n, float scale, int32_t zero, float below, float above, int32_t *q) {
    qc_active_table->quantize_edge_f32(x, n, scale, zero, below, above, q);
}

int qc_dw3x3_pairs_supported(void) { return qc_active_table->dw3x3_pairs_row != NULL; }

void qc_dw3x3_pairs_build(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin,
                          ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t height, ptrdiff_t width, int32_t *pairs) {
    qc_active_table->dw3x3_pairs_build(sample, in_h, in_w, channels, zin, pad_top, pad_left, height, width, pairs);
}

void qc_dw3x3_pairs_row(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
                        ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc) {
    qc_active_table->dw3x3_pairs_row(pairs, width, channels, wpairs, stride_h, stride_w, out_y, out_w, acc);
}

void qc_maxpool_row_i32(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                        ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top, ptrdiff_t pad_left,
                        ptrdiff_t out_y, ptrdiff_t out_w, int32_t empty, int32_t *out) {
    qc_active_table->maxpool_row_i32(sample, in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, pad_top,
                                     pad_left, out_y, out_w, empty, out);
}

void qc_lookup_i32(const int32_t *x, ptrdiff_t n, ptrdiff_t channels, const int32_t *table, ptrdiff_t levels,
                   int32_t offset, int32_t *out) {
    qc_active_table->lookup_i32(x, n, channels, table, levels, offset, out);
}

void qc_avgpool_row_i32(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                        ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top, ptrdiff_t pad_left,
                        ptrdiff_t out_y, ptrdiff_t out_w, const uint64_t *magic, const uint64_t *shift, int32_t empty,
                        int32_t lo, int32_t hi, int32_t *out) {
    qc_active_table->avgpool_row_i32(sample, in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, pad_top,
                                     pad_left, out_y, out_w, magic, shift, empty, lo, hi, out);
}

void qc_offset_u8(const int32_t *x, ptrdiff_t n, int32_t offset, uint8_t *out) {
    qc_active_table->offset_u8(x, n, offset, out);
}

void qc_add2_requant_blocks(const qc_kernels *k, const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0,
                            int32_t z1, int32_t left, int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0,
                            int32_t sign1, int32_t m, int32_t shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out,
                            int profile) {
    // Blocks that stay in L1 between the three passes.
    enum { block = 1024 };
    for (ptrdiff_t i = 0; i < n; i += block) {
        const ptrdiff_t count = n - i < block ? n - i : block;
        k->rescale_accumulate(x0 + i, count, z0, left, m0, s0, sign0, out + i, 0, profile);
        k->rescale_accumulate(x1 + i, count, z1, left, m1, s1, sign1, out + i, 1, profile);
        k->requant_flat(out + i, count, m, shift, zout, lo, hi, out + i, profile);
    }
}

void qc_add2_requant(const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0, int32_t z1, int32_t left,
                     int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0, int32_t sign1, int32_t m,
                     int32_t shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out, int profile) {
    const qc_kernels *k = qc_active_table;
    if (k->add2_requant) {
        k->add2_requant(x0, x1, n, z0, z1, left, m0, s0, m1, s1, sign0, sign1, m, shift, zout, lo, hi, out, profile);
        return;
    }
    qc_add2_requant_blocks(k, x0, x1, n, z0, z1, left, m0, s0, m1, s1, sign0, sign1, m, shift, zout, lo, hi, out, profile);
}

void qc_requant_rows(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t channels, const int32_t *bias,
                     const int32_t *mult, const int32_t *shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out,
                     ptrdiff_t out_stride, int profile) {
    qc_active_table->requant_rows(c, ldc, rows, channels, bias, mult, shift, zout, lo, hi, out, out_stride, profile);
}

void qc_requant_flat(const int32_t *x, ptrdiff_t n, int32_t m, int32_t shift, int32_t zout, int32_t lo, int32_t hi,
                     int32_t *out, int profile) {
    qc_active_table->requant_flat(x, n, m, shift, zout, lo, hi, out, profile);
}

void qc_rescale_accumulate(const int32_t *x, ptrdiff_t n, int32_t z, int32_t left, int32_t m, int32_t shift,
                           int32_t sign, int32_t *acc, int accumulate, int profile) {
    qc_active_table->rescale_accumulate(x, n, z, left, m, shift, sign, acc, accumulate, profile);
}

void qc_sgemm_6x16(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b, float *c,
                   ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail) {
    qc_active_table->sgemm_6x16(kc, a, a_step, a_offsets, b, c, ldc, bias, clamps, lo, hi, tail);
}

void qc_sgemm_6x8(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b, float *c,
                  ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail) {
    qc_active_table->sgemm_6x8(kc, a, a_step, a_offsets, b, c, ldc, bias, clamps, lo, hi, tail);
}

void qc_sgemm_6x4(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b, float *c,
                  ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail) {
    qc_active_table->sgemm_6x4(kc, a, a_step, a_offsets, b, c, ldc, bias, clamps, lo, hi, tail);
}

void qc_depthwise_row_f32(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, const float *weights,
                          const float *bias, ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h,
                          ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w, ptrdiff_t pad_top,
                          ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, float *out, int clamps, float lo,
                          float hi) {
    qc_active_table->depthwise_row_f32(sample, in_h, in_w, channels, weights, bias, kernel_h, kernel_w, stride_h,
                                       stride_w, dilation_h, dilation_w, pad_top, pad_left, out_y, out_w, out, clamps,
                                       lo, hi);
}

float qc_fma_probe(ptrdiff_t iterations, float seed, int64_t *flops) {
    return qc_active_table->fma_probe(iterations, seed, flops);
}
int64_t qc_int8_probe(ptrdiff_t iterations, int64_t seed, int64_t *ops) {
    return qc_active_table->int8_probe(iterations, seed, ops);
}
int64_t qc_int8_probe_s16(ptrdiff_t iterations, int64_t seed, int64_t *ops) {
    if (!qc_active_table->int8_probe_s16) {
        *ops = 0;
        return -1;
    }
    return qc_active_table->int8_probe_s16(iterations, seed, ops);
}

void qc_depthwise_row_i32(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                          const int32_t *weights, int32_t zin, ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h,
                          ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w, ptrdiff_t pad_top,
                          ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc) {
    qc_active_table->depthwise_row_i32(sample, in_h, in_w, channels, weights, zin, kernel_h, kernel_w, stride_h, stride_w,
                                       dilation_h, dilation_w, pad_top, pad_left, out_y, out_w, acc);
}

void qc_sgemm_6xw_indirect(int width, ptrdiff_t taps, ptrdiff_t cin, const float *const *rows, const float *b, float *c,
                           ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail) {
    qc_active_table->sgemm_6xw_indirect(width, taps, cin, rows, b, c, ldc, bias, clamps, lo, hi, tail);
}

void qc_pool_row_f32(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                     ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top, ptrdiff_t pad_left,
                     ptrdiff_t out_y, ptrdiff_t out_w, int average, float *out) {
    qc_active_table->pool_row_f32(sample, in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left,
                                  out_y, out_w, average, out);
}

void qc_activation_f32(int kind, float *x, ptrdiff_t n) { qc_active_table->activation_f32(kind, x, n); }

void qc_add_f32(const float *a, const float *b, float *out, ptrdiff_t n, int activation) {
    qc_active_table->add_f32(a, b, out, n, activation);
}
