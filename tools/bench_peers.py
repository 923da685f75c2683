#!/usr/bin/env python3
"""Compare qconvert's inference speed with ONNX Runtime and TFLite (LiteRT) on the fixtures.

For each `fixtures/<name>/model.h5` this converts the Keras model to
  - ONNX with Keras' own `model.export(format="onnx")` (tf2onnx underneath), run by onnxruntime;
    where that fails (Keras 3 grouped Conv2D exports as an XLA call tf2onnx cannot translate), ONNX
    converted from the TFLite file by `tf2onnx.convert.from_tflite` instead (the route is printed);
  - TFLite FP32 with `tf.lite.TFLiteConverter.from_keras_model`, run by ai-edge-litert's
    Interpreter (XNNPACK delegate, the default for float models),
then measures images/s at batch 1 and 32 with 1 and 2 threads, and the top-1 agreement of each
runtime with the Keras outputs stored in `data.h5`.

Timing: one "run" classifies the fixture's 300 images (batch 32: 10 batches, the last one padded to
32 by repeating images, counted as 320 images), repeated enough times to last about 0.2 s. Runs are interleaved across runtimes and settings,
repeated --repeats times, and the median images/s is reported, because the 2 shared cores are
sometimes busy with other load.

qconvert's own numbers come from `qconvert-bench images --fixtures DIR --json --reps 1`, run once
per round between the peers' rounds (median over rounds) when the binary exists (default: the
newest of `.build/release/qconvert-bench` and `.build-*/release/qconvert-bench`); it prints
{"fixture": {"batch1_threads1": images_per_s, ...}, ...}, measured the same way (300 images per
pass, last batch padded, >= 0.2 s per sample, interleaved, median). Without it the column is "-".

Usage: python tools/bench_peers.py [--fixtures fixtures] [--repeats 5] [--only NAME ...] [--json out.json]
"""

import argparse
import contextlib
import glob
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qconvert_layers  # noqa: F401  registers TVSmoothing (qconvert>TVSmoothing) for tv_cnn's model.h5

SETTINGS = [(1, 1), (1, 2), (32, 1), (32, 2)]   # (batch, threads)
RUNTIMES = ["onnxruntime", "tflite"]


def setting_key(batch, threads):
    return f"batch{batch}_threads{threads}"


# ---------------------------------------------------------------------------------------------
# Conversion


def load_keras(model_path):
    import keras
    model = keras.models.load_model(model_path, compile=False)
    return model


def convert_onnx(model, sample, path):
    model.predict(sample, verbose=0)   # Keras' ONNX export refuses a model that was never called
    with contextlib.redirect_stdout(io.StringIO()):
        model.export(path, format="onnx", verbose=False)
    import onnxruntime as ort
    ort.InferenceSession(path, providers=["CPUExecutionProvider"])  # fail here, not while timing
    return path


def convert_onnx_from_tflite(tflite_path, path):
    import tf2onnx
    import onnxruntime as ort
    with contextlib.redirect_stdout(io.StringIO()):
        tf2onnx.convert.from_tflite(tflite_path, output_path=path)
    ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return path


def convert_tflite(model, path):
    import tensorflow as tf
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    with contextlib.redirect_stdout(io.StringIO()):
        flatbuffer = converter.convert()
    with open(path, "wb") as f:
        f.write(flatbuffer)
    return path


# ---------------------------------------------------------------------------------------------
# Runners: each is a callable(batch_array) -> outputs, built once per (batch, threads)


class OnnxRunner:
    def __init__(self, path, threads):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch):
        return self.session.run(None, {self.input_name: batch})[0]


class TFLiteRunner:
    def __init__(self, path, threads, batch_size):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # TensorFlow's own interpreter, deprecated but equivalent
            import tensorflow as tf
            Interpreter = tf.lite.Interpreter
        self.interpreter = Interpreter(model_path=path, num_threads=threads)
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        self.output_index = self.interpreter.get_output_details()[0]["index"]
        self.interpreter.resize_tensor_input(self.input_index, [batch_size, 28, 28, 1])
        self.interpreter.allocate_tensors()

    def __call__(self, batch):
        self.interpreter.set_tensor(self.input_index, batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index)


def make_runner(runtime, path, batch, threads):
    if runtime == "onnxruntime":
        return OnnxRunner(path, threads)
    return TFLiteRunner(path, threads, batch)


def batches_of(inputs, batch):
    """Split into equal batches; the last one is padded by wrapping around (fixed input shapes)."""
    count = -(-len(inputs) // batch) * batch
    indices = np.arange(count) % len(inputs)
    return [np.ascontiguousarray(inputs[indices[i:i + batch]]) for i in range(0, count, batch)]


MIN_RUN_SECONDS = 0.2   # long enough that timer resolution and one-off stalls do not dominate


def time_run(runner, batches, passes=1):
    """Images per second for `passes` passes over all batches."""
    started = time.perf_counter()
    for _ in range(passes):
        for batch in batches:
            runner(batch)
    elapsed = time.perf_counter() - started
    return passes * sum(len(b) for b in batches) / elapsed


def top1_agreement(runner, batches, count, reference):
    outputs = np.concatenate([runner(b) for b in batches])[:count]
    agree = float((outputs.argmax(axis=1) == reference.argmax(axis=1)).mean())
    return agree, float(np.abs(outputs - reference).max())


# ---------------------------------------------------------------------------------------------
# qconvert


def default_qconvert_bench(root):
    """The most recently built release qconvert-bench under root (`.build` or any `.build-*` scratch path)."""
    candidates = [os.path.join(root, ".build", "release", "qconvert-bench")]
    candidates += glob.glob(os.path.join(root, ".build-*", "release", "qconvert-bench"))
    built = [path for path in candidates if os.path.exists(path)]
    return max(built, key=os.path.getmtime) if built else candidates[0]


def run_qconvert_bench(binary, fixtures_dir, repeats, only):
    """qconvert-bench's JSON, or (None, reason) when it is missing or fails."""
    if not os.path.exists(binary):
        return None, f"{binary} not built"
    command = [binary, "images", "--fixtures", fixtures_dir, "--json", "--reps", str(repeats)]
    for name in only or []:
        command += ["--only", name]
    try:
        result = subprocess.run(command,
                                capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{binary}: {error}"
    if result.returncode != 0:
        return None, f"{binary} exited {result.returncode}: {result.stderr.strip()[-300:]}"
    text = result.stdout
    start = text.find("{")   # tolerate log lines before the JSON
    try:
        return json.loads(text[start:]), None
    except ValueError as error:
        return None, f"{binary}: output is not JSON ({error}): {text[:200]!r}"


# ---------------------------------------------------------------------------------------------


def fixture_names(fixtures_dir, only):
    names = sorted(n for n in os.listdir(fixtures_dir)
                   if os.path.exists(os.path.join(fixtures_dir, n, "model.h5")))
    return [n for n in names if not only or n in only]


def prepare(fixtures_dir, name, work_dir):
    """Convert one fixture; returns (inputs, reference outputs, {runtime: path or error string})."""
    directory = os.path.join(fixtures_dir, name)
    with h5py.File(os.path.join(directory, "data.h5"), "r") as f:
        inputs = f["inputs"][...].astype(np.float32)
        reference = f["outputs"][...]
    model = load_keras(os.path.join(directory, "model.h5"))
    artifacts = {}
    tflite_path = os.path.join(work_dir, f"{name}.tflite")
    onnx_path = os.path.join(work_dir, f"{name}.onnx")
    try:
        artifacts["tflite"] = convert_tflite(model, tflite_path)
    except Exception as error:  # a peer that cannot convert a model is a result, not a crash
        artifacts["tflite"] = f"conversion failed: {short_error(error)}"
    try:
        artifacts["onnxruntime"] = convert_onnx(model, inputs[:2], onnx_path)
    except Exception as error:
        reason = short_error(error)
        if os.path.exists(tflite_path):
            try:
                artifacts["onnxruntime"] = convert_onnx_from_tflite(tflite_path, onnx_path)
                print(f"{name}: onnxruntime: Keras ONNX export failed ({reason}); using tf2onnx from TFLite", flush=True)
            except Exception as second:
                artifacts["onnxruntime"] = f"conversion failed: {reason}; from TFLite: {short_error(second)}"
        else:
            artifacts["onnxruntime"] = f"conversion failed: {reason}"
    return inputs, reference, artifacts


def short_error(error):
    text = str(error)
    marker = "No Op registered for"
    if marker in text:
        text = text[text.index(marker):]
    return f"{type(error).__name__}: {text.splitlines()[0][:120] if text else ''}"


def format_rate(value):
    return "-" if value is None else f"{value:,.0f}"


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

    names = fixture_names(args.fixtures, args.only)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_peers_") as work_dir:
        prepared = {}
        for name in names:
            prepared[name] = prepare(args.fixtures, name, work_dir)
            for runtime, artifact in prepared[name][2].items():
                if not os.path.exists(artifact):
                    print(f"{name}: {runtime}: {artifact}", flush=True)

        # Build every runner once, check agreement, then time interleaved repetitions.
        runners = {}
        for name in names:
            inputs, reference, artifacts = prepared[name]
            results[name] = {}
            for runtime in RUNTIMES:
                artifact = artifacts[runtime]
                entry = {"images_per_s": {}}
                if not os.path.exists(artifact):
                    entry["error"] = artifact
                    results[name][runtime] = entry
                    continue
                for batch, threads in SETTINGS:
                    runner = make_runner(runtime, artifact, batch, threads)
                    runners[(name, runtime, batch, threads)] = (runner, batches_of(inputs, batch))
                runner, batches = runners[(name, runtime, 32, 1)]
                entry["top1_agreement"], entry["max_abs_diff"] = top1_agreement(runner, batches, len(inputs), reference)
                results[name][runtime] = entry

        samples = {key: [] for key in runners}
        passes = {}
        for key, (runner, batches) in runners.items():   # warm-up, and passes per run
            time_run(runner, batches)
            rate = time_run(runner, batches)
            images = sum(len(b) for b in batches)
            passes[key] = max(1, round(MIN_RUN_SECONDS * rate / images))
        # qconvert-bench runs once per round (one sample per setting), between the peers' rounds,
        # so load that comes and goes on the shared cores hits every runtime alike.
        print(f"qconvert: {args.qconvert_bench}", flush=True)
        qconvert_samples = {}
        qconvert_error = None
        for _ in range(args.repeats):
            for key, (runner, batches) in runners.items():
                samples[key].append(time_run(runner, batches, passes[key]))
            if qconvert_error is None:
                round_result, qconvert_error = run_qconvert_bench(args.qconvert_bench, args.fixtures, 1, args.only)
                for name, rates in (round_result or {}).items():
                    for key, value in (rates.items() if isinstance(rates, dict) else []):
                        if isinstance(value, (int, float)):
                            qconvert_samples.setdefault(name, {}).setdefault(key, []).append(value)
        for (name, runtime, batch, threads), rates in samples.items():
            results[name][runtime]["images_per_s"][setting_key(batch, threads)] = statistics.median(rates)

    if qconvert_error:
        print(f"qconvert: {qconvert_error}", flush=True)
    for name in names:
        rates = {key: statistics.median(values) for key, values in qconvert_samples.get(name, {}).items()}
        results[name]["qconvert"] = {"images_per_s": rates}

    print()
    print("images/s, median of interleaved runs over 300 test images (higher is better)")
    header = f"{'fixture':<18} {'setting':<16} {'onnxruntime':>12} {'tflite':>10} {'qconvert':>10} {'q/best peer':>12}"
    print(header)
    print("-" * len(header))
    for name in names:
        for batch, threads in SETTINGS:
            key = setting_key(batch, threads)
            ort_rate = results[name]["onnxruntime"]["images_per_s"].get(key)
            tfl_rate = results[name]["tflite"]["images_per_s"].get(key)
            q_rate = results[name]["qconvert"]["images_per_s"].get(key)
            peers = [r for r in (ort_rate, tfl_rate) if r is not None]
            ratio = f"{q_rate / max(peers):.2f}x" if q_rate is not None and peers else "-"
            print(f"{name:<18} {key:<16} {format_rate(ort_rate):>12} {format_rate(tfl_rate):>10} "
                  f"{format_rate(q_rate):>10} {ratio:>12}")
    print()
    print("top-1 agreement with Keras (data.h5/outputs), and max |difference|")
    for name in names:
        cells = []
        for runtime in RUNTIMES:
            entry = results[name][runtime]
            if "error" in entry:
                cells.append(f"{runtime}: n/a ({entry['error']})")
            else:
                cells.append(f"{runtime}: {entry['top1_agreement'] * 100:.1f}% ({entry['max_abs_diff']:.2g})")
        print(f"{name:<18} " + "; ".join(cells))

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "qconvert_error": qconvert_error}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
