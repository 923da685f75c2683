#!/usr/bin/env python3
"""One peer converter on the ResNet50 workload of tools/make_resnet50_workload.py, for docs/bench-resnet50.md.

Run once per peer under `/usr/bin/time -v` (tools/bench-resnet50.sh does), so that the wall time and
peak RSS are those of one whole conversion, from reading model.h5 to the written int8 file:

  tflite  `TFLiteConverter.from_keras_model` with `Optimize.DEFAULT`, `TFLITE_BUILTINS_INT8` only (every
          op int8, float32 input and output) and a `representative_dataset` that yields the
          calibration images one at a time, read from calib.h5 as they are needed;
  ort     the Keras model exported to FP32 ONNX (`model.export(format="onnx")`, tf2onnx), then
          `onnxruntime.quantization.quantize_static`: QDQ, per-channel S8 weights, S8 activations,
          MinMax, the images in batches of 8 read from calib.h5 as they are needed. ORT 1.32's MinMax
          calibrator adds ReduceMin/ReduceMax outputs to the graph, so it keeps two scalars per tensor
          per batch; `CalibMaxIntermediateOutputs` is left unset (in 1.32 it discards the collected
          batches without folding them in, then fails with "No data is collected").

Prints one JSON line: peer, seconds inside Python for the conversion, output size. The ONNX export is
timed separately (`export_seconds`) and is inside the wall time /usr/bin/time reports.

Usage: python tools/bench_resnet50_peers.py tflite|ort WORKLOAD_DIR OUT_DIR [--samples 512]
"""

import argparse
import contextlib
import io
import json
import os
import time

import h5py
import numpy as np

ORT_BATCH = 8


def calibration_batches(path, samples, batch):
    with h5py.File(path, "r") as f:
        images = f["inputs"]
        for start in range(0, samples, batch):
            yield images[start:min(start + batch, samples)].astype(np.float32)


def load_model(path):
    import keras
    return keras.models.load_model(path, compile=False)


def tflite(args):
    import tensorflow as tf
    model = load_model(os.path.join(args.workload, "model.h5"))
    started = time.time()

    def representative_dataset():
        for image in calibration_batches(os.path.join(args.workload, "calib.h5"), args.samples, 1):
            yield [image]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with contextlib.redirect_stdout(io.StringIO()):
        flatbuffer = converter.convert()
    path = os.path.join(args.out, "resnet50.int8.tflite")
    with open(path, "wb") as f:
        f.write(flatbuffer)
    return {"seconds": round(time.time() - started, 1), "bytes": len(flatbuffer)}


def ort(args):
    import onnxruntime
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    model = load_model(os.path.join(args.workload, "model.h5"))
    started = time.time()
    with h5py.File(os.path.join(args.workload, "eval.h5"), "r") as f:
        model.predict(f["inputs"][:1], verbose=0)   # Keras' ONNX export refuses a model that was never called
    fp32 = os.path.join(args.out, "resnet50.onnx")
    with contextlib.redirect_stdout(io.StringIO()):
        model.export(fp32, format="onnx", verbose=False)
    export_seconds = time.time() - started
    del model
    input_name = onnxruntime.InferenceSession(fp32, providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = calibration_batches(os.path.join(args.workload, "calib.h5"), args.samples, ORT_BATCH)

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {input_name: batch}

    prepared = os.path.join(args.out, "resnet50.pre.onnx")
    quant_pre_process(fp32, prepared, skip_symbolic_shape=True)
    path = os.path.join(args.out, "resnet50.int8.onnx")
    with contextlib.redirect_stdout(io.StringIO()):
        quantize_static(prepared, path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
    return {"seconds": round(time.time() - started, 1), "export_seconds": round(export_seconds, 1),
            "bytes": os.path.getsize(path)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("peer", choices=["tflite", "ort"])
    parser.add_argument("workload")
    parser.add_argument("out")
    parser.add_argument("--samples", type=int, default=512)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    result = {"tflite": tflite, "ort": ort}[args.peer](args)
    print(json.dumps({"peer": args.peer, "samples": args.samples, **result}))


if __name__ == "__main__":
    main()
