"""The ops that models are lists of: each a layer or a block of layers of :mod:`tinyconv.layers`, with its
``plan`` (output and parameter shapes for an input shape), ``forward`` and ``backward`` side by side, and
``inference`` (what it computes at inference, which the exports read).

A model holds its ops in ``model.ops`` and runs them in one loop (:class:`tinyconv.models.Model`'s
``loss``); a new kind of layer is one new class here. The parameters keep the names of the cs231n models
(``W1``, ``b1``, ``gamma1``, ...), which each op is given when the model builds it.
"""

from tinyconv.ops._op import Op, Plan
from tinyconv.ops.conv import ConvBlock, GlobalAvgPool, ResidualBlock
from tinyconv.ops.dense import Affine, Dropout
from tinyconv.ops.separable import SeparableBlock, UpBlock

__all__ = ["Op", "Plan", "ConvBlock", "ResidualBlock", "SeparableBlock", "UpBlock", "GlobalAvgPool", "Affine",
           "Dropout"]
