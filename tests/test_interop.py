"""ONNX export and PyTorch interchange: onnxruntime and PyTorch compute what tinyconv computes, round trips
reproduce their models, and what cannot be expressed is refused."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet
from tinyconv.data.digits import load_digits
from tinyconv.serialization import load_metadata, load_model, save_checkpoint, save_model

from .helpers import assert_normwise_close, invoke
from .oracle import _Lazy, nn, onnx, onnxruntime, require, torch

# The public names, imported on first use after the package each side needs (or the test is skipped).
exporting = _Lazy("tinyconv.interop", needs=("onnx",))
interchange = _Lazy("tinyconv.interop", needs=("torch",))



@pytest.fixture
def onnx_extra():
    """The export command needs onnx (and these tests onnxruntime): without them a test of it skips (or, with
    $TINYCONV_REQUIRE_ORACLE, fails)."""
    require("onnx", "onnxruntime")


# The bounds, normwise: ||ours - theirs|| / ||theirs||.
FLOAT32 = 1e-5
FLOAT64 = 1e-10
TOLERANCES = {np.float32: FLOAT32, np.float64: FLOAT64}

MODELS = {
    "three-layer": lambda dtype: ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=7,
                                                   num_classes=5, dtype=dtype),
    # An even filter pads (f - 1) // 2 on each side and shrinks the map by one, in every framework alike.
    "three-layer even filter": lambda dtype: ThreeLayerConvNet(input_dim=(2, 9, 9), num_filters=3, filter_size=4,
                                                               hidden_dim=6, num_classes=4, dtype=dtype),
    "fc": lambda dtype: FullyConnectedNet([6, 5], input_dim=12, num_classes=4, dtype=dtype),
    "fc batchnorm dropout": lambda dtype: FullyConnectedNet([6, 5], input_dim=12, num_classes=4, dtype=dtype,
                                                            normalization="batchnorm", dropout_keep_ratio=0.5),
    "fc layernorm": lambda dtype: FullyConnectedNet([6], input_dim=12, num_classes=4, normalization="layernorm",
                                                    dtype=dtype),
    "two-layer": lambda dtype: TwoLayerNet(12, 6, 4, dtype=dtype),
    "convnet": lambda dtype: ConvNet(input_dim=(3, 8, 8), spec="c4p-c6a-d0.5-f9", num_classes=5, seed=0, dtype=dtype),
    "convnet batchnorm": lambda dtype: ConvNet(input_dim=(3, 8, 8), spec="c4p-c6a-d0.5-f9-f7", num_classes=5,
                                               normalization="batchnorm", seed=0, dtype=dtype),
    "convnet groupnorm": lambda dtype: ConvNet(input_dim=(3, 8, 8), spec="c4a-c6p-f9", num_classes=5,
                                               normalization="groupnorm", num_groups=2, seed=0, dtype=dtype),
    # Identity shortcut, then a projection at stride 2 on an odd size (7 -> 4, PyTorch's floor), 5x5 filters.
    "convnet residual": lambda dtype: ConvNet(input_dim=(3, 7, 7), spec="c4-r4-r6p-g-f9", num_classes=5,
                                              normalization="batchnorm", filter_size=5, seed=0, dtype=dtype),
    # Projections at stride 1 (4 -> 6 channels) and at stride 2 on an even size; global pooling into the classifier.
    "convnet residual projections": lambda dtype: ConvNet(input_dim=(2, 6, 6), spec="c4p-r6-r6p-g-d0.8", num_classes=3,
                                                          normalization="batchnorm", seed=0, dtype=dtype),
    # The conv family: a dilated conv, separable blocks at stride 1 and at stride 2 on an odd height and an even
    # width (9x8 -> 5x4, PyTorch's floor), a transposed conv doubling the size, under each normalization.
    "convnet mobile": lambda dtype: ConvNet(input_dim=(3, 9, 8), spec="c4d2-s6-s8p-u4-s6p-g-f7", num_classes=5,
                                            normalization="batchnorm", seed=0, dtype=dtype),
    "convnet mobile groupnorm": lambda dtype: ConvNet(input_dim=(2, 10, 10), spec="c4d3a-s6p-u4", num_classes=3,
                                                      normalization="groupnorm", num_groups=2, seed=0, dtype=dtype),
    "convnet mobile plain": lambda dtype: ConvNet(input_dim=(2, 6, 6), spec="s4p-u3-c4d2p", num_classes=3, seed=0,
                                                  dtype=dtype),
}
CONVNETS = [kind for kind in MODELS if kind.startswith("convnet")]


def randomized(model, rng):
    """``model`` with every parameter and batch norm statistic drawn anew from ``rng`` (so that a swapped
    gamma and beta, or a mean and a variance, shows), in the model's dtype."""
    for name, value in model.params.items():
        if name.startswith("W"):
            fan_in = np.prod(value.shape[1:]) if value.ndim == 4 else value.shape[0]
            drawn = rng.standard_normal(value.shape) * np.sqrt(2 / fan_in)
        elif name.startswith("gamma"):
            drawn = rng.uniform(0.5, 1.5, value.shape)
        else:
            drawn = 0.1 * rng.standard_normal(value.shape)
        model.params[name] = drawn.astype(model.dtype)
    state = {key: (rng.uniform(0.5, 2.0, value.shape) if key.startswith("running_var")
                   else 0.1 * rng.standard_normal(value.shape)).astype(model.dtype)
             for key, value in model.state().items()}
    if state:
        model.load_state(state)
    return model


def image_shape(model):
    config = model.get_config()
    return tuple(config["input_dim"]) if isinstance(config["input_dim"], list) else (config["input_dim"],)


def session(path):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def properties(proto):
    """The ONNX model's metadata_props, each value decoded from JSON."""
    return {prop.key: json.loads(prop.value) for prop in proto.metadata_props}


def torch_scores(module, x):
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def assert_agree(actual, expected, tol, what):
    assert actual.dtype == expected.dtype, f"{what}: {actual.dtype} != {expected.dtype}"
    assert_normwise_close(actual, expected, tol=tol, what=what)


# --- ONNX ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MODELS)
def test_onnxruntime_agrees_with_tinyconv(kind, rng, tmp_path):
    model = randomized(MODELS[kind](np.float32), rng)
    proto = exporting.to_onnx(model, tmp_path / "model.onnx")

    loaded = onnx.load(str(tmp_path / "model.onnx"))
    assert loaded == proto
    onnx.checker.check_model(loaded, full_check=True)
    assert [(opset.domain, opset.version >= 17) for opset in loaded.opset_import] == [("", True)]
    batch = loaded.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "N" and not batch.HasField("dim_value")
    assert {node.op_type for node in loaded.graph.node}.isdisjoint({"Dropout"})

    runtime = session(tmp_path / "model.onnx")
    for batch_size in (6, 1):  # the batch dimension is open
        x = rng.standard_normal((batch_size, *image_shape(model))).astype(np.float32)
        expected = model.loss(x)
        (scores,) = runtime.run(["scores"], {"input": x})
        assert_agree(scores, expected, FLOAT32, f"{kind}: onnxruntime against tinyconv")
        np.testing.assert_array_equal(scores.argmax(axis=1), expected.argmax(axis=1))


@pytest.mark.parametrize("kind", ["convnet residual", "fc batchnorm dropout"])
def test_float64_models_are_refused_unless_a_float32_copy_is_asked_for(kind, rng, tmp_path):
    model = randomized(MODELS[kind](np.float64), rng)
    params = {name: value.copy() for name, value in model.params.items()}
    path = tmp_path / "model.onnx"
    with pytest.raises(ValueError, match=r"^to_onnx: the model is float64.*--dtype float32"):
        exporting.to_onnx(model, path)
    assert not path.exists()
    for wrong in ("float64", np.float64):
        with pytest.raises(ValueError, match="to_onnx: dtype must be None or float32"):
            exporting.to_onnx(model, path, dtype=wrong)
    with pytest.raises(ValueError, match="to_onnx: dtype must be one of float32 or float64"):
        exporting.to_onnx(model, path, dtype="int8")
    assert not path.exists()

    exporting.to_onnx(model, path, dtype="float32")
    x = rng.standard_normal((5, *image_shape(model)))
    (scores,) = session(path).run(["scores"], {"input": x.astype(np.float32)})
    assert scores.dtype == np.float32
    assert_normwise_close(scores, model.loss(x), tol=FLOAT32, what="float32 copy against the float64 model")
    # The model itself is left as it was.
    assert model.dtype is np.float64
    for name, value in model.params.items():
        np.testing.assert_array_equal(value, params[name])


def test_the_graph_takes_raw_pixels_and_carries_the_metadata(rng, tmp_path):
    model = randomized(MODELS["convnet batchnorm"](np.float32), rng)
    mean_image = rng.uniform(0, 255, (3, 8, 8))
    metadata = {
        "dataset": "cifar10",
        "class_names": ["cat", "dog", "ship", "frog", "car"],
        "input": {"channels": 3, "height": 8, "width": 8, "value_range": [0, 255], "background": "dark"},
        "mean_image": mean_image,
        "data": {"num_train": 100},  # a key the export does not read is carried over
    }
    proto = exporting.to_onnx(model, tmp_path / "model.onnx", metadata=metadata)

    raw = rng.integers(0, 256, (4, 3, 8, 8)).astype(np.float32)
    (scores,) = session(tmp_path / "model.onnx").run(["scores"], {"input": raw})
    # What tinyconv's loaders do: the mean subtracted in the model's dtype.
    expected = model.loss(raw - mean_image.astype(np.float32))
    assert_agree(scores, expected, FLOAT32, "raw pixels through the graph")
    assert proto.graph.node[0].op_type == "Sub"

    props = properties(proto)
    assert props["class_names"] == metadata["class_names"] and props["dataset"] == "cifar10"
    assert props["input"] == metadata["input"] and props["data"] == {"num_train": 100}
    assert props["mean_image_in_graph"] is True
    assert props["preprocessing"] == ("feed (N, 3, 8, 8) raw pixel values in [0, 255]; the graph subtracts the "
                                      "mean training image itself")
    assert props["tinyconv_model"] == {"class": "ConvNet", "config": model.get_config()}
    runtime_props = session(tmp_path / "model.onnx").get_modelmeta().custom_metadata_map
    assert json.loads(runtime_props["class_names"]) == metadata["class_names"]


def test_a_fully_connected_graph_takes_images_when_the_metadata_describes_them(rng, tmp_path):
    model = randomized(MODELS["fc layernorm"](np.float32), rng)
    mean_image = rng.uniform(0, 16, (1, 3, 4))
    metadata = {"input": {"channels": 1, "height": 3, "width": 4, "value_range": [0, 16]}, "mean_image": mean_image}
    proto = exporting.to_onnx(model, tmp_path / "model.onnx", metadata=metadata)
    dims = [dim.dim_param or dim.dim_value for dim in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 1, 3, 4]
    raw = rng.uniform(0, 16, (5, 1, 3, 4)).astype(np.float32)
    (scores,) = session(tmp_path / "model.onnx").run(["scores"], {"input": raw})
    assert_agree(scores, model.loss(raw - mean_image.astype(np.float32)), FLOAT32, "fully connected, raw pixels")


@pytest.mark.parametrize("metadata, subtracts, preprocessing", [
    (None, False, "no preprocessing was recorded: feed (N, 3, 8, 8) inputs prepared as the model's training "
                  "data was (tinyconv's data loaders subtract the mean training image)"),
    ({"input": {"channels": 3, "height": 8, "width": 8, "value_range": [0, 1]}, "mean_image": None}, False,
     "feed (N, 3, 8, 8) raw pixel values in [0, 1]; no mean image was subtracted in training"),
    ({"mean_image": np.zeros((3, 8, 8))}, True,
     "feed (N, 3, 8, 8) images as loaded; the graph subtracts the mean training image itself"),
])
def test_the_metadata_says_what_to_feed_the_graph(metadata, subtracts, preprocessing, tmp_path):
    proto = exporting.to_onnx(MODELS["convnet"](np.float32), tmp_path / "model.onnx", metadata=metadata)
    props = properties(proto)
    assert props["preprocessing"] == preprocessing and props["mean_image_in_graph"] is subtracts
    assert (proto.graph.node[0].op_type == "Sub") is subtracts
    if metadata is None:
        assert props["class_names"] is None and props["dataset"] is None and props["input"] is None


def test_a_fully_connected_graph_without_metadata_takes_feature_vectors(tmp_path):
    proto = exporting.to_onnx(MODELS["two-layer"](np.float32), tmp_path / "model.onnx")
    dims = [dim.dim_param or dim.dim_value for dim in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 12]


IMAGE = {"channels": 3, "height": 8, "width": 8}


@pytest.mark.parametrize("metadata, error, message", [
    ([("class_names", [])], TypeError, r"metadata must be a dict"),
    ({"class_names": ["a", "b"]}, ValueError, r"metadata\['class_names'\] has 2 names, but the model scores 5"),
    ({"class_names": [0, 1, 2, 3, 4]}, TypeError, r"metadata\['class_names'\] must be a list of strings"),
    ({"dataset": 3}, TypeError, r"metadata\['dataset'\] must be a string"),
    ({"input": {**IMAGE, "channels": 1}}, ValueError,
     r"metadata\['input'\] describes images of shape \(1, 8, 8\), but the model takes"),
    ({"input": {"channels": 3}}, TypeError, r"metadata\['input'\]\['height'\] must be a positive integer"),
    ({"mean_image": np.zeros((3, 4, 4))}, ValueError, r"metadata\['mean_image'\] has shape \(3, 4, 4\)"),
    ({"mean_image": np.full((3, 8, 8), np.nan)}, ValueError, r"metadata\['mean_image'\] holds values that are not"),
    ({"mean_image": [[0.0]]}, TypeError, r"metadata\['mean_image'\] must be a NumPy or CuPy array"),
    ({"preprocessing": "none"}, ValueError, r"metadata has the key 'preprocessing', which the export writes itself"),
    ({"notes": {1, 2}}, TypeError, r"metadata\['notes'\] cannot be written as JSON"),
])
def test_metadata_that_does_not_fit_the_model_is_refused(metadata, error, message, tmp_path):
    path = tmp_path / "model.onnx"
    with pytest.raises(error, match=rf"^to_onnx: {message}"):
        exporting.to_onnx(MODELS["convnet"](np.float32), path, metadata=metadata)
    assert not path.exists()


class Wider(ConvNet):
    """A subclass may compute anything; the exports read only the tinyconv classes themselves."""


@pytest.mark.parametrize("model", [object(), Wider(input_dim=(1, 4, 4), spec="c2-f3")], ids=["object", "subclass"])
def test_objects_other_than_tinyconv_models_are_refused(model, tmp_path):
    with pytest.raises(TypeError, match="^to_onnx: model must be one of"):
        exporting.to_onnx(model, tmp_path / "model.onnx")
    with pytest.raises(TypeError, match="^to_torch: model must be one of"):
        interchange.to_torch(model)


# --- PyTorch ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", MODELS)
def test_torch_agrees_with_tinyconv(kind, dtype, rng):
    model = randomized(MODELS[kind](dtype), rng)
    generator_state = torch.random.get_rng_state()
    module = interchange.to_torch(model)
    assert torch.equal(torch.random.get_rng_state(), generator_state), "to_torch drew random numbers"
    assert not module.training
    assert {tensor.dtype for tensor in module.state_dict().values() if tensor.is_floating_point()} == \
        {getattr(torch, np.dtype(dtype).name)}
    x = rng.standard_normal((6, *image_shape(model))).astype(dtype)
    assert_agree(torch_scores(module, x), model.loss(x), TOLERANCES[dtype], f"{kind}: torch against tinyconv")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", [*CONVNETS, "three-layer"])
def test_from_torch_of_to_torch_reproduces_the_model(kind, dtype, rng):
    model = randomized(MODELS[kind](dtype), rng)
    module = interchange.to_torch(model)
    back = interchange.from_torch(module, image_shape(model))

    assert type(back) is ConvNet and back.dtype is dtype
    x = rng.standard_normal((5, *image_shape(model))).astype(dtype)
    if type(model) is ConvNet:
        config, back_config = model.get_config(), back.get_config()
        for key in ("input_dim", "spec", "filter_size", "num_classes", "normalization", "dtype"):
            assert back_config[key] == config[key], key
        assert back.param_shapes() == model.param_shapes()
        for name, value in model.params.items():
            np.testing.assert_array_equal(back.params[name], value, err_msg=name)
        for name, value in model.state().items():
            np.testing.assert_array_equal(back.state()[name], value, err_msg=name)
        np.testing.assert_array_equal(back.loss(x), model.loss(x))
    else:  # a ThreeLayerConvNet of odd filters is the ConvNet 'cFp-fH'
        assert back.spec == "c4p-f7"
        assert_agree(back.loss(x), model.loss(x), TOLERANCES[dtype], "three-layer as a ConvNet")
    # The arrays are copies: changing the module changes neither model.
    scores = back.loss(x), model.loss(x)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(1)
    np.testing.assert_array_equal(back.loss(x), scores[0])
    np.testing.assert_array_equal(model.loss(x), scores[1])


def residual(channels, filters, stride, size=3, dtype=None):
    body = nn.Sequential(nn.Conv2d(channels, filters, size, stride, size // 2, dtype=dtype), nn.BatchNorm2d(
        filters, dtype=dtype), nn.ReLU(), nn.Conv2d(filters, filters, size, 1, size // 2, dtype=dtype),
        nn.BatchNorm2d(filters, dtype=dtype))
    shortcut = None
    if stride != 1 or channels != filters:
        shortcut = nn.Sequential(nn.Conv2d(channels, filters, 1, stride, dtype=dtype),
                                 nn.BatchNorm2d(filters, dtype=dtype))
    return interchange.ResidualBlock(body, shortcut)


SEQUENTIALS = {
    "plain, both pools, dropout": ((3, 8, 8), lambda dtype: [
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding="same"),
        nn.ReLU(inplace=True), nn.AvgPool2d((2, 2), stride=2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(24, 9),
        nn.ReLU(), nn.Dropout(0.5), nn.Linear(9, 5)]),
    "batchnorm, global pool": ((3, 8, 8), lambda dtype: [
        nn.Conv2d(3, 4, 5, padding=2), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(4, 4, 5, padding=2),
        nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(4, 3)]),
    "groupnorm": ((1, 6, 6), lambda dtype: [
        nn.Conv2d(1, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(4, 6, 3, padding=1),
        nn.GroupNorm(2, 6), nn.ReLU(), nn.Flatten(), nn.Linear(54, 8), nn.ReLU(), nn.Linear(8, 4)]),
    "residual": ((2, 7, 7), lambda dtype: [
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), residual(4, 4, 1, dtype=dtype),
        residual(4, 6, 2, dtype=dtype), residual(6, 8, 1, dtype=dtype), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(8, 5)]),
    "residual first": ((3, 6, 6), lambda dtype: [
        residual(3, 4, 2, size=5, dtype=dtype), nn.Flatten(), nn.Linear(36, 3)]),
}


def sequential(kind, dtype, rng):
    """The Sequential ``kind`` in ``dtype`` and eval mode, its norms' parameters and statistics drawn from rng."""
    torch.manual_seed(0)
    module = nn.Sequential(*SEQUENTIALS[kind][1](getattr(torch, np.dtype(dtype).name))).to(
        getattr(torch, np.dtype(dtype).name)).eval()
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.BatchNorm2d, nn.GroupNorm)):
                size = layer.weight.shape
                layer.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, size)))
                layer.bias.copy_(torch.from_numpy(0.1 * rng.standard_normal(size)))
            if isinstance(layer, nn.BatchNorm2d):
                layer.running_mean.copy_(torch.from_numpy(0.1 * rng.standard_normal(size)))
                layer.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, size)))
    return module


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", SEQUENTIALS)
def test_from_torch_agrees_with_torch_and_to_torch_gives_the_sequential_back(kind, dtype, rng):
    shape = SEQUENTIALS[kind][0]
    module = sequential(kind, dtype, rng)
    model = interchange.from_torch(module, shape)
    assert model.dtype is dtype
    x = rng.standard_normal((6, *shape)).astype(dtype)
    expected = torch_scores(module, x)
    assert_agree(model.loss(x), expected, TOLERANCES[dtype], f"{kind}: tinyconv against torch")

    again = interchange.to_torch(model)
    assert_agree(torch_scores(again, x), expected, TOLERANCES[dtype], f"{kind}: to_torch(from_torch(s)) against s")
    # Layer for layer the same, Dropout's probability included.
    def settings(layers):
        return [(type(layer).__name__, getattr(layer, "p", None), getattr(layer, "out_channels", None))
                for layer in layers.modules() if type(layer) not in (nn.Sequential, nn.Identity)]
    assert settings(again) == [(name, p if p is None else pytest.approx(p), out) for name, p, out in settings(module)]


def spec_of(layers, shape=(1, 4, 4)):
    return interchange.from_torch(nn.Sequential(*layers), shape).spec


def test_from_torch_reads_the_spec_grammar():
    conv = lambda channels, filters: nn.Conv2d(channels, filters, 3, padding=1)  # noqa: E731
    assert spec_of([conv(1, 2), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3)]) == "c2"
    assert spec_of([conv(1, 2), nn.ReLU(), nn.MaxPool2d(2), conv(2, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                    nn.Dropout(0.25), nn.Linear(3, 7), nn.ReLU(), nn.Linear(7, 2)]) == "c2p-c3a-d0.75-f7"
    assert spec_of([conv(1, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.0),
                    nn.Linear(2, 2)]) == "c2-g-d1"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_from_torch_reads_a_mobilenet_and_gives_its_scores(dtype, rng):
    """A small MobileNet (v1): a stem conv, depthwise-separable blocks at stride 1 and 2 with batch norm and
    ReLU, global pooling and a classifier, with running statistics from a few training batches."""
    torch.manual_seed(0)

    def separable(channels, filters, stride):
        return [nn.Conv2d(channels, channels, 3, stride=stride, padding=1, groups=channels), nn.BatchNorm2d(channels),
                nn.ReLU(), nn.Conv2d(channels, filters, 1), nn.BatchNorm2d(filters), nn.ReLU()]

    layers = [nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), *separable(8, 16, 1),
              *separable(16, 16, 2), *separable(16, 32, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)]
    mobilenet = nn.Sequential(*layers).to(getattr(torch, np.dtype(dtype).name))
    mobilenet.train()
    for _ in range(3):  # running statistics that are not the initial zeros and ones
        mobilenet(torch.from_numpy(rng.standard_normal((8, 3, 16, 16)).astype(dtype)))
    mobilenet.eval()
    model = interchange.from_torch(mobilenet, (3, 16, 16))
    assert model.spec == "c8-s16-s16p-s32p-g" and model.normalization == "batchnorm" and model.dtype is dtype
    x = rng.standard_normal((5, 3, 16, 16)).astype(dtype)
    assert_agree(model.loss(x), torch_scores(mobilenet, x), TOLERANCES[dtype], "MobileNet: tinyconv against torch")
    assert_agree(torch_scores(interchange.to_torch(model), x), torch_scores(mobilenet, x), TOLERANCES[dtype],
                 "to_torch(from_torch(MobileNet)) against the MobileNet")


def conv_net(*middle, head=None):
    """Conv2d(1, 4, 3), then ``middle``, then ``head`` (by default Flatten, Linear(64, 3)): with ReLU as the
    middle, a ConvNet on (1, 4, 4)."""
    return [nn.Conv2d(1, 4, 3, padding=1), *middle, *(head or (nn.Flatten(), nn.Linear(64, 3)))]


def hooked_relu():
    relu = nn.ReLU()
    relu.register_forward_hook(lambda module, inputs, output: output * 2)
    return relu


REFUSED = {
    # What from_torch does not read at all, named with its index.
    "unsupported layer": (lambda: conv_net(nn.Sigmoid()), r"module\[1\] is Sigmoid, which a ConvNet has no "),
    "the first unsupported layer": (lambda: conv_net(nn.Tanh(), nn.Sigmoid()), r"module\[1\] is Tanh"),
    "a subclass": (lambda: [type("MyConv", (nn.Conv2d,), {})(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                            nn.Linear(64, 3)], r"module\[0\] is MyConv"),
    "nested Sequential": (lambda: [nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU()), nn.Flatten(),
                                   nn.Linear(64, 3)], r"module\[0\] is Sequential"),
    "forward hook": (lambda: conv_net(hooked_relu()), r"module\[1\] \(ReLU\) has forward hooks"),
    # Conv settings.
    "dilation without its padding": (lambda: [nn.Conv2d(1, 4, 3, padding=1, dilation=2), nn.ReLU(), nn.Flatten(),
                                              nn.Linear(16, 3)],
                                     r"module\[0\] \(Conv2d\) has padding=\(1, 1\), but a ConvNet's conv there has "
                                     r"padding=\(2, 2\)"),
    "uneven dilation": (lambda: [nn.Conv2d(1, 4, 3, padding=(1, 2), dilation=(1, 2)), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(64, 3)],
                        r"module\[0\] \(Conv2d\) has dilation=\(1, 2\), but a ConvNet dilates both axes alike"),
    "groups": (lambda: [nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 4, 3, padding=1, groups=2), nn.ReLU(),
                        nn.Flatten(), nn.Linear(64, 3)],
               r"module\[2\] \(Conv2d\) has groups=2 and out_channels=4, but a ConvNet's grouped conv is a "
               r"separable block's depthwise conv"),
    "depthwise alone": (lambda: [nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 2, 3, padding=1, groups=2),
                                 nn.ReLU(), nn.Flatten(), nn.Linear(32, 3)],
                        r"module\[4\] \(Flatten\) comes where a ConvNet has the 1x1 Conv2d of a separable block"),
    "depthwise stride 3": (lambda: [nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(),
                                    nn.Conv2d(2, 2, 3, stride=3, padding=1, groups=2), nn.ReLU(), nn.Conv2d(2, 2, 1),
                                    nn.ReLU(), nn.Flatten(), nn.Linear(8, 3)],
                           r"module\[2\] \(Conv2d\) has stride=\(3, 3\), but a separable block's depthwise conv runs "
                           r"at stride 1, or 2"),
    "transposed conv kernel": (lambda: conv_net(nn.ReLU(), nn.ConvTranspose2d(4, 2, 3, stride=2), nn.ReLU(),
                                                head=(nn.Flatten(), nn.Linear(162, 3))),
                               r"module\[2\] \(ConvTranspose2d\) has kernel_size=\(3, 3\), but a ConvNet's transposed "
                               r"conv doubles the size with 2x2 filters at stride 2"),
    "transposed conv output padding": (lambda: conv_net(nn.ReLU(), nn.ConvTranspose2d(4, 2, 2, stride=2,
                                                                                     output_padding=1), nn.ReLU(),
                                                        head=(nn.Flatten(), nn.Linear(162, 3))),
                                       r"module\[2\] \(ConvTranspose2d\) has output_padding=\(1, 1\)"),
    "no bias": (lambda: [nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)],
                r"module\[0\] \(Conv2d\) has bias=False"),
    "two filter sizes": (lambda: conv_net(nn.ReLU(), nn.Conv2d(4, 4, 5, padding=2), nn.ReLU()),
                         r"module\[2\] \(Conv2d\) has kernel_size=\(5, 5\), but a ConvNet has one filter size, and "
                         r"module\[0\] \(Conv2d\) has 3"),
    "even filter": (lambda: [nn.Conv2d(1, 4, 2), nn.ReLU(), nn.Flatten(), nn.Linear(36, 3)],
                    r"module\[0\] \(Conv2d\) has kernel_size=\(2, 2\), but a ConvNet's filters are square and of "
                    r"odd size"),
    "non-square filter": (lambda: [nn.Conv2d(1, 4, (3, 5), padding=(1, 2)), nn.ReLU(), nn.Flatten(),
                                   nn.Linear(64, 3)],
                          r"module\[0\] \(Conv2d\) has kernel_size=\(3, 5\), but a ConvNet's filters are square"),
    "conv stride": (lambda: [nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3)],
                    r"module\[0\] \(Conv2d\) has stride=\(2, 2\)"),
    "conv padding": (lambda: [nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3)],
                     r"module\[0\] \(Conv2d\) has padding=\(0, 0\)"),
    "padding mode": (lambda: [nn.Conv2d(1, 4, 3, padding=1, padding_mode="reflect"), nn.ReLU(), nn.Flatten(),
                              nn.Linear(64, 3)], r"module\[0\] \(Conv2d\) has padding_mode='reflect'"),
    # Pools.
    "pool window": (lambda: conv_net(nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), head=(nn.Flatten(), nn.Linear(16, 3))),
                    r"module\[2\] \(MaxPool2d\) has kernel_size=\(3, 3\)"),
    "pool stride": (lambda: conv_net(nn.ReLU(), nn.MaxPool2d(2, 1), head=(nn.Flatten(), nn.Linear(36, 3))),
                    r"module\[2\] \(MaxPool2d\) has stride=\(1, 1\)"),
    "pool padding": (lambda: conv_net(nn.ReLU(), nn.AvgPool2d(2, padding=1), head=(nn.Flatten(), nn.Linear(36, 3))),
                     r"module\[2\] \(AvgPool2d\) has padding=\(1, 1\)"),
    "ceil mode": (lambda: conv_net(nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True), head=(nn.Flatten(), nn.Linear(16, 3))),
                  r"module\[2\] \(MaxPool2d\) has ceil_mode=True, but a ConvNet pools 2x2 windows at stride 2"),
    "divisor": (lambda: conv_net(nn.ReLU(), nn.AvgPool2d(2, divisor_override=3), head=(nn.Flatten(),
                                                                                       nn.Linear(16, 3))),
                r"module\[2\] \(AvgPool2d\) has divisor_override=3"),
    "global pool size": (lambda: conv_net(nn.ReLU(), nn.AdaptiveAvgPool2d(2), head=(nn.Flatten(), nn.Linear(16, 3))),
                         r"module\[2\] \(AdaptiveAvgPool2d\) has output_size=2"),
    # Norms.
    "batchnorm eps": (lambda: conv_net(nn.BatchNorm2d(4, eps=1e-3), nn.ReLU()), r"module\[1\] \(BatchNorm2d\) has "
                      r"eps=0.001"),
    "cumulative batchnorm": (lambda: conv_net(nn.BatchNorm2d(4, momentum=None), nn.ReLU()),
                             r"module\[1\] \(BatchNorm2d\) has momentum=None, but a ConvNet's normalization there has "
                             r"momentum=0.1"),
    "batchnorm without affine": (lambda: conv_net(nn.BatchNorm2d(4, affine=False), nn.ReLU()),
                                 r"module\[1\] \(BatchNorm2d\) has affine=False"),
    "batchnorm without bias": (lambda: conv_net(nn.BatchNorm2d(4, bias=False), nn.ReLU()),
                               r"module\[1\] \(BatchNorm2d\) has "
                               r"bias=False"),
    "batchnorm without statistics": (lambda: conv_net(nn.BatchNorm2d(4, track_running_stats=False), nn.ReLU()),
                                     r"module\[1\] \(BatchNorm2d\) has track_running_stats=False"),
    "groupnorm eps": (lambda: conv_net(nn.GroupNorm(2, 4, eps=1e-6), nn.ReLU()),
                      r"module\[1\] \(GroupNorm\) has eps=1e-06"),
    "two group counts": (lambda: conv_net(nn.GroupNorm(2, 4), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                                          nn.GroupNorm(4, 4), nn.ReLU()),
                         r"module\[4\] \(GroupNorm\) has num_groups=4, but a ConvNet has one num_groups, and "
                         r"module\[1\] \(GroupNorm\) has 2"),
    "two normalizations": (lambda: conv_net(nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()),
                           r"module\[3\] \(Conv2d\) has no normalization, but module\[0\] \(Conv2d\) has BatchNorm2d"),
    "residual after a plain conv": (lambda: conv_net(nn.ReLU(), residual(4, 4, 1)),
                                    r"module\[2\] \(ResidualBlock\) has BatchNorm2d, but module\[0\] \(Conv2d\) has "
                                    r"no normalization"),
    # Residual blocks.
    "identity shortcut that changes the shape": (
        lambda: conv_net(nn.BatchNorm2d(4), nn.ReLU(), interchange.ResidualBlock(residual(4, 4, 2).body),
                         head=(nn.Flatten(), nn.Linear(16, 3))),
        r"module\[3\] \(ResidualBlock\)\.shortcut has the identity, but the block changes the shape"),
    "projection that keeps the shape": (
        lambda: conv_net(nn.BatchNorm2d(4), nn.ReLU(), interchange.ResidualBlock(
            residual(4, 4, 1).body, nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4)))),
        r"module\[3\] \(ResidualBlock\)\.shortcut has a projection, but the block keeps the shape"),
    "residual body": (lambda: conv_net(nn.BatchNorm2d(4), nn.ReLU(), interchange.ResidualBlock(
        nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()))),
        r"module\[3\] \(ResidualBlock\)\.body has the layers Conv2d, ReLU, but"),
    "residual stride": (lambda: conv_net(nn.BatchNorm2d(4), nn.ReLU(), residual(4, 4, 3),
                                         head=(nn.Flatten(), nn.Linear(16, 3))),
                        r"module\[3\] \(ResidualBlock\)\.body\[0\] \(Conv2d\) has stride=\(3, 3\)"),
    # The order of the layers.
    "empty": (lambda: [], r"the module ends where a ConvNet has Conv2d, ConvTranspose2d or ResidualBlock"),
    "no conv": (lambda: [nn.Flatten(), nn.Linear(16, 3)], r"module\[0\] \(Flatten\) comes where a ConvNet has "
                r"Conv2d, ConvTranspose2d or ResidualBlock \(a ConvNet starts with a conv block\)"),
    "no flatten": (lambda: conv_net(nn.ReLU(), head=(nn.Linear(4, 3),)), r"module\[2\] \(Linear\) comes where a "
                   r"ConvNet has Conv2d, ConvTranspose2d or ResidualBlock, AdaptiveAvgPool2d\(1\) or Flatten"),
    "no relu": (lambda: conv_net(nn.MaxPool2d(2), head=(nn.Flatten(), nn.Linear(16, 3))),
                r"module\[1\] \(MaxPool2d\) comes where a ConvNet has BatchNorm2d, GroupNorm or ReLU"),
    "dropout among the features": (lambda: conv_net(nn.ReLU(), nn.Dropout()), r"module\[2\] \(Dropout\) comes "
                                   r"where"),
    "hidden layer without relu": (lambda: conv_net(nn.ReLU(), head=(nn.Flatten(), nn.Linear(64, 5),
                                                                     nn.Linear(5, 3))),
                                  r"module\[4\] \(Linear\) comes where a ConvNet has ReLU after module\[3\]"),
    "no classifier": (lambda: conv_net(nn.ReLU(), head=(nn.Flatten(), nn.Linear(64, 3), nn.ReLU())),
                      r"the module ends where a ConvNet has Linear or Dropout"),
    "dropout everything": (lambda: conv_net(nn.ReLU(), head=(nn.Flatten(), nn.Dropout(1.0), nn.Linear(64, 3))),
                           r"module\[3\] \(Dropout\) has p=1"),
    "linear without bias": (lambda: conv_net(nn.ReLU(), head=(nn.Flatten(), nn.Linear(64, 3, bias=False))),
                            r"module\[3\] \(Linear\) has bias=False"),
    "partial flatten": (lambda: conv_net(nn.ReLU(), head=(nn.Flatten(2), nn.Linear(16, 3))),
                        r"module\[2\] \(Flatten\) has start_dim=2"),
    # Shapes and dtypes.
    "linear size": (lambda: conv_net(nn.ReLU(), head=(nn.Flatten(), nn.Linear(60, 3))),
                    r"module\[3\] \(Linear\) has in_features=60, but its input has 64 features"),
    "float16": (lambda: [layer.half() for layer in conv_net(nn.ReLU())], r"module\[0\] \(Conv2d\) has a "
                r"torch.float16 tensor"),
    "two dtypes": (lambda: conv_net(nn.ReLU(), head=(nn.Flatten(), nn.Linear(64, 3).double())),
                   r"module\[3\] \(Linear\) has a torch.float64 tensor, but module\[0\] \(Conv2d\) has torch.float32"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_from_torch_refuses_what_a_convnet_cannot_express(case):
    build, message = REFUSED[case]
    with pytest.raises(ValueError, match=rf"^from_torch: ({message})"):
        interchange.from_torch(nn.Sequential(*build()), (1, 4, 4))


@pytest.mark.parametrize("shape, error, message", [
    ((1, 5, 5), ValueError, r"module\[2\] \(MaxPool2d\) has a 5x5 input for input_shape \(1, 5, 5\), but a ConvNet "
                            r"pools only even sizes"),
    ((3, 4, 4), ValueError, r"module\[0\] \(Conv2d\) has in_channels=1, but its input has 3 channels \(input_shape"),
    ((1, 4), ValueError, r"input_shape must have 3 entries"),
    ("1x4x4", TypeError, r"input_shape must be a \(C, H, W\) tuple"),
])
def test_from_torch_refuses_input_shapes_that_do_not_fit(shape, error, message):
    layers = conv_net(nn.ReLU(), nn.MaxPool2d(2), head=(nn.Flatten(), nn.Linear(16, 3)))
    with pytest.raises(error, match=rf"^from_torch: {message}"):
        interchange.from_torch(nn.Sequential(*layers), shape)


def test_from_torch_takes_only_a_sequential():
    with pytest.raises(TypeError, match="^from_torch: module must be an nn.Sequential, got Conv2d"):
        interchange.from_torch(nn.Conv2d(1, 1, 3), (1, 4, 4))


# --- the command line and the optional imports -----------------------------------------------------------------


def test_export_command_writes_a_graph_that_takes_raw_pixels(onnx_extra, rng, tmp_path):
    model = randomized(ConvNet(input_dim=(1, 8, 8), spec="c4p-f8", num_classes=3, seed=0), rng)
    mean_image = rng.uniform(0, 16, (1, 8, 8))
    metadata = {"dataset": "digits", "class_names": ["zero", "one", "two"],
                "input": {"channels": 1, "height": 8, "width": 8, "value_range": [0, 16], "background": "dark"},
                "mean_image": mean_image}
    save_model(tmp_path / "model.npz", model, metadata)
    result = invoke("export", tmp_path / "model.npz", "--onnx", tmp_path / "model.onnx")
    assert result.exit_code == 0, result.output
    assert result.output == (f"Wrote {tmp_path / 'model.onnx'}: c4p-f8 in float32, input 'input', output 'scores'; "
                             "feed (N, 1, 8, 8) raw pixel values in [0, 16]; the graph subtracts the mean training "
                             "image itself.\n")
    raw = rng.integers(0, 17, (5, 1, 8, 8)).astype(np.float32)
    runtime = session(tmp_path / "model.onnx")
    (scores,) = runtime.run(["scores"], {"input": raw})
    assert_agree(scores, model.loss(raw - mean_image.astype(np.float32)), FLOAT32, "exported file")
    assert json.loads(runtime.get_modelmeta().custom_metadata_map["class_names"]) == ["zero", "one", "two"]


def test_a_trained_model_exports_with_what_train_recorded(onnx_extra, tmp_path):
    result = invoke("train", "--model", "c4p-f8", "--epochs", "1", "--num-val", "50", "--num-test", "50",
                    "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    result = invoke("export", tmp_path / "run" / "model.npz", "--onnx", tmp_path / "digits.onnx")
    assert result.exit_code == 0, result.output

    model, metadata = load_model(tmp_path / "run" / "model.npz"), load_metadata(tmp_path / "run" / "model.npz")
    runtime = session(tmp_path / "digits.onnx")
    props = {key: json.loads(value) for key, value in runtime.get_modelmeta().custom_metadata_map.items()}
    assert props["class_names"] == [str(digit) for digit in range(10)] and props["dataset"] == "digits"
    assert props["input"]["value_range"] == [0, 16] and props["mean_image_in_graph"] is True
    images, _ = load_digits()
    raw = images[:40].transpose(0, 3, 1, 2).astype(np.float32)  # pixel values 0..16, as loaded
    (scores,) = runtime.run(["scores"], {"input": raw})
    expected = model.loss(raw - metadata["mean_image"].astype(np.float32))
    assert_agree(scores, expected, FLOAT32, "a trained model, raw digits")
    np.testing.assert_array_equal(scores.argmax(axis=1), expected.argmax(axis=1))


def test_export_command_refuses_float64_without_dtype_and_reports_failures(onnx_extra, rng, tmp_path):
    model = ConvNet(input_dim=(1, 4, 4), spec="c2-f3", num_classes=2, seed=0, dtype=np.float64)
    save_model(tmp_path / "model.npz", model)
    out = tmp_path / "model.onnx"

    result = invoke("export", tmp_path / "model.npz", "--onnx", out)
    assert result.exit_code == 2 and "--dtype float32" in result.output and not out.exists()
    result = invoke("export", tmp_path / "model.npz", "--onnx", out, "--dtype", "float32")
    assert result.exit_code == 0, result.output
    x = rng.standard_normal((3, 1, 4, 4))
    assert_normwise_close(session(out).run(["scores"], {"input": x.astype(np.float32)})[0], model.loss(x),
                          tol=FLOAT32)

    assert invoke("export", tmp_path / "model.npz").exit_code == 2  # no --onnx
    assert invoke("export", tmp_path / "model.npz", "--onnx", out, "--dtype", "float16").exit_code == 2
    (tmp_path / "junk.npz").write_bytes(b"not a model")
    result = invoke("export", tmp_path / "junk.npz", "--onnx", out)
    assert result.exit_code == 2 and "junk.npz" in result.output
    # A checkpoint holds no model file metadata: its graph takes prepared inputs, and says so.
    save_checkpoint(tmp_path / "checkpoint.npz", model, {})
    result = invoke("export", tmp_path / "checkpoint.npz", "--onnx", out, "--dtype", "float32")
    assert result.exit_code == 0 and "no preprocessing was recorded" in result.output
    result = invoke("export", tmp_path / "model.npz", "--onnx", tmp_path / "missing" / "model.onnx", "--dtype",
                    "float32")
    assert result.exit_code == 1 and "cannot write" in result.output


def test_importing_tinyconv_imports_neither_torch_nor_onnx():
    code = ("import sys, tinyconv, tinyconv.interop, tinyconv.cli, tinyconv.serialization; "
            "print(sorted({'torch', 'onnx', 'onnxruntime'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
