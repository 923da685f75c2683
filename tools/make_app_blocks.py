#!/usr/bin/env python3
"""Write fixtures/applications/blocks: one small model built from the layer types the Keras
Applications CNNs need beyond the other fixtures, saved by Keras 3.15.1 as `model.h5` and `model.keras`.

  - MobileNetV3: Rescaling(1/127.5, -1), hard_silu activations, squeeze-excite with
    GlobalAveragePooling2D(keepdims=True), Conv2D 1x1, ReLU, and its hard sigmoid written with
    functional ops (`ReLU(6)(x + 3.0) * (1/6)`: keras.src.ops Add / Multiply with a constant),
    then a broadcast Multiply (H x W x C times 1 x 1 x C);
  - EfficientNet: an adapted Normalization layer (mean / variance / count weights), swish, and its
    squeeze-excite (GlobalAveragePooling2D, Reshape to 1 x 1 x C, Conv2D sigmoid, Multiply);
  - NASNet: ZeroPadding2D then Cropping2D([[1, 0], [1, 0]]) before a strided separable conv;
  - GELU (Activation("gelu"), the exact erf form ConvNeXt uses) before the classifier.

The weights are Keras' initialisers with BatchNorm moving statistics randomised (means N(0, 0.2),
variances U(0.5, 2)); nothing is trained: the fixture checks import, float parity with Keras and the
quantized pipeline (simulator = emulation), not accuracy. data.h5 holds 32 uniform [0, 255] inputs and
Keras' outputs (logits), calib.h5 64 more (integer pixel values, gzip).

Usage: tools/.venv/bin/python tools/make_app_blocks.py
"""

import json
import os

import h5py
import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "applications", "blocks")
SEED = 20261203


def build():
    L = keras.layers
    inputs = keras.Input((24, 24, 3), name="image")
    x = L.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(inputs)
    norm = L.Normalization(name="normalize")
    norm.adapt(np.random.default_rng(SEED).uniform(-1, 1, (64, 24, 24, 3)).astype("float32") * [1.0, 0.5, 2.0] + [0.1, -0.2, 0.3])
    x = norm(x)
    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)       # 12 x 12 x 16
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.Activation("hard_silu", name="stem_hswish")(x)

    # MobileNetV3 squeeze-excite.
    s = L.GlobalAveragePooling2D(keepdims=True, name="v3_se_pool")(x)
    s = L.Conv2D(8, 1, name="v3_se_reduce")(s)
    s = L.ReLU(name="v3_se_relu")(s)
    s = L.Conv2D(16, 1, name="v3_se_expand")(s)
    s = L.ReLU(6.0, name="v3_se_relu6")(s + 3.0) * (1.0 / 6.0)
    x = L.Multiply(name="v3_se_mul")([x, s])

    # EfficientNet block: depthwise, swish, squeeze-excite with Reshape.
    y = L.DepthwiseConv2D(3, padding="same", use_bias=False, name="eff_dw")(x)
    y = L.BatchNormalization(name="eff_bn")(y)
    y = L.Activation("swish", name="eff_swish")(y)
    t = L.GlobalAveragePooling2D(name="eff_se_pool")(y)
    t = L.Reshape((1, 1, 16), name="eff_se_reshape")(t)
    t = L.Conv2D(4, 1, activation="swish", name="eff_se_reduce")(t)
    t = L.Conv2D(16, 1, activation="sigmoid", name="eff_se_expand")(t)
    y = L.Multiply(name="eff_se_mul")([t, y])      # the 1 x 1 x C operand first
    x = L.Add(name="eff_add")([x, y])

    # NASNet-style reduction: pad, crop, strided separable conv.
    z = L.ZeroPadding2D(((0, 1), (0, 1)), name="nas_pad")(x)                                # 13 x 13
    z = L.Cropping2D(((1, 0), (1, 0)), name="nas_crop")(z)                                 # 12 x 12
    z = L.SeparableConv2D(24, 3, strides=2, padding="same", name="nas_sep")(z)             # 6 x 6 x 24
    z = L.BatchNormalization(name="nas_bn")(z)
    z = L.Activation("gelu", name="gelu")(z)
    z = L.GlobalAveragePooling2D(name="head_pool")(z)
    outputs = L.Dense(10, name="logits")(z)
    return keras.Model(inputs, outputs, name="app_blocks")


def main():
    keras.utils.set_random_seed(SEED)
    model = build()
    rng = np.random.default_rng(SEED)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([gamma, beta, rng.normal(0, 0.2, mean.shape).astype("float32"),
                               rng.uniform(0.5, 2, var.shape).astype("float32")])
    inputs = rng.integers(0, 256, (32, 24, 24, 3)).astype("float32")
    calib = rng.integers(0, 256, (64, 24, 24, 3)).astype("float32")
    outputs = np.asarray(model.predict(inputs, verbose=0))
    os.makedirs(OUT, exist_ok=True)
    model.save(os.path.join(OUT, "model.h5"))
    model.save(os.path.join(OUT, "model.keras"))
    for name, values in [("data.h5", {"inputs": inputs, "outputs": outputs}), ("calib.h5", {"inputs": calib})]:
        with h5py.File(os.path.join(OUT, name), "w") as f:
            for key, value in values.items():
                f.create_dataset(key, data=value, compression="gzip", shuffle=True)
    # Keras 3.15 cannot load its own legacy .h5 of a model with functional ops (`x + 3.0`: "Only input
    # tensors may be passed as positional arguments"), so only the .keras file is reloaded here.
    for path in ["model.keras"]:
        again = keras.models.load_model(os.path.join(OUT, path), compile=False)
        error = float(np.abs(np.asarray(again.predict(inputs, verbose=0)) - outputs).max())
        print(f"{path}: reloaded max |error| {error:.2e}")
        assert error < 1e-5
    meta = {"keras_version": keras.__version__, "backend": keras.backend.backend(), "params": int(model.count_params()),
            "layer_classes": [layer.__class__.__name__ for layer in model.layers], "output_kind": "logits"}
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
