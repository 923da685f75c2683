import CHDF5
@testable import HDF5
import XCTest

final class AttributeTests: HDF5TestCase {
    func testVariableLengthStringsRoundTripOnGroupsAndDatasets() throws {
        let path = file("attrs.h5")
        let json = #"{"class_name": "Sequential", "config": {"name": "café ✓", "layers": []}}"#
        do {
            let h5 = try HDF5File.create(path)
            try h5.root.setStringAttribute("model_config", json)
            try h5.root.setStringAttribute("keras_version", "2.0.8")
            try h5.root.setStringAttribute("keras_version", "3.15.1")   // replaces
            let layer = try h5.root.createGroup("model_weights/dense")
            try layer.setStringArrayAttribute("weight_names", ["dense/kernel:0", "dense/bias:0"])
            try layer.setStringArrayAttribute("empty", [])
            try layer.setStringAttribute("blank", "")
            try h5.root.writeDataset("x", shape: [1], floats: [0])
            try h5.root.dataset("x").setStringAttribute("units", "m/s")
        }
        let root = try HDF5File.open(path).root
        XCTAssertEqual(try root.stringAttribute("model_config"), json)
        XCTAssertEqual(try root.stringAttribute("keras_version"), "3.15.1")
        XCTAssertEqual(try root.attributeNames(), ["keras_version", "model_config"])
        XCTAssertTrue(root.hasAttribute("model_config"))
        XCTAssertFalse(root.hasAttribute("training_config"))
        XCTAssertFalse(root.hasAttribute(""))
        let layer = try root.group("model_weights/dense")
        XCTAssertEqual(try layer.stringArrayAttribute("weight_names"), ["dense/kernel:0", "dense/bias:0"])
        XCTAssertEqual(try layer.stringArrayAttribute("empty"), [])
        XCTAssertEqual(try layer.stringAttribute("blank"), "")
        XCTAssertEqual(try layer.attributeNames(), ["blank", "empty", "weight_names"])
        // A scalar string also reads as a one-element list.
        XCTAssertEqual(try root.stringArrayAttribute("keras_version"), ["3.15.1"])
        let x = try root.dataset("x")
        XCTAssertTrue(x.hasAttribute("units"))
        XCTAssertEqual(try x.stringAttribute("units"), "m/s")
        XCTAssertEqual(try x.attributeNames(), ["units"])
    }

    /// Fixed-length strings as h5py writes `bytes` and numpy `S` arrays (Keras 2 `layer_names`),
    /// written here with the C API directly so the reader is checked against an independent writer.
    func testFixedLengthStringsNullAndSpacePadded() throws {
        let path = file("fixed.h5")
        do {
            let h5 = try HDF5File.create(path)
            try writeFixedStrings(h5.root, "layer_names", ["conv2d", "dense_1", "bn"], size: 8, pad: H5T_STR_NULLPAD)
            try writeFixedStrings(h5.root, "model_config", [#"{"a": 1}"#], size: 8, pad: H5T_STR_NULLTERM, scalar: true)
            try writeFixedStrings(h5.root, "spaced", ["ab", "c"], size: 5, pad: H5T_STR_SPACEPAD)
            try writeFixedStrings(h5.root, "one", ["only"], size: 4, pad: H5T_STR_NULLPAD)
        }
        let root = try HDF5File.open(path).root
        XCTAssertEqual(try root.stringArrayAttribute("layer_names"), ["conv2d", "dense_1", "bn"])
        XCTAssertEqual(try root.stringAttribute("model_config"), #"{"a": 1}"#)
        XCTAssertEqual(try root.stringArrayAttribute("spaced"), ["ab", "c"])
        XCTAssertEqual(try root.stringAttribute("one"), "only", "a one-element array reads as a single string")
        XCTAssertThrowsError(try root.stringAttribute("layer_names")) { error in
            XCTAssertEqual(error as? HDF5Error, .shapeMismatch(path: path, object: "attribute 'layer_names' of /", expected: [1], found: [3]))
        }
    }

    /// Keras writes `weight_names` of weightless layers as an empty float64 array.
    func testEmptyFloat64ArrayReadsAsNoStrings() throws {
        let path = file("empty.h5")
        do {
            let layer = try HDF5File.create(path).root.createGroup("model_weights/flatten")
            try writeNumbers(layer, "weight_names", [Double](), type: qc_h5t_ieee_f64le())
            try writeNumbers(layer, "numbers", [1.5, 2.5], type: qc_h5t_ieee_f64le())
            try writeNumbers(layer, "bytes", Array(#"{"json": true}"#.utf8) + [0, 0], type: qc_h5t_std_u8le())
        }
        let layer = try HDF5File.open(path).root.group("model_weights/flatten")
        XCTAssertEqual(try layer.stringArrayAttribute("weight_names"), [])
        XCTAssertEqual(try layer.doubleArrayAttribute("numbers"), [1.5, 2.5])
        XCTAssertEqual(try layer.stringAttribute("bytes"), #"{"json": true}"#, "UTF-8 bytes decode as text")
        XCTAssertThrowsError(try layer.stringArrayAttribute("numbers")) { error in
            XCTAssertEqual(error as? HDF5Error,
                           .unsupportedType(path: path, object: "attribute 'numbers' of /model_weights/flatten", type: "float64"))
        }
        XCTAssertThrowsError(try layer.stringAttribute("numbers"))
    }

    func testMissingAttribute() throws {
        let path = file("missing.h5")
        let h5 = try HDF5File.create(path)
        XCTAssertThrowsError(try h5.root.stringAttribute("model_config")) { error in
            XCTAssertEqual(error as? HDF5Error, .objectNotFound(path: path, object: "attribute 'model_config' of /"))
            XCTAssertTrue("\(error)".contains(path))
            XCTAssertTrue("\(error)".contains("model_config"))
        }
        XCTAssertThrowsError(try h5.root.stringArrayAttribute("weight_names"))
        XCTAssertEqual(try h5.root.attributeNames(), [])
    }

    // MARK: - Independent writers (plain C API)

    private func writeFixedStrings(_ object: HDF5Object, _ name: String, _ values: [String], size: Int,
                                   pad: H5T_str_t, scalar: Bool = false) throws {
        let type = H5Tcopy(qc_h5t_c_s1())
        defer { H5Tclose(type) }
        XCTAssertGreaterThanOrEqual(H5Tset_size(type, size), 0)
        XCTAssertGreaterThanOrEqual(H5Tset_strpad(type, pad), 0)
        var dims = [hsize_t(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(object.id, name, type, space, qc_h5p_default(), qc_h5p_default())
        defer { H5Aclose(attribute) }
        var bytes = [UInt8]()
        for value in values {
            var element = Array(value.utf8.prefix(size))
            let filler: UInt8 = pad == H5T_STR_SPACEPAD ? 0x20 : 0
            element += [UInt8](repeating: filler, count: size - element.count)
            bytes += element
        }
        XCTAssertGreaterThanOrEqual(H5Awrite(attribute, type, bytes), 0)
    }

    private func writeNumbers<T>(_ object: HDF5Object, _ name: String, _ values: [T], type: hid_t) throws {
        var dims = [hsize_t(values.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(object.id, name, type, space, qc_h5p_default(), qc_h5p_default())
        defer { H5Aclose(attribute) }
        if !values.isEmpty {
            XCTAssertGreaterThanOrEqual(values.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }, 0)
        }
    }
}
