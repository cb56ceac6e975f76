"""The two-layer fully-connected network of the 2019 cs231n assignment 2."""

import numpy as np

from tinyconv import _checks
from tinyconv.models._base import Model
from tinyconv.ops import Affine


class TwoLayerNet(Model):
    """affine - relu - affine - softmax, with the 2019 starter's constructor.

    Parameters
    ----------
    input_dim : int
        Number of input features D; an input (N, d1, ..., dk) is flattened to (N, D).
    hidden_dim : int
        Units in the hidden layer H.
    num_classes : int
        Number of scores produced C.
    weight_scale : float
        Standard deviation of the Gaussian initial weights (biases start at 0).
    reg : float
        L2 regularization strength.
    dtype : np.float64 (default) or np.float32, keyword only
        dtype of the parameters and of every computation. The 2019 starter had no such
        argument and worked in float64.

    Params: ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, C)``, ``b2 (C,)``. The weights are drawn
    from NumPy's global RNG in the order W1, W2 (in float64, then cast), so
    ``np.random.seed`` gives the starter's initial weights.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 *, dtype=np.float64):
        self._configure(dict(input_dim=input_dim, hidden_dim=hidden_dim, num_classes=num_classes,
                             weight_scale=weight_scale, reg=reg, dtype=dtype))
        self._initialize()

    def _configure(self, config):
        where = "TwoLayerNet"
        config = self._arguments(config)
        input_dim = _checks.positive_int(where, "input_dim", config["input_dim"])
        hidden_dim = _checks.positive_int(where, "hidden_dim", config["hidden_dim"])
        num_classes = _checks.positive_int(where, "num_classes", config["num_classes"])
        weight_scale = _checks.nonnegative_float(where, "weight_scale", config["weight_scale"])
        self._configure_base(
            {"input_dim": input_dim, "hidden_dim": hidden_dim, "num_classes": num_classes,
             "weight_scale": weight_scale},
            config["reg"],
            config["dtype"],
        )
        self._build([Affine(1, hidden_dim, relu=True), Affine(2, num_classes)], input_dim)

    # As FullyConnectedNet: W1, W2 from N(0, weight_scale**2) on NumPy's global RNG, zero biases.
    _initialize = Model._initialize_as_cs231n
