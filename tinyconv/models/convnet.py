"""A configurable convolutional network, described by a short spec such as ``c32-r32-r64p-r128p-g``.

Spec grammar: '-'-separated tokens, in this order

- one or more feature tokens:
  ``cN`` a conv block of N filters (conv - [norm] - relu), ``cNp`` the same followed by 2x2 max pooling,
  ``cNa`` the same followed by 2x2 average pooling, ``cNdD`` (also ``cNdDp``, ``cNdDa``) its conv dilated
  by D (taps D pixels apart, padded to keep the size), ``rN`` a residual basic block of N filters (it needs
  ``normalization='batchnorm'``), ``rNp`` the same halving the spatial size with stride 2, ``sN`` a
  depthwise-separable block (MobileNet's: a depthwise conv block, each channel filtered alone, then a 1x1
  conv block of N filters), ``sNp`` the same with its depthwise conv at stride 2, ``uN`` a transposed conv
  block of N filters that doubles the height and width (2x2 filters at stride 2 - [norm] - relu);
- optionally ``g``: global average pooling in place of the flatten;
- any number of ``fN`` (a hidden affine - relu layer of N units) and ``dP`` (dropout keeping each unit
  with probability P, e.g. ``d0.5``, before the next affine layer).

The classifier (an affine layer to ``num_classes`` scores) and the softmax loss end every network.
``"c16p-c32p-f128"`` is two pooled conv blocks and one hidden layer; ``"c32-r32-r64p-r128p-g"`` a small
ResNet; ``"c16-s32-s64p-s128p-g"`` a small MobileNet.
"""

import re
from typing import NamedTuple

import numpy as np

from tinyconv import _checks
from tinyconv.models._base import Model
from tinyconv.ops import Affine, ConvBlock, Dropout, GlobalAvgPool, ResidualBlock, SeparableBlock, UpBlock

DEFAULT_GAUSSIAN_SCALE = 1e-2
NORMALIZATIONS = (None, "batchnorm", "groupnorm")
INITS = ("he", "gaussian", "pytorch")

_FEATURE_TOKEN = re.compile(r"([crsu])([1-9][0-9]*)(?:d([1-9][0-9]*))?([pa]?)")
_FEATURE_KINDS = {"c": "conv", "r": "residual", "s": "separable", "u": "upsample"}
_HIDDEN_TOKEN = re.compile(r"f([1-9][0-9]*)")
_DROPOUT_TOKEN = re.compile(r"d(0\.[0-9]*[1-9][0-9]*|1(\.0*)?)")
_SPEC_GRAMMAR = (
    "a ConvNet spec is '-'-separated tokens: feature tokens first (cN: a conv block of N filters, cNp / cNa: "
    "the same then 2x2 max / average pooling, cNdD: its conv dilated by D, rN: a residual block of N filters, "
    "rNp: the same at stride 2, sN / sNp: a depthwise-separable block, uN: a transposed conv block doubling the "
    "size), "
    "then optionally g (global average pooling), then fN (a hidden layer of N units) and dP (dropout keeping "
    "a unit with probability P, e.g. d0.5), e.g. 'c16p-c32p-f128' or 'c32-r32-r64p-r128p-g'"
)

class Layer(NamedTuple):
    """One token of a spec: ``kind`` is 'conv', 'residual', 'separable', 'upsample', 'global_pool', 'affine'
    or 'dropout'."""

    kind: str
    units: int = 0  # filters or hidden units
    pool: str = ""  # a conv block's 'p' (max) or 'a' (average) pooling; a residual or separable block's 'p'
    keep: float = 1.0  # dropout's keep probability
    dilation: int = 1  # a conv block's

    @property
    def token(self):
        if self.kind == "global_pool":
            return "g"
        if self.kind == "dropout":
            # The shortest text that reads back as the same float, without an exponent ("d1", "d0.00001").
            return "d" + np.format_float_positional(self.keep, trim="-")
        dilation = f"d{self.dilation}" if self.dilation > 1 else ""
        letter = {"conv": "c", "residual": "r", "separable": "s", "upsample": "u", "affine": "f"}[self.kind]
        return f"{letter}{self.units}{dilation}{self.pool}"


def parse_spec(spec):
    """The layers of a spec string, in order (see the module docstring for the grammar)."""
    if not isinstance(spec, str):
        raise TypeError(f"ConvNet: spec must be a string such as 'c16p-c32p-f128', got {_checks.describe(spec)}")
    layers = []
    for token in spec.strip().split("-"):
        feature, hidden, dropout = (pattern.fullmatch(token) for pattern in (_FEATURE_TOKEN, _HIDDEN_TOKEN,
                                                                             _DROPOUT_TOKEN))
        features_done = any(layer.kind not in _FEATURE_KINDS.values() for layer in layers)
        if feature and not features_done:
            layers.append(_feature_layer(spec, token, feature))
        elif token == "g" and layers and not features_done:
            layers.append(Layer("global_pool"))
        elif (hidden or dropout) and layers:
            layers.append(Layer("affine", int(hidden.group(1))) if hidden else Layer("dropout", keep=float(token[1:])))
        else:
            raise ValueError(f"ConvNet: bad token {token!r} in spec {spec!r}: {_SPEC_GRAMMAR}")
    return layers


def _feature_layer(spec, token, match):
    """The Layer of a feature token, refusing the suffixes its kind does not take."""
    letter, units, dilation, pool = match.groups()
    kind = _FEATURE_KINDS[letter]
    refused = None
    if dilation is not None and (kind != "conv" or int(dilation) < 2):
        refused = "only a conv block dilates, by 2 or more ('c32d2')"
    elif pool == "a" and kind != "conv":
        refused = f"a {kind} block downsamples with 'p' (stride 2), not 'a'" if kind != "upsample" else None
    if kind == "upsample" and pool:
        refused = "an upsampling block doubles the size and takes no 'p' or 'a'"
    if refused:
        raise ValueError(f"ConvNet: bad token {token!r} in spec {spec!r}: {refused}")
    return Layer(kind, int(units), pool, dilation=int(dilation or 1))


def spec_from_lists(num_filters, pool, hidden_dims):
    """The spec that ``num_filters``, ``pool`` and ``hidden_dims`` (the older constructor arguments) describe."""
    where = "ConvNet"
    num_filters = _checks.positive_ints(where, "num_filters", (16, 32) if num_filters is None else num_filters,
                                        allow_empty=False)
    pool = True if pool is None else pool
    if isinstance(pool, (bool, np.bool_)):
        pool = [bool(pool)] * len(num_filters)
    wanted = f"a bool or a list of {len(num_filters)} bools (one per entry of num_filters)"
    if not isinstance(pool, (list, tuple)) or not all(isinstance(flag, (bool, np.bool_)) for flag in pool):
        raise TypeError(f"{where}: pool must be {wanted}, got {_checks.describe(pool)}")
    if len(pool) != len(num_filters):
        raise ValueError(f"{where}: pool must be {wanted}, got {len(pool)} of them")
    hidden_dims = _checks.positive_ints(where, "hidden_dims", (128,) if hidden_dims is None else hidden_dims,
                                        allow_empty=True)
    tokens = [f"c{filters}{'p' if does_pool else ''}" for filters, does_pool in zip(num_filters, pool)]
    return "-".join(tokens + [f"f{units}" for units in hidden_dims])


class ConvNet(Model):
    """A convolutional network described by a spec (see the module docstring), then affine - softmax.

    Parameters
    ----------
    input_dim : tuple (C, H, W)
        Size of one input image.
    num_filters, pool, hidden_dims
        The older way to describe a network of conv blocks and hidden layers: filters of each conv block
        (default (16, 32)), whether each ends with 2x2 max pooling (a bool or one per block, default True),
        hidden units (default (128,)). Give these or ``spec``, not both.
    filter_size : int, odd
        Height and width of every conv filter; padding ``(filter_size - 1) // 2`` keeps the spatial size at
        stride 1.
    num_classes : int
        Number of scores produced.
    normalization : None, 'batchnorm' or 'groupnorm'
        Normalization of every conv block (spatial batch norm or group norm). Residual blocks always use
        batch norm, so they need 'batchnorm'.
    num_groups : int
        Groups of the group norm; must divide every conv block's filter count.
    init : 'he', 'gaussian' or 'pytorch'
        'he' draws weights from N(0, 2 / fan_in); 'gaussian' from N(0, weight_scale**2); 'pytorch' from
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for Conv2d and Linear weights (std
        1/sqrt(3 fan_in), He's divided by sqrt(6)). The smaller weights suit Adam with batch norm: its steps
        are a fixed size, so small weights move faster, and the classifier starts with small scores.
    weight_scale : float or None
        Standard deviation for ``init='gaussian'`` (None means 1e-2); must be None for the other inits.
    reg : float
        L2 regularization strength.
    label_smoothing : float in [0, 1]
        Label smoothing of the softmax loss (see ``softmax_loss``); 0 trains on the labels as they are.
    seed : int or None
        Seed of the generator that draws the initial weights (None: fresh entropy). NumPy's global RNG is not
        used for them; dropout masks are drawn from it, as cs231n's dropout does.
    dtype : np.float32 or np.float64
        dtype of the parameters and of every computation.
    spec : str, optional
        The architecture, e.g. ``'c32-r32-r64p-r128p-g'``.

    Params, layer n = 1, 2, ... in spec order (dropout and global pooling have none; the classifier is last):

    - conv block: ``W{n} (F, C, k, k)``, ``b{n} (F,)`` and with normalization ``gamma{n}``, ``beta{n}``
      (``(F,)`` for batchnorm, ``(1, F, 1, 1)`` for groupnorm);
    - residual block: ``W{n}a, b{n}a, gamma{n}a, beta{n}a`` and ``W{n}b, ...`` for its two convs, and
      ``W{n}s (F, C, 1, 1), b{n}s, gamma{n}s, beta{n}s`` for the projection shortcut where the shape changes;
    - separable block: ``W{n}dw (C, 1, k, k), b{n}dw`` (the depthwise conv) and ``W{n}pw (F, C, 1, 1), b{n}pw``
      (the pointwise conv), each with ``gamma`` and ``beta`` under a normalization;
    - upsampling block: ``W{n} (C, F, 2, 2)`` (a transposed convolution's layout), ``b{n} (F,)`` and its norm's;
    - affine layer: ``W{n} (D, M)``, ``b{n} (M,)``.

    ``bn_params`` holds one dict per normalization in forward order (a residual block has two or three).
    """

    def __init__(
        self,
        input_dim=(3, 32, 32),
        num_filters=None,
        filter_size=3,
        pool=None,
        hidden_dims=None,
        num_classes=10,
        normalization=None,
        num_groups=2,
        init="he",
        weight_scale=None,
        reg=0.0,
        seed=None,
        dtype=np.float32,
        spec=None,
        label_smoothing=0.0,
    ):
        self._configure(dict(input_dim=input_dim, num_filters=num_filters, filter_size=filter_size, pool=pool,
                             hidden_dims=hidden_dims, num_classes=num_classes, normalization=normalization,
                             num_groups=num_groups, init=init, weight_scale=weight_scale, reg=reg, seed=seed,
                             dtype=dtype, spec=spec, label_smoothing=label_smoothing))
        self._initialize()

    @classmethod
    def from_spec(cls, spec, **kwargs):
        """``ConvNet(spec=spec, **kwargs)``: a ConvNet from a short architecture string such as
        ``'c16p-c32p-f128'`` (see the module docstring for the grammar)."""
        clashing = sorted({"num_filters", "pool", "hidden_dims", "spec"} & set(kwargs))
        if clashing:
            raise ValueError(f"ConvNet.from_spec: the spec {spec!r} already sets {clashing}; do not pass them too")
        return cls(spec=spec, **kwargs)

    @property
    def spec(self):
        """The architecture as a spec string, e.g. ``'c16p-c32p-f128'``."""
        return self._config["spec"]

    @property
    def layer_numbers(self):
        """For each of ``layers``, the number of its parameters (``W{n}``, ``W{n}a``, ...), None for dropout
        and global pooling. The output affine layer that follows them takes the next number."""
        return tuple(self._numbers)

    def _configure(self, config):
        where = "ConvNet"
        config = self._arguments(config)
        lists = {name: config.pop(name) for name in ("num_filters", "pool", "hidden_dims")}
        if config["spec"] is None:
            config["spec"] = spec_from_lists(**lists)
        elif any(value is not None for value in lists.values()):
            given = sorted(name for name, value in lists.items() if value is not None)
            raise ValueError(f"{where}: give the architecture as spec or as num_filters/pool/hidden_dims, not both "
                             f"(got spec={config['spec']!r} and {given})")
        self.layers = parse_spec(config["spec"])
        input_dim = list(_checks.image_shape(where, "input_dim", config["input_dim"]))
        filter_size = _checks.positive_int(where, "filter_size", config["filter_size"])
        if filter_size % 2 == 0:
            raise ValueError(f"{where}: filter_size must be odd so that 'same' padding keeps the spatial size, "
                             f"got {filter_size}; use 3, 5 or 7")
        normalization = _checks.one_of(where, "normalization", config["normalization"], NORMALIZATIONS)
        num_groups = _checks.positive_int(where, "num_groups", config["num_groups"])
        init = _checks.one_of(where, "init", config["init"], INITS)
        weight_scale = config["weight_scale"]
        if weight_scale is not None:
            if init != "gaussian":
                raise ValueError(f"{where}: weight_scale applies only to init='gaussian', not init={init!r}; drop "
                                 "weight_scale or pass init='gaussian'")
            weight_scale = _checks.nonnegative_float(where, "weight_scale", weight_scale)
        self._configure_base(
            {
                "input_dim": input_dim,
                "spec": "-".join(layer.token for layer in self.layers),
                "filter_size": filter_size,
                "num_classes": _checks.positive_int(where, "num_classes", config["num_classes"]),
                "normalization": normalization,
                "num_groups": num_groups,
                "init": init,
                "weight_scale": weight_scale,
                "seed": _checks.optional_seed(where, "seed", config["seed"]),
                "label_smoothing": _checks.real(where, "label_smoothing", config["label_smoothing"], 0, 1),
            },
            config["reg"],
            config["dtype"],
        )
        self.normalization = normalization
        self.num_groups = num_groups
        self._label_smoothing = self._config["label_smoothing"]
        self._build(self._ops(), tuple(input_dim))

    def _ops(self):
        """The op of each layer of the spec, then the classifier; numbers the layers' parameters."""
        where, size = "ConvNet", self._config["filter_size"]
        ops, self._numbers, number = [], [], 0  # the parameter number of each layer (None for those without)
        for index, layer in enumerate(self.layers, start=1):
            label = f"layer {index} ({layer.token})"
            numbered = layer.kind not in ("global_pool", "dropout")
            number += numbered
            self._numbers.append(number if numbered else None)
            if layer.kind == "conv":
                ops.append(ConvBlock(str(number), layer.units, size, self.normalization, self.num_groups,
                                     {"p": "max", "a": "avg", "": ""}[layer.pool], label, dilation=layer.dilation))
            elif layer.kind == "separable":
                ops.append(SeparableBlock(number, layer.units, size, self.normalization, self.num_groups,
                                          2 if layer.pool else 1, label))
            elif layer.kind == "upsample":
                ops.append(UpBlock(str(number), layer.units, self.normalization, self.num_groups, label))
            elif layer.kind == "residual":
                if self.normalization != "batchnorm":
                    raise ValueError(f"{where}: {label} is a residual block, which uses batch normalization; pass "
                                     "normalization='batchnorm'")
                ops.append(ResidualBlock(number, layer.units, size, stride=2 if layer.pool else 1))
            elif layer.kind == "global_pool":
                ops.append(GlobalAvgPool())
            elif layer.kind == "affine":
                ops.append(Affine(number, layer.units, relu=True))
            else:
                ops.append(Dropout({"p": layer.keep}))
        return [*ops, Affine(number + 1, self._config["num_classes"])]

    def _initialize(self):
        """Weights (He, Gaussian or PyTorch's uniform) drawn from a generator seeded with ``seed``, in the order
        of ``params``; zero biases and betas, unit gammas, zero running statistics."""
        rng = np.random.default_rng(self._config["seed"])
        init = self._config["init"]
        for name, shape in self._param_shapes.items():
            if name.startswith("W"):
                fan_in = int(np.prod(shape[1:] if len(shape) == 4 else shape[:1]))
                # Drawn in float64 and then cast, so one seed gives the same network in every dtype.
                if init == "pytorch":
                    bound = 1 / np.sqrt(fan_in)
                    weights = rng.uniform(-bound, bound, shape)
                else:
                    std = np.sqrt(2.0 / fan_in) if init == "he" else (
                        DEFAULT_GAUSSIAN_SCALE if self._config["weight_scale"] is None else self._config["weight_scale"])
                    weights = std * rng.standard_normal(shape)
                self.params[name] = weights.astype(self.dtype)
            else:
                self.params[name] = (np.ones if name.startswith("gamma") else np.zeros)(shape, dtype=self.dtype)
        self._zero_running_stats()
