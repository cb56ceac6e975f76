"""ONNX export of tinyconv models, written with the onnx package's graph API (PyTorch is not needed).

The graph
---------
- Opset 21, the first at which GroupNormalization takes one scale and shift per channel as tinyconv's group
  norm does (onnxruntime runs it from 1.20 on); the IR version is the lowest that opset allows, so that older
  runtimes read the file.
- Input ``input``: float32 ``(N, C, H, W)`` with the batch size N left open, or ``(N, D)`` for a fully
  connected net whose metadata gives no image shape. Output ``scores``: float32 ``(N, num_classes)``, what
  ``model.loss(X)`` returns (a softmax over them gives probabilities).
- Inference mode: batch norms use their running statistics, dropout is left out.
- With a mean image in the metadata, the first node subtracts it (``Sub``): the graph then takes images as
  they were loaded, raw pixel values in ``metadata['input']['value_range']``. tinyconv's loaders subtract
  the mean in the model's dtype, and so does the graph.
- Initializers keep tinyconv's parameter names (``W1``, ``b1``, ``gamma2``, ``W3a``, ...); batch norm
  statistics are ``running_mean<suffix>`` and ``running_var<suffix>`` with the suffix of their ``gamma``,
  and the mean image is ``mean_image``.

Metadata (``metadata_props``; every value is JSON text, ``null`` where nothing was recorded)
------------------------------------------------------------------------------------------
- ``class_names``: the name of each score's class, in order;
- ``dataset``: the dataset the model was trained on;
- ``input``: the model file's description of an image (``tinyconv.recipes.ImageFormat``): ``channels``,
  ``height``, ``width``, ``value_range`` (e.g. ``[0, 255]``), ``background`` (``"dark"`` where the objects
  are light on a dark ground, ``null`` for photos) and ``fit`` (``"content"``, ``"pad"`` or ``"crop"``);
- ``mean_image_in_graph``: whether the graph subtracts the mean training image itself;
- ``preprocessing``: one sentence saying what to feed the graph;
- ``tinyconv_model``: ``{"class": ..., "config": ...}``, the model's class and constructor config;
- any other key of the metadata given, as given.
"""

import json

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as error:
    raise ImportError("tinyconv.interop.to_onnx needs the onnx package: pip install 'tinyconv[onnx]'") from error

from tinyconv import __version__, _checks
from tinyconv._files import atomic_write
from tinyconv.interop import _walk
from tinyconv.serialization import check_metadata

OPSET = 21
_WHERE = "to_onnx"
# Keys of a model file's metadata that the export reads; any other key is carried over as it is.
_READ_KEYS = ("class_names", "dataset", "input", "mean_image")


def to_onnx(model, path, metadata=None, dtype=None):
    """Write ``model`` as an ONNX graph (see the module docstring for the graph and its metadata).

    Parameters
    ----------
    model : ThreeLayerConvNet, FullyConnectedNet, TwoLayerNet or ConvNet
    path : str or os.PathLike
        The file to write, atomically: a reader sees the old file or the whole new one.
    metadata : dict, optional
        The model file's metadata, as ``tinyconv.serialization.load_metadata`` returns it: ``class_names``,
        ``dataset``, ``input`` (a dict with ``channels``, ``height``, ``width``, ``value_range``,
        ``background``) and ``mean_image`` (float ``(C, H, W)`` or None), each optional. Without it the
        graph takes inputs prepared as the training data was, and its metadata says so.
    dtype : None or float32
        The graph's dtype. onnxruntime's CPU backend has no float64 convolution, so graphs are float32:
        a float64 model is refused unless ``dtype='float32'`` asks for a float32 copy.

    Returns
    -------
    onnx.ModelProto
        The model written, which passed ``onnx.checker.check_model`` with full shape inference.
    """
    proto = onnx_model(model, metadata, dtype)
    with atomic_write(path) as file:
        file.write(proto.SerializeToString())
    return proto


def onnx_model(model, metadata=None, dtype=None):
    """The ``onnx.ModelProto`` that :func:`to_onnx` writes, without writing it."""
    _walk.check_model(_WHERE, model)
    dtype = _graph_dtype(model, dtype)
    shape, mean_image, props = _read_metadata(model, metadata)
    num_classes = model.get_config()["num_classes"]

    graph = _Graph()
    x = "input"
    if mean_image is not None:
        x = graph.node("Sub", [x, graph.constant("mean_image", mean_image)])
    for op in _walk.operations(_WHERE, model, dtype):
        x = graph.add(op, x)
    # The classifier's Gemm comes last and nothing reads its output: give it the graph output's name.
    graph.nodes[-1].output[0] = "scores"

    opsets = [helper.make_opsetid("", OPSET)]
    summary = f"{type(model).__name__} exported by tinyconv {__version__}: {json.loads(props['preprocessing'])}"
    proto = helper.make_model(
        helper.make_graph(
            graph.nodes,
            f"tinyconv {type(model).__name__}",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *shape])],
            [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", num_classes])],
            graph.initializers,
        ),
        opset_imports=opsets,
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name="tinyconv",
        producer_version=__version__,
        doc_string=summary,
    )
    helper.set_model_props(proto, props)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _graph_dtype(model, dtype):
    """float32, once the caller has agreed to it for a float64 model (a float64 graph would not run)."""
    if dtype is None:
        if np.dtype(model.dtype) != np.float32:
            raise ValueError(f"{_WHERE}: the model is {np.dtype(model.dtype).name}, and onnxruntime's CPU backend "
                             "has no float64 convolution; export a float32 copy with dtype='float32' (on the "
                             "command line: --dtype float32)")
        return np.float32
    if _checks.float_dtype(_WHERE, "dtype", dtype) is not np.float32:
        raise ValueError(f"{_WHERE}: dtype must be None or float32, got {_checks.describe(dtype)}: ONNX graphs are "
                         "exported in float32, since onnxruntime's CPU backend has no float64 convolution")
    return np.float32


def _read_metadata(model, metadata):
    """The graph's input shape without the batch, the mean image it subtracts (or None) and its
    ``metadata_props`` (key -> JSON text), from the model file's ``metadata``."""
    metadata = {} if metadata is None else metadata
    shape = check_metadata(_WHERE, model, metadata)
    class_names, dataset = metadata.get("class_names"), metadata.get("dataset")
    image, mean_image = metadata.get("input"), metadata.get("mean_image")

    props = {
        "class_names": None if class_names is None else list(class_names),
        "dataset": dataset,
        "input": image,
        "mean_image_in_graph": mean_image is not None,
        "preprocessing": _preprocessing(shape, image, mean_image, "mean_image" in metadata),
        "tinyconv_model": {"class": type(model).__name__, "config": model.get_config()},
    }
    for key, value in metadata.items():
        if key in _READ_KEYS:
            continue
        if not isinstance(key, str) or key in props:
            raise ValueError(f"{_WHERE}: metadata has the key {key!r}, which the export writes itself; the keys it "
                             f"reads are {list(_READ_KEYS)}, and any other string key is carried over")
        props[key] = value
    encoded = {}
    for key, value in props.items():
        try:
            encoded[key] = json.dumps(value, allow_nan=False, default=_plain)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{_WHERE}: metadata[{key!r}] cannot be written as JSON: {error}") from None
    return shape, mean_image, encoded


def _plain(value):
    """JSON for NumPy scalars (an int read from an array, say); anything else is refused."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{_checks.describe(value)} is not a JSON value")


def _preprocessing(shape, image, mean_image, mean_known):
    """What to feed the graph, in one sentence."""
    layout = f"(N, {', '.join(map(str, shape))})"
    value_range = (image or {}).get("value_range")
    values = f"raw pixel values in {json.dumps(value_range)}" if value_range is not None else "images as loaded"
    if mean_image is not None:
        return f"feed {layout} {values}; the graph subtracts the mean training image itself"
    if mean_known:
        return f"feed {layout} {values}; no mean image was subtracted in training"
    return (f"no preprocessing was recorded: feed {layout} inputs prepared as the model's training data was "
            "(tinyconv's data loaders subtract the mean training image)")


class _Graph:
    """The nodes and initializers of the graph being written; each node's output gets a fresh name."""

    def __init__(self):
        self.nodes, self.initializers = [], []

    def constant(self, name, array):
        """Add ``array`` as the float32 initializer ``name``; return the name."""
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op_type, inputs, **attributes):
        """Add one node; return the name of its output."""
        output = f"{op_type}_{len(self.nodes) + 1}"
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output

    def add(self, op, x):
        """Add the nodes of one operation of ``tinyconv.interop._walk`` applied to ``x``; return its output."""
        return _NODES[type(op)](self, op, x)


def _conv(graph, op, x):
    size = op.weight.shape[-1]
    return graph.node("Conv", [x, graph.constant(f"W{op.name}", op.weight), graph.constant(f"b{op.name}", op.bias)],
                      kernel_shape=[size, size], strides=[op.stride] * 2, pads=[op.pad] * 4,
                      dilations=[op.dilation] * 2, group=op.groups)


def _conv_transpose(graph, op, x):
    size = op.weight.shape[-1]
    return graph.node("ConvTranspose", [x, graph.constant(f"W{op.name}", op.weight),
                                        graph.constant(f"b{op.name}", op.bias)],
                      kernel_shape=[size, size], strides=[op.stride] * 2)


def _batchnorm(graph, op, x):
    names = (f"gamma{op.name}", f"beta{op.name}", f"running_mean{op.name}", f"running_var{op.name}")
    arrays = (op.gamma, op.beta, op.mean, op.var)
    return graph.node("BatchNormalization", [x, *map(graph.constant, names, arrays)], epsilon=op.eps)


def _groupnorm(graph, op, x):
    return graph.node("GroupNormalization", [x, graph.constant(f"gamma{op.name}", op.gamma),
                                             graph.constant(f"beta{op.name}", op.beta)],
                      num_groups=op.groups, epsilon=op.eps)


def _layernorm(graph, op, x):
    return graph.node("LayerNormalization", [x, graph.constant(f"gamma{op.name}", op.gamma),
                                             graph.constant(f"beta{op.name}", op.beta)],
                      axis=-1, epsilon=op.eps)


def _pool(graph, op, x):
    return graph.node({"max": "MaxPool", "avg": "AveragePool"}[op.kind], [x], kernel_shape=[2, 2], strides=[2, 2])


def _affine(graph, op, x):
    return graph.node("Gemm", [x, graph.constant(f"W{op.name}", op.weight), graph.constant(f"b{op.name}", op.bias)])


def _residual(graph, op, x):
    body = shortcut = x
    for inner in op.body:
        body = graph.add(inner, body)
    for inner in op.shortcut:
        shortcut = graph.add(inner, shortcut)
    return graph.node("Relu", [graph.node("Add", [body, shortcut])])


_NODES = {
    _walk.Conv: _conv,
    _walk.ConvTranspose: _conv_transpose,
    _walk.BatchNorm: _batchnorm,
    _walk.GroupNorm: _groupnorm,
    _walk.LayerNorm: _layernorm,
    _walk.ReLU: lambda graph, op, x: graph.node("Relu", [x]),
    _walk.Pool: _pool,
    _walk.GlobalAvgPool: lambda graph, op, x: graph.node("GlobalAveragePool", [x]),
    _walk.Flatten: lambda graph, op, x: graph.node("Flatten", [x], axis=1),
    _walk.Affine: _affine,
    _walk.Dropout: lambda graph, op, x: x,  # the identity at inference
    _walk.Residual: _residual,
}
