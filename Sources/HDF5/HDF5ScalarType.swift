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

/// True for the classes HDF5 converts to and from native numbers.
func isNumeric(_ type: hid_t) -> Bool {
    let typeClass = H5Tget_class(type)
    return typeClass == H5T_FLOAT || typeClass == H5T_INTEGER
}
