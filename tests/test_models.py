"""Models: numerical gradient checks, the cs231n expectations, configs, buffers, validation."""

import json

import numpy as np
import pytest

from tinyconv.gradcheck import eval_numerical_gradient
from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet

# Small float64 models covering every layer arrangement the models can build.
GRADCHECK_MODELS = {
    "three_layer": lambda: ThreeLayerConvNet(
        input_dim=(2, 6, 6), num_filters=3, filter_size=3, hidden_dim=5, num_classes=4,
        weight_scale=0.1, reg=0.1, dtype=np.float64,
    ),
    "three_layer_even_filter": lambda: ThreeLayerConvNet(
        input_dim=(1, 5, 5), num_filters=2, filter_size=2, hidden_dim=4, num_classes=4,
        weight_scale=0.2, dtype=np.float64,
    ),
    "fc_plain": lambda: FullyConnectedNet(
        [6, 5], input_dim=8, num_classes=4, reg=0.1, weight_scale=0.1, dtype=np.float64
    ),
    "fc_softmax_regression": lambda: FullyConnectedNet(
        [], input_dim=8, num_classes=4, reg=0.3, weight_scale=0.1, dtype=np.float64
    ),
    "fc_batchnorm_dropout": lambda: FullyConnectedNet(
        [6, 5], input_dim=8, num_classes=4, normalization="batchnorm", dropout_keep_ratio=0.7,
        reg=0.1, weight_scale=0.1, dtype=np.float64, seed=3,
    ),
    "fc_layernorm": lambda: FullyConnectedNet(
        [6, 5], input_dim=8, num_classes=4, normalization="layernorm", reg=0.1,
        weight_scale=0.1, dtype=np.float64,
    ),
    "conv_plain": lambda: ConvNet.from_spec(
        "c3p-c4-f5", input_dim=(2, 4, 4), num_classes=4, reg=0.1, seed=0, dtype=np.float64
    ),
    "conv_batchnorm": lambda: ConvNet.from_spec(
        "c4-c4p", input_dim=(2, 4, 4), num_classes=4, normalization="batchnorm", reg=0.1,
        seed=1, dtype=np.float64,
    ),
    "conv_groupnorm": lambda: ConvNet.from_spec(
        "c4p-c6-f5", input_dim=(2, 4, 4), num_classes=4, normalization="groupnorm",
        num_groups=2, init="gaussian", weight_scale=0.3, reg=0.1, seed=2, dtype=np.float64,
    ),
}


def _inputs(model, N, seed):
    rng = np.random.default_rng(seed)
    config = model.get_config()
    feature_shape = config["input_dim"]
    shape = (N, *feature_shape) if isinstance(feature_shape, list) else (N, feature_shape)
    return rng.standard_normal(shape), rng.integers(config["num_classes"], size=N)


@pytest.mark.parametrize("name", sorted(GRADCHECK_MODELS))
def test_gradients_match_numerical_gradients(name):
    np.random.seed(0)
    model = GRADCHECK_MODELS[name]()
    X, y = _inputs(model, N=4, seed=1)
    # Random biases, shifts and scales: a zero bias after an all-dead ReLU input
    # would leave a pre-activation exactly on the kink, where the numerical
    # gradient is one-sided.
    rng = np.random.default_rng(2)
    for param_name, param in model.params.items():
        if not param_name.startswith("W"):
            param += rng.normal(0.0, 0.1, param.shape)
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for param_name, param in model.params.items():
        numerical = eval_numerical_gradient(
            lambda _: model.loss(X, y)[0], param, verbose=False, h=1e-6
        )
        # The absolute tolerance covers gradients that are exactly zero, such as
        # a conv bias followed by batch norm, where only rounding noise remains.
        np.testing.assert_allclose(
            grads[param_name], numerical, rtol=1e-5, atol=1e-8, err_msg=param_name
        )


def test_three_layer_fresh_loss_is_log_of_class_count_and_grows_with_reg():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3, 16, 16))
    y = rng.integers(10, size=20)
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8)
    loss, _ = model.loss(X, y)
    assert abs(loss - np.log(10)) < 0.01
    model.reg = 0.5
    regularized, _ = model.loss(X, y)
    assert regularized > loss + 0.01


def test_three_layer_params_follow_the_cs231n_layout_and_draw_order():
    np.random.seed(7)
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 10), num_filters=6, filter_size=5, hidden_dim=11, num_classes=4,
        weight_scale=0.02,
    )
    np.random.seed(7)
    expected_w1 = np.random.normal(0.0, 0.02, (6, 3, 5, 5))
    expected_w2 = np.random.normal(0.0, 0.02, (6 * 4 * 5, 11))
    expected_w3 = np.random.normal(0.0, 0.02, (11, 4))
    np.testing.assert_allclose(model.params["W1"], expected_w1, rtol=1e-6)
    np.testing.assert_allclose(model.params["W2"], expected_w2, rtol=1e-6)
    np.testing.assert_allclose(model.params["W3"], expected_w3, rtol=1e-6)
    assert model.params["b1"].shape == (6,) and not model.params["b1"].any()
    assert model.params["b2"].shape == (11,) and model.params["b3"].shape == (4,)
    assert all(value.dtype == np.float32 for value in model.params.values())


def test_fully_connected_params_follow_the_cs231n_layout():
    model = FullyConnectedNet([7, 5], input_dim=12, num_classes=3, normalization="batchnorm")
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes == {
        "W1": (12, 7), "b1": (7,), "gamma1": (7,), "beta1": (7,),
        "W2": (7, 5), "b2": (5,), "gamma2": (5,), "beta2": (5,),
        "W3": (5, 3), "b3": (3,),
    }
    np.testing.assert_array_equal(model.params["gamma1"], np.ones(7))
    assert [bn_param["mode"] for bn_param in model.bn_params] == ["train", "train"]
    assert not FullyConnectedNet([4], input_dim=3).use_dropout


@pytest.mark.parametrize("name", sorted(GRADCHECK_MODELS))
def test_float32_model_computes_in_float32_and_leaves_input_alone(name):
    np.random.seed(0)
    config = GRADCHECK_MODELS[name]().get_config()
    model = type(GRADCHECK_MODELS[name]())(**{**config, "dtype": "float32"})
    X, y = _inputs(model, N=3, seed=2)  # float64 data, cast by the model
    X_before = X.copy()
    loss, grads = model.loss(X, y)
    scores = model.loss(X)
    assert scores.dtype == np.float32 and scores.shape == (3, config["num_classes"])
    assert np.asarray(loss).dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in grads.values())
    np.testing.assert_array_equal(X, X_before)


def test_l2_penalty_is_half_reg_times_squared_weights_only():
    np.random.seed(0)
    model = GRADCHECK_MODELS["conv_batchnorm"]()
    X, y = _inputs(model, N=4, seed=3)
    model.reg = 0.0
    plain, _ = model.loss(X, y)
    model.reg = 0.7
    regularized, _ = model.loss(X, y)
    weights = [value for name, value in model.params.items() if name.startswith("W")]
    penalty = 0.5 * 0.7 * sum(np.sum(w**2) for w in weights)
    np.testing.assert_allclose(regularized - plain, penalty, rtol=1e-10)


def test_batchnorm_running_statistics_are_state_and_used_at_test_time():
    np.random.seed(0)
    model = GRADCHECK_MODELS["fc_batchnorm_dropout"]()
    X, y = _inputs(model, N=10, seed=4)
    assert sorted(model.state()) == ["running_mean1", "running_mean2", "running_var1", "running_var2"]
    assert not any(value.any() for value in model.state().values())
    model.loss(X, y)
    trained = model.state()
    assert all(value.any() for value in trained.values())
    model.loss(X)  # test mode reads the running statistics without updating them
    for key, value in model.state().items():
        np.testing.assert_array_equal(value, trained[key])

    twin = FullyConnectedNet(**model.get_config())
    twin.params = {name: value.copy() for name, value in model.params.items()}
    assert not np.array_equal(twin.loss(X), model.loss(X))
    twin.load_state(model.state())
    np.testing.assert_array_equal(twin.loss(X), model.loss(X))


def test_load_state_rejects_wrong_keys_and_shapes():
    model = ConvNet.from_spec("c4-c4", input_dim=(1, 4, 4), normalization="batchnorm")
    state = model.state()
    with pytest.raises(ValueError, match="exactly the keys"):
        model.load_state({"running_mean1": state["running_mean1"]})
    with pytest.raises(ValueError, match="running_var2"):
        model.load_state({**state, "running_var2": np.zeros(5, np.float32)})
    with pytest.raises(TypeError, match="state must be a dict"):
        model.load_state([1, 2])
    assert ThreeLayerConvNet(input_dim=(1, 4, 4)).state() == {}


def test_dropout_with_a_seed_is_repeatable():
    np.random.seed(0)
    model = GRADCHECK_MODELS["fc_batchnorm_dropout"]()
    X, y = _inputs(model, N=5, seed=5)
    first = model.loss(X, y)[0]
    assert model.loss(X, y)[0] == first
    assert model.dropout_param["mode"] == "train"
    model.loss(X)
    assert model.dropout_param["mode"] == "test"


@pytest.mark.parametrize("name", sorted(GRADCHECK_MODELS))
def test_config_is_json_and_rebuilds_the_same_architecture(name):
    np.random.seed(0)
    model = GRADCHECK_MODELS[name]()
    config = model.get_config()
    rebuilt = type(model)(**json.loads(json.dumps(config)))
    assert rebuilt.get_config() == config
    assert {k: v.shape for k, v in rebuilt.params.items()} == {
        k: v.shape for k, v in model.params.items()
    }
    assert rebuilt.dtype is model.dtype is np.float64
    config["reg"] = 123.0  # a copy: the model's config is not changed through it
    assert model.get_config()["reg"] != 123.0


def test_from_spec_builds_the_described_network():
    model = ConvNet.from_spec("c16p-c32p-f128", input_dim=(3, 32, 32), normalization="batchnorm")
    config = model.get_config()
    assert config["num_filters"] == [16, 32]
    assert config["pool"] == [True, True]
    assert config["hidden_dims"] == [128]
    assert model.spec == "c16p-c32p-f128"
    assert model.params["W1"].shape == (16, 3, 3, 3)
    assert model.params["W2"].shape == (32, 16, 3, 3)
    assert model.params["W3"].shape == (32 * 8 * 8, 128)
    assert model.params["W4"].shape == (128, 10)
    assert model.params["gamma2"].shape == (32,)
    assert "gamma3" not in model.params
    plain = ConvNet.from_spec("c8-c8p", input_dim=(1, 6, 6), num_classes=3)
    assert plain.get_config()["pool"] == [False, True]
    assert plain.params["W3"].shape == (8 * 3 * 3, 3)


@pytest.mark.parametrize(
    "spec, token",
    [
        ("c16p-f128-c32", "c32"),
        ("f64", "f64"),
        ("c16-x3", "x3"),
        ("c0", "c0"),
        ("c16pp", "c16pp"),
        ("C16", "C16"),
        ("c16--f10", ""),
        ("", ""),
    ],
)
def test_from_spec_names_the_bad_token(spec, token):
    with pytest.raises(ValueError, match=f"bad token '{token}' in spec"):
        ConvNet.from_spec(spec)


def test_from_spec_refuses_arguments_the_spec_sets():
    with pytest.raises(ValueError, match="already sets"):
        ConvNet.from_spec("c8", num_filters=[4])
    with pytest.raises(TypeError, match="spec must be a string"):
        ConvNet.from_spec(["c8"])


def test_convnet_seed_makes_the_initialization_repeatable_and_he_scaled():
    first = ConvNet.from_spec("c64-c64", input_dim=(16, 4, 4), seed=5)
    second = ConvNet.from_spec("c64-c64", input_dim=(16, 4, 4), seed=5, dtype=np.float64)
    other = ConvNet.from_spec("c64-c64", input_dim=(16, 4, 4), seed=6)
    for name in first.params:
        np.testing.assert_array_equal(first.params[name], second.params[name].astype(np.float32))
    assert not np.array_equal(first.params["W1"], other.params["W1"])
    # He: std sqrt(2 / fan_in) with fan_in = C * 3 * 3 for a conv weight.
    assert abs(first.params["W1"].std() / np.sqrt(2 / (16 * 9)) - 1) < 0.05
    assert abs(first.params["W2"].std() / np.sqrt(2 / (64 * 9)) - 1) < 0.05
    gaussian = ConvNet.from_spec("c64", input_dim=(16, 4, 4), init="gaussian", weight_scale=0.5)
    assert abs(gaussian.params["W1"].std() / 0.5 - 1) < 0.05


def test_convnet_does_not_use_the_global_rng():
    np.random.seed(11)
    state = np.random.get_state()[1].copy()
    ConvNet.from_spec("c4p-f8", input_dim=(1, 4, 4), seed=None)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_groupnorm_parameters_have_the_spatial_groupnorm_shape():
    model = ConvNet.from_spec("c8", input_dim=(1, 4, 4), normalization="groupnorm", num_groups=4)
    assert model.params["gamma1"].shape == (1, 8, 1, 1)
    assert model.state() == {}


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: ThreeLayerConvNet(num_filters=0), ValueError, "num_filters must be a positive"),
        (lambda: ThreeLayerConvNet(filter_size=2.5), TypeError, "filter_size must be a positive"),
        (lambda: ThreeLayerConvNet(input_dim=(3, 32)), ValueError, r"input_dim must have 3"),
        (lambda: ThreeLayerConvNet(input_dim=(3, 7, 8)), ValueError, "height 7"),
        (lambda: ThreeLayerConvNet(dtype=np.int32), ValueError, "dtype must be one of"),
        (lambda: ThreeLayerConvNet(reg=-1.0), ValueError, "reg must be a finite number >= 0"),
        (lambda: ThreeLayerConvNet(weight_scale="big"), TypeError, "weight_scale must be a number"),
        (lambda: FullyConnectedNet(100), TypeError, r"hidden_dims must be a list.*\[100\]"),
        (lambda: FullyConnectedNet([10, 0]), ValueError, r"hidden_dims\[1\]"),
        (lambda: FullyConnectedNet([10], dropout_keep_ratio=0), ValueError, "dropout_keep_ratio"),
        (lambda: FullyConnectedNet([10], normalization="groupnorm"), ValueError, "normalization"),
        (lambda: FullyConnectedNet([10], seed=-1), ValueError, "seed must be None or"),
        (lambda: ConvNet(num_filters=[]), ValueError, "num_filters must contain"),
        (lambda: ConvNet(filter_size=4), ValueError, "filter_size must be odd"),
        (lambda: ConvNet(num_filters=[8, 8], pool=[True]), ValueError, "pool must be a bool or a list of 2"),
        (lambda: ConvNet(input_dim=(3, 6, 6), pool=True), ValueError, "conv block 2 pools .* height 3"),
        (
            lambda: ConvNet(num_filters=[8, 6], normalization="groupnorm", num_groups=4),
            ValueError,
            r"num_groups=4 does not divide num_filters\[1\]=6",
        ),
        (lambda: ConvNet(weight_scale=0.1), ValueError, "weight_scale applies only to init='gaussian'"),
        (lambda: ConvNet(init="xavier"), ValueError, "init must be one of"),
    ],
)
def test_constructors_reject_bad_arguments_clearly(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    "model, X",
    [
        (ThreeLayerConvNet(input_dim=(1, 4, 4)), np.zeros((2, 1, 4, 6))),
        (FullyConnectedNet([3], input_dim=12), np.zeros((2, 13))),
        (ConvNet.from_spec("c4", input_dim=(2, 4, 4)), np.zeros((2, 4, 4))),
    ],
)
def test_loss_rejects_inputs_of_the_wrong_shape(model, X):
    with pytest.raises(ValueError, match="X must"):
        model.loss(X)


@pytest.mark.parametrize("X", [[[1.0, 2.0]], np.array([["a", "b"]])])
def test_loss_rejects_inputs_that_are_not_numeric_arrays(X):
    with pytest.raises(TypeError, match="ConvNet.loss: X must"):
        ConvNet.from_spec("c4", input_dim=(2, 4, 4)).loss(X)


def test_config_is_plain_json_even_when_built_from_numpy_scalars():
    three = np.int64(3)
    models = [
        ThreeLayerConvNet(input_dim=(three, 4, 4), num_filters=three, reg=np.float32(0.5)),
        FullyConnectedNet([three], input_dim=np.int32(12), dropout_keep_ratio=np.float64(0.5)),
        ConvNet(input_dim=(three, 4, 4), num_filters=[three], init="gaussian",
                weight_scale=np.float32(0.0), seed=np.uint8(1)),
    ]
    for model in models:
        config = model.get_config()
        assert json.loads(json.dumps(config)) == config
    # weight_scale 0 is honoured, not replaced by the default.
    assert not models[2].params["W1"].any()
