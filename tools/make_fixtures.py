#!/usr/bin/env python3
"""Train the small Fashion-MNIST CNNs that qconvert's tests import, and write their fixtures.

Every model is trained for real (a few epochs on Fashion-MNIST, fixed seeds) and saved as a legacy
full-model HDF5 file, because that is the file users bring. For each fixture directory
`fixtures/<name>/` this writes:

  model.h5   the model (`model.save("model.h5")`; resnet_bn and keras2_cnn keep optimizer state)
  data.h5    /inputs  300 held-out TEST images, float32 N x 28 x 28 x 1, gzip+shuffle, chunked
             /outputs the model's own `predict` on /inputs, float32 (contiguous)
             /labels  int32 class ids
  calib.h5   /inputs  512 TRAIN images never used for training, same scaling, gzip, chunked
  meta.json  keras version, backend, layer classes, output kind, accuracy on the full 10k test set

Inputs are scaled to [0, 1], except concat_pool_leaky, whose Rescaling(1/255) layer takes raw 0..255.

Keras 3 fixtures are built in this process. keras2_cnn needs tf-keras (Keras 2), so the script runs
itself again with TF_USE_LEGACY_KERAS=1 and `--keras2`; keras20_cnn is then derived from it by
tools/keras2_variant.py. Usage:

  tools/.venv/bin/python tools/make_fixtures.py [--only NAME ...] [--out fixtures]
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np

DATASET_DIR = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot"]

SEED = 20241124
TRAIN_COUNT = 40000          # images 0..39999 of the training set are used for training
CALIB_RANGE = (50000, 50512)  # 512 training images never seen in training
FIXTURE_TEST_COUNT = 300      # the first 300 test images go into data.h5
BATCH_SIZE = 128

KERAS3_FIXTURES = ["resnet_bn", "dwsep_relu6", "seq_bn_after_act", "concat_pool_leaky", "ops_zoo"]
KERAS2_FIXTURES = ["keras2_cnn"]
ALL_FIXTURES = KERAS3_FIXTURES + KERAS2_FIXTURES + ["keras20_cnn"]


# ---------------------------------------------------------------------------------------------
# Data


def read_idx(path):
    """Read one gzip IDX file (magic: 0x0000, type 0x08 = ubyte, rank) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, found {data.size} bytes of data")
    return data.reshape(dims)


def load_fashion_mnist():
    """Return (x_train, y_train, x_test, y_test) with images as float32 N x 28 x 28 x 1 in 0..255."""
    def images(name):
        return read_idx(os.path.join(DATASET_DIR, name)).astype(np.float32)[..., None]

    def labels(name):
        return read_idx(os.path.join(DATASET_DIR, name)).astype(np.int32)

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


# ---------------------------------------------------------------------------------------------
# Keras 3 models


def build_resnet_bn(keras):
    """Residual CNN: conv-bn-relu stem, identity block, block with strided 1x1 projection."""
    L = keras.layers

    def conv_bn(x, filters, kernel, strides, name):
        x = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name + "_conv")(x)
        return L.BatchNormalization(name=name + "_bn")(x)

    inputs = keras.Input((28, 28, 1), name="image")
    x = conv_bn(inputs, 16, 3, 2, "stem")                        # 14 x 14 x 16
    x = L.ReLU(name="stem_relu")(x)

    # Block 1: identity shortcut.
    y = L.ReLU(name="b1_relu1")(conv_bn(x, 16, 3, 1, "b1_a"))
    y = conv_bn(y, 16, 3, 1, "b1_b")
    x = L.ReLU(name="b1_out")(L.Add(name="b1_add")([x, y]))

    # Block 2: strided, 1x1 projection shortcut.
    y = L.ReLU(name="b2_relu1")(conv_bn(x, 32, 3, 2, "b2_a"))   # 7 x 7 x 32
    y = conv_bn(y, 32, 3, 1, "b2_b")
    shortcut = conv_bn(x, 32, 1, 2, "b2_proj")
    x = L.ReLU(name="b2_out")(L.Add(name="b2_add")([shortcut, y]))

    x = L.GlobalAveragePooling2D(name="gap")(x)
    outputs = L.Dense(10, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="resnet_bn")


def build_dwsep_relu6(keras):
    """MobileNet-style net: ReLU6 both as ReLU(max_value=6) layers and as activation="relu6"."""
    L = keras.layers
    inputs = keras.Input((28, 28, 1), name="image")
    x = L.Conv2D(24, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)   # 14x14x24
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.ReLU(max_value=6, name="stem_relu6")(x)
    x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu6", name="dw1")(x)  # x48
    x = L.Conv2D(48, 1, use_bias=False, name="pw1")(x)
    x = L.BatchNormalization(name="pw1_bn")(x)
    x = L.ReLU(max_value=6, name="pw1_relu6")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False, name="dw2")(x)  # 7x7x48
    x = L.BatchNormalization(name="dw2_bn")(x)
    x = L.ReLU(max_value=6, name="dw2_relu6")(x)
    x = L.SeparableConv2D(96, 3, padding="same", activation="relu6", name="sep3")(x)     # 7x7x96
    x = L.BatchNormalization(name="sep3_bn")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    x = L.Dropout(0.2, name="dropout")(x)
    outputs = L.Dense(10, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="dwsep_relu6")


def build_seq_bn_after_act(keras):
    """Sequential model whose BatchNormalization layers follow the activation (not foldable)."""
    L = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1), name="image"),
        L.Conv2D(16, 3, activation="relu", name="conv1"),          # 26x26x16
        L.BatchNormalization(name="bn1"),
        L.MaxPooling2D(2, name="pool1"),                            # 13x13x16
        L.Conv2D(32, 3, activation="relu", name="conv2"),          # 11x11x32
        L.BatchNormalization(name="bn2"),
        L.Flatten(name="flatten"),
        L.Dense(32, activation="relu", name="fc1"),
        L.BatchNormalization(name="bn3"),
        L.Dense(10, activation="softmax", name="classifier"),
    ], name="seq_bn_after_act")


def build_concat_pool_leaky(keras):
    """Raw 0..255 input, asymmetric SAME padding, branches, padded averages; outputs logits."""
    L = keras.layers
    inputs = keras.Input((28, 28, 1), name="image_raw")
    x = L.Rescaling(1.0 / 255, name="rescale")(inputs)
    # 28x28, kernel 3, stride 2, SAME: 14 outputs, pad 0 top/left and 1 bottom/right.
    x = L.Conv2D(16, 3, strides=2, padding="same", name="stem_conv")(x)     # 14x14x16
    x = L.LeakyReLU(negative_slope=0.1, name="stem_leaky")(x)
    a = L.Conv2D(16, 3, padding="same", name="branch_a_conv")(x)
    a = L.LeakyReLU(negative_slope=0.2, name="branch_a_leaky")(a)
    b = L.AveragePooling2D(3, strides=1, padding="same", name="branch_b_avg")(x)
    b = L.Conv2D(8, 1, name="branch_b_conv")(b)
    x = L.Concatenate(name="concat")([a, b])                                 # 14x14x24
    x = L.ZeroPadding2D(((1, 0), (0, 1)), name="zero_pad")(x)              # 15x15x24
    x = L.MaxPooling2D(2, name="max_pool")(x)                                # 7x7x24
    x = L.Conv2D(32, 3, padding="same", name="conv3")(x)
    x = L.LeakyReLU(negative_slope=0.1, name="conv3_leaky")(x)
    # 7 is odd: the last window row/column covers 1 real + 1 padded element, averaged over 1.
    x = L.AveragePooling2D(2, strides=2, padding="same", name="avg_pool_same")(x)  # 4x4x32
    x = L.Flatten(name="flatten")(x)
    outputs = L.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name="concat_pool_leaky")


def build_ops_zoo(keras):
    """Every remaining layer kind the importer must handle, in one small trainable graph."""
    L = keras.layers
    inputs = keras.Input((28, 28, 1), name="image")
    c1 = L.Conv2D(8, 3, padding="same", dilation_rate=2, activation="relu", name="dilated_conv")(inputs)
    c2 = L.Conv2D(8, 3, padding="same", groups=2, name="grouped_conv")(c1)
    diff = L.Subtract(name="subtract")([c1, c2])
    gate = L.Multiply(name="multiply")([L.Activation("tanh", name="tanh")(c1),
                                        L.Activation("sigmoid", name="sigmoid")(c2)])
    x = L.Add(name="add3")([c1, diff, gate])                                   # 28x28x8
    x = L.GaussianNoise(0.05, name="gaussian_noise")(x)
    x = L.SpatialDropout2D(0.1, name="spatial_dropout")(x)
    d = L.Conv2D(16, 3, strides=2, padding="same", name="down1")(x)            # 14x14x16
    d = L.Activation("swish", name="swish")(d)
    e = L.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="down2")(d)  # 7x7x32
    u = L.Conv2DTranspose(16, 3, strides=2, padding="same", name="up")(e)      # 14x14x16
    u = L.Activation("hard_sigmoid", name="hard_sigmoid")(u)
    x = L.Multiply(name="attend")([d, u])
    x = L.ReLU(threshold=0.1, negative_slope=0.05, max_value=4, name="relu_thresh")(x)
    y = L.Conv2D(32, 3, strides=2, padding="same", name="down3")(x)            # 7x7x32
    pooled = L.GlobalMaxPooling2D(name="gmp")(y)                               # 32
    flat = L.Reshape((7 * 7 * 4,), name="reshape")(L.Conv2D(4, 1, name="squeeze")(y))
    x = L.Add(name="add_heads")([pooled, L.Dense(32, name="flat_dense")(flat)])
    x = L.BatchNormalization(name="bn_dense")(x)
    x = L.Dense(10, name="logits")(x)
    outputs = L.Softmax(name="softmax")(x)
    return keras.Model(inputs, outputs, name="ops_zoo")


KERAS2_EPOCHS = 5

# Semantics that differ between Keras versions, recorded in meta.json so tests need not guess.
NOTES = {
    "ops_zoo": "Keras 3 hard_sigmoid(x) = relu6(x + 3) / 6 (Keras 2: clip(0.2 x + 0.5, 0, 1)); "
               "swish(x) = x * sigmoid(x); GaussianNoise and SpatialDropout2D are identity at inference",
}

# name -> (builder, epochs, raw 0..255 inputs?, output kind, keep optimizer state?)
KERAS3_SPECS = {
    "resnet_bn": (build_resnet_bn, 8, False, "probabilities", True),
    "dwsep_relu6": (build_dwsep_relu6, 8, False, "probabilities", False),
    "seq_bn_after_act": (build_seq_bn_after_act, 3, False, "probabilities", False),
    "concat_pool_leaky": (build_concat_pool_leaky, 6, True, "logits", False),
    "ops_zoo": (build_ops_zoo, 2, False, "probabilities", False),
}


# ---------------------------------------------------------------------------------------------
# Keras 2 (tf-keras) model


def build_keras2_cnn(keras):
    L = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = L.Conv2D(16, 3, activation="relu")(inputs)       # 26x26x16
    x = L.BatchNormalization()(x)
    x = L.MaxPooling2D(2)(x)                               # 13x13x16
    x = L.Conv2D(32, 3, activation="relu")(x)             # 11x11x32
    x = L.Flatten()(x)
    x = L.Dense(32, activation="relu")(x)
    x = L.Dropout(0.3)(x)
    outputs = L.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


# ---------------------------------------------------------------------------------------------
# Writing


def write_fixture(out_dir, name, model, keras, backend, data, raw_inputs, output_kind, has_optimizer, epochs):
    x_train, y_train, x_test, y_test = data
    scale = 1.0 if raw_inputs else 1.0 / 255.0
    directory = os.path.join(out_dir, name)
    os.makedirs(directory, exist_ok=True)

    test_all = (x_test * scale).astype(np.float32)
    predictions = model.predict(test_all, batch_size=500, verbose=0)
    top1 = predictions.argmax(axis=1)   # argmax is the same on logits and probabilities
    accuracy = float((top1 == y_test).mean())

    model_path = os.path.join(directory, "model.h5")
    if os.path.exists(model_path):
        os.remove(model_path)
    model.save(model_path, include_optimizer=has_optimizer)

    inputs = test_all[:FIXTURE_TEST_COUNT]
    outputs = model.predict(inputs, batch_size=FIXTURE_TEST_COUNT, verbose=0).astype(np.float32)
    with h5py.File(os.path.join(directory, "data.h5"), "w") as f:
        f.create_dataset("inputs", data=inputs, compression="gzip", compression_opts=6, shuffle=True,
                         chunks=(50, 28, 28, 1))
        f.create_dataset("outputs", data=outputs)
        f.create_dataset("labels", data=y_test[:FIXTURE_TEST_COUNT].astype(np.int32))

    lo, hi = CALIB_RANGE
    with h5py.File(os.path.join(directory, "calib.h5"), "w") as f:
        f.create_dataset("inputs", data=(x_train[lo:hi] * scale).astype(np.float32),
                         compression="gzip", compression_opts=6, shuffle=True, chunks=(64, 28, 28, 1))

    meta = {
        "name": name,
        "keras_version": keras.__version__,
        "backend": backend,
        "layer_classes": [layer.__class__.__name__ for layer in model.layers],
        "output_kind": output_kind,
        "input_scaling": "raw 0..255" if raw_inputs else "0..1 (pixel / 255)",
        "test_accuracy": round(accuracy, 4),
        "test_accuracy_images": int(len(y_test)),
        "fixture_top1_matches_labels": int((outputs.argmax(axis=1) == y_test[:FIXTURE_TEST_COUNT]).sum()),
        "params": int(model.count_params()),
        "train_images": TRAIN_COUNT,
        "epochs": epochs,
        "optimizer_state_saved": bool(has_optimizer),
        "seed": SEED,
    }
    if name in NOTES:
        meta["notes"] = NOTES[name]
    with open(os.path.join(directory, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{name}: test accuracy {accuracy:.4f} over {len(y_test)} images, "
          f"{model.count_params()} params, keras {keras.__version__}", flush=True)
    return meta


def train(keras, model, data, raw_inputs, output_kind, epochs):
    x_train, y_train, _, _ = data
    scale = 1.0 if raw_inputs else 1.0 / 255.0
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=(output_kind == "logits"))
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=loss, metrics=["accuracy"])
    model.fit((x_train[:TRAIN_COUNT] * scale).astype(np.float32), y_train[:TRAIN_COUNT],
              batch_size=BATCH_SIZE, epochs=epochs, verbose=2, shuffle=True)


def limit_threads(tf):
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def run_keras3(names, out_dir):
    import tensorflow as tf
    import keras
    limit_threads(tf)
    data = load_fashion_mnist()
    for name in names:
        builder, epochs, raw_inputs, output_kind, keep_optimizer = KERAS3_SPECS[name]
        keras.utils.set_random_seed(SEED)
        started = time.time()
        model = builder(keras)
        train(keras, model, data, raw_inputs, output_kind, epochs)
        write_fixture(out_dir, name, model, keras, keras.backend.backend(), data,
                      raw_inputs, output_kind, keep_optimizer, epochs)
        print(f"{name}: {time.time() - started:.0f} s", flush=True)


def run_keras2(out_dir):
    """Runs inside the TF_USE_LEGACY_KERAS=1 child process."""
    import tensorflow as tf
    import tf_keras as keras
    limit_threads(tf)
    data = load_fashion_mnist()
    keras.utils.set_random_seed(SEED)
    started = time.time()
    model = build_keras2_cnn(keras)
    train(keras, model, data, False, "probabilities", KERAS2_EPOCHS)
    write_fixture(out_dir, "keras2_cnn", model, keras, "tensorflow", data, False, "probabilities", True, KERAS2_EPOCHS)
    print(f"keras2_cnn: {time.time() - started:.0f} s", flush=True)


DESCRIPTIONS = {
    "resnet_bn": "functional residual CNN: Conv-BN-ReLU stem (SAME, stride 2), identity block, block with "
                 "strided 1x1 projection shortcut, Add, GlobalAveragePooling2D, Dense softmax; optimizer state saved",
    "dwsep_relu6": "DepthwiseConv2D (depth_multiplier=2 with activation=\"relu6\", and strided), SeparableConv2D, "
                   "BatchNormalization, ReLU(max_value=6) layers, GlobalAveragePooling2D, Dropout, Dense softmax",
    "seq_bn_after_act": "Sequential; BatchNormalization AFTER Conv2D/Dense relu (not foldable), MaxPooling2D, Flatten",
    "concat_pool_leaky": "Rescaling(1/255) on raw 0..255 input, SAME stride-2 conv on 28x28 (asymmetric pad), LeakyReLU, "
                         "Concatenate of two branches, AveragePooling2D SAME (stride 1, and stride 2 on odd 7x7), "
                         "asymmetric ZeroPadding2D, MaxPooling2D, Flatten, Dense LOGITS",
    "ops_zoo": "dilated Conv2D, grouped Conv2D (groups=2), Conv2DTranspose (stride 2, SAME), Subtract, Multiply, "
               "3-input Add, GaussianNoise, SpatialDropout2D, Reshape, GlobalMaxPooling2D, Softmax layer, "
               "Activation sigmoid/tanh/hard_sigmoid/swish, ReLU(threshold, negative_slope, max_value), BN after Dense",
    "keras2_cnn": "tf-keras (Keras 2) functional: Conv2D relu, BN, MaxPooling2D, Conv2D, Flatten, Dense relu, Dropout, "
                  "Dense softmax; ':0' weight names, batch_input_shape, list-form inbound_nodes; optimizer state saved",
    "keras20_cnn": "keras2_cnn with model_config rewritten to Keras 2.0.8 style (class Model, no module/registered_name, "
                   "BN axis -1, fixed-length string attributes) by tools/keras2_variant.py; same weights and data",
}


def write_readme(out_dir):
    """fixtures/README.md: one line per fixture, numbers taken from each meta.json."""
    lines = ["# Test fixtures", "",
             "Written by `tools/make_fixtures.py` (see tools/README.md to regenerate). Each directory holds",
             "`model.h5` (legacy Keras HDF5), `data.h5` (/inputs, /outputs, /labels: 300 test images),",
             "`calib.h5` (/inputs: 512 unseen training images) and `meta.json`. Test accuracy is over the full",
             "10k Fashion-MNIST test set, measured by the script. Inputs are in [0, 1] except concat_pool_leaky (raw 0..255).",
             "", "| fixture | Keras | output | test accuracy | covers |", "|---|---|---|---|---|"]
    for name in ALL_FIXTURES:
        meta_path = os.path.join(out_dir, name, "meta.json")
        if not os.path.exists(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        lines.append(f"| `{name}` | {meta['keras_version']} | {meta['output_kind']} | "
                     f"{meta['test_accuracy']:.4f} | {DESCRIPTIONS[name]} |")
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
    parser.add_argument("--only", nargs="*", choices=ALL_FIXTURES, help="build only these fixtures")
    parser.add_argument("--readme", action="store_true", help="only rewrite fixtures/README.md from meta.json")
    parser.add_argument("--keras2", action="store_true", help=argparse.SUPPRESS)  # internal: child process
    args = parser.parse_args()
    out_dir = os.path.normpath(args.out)
    if args.readme:
        write_readme(out_dir)
        return

    if args.keras2:
        run_keras2(out_dir)
        return

    wanted = args.only or ALL_FIXTURES
    keras3 = [n for n in KERAS3_FIXTURES if n in wanted]
    if keras3:
        run_keras3(keras3, out_dir)
    if "keras2_cnn" in wanted:
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        subprocess.run([sys.executable, os.path.abspath(__file__), "--keras2", "--out", out_dir], env=env, check=True)
    if "keras20_cnn" in wanted:
        variant = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras2_variant.py")
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        subprocess.run([sys.executable, variant, os.path.join(out_dir, "keras2_cnn"), os.path.join(out_dir, "keras20_cnn")],
                       env=env, check=True)
    write_readme(out_dir)


if __name__ == "__main__":
    main()
