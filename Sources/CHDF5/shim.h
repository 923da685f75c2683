// CHDF5: libhdf5 (1.10 or later) plus the few things Swift cannot import from it.
//
// HDF5 spells most constants as macros that call H5open() (`H5T_NATIVE_FLOAT`, `H5F_ACC_RDONLY`,
// `H5P_DATASET_CREATE`), which Swift does not import, and `H5P_DEFAULT` / `H5S_ALL` as plain
// `0` that import as Int32 while `hid_t` is Int64. Each gets a `static inline` function here.
// Functions whose name HDF5 versions with macros (H5Dopen -> H5Dopen2) are called by their
// numbered names from Swift; nothing here depends on the H5_USE_1xx_API setting.
#ifndef QC_CHDF5_SHIM_H
#define QC_CHDF5_SHIM_H

#include <hdf5.h>
#include <stdio.h>
#include <string.h>

// MARK: - Plain ids and flags

static inline hid_t qc_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t qc_h5s_all(void) { return H5S_ALL; }
static inline hid_t qc_h5e_default(void) { return H5E_DEFAULT; }
static inline size_t qc_h5t_variable(void) { return H5T_VARIABLE; }
static inline H5Z_filter_t qc_h5z_filter_deflate(void) { return H5Z_FILTER_DEFLATE; }

static inline unsigned qc_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned qc_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned qc_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }

// MARK: - Property list classes

static inline hid_t qc_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t qc_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t qc_h5p_link_create(void) { return H5P_LINK_CREATE; }

// MARK: - Memory (native) types

static inline hid_t qc_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t qc_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t qc_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t qc_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t qc_h5t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t qc_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t qc_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t qc_h5t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t qc_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t qc_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t qc_h5t_c_s1(void) { return H5T_C_S1; }

// MARK: - File types (little-endian, what h5py and Keras write on every common machine)

static inline hid_t qc_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t qc_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t qc_h5t_std_i8le(void) { return H5T_STD_I8LE; }
static inline hid_t qc_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t qc_h5t_std_i16le(void) { return H5T_STD_I16LE; }
static inline hid_t qc_h5t_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t qc_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t qc_h5t_std_u32le(void) { return H5T_STD_U32LE; }
static inline hid_t qc_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t qc_h5t_std_u64le(void) { return H5T_STD_U64LE; }

/// Frees the strings HDF5 allocated when reading variable-length data (renamed in 1.12).
static inline herr_t qc_h5_reclaim(hid_t type, hid_t space, void *buffer) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

// MARK: - File locking

/// Turns HDF5 1.10's flock-based file locking off on a file-access property list. Readers use it
/// so that a file another process still holds open (or a file on a filesystem without flock
/// support, the usual "unable to lock file" failure) can be read. Returns < 0 on failure and
/// 0 (doing nothing) on libraries older than 1.10.7, which only honour HDF5_USE_FILE_LOCKING.
static inline herr_t qc_h5p_disable_file_locking(hid_t fapl) {
#if H5_VERSION_GE(1, 10, 7)
    return H5Pset_file_locking(fapl, 0, 1);
#else
    (void)fapl;
    return 0;
#endif
}

// MARK: - Error stack

typedef struct {
    char *buffer;
    size_t capacity;
    size_t length;
    size_t total;   // entries on the stack
} qc_h5_error_text_t;

static inline herr_t qc_h5_error_walk(unsigned n, const H5E_error2_t *entry, void *context) {
    qc_h5_error_text_t *text = (qc_h5_error_text_t *)context;
    if (text->length + 1 >= text->capacity) return 0;
    // Keep the two most specific entries and the API call; the middle is library plumbing.
    if (text->total > 4 && n >= 2 && n + 1 < text->total) {
        if (n == 2) {
            int written = snprintf(text->buffer + text->length, text->capacity - text->length, "; ...");
            if (written > 0 && (size_t)written < text->capacity - text->length) text->length += (size_t)written;
        }
        return 0;
    }
    const char *separator = text->length == 0 ? "" : "; ";
    const char *function = entry->func_name ? entry->func_name : "?";
    const char *description = (entry->desc && entry->desc[0]) ? entry->desc : "";
    char minor[128] = "";
    if (H5Eget_msg(entry->min_num, NULL, minor, sizeof minor) < 0) minor[0] = 0;
    int written;
    if (minor[0] && description[0])
        written = snprintf(text->buffer + text->length, text->capacity - text->length, "%s%s(): %s (%s)",
                           separator, function, description, minor);
    else
        written = snprintf(text->buffer + text->length, text->capacity - text->length, "%s%s(): %s",
                           separator, function, description[0] ? description : minor);
    if (written > 0) {
        size_t added = (size_t)written;
        text->length += added < text->capacity - text->length ? added : text->capacity - text->length - 1;
    }
    return 0;
}

/// Writes the current thread's HDF5 error stack into `buffer` as one line, the most specific
/// entry first ("H5F__super_read(): truncated file: eof = 800, ... (File has been truncated); ...");
/// stacks deeper than four entries keep the two most specific and the outermost (the API call).
/// Must be called right after the failing call: the next HDF5 API call clears the stack.
/// Returns the number of bytes written (0 when the stack is empty); the text is NUL-terminated.
static inline size_t qc_h5_error_text(char *buffer, size_t capacity) {
    if (capacity == 0) return 0;
    buffer[0] = 0;
    ssize_t total = H5Eget_num(H5E_DEFAULT);
    qc_h5_error_text_t text = { buffer, capacity, 0, total > 0 ? (size_t)total : 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, qc_h5_error_walk, &text);
    return text.length;
}

/// Stops HDF5 from printing its error stack to stderr; failures are reported through Swift errors.
static inline herr_t qc_h5_silence_errors(void) {
    return H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

#endif
