"""Cross-check of the noise floor in Keras itself (docs/quantization.md, "Noise floor").

Rebuilds the ops_zoo graph of tools/make_fixtures.py with the fixture's weights and, after each tensor
named in a qconvert report, either rounds it to that tensor's grid (clip range from the report, or its
min/max with MINMAX=1) or, with NOISE=1, adds uniform noise of +-1/2 step (SEEDS draws). Prints the
top-1 agreement with the fixture's reference outputs.

Usage (tools/.venv, after a conversion wrote REPORT):
  NOISE=1 MINMAX=1 SEEDS=20 tools/.venv/bin/python tools/experiments/ops_zoo_noise.py REPORT all [BITS]
  tools/.venv/bin/python tools/experiments/ops_zoo_noise.py REPORT grouped_conv,relu_thresh
"""
import json, sys, numpy as np, h5py, os
os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"
import keras
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
from keras import ops
L = keras.layers
rep = json.load(open(sys.argv[1]))
MM = os.environ.get("MINMAX") == "1"
clips = {l["name"]: ((l["activationOutliers"]["min"], l["activationOutliers"]["max"]) if MM else (l["clip"]["low"], l["clip"]["high"])) + (l["activationBits"],) for l in rep["layers"] if "clip" in l}
only = set(sys.argv[2].split(",")) if len(sys.argv) > 2 and sys.argv[2] != "all" else None
bits_override = int(sys.argv[3]) if len(sys.argv) > 3 else None
SG = keras.random.SeedGenerator(1)
def fq(name, x):
    if name not in clips or (only is not None and name not in only): return x
    lo, hi, b = clips[name]
    if b >= 32: return x
    if bits_override: b = bits_override
    n = 2 ** b - 1
    s = (hi - lo) / n
    if os.environ.get("NOISE") == "1":
        return L.Lambda(lambda t: t + keras.random.uniform(ops.shape(t), -s / 2, s / 2, seed=SG), name=name + "_nz")(x)
    return L.Lambda(lambda t: ops.round((ops.clip(t, lo, hi) - lo) / s) * s + lo, name=name + "_fq")(x)
def A(layer, *xs):
    y = layer(*xs)
    return fq(layer.name, y)
inputs = keras.Input((28, 28, 1), name="image")
c1 = A(L.Conv2D(8, 3, padding="same", dilation_rate=2, activation="relu", name="dilated_conv"), inputs)
c2 = A(L.Conv2D(8, 3, padding="same", groups=2, name="grouped_conv"), c1)
diff = A(L.Subtract(name="subtract"), [c1, c2])
gate = A(L.Multiply(name="multiply"), [A(L.Activation("tanh", name="tanh"), c1), A(L.Activation("sigmoid", name="sigmoid"), c2)])
x = A(L.Add(name="add3"), [c1, diff, gate])
d = A(L.Conv2D(16, 3, strides=2, padding="same", name="down1"), x)
d = A(L.Activation("swish", name="swish"), d)
e = A(L.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="down2"), d)
u = A(L.Conv2DTranspose(16, 3, strides=2, padding="same", name="up"), e)
u = A(L.Activation("hard_sigmoid", name="hard_sigmoid"), u)
x = A(L.Multiply(name="attend"), [d, u])
x = A(L.ReLU(threshold=0.1, negative_slope=0.05, max_value=4, name="relu_thresh"), x)
y = A(L.Conv2D(32, 3, strides=2, padding="same", name="down3"), x)
pooled = A(L.GlobalMaxPooling2D(name="gmp"), y)
flat = A(L.Reshape((7 * 7 * 4,), name="reshape"), A(L.Conv2D(4, 1, name="squeeze"), y))
x = A(L.Add(name="add_heads"), [pooled, A(L.Dense(32, name="flat_dense"), flat)])
x = A(L.BatchNormalization(name="bn_dense"), x)
x = L.Dense(10, name="logits")(x)
outputs = L.Softmax(name="softmax")(x)
m = keras.Model(inputs, outputs)
src = keras.models.load_model(os.path.join(ROOT, "fixtures/ops_zoo/model.h5"), compile=False)
for l in src.layers:
    if l.weights: m.get_layer(l.name).set_weights(l.get_weights())
with h5py.File(os.path.join(ROOT, "fixtures/ops_zoo/data.h5")) as f:
    xs = f["inputs"][:]; ref = f["outputs"][:]
agr = []
for seed in range(int(os.environ.get("SEEDS", "1"))):
    keras.utils.set_random_seed(seed)
    p = m(xs, training=False).numpy()
    agr.append((p.argmax(1) == ref.argmax(1)).mean())
print(sys.argv[2:], "agreement mean %.4f min %.4f max %.4f" % (np.mean(agr), np.min(agr), np.max(agr)), "P(>=0.995) %.2f" % np.mean(np.array(agr) >= 0.995))
