#!/usr/bin/env python3
"""Derive a Keras 2.0.x-era fixture (keras20_cnn) from the tf-keras one (keras2_cnn).

Files written by Keras 2.0.8 (2017) are still common. Their architecture JSON differs from what
tf-keras 2.21 writes, while the weights are stored the same way. This script copies
`<src>/model.h5` and rewrites only the root attributes, so the importer sees the old dialect:

  - root attribute keras_version = "2.0.8", backend = "tensorflow";
  - model_config: class_name "Model" instead of "Functional";
  - every "module", "registered_name" and "build_config" key removed, at any depth
    (initializers become {"class_name", "config"} only, as in 2.0.x);
  - `dtype` a plain string (a DTypePolicy dict becomes its name);
  - InputLayer config without "ragged"/"optional"; Conv2D without "groups" (added in 2.3);
  - BatchNormalization "axis": [3] written as the int -1 (2.0.x wrote the constructor argument);
  - model_config, training_config, keras_version and backend stored as FIXED-length byte strings,
    as h5py 2.x did (h5py 3 writes variable-length UTF-8), so readers must handle both.

Weights, optimizer_weights, data.h5 and calib.h5 are untouched (copied). The rewritten file is then
loaded back with tf-keras and its predictions on data.h5 compared with the stored outputs.

Usage: TF_USE_LEGACY_KERAS=1 python tools/keras2_variant.py fixtures/keras2_cnn fixtures/keras20_cnn
"""

import json
import os
import shutil
import sys

import h5py
import numpy as np

DROPPED_KEYS = {"module", "registered_name", "build_config"}


def strip_new_keys(node):
    """Recursively drop keys that Keras 2.0.x never wrote; flatten dtype policies to strings."""
    if isinstance(node, list):
        return [strip_new_keys(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key in DROPPED_KEYS:
            continue
        if key == "dtype" and isinstance(value, dict):
            value = value.get("config", {}).get("name", "float32")
        result[key] = strip_new_keys(value)
    return result


def to_keras20(model_config):
    config = strip_new_keys(model_config)
    if config["class_name"] == "Functional":
        config["class_name"] = "Model"
    for layer in config["config"]["layers"]:
        layer_config = layer["config"]
        if layer["class_name"] == "InputLayer":
            layer_config.pop("ragged", None)
            layer_config.pop("optional", None)
        if layer["class_name"] == "Conv2D" and layer_config.get("groups") == 1:
            del layer_config["groups"]
        if layer["class_name"] == "BatchNormalization" and layer_config.get("axis") in ([3], 3):
            layer_config["axis"] = -1   # every BN in keras2_cnn follows a rank-4 NHWC conv
    return config


def fixed_string(text):
    """A fixed-length ASCII attribute, as h5py 2.x wrote Python 2 str values."""
    return np.bytes_(text.encode("ascii"))


def rewrite(src_dir, dst_dir):
    os.makedirs(dst_dir, exist_ok=True)
    dst_model = os.path.join(dst_dir, "model.h5")
    shutil.copyfile(os.path.join(src_dir, "model.h5"), dst_model)
    for name in ("data.h5", "calib.h5"):
        shutil.copyfile(os.path.join(src_dir, name), os.path.join(dst_dir, name))

    with h5py.File(dst_model, "r+") as f:
        model_config = to_keras20(json.loads(f.attrs["model_config"]))
        training_config = f.attrs.get("training_config")
        for key in ("model_config", "training_config", "keras_version", "backend"):
            if key in f.attrs:
                del f.attrs[key]
        f.attrs["keras_version"] = fixed_string("2.0.8")
        f.attrs["backend"] = fixed_string("tensorflow")
        f.attrs["model_config"] = fixed_string(json.dumps(model_config))
        if training_config is not None:
            if isinstance(training_config, bytes):
                training_config = training_config.decode()
            f.attrs["training_config"] = fixed_string(training_config)

    with open(os.path.join(src_dir, "meta.json")) as f:
        meta = json.load(f)
    meta["name"] = os.path.basename(os.path.normpath(dst_dir))
    meta["derived_from"] = (f"{os.path.basename(os.path.normpath(src_dir))} (tf-keras {meta.get('keras_version')}), "
                            "model_config rewritten by tools/keras2_variant.py; weights identical")
    meta["keras_version"] = "2.0.8"
    return dst_model, meta


def verify(dst_dir):
    """Load the rewritten file with tf-keras and compare its predictions with data.h5/outputs."""
    import tf_keras as keras
    model = keras.models.load_model(os.path.join(dst_dir, "model.h5"), compile=False)
    with h5py.File(os.path.join(dst_dir, "data.h5"), "r") as f:
        inputs, outputs = f["inputs"][...], f["outputs"][...]
    predicted = model.predict(inputs, verbose=0)
    return float(np.abs(predicted - outputs).max())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src_dir, dst_dir = sys.argv[1], sys.argv[2]
    _, meta = rewrite(src_dir, dst_dir)
    try:
        difference = verify(dst_dir)
        meta["tf_keras_reload_max_abs_diff"] = difference
        print(f"{meta['name']}: reloaded with tf-keras, max |predict - data.h5/outputs| = {difference:.3g}")
    except Exception as error:  # the fixture is still useful; record why it could not be checked
        meta["tf_keras_reload_error"] = f"{type(error).__name__}: {error}"
        print(f"{meta['name']}: tf-keras could not reload the rewritten file: {error}")
    with open(os.path.join(dst_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
