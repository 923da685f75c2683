#!/usr/bin/env python3
"""Write fixtures/applications/convnext: a small model built like ConvNeXt (keras.applications.convnext),
saved by Keras 3.15.1 as `model.h5` and `model.keras`, with what ConvNeXt needs beyond
fixtures/applications/blocks:

  - a nested Sequential stem (Conv2D 4x4 stride 4, LayerNormalization) and a nested Sequential
    downsampling block (LayerNormalization, Conv2D 2x2 stride 2), as ConvNeXt builds them;
  - a nested Functional model (a Conv2D 1x1 and a LayerNormalization) called once, so the other
    nested class is covered too;
  - ConvNeXt blocks: a 7x7 depthwise conv written as Conv2D(groups=C), LayerNormalization(epsilon=1e-6)
    over channels, Dense on the 4-D tensor (the pointwise convs), GELU, Dense, LayerScale, residual Add;
  - the head: GlobalAveragePooling2D, LayerNormalization on the 1-D vector, Dense.

LayerScale gammas are U(0.2, 1) and LayerNormalization gammas / betas U(0.5, 1.5) / N(0, 0.3) (ConvNeXt's
1e-6 LayerScale init would make every residual branch vanish and test nothing). Nothing is trained.
data.h5 holds 32 uniform [0, 255] inputs and Keras' logits, calib.h5 64 more.

Usage: tools/.venv/bin/python tools/make_convnext_blocks.py
"""

import json
import os

import h5py
import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
from keras.src.applications.convnext import LayerScale  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "applications", "convnext")
SEED = 20261203
SIZE = 16


def block(x, dim, name):
    L = keras.layers
    y = L.Conv2D(dim, 7, padding="same", groups=dim, name=name + "_depthwise_conv")(x)
    y = L.LayerNormalization(epsilon=1e-6, name=name + "_layernorm")(y)
    y = L.Dense(4 * dim, name=name + "_pointwise_conv_1")(y)
    y = L.Activation("gelu", name=name + "_gelu")(y)
    y = L.Dense(dim, name=name + "_pointwise_conv_2")(y)
    y = LayerScale(1e-6, dim, name=name + "_layer_scale")(y)
    return L.Add(name=name + "_add")([x, y])


def build():
    L = keras.layers
    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    x = L.Normalization(mean=[123.675, 116.28, 103.53], variance=[3409.98, 3262.69, 3291.89], name="prestem_normalization")(inputs)
    stem = keras.Sequential([L.Conv2D(16, 4, strides=4, name="stem_conv"),
                             L.LayerNormalization(epsilon=1e-6, name="stem_layernorm")], name="stem")
    x = stem(x)                                                                      # 4 x 4 x 16
    x = block(x, 16, "stage_0_block_0")
    down = keras.Sequential([L.LayerNormalization(epsilon=1e-6, name="downsampling_layernorm_0"),
                             L.Conv2D(24, 2, strides=2, name="downsampling_conv_0")], name="downsampling_block_0")
    x = down(x)                                                                      # 2 x 2 x 24
    inner_in = keras.Input((2, 2, 24), name="mixer_input")
    inner = L.Conv2D(24, 1, name="mixer_conv")(inner_in)
    inner = L.LayerNormalization(epsilon=1e-6, name="mixer_layernorm")(inner)
    x = keras.Model(inner_in, inner, name="mixer")(x)
    x = block(x, 24, "stage_1_block_0")
    x = L.GlobalAveragePooling2D(name="head_gap")(x)
    x = L.LayerNormalization(epsilon=1e-6, name="head_layernorm")(x)
    outputs = L.Dense(10, name="head_dense")(x)
    return keras.Model(inputs, outputs, name="convnext_blocks")


def all_layers(layers):
    for layer in layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from all_layers(layer.layers)


def main():
    keras.utils.set_random_seed(SEED)
    model = build()
    rng = np.random.default_rng(SEED)
    for layer in all_layers(model.layers):
        if isinstance(layer, LayerScale):
            layer.set_weights([rng.uniform(0.2, 1, w.shape).astype("float32") for w in layer.get_weights()])
        if isinstance(layer, keras.layers.LayerNormalization):
            gamma, beta = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype("float32"), rng.normal(0, 0.3, beta.shape).astype("float32")])
    inputs = rng.integers(0, 256, (32, SIZE, SIZE, 3)).astype("float32")
    calib = rng.integers(0, 256, (64, SIZE, SIZE, 3)).astype("float32")
    outputs = np.asarray(model.predict(inputs, verbose=0))
    os.makedirs(OUT, exist_ok=True)
    model.save(os.path.join(OUT, "model.h5"))
    model.save(os.path.join(OUT, "model.keras"))
    for name, values in [("data.h5", {"inputs": inputs, "outputs": outputs}), ("calib.h5", {"inputs": calib})]:
        with h5py.File(os.path.join(OUT, name), "w") as f:
            for key, value in values.items():
                f.create_dataset(key, data=value, compression="gzip", shuffle=True)
    again = keras.models.load_model(os.path.join(OUT, "model.keras"), compile=False)
    error = float(np.abs(np.asarray(again.predict(inputs, verbose=0)) - outputs).max())
    print(f"model.keras: reloaded max |error| {error:.2e}")
    assert error < 1e-5
    meta = {"keras_version": keras.__version__, "backend": keras.backend.backend(), "params": int(model.count_params()),
            "layer_classes": [layer.__class__.__name__ for layer in model.layers], "output_kind": "logits"}
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
