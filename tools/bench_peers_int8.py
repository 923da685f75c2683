#!/usr/bin/env python3
"""Compare qconvert's integer simulator with ONNX Runtime int8 and TFLite full-int8 on the fixtures.

For each `fixtures/<name>/model.h5` this builds, from the same Keras model and the same calibration
images (`calib.h5/inputs`, all 512):
  - ONNX Runtime int8: the FP32 ONNX model of tools/bench_peers.py (Keras' `model.export(format="onnx")`,
    or tf2onnx from the FP32 TFLite file where that fails), then
    `onnxruntime.quantization.quantize_static` in QDQ format, per-channel weights, S8 weights and S8
    activations (the library's default types), MinMax calibration; float in, float out;
  - TFLite full integer: `TFLiteConverter.from_keras_model` with `Optimize.DEFAULT`, a
    `representative_dataset` over the calibration images and `TFLITE_BUILTINS_INT8` only, so every
    op is int8; inputs and outputs stay float32 (a QUANTIZE op first, a DEQUANTIZE op last), the same
    float edges as qconvert's `IntegerSimulator.run`; run by ai-edge-litert (XNNPACK delegate);
  - qconvert: `qconvert-bench qbin` converts model.h5 with calib.h5 at W8A8 (ConvertJob, the
    `qconvert convert` pipeline) and times `IntegerSimulator.run` and the float engine;
then measures images/s at batch 1 and 32 with 1 and 2 threads, and each runtime's top-1 agreement
with the Keras outputs stored in `data.h5/outputs`.

Timing as in tools/bench_peers.py: one run classifies the 300 test images (batch 32: 10 batches, the
last padded by repeating images, counted as 320), repeated to last about 0.2 s; each round times every
peer setting and then runs `qconvert-bench qbin --json --reps 1 --no-gemm` once (the .qbin files are
converted once, before the rounds, into a temporary folder that every call reuses), and each figure
is the median over --repeats rounds. The first qconvert-bench call (untimed for images/s) also
measures the simulator's int8 GEMM in GOP/s at 1 and 2 threads, printed under the table.

Usage: python tools/bench_peers_int8.py [--fixtures fixtures] [--repeats 5] [--only NAME ...] [--json out.json]
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qconvert_layers  # noqa: F401  registers TVSmoothing (qconvert>TVSmoothing) for tv_cnn's model.h5

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_peers import (MIN_RUN_SECONDS, SETTINGS, OnnxRunner, TFLiteRunner, batches_of,  # noqa: E402
                         convert_onnx, convert_onnx_from_tflite, convert_tflite, default_qconvert_bench,
                         fixture_names, format_rate, load_keras, setting_key, short_error, time_run)

RUNTIMES = ["ort_int8", "tflite_int8"]
CALIBRATION_BATCH = 32


def calibration_images(directory):
    with h5py.File(os.path.join(directory, "calib.h5"), "r") as f:
        return f["inputs"][...].astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Conversion


def convert_ort_int8(fp32_path, calibration, path):
    """Static QDQ quantization, per-channel weights, S8/S8, MinMax over all calibration images."""
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    input_name = ort.InferenceSession(fp32_path, providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{input_name: calibration[i:i + CALIBRATION_BATCH]}
                                 for i in range(0, len(calibration), CALIBRATION_BATCH)])

        def get_next(self):
            return next(self.batches, None)

    prepared = path + ".pre.onnx"
    try:
        quant_pre_process(fp32_path, prepared, skip_symbolic_shape=True)
    except Exception:  # pre-processing is an optimisation (shape inference, folding), not required
        prepared = fp32_path
    with contextlib.redirect_stdout(io.StringIO()):
        quantize_static(prepared, path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
    ort.InferenceSession(path, providers=["CPUExecutionProvider"])   # fail here, not while timing
    return path


def convert_tflite_int8(model, calibration, path):
    """Full-integer TFLite: every op int8 (TFLITE_BUILTINS_INT8), float32 input and output."""
    import tensorflow as tf

    def representative_dataset():
        for i in range(len(calibration)):
            yield [calibration[i:i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with contextlib.redirect_stdout(io.StringIO()):
        flatbuffer = converter.convert()
    with open(path, "wb") as f:
        f.write(flatbuffer)
    return path


def prepare(fixtures_dir, name, work_dir):
    """Convert one fixture; returns (inputs, reference outputs, {runtime: path or error string}, notes)."""
    directory = os.path.join(fixtures_dir, name)
    with h5py.File(os.path.join(directory, "data.h5"), "r") as f:
        inputs = f["inputs"][...].astype(np.float32)
        reference = f["outputs"][...]
    calibration = calibration_images(directory)
    model = load_keras(os.path.join(directory, "model.h5"))
    artifacts, notes = {}, []
    fp32_tflite = os.path.join(work_dir, f"{name}.tflite")
    fp32_onnx = os.path.join(work_dir, f"{name}.onnx")
    try:
        artifacts["tflite_int8"] = convert_tflite_int8(model, calibration, os.path.join(work_dir, f"{name}.int8.tflite"))
    except Exception as error:  # a peer that cannot convert a model is a result, not a crash
        artifacts["tflite_int8"] = f"conversion failed: {short_error(error)}"
    try:
        try:
            convert_onnx(model, inputs[:2], fp32_onnx)
        except Exception as error:
            convert_tflite(model, fp32_tflite)
            convert_onnx_from_tflite(fp32_tflite, fp32_onnx)
            notes.append(f"Keras ONNX export failed ({short_error(error)}); FP32 ONNX via tf2onnx from TFLite")
        artifacts["ort_int8"] = convert_ort_int8(fp32_onnx, calibration, os.path.join(work_dir, f"{name}.int8.onnx"))
    except Exception as error:
        artifacts["ort_int8"] = f"conversion failed: {short_error(error)}"
    return inputs, reference, artifacts, notes


def make_runner(runtime, path, batch, threads):
    if runtime == "ort_int8":
        return OnnxRunner(path, threads)
    return TFLiteRunner(path, threads, batch)


def top1_agreement(runner, batches, count, reference):
    outputs = np.concatenate([runner(b) for b in batches])[:count]
    return float((outputs.argmax(axis=1) == reference.argmax(axis=1)).mean())


# ---------------------------------------------------------------------------------------------
# qconvert


def run_qconvert_qbin(binary, fixtures_dir, work_dir, only, gemm):
    """`qconvert-bench qbin --json --reps 1` as a dict, or (None, reason)."""
    if not os.path.exists(binary):
        return None, f"{binary} not built"
    command = [binary, "qbin", "--fixtures", fixtures_dir, "--json", "--reps", "1", "--work", work_dir]
    if not gemm:
        command.append("--no-gemm")
    for name in only or []:
        command += ["--only", name]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{binary}: {error}"
    if result.returncode != 0:
        return None, f"{binary} exited {result.returncode}: {result.stderr.strip()[-300:]}"
    if result.stderr.strip():
        print(result.stderr.strip(), flush=True)
    text = result.stdout
    try:
        return json.loads(text[text.find("{"):]), None
    except ValueError as error:
        return None, f"{binary}: output is not JSON ({error}): {text[:200]!r}"


# ---------------------------------------------------------------------------------------------


def print_table(names, results, gemm):
    print()
    print("images/s, median of interleaved rounds over 300 test images (higher is better); "
          "sim = qconvert integer simulator (W8A8 .qbin), float = qconvert float engine")
    header = (f"{'fixture':<18} {'setting':<16} {'ORT int8':>10} {'TFLite int8':>12} {'sim':>9} {'float':>9} "
              f"{'sim/best int8 peer':>19}")
    print(header)
    print("-" * len(header))
    for name in names:
        for batch, threads in SETTINGS:
            key = setting_key(batch, threads)
            peers = [results[name][r]["images_per_s"].get(key) for r in RUNTIMES]
            sim = results[name]["qconvert"]["images_per_s"].get(f"sim_{key}")
            flt = results[name]["qconvert"]["images_per_s"].get(f"float_{key}")
            present = [p for p in peers if p is not None]
            ratio = f"{sim / max(present):.2f}x" if sim is not None and present else "-"
            print(f"{name:<18} {key:<16} {format_rate(peers[0]):>10} {format_rate(peers[1]):>12} "
                  f"{format_rate(sim):>9} {format_rate(flt):>9} {ratio:>19}")
    print()
    print("top-1 agreement with Keras (data.h5/outputs, 300 images)")
    print(f"{'fixture':<18} {'ORT int8':>10} {'TFLite int8':>12} {'sim':>9}")
    for name in names:
        cells = []
        for runtime in RUNTIMES:
            entry = results[name][runtime]
            cells.append("n/a" if "error" in entry else f"{entry['top1_agreement'] * 100:.1f}%")
        sim = results[name]["qconvert"].get("top1_agreement")
        cells.append("-" if sim is None else f"{sim * 100:.1f}%")
        print(f"{name:<18} {cells[0]:>10} {cells[1]:>12} {cells[2]:>9}")
    for name in names:
        for runtime in RUNTIMES:
            if "error" in results[name][runtime]:
                print(f"{name}: {runtime}: {results[name][runtime]['error']}")
    if gemm:
        print()
        print("simulator int8 GEMM (IntegerGEMMBench: packed weights x activations -> int32), GOP/s")
        for key in sorted(gemm, key=lambda k: (k.split("_")[0], k)):
            print(f"  {key:<32} {gemm[key]:8.1f}")


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixtures", default=os.path.join(root, "fixtures"))
    parser.add_argument("--qconvert-bench", default=default_qconvert_bench(root))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--json", help="also write all numbers to this file")
    args = parser.parse_args()

    import onnxruntime
    import tensorflow as tf
    import keras
    try:
        import ai_edge_litert
        litert_version = getattr(ai_edge_litert, "__version__", "ai-edge-litert")
    except ImportError:
        litert_version = f"tf.lite {tf.__version__}"
    print(f"onnxruntime {onnxruntime.__version__}, TFLite: {litert_version}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}, {os.cpu_count()} CPUs, repeats {args.repeats}", flush=True)
    print(f"qconvert: {args.qconvert_bench}", flush=True)

    names = fixture_names(args.fixtures, args.only)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_peers_int8_") as work_dir:
        prepared = {}
        for name in names:
            prepared[name] = prepare(args.fixtures, name, work_dir)
            for note in prepared[name][3]:
                print(f"{name}: ort_int8: {note}", flush=True)

        runners = {}
        for name in names:
            inputs, reference, artifacts, _ = prepared[name]
            results[name] = {}
            for runtime in RUNTIMES:
                artifact = artifacts[runtime]
                entry = {"images_per_s": {}}
                if not os.path.exists(artifact):
                    entry["error"] = artifact
                    results[name][runtime] = entry
                    continue
                for batch, threads in SETTINGS:
                    runners[(name, runtime, batch, threads)] = (make_runner(runtime, artifact, batch, threads),
                                                                batches_of(inputs, batch))
                runner, batches = runners[(name, runtime, 32, 1)]
                entry["top1_agreement"] = top1_agreement(runner, batches, len(inputs), reference)
                results[name][runtime] = entry

        samples = {key: [] for key in runners}
        passes = {}
        for key, (runner, batches) in runners.items():   # warm-up, and passes per run
            time_run(runner, batches)
            rate = time_run(runner, batches)
            passes[key] = max(1, round(MIN_RUN_SECONDS * rate / sum(len(b) for b in batches)))

        # Convert the .qbin files once (and measure the int8 GEMM); its images/s are a warm-up only.
        qbin_dir = os.path.join(work_dir, "qbin")
        first, qconvert_error = run_qconvert_qbin(args.qconvert_bench, args.fixtures, qbin_dir, args.only, gemm=True)
        gemm = (first or {}).pop("int8_gemm", {})
        qconvert_samples = {}
        for _ in range(args.repeats):
            for key, (runner, batches) in runners.items():
                samples[key].append(time_run(runner, batches, passes[key]))
            if qconvert_error is None:
                round_result, qconvert_error = run_qconvert_qbin(args.qconvert_bench, args.fixtures, qbin_dir,
                                                                 args.only, gemm=False)
                for name, rates in (round_result or {}).items():
                    for key, value in (rates.items() if isinstance(rates, dict) else []):
                        qconvert_samples.setdefault(name, {}).setdefault(key, []).append(value)
        for (name, runtime, batch, threads), rates in samples.items():
            results[name][runtime]["images_per_s"][setting_key(batch, threads)] = statistics.median(rates)

    if qconvert_error:
        print(f"qconvert: {qconvert_error}", flush=True)
    for name in names:
        values = {key: statistics.median(v) for key, v in qconvert_samples.get(name, {}).items()}
        agreement = values.pop("sim_top1_agreement", None)
        values.pop("qbin_bytes", None)
        results[name]["qconvert"] = {"images_per_s": values, "top1_agreement": agreement}

    print_table(names, results, gemm)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "int8_gemm": gemm, "qconvert_error": qconvert_error}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
