"""The cs231n fully-connected network of any depth."""

import warnings

import numpy as np

from tinyconv.layers import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
)
from tinyconv import _checks
from tinyconv.models._base import Model

_NORM_LAYERS = {
    "batchnorm": (batchnorm_forward, batchnorm_backward),
    "layernorm": (layernorm_forward, layernorm_backward),
}


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
        self._input_dim = input_dim
        self.normalization = normalization
        self.use_dropout = keep != 1
        self.num_layers = 1 + len(hidden_dims)

        layer_dims = [input_dim, *hidden_dims, num_classes]
        for number in range(1, self.num_layers + 1):
            fan_in, fan_out = layer_dims[number - 1], layer_dims[number]
            self._param_shapes[f"W{number}"] = (fan_in, fan_out)
            self._param_shapes[f"b{number}"] = (fan_out,)
            if normalization is not None and number < self.num_layers:
                self._param_shapes[f"gamma{number}"] = (fan_out,)
                self._param_shapes[f"beta{number}"] = (fan_out,)

        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": keep}
            if seed is not None:
                self.dropout_param["seed"] = seed
        if normalization is not None:
            self.bn_params = [{"mode": "train"} for _ in hidden_dims]
        if normalization == "batchnorm":
            self._batchnorm_sizes = dict(enumerate(hidden_dims, start=1))

    # Weights from N(0, weight_scale**2) drawn from NumPy's global RNG in the order W1, W2, ...; zero biases
    # and betas, unit gammas, zero running statistics.
    _initialize = Model._initialize_as_cs231n

    def _hidden_forward(self, x, number):
        """One hidden layer; returns (out, cache) with out (N, hidden_dims[number - 1])."""
        p = self.params
        if self.normalization is None:
            out, cache = affine_relu_forward(x, p[f"W{number}"], p[f"b{number}"])
        else:
            norm_forward, _ = _NORM_LAYERS[self.normalization]
            affine_out, affine_cache = affine_forward(x, p[f"W{number}"], p[f"b{number}"])
            normed, norm_cache = norm_forward(
                affine_out, p[f"gamma{number}"], p[f"beta{number}"], self.bn_params[number - 1]
            )
            out, relu_cache = relu_forward(normed)
            cache = (affine_cache, norm_cache, relu_cache)
        dropout_cache = None
        if self.use_dropout:
            out, dropout_cache = dropout_forward(out, self.dropout_param)
        return out, (cache, dropout_cache)

    def _hidden_backward(self, dout, cache, number, grads):
        """Backward of :meth:`_hidden_forward`; stores the layer's grads, returns dx."""
        cache, dropout_cache = cache
        if self.use_dropout:
            dout = dropout_backward(dout, dropout_cache)
        if self.normalization is None:
            dx, grads[f"W{number}"], grads[f"b{number}"] = affine_relu_backward(dout, cache)
            return dx
        _, norm_backward = _NORM_LAYERS[self.normalization]
        affine_cache, norm_cache, relu_cache = cache
        dnormed = relu_backward(dout, relu_cache)
        daffine, grads[f"gamma{number}"], grads[f"beta{number}"] = norm_backward(dnormed, norm_cache)
        dx, grads[f"W{number}"], grads[f"b{number}"] = affine_backward(daffine, affine_cache)
        return dx

    def loss(self, X, y=None):
        """Scores for ``X``, or the loss and gradients when labels ``y`` are given.

        ``y is None`` runs the network in test mode (dropout off, batchnorm
        with running statistics); otherwise in train mode.

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
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        self._set_batchnorm_mode(mode)

        hidden, caches = X, []
        for number in range(1, self.num_layers):
            hidden, cache = self._hidden_forward(hidden, number)
            caches.append(cache)
        last = self.num_layers
        scores, scores_cache = affine_forward(hidden, self.params[f"W{last}"], self.params[f"b{last}"])
        if y is None:
            return scores

        grads = {}
        data_loss, dscores = softmax_loss(scores, y)
        dhidden, grads[f"W{last}"], grads[f"b{last}"] = affine_backward(dscores, scores_cache)
        for number in range(self.num_layers - 1, 0, -1):
            dhidden = self._hidden_backward(dhidden, caches[number - 1], number, grads)
        return self._add_l2(data_loss, grads)
