"""The cs231n fully-connected network of any depth."""

import warnings

import numpy as np

from tinyconv import _checks
from tinyconv.models._base import Model
from tinyconv.ops import Affine, Dropout


class FullyConnectedNet(Model):
    """{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax.

    Parameters
    ----------
    hidden_dims : list of int
        Units in each hidden layer (may be empty: softmax regression).
    input_dim : int
        Number of input features D; an input (N, d1, ..., dk) is flattened
        to (N, D).
    num_classes : int
        Number of scores produced.
    dropout_keep_ratio : float in (0, 1]
        Probability of keeping a unit; 1 disables dropout.
    normalization : None, 'batchnorm' or 'layernorm'
        Normalization after each hidden affine layer.
    reg : float
        L2 regularization strength.
    weight_scale : float
        Standard deviation of the Gaussian initial weights.
    dtype : np.float32 or np.float64
        dtype of the parameters and of every computation.
    seed : int or None
        Seed for the dropout masks, which makes dropout deterministic (each
        forward pass then seeds NumPy's global RNG, see ``dropout_forward``).
    dropout : float in (0, 1], keyword only
        The 2019 starter's name of ``dropout_keep_ratio``, with the same meaning
        (a keep probability); accepted with a DeprecationWarning. Pass only one
        of the two.

    Params: ``W{n}``, ``b{n}`` for n = 1..L, and ``gamma{n}``, ``beta{n}``
    (ones, zeros) for the normalized hidden layers n = 1..L-1. The weights are
    drawn from NumPy's global RNG in the order W1, W2, ...

    Attributes
    ----------
    bn_params : list of dict
        One per hidden layer when normalized, with the ``mode`` that ``loss``
        sets ('train' or 'test'); for batchnorm also the running statistics
        (``running_mean``, ``running_var``), which layernorm does not keep.
        Empty when not normalized.
    dropout_param : dict
        ``mode``, ``p`` and optional ``seed``; used when dropout is on.
    """

    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        dropout_keep_ratio=1,
        normalization=None,
        reg=0.0,
        weight_scale=1e-2,
        dtype=np.float32,
        seed=None,
        *,
        dropout=None,
    ):
        if dropout is not None:
            if dropout_keep_ratio != 1:
                raise ValueError(
                    "FullyConnectedNet: pass dropout_keep_ratio or its old name dropout, not both "
                    f"(got dropout_keep_ratio={dropout_keep_ratio!r}, dropout={dropout!r})"
                )
            warnings.warn(
                "FullyConnectedNet: dropout is the 2019 name of dropout_keep_ratio (the probability "
                "of keeping a unit); use dropout_keep_ratio.",
                DeprecationWarning,
                stacklevel=2,
            )
            dropout_keep_ratio = _checks.probability(
                "FullyConnectedNet", "dropout (the 2019 name of dropout_keep_ratio, the probability of keeping "
                "a unit; 1 disables dropout)", dropout)
        self._configure(dict(hidden_dims=hidden_dims, input_dim=input_dim, num_classes=num_classes,
                             dropout_keep_ratio=dropout_keep_ratio, normalization=normalization, reg=reg,
                             weight_scale=weight_scale, dtype=dtype, seed=seed))
        self._initialize()

    def _configure(self, config):
        where = "FullyConnectedNet"
        config = self._arguments(config)
        hidden_dims = _checks.positive_ints(where, "hidden_dims", config["hidden_dims"], allow_empty=True)
        input_dim = _checks.positive_int(where, "input_dim", config["input_dim"])
        num_classes = _checks.positive_int(where, "num_classes", config["num_classes"])
        keep = _checks.probability(where, "dropout_keep_ratio (the probability of keeping a unit; 1 disables "
                                   "dropout)", config["dropout_keep_ratio"])
        normalization = _checks.one_of(where, "normalization", config["normalization"],
                                       (None, "batchnorm", "layernorm"))
        weight_scale = _checks.nonnegative_float(where, "weight_scale", config["weight_scale"])
        seed = _checks.optional_seed(where, "seed", config["seed"])
        self._configure_base(
            {
                "hidden_dims": list(hidden_dims),
                "input_dim": input_dim,
                "num_classes": num_classes,
                "dropout_keep_ratio": keep,
                "normalization": normalization,
                "weight_scale": weight_scale,
                "seed": seed,
            },
            config["reg"],
            config["dtype"],
        )
        self.normalization = normalization
        self.use_dropout = keep != 1
        self.num_layers = 1 + len(hidden_dims)
        # One dropout dict for every hidden layer, as in cs231n: with a seed, each layer draws its mask
        # after seeding NumPy's global RNG with it.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": keep}
            if seed is not None:
                self.dropout_param["seed"] = seed
        ops = []
        for number, units in enumerate(hidden_dims, start=1):
            ops.append(Affine(number, units, relu=True, normalization=normalization))
            if self.use_dropout:
                ops.append(Dropout(self.dropout_param))
        self._build([*ops, Affine(self.num_layers, num_classes)], input_dim)

    # Weights from N(0, weight_scale**2) drawn from NumPy's global RNG in the order W1, W2, ...; zero biases
    # and betas, unit gammas, zero running statistics.
    _initialize = Model._initialize_as_cs231n
