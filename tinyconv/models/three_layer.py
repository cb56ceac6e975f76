"""The cs231n three-layer convolutional network."""

import numpy as np

from tinyconv.layers import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
    softmax_loss,
)
from tinyconv import _checks
from tinyconv.models._base import POOL_PARAM, Model, pooled_size


class ThreeLayerConvNet(Model):
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    Parameters
    ----------
    input_dim : tuple (C, H, W)
        Size of one input image.
    num_filters : int
        Number of convolution filters F.
    filter_size : int
        Filter height and width; the convolution uses stride 1 and padding
        ``(filter_size - 1) // 2``, which keeps H and W for odd sizes.
    hidden_dim : int
        Units in the hidden affine layer.
    num_classes : int
        Number of scores produced.
    weight_scale : float
        Standard deviation of the Gaussian initial weights (biases start at 0).
    reg : float
        L2 regularization strength.
    dtype : np.float32 or np.float64
        dtype of the parameters and of every computation.

    Params: ``W1 (F, C, filter_size, filter_size)``, ``b1 (F,)``,
    ``W2 (F * H/2 * W/2, hidden_dim)``, ``b2 (hidden_dim,)``,
    ``W3 (hidden_dim, num_classes)``, ``b3 (num_classes,)``. The weights are
    drawn from NumPy's global RNG in the order W1, W2, W3, so
    ``np.random.seed`` makes them repeatable.
    """

    def __init__(
        self,
        input_dim=(3, 32, 32),
        num_filters=32,
        filter_size=7,
        hidden_dim=100,
        num_classes=10,
        weight_scale=1e-3,
        reg=0.0,
        dtype=np.float32,
    ):
        self._configure(dict(input_dim=input_dim, num_filters=num_filters, filter_size=filter_size,
                             hidden_dim=hidden_dim, num_classes=num_classes, weight_scale=weight_scale,
                             reg=reg, dtype=dtype))
        self._initialize()

    def _configure(self, config):
        where = "ThreeLayerConvNet"
        config = self._arguments(config)
        C, H, W = _checks.image_shape(where, "input_dim", config["input_dim"])
        num_filters = _checks.positive_int(where, "num_filters", config["num_filters"])
        filter_size = _checks.positive_int(where, "filter_size", config["filter_size"])
        hidden_dim = _checks.positive_int(where, "hidden_dim", config["hidden_dim"])
        num_classes = _checks.positive_int(where, "num_classes", config["num_classes"])
        weight_scale = _checks.nonnegative_float(where, "weight_scale", config["weight_scale"])
        self._configure_base(
            {
                "input_dim": [C, H, W],
                "num_filters": num_filters,
                "filter_size": filter_size,
                "hidden_dim": hidden_dim,
                "num_classes": num_classes,
                "weight_scale": weight_scale,
            },
            config["reg"],
            config["dtype"],
        )
        self._input_shape = (C, H, W)
        self._conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        # Padding (f - 1) // 2 keeps odd sizes and shrinks by one for even filter sizes.
        shrink = 1 - filter_size % 2
        pooled_h = pooled_size(where, "height", H - shrink, "the 2x2 max pool")
        pooled_w = pooled_size(where, "width", W - shrink, "the 2x2 max pool")
        weight_shapes = [
            (num_filters, C, filter_size, filter_size),
            (num_filters * pooled_h * pooled_w, hidden_dim),
            (hidden_dim, num_classes),
        ]
        for number, shape in enumerate(weight_shapes, start=1):
            self._param_shapes[f"W{number}"] = shape
            # Every bias has one entry per output unit: the first axis of a conv
            # weight, the last of an affine one.
            self._param_shapes[f"b{number}"] = (shape[0] if number == 1 else shape[-1],)

    # Weights from N(0, weight_scale**2) drawn from NumPy's global RNG in the order W1, W2, W3; zero biases.
    _initialize = Model._initialize_as_cs231n

    def loss(self, X, y=None):
        """Scores for ``X``, or the loss and gradients when labels ``y`` are given.

        Parameters
        ----------
        X : ndarray (N, C, H, W)
            Input images; cast to the model dtype.
        y : ndarray (N,) of int, optional
            Labels in ``[0, num_classes)``.

        Returns
        -------
        scores : ndarray (N, num_classes)
            When ``y`` is None.
        loss, grads : float, dict
            When ``y`` is given: softmax loss plus L2, and gradients keyed like params.
        """
        X = self._prepare_input(X, self._input_shape)
        p = self.params
        pooled, pool_cache = conv_relu_pool_forward(X, p["W1"], p["b1"], self._conv_param, POOL_PARAM)
        hidden, hidden_cache = affine_relu_forward(pooled, p["W2"], p["b2"])
        scores, scores_cache = affine_forward(hidden, p["W3"], p["b3"])
        if y is None:
            return scores

        grads = {}
        data_loss, dscores = softmax_loss(scores, y)
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        # Nothing needs the gradient of the images: need_dx=False saves a third of the conv's backward.
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, pool_cache, need_dx=False)
        return self._add_l2(data_loss, grads)
