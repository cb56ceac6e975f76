"""PyTorch interchange: ``to_torch`` turns any tinyconv model into an ``nn.Module``, ``from_torch`` turns an
``nn.Sequential`` into a ConvNet.

``to_torch(model)`` builds an ``nn.Sequential`` of standard layers (a residual block becomes a
:class:`ResidualBlock` of them) with the model's weights, in its dtype, in eval mode: its outputs are
``model.loss(X)``. Training it further works as in tinyconv except for one detail of batch norm: PyTorch
updates the running variance with the unbiased batch variance, tinyconv with the biased one (both average
with the same weight: PyTorch's momentum 0.1 is tinyconv's 0.9).

``from_torch(module, input_shape)`` reads the ``nn.Sequential`` layer by layer as a ConvNet spec, then fills
that ConvNet's arrays through its op list, each primitive from the layer it stands for (the pairing
``to_torch`` uses the other way):

- conv blocks ``Conv2d, [BatchNorm2d | GroupNorm], ReLU, [MaxPool2d | AvgPool2d]`` (``cN``, ``cNp``,
  ``cNa``, and ``cNdD`` for a conv dilated by D), :class:`ResidualBlock` modules (``rN``, ``rNp``),
  depthwise-separable blocks ``Conv2d(C, C, k, groups=C, stride 1 or 2), [norm], ReLU, Conv2d(C, F, 1),
  [norm], ReLU`` (``sN``, ``sNp``) and upsampling blocks ``ConvTranspose2d(C, F, 2, stride=2), [norm],
  ReLU`` (``uN``);
- then ``Flatten``, or ``AdaptiveAvgPool2d(1), Flatten`` (``g``);
- then ``Linear, ReLU`` (``fN``) and ``Dropout`` (``dP``) in any order, and the classifier ``Linear`` last.

The layers must be exactly what a ConvNet computes: one odd filter size for every conv but the 1x1 ones of
separable blocks and residual shortcuts, stride 1 (2 in a separable block's depthwise conv), padding
``dilation * (k - 1) // 2`` (or ``'same'``), a bias, groups only in a depthwise conv; pools of 2x2 windows
at stride 2 without padding; batch norms with eps 1e-5, momentum 0.1, a weight, a bias and running
statistics; group norms with eps 1e-5, a weight, a bias and one number of groups throughout; every conv block
with the same normalization (batch norm where there are residual blocks); Linear layers with biases; every
parameter in float32 or float64, one dtype throughout. Anything else is refused with a ValueError that names
the layer and the setting, never approximated.
"""

try:
    import torch
    from torch import nn
except ImportError as error:
    raise ImportError("tinyconv.interop.to_torch and from_torch need PyTorch: pip install torch") from error

import numpy as np

from tinyconv import _checks
from tinyconv.interop import _walk
from tinyconv.models import ConvNet

_EPS = 1e-5
_BATCHNORM_MOMENTUM = 0.1  # PyTorch's name for tinyconv's momentum 0.9: the weight of the new batch
_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


class ResidualBlock(nn.Module):
    """tinyconv's residual basic block (the ``rN`` and ``rNp`` spec tokens): ``relu(body(x) + shortcut(x))``.

    Parameters
    ----------
    body : nn.Sequential
        ``Conv2d(C, F, k, stride, (k - 1) // 2), BatchNorm2d(F), ReLU(), Conv2d(F, F, k, 1, (k - 1) // 2),
        BatchNorm2d(F)`` with stride 1, or 2 to halve the spatial size (to ``floor((H - 1) / 2) + 1``).
    shortcut : None or nn.Sequential
        None for the identity (when C == F at stride 1), else ``Conv2d(C, F, 1, stride), BatchNorm2d(F)``.

    Maps ``(N, C, H, W)`` to ``(N, F, H_out, W_out)``.
    """

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = body
        self.shortcut = nn.Identity() if shortcut is None else shortcut

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


# --- tinyconv to PyTorch ------------------------------------------------------------------------------------


def to_torch(model):
    """An ``nn.Module`` computing ``model.loss(X)``'s scores, with the model's weights, in its dtype, in eval mode.

    Parameters
    ----------
    model : ThreeLayerConvNet, FullyConnectedNet, TwoLayerNet or ConvNet

    Returns
    -------
    nn.Sequential
        Maps ``(N, C, H, W)`` (a fully connected net: ``(N, d1, ..., dk)``, flattened first) to scores
        ``(N, num_classes)``. Its tensors are copies: changing them leaves the model alone. Building it
        draws nothing from PyTorch's random generator.
    """
    _walk.check_model("to_torch", model)
    dtype = np.dtype(model.dtype)
    return _sequential(_walk.operations("to_torch", model, dtype), _torch_dtype(dtype)).eval()


def _torch_dtype(dtype):
    return {np.dtype(numpy): torch_dtype for torch_dtype, numpy in _DTYPES.items()}[np.dtype(dtype)]


def _sequential(ops, dtype):
    return nn.Sequential(*(_MODULES[type(op)](op, dtype) for op in ops))


def _state_arrays(op):
    """The arrays of primitive ``op`` as the state dict of the module it becomes names them (a Linear's weight
    is the transpose of tinyconv's): ``to_torch`` copies them into the module, ``from_torch`` out of it."""
    if isinstance(op, (_walk.Conv, _walk.ConvTranspose, _walk.Affine)):
        return {"weight": op.weight.T if isinstance(op, _walk.Affine) else op.weight, "bias": op.bias}
    arrays = {"weight": op.gamma, "bias": op.beta}
    if isinstance(op, _walk.BatchNorm):
        arrays.update(running_mean=op.mean, running_var=op.var)
    return arrays


def _filled(module, op, **more):
    """``module``, built on the meta device (so that nothing was initialized or drawn), moved to the CPU
    holding the arrays of primitive ``op`` and ``more``: one array for every entry of its state dict."""
    module = module.to_empty(device="cpu")
    state, values = module.state_dict(), {**_state_arrays(op), **more}
    if set(values) != set(state):  # a module built otherwise than its walk describes: a bug here, not the caller's
        raise RuntimeError(f"{type(module).__name__}: values for {sorted(values)}, state {sorted(state)}")
    with torch.no_grad():
        for name, value in values.items():
            state[name].copy_(torch.as_tensor(np.asarray(value)))
    return module


def _conv_module(op, dtype):
    filters, per_group, size, _ = op.weight.shape
    return _filled(nn.Conv2d(per_group * op.groups, filters, size, stride=op.stride, padding=op.pad,
                             dilation=op.dilation, groups=op.groups, device="meta", dtype=dtype), op)


def _conv_transpose_module(op, dtype):
    channels, filters, size, _ = op.weight.shape
    return _filled(nn.ConvTranspose2d(channels, filters, size, stride=op.stride, device="meta", dtype=dtype), op)


def _batchnorm_module(op, dtype):
    kind = nn.BatchNorm2d if op.spatial else nn.BatchNorm1d
    module = kind(len(op.gamma), eps=op.eps, momentum=_BATCHNORM_MOMENTUM, device="meta", dtype=dtype)
    return _filled(module, op, num_batches_tracked=np.array(0))


def _groupnorm_module(op, dtype):
    return _filled(nn.GroupNorm(op.groups, len(op.gamma), eps=op.eps, device="meta", dtype=dtype), op)


def _layernorm_module(op, dtype):
    return _filled(nn.LayerNorm(len(op.gamma), eps=op.eps, device="meta", dtype=dtype), op)


def _affine_module(op, dtype):
    inputs, outputs = op.weight.shape
    return _filled(nn.Linear(inputs, outputs, device="meta", dtype=dtype), op)


def _residual_module(op, dtype):
    return ResidualBlock(_sequential(op.body, dtype), _sequential(op.shortcut, dtype) if op.shortcut else None)


_MODULES = {
    _walk.Conv: _conv_module,
    _walk.ConvTranspose: _conv_transpose_module,
    _walk.BatchNorm: _batchnorm_module,
    _walk.GroupNorm: _groupnorm_module,
    _walk.LayerNorm: _layernorm_module,
    _walk.ReLU: lambda op, dtype: nn.ReLU(),
    _walk.Pool: lambda op, dtype: (nn.MaxPool2d if op.kind == "max" else nn.AvgPool2d)(2, 2),
    _walk.GlobalAvgPool: lambda op, dtype: nn.AdaptiveAvgPool2d(1),
    _walk.Flatten: lambda op, dtype: nn.Flatten(),
    _walk.Affine: _affine_module,
    _walk.Dropout: lambda op, dtype: nn.Dropout(1 - op.keep),
    _walk.Residual: _residual_module,
}


# --- PyTorch to tinyconv ------------------------------------------------------------------------------------

_SUPPORTED = (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.GroupNorm, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d,
              nn.AdaptiveAvgPool2d, nn.Flatten, nn.Linear, nn.Dropout, ResidualBlock)
_CONV_BLOCK = "a conv block is Conv2d, [BatchNorm2d | GroupNorm], ReLU, [MaxPool2d | AvgPool2d]"
_SEPARABLE_BLOCK = ("a separable block is Conv2d(C, C, k, groups=C), [BatchNorm2d | GroupNorm], ReLU, Conv2d(C, F, 1), "
                    "[BatchNorm2d | GroupNorm], ReLU")
_RESIDUAL_BODY = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d)
_NORMALIZATION_NAMES = {None: "no normalization", "batchnorm": "BatchNorm2d", "groupnorm": "GroupNorm"}


def from_torch(module, input_shape):
    """The ConvNet that computes what ``module`` computes in eval mode, with its weights, in its dtype.

    Parameters
    ----------
    module : nn.Sequential
        Layers as the module docstring lists them, in an order a ConvNet spec can say; a
        :class:`ResidualBlock` (as :func:`to_torch` writes them) stands for a residual block.
    input_shape : tuple (C, H, W)
        The shape of one input, the ConvNet's ``input_dim``; every pool must meet an even height and width.

    Returns
    -------
    ConvNet
        Its spec, filter_size, normalization and num_groups say what ``module`` holds; its parameters and
        running statistics are copies of the module's.

    Raises
    ------
    TypeError
        ``module`` is not an ``nn.Sequential``, or ``input_shape`` not a tuple of three positive ints.
    ValueError
        For the first layer from_torch does not read, or the first layer or setting a ConvNet cannot express
        (the message names its index, its type and the setting), and for an ``input_shape`` the layers do
        not fit.
    """
    where = "from_torch"
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"{where}: module must be an nn.Sequential, got {type(module).__name__}")
    input_dim = _checks.image_shape(where, "input_shape", input_shape)
    layers = list(module)
    for index, layer in enumerate(layers):
        if type(layer) not in _SUPPORTED:
            raise ValueError(f"{where}: module[{index}] is {type(layer).__name__}, which a ConvNet has no counterpart "
                             f"for; from_torch reads {', '.join(kind.__name__ for kind in _SUPPORTED)} (exactly these "
                             "classes, not subclasses)")
        hooked = next((inner for inner in layer.modules() if inner._forward_hooks or inner._forward_pre_hooks), None)
        if hooked is not None:
            raise ValueError(f"{where}: module[{index}] ({type(layer).__name__}) has forward hooks on "
                             f"{type(hooked).__name__}, which may change what it computes; remove them first")
    return _Reader(where, layers, input_dim).convnet()


class _Reader:
    """Reads a Sequential's layers in order as ConvNet spec tokens, refusing what a ConvNet cannot express;
    :meth:`build` then fills the ConvNet's arrays from the layers through the model's op list."""

    _UNSET = object()

    def __init__(self, where, layers, input_dim):
        self.where, self.layers, self.input_dim = where, layers, input_dim
        self.index = 0
        self.tokens = []
        self.shape = input_dim  # (C, H, W) of the features, then (D,) once flattened
        self.size = self.size_label = None  # the filter size and the layer that set it
        self.normalization = self.normalization_label = self._UNSET
        self.groups = self.groups_label = None
        self.dtype = self.dtype_label = None

    # --- walking the layers ----------------------------------------------------------------------------

    def peek(self):
        return self.layers[self.index] if self.index < len(self.layers) else None

    def advance(self):
        """``(label, layer)`` of the next layer, which the caller has peeked at; moves past it."""
        layer = self.layers[self.index]
        self.index += 1
        return f"module[{self.index - 1}] ({type(layer).__name__})", layer

    def take(self, kinds, expected):
        """:meth:`advance`, if the next layer is one of ``kinds``; ``expected`` says what a ConvNet has there."""
        layer = self.peek()
        if layer is None:
            raise ValueError(f"{self.where}: the module ends where a ConvNet has {expected}")
        if type(layer) not in kinds:
            raise ValueError(f"{self.where}: module[{self.index}] ({type(layer).__name__}) comes where a ConvNet "
                             f"has {expected}")
        return self.advance()

    def refuse(self, label, setting, wanted):
        raise ValueError(f"{self.where}: {label} has {setting}, but {wanted}")

    def convnet(self):
        features = "Conv2d, ConvTranspose2d or ResidualBlock"
        blocks = {nn.Conv2d: self.conv_block, nn.ConvTranspose2d: self.up_block, ResidualBlock: self.residual_block}
        while type(self.peek()) in blocks or not self.tokens:
            label, layer = self.take(tuple(blocks), f"{features} (a ConvNet starts with a conv block)")
            if type(layer) is nn.Conv2d and layer.groups > 1:
                self.separable_block(label, layer)
            else:
                blocks[type(layer)](label, layer)
        expected = f"{features}, AdaptiveAvgPool2d(1) or Flatten"
        if type(self.peek()) is nn.AdaptiveAvgPool2d:
            label, pool = self.take((nn.AdaptiveAvgPool2d,), expected)
            if _pair(pool.output_size) != (1, 1):
                self.refuse(label, f"output_size={pool.output_size!r}", "a ConvNet pools globally to 1x1 ('g')")
            self.tokens.append("g")
            self.shape = (self.shape[0], 1, 1)
            expected = "Flatten"
        label, flatten = self.take((nn.Flatten,), expected)
        if (flatten.start_dim, flatten.end_dim) != (1, -1):
            self.refuse(label, f"start_dim={flatten.start_dim}, end_dim={flatten.end_dim}",
                        "a ConvNet flattens everything but the batch (start_dim=1, end_dim=-1)")
        self.shape = (int(np.prod(self.shape)),)
        return self.head()

    def head(self):
        """The hidden layers, dropout and the classifier, after the flatten; returns the ConvNet."""
        expected = ("Linear or Dropout (after the flatten a ConvNet has hidden layers Linear, ReLU, dropout and "
                    "the classifier Linear)")
        while True:
            label, layer = self.take((nn.Linear, nn.Dropout), expected)
            if type(layer) is nn.Dropout:
                if layer.p == 1:
                    self.refuse(label, "p=1", "a ConvNet's dropout keeps each unit with a probability above 0")
                self.tokens.append(f"d{np.format_float_positional(1 - layer.p, trim='-')}")
                continue
            classifier = self.peek() is None
            self.linear(label, layer)
            if classifier:
                return self.build(layer.out_features)
            self.take((nn.ReLU,), f"ReLU after {label}: a hidden layer is Linear, ReLU, and only the last Linear, "
                                  "the classifier, has no ReLU")
            self.tokens.append(f"f{layer.out_features}")

    # --- layers ------------------------------------------------------------------------------------------

    def norm_relu(self, label, block):
        """The [BatchNorm2d | GroupNorm], ReLU after the conv of ``label``; ``block`` says what the block is."""
        normalization = {nn.BatchNorm2d: "batchnorm", nn.GroupNorm: "groupnorm"}.get(type(self.peek()))
        if normalization is not None:
            norm_label, norm = self.advance()
        self.take((nn.ReLU,), f"{'ReLU' if normalization else 'BatchNorm2d, GroupNorm or ReLU'} ({block})")
        self.use_normalization(label, normalization)
        if normalization is not None:
            self.norm(norm_label, norm)

    def conv_block(self, label, conv):
        size = self.filter_size(label, conv)
        dilation = conv.dilation[0]
        if conv.dilation[1] != dilation:
            self.refuse(label, f"dilation={conv.dilation}", "a ConvNet dilates both axes alike ('cNdD')")
        self.conv(label, conv, size, 1, dilation * (size - 1) // 2, dilation=dilation)
        self.norm_relu(label, _CONV_BLOCK)
        token = f"c{conv.out_channels}" + (f"d{dilation}" if dilation > 1 else "")
        if type(self.peek()) in (nn.MaxPool2d, nn.AvgPool2d):
            pool_label, pool = self.advance()
            self.pool(pool_label, pool)
            token += "p" if type(pool) is nn.MaxPool2d else "a"
        self.tokens.append(token)

    def separable_block(self, label, depthwise):
        """Conv2d(C, C, k, stride 1 or 2, groups=C), [norm], ReLU, Conv2d(C, F, 1), [norm], ReLU: 'sF' or 'sFp'."""
        channels, stride = self.shape[0], depthwise.stride[0]
        if depthwise.groups != channels or depthwise.out_channels != channels:
            self.refuse(label, f"groups={depthwise.groups} and out_channels={depthwise.out_channels}",
                        f"a ConvNet's grouped conv is a separable block's depthwise conv, with groups and "
                        f"out_channels both the {channels} input channels")
        if stride not in (1, 2):
            self.refuse(label, f"stride={depthwise.stride}", "a separable block's depthwise conv runs at stride 1, "
                                                             "or 2 to halve the size ('sNp')")
        size = self.filter_size(label, depthwise)
        if stride == 2 and size == 1:
            self.refuse(label, "a 1x1 filter at stride 2", "a separable block strides filters of 3 or more")
        self.conv(label, depthwise, size, stride, (size - 1) // 2, channels, groups=channels)
        block = f"{_SEPARABLE_BLOCK}: {label} is its depthwise conv"
        self.norm_relu(label, block)
        pointwise_label, pointwise = self.take((nn.Conv2d,), f"the 1x1 Conv2d of a separable block ({block})")
        self.conv(pointwise_label, pointwise, 1, 1, 0)
        self.norm_relu(pointwise_label, _SEPARABLE_BLOCK)
        self.tokens.append(f"s{pointwise.out_channels}{'p' if stride == 2 else ''}")

    def up_block(self, label, conv):
        """ConvTranspose2d(C, F, 2, stride=2), [norm], ReLU: 'uF'."""
        channels, height, width = self.shape
        settings = [("kernel_size", conv.kernel_size, (2, 2)), ("stride", conv.stride, (2, 2)),
                    ("padding", conv.padding, (0, 0)), ("output_padding", conv.output_padding, (0, 0)),
                    ("dilation", conv.dilation, (1, 1)), ("groups", conv.groups, 1),
                    ("padding_mode", conv.padding_mode, "zeros")]
        for name, value, wanted in settings:
            if value != wanted:
                self.refuse(label, f"{name}={value!r}", f"a ConvNet's transposed conv doubles the size with 2x2 "
                                                        f"filters at stride 2 ({name}={wanted!r})")
        if conv.bias is None:
            self.refuse(label, "bias=False", "a ConvNet's convs have biases")
        if conv.in_channels != channels:
            self.refuse(label, f"in_channels={conv.in_channels}", f"its input has {channels} channels")
        self.check_dtype(label, conv.weight, conv.bias)
        self.shape = (conv.out_channels, 2 * height, 2 * width)
        self.norm_relu(label, "an upsampling block is ConvTranspose2d(C, F, 2, stride=2), [BatchNorm2d | GroupNorm], "
                              "ReLU")
        self.tokens.append(f"u{conv.out_channels}")

    def residual_block(self, label, block):
        body, shortcut = block.body, block.shortcut
        kinds = tuple(type(layer) for layer in body) if type(body) is nn.Sequential else None
        if kinds != _RESIDUAL_BODY:
            found = "not an nn.Sequential" if kinds is None else ", ".join(kind.__name__ for kind in kinds)
            self.refuse(f"{label}.body", f"the layers {found}", "a residual block's body is Conv2d, BatchNorm2d, "
                                                                 "ReLU, Conv2d, BatchNorm2d")
        self.use_normalization(label, "batchnorm")
        block_input = self.shape
        channels, filters, stride = block_input[0], body[0].out_channels, body[0].stride[0]
        if stride not in (1, 2):
            self.refuse(f"{label}.body[0] (Conv2d)", f"stride={body[0].stride}",
                        "a residual block runs at stride 1, or 2 to halve the size ('rNp')")
        size = self.filter_size(f"{label}.body[0] (Conv2d)", body[0])
        pad = (size - 1) // 2
        self.conv(f"{label}.body[0] (Conv2d)", body[0], size, stride, pad)
        self.norm(f"{label}.body[1] (BatchNorm2d)", body[1])
        self.conv(f"{label}.body[3] (Conv2d)", body[3], size, 1, pad, filters)
        self.norm(f"{label}.body[4] (BatchNorm2d)", body[4])
        projects = stride != 1 or channels != filters
        if type(shortcut) is nn.Identity:
            if projects:
                self.refuse(f"{label}.shortcut", "the identity", f"the block changes the shape ({channels} to "
                            f"{filters} channels at stride {stride}), so a ConvNet projects: nn.Sequential(Conv2d("
                            f"{channels}, {filters}, 1, stride={stride}), BatchNorm2d({filters}))")
        elif type(shortcut) is nn.Sequential and tuple(map(type, shortcut)) == (nn.Conv2d, nn.BatchNorm2d):
            if not projects:
                self.refuse(f"{label}.shortcut", "a projection", "the block keeps the shape, where a ConvNet's "
                            "shortcut is the identity (shortcut=None)")
            self.shape = block_input  # the shortcut reads the block's input
            self.conv(f"{label}.shortcut[0] (Conv2d)", shortcut[0], 1, stride, 0, filters)
            self.norm(f"{label}.shortcut[1] (BatchNorm2d)", shortcut[1])
        else:
            self.refuse(f"{label}.shortcut", f"a {type(shortcut).__name__}", "a residual block's shortcut is None "
                        "(the identity) or nn.Sequential(Conv2d(C, F, 1, stride), BatchNorm2d(F))")
        self.tokens.append(f"r{filters}{'p' if stride == 2 else ''}")

    def filter_size(self, label, conv):
        """The ConvNet's one filter size, which the first conv sets and every other conv must have."""
        height, width = conv.kernel_size
        if self.size is None:
            if height != width or height % 2 == 0:
                self.refuse(label, f"kernel_size={conv.kernel_size}", "a ConvNet's filters are square and of odd size")
            self.size, self.size_label = height, label
        elif (height, width) != (self.size, self.size):
            self.refuse(label, f"kernel_size={conv.kernel_size}",
                        f"a ConvNet has one filter size, and {self.size_label} has {self.size}")
        return self.size

    def conv(self, label, conv, size, stride, pad, filters=None, dilation=1, groups=1):
        """Check a Conv2d of a ``size`` x ``size`` kernel at ``stride`` with padding ``pad``, ``dilation`` and
        ``groups`` (and ``filters`` output channels where the block fixes them)."""
        channels, height, width = self.shape
        padding = conv.padding
        if isinstance(padding, str):  # 'valid' is no padding, 'same' (stride 1 only) is (k - 1) // 2 for odd k
            padding = (0, 0) if padding == "valid" else tuple(d * (k - 1) // 2 for k, d in zip(conv.kernel_size,
                                                                                            conv.dilation))
        settings = [
            ("kernel_size", conv.kernel_size, (size, size)),
            ("dilation", conv.dilation, (dilation, dilation)),
            ("groups", conv.groups, groups),
            ("stride", conv.stride, (stride, stride)),
            ("padding", padding, (pad, pad)),
            ("padding_mode", conv.padding_mode, "zeros"),
        ]
        for name, value, wanted in settings:
            if value != wanted:
                self.refuse(label, f"{name}={value!r}", f"a ConvNet's conv there has {name}={wanted!r}")
        if conv.bias is None:
            self.refuse(label, "bias=False", "a ConvNet's convs have biases")
        if filters is not None and conv.out_channels != filters:
            self.refuse(label, f"out_channels={conv.out_channels}", f"the residual block adds it to {filters} channels")
        if conv.in_channels != channels:
            reads_the_input = not self.tokens and self.shape == self.input_dim
            self.refuse(label, f"in_channels={conv.in_channels}", f"its input has {channels} channels"
                        + (f" (input_shape {self.input_dim})" if reads_the_input else ""))
        self.check_dtype(label, conv.weight, conv.bias)
        reach = dilation * (size - 1) + 1
        height, width = ((height + 2 * pad - reach) // stride + 1, (width + 2 * pad - reach) // stride + 1)
        self.shape = (conv.out_channels, height, width)

    def use_normalization(self, label, normalization):
        """Every conv block of a ConvNet has the same normalization (batch norm where there are residual blocks)."""
        if self.normalization is self._UNSET:
            self.normalization, self.normalization_label = normalization, label
        elif normalization != self.normalization:
            self.refuse(label, _NORMALIZATION_NAMES[normalization],
                        f"{self.normalization_label} has {_NORMALIZATION_NAMES[self.normalization]}, and a ConvNet "
                        "normalizes every conv block alike (with BatchNorm2d where it has residual blocks)")

    def norm(self, label, norm):
        """Check a BatchNorm2d or GroupNorm of the current channels."""
        channels = self.shape[0]
        if type(norm) is nn.BatchNorm2d:
            settings = [("num_features", norm.num_features, channels), ("eps", norm.eps, _EPS),
                        ("momentum", norm.momentum, _BATCHNORM_MOMENTUM), ("affine", norm.affine, True),
                        ("track_running_stats", norm.track_running_stats, True)]
        else:
            if self.groups is None:
                self.groups, self.groups_label = norm.num_groups, label
            settings = [("num_channels", norm.num_channels, channels), ("eps", norm.eps, _EPS),
                        ("affine", norm.affine, True), ("num_groups", norm.num_groups, self.groups)]
        for name, value, wanted in settings:
            if value != wanted:
                why = f"a ConvNet has one num_groups, and {self.groups_label} has {wanted}" if name == "num_groups" \
                    else f"a ConvNet's normalization there has {name}={wanted!r}"
                self.refuse(label, f"{name}={value!r}", why)
        if norm.bias is None:
            self.refuse(label, "bias=False", "a ConvNet's normalizations have a weight and a bias")
        statistics = (norm.running_mean, norm.running_var) if type(norm) is nn.BatchNorm2d else ()
        self.check_dtype(label, norm.weight, norm.bias, *statistics)

    def pool(self, label, pool):
        """Check a 2x2, stride-2 MaxPool2d or AvgPool2d on an even feature map."""
        settings = [("kernel_size", _pair(pool.kernel_size), (2, 2)), ("stride", _pair(pool.stride), (2, 2)),
                    ("padding", _pair(pool.padding), (0, 0)), ("ceil_mode", pool.ceil_mode, False)]
        if type(pool) is nn.MaxPool2d:
            settings += [("dilation", _pair(pool.dilation), (1, 1)), ("return_indices", pool.return_indices, False)]
        else:
            settings += [("divisor_override", pool.divisor_override, None)]
        for name, value, wanted in settings:
            if value != wanted:
                self.refuse(label, f"{name}={value!r}", f"a ConvNet pools 2x2 windows at stride 2 without padding "
                            f"({name}={wanted!r})")
        channels, height, width = self.shape
        if height % 2 or width % 2:
            self.refuse(label, f"a {height}x{width} input for input_shape {self.input_dim}",
                        "a ConvNet pools only even sizes (PyTorch would drop the last row or column); choose an "
                        "input shape that is even at every pool")
        self.shape = (channels, height // 2, width // 2)

    def linear(self, label, linear):
        """Check a hidden or the classifier Linear on the current features."""
        if linear.bias is None:
            self.refuse(label, "bias=False", "a ConvNet's affine layers have biases")
        if linear.in_features != self.shape[0]:
            self.refuse(label, f"in_features={linear.in_features}", f"its input has {self.shape[0]} features for "
                        f"input_shape {self.input_dim}")
        self.check_dtype(label, linear.weight, linear.bias)
        self.shape = (linear.out_features,)

    def check_dtype(self, label, *tensors):
        """Each of a layer's ``tensors`` must have the dtype of every other (float32 or float64)."""
        for tensor in tensors:
            if tensor.dtype not in _DTYPES:
                self.refuse(label, f"a {tensor.dtype} tensor", "a ConvNet is float32 or float64")
            if self.dtype is None:
                self.dtype, self.dtype_label = tensor.dtype, label
            elif tensor.dtype != self.dtype:
                self.refuse(label, f"a {tensor.dtype} tensor", f"{self.dtype_label} has {self.dtype}, and a ConvNet "
                            "has one dtype")

    def build(self, num_classes):
        """The ConvNet of the tokens read, its arrays copied from the layers: each primitive of its op list
        (``_walk.operations``, the model's own arrays) takes the state of the layer it stands for, as
        :func:`_state_arrays` pairs them for ``to_torch``."""
        config = {"input_dim": list(self.input_dim), "spec": "-".join(self.tokens), "filter_size": self.size or 3,
                  "num_classes": num_classes, "normalization": self.normalization,
                  "num_groups": self.groups or 2, "dtype": np.dtype(_DTYPES[self.dtype]).name}
        model = ConvNet.zeros(config)
        primitives = [op for op in _flattened(_walk.operations(self.where, model)) if type(op) in _STATEFUL]
        modules = [layer for layer in _flattened(self.layers) if type(layer) in _STATEFUL.values()]
        if [_STATEFUL[type(op)] for op in primitives] != [type(layer) for layer in modules]:
            raise RuntimeError(f"{self.where}: read {[type(m).__name__ for m in modules]} as a ConvNet of "
                               f"{[type(op).__name__ for op in primitives]}")  # a bug of the reader
        for op, layer in zip(primitives, modules):
            state = layer.state_dict()
            for name, array in _state_arrays(op).items():
                value = state[name].detach().cpu().numpy()
                if value.shape != array.shape:  # np.copyto would broadcast: a bug of the reader
                    raise RuntimeError(f"{self.where}: {type(layer).__name__}.{name} {value.shape} into {array.shape}")
                np.copyto(array, value)
        return model


# The primitives with arrays, and the layer each stands for in a ConvNet's Sequential.
_STATEFUL = {_walk.Conv: nn.Conv2d, _walk.ConvTranspose: nn.ConvTranspose2d, _walk.BatchNorm: nn.BatchNorm2d,
             _walk.GroupNorm: nn.GroupNorm, _walk.Affine: nn.Linear}


def _flattened(items):
    """Primitives or layers in the order of their arrays, a residual block's body before its shortcut."""
    for item in items:
        if isinstance(item, _walk.Residual):
            yield from _flattened((*item.body, *item.shortcut))
        elif isinstance(item, ResidualBlock):
            yield from _flattened((*item.body, *(item.shortcut if isinstance(item.shortcut, nn.Sequential) else ())))
        else:
            yield item


def _pair(value):
    """A PyTorch size argument (an int or a pair) as a pair."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)
