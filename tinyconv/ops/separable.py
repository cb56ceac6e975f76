"""MobileNet's depthwise-separable block and the transposed-conv block that doubles a feature map."""

from dataclasses import dataclass
from functools import cached_property

from tinyconv.layers import (
    conv_transpose_backward_fast,
    conv_transpose_forward_fast,
    relu_backward,
    relu_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from tinyconv.ops import inference
from tinyconv.ops._op import Op, Plan, inference_norm
from tinyconv.ops.conv import ConvBlock, _conv_params


@dataclass(frozen=True)
class SeparableBlock(Op):
    """A depthwise-separable block (MobileNet): a depthwise ``size x size`` conv block at ``stride`` 1 or 2
    (each channel filtered alone), then a pointwise 1x1 conv block of ``filters``, each with the norm and a
    ReLU. ``(N, C, H, W) -> (N, filters, H', W')``, ``H' = (H - 1) // stride + 1``.

    Params ``W{n}dw (C, 1, size, size)``, ``b{n}dw (C,)``, ``W{n}pw (filters, C, 1, 1)``, ``b{n}pw
    (filters,)`` and, with a norm, ``gamma`` and ``beta`` of each (``gamma{n}dw``, ...).
    """

    number: int
    filters: int
    size: int
    normalization: str = None
    num_groups: int = 1
    stride: int = 1
    label: str = "the separable block"

    @cached_property
    def parts(self):
        """The depthwise conv block, then the pointwise one."""
        n = self.number
        return (ConvBlock(f"{n}dw", None, self.size, self.normalization, self.num_groups,
                          label=f"{self.label}'s depthwise conv", stride=self.stride, depthwise=True),
                ConvBlock(f"{n}pw", self.filters, 1, self.normalization, self.num_groups,
                          label=f"{self.label}'s pointwise conv"))

    def plan(self, where, in_shape):
        first = self.parts[0].plan(where, in_shape)
        second = self.parts[1].plan(where, first.out_shape)
        return Plan(second.out_shape, {**first.params, **second.params}, first.norms + second.norms,
                    first.multiply_adds + second.multiply_adds)

    def forward(self, params, x, norms, mode):
        middle, depthwise_cache = self.parts[0].forward(params, x, norms, mode)
        out, pointwise_cache = self.parts[1].forward(params, middle, norms, mode)
        return out, (depthwise_cache, pointwise_cache)

    def backward(self, dout, cache, need_dx):
        dmiddle, pointwise_grads = self.parts[1].backward(dout, cache[1], True)
        dx, depthwise_grads = self.parts[0].backward(dmiddle, cache[0], need_dx)
        return dx, {**depthwise_grads, **pointwise_grads}

    def describe(self):
        return (f"separable block: depthwise {self.size}x{self.size}" + (f" stride {self.stride}" if self.stride > 1
                                                                          else "")
                + f", then 1x1 to {self.filters} filters" + (f", {self.normalization}" if self.normalization else ""))

    def inference(self, params, norms, cast):
        return (*self.parts[0].inference(params, norms, cast), *self.parts[1].inference(params, norms, cast))


_NORMS = {"batchnorm": (spatial_batchnorm_forward, spatial_batchnorm_backward),
          "groupnorm": (spatial_groupnorm_forward, spatial_groupnorm_backward)}


@dataclass(frozen=True)
class UpBlock(Op):
    """A transposed conv of 2x2 filters at stride 2, which doubles the height and width, then the norm and a
    ReLU: ``(N, C, H, W) -> (N, filters, 2H, 2W)``, as a decoder grows a feature map back.

    Params ``W{suffix} (C, filters, 2, 2)`` (a transposed convolution's layout), ``b{suffix} (filters,)``
    and with a norm ``gamma{suffix}``, ``beta{suffix}``.
    """

    suffix: str
    filters: int
    normalization: str = None
    num_groups: int = 1
    label: str = "the upsampling block"

    def plan(self, where, in_shape):
        channels, height, width = in_shape
        if self.normalization == "groupnorm" and self.filters % self.num_groups:
            raise ValueError(f"{where}: num_groups={self.num_groups} does not divide the {self.filters} filters "
                             f"of {self.label}; choose num_groups that divides every block's filters")
        params = _conv_params(self.suffix, self.filters, channels, 2, self.normalization)
        params[f"W{self.suffix}"] = (channels, self.filters, 2, 2)
        norms = () if self.normalization is None else (self.filters if self.normalization == "batchnorm" else None,)
        return Plan((self.filters, 2 * height, 2 * width), params, norms, channels * self.filters * 4 * height * width)

    def forward(self, params, x, norms, mode):
        s = self.suffix
        out, conv_cache = conv_transpose_forward_fast(x, params[f"W{s}"], params[f"b{s}"], {"stride": 2})
        norm_cache = None
        if self.normalization == "batchnorm":
            out, norm_cache = spatial_batchnorm_forward(out, params[f"gamma{s}"], params[f"beta{s}"], next(norms))
        elif self.normalization == "groupnorm":
            out, norm_cache = spatial_groupnorm_forward(out, params[f"gamma{s}"], params[f"beta{s}"], self.num_groups,
                                                        next(norms))
        out, relu_cache = relu_forward(out)
        return out, (conv_cache, norm_cache, relu_cache)

    def backward(self, dout, cache, need_dx):
        conv_cache, norm_cache, relu_cache = cache
        s, grads = self.suffix, {}
        dout = relu_backward(dout, relu_cache)
        if self.normalization is not None:
            dout, grads[f"gamma{s}"], grads[f"beta{s}"] = _NORMS[self.normalization][1](dout, norm_cache)
        dx, grads[f"W{s}"], grads[f"b{s}"] = conv_transpose_backward_fast(dout, conv_cache, need_dx)
        return dx, grads

    def describe(self):
        return " - ".join(part for part in (f"transposed conv 2x2 stride 2, {self.filters} filters", self.normalization,
                                            "relu") if part)

    def inference(self, params, norms, cast):
        s = self.suffix
        ops = [inference.ConvTranspose(s, cast(params[f"W{s}"]), cast(params[f"b{s}"]), 2)]
        if self.normalization is not None:
            ops.append(inference_norm(self.normalization, params, s, next(norms), cast, self.num_groups))
        return (*ops, inference.ReLU())
