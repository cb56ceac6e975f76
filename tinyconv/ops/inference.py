"""What a model computes at inference, as data: the primitive operations that an op lists in
:meth:`Op.inference <tinyconv.ops.Op.inference>` and that the ONNX export and ``to_torch`` translate.

Each is a small frozen dataclass holding its arrays (already in the dtype asked for) and settings;
``Residual`` nests two tuples.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Conv:
    """``weight (F, C / groups, k, k)``, ``bias (F,)``, zero padding ``pad`` on every side, square ``stride``,
    taps ``dilation`` apart, ``groups`` of channels; the output size is PyTorch's and ONNX's,
    ``(H + 2 * pad - dilation * (k - 1) - 1) // stride + 1``."""

    name: str  # the suffix of the model's parameters: '1' for W1 and b1, '3a' for W3a and b3a
    weight: np.ndarray
    bias: np.ndarray
    stride: int
    pad: int
    dilation: int = 1
    groups: int = 1


@dataclass(frozen=True)
class ConvTranspose:
    """The transposed convolution of ``weight (C, F, k, k)`` at square ``stride``, no padding, then ``bias
    (F,)``: ``(N, C, H, W) -> (N, F, (H - 1) * stride + k, ...)``."""

    name: str
    weight: np.ndarray
    bias: np.ndarray
    stride: int


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
