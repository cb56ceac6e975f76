"""The ops over feature maps (N, C, H, W): conv blocks, residual blocks and global average pooling."""

import math
from dataclasses import dataclass

from tinyconv.layers import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    conv_block_max_pool_backward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_gn_relu_backward,
    conv_gn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_forward_fast,
    residual_block_backward,
    residual_block_forward,
)
from tinyconv.layers._windows import floor_padding
from tinyconv.ops import inference
from tinyconv.ops._op import Op, Plan, inference_norm, norm_names

# The 2x2 max or average pool, stride 2, of the conv blocks.
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}
_BLOCKS = {
    None: (conv_relu_forward, conv_relu_backward),
    "batchnorm": (conv_bn_relu_forward, conv_bn_relu_backward),
    "groupnorm": (conv_gn_relu_forward, conv_gn_relu_backward),
}


def pooled_size(where, name, size, label):
    """The size after a 2x2, stride-2 pool, which needs an even input size."""
    if size % 2:
        raise ValueError(f"{where}: {label} pools a feature map of {name} {size}, but 2x2 pooling needs an "
                         "even size; remove that pool or change input_dim")
    return size // 2


def _conv_params(suffix, filters, channels, size, normalization):
    """The shapes of a conv's parameters (``channels`` per filter) and of its norm's."""
    shapes = {f"W{suffix}": (filters, channels, size, size), f"b{suffix}": (filters,)}
    if normalization is not None:
        shape = (1, filters, 1, 1) if normalization == "groupnorm" else (filters,)
        shapes.update({f"gamma{suffix}": shape, f"beta{suffix}": shape})
    return shapes


@dataclass(frozen=True)
class ConvBlock(Op):
    """conv - [batchnorm | groupnorm] - relu - [2x2 max | avg pool].

    The conv is ``size x size`` with taps ``dilation`` apart, padded by ``dilation * (size - 1) // 2`` on
    every side (the size is kept for odd sizes at stride 1; at stride 2 the output is PyTorch's,
    ``(H - 1) // 2 + 1`` for odd sizes), over all channels, or with ``depthwise`` over each channel alone
    (groups = C, as many filters as channels). ``(N, C, H, W) -> (N, filters, H', W')``, halved by the pool.
    Params ``W{suffix} (filters, C or 1, size, size)``, ``b{suffix} (filters,)`` and with a norm
    ``gamma{suffix}``, ``beta{suffix}`` (``(filters,)``, or ``(1, filters, 1, 1)`` for groupnorm).
    """

    suffix: str
    filters: int  # None for a depthwise conv: as many as the input has channels
    size: int
    normalization: str = None  # None, 'batchnorm' or 'groupnorm'
    num_groups: int = 1
    pool: str = ""  # '', 'max' or 'avg'
    label: str = "the conv block"  # how error messages name the block
    dilation: int = 1
    stride: int = 1
    depthwise: bool = False

    @property
    def _pad(self):
        return self.dilation * (self.size - 1) // 2

    def conv_param(self, channels, height, width):
        """The conv's parameters for an input of ``channels`` x ``height`` x ``width``."""
        param = {"stride": self.stride, "pad": self._pad}
        if self.stride > 1:  # a window that would hang over the last rows leaves them out, as PyTorch does
            reach = self.dilation * (self.size - 1) + 1
            param["pad"] = (*floor_padding(height, reach, self._pad, self.stride)[:2],
                            *floor_padding(width, reach, self._pad, self.stride)[:2])
        if self.dilation > 1:
            param["dilation"] = self.dilation
        if self.depthwise:
            param["groups"] = channels
        return param

    def _out_size(self, size):
        return (size + 2 * self._pad - self.dilation * (self.size - 1) - 1) // self.stride + 1

    def plan(self, where, in_shape):
        channels, height, width = in_shape
        filters = channels if self.depthwise else self.filters
        if self.normalization == "groupnorm" and filters % self.num_groups:
            raise ValueError(f"{where}: num_groups={self.num_groups} does not divide the {filters} filters "
                             f"of {self.label}; choose num_groups that divides every block's filters")
        if min(self._out_size(height), self._out_size(width)) < 1:
            raise ValueError(f"{where}: {self.label} dilates its {self.size}x{self.size} filters by {self.dilation} "
                             f"to {self.dilation * (self.size - 1) + 1} pixels, more than its {height}x{width} "
                             "input padded; use a smaller dilation or a larger input_dim")
        reach = self.dilation * (self.size - 1) + 1
        if any(floor_padding(size, reach, self._pad, self.stride)[2] for size in (height, width)):
            raise ValueError(f"{where}: {self.label} strides {self.size}x{self.size} filters by {self.stride} over a "
                             f"{height}x{width} input, which leaves a row or column its windows never reach and its "
                             "padding cannot drop; use filter_size 3 or more, or an input size the stride divides")
        height, width = self._out_size(height), self._out_size(width)
        per_filter = 1 if self.depthwise else channels
        multiply_adds = filters * per_filter * self.size ** 2 * height * width
        if self.pool:
            height = pooled_size(where, "height", height, self.label)
            width = pooled_size(where, "width", width, self.label)
        norms = () if self.normalization is None else (filters if self.normalization == "batchnorm" else None,)
        return Plan((filters, height, width),
                    _conv_params(self.suffix, filters, per_filter, self.size, self.normalization), norms,
                    multiply_adds)

    def forward(self, params, x, norms, mode):
        arrays = [params[name] for name in norm_names(params, self.suffix)]
        forward = _BLOCKS[self.normalization][0]
        conv_param = self.conv_param(*x.shape[1:])
        if self.normalization == "groupnorm":
            out, cache = forward(x, *arrays, self.num_groups, conv_param, next(norms))
        elif self.normalization == "batchnorm":
            out, cache = forward(x, *arrays, conv_param, next(norms))
        else:
            out, cache = forward(x, *arrays, conv_param)
        pool_cache = None
        if self.pool == "max":
            out, pool_cache = max_pool_forward_fast(out, POOL_PARAM)
        elif self.pool == "avg":
            out, pool_cache = avg_pool_forward_fast(out, POOL_PARAM)
        return out, (cache, pool_cache)

    def backward(self, dout, cache, need_dx):
        if self.pool == "max":  # ReLU's mask on the pooled side, and one activation-sized array
            dx, *arrays = conv_block_max_pool_backward(dout, cache, need_dx)
        else:
            cache, pool_cache = cache
            if self.pool == "avg":
                dout = avg_pool_backward_fast(dout, pool_cache)
            dx, *arrays = _BLOCKS[self.normalization][1](dout, cache, need_dx)
        names = ("W", "b", "gamma", "beta")[:len(arrays)]
        return dx, {f"{name}{self.suffix}": grad for name, grad in zip(names, arrays)}

    def describe(self):
        conv = f"depthwise conv {self.size}x{self.size}" if self.depthwise else \
            f"conv {self.size}x{self.size}, {self.filters} filters"
        parts = [conv + (f", dilation {self.dilation}" if self.dilation > 1 else "")
                 + (f", stride {self.stride}" if self.stride > 1 else ""), self.normalization, "relu",
                 f"2x2 {self.pool} pool" if self.pool else None]
        return " - ".join(part for part in parts if part)

    def inference(self, params, norms, cast):
        weight = cast(params[f"W{self.suffix}"])
        ops = [inference.Conv(self.suffix, weight, cast(params[f"b{self.suffix}"]), self.stride, self._pad,
                              self.dilation, weight.shape[0] if self.depthwise else 1)]
        if self.normalization is not None:
            ops.append(inference_norm(self.normalization, params, self.suffix, next(norms), cast, self.num_groups))
        ops.append(inference.ReLU())
        if self.pool:
            ops.append(inference.Pool(self.pool))
        return tuple(ops)


@dataclass(frozen=True)
class ResidualBlock(Op):
    """A basic residual block with batch norms: ``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``.

    ``(N, C, H, W) -> (N, filters, H', W')`` with ``H' = (H - 1) // stride + 1``. The shortcut is the
    identity, or a 1x1 conv at ``stride`` with a batch norm (``W{n}s, b{n}s, gamma{n}s, beta{n}s``) where
    the shape changes; the two convs are ``W{n}a, ...`` and ``W{n}b, ...`` of ``size x size``.
    """

    number: int
    filters: int
    size: int
    stride: int = 1

    @property
    def pad(self):
        return (self.size - 1) // 2

    def plan(self, where, in_shape):
        channels, height, width = in_shape
        n, filters = self.number, self.filters
        params = {**_conv_params(f"{n}a", filters, channels, self.size, "batchnorm"),
                  **_conv_params(f"{n}b", filters, filters, self.size, "batchnorm")}
        if self.stride != 1 or channels != filters:
            params.update(_conv_params(f"{n}s", filters, channels, 1, "batchnorm"))
        norms = (filters,) * (len(params) // 4)
        out_height, out_width = (height - 1) // self.stride + 1, (width - 1) // self.stride + 1
        # Each conv's filters times its window, at every output pixel: a, b and the projection s.
        per_pixel = sum(math.prod(shape[1:]) * shape[0] for name, shape in params.items() if name.startswith("W"))
        return Plan((filters, out_height, out_width), params, norms, per_pixel * out_height * out_width)

    def forward(self, params, x, norms, mode):
        n = self.number
        projected = f"W{n}s" in params
        block_param = {"stride": self.stride, "bn_params": [next(norms) for _ in range(2 + projected)]}
        projection = tuple(params[name] for name in norm_names(params, f"{n}s")) if projected else None
        return residual_block_forward(x, *(params[name] for name in norm_names(params, f"{n}a")),
                                      *(params[name] for name in norm_names(params, f"{n}b")),
                                      block_param, projection)

    def backward(self, dout, cache, need_dx):
        dx, *arrays = residual_block_backward(dout, cache, need_dx)
        names = [f"{name}{self.number}{part}" for part in "abs" for name in ("W", "b", "gamma", "beta")]
        return dx, dict(zip(names, arrays))

    def describe(self):
        return f"residual block, {self.filters} filters {self.size}x{self.size}" + (
            f", stride {self.stride}" if self.stride != 1 else "")

    def inference(self, params, norms, cast):
        n = self.number

        def conv_bn(part, stride, pad):
            suffix = f"{n}{part}"
            return (inference.Conv(suffix, cast(params[f"W{suffix}"]), cast(params[f"b{suffix}"]), stride, pad),
                    inference_norm("batchnorm", params, suffix, next(norms), cast))

        body = (*conv_bn("a", self.stride, self.pad), inference.ReLU(), *conv_bn("b", 1, self.pad))
        shortcut = conv_bn("s", self.stride, 0) if f"W{n}s" in params else ()
        return (inference.Residual(body, shortcut),)


@dataclass(frozen=True)
class GlobalAvgPool(Op):
    """``(N, C, H, W) -> (N, C)``: the mean of each feature map. No parameters."""

    def plan(self, where, in_shape):
        return Plan((in_shape[0],), {})

    def forward(self, params, x, norms, mode):
        return global_avg_pool_forward(x)

    def backward(self, dout, cache, need_dx):
        return global_avg_pool_backward(dout, cache), {}

    def describe(self):
        return "global average pool"

    def inference(self, params, norms, cast):
        return (inference.GlobalAvgPool(),)
