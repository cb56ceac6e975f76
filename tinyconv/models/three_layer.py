"""The cs231n three-layer convolutional network."""

import numpy as np

from tinyconv import _checks
from tinyconv.models._base import Model
from tinyconv.ops import Affine, ConvBlock


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
        self._build([ConvBlock("1", num_filters, filter_size, pool="max", label="the 2x2 max pool"),
                     Affine(2, hidden_dim, relu=True),
                     Affine(3, num_classes)], (C, H, W))

    # Weights from N(0, weight_scale**2) drawn from NumPy's global RNG in the order W1, W2, W3; zero biases.
    _initialize = Model._initialize_as_cs231n
