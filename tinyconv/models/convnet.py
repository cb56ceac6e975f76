"""A configurable convolutional network: K conv blocks, hidden affine layers, a classifier."""

import re

import numpy as np

from tinyconv.layers import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_gn_relu_backward,
    conv_gn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    max_pool_backward_fast,
    max_pool_forward_fast,
    softmax_loss,
)
from tinyconv import _checks
from tinyconv.models._base import POOL_PARAM, Model, pooled_size

DEFAULT_GAUSSIAN_SCALE = 1e-2

_CONV_TOKEN = re.compile(r"c([1-9][0-9]*)(p?)")
_HIDDEN_TOKEN = re.compile(r"f([1-9][0-9]*)")
_SPEC_GRAMMAR = (
    "a ConvNet spec is '-'-separated tokens: 'cN' is a conv block of N filters, 'cNp' the "
    "same followed by 2x2 max pooling, 'fN' a hidden affine layer of N units; at least one "
    "c token, every c token before every f token, e.g. 'c16p-c32p-f128'"
)


def _checked_pool(pool, num_blocks):
    if isinstance(pool, (bool, np.bool_)):
        return [bool(pool)] * num_blocks
    wanted = f"a bool or a list of {num_blocks} bools (one per entry of num_filters)"
    if not isinstance(pool, (list, tuple)) or not all(isinstance(flag, (bool, np.bool_)) for flag in pool):
        raise TypeError(f"ConvNet: pool must be {wanted}, got {_checks.describe(pool)}")
    if len(pool) != num_blocks:
        raise ValueError(f"ConvNet: pool must be {wanted}, got {len(pool)} of them")
    return [bool(flag) for flag in pool]


def _validated_config(input_dim, num_filters, filter_size, pool, hidden_dims, num_classes, normalization,
                      num_groups, init, weight_scale, seed):
    """ConvNet's constructor arguments checked and in JSON form (reg and dtype aside)."""
    where = "ConvNet"
    input_dim = list(_checks.image_shape(where, "input_dim", input_dim))
    num_filters = _checks.positive_ints(where, "num_filters", num_filters, allow_empty=False)
    filter_size = _checks.positive_int(where, "filter_size", filter_size)
    if filter_size % 2 == 0:
        raise ValueError(f"{where}: filter_size must be odd so that 'same' padding keeps the spatial size, "
                         f"got {filter_size}; use 3, 5 or 7")
    pool = _checked_pool(pool, len(num_filters))
    _, height, width = input_dim
    for index, does_pool in enumerate(pool):
        if does_pool:
            block = f"conv block {index + 1}"
            height = pooled_size(where, "height", height, block)
            width = pooled_size(where, "width", width, block)
    normalization = _checks.one_of(where, "normalization", normalization, (None, "batchnorm", "groupnorm"))
    num_groups = _checks.positive_int(where, "num_groups", num_groups)
    if normalization == "groupnorm":
        for index, filters in enumerate(num_filters):
            if filters % num_groups:
                raise ValueError(f"{where}: num_groups={num_groups} does not divide num_filters[{index}]={filters}; "
                                 "choose num_groups that divides every block's filter count")
    init = _checks.one_of(where, "init", init, ("he", "gaussian"))
    if weight_scale is not None:
        if init == "he":
            raise ValueError(f"{where}: weight_scale applies only to init='gaussian'; drop weight_scale or pass "
                             "init='gaussian'")
        weight_scale = _checks.nonnegative_float(where, "weight_scale", weight_scale)
    return {
        "input_dim": input_dim,
        "num_filters": list(num_filters),
        "filter_size": filter_size,
        "pool": pool,
        "hidden_dims": list(_checks.positive_ints(where, "hidden_dims", hidden_dims, allow_empty=True)),
        "num_classes": _checks.positive_int(where, "num_classes", num_classes),
        "normalization": normalization,
        "num_groups": num_groups,
        "init": init,
        "weight_scale": weight_scale,
        "seed": _checks.optional_seed(where, "seed", seed),
    }


class ConvNet(Model):
    """{conv - [spatial batchnorm | groupnorm] - relu - [2x2 max pool]} x K
    - {affine - relu} x M - affine - softmax.

    Parameters
    ----------
    input_dim : tuple (C, H, W)
        Size of one input image.
    num_filters : list of int, length K >= 1
        Filters of each conv block.
    filter_size : int, odd
        Height and width of every conv filter; stride 1 and padding
        ``(filter_size - 1) // 2`` keep the spatial size.
    pool : bool or list of bool (length K)
        Whether each block ends with a 2x2, stride-2 max pool (one bool
        applies to every block). Pooled sizes must be even.
    hidden_dims : list of int
        Units of the hidden affine-relu layers (may be empty).
    num_classes : int
        Number of scores produced.
    normalization : None, 'batchnorm' or 'groupnorm'
        Normalization of every conv block (spatial batch norm or group norm).
    num_groups : int
        Groups of the group norm; must divide every entry of ``num_filters``.
        Used only with ``normalization='groupnorm'``.
    init : 'he' or 'gaussian'
        'he' draws weights from N(0, 2 / fan_in); 'gaussian' from
        N(0, weight_scale**2).
    weight_scale : float or None
        Standard deviation for ``init='gaussian'`` (None means 1e-2); must be
        None for ``init='he'``.
    reg : float
        L2 regularization strength.
    seed : int or None
        Seed of the generator that draws the initial weights (None: fresh
        entropy). NumPy's global RNG is not used.
    dtype : np.float32 or np.float64
        dtype of the parameters and of every computation.

    Params: block n = 1..K has ``W{n} (F_n, F_{n-1}, k, k)``, ``b{n} (F_n,)``
    and with normalization ``gamma{n}``, ``beta{n}`` (shape ``(F_n,)`` for
    batchnorm, ``(1, F_n, 1, 1)`` for groupnorm); then ``W{n}``, ``b{n}`` for
    the hidden layers and the classifier, numbered on from K + 1.
    """

    def __init__(
        self,
        input_dim=(3, 32, 32),
        num_filters=(16, 32),
        filter_size=3,
        pool=True,
        hidden_dims=(128,),
        num_classes=10,
        normalization=None,
        num_groups=2,
        init="he",
        weight_scale=None,
        reg=0.0,
        seed=None,
        dtype=np.float32,
    ):
        self._configure(dict(input_dim=input_dim, num_filters=num_filters, filter_size=filter_size, pool=pool,
                             hidden_dims=hidden_dims, num_classes=num_classes, normalization=normalization,
                             num_groups=num_groups, init=init, weight_scale=weight_scale, reg=reg, seed=seed,
                             dtype=dtype))
        self._initialize()

    def _configure(self, config):
        config = self._arguments(config)
        reg, dtype = config.pop("reg"), config.pop("dtype")
        config = _validated_config(**config)
        self._configure_base(config, reg, dtype)
        self._input_shape = tuple(config["input_dim"])
        self.normalization = config["normalization"]
        self.num_groups = config["num_groups"]
        self.pool = tuple(config["pool"])
        self.num_blocks = len(config["num_filters"])
        self.num_layers = self.num_blocks + len(config["hidden_dims"]) + 1
        self._conv_param = {"stride": 1, "pad": (config["filter_size"] - 1) // 2}

        C, H, W = config["input_dim"]
        for does_pool in config["pool"]:
            H, W = (H // 2, W // 2) if does_pool else (H, W)
        size = config["filter_size"]
        channels = [C, *config["num_filters"]]
        units = [channels[-1] * H * W, *config["hidden_dims"], config["num_classes"]]
        weight_shapes = [(out, inp, size, size) for inp, out in zip(channels, channels[1:])]
        weight_shapes += [(inp, out) for inp, out in zip(units, units[1:])]
        for number, shape in enumerate(weight_shapes, start=1):
            self._param_shapes[f"W{number}"] = shape
            self._param_shapes[f"b{number}"] = (shape[0] if len(shape) == 4 else shape[1],)
        if self.normalization is not None:
            for number, filters in enumerate(config["num_filters"], start=1):
                shape = (1, filters, 1, 1) if self.normalization == "groupnorm" else (filters,)
                self._param_shapes[f"gamma{number}"] = shape
                self._param_shapes[f"beta{number}"] = shape
                self.bn_params.append({"mode": "train"})
        if self.normalization == "batchnorm":
            self._batchnorm_sizes = dict(enumerate(config["num_filters"], start=1))

    def _initialize(self):
        """Weights (He or Gaussian) drawn from a generator seeded with ``seed``, in the order W1, W2, ...;
        zero biases and betas, unit gammas, zero running statistics."""
        rng = np.random.default_rng(self._config["seed"])
        for name, shape in self._param_shapes.items():
            if name.startswith("W"):
                if self._config["init"] == "he":
                    std = np.sqrt(2.0 / np.prod(shape[1:] if len(shape) == 4 else shape[:1]))
                elif self._config["weight_scale"] is None:
                    std = DEFAULT_GAUSSIAN_SCALE
                else:
                    std = self._config["weight_scale"]
                # Drawn in float64 and then cast, so one seed gives the same network in every dtype.
                self.params[name] = (std * rng.standard_normal(shape)).astype(self.dtype)
            else:
                self.params[name] = (np.ones if name.startswith("gamma") else np.zeros)(shape, dtype=self.dtype)
        self._zero_running_stats()

    @classmethod
    def from_spec(cls, spec, **kwargs):
        """Build a ConvNet from a short architecture string.

        Grammar: '-'-separated tokens, ``cN`` (conv block of N filters),
        ``cNp`` (the same followed by 2x2 max pooling) and ``fN`` (hidden
        affine-relu layer of N units); at least one c token and every c token
        before every f token. ``"c16p-c32p-f128"`` means
        ``num_filters=[16, 32], pool=[True, True], hidden_dims=[128]``.

        Parameters
        ----------
        spec : str
        **kwargs
            Any other constructor argument (not num_filters, pool or hidden_dims).
        """
        if not isinstance(spec, str):
            raise TypeError(f"spec must be a string such as 'c16p-c32p-f128', got {spec!r}.")
        clashing = sorted({"num_filters", "pool", "hidden_dims"} & set(kwargs))
        if clashing:
            raise ValueError(f"the spec {spec!r} already sets {clashing}; do not pass them too.")
        num_filters, pool, hidden_dims = [], [], []
        for token in spec.strip().split("-"):
            conv, hidden = _CONV_TOKEN.fullmatch(token), _HIDDEN_TOKEN.fullmatch(token)
            if conv and not hidden_dims:
                num_filters.append(int(conv.group(1)))
                pool.append(conv.group(2) == "p")
            elif hidden and num_filters:
                hidden_dims.append(int(hidden.group(1)))
            else:
                raise ValueError(f"bad token {token!r} in spec {spec!r}: {_SPEC_GRAMMAR}.")
        return cls(num_filters=num_filters, pool=pool, hidden_dims=hidden_dims, **kwargs)

    @property
    def spec(self):
        """The architecture as a :meth:`from_spec` string, e.g. ``'c16p-c32p-f128'``."""
        config = self._config
        tokens = [f"c{f}{'p' if p else ''}" for f, p in zip(config["num_filters"], config["pool"])]
        return "-".join(tokens + [f"f{units}" for units in config["hidden_dims"]])

    def _block_forward(self, x, number):
        """Conv block ``number``: returns (out, cache)."""
        p = self.params
        w, b = p[f"W{number}"], p[f"b{number}"]
        if self.normalization is None:
            out, cache = conv_relu_forward(x, w, b, self._conv_param)
        elif self.normalization == "batchnorm":
            out, cache = conv_bn_relu_forward(
                x, w, b, p[f"gamma{number}"], p[f"beta{number}"], self._conv_param,
                self.bn_params[number - 1],
            )
        else:
            out, cache = conv_gn_relu_forward(
                x, w, b, p[f"gamma{number}"], p[f"beta{number}"], self.num_groups,
                self._conv_param, self.bn_params[number - 1],
            )
        pool_cache = None
        if self.pool[number - 1]:
            out, pool_cache = max_pool_forward_fast(out, POOL_PARAM)
        return out, (cache, pool_cache)

    def _block_backward(self, dout, cache, number, grads):
        """Backward of :meth:`_block_forward`; stores the block's grads, returns dx."""
        cache, pool_cache = cache
        if pool_cache is not None:
            dout = max_pool_backward_fast(dout, pool_cache)
        if self.normalization is None:
            dx, grads[f"W{number}"], grads[f"b{number}"] = conv_relu_backward(dout, cache)
            return dx
        backward = (
            conv_bn_relu_backward if self.normalization == "batchnorm" else conv_gn_relu_backward
        )
        dx, dw, db, dgamma, dbeta = backward(dout, cache)
        grads[f"W{number}"], grads[f"b{number}"] = dw, db
        grads[f"gamma{number}"], grads[f"beta{number}"] = dgamma, dbeta
        return dx

    def loss(self, X, y=None):
        """Scores for ``X``, or the loss and gradients when labels ``y`` are given.

        ``y is None`` runs batch normalization in test mode (running
        statistics); otherwise in train mode.

        Parameters
        ----------
        X : ndarray (N, C, H, W)
        y : ndarray (N,) of int, optional

        Returns
        -------
        scores : ndarray (N, num_classes)
            When ``y`` is None.
        loss, grads : float, dict
            When ``y`` is given: softmax loss plus L2, and gradients keyed like params.
        """
        X = self._prepare_input(X, self._input_shape)
        self._set_batchnorm_mode("test" if y is None else "train")

        out, caches = X, []
        for number in range(1, self.num_blocks + 1):
            out, cache = self._block_forward(out, number)
            caches.append(cache)
        for number in range(self.num_blocks + 1, self.num_layers):
            out, cache = affine_relu_forward(out, self.params[f"W{number}"], self.params[f"b{number}"])
            caches.append(cache)
        last = self.num_layers
        scores, scores_cache = affine_forward(out, self.params[f"W{last}"], self.params[f"b{last}"])
        if y is None:
            return scores

        grads = {}
        data_loss, dscores = softmax_loss(scores, y)
        dout, grads[f"W{last}"], grads[f"b{last}"] = affine_backward(dscores, scores_cache)
        for number in range(self.num_layers - 1, self.num_blocks, -1):
            dout, grads[f"W{number}"], grads[f"b{number}"] = affine_relu_backward(
                dout, caches[number - 1]
            )
        for number in range(self.num_blocks, 0, -1):
            dout = self._block_backward(dout, caches[number - 1], number, grads)
        return self._add_l2(data_loss, grads)
