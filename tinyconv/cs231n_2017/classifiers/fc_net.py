"""The 2016-2017 starter's ``cs231n/classifiers/fc_net.py``: its :class:`FullyConnectedNet` and TwoLayerNet,
with every layer (the 2017 dropout among them), as its star imports brought them."""

import dataclasses as _dataclasses

import numpy as np

from tinyconv import _checks
from tinyconv import models as _models
from tinyconv import ops as _ops
from tinyconv.cs231n.classifiers.fc_net import *  # noqa: F401,F403
from tinyconv.cs231n_2017.layer_utils import *  # noqa: F401,F403


class FullyConnectedNet(_models.FullyConnectedNet):
    """{affine - [batch norm] - relu - [dropout]} x (L - 1) - affine - softmax, with the 2017 constructor.

    ``dropout`` is the probability of DROPPING a unit, in [0, 1) (0: no dropout), and ``dropout_param['p']``
    holds it, as in 2017; ``use_batchnorm`` puts a batch norm after each hidden affine layer. The weights
    are drawn from NumPy's global RNG in the order W1, W2, ..., so ``np.random.seed`` gives the starter's
    initial network. Everything else is :class:`tinyconv.models.FullyConnectedNet`.
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, dropout=0, use_batchnorm=False,
                 reg=0.0, weight_scale=1e-2, dtype=np.float32, seed=None):
        where = "FullyConnectedNet"
        drop = _checks.real(where, "dropout (2017: the probability of dropping a unit; 0 disables dropout)",
                            dropout, 0, 1, max_open=True)
        use_batchnorm = bool(_checks.boolean(where, "use_batchnorm", use_batchnorm))
        super().__init__(hidden_dims, input_dim, num_classes, dropout_keep_ratio=1 - drop,
                         normalization="batchnorm" if use_batchnorm else None, reg=reg, weight_scale=weight_scale,
                         dtype=dtype, seed=seed)
        self.use_batchnorm = use_batchnorm
        if self.use_dropout:
            self.dropout_param["p"] = drop
            self.ops = tuple(_dataclasses.replace(op, drops=True) if isinstance(op, _ops.Dropout) else op
                             for op in self.ops)
