#!/usr/bin/env python3
"""Train the "real world" zoo (issue 10): small Fashion-MNIST models shaped like the public models
that broke qconvert, each with a trained and a deliberately pathological variant, and write
`fixtures/zoo/<name>/{model.h5,data.h5,calib.h5,meta.json}` (same layout as tools/make_fixtures.py,
smaller: data.h5 holds 300 test images, calib.h5 256 unseen training images).

| name | Keras | what it looks like |
|---|---|---|
| bn_act_raw | 3 | raw 0..255 inputs (no Rescaling), Conv+ReLU -> BatchNorm -> unpadded Conv, logits |
| dead_bn_raw | 3 | the same with 3 dead channels before the BatchNorm (moving variance 1e-11, gamma 1) |
| relu_logits_k2 | 2 | tf-keras, Dense(10, relu) on the logits |
| outlier_k2 | 2 | relu_logits_k2 with one conv1 channel scaled x64 and conv2's reading rows / 64 (same function) |
| sepconv_wide | 3 | SeparableConv2D whose depthwise channels span x40 in range (pointwise rows scaled back) |
| mini_xception | 3 | mini-Xception-like: [-1, 1] inputs, separable convs, BN, residual adds, softmax |

Dead channels, made real: a ReLU channel whose conv bias is very negative never fires, so it gets no
gradient and stays dead through training, exactly like a channel that dies in a long run; its
BatchNorm gamma keeps its initial 1.0 (no gradient reaches it) while the moving variance, which only
decays, is set to the value long training leaves, 1e-11 (the public CIFAR-10 model of
issue 10 has 15 of 64 such channels). The moving mean is 0. gamma / sqrt(var + 1e-3) is then ~31.6 on
dead channels against ~0.01-0.05 on live ones fed raw 0..255 images.

BatchNormalization layers use momentum 0.9 (Keras' default 0.99 leaves the moving statistics of a
one-epoch run mostly at their initial values: NOTES.md "Real models").

Usage: tools/.venv/bin/python tools/make_zoo.py [--only NAME ...] [--out fixtures/zoo]
Training is one short epoch each (seconds on 2 cores). Not bit-reproducible across machines: tests
read expected values from data.h5.
"""

import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import load_fashion_mnist, limit_threads  # noqa: E402

SEED = 20261203
TRAIN_COUNT = 12000
CALIB_RANGE = (50000, 50256)
TEST_COUNT = 300
DEAD = [0, 5, 11]

KERAS3 = ["bn_act_raw", "dead_bn_raw", "sepconv_wide", "mini_xception"]
KERAS2 = ["relu_logits_k2", "outlier_k2"]
ALL = KERAS3 + KERAS2


def build_bn_act_raw(keras, dead):
    L = keras.layers
    inputs = keras.Input((28, 28, 1), name="image_raw")
    x = L.Conv2D(16, 3, activation="relu", name="conv1")(inputs)           # 26x26x16
    x = L.BatchNormalization(momentum=0.9, name="bn1")(x)                                 # after the ReLU
    x = L.Conv2D(24, 3, activation="relu", name="conv2")(x)                # unpadded: 24x24x24
    x = L.MaxPooling2D(2, name="pool")(x)                                   # 12x12x24
    x = L.Conv2D(32, 3, strides=2, activation="relu", name="conv3")(x)     # 5x5x32
    x = L.GlobalAveragePooling2D(name="gap")(x)
    outputs = L.Dense(10, name="logits")(x)
    model = keras.Model(inputs, outputs, name="dead_bn_raw" if dead else "bn_act_raw")
    if dead:
        kernel, bias = model.get_layer("conv1").get_weights()
        bias[DEAD] = -1e4   # never fires on 0..255 inputs: no gradient, dead for the whole run
        model.get_layer("conv1").set_weights([kernel, bias])
    return model


def kill_bn_statistics(model):
    """The dead channels' BN moving statistics as a long run leaves them (docstring)."""
    bn = model.get_layer("bn1")
    gamma, beta, mean, var = bn.get_weights()
    mean[DEAD] = 0.0
    var[DEAD] = 1e-11
    bn.set_weights([gamma, beta, mean, var])
    return {"dead_channels": DEAD, "dead_gamma": [float(gamma[c]) for c in DEAD],
            "dead_fold_gain": [float(gamma[c] / np.sqrt(1e-11 + bn.epsilon)) for c in DEAD],
            "live_fold_gain_median": float(np.median([gamma[c] / np.sqrt(var[c] + bn.epsilon)
                                                      for c in range(len(var)) if c not in DEAD]))}


def build_sepconv_wide(keras):
    L = keras.layers
    inputs = keras.Input((28, 28, 1), name="image")
    x = L.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="stem")(inputs)   # 14x14x16
    x = L.SeparableConv2D(32, 3, padding="same", activation="relu", name="sep1")(x)
    x = L.SeparableConv2D(32, 3, strides=2, padding="same", activation="relu", name="sep2")(x)  # 7x7
    x = L.GlobalAveragePooling2D(name="gap")(x)
    outputs = L.Dense(10, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="sepconv_wide")


def widen_depthwise(model):
    """Scales sep1's depthwise channel c by f[c] (x1/8 ... x5: a x40 spread) and the pointwise rows
    reading it by 1 / f[c]: the same function, with the wide per-channel ranges of the issue's model."""
    layer = model.get_layer("sep1")
    dw, pw, b = layer.get_weights()
    factors = np.geomspace(1 / 8, 5, dw.shape[2]).astype(np.float32)
    np.random.default_rng(SEED).shuffle(factors)
    dw = dw * factors[None, None, :, None]
    pw = pw / factors[None, None, :, None]
    layer.set_weights([dw, pw, b])
    return {"depthwise_channel_factors": [float(f) for f in factors]}


def build_mini_xception(keras):
    L = keras.layers
    inputs = keras.Input((28, 28, 1), name="image_pm1")
    x = L.Conv2D(8, 3, use_bias=False, name="stem_conv")(inputs)            # 26x26x8
    x = L.BatchNormalization(momentum=0.9, name="stem_bn")(x)
    x = L.Activation("relu", name="stem_relu")(x)
    for i, filters in enumerate([16, 32]):
        residual = L.Conv2D(filters, 1, strides=2, padding="same", use_bias=False, name=f"b{i}_proj")(x)
        residual = L.BatchNormalization(momentum=0.9, name=f"b{i}_proj_bn")(residual)
        y = L.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"b{i}_sep1")(x)
        y = L.BatchNormalization(momentum=0.9, name=f"b{i}_bn1")(y)
        y = L.Activation("relu", name=f"b{i}_relu")(y)
        y = L.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"b{i}_sep2")(y)
        y = L.BatchNormalization(momentum=0.9, name=f"b{i}_bn2")(y)
        y = L.MaxPooling2D(3, strides=2, padding="same", name=f"b{i}_pool")(y)
        x = L.Add(name=f"b{i}_add")([y, residual])
    x = L.Conv2D(10, 3, padding="same", name="head_conv")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    outputs = L.Activation("softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="mini_xception")


def build_relu_logits(keras):
    L = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = L.Conv2D(16, 3, activation="relu", name="conv1")(inputs)    # 26x26x16
    x = L.MaxPooling2D(2)(x)                                          # 13x13
    x = L.Conv2D(32, 3, activation="relu", name="conv2")(x)          # 11x11x32
    x = L.MaxPooling2D(2)(x)                                          # 5x5
    x = L.Flatten()(x)
    outputs = L.Dense(10, activation="relu", name="logits")(x)       # a ReLU on the logits
    return keras.Model(inputs, outputs)


def outlier_channel(model):
    """conv1 channel 3 x64 (kernel and bias), conv2's rows reading it / 64: ReLU is positively
    homogeneous, so the function is unchanged and conv1's output range is set by one channel."""
    c1, c2 = model.get_layer("conv1"), model.get_layer("conv2")
    k1, b1 = c1.get_weights()
    k2, b2 = c2.get_weights()
    k1[..., 3] *= 64
    b1[3] *= 64
    k2[:, :, 3, :] /= 64
    c1.set_weights([k1, b1])
    c2.set_weights([k2, b2])
    return {"outlier_channel": 3, "factor": 64}


def scale_of(name):
    return {"bn_act_raw": "raw", "dead_bn_raw": "raw", "mini_xception": "pm1"}.get(name, "unit")


def scaled(x, kind):
    if kind == "raw":
        return x.astype(np.float32)
    if kind == "pm1":
        return (x / 127.5 - 1).astype(np.float32)
    return (x / 255).astype(np.float32)


def write(out_dir, name, model, keras, data, output_kind, extra):
    x_train, y_train, x_test, y_test = data
    kind = scale_of(name)
    directory = os.path.join(out_dir, name)
    os.makedirs(directory, exist_ok=True)
    test_all = scaled(x_test, kind)
    accuracy = float((model.predict(test_all, batch_size=500, verbose=0).argmax(axis=1) == y_test).mean())
    path = os.path.join(directory, "model.h5")
    if os.path.exists(path):
        os.remove(path)
    model.save(path, include_optimizer=False)
    inputs = test_all[:TEST_COUNT]
    outputs = model.predict(inputs, batch_size=TEST_COUNT, verbose=0).astype(np.float32)
    with h5py.File(os.path.join(directory, "data.h5"), "w") as f:
        f.create_dataset("inputs", data=inputs, compression="gzip", compression_opts=6, shuffle=True, chunks=(50, 28, 28, 1))
        f.create_dataset("outputs", data=outputs)
        f.create_dataset("labels", data=y_test[:TEST_COUNT].astype(np.int32))
    lo, hi = CALIB_RANGE
    with h5py.File(os.path.join(directory, "calib.h5"), "w") as f:
        f.create_dataset("inputs", data=scaled(x_train[lo:hi], kind), compression="gzip", compression_opts=6,
                         shuffle=True, chunks=(64, 28, 28, 1))
    meta = {"name": name, "keras_version": keras.__version__, "output_kind": output_kind,
            "input_scaling": {"raw": "raw 0..255", "pm1": "[-1, 1] (pixel / 127.5 - 1)", "unit": "0..1"}[kind],
            "test_accuracy": round(accuracy, 4), "params": int(model.count_params()),
            "train_images": TRAIN_COUNT, "epochs": EPOCHS.get(name, 1), "seed": SEED, **extra}
    with open(os.path.join(directory, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{name}: test accuracy {accuracy:.4f}, keras {keras.__version__}", flush=True)


EPOCHS = {"sepconv_wide": 3, "bn_act_raw": 5, "dead_bn_raw": 5}


def train(keras, model, data, name, output_kind):
    x_train, y_train, _, _ = data
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=(output_kind == "logits"))
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=loss, metrics=["accuracy"])
    model.fit(scaled(x_train[:TRAIN_COUNT], scale_of(name)), y_train[:TRAIN_COUNT], batch_size=128, epochs=EPOCHS.get(name, 1), verbose=2)


def run_keras3(names, out_dir):
    import tensorflow as tf
    import keras
    limit_threads(tf)
    data = load_fashion_mnist()
    for name in names:
        keras.utils.set_random_seed(SEED)
        extra = {}
        if name in ("bn_act_raw", "dead_bn_raw"):
            model = build_bn_act_raw(keras, dead=name == "dead_bn_raw")
            train(keras, model, data, name, "logits")
            if name == "dead_bn_raw":
                extra = kill_bn_statistics(model)
            write(out_dir, name, model, keras, data, "logits", extra)
        elif name == "sepconv_wide":
            model = build_sepconv_wide(keras)
            train(keras, model, data, name, "probabilities")
            write(out_dir, name, model, keras, data, "probabilities", widen_depthwise(model))
        elif name == "mini_xception":
            model = build_mini_xception(keras)
            train(keras, model, data, name, "probabilities")
            write(out_dir, name, model, keras, data, "probabilities", {})


def run_keras2(names, out_dir):
    import tensorflow as tf
    import tf_keras as keras
    limit_threads(tf)
    data = load_fashion_mnist()
    keras.utils.set_random_seed(SEED)
    model = build_relu_logits(keras)
    # Trained on logits through the ReLU (from_logits): the network learns to keep the winner positive.
    train(keras, model, data, "relu_logits_k2", "logits")
    if "relu_logits_k2" in names:
        write(out_dir, "relu_logits_k2", model, keras, data, "logits", {})
    if "outlier_k2" in names:
        extra = outlier_channel(model)
        write(out_dir, "outlier_k2", model, keras, data, "logits", extra)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "zoo"))
    parser.add_argument("--only", nargs="*", choices=ALL)
    parser.add_argument("--keras2", action="store_true", help=argparse.SUPPRESS)  # internal: child process
    args = parser.parse_args()
    out_dir = os.path.normpath(args.out)
    wanted = args.only or ALL
    if args.keras2:
        run_keras2([n for n in KERAS2 if n in wanted], out_dir)
        return
    keras3 = [n for n in KERAS3 if n in wanted]
    if keras3:
        run_keras3(keras3, out_dir)
    keras2 = [n for n in KERAS2 if n in wanted]
    if keras2:
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        subprocess.run([sys.executable, os.path.abspath(__file__), "--keras2", "--out", out_dir, "--only", *keras2],
                       env=env, check=True)


if __name__ == "__main__":
    main()
