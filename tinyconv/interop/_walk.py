"""A tinyconv model in inference mode as a flat list of primitive operations, which the ONNX export and
``to_torch`` read.

The primitives are those of :mod:`tinyconv.ops.inference`; each op of the model lists its own
(:meth:`tinyconv.ops.Op.inference`), so what a model computes at inference is written once, beside its
forward and backward.
"""

from tinyconv._backend import to_numpy
from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet
from tinyconv.ops.inference import (  # noqa: F401 (the exports' vocabulary, read from here)
    Affine,
    BatchNorm,
    Conv,
    ConvTranspose,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GroupNorm,
    LayerNorm,
    Pool,
    ReLU,
    Residual,
)

_MODELS = (ThreeLayerConvNet, FullyConnectedNet, TwoLayerNet, ConvNet)


def input_shape(model):
    """The shape of one input without the batch: ``(C, H, W)`` for conv nets, ``(D,)`` for fully connected."""
    config = model.get_config()
    return tuple(config["input_dim"]) if isinstance(config["input_dim"], list) else (config["input_dim"],)


def check_model(where, model):
    """``model`` if it is an instance of one of the four tinyconv model classes themselves (TypeError if not:
    a subclass may compute something else)."""
    if type(model) not in _MODELS:
        raise TypeError(f"{where}: model must be one of {sorted(cls.__name__ for cls in _MODELS)} (the classes "
                        f"themselves, not subclasses), got {type(model).__module__}.{type(model).__qualname__}")
    return model


def operations(where, model, dtype=None):
    """The operations ``model.loss(X)`` performs on ``X`` to reach its scores, arrays copied in ``dtype``;
    with ``dtype`` None, the model's own arrays (or views of them), to be filled in place.

    A ``Flatten`` comes before the first op that sees each sample as a vector."""
    check_model(where, model)

    def cast(array):  # host copies: a model trained on a GPU has CuPy arrays
        return array if dtype is None else to_numpy(array).astype(dtype, copy=True)

    norms = iter(model.bn_params)  # one dict per normalization, in forward order, as the ops read them
    primitives, flattened = [], False
    for op in model.ops:
        if op.flat_input and not flattened:
            primitives.append(Flatten())
            flattened = True
        primitives.extend(op.inference(model.params, norms, cast))
    return primitives
