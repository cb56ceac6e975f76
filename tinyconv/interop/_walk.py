"""A tinyconv model in inference mode as a flat list of operations, which the ONNX export and ``to_torch`` read.

Each operation is a small frozen dataclass holding its arrays (already in the dtype asked for) and settings;
``Residual`` nests two lists. Every model class has one function here that lists its operations, so what a
model computes at inference is written down once for both exports.
"""

from dataclasses import dataclass

import numpy as np

from tinyconv._backend import to_numpy

from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet

# The eps that tinyconv's norms use when their parameter dict gives none.
DEFAULT_EPS = 1e-5


@dataclass(frozen=True)
class Conv:
    """``weight (F, C, k, k)``, ``bias (F,)``, zero padding ``pad`` on every side, square ``stride``."""

    name: str  # the suffix of the model's parameters: '1' for W1 and b1, '3a' for W3a and b3a
    weight: np.ndarray
    bias: np.ndarray
    stride: int
    pad: int


@dataclass(frozen=True)
class BatchNorm:
    """Inference batch norm over axis 1: ``gamma * (x - mean) / sqrt(var + eps) + beta``, arrays ``(C,)``;
    on ``(N, C, H, W)`` when ``spatial``, else on ``(N, C)``."""

    name: str
    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float
    spatial: bool


@dataclass(frozen=True)
class GroupNorm:
    """Group norm of ``(N, C, H, W)`` over ``groups`` contiguous channel groups; gamma, beta ``(C,)``."""

    name: str
    gamma: np.ndarray
    beta: np.ndarray
    groups: int
    eps: float


@dataclass(frozen=True)
class LayerNorm:
    """Layer norm of ``(N, D)`` over D; gamma, beta ``(D,)``."""

    name: str
    gamma: np.ndarray
    beta: np.ndarray
    eps: float


@dataclass(frozen=True)
class ReLU:
    pass


@dataclass(frozen=True)
class Pool:
    """2x2 pooling at stride 2 without padding; ``kind`` is 'max' or 'avg'."""

    kind: str


@dataclass(frozen=True)
class GlobalAvgPool:
    """``(N, C, H, W) -> (N, C, 1, 1)``, the mean over each feature map."""


@dataclass(frozen=True)
class Flatten:
    """``(N, d1, ..., dk) -> (N, d1 * ... * dk)`` in C order, as tinyconv's affine layers flatten."""


@dataclass(frozen=True)
class Affine:
    """``x @ weight + bias`` with ``weight (D, M)`` (tinyconv's layout), ``bias (M,)``."""

    name: str
    weight: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class Dropout:
    """Inverted dropout keeping each unit with probability ``keep``; the identity at inference."""

    keep: float


@dataclass(frozen=True)
class Residual:
    """``relu(body(x) + shortcut(x))``; an empty ``shortcut`` is the identity."""

    body: tuple
    shortcut: tuple


def input_shape(model):
    """The shape of one input without the batch: ``(C, H, W)`` for conv nets, ``(D,)`` for fully connected."""
    config = model.get_config()
    return tuple(config["input_dim"]) if isinstance(config["input_dim"], list) else (config["input_dim"],)


def check_model(where, model):
    """``model`` if it is an instance of one of the four tinyconv model classes themselves (TypeError if not:
    a subclass may compute something else)."""
    if type(model) not in _WALKS:
        raise TypeError(f"{where}: model must be one of {sorted(cls.__name__ for cls in _WALKS)} (the classes "
                        f"themselves, not subclasses), got {type(model).__module__}.{type(model).__qualname__}")
    return model


def operations(where, model, dtype):
    """The operations ``model.loss(X)`` performs on ``X`` to reach its scores, arrays copied in ``dtype``."""
    # Host copies: a model trained on a GPU has CuPy arrays.
    return _WALKS[type(check_model(where, model))](model, lambda array: to_numpy(array).astype(dtype, copy=True))


def _norm(model, suffix, norm_param, cast, spatial=True):
    """The normalization ``model.normalization`` applies with parameters ``gamma{suffix}``, ``beta{suffix}``."""
    gamma, beta = cast(model.params[f"gamma{suffix}"]).reshape(-1), cast(model.params[f"beta{suffix}"]).reshape(-1)
    eps = float(norm_param.get("eps", DEFAULT_EPS))
    if model.normalization == "batchnorm":
        return BatchNorm(suffix, gamma, beta, cast(norm_param["running_mean"]), cast(norm_param["running_var"]),
                         eps, spatial)
    if model.normalization == "groupnorm":
        return GroupNorm(suffix, gamma, beta, model.num_groups, eps)
    return LayerNorm(suffix, gamma, beta, eps)


def _affine(model, number, cast):
    return Affine(str(number), cast(model.params[f"W{number}"]), cast(model.params[f"b{number}"]))


def _conv(model, suffix, stride, pad, cast):
    return Conv(suffix, cast(model.params[f"W{suffix}"]), cast(model.params[f"b{suffix}"]), stride, pad)


def _three_layer(model, cast):
    pad = (model.get_config()["filter_size"] - 1) // 2
    return [_conv(model, "1", 1, pad, cast), ReLU(), Pool("max"), Flatten(),
            _affine(model, 2, cast), ReLU(), _affine(model, 3, cast)]


def _fully_connected(model, cast):
    keep = model.get_config()["dropout_keep_ratio"] if model.use_dropout else None
    ops = [Flatten()]
    for number in range(1, model.num_layers):
        ops.append(_affine(model, number, cast))
        if model.normalization is not None:
            ops.append(_norm(model, str(number), model.bn_params[number - 1], cast, spatial=False))
        ops.append(ReLU())
        if keep is not None:
            ops.append(Dropout(keep))
    return ops + [_affine(model, model.num_layers, cast)]


def _two_layer(model, cast):
    return [Flatten(), _affine(model, 1, cast), ReLU(), _affine(model, 2, cast)]


def _convnet(model, cast):
    pad = (model.get_config()["filter_size"] - 1) // 2
    norms = iter(model.bn_params)  # one dict per normalization, in forward order, as ConvNet.loss reads them
    ops, flattened = [], False
    for layer, number in zip(model.layers, model.layer_numbers):
        if layer.kind in ("affine", "dropout") and not flattened:
            ops.append(Flatten())
            flattened = True
        if layer.kind == "conv":
            ops.append(_conv(model, str(number), 1, pad, cast))
            if model.normalization is not None:
                ops.append(_norm(model, str(number), next(norms), cast))
            ops.append(ReLU())
            if layer.pool:
                ops.append(Pool({"p": "max", "a": "avg"}[layer.pool]))
        elif layer.kind == "residual":
            stride = 2 if layer.pool else 1
            body = (_conv(model, f"{number}a", stride, pad, cast), _norm(model, f"{number}a", next(norms), cast),
                    ReLU(), _conv(model, f"{number}b", 1, pad, cast), _norm(model, f"{number}b", next(norms), cast))
            shortcut = ()
            if f"W{number}s" in model.params:
                shortcut = (_conv(model, f"{number}s", stride, 0, cast), _norm(model, f"{number}s", next(norms), cast))
            ops.append(Residual(body, shortcut))
        elif layer.kind == "global_pool":
            ops.append(GlobalAvgPool())
        elif layer.kind == "affine":
            ops += [_affine(model, number, cast), ReLU()]
        else:
            ops.append(Dropout(layer.keep))
    if not flattened:
        ops.append(Flatten())
    output_number = sum(number is not None for number in model.layer_numbers) + 1
    return ops + [_affine(model, output_number, cast)]


_WALKS = {ThreeLayerConvNet: _three_layer, FullyConnectedNet: _fully_connected, TwoLayerNet: _two_layer,
          ConvNet: _convnet}
