#!/usr/bin/env python3
"""Write the Keras 3 native-format fixtures: `.keras` archives and a `.weights.h5` + JSON pair.

The models are the committed Keras 3 fixtures (`fixtures/<name>/model.h5`, trained by
tools/make_fixtures.py); this script re-saves them in Keras 3's own formats, so the tests compare
the same weights and the same reference outputs (`data.h5`) across containers:

  fixtures/<name>/model.keras           model.save("model.keras") by Keras 3.15.1 (tools/requirements.txt)
  fixtures/resnet_bn/model.weights.h5   model.save_weights(...)   (Keras 3 layout: layers/<slot>/vars/0, ...)
  fixtures/resnet_bn/model.json         model.to_json(), the architecture the weights pair with
  fixtures/<name>/model-keras3.0.keras  written by Keras 3.0.5 (--keras30 mode, its own venv; see below)

Keras 3.0-3.5 write no `name` attribute on `vars` groups (added in 3.6), so the importer matches
layers by class order there; the 3.0.5 files test that path with a file that version really wrote.

Each saved file is loaded back by the same Keras and its predictions on data.h5 are checked against
the recorded outputs before it is kept.

Usage:
  tools/.venv/bin/python tools/make_keras_archives.py
  # Keras 3.0.5 files (JAX backend, a separate venv because TF 2.21 needs a newer Keras):
  python3 -m venv /tmp/venv30 && /tmp/venv30/bin/pip install 'keras==3.0.5' 'jax[cpu]' h5py 'numpy<2'
  KERAS_BACKEND=jax /tmp/venv30/bin/python tools/make_keras_archives.py --keras30
"""

import argparse
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures")
ARCHIVE_FIXTURES = ["resnet_bn", "dwsep_relu6", "seq_bn_after_act", "concat_pool_leaky", "ops_zoo"]
KERAS30_FIXTURES = ["resnet_bn", "seq_bn_after_act"]
TOLERANCE = 1e-4  # probabilities / logits relative to the row maximum; float32 summation order only


def check(model, name, label):
    with h5py.File(os.path.join(FIXTURES, name, "data.h5"), "r") as f:
        inputs, expected = f["inputs"][...], f["outputs"][...]
    got = np.asarray(model.predict(inputs, verbose=0))
    scale = np.maximum(np.abs(expected).max(axis=1, keepdims=True), 1.0)
    error = float((np.abs(got - expected) / scale).max())
    same_top1 = float((got.argmax(1) == expected.argmax(1)).mean())
    print(f"{name} {label}: max error {error:.2e}, top-1 agreement {same_top1:.4f}")
    if error > TOLERANCE or same_top1 < 1.0:
        sys.exit(f"{name} {label}: reloaded model disagrees with data.h5")


def keras315():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    assert keras.__version__ == "3.15.1", keras.__version__
    for name in ARCHIVE_FIXTURES:
        folder = os.path.join(FIXTURES, name)
        model = keras.models.load_model(os.path.join(folder, "model.h5"), compile=False)
        path = os.path.join(folder, "model.keras")
        model.save(path)
        check(keras.models.load_model(path, compile=False), name, "model.keras")
        if name == "resnet_bn":
            weights = os.path.join(folder, "model.weights.h5")
            model.save_weights(weights)
            with open(os.path.join(folder, "model.json"), "w") as f:
                f.write(model.to_json())
            rebuilt = keras.models.model_from_json(model.to_json())
            rebuilt.load_weights(weights)
            check(rebuilt, name, "model.weights.h5 + model.json")


def keras30():
    import keras
    assert keras.__version__.startswith("3.0."), keras.__version__
    sys.path.insert(0, HERE)
    import make_fixtures
    for name in KERAS30_FIXTURES:
        folder = os.path.join(FIXTURES, name)
        model = getattr(make_fixtures, "build_" + name)(keras)
        # Weights from the legacy file, layer by layer in its weight_names order.
        with h5py.File(os.path.join(folder, "model.h5"), "r") as f:
            group = f["model_weights"]
            for layer in model.layers:
                if not layer.weights:
                    continue
                names = [n.decode() if isinstance(n, bytes) else n for n in group[layer.name].attrs["weight_names"]]
                layer.set_weights([group[layer.name][n][...] for n in names])
        path = os.path.join(folder, "model-keras3.0.keras")
        model.save(path)
        check(keras.models.load_model(path, compile=False), name, f"model-keras3.0.keras (Keras {keras.__version__})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keras30", action="store_true", help="write the Keras 3.0.x files (run in a Keras 3.0 venv)")
    args = parser.parse_args()
    keras30() if args.keras30 else keras315()


if __name__ == "__main__":
    main()
