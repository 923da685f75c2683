"""Keras layers that qconvert's importer understands beyond the built-in ones.

Import this module before building or loading a model that uses them:

    from qconvert_layers import TVSmoothing          # tools/ on sys.path
    model = keras.models.load_model("model.h5")      # the class is registered as qconvert>TVSmoothing

TVSmoothing (docs/tv-smoothing.md) is the edge-aware total-variation smoothing of Ben-Yair, Ben Shalom,
Eliasof and Treister (2022): `steps` explicit steps of TV flow per channel of an NHWC map,

    x <- x - gamma * D^T( D x / sqrt(|D x|^2 + eps) )

D the forward differences in x and y with a reflective (Neumann) boundary (zero difference past the
last row / column). Config: gamma (>= 0, in the units of the values), steps (>= 0), eps (> 0; None
means 16 * gamma^2, the smallest value for which each step is a convex combination of a pixel and its
neighbours). qconvert imports the layer by its class name and these three keys.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="qconvert")
class TVSmoothing(keras.layers.Layer):
    def __init__(self, gamma=0.1, steps=1, eps=None, **kwargs):
        super().__init__(**kwargs)
        if gamma < 0 or steps < 0:
            raise ValueError(f"TVSmoothing: gamma {gamma} and steps {steps} must be >= 0")
        self.gamma = float(gamma)
        self.steps = int(steps)
        self.eps = None if eps is None else float(eps)
        if self.eps is not None and self.eps <= 0:
            raise ValueError(f"TVSmoothing: eps {eps} must be > 0")

    @property
    def effective_eps(self):
        return self.eps if self.eps is not None else max(16.0 * self.gamma * self.gamma, 1e-12)

    def call(self, x):
        eps = self.effective_eps
        for _ in range(self.steps):
            zero_col = ops.zeros_like(x[:, :, :1, :])
            zero_row = ops.zeros_like(x[:, :1, :, :])
            dx = ops.concatenate([x[:, :, 1:, :] - x[:, :, :-1, :], zero_col], axis=2)
            dy = ops.concatenate([x[:, 1:, :, :] - x[:, :-1, :, :], zero_row], axis=1)
            inverse = ops.rsqrt(dx * dx + dy * dy + eps)
            px, py = dx * inverse, dy * inverse
            # D^T p = p[j-1] - p[j] with p outside the map taken as 0: x += gamma * (p[j] - p[j-1]).
            px_left = ops.concatenate([zero_col, px[:, :, :-1, :]], axis=2)
            py_up = ops.concatenate([zero_row, py[:, :-1, :, :]], axis=1)
            x = x + self.gamma * (px - px_left + py - py_up)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma, "steps": self.steps, "eps": self.eps})
        return config
