// `qc_sgemm_row_inplace`, `qc_sgemm_matrix_rows` and `qc_sgemm_patch_rows` (include/CKernels.h): one
// output row of a convolution read in place, one block of a matrix GEMM's rows, or one block of a
// convolution's rows read from per-row patch origins, every 6-row group and B panel in one
// call instead of one Swift call per micro-tile. The avx512 levels
// have their own (twelve pixels per call, f32_avx512.c); the others loop over the active level's
// micro-kernels here.
#include "kernels_internal.h"

void qc_sgemm_row_inplace(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets,
                          const float *b, ptrdiff_t panels, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                          int clamps, float lo, float hi, const qc_f32_tail *tail) {
    const int level = qc_isa_active();
#if QC_X86
    if (level == QC_ISA_AVX512 || level == QC_ISA_AVX512VNNI) {
        qc_sgemm_row_inplace_avx512(count, kc, a, a_step, a_offsets, b, panels, n, c, ldc, bias, clamps, lo, hi, tail);
        return;
    }
#endif
    const qc_kernels *kernels = qc_kernels_for(level);
    for (ptrdiff_t j = 0; j < panels; j++) {
        const ptrdiff_t valid = n - 16 * j < 16 ? n - 16 * j : 16;
        qc_f32_tail moved;
        qc_sgemm_panel_row(kernels->sgemm_6x16, kernels->sgemm_6x8, kernels->sgemm_6x4, count, kc, a, a_step, a_offsets,
                           b + 16 * j * kc, valid, c + 16 * j, ldc, bias ? bias + 16 * j : NULL, clamps, lo, hi,
                           qc_f32_tail_panel(tail, j, &moved));
    }
}

void qc_sgemm_matrix_rows(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t lda, const float *b,
                          ptrdiff_t b_stride, ptrdiff_t panels, ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias,
                          int clamps, float lo, float hi, const qc_f32_tail *tail) {
    const int level = qc_isa_active();
#if QC_X86
    if (level == QC_ISA_AVX512 || level == QC_ISA_AVX512VNNI) {
        qc_sgemm_matrix_rows_avx512(count, kc, a, lda, b, b_stride, panels, n, c, ldc, bias, clamps, lo, hi, tail);
        return;
    }
#endif
    const qc_kernels *kernels = qc_kernels_for(level);
    for (ptrdiff_t j = 0; j < panels; j++) {
        const ptrdiff_t valid = n - 16 * j < 16 ? n - 16 * j : 16;
        qc_f32_tail moved;
        qc_sgemm_panel_matrix(kernels->sgemm_6xw_indirect, count, kc, a, lda, b + j * b_stride, valid, c + 16 * j, ldc,
                              bias ? bias + 16 * j : NULL, clamps, lo, hi, qc_f32_tail_panel(tail, j, &moved));
    }
}

void qc_sgemm_patch_rows(ptrdiff_t count, ptrdiff_t kc, ptrdiff_t cin, const float *const *origins,
                         const ptrdiff_t *offsets, const float *b, ptrdiff_t b_stride, ptrdiff_t panels, ptrdiff_t n,
                         float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                         const qc_f32_tail *tail) {
    const int level = qc_isa_active();
#if QC_X86
    if (level == QC_ISA_AVX512 || level == QC_ISA_AVX512VNNI) {
        qc_sgemm_patch_rows_avx512(count, kc, cin, origins, offsets, b, b_stride, panels, n, c, ldc, bias, clamps, lo, hi,
                                   tail);
        return;
    }
#endif
    const qc_kernels *kernels = qc_kernels_for(level);
    for (ptrdiff_t j = 0; j < panels; j++) {
        const ptrdiff_t valid = n - 16 * j < 16 ? n - 16 * j : 16;
        qc_f32_tail moved;
        qc_sgemm_panel_patches(kernels->sgemm_6xw_indirect, count, kc, cin, origins, offsets, b + j * b_stride, valid,
                               c + 16 * j, ldc, bias ? bias + 16 * j : NULL, clamps, lo, hi,
                               qc_f32_tail_panel(tail, j, &moved));
    }
}
