import CHDF5

/// The numeric element types this module writes, and reports for datasets it reads.
public enum HDF5ScalarType: Sendable, Equatable {
    case float32, float64, int8, uint8, int16, uint16, int32, uint32, int64, uint64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// The little-endian type written to files (the library owns the id; never close it).
    var fileType: hid_t {
        switch self {
        case .float32: return qc_h5t_ieee_f32le()
        case .float64: return qc_h5t_ieee_f64le()
        case .int8: return qc_h5t_std_i8le()
        case .uint8: return qc_h5t_std_u8le()
        case .int16: return qc_h5t_std_i16le()
        case .uint16: return qc_h5t_std_u16le()
        case .int32: return qc_h5t_std_i32le()
        case .uint32: return qc_h5t_std_u32le()
        case .int64: return qc_h5t_std_i64le()
        case .uint64: return qc_h5t_std_u64le()
        }
    }

    /// The matching in-memory type (the library owns the id; never close it).
    var memoryType: hid_t {
        switch self {
        case .float32: return qc_h5t_native_float()
        case .float64: return qc_h5t_native_double()
        case .int8: return qc_h5t_native_int8()
        case .uint8: return qc_h5t_native_uint8()
        case .int16: return qc_h5t_native_int16()
        case .uint16: return qc_h5t_native_uint16()
        case .int32: return qc_h5t_native_int32()
        case .uint32: return qc_h5t_native_uint32()
        case .int64: return qc_h5t_native_int64()
        case .uint64: return qc_h5t_native_uint64()
        }
    }

    /// The scalar type of an HDF5 datatype, or nil for strings, compounds, half floats and the like.
    init?(datatype type: hid_t) {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            switch size {
            case 4: self = .float32
            case 8: self = .float64
            default: return nil
            }
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) != H5T_SGN_NONE
            switch size {
            case 1: self = signed ? .int8 : .uint8
            case 2: self = signed ? .int16 : .uint16
            case 4: self = signed ? .int32 : .uint32
            case 8: self = signed ? .int64 : .uint64
            default: return nil
            }
        default:
            return nil
        }
    }
}

/// A short name for any HDF5 datatype, for messages ("string", "compound", "float16").
func describeDatatype(_ type: hid_t) -> String {
    if let damage = damagedNumericLayout(type) {
        return "damaged \(H5Tget_class(type) == H5T_FLOAT ? "float" : "integer") type (\(damage); the file is corrupt or crafted)"
    }
    if let scalar = HDF5ScalarType(datatype: type) { return "\(scalar)" }
    let bits = H5Tget_size(type) * 8
    switch H5Tget_class(type) {
    case H5T_FLOAT: return "float\(bits)"
    case H5T_INTEGER: return "integer of \(bits) bits"
    case H5T_STRING: return H5Tis_variable_str(type) > 0 ? "variable-length string" : "fixed-length string"
    case H5T_COMPOUND: return "compound"
    case H5T_ENUM: return "enum"
    case H5T_OPAQUE: return "opaque"
    case H5T_REFERENCE: return "reference"
    case H5T_ARRAY: return "array"
    case H5T_VLEN: return "variable-length sequence"
    case H5T_BITFIELD: return "bitfield"
    case H5T_TIME: return "time"
    default: return "unknown"
    }
}

/// True for the classes HDF5 converts to and from native numbers, with a layout a conversion can trust.
func isNumeric(_ type: hid_t) -> Bool {
    let typeClass = H5Tget_class(type)
    return (typeClass == H5T_FLOAT || typeClass == H5T_INTEGER) && damagedNumericLayout(type) == nil
}

/// Why a numeric datatype's header cannot be right, or nil. libhdf5 1.10 converts whatever a file
/// declares: a float of 106 bytes with 32 bits of precision (a fuzzed calibration file) made
/// `H5Dread` copy past its own conversion buffer (heap overflow, docs/robustness.md "Fuzzing").
/// Newer libhdf5 refuses such types on open; this is the same check, done before any read.
func damagedNumericLayout(_ type: hid_t) -> String? {
    let typeClass = H5Tget_class(type)
    guard typeClass == H5T_FLOAT || typeClass == H5T_INTEGER else { return nil }
    let size = H5Tget_size(type)
    let allowed: Set<Int> = typeClass == H5T_FLOAT ? [2, 4, 8] : [1, 2, 4, 8]
    guard allowed.contains(size) else { return "\(size) bytes per element" }
    let precision = H5Tget_precision(type), offset = Int(H5Tget_offset(type))
    guard precision >= 1, offset >= 0, offset + precision <= size * 8 else {
        return "\(precision) bits of precision at bit offset \(offset) in \(size) bytes"
    }
    if typeClass == H5T_FLOAT {
        var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
        guard H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 else { return "unreadable float fields" }
        let end = offset + precision
        let fits = spos < end && esize >= 1 && epos + esize <= end && msize >= 1 && mpos + msize <= end
            && esize <= 16 && msize <= 112
        guard fits else { return "float fields (sign \(spos), exponent \(epos)+\(esize), mantissa \(mpos)+\(msize)) outside its \(precision) bits" }
    }
    return nil
}
