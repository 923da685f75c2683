#!/usr/bin/env python3
"""Build the Keras Applications zoo and check qconvert on every family (slow; not run in CI).

Every family is built by keras.applications with weights=None (no download) at a small input,
10 classes and logits out (classifier_activation=None, so near-ties of a 1000-way softmax over
random weights cannot decide top-1). BatchNorm moving statistics are randomised (means N(0, 0.2),
variances U(0.5, 2)) so that folding is exercised; everything else keeps Keras' initialisers.
Seeds are fixed. Each model is saved twice: legacy `model.h5` and `model.keras`.

Then, for each file, with the built `qconvert` binary:
  import     `qconvert inspect FILE`
  parity     `qconvert run FILE --input data.h5 --output out.h5` vs Keras' predict: max error
             relative to each row's largest |logit|, and top-1 agreement
  W8A8       `qconvert FILE out.qbin --bits 8 --calibration calib.h5 --eval data.h5 --report r.json`:
             top-1 agreement with the float model, simulator vs emulation max |LSB| over every op

Inputs: uniform [0, 255] (pixels) for families with preprocessing inside the model (EfficientNet,
EfficientNetV2, ConvNeXt, MobileNetV3), else uniform [-1, 1]. 64 evaluation and 128 calibration images.

Usage (versions pinned in tools/requirements.txt; results go to docs/keras-applications.md by hand):
  tools/.venv/bin/python tools/keras_applications_zoo.py [--out /tmp/zoo] [--only MobileNet ...] [--size 64]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QCONVERT = os.path.join(ROOT, ".build", "release", "qconvert")
SEED = 20261203

# name -> (builder arguments, minimum input size, takes pixels 0..255)
FAMILIES = {
    "MobileNet": (dict(alpha=0.25), 32, False),
    "MobileNetV2": (dict(alpha=0.35), 32, False),
    "MobileNetV3Small": (dict(alpha=0.75), 32, True),
    "MobileNetV3Large": (dict(alpha=0.75), 32, True),
    "EfficientNetB0": (dict(), 32, True),
    "EfficientNetV2B0": (dict(), 32, True),
    "ResNet50": (dict(), 32, False),
    "ResNet50V2": (dict(), 32, False),
    "DenseNet121": (dict(), 32, False),
    "NASNetMobile": (dict(), 32, False),
    "Xception": (dict(), 71, False),
    "InceptionV3": (dict(), 75, False),
    "ConvNeXtTiny": (dict(), 32, True),
}


def build(keras, name, size):
    args, minimum, _ = FAMILIES[name]
    side = max(size, minimum)
    keras.utils.set_random_seed(SEED)
    model = getattr(keras.applications, name)(input_shape=(side, side, 3), weights=None, classes=10,
                                             classifier_activation=None, **args)
    rng = np.random.default_rng(SEED)

    def randomise(layers):
        for layer in layers:
            if hasattr(layer, "layers"):
                randomise(layer.layers)
            if isinstance(layer, keras.layers.BatchNormalization):
                shape = tuple(layer.moving_mean.shape)
                layer.moving_mean.assign(rng.normal(0, 0.2, shape).astype("float32"))
                layer.moving_variance.assign(rng.uniform(0.5, 2, shape).astype("float32"))
    randomise(model.layers)
    return model, side


def qconvert(*args):
    return subprocess.run([QCONVERT, *args], capture_output=True, text=True)


def check_file(path, data, calib, expected, work):
    result = {"file": os.path.basename(path)}
    started = time.time()
    inspect = qconvert("inspect", path)
    result["import"] = inspect.returncode == 0
    if not result["import"]:
        result["error"] = inspect.stderr.strip().splitlines()[-1][:300]
        return result
    out = os.path.join(work, "float.h5")
    run = qconvert("run", path, "--input", data, "--output", out)
    if run.returncode != 0:
        result["error"] = run.stderr.strip()[:300]
        return result
    with h5py.File(out, "r") as f:
        got = f["outputs"][...]
    scale = np.maximum(np.abs(expected).max(axis=1, keepdims=True), 1e-12)
    result["parity_max_rel"] = float((np.abs(got - expected) / scale).max())
    result["parity_top1"] = float((got.argmax(1) == expected.argmax(1)).mean())
    qbin, report = os.path.join(work, "model.qbin"), os.path.join(work, "report.json")
    convert = qconvert(path, qbin, "--bits", "8", "--calibration", calib, "--eval", data, "--report", report,
                       "--quiet", "--noise-floor-draws", "0")
    if convert.returncode != 0:
        result["w8a8_error"] = convert.stderr.strip().splitlines()[-1][:300] if convert.stderr.strip() else "exit %d" % convert.returncode
        return result
    with open(report) as f:
        rep = json.load(f)
    result["w8a8_top1"] = rep.get("evaluation", {}).get("top1Agreement")
    lsb = [layer.get("simulatorVsEmulation", {}).get("maxAbsDifference") for layer in rep.get("layers", [])]
    lsb = [x for x in lsb if x is not None]
    result["sim_vs_emulation_max_lsb"] = max(lsb) if lsb else None
    result["qbin_bytes"] = os.path.getsize(qbin)
    result["seconds"] = round(time.time() - started, 1)
    return result


def generate(keras, name, size, folder, data, calib, files):
    """Builds the family, writes random inputs with Keras' outputs, and saves both containers."""
    os.makedirs(folder, exist_ok=True)
    model, side = build(keras, name, size)
    pixels = FAMILIES[name][2]
    rng = np.random.default_rng(SEED + 1)
    low, high = (0.0, 255.0) if pixels else (-1.0, 1.0)
    inputs = rng.uniform(low, high, (64, side, side, 3)).astype("float32")
    calib_inputs = rng.uniform(low, high, (128, side, side, 3)).astype("float32")
    expected = np.asarray(model.predict(inputs, verbose=0))
    with h5py.File(data, "w") as f:
        f["inputs"], f["outputs"] = inputs, expected
    with h5py.File(calib, "w") as f:
        f["inputs"] = calib_inputs
    for path in files:
        model.save(path)
    print(f"{name}: {model.count_params()} parameters, input {side}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="/tmp/qconvert-zoo")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--generate-only", action="store_true", help="write the models and data, check nothing")
    args = parser.parse_args()
    import keras
    assert keras.__version__ == "3.15.1", f"pinned Keras 3.15.1, found {keras.__version__}"
    if not args.generate_only and not os.path.exists(QCONVERT):
        sys.exit(f"build qconvert first: {QCONVERT}")
    results = []
    for name in args.only or FAMILIES:
        folder = os.path.join(args.out, name)
        data, calib = os.path.join(folder, "data.h5"), os.path.join(folder, "calib.h5")
        files = [os.path.join(folder, c) for c in ("model.h5", "model.keras")]
        if not all(os.path.exists(p) for p in files + [data, calib]):
            generate(keras, name, args.size, folder, data, calib, files)
        if args.generate_only:
            continue
        with h5py.File(data, "r") as f:
            expected, side = f["outputs"][...], f["inputs"].shape[1]
        for path in files:
            result = {"family": name, "input": int(side)}
            result.update(check_file(path, data, calib, expected, folder))
            print(json.dumps(result), flush=True)
            results.append(result)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
