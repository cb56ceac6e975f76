"""The starter's ``cs231n/layer_utils.py``: the sandwich layers, with every layer of ``layers`` and ``fast_layers``.

As in the starter, the module star-imports both, so ``from tinyconv.cs231n.layer_utils import *``
brings every layer.
"""

from tinyconv.cs231n.layers import *  # noqa: F401,F403
from tinyconv.cs231n.fast_layers import *  # noqa: F401,F403
from tinyconv.layers import (
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
