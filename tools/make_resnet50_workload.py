#!/usr/bin/env python3
"""Write the ResNet50 conversion workload of docs/bench-resnet50.md (issue 15, item 3) under a folder.

The model is `keras.applications.ResNet50(weights=None)` at 224 x 224 x 3 with Keras' own
initialisers under a fixed seed: no ImageNet weights are downloaded, so its outputs mean nothing and
the workload measures memory and time only. The images are synthetic but structured, not white
noise: each is a 7 x 7 x 3 grid of random values upsampled bilinearly to 224 x 224 with a little
pixel noise on top, in the range of Keras' "caffe" ResNet50 preprocessing (BGR, 0..255 minus the
ImageNet channel means), so that activations have the spatial correlation of real pictures.

Writes (about 420 MB in all; keep it out of the repository, e.g. under /tmp):

  model.h5   the model (`model.save`, legacy full-model HDF5), ~100 MB
  calib.h5   /inputs   512 images, float32 512 x 224 x 224 x 3, chunked one image per chunk,
             uncompressed (gzip on float noise saves little and would time zlib, not qconvert)
  eval.h5    /inputs   16 other images, same layout
             /outputs  the model's own `predict` on them, float32 16 x 1000
  meta.json  versions, seed, counts, shapes

Usage: tools/.venv/bin/python tools/make_resnet50_workload.py OUT_DIR [--calibration 512] [--eval 16]
"""

import argparse
import json
import os
import time

import h5py
import numpy as np

SEED = 20261207
SIZE = 224
GRID = 7
CAFFE_MEANS_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def structured_images(rng, count):
    """`count` float32 images, count x 224 x 224 x 3: a bilinear upsampling of a 7 x 7 x 3 random grid."""
    scale = (GRID - 1) / (SIZE - 1)
    position = np.arange(SIZE, dtype=np.float32) * scale
    low = np.floor(position).astype(np.int64).clip(0, GRID - 2)
    frac = (position - low)[:, None]
    images = np.empty((count, SIZE, SIZE, 3), dtype=np.float32)
    for index in range(count):
        grid = rng.uniform(0.0, 255.0, size=(GRID, GRID, 3)).astype(np.float32)
        rows = grid[low] * (1 - frac[:, :, None]) + grid[low + 1] * frac[:, :, None]          # 224 x 7 x 3
        image = rows[:, low] * (1 - frac[None, :, :]) + rows[:, low + 1] * frac[None, :, :]   # 224 x 224 x 3
        image += rng.normal(0.0, 8.0, size=image.shape).astype(np.float32)
        images[index] = np.clip(image, 0.0, 255.0) - CAFFE_MEANS_BGR
    return images


def write_inputs(path, images, outputs=None):
    with h5py.File(path, "w") as f:
        f.create_dataset("inputs", data=images, chunks=(1,) + images.shape[1:])
        if outputs is not None:
            f.create_dataset("outputs", data=outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--calibration", type=int, default=512)
    parser.add_argument("--eval", type=int, default=16)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    import keras
    keras.utils.set_random_seed(SEED)
    started = time.time()
    model = keras.applications.ResNet50(weights=None, input_shape=(SIZE, SIZE, 3))
    model.save(os.path.join(args.out, "model.h5"))

    rng = np.random.default_rng(SEED)
    calibration = structured_images(rng, args.calibration)
    write_inputs(os.path.join(args.out, "calib.h5"), calibration)
    del calibration
    evaluation = structured_images(rng, args.eval)
    outputs = model.predict(evaluation, batch_size=8, verbose=0).astype(np.float32)
    write_inputs(os.path.join(args.out, "eval.h5"), evaluation, outputs)

    meta = {"keras": keras.__version__, "backend": keras.backend.backend(), "seed": SEED,
            "model": "keras.applications.ResNet50(weights=None)", "input": [SIZE, SIZE, 3],
            "calibration": args.calibration, "eval": args.eval,
            "params": int(model.count_params()), "seconds": round(time.time() - started, 1)}
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
