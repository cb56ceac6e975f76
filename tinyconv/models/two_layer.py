"""The two-layer fully-connected network of the 2019 cs231n assignment 2."""

import numpy as np

from tinyconv.layers import affine_backward, affine_forward, affine_relu_backward, affine_relu_forward, softmax_loss
from tinyconv import _checks
from tinyconv.models._base import Model


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
        self._input_dim = input_dim
        for number, shape in enumerate([(input_dim, hidden_dim), (hidden_dim, num_classes)], start=1):
            self._param_shapes[f"W{number}"] = shape
            self._param_shapes[f"b{number}"] = (shape[1],)

    # As FullyConnectedNet: W1, W2 from N(0, weight_scale**2) on NumPy's global RNG, zero biases.
    _initialize = Model._initialize_as_cs231n

    def loss(self, X, y=None):
        """Scores for ``X``, or the loss and gradients when labels ``y`` are given.

        Parameters
        ----------
        X : ndarray (N, d1, ..., dk) with d1 * ... * dk == input_dim
        y : ndarray (N,) of int, optional

        Returns
        -------
        scores : ndarray (N, num_classes)
            When ``y`` is None.
        loss, grads : float, dict
            When ``y`` is given: softmax loss plus L2, and gradients keyed like params.
        """
        X = self._prepare_input(X, self._input_dim)
        p = self.params
        hidden, hidden_cache = affine_relu_forward(X, p["W1"], p["b1"])
        scores, scores_cache = affine_forward(hidden, p["W2"], p["b2"])
        if y is None:
            return scores

        grads = {}
        data_loss, dscores = softmax_loss(scores, y)
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        return self._add_l2(data_loss, grads)
