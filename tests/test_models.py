"""Models: numerical gradient checks, the cs231n expectations, configs, buffers, validation."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyconv.gradcheck import eval_numerical_gradient
from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet

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
    "two_layer": lambda: TwoLayerNet(input_dim=8, hidden_dim=6, num_classes=4, weight_scale=0.1, reg=0.1),
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
    # Every token of the spec grammar: a residual block keeping the shape, one widening it, one at stride 2
    # on an even size, average pooling, global pooling, hidden layers and (seeded) dropout.
    "conv_resnet": lambda: ConvNet.from_spec(
        "c3a-r3-r4-r5p-g-f5-d0.7", input_dim=(2, 8, 8), num_classes=4, normalization="batchnorm", reg=0.1,
        seed=3, dtype=np.float64,
    ),
    # The conv family's tokens: a dilated conv, depthwise-separable blocks at stride 1 and 2 (on an odd size,
    # then an even one), a transposed conv block doubling the size, under batch norm and group norm.
    "conv_mobile_batchnorm": lambda: ConvNet.from_spec(
        "c4d2-s6-s6p-u4-s6p-g", input_dim=(2, 7, 7), num_classes=4, normalization="batchnorm", reg=0.1,
        seed=6, dtype=np.float64,
    ),
    "conv_mobile_groupnorm": lambda: ConvNet.from_spec(
        "c4d2a-s6p-u4-f5", input_dim=(2, 8, 6), num_classes=4, normalization="groupnorm", num_groups=2,
        reg=0.1, seed=7, dtype=np.float64,
    ),
    "conv_dropout_before_flatten": lambda: ConvNet.from_spec(
        "c3p-d0.6-f4-d0.8", input_dim=(1, 4, 4), num_classes=4, seed=4, dtype=np.float64,
    ),
    "conv_label_smoothing": lambda: ConvNet.from_spec(
        "c3p-f4", input_dim=(1, 4, 4), num_classes=4, label_smoothing=0.2, reg=0.1, seed=5, dtype=np.float64,
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
    # Dropout masks come from NumPy's global RNG: the same draws for every loss evaluated below.
    model_loss = model.loss

    def loss(X, y=None):
        np.random.seed(7)
        return model_loss(X, y)

    model.loss = loss
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
    assert model.get_config()["spec"] == model.spec == "c16p-c32p-f128"
    lists = ConvNet(input_dim=(3, 32, 32), num_filters=[16, 32], pool=True, hidden_dims=[128],
                    normalization="batchnorm")
    assert lists.get_config() == model.get_config()
    assert model.params["W1"].shape == (16, 3, 3, 3)
    assert model.params["W2"].shape == (32, 16, 3, 3)
    assert model.params["W3"].shape == (32 * 8 * 8, 128)
    assert model.params["W4"].shape == (128, 10)
    assert model.params["gamma2"].shape == (32,)
    assert "gamma3" not in model.params
    plain = ConvNet.from_spec("c8-c8p", input_dim=(1, 6, 6), num_classes=3)
    assert ConvNet(input_dim=(1, 6, 6), num_filters=[8, 8], pool=[False, True], hidden_dims=[],
                   num_classes=3).spec == "c8-c8p"
    assert plain.params["W3"].shape == (8 * 3 * 3, 3)


def test_the_grammar_s_new_tokens_build_their_layers():
    model = ConvNet.from_spec("c8a-r8-r16p-r16p-g-d0.5-f32-d0.75", input_dim=(1, 28, 28), num_classes=10,
                              normalization="batchnorm")
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes["W1"] == (8, 1, 3, 3)  # then 2x2 average pooling: 14x14
    assert shapes["W2a"] == shapes["W2b"] == (8, 8, 3, 3) and "W2s" not in shapes  # identity shortcut
    assert shapes["W3a"] == (16, 8, 3, 3) and shapes["W3s"] == (16, 8, 1, 1)  # stride 2: 7x7
    assert shapes["W4a"] == (16, 16, 3, 3) and shapes["W4s"] == (16, 16, 1, 1)  # stride 2 on 7: 4x4
    assert shapes["W5"] == (16, 32)  # global pooling leaves the 16 channels
    assert shapes["W6"] == (32, 10)
    assert len(model.bn_params) == 1 + 2 + 3 + 3
    assert sorted(model.state()) == sorted(f"running_{stat}{k}" for stat in ("mean", "var") for k in range(1, 10))
    X = np.random.default_rng(0).standard_normal((2, 1, 28, 28))
    assert model.loss(X).shape == (2, 10)
    assert ConvNet.from_spec("c8p-f8", input_dim=(1, 8, 8)).params["W2"].shape == (8 * 4 * 4, 8)


def test_dropout_tokens_drop_in_training_only():
    model = ConvNet.from_spec("c2-d0.5", input_dim=(1, 4, 4), num_classes=3, seed=0, dtype=np.float64)
    X = np.random.default_rng(1).standard_normal((5, 1, 4, 4))
    np.testing.assert_array_equal(model.loss(X), model.loss(X))  # test mode: no dropout
    np.random.seed(0)
    first = model.loss(X, np.zeros(5, dtype=int))[0]
    second = model.loss(X, np.zeros(5, dtype=int))[0]
    assert first != second  # a new mask for every training batch


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
        ("g-f10", "g"),
        ("c8-g-c8", "c8"),
        ("c8-g-g", "g"),
        ("c8-d0", "d0"),
        ("c8-d1.5", "d1.5"),
        ("d0.5-c8", "d0.5"),
        ("c8-f4-r8", "r8"),
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
        (lambda: ThreeLayerConvNet(dtype=None), TypeError, "dtype must be one of .* got None"),
        (lambda: ThreeLayerConvNet(dtype=3.5), TypeError, "dtype must be one of"),
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
        (lambda: ConvNet(input_dim=(3, 6, 6), pool=True), ValueError, r"layer 2 \(c32p\) pools .* height 3"),
        (
            lambda: ConvNet(num_filters=[8, 6], normalization="groupnorm", num_groups=4),
            ValueError,
            r"num_groups=4 does not divide the 6 filters of layer 2 \(c6p\)",
        ),
        (lambda: ConvNet(spec="c8-r8"), ValueError, r"layer 2 \(r8\) is a residual block.*normalization='batchnorm'"),
        (lambda: ConvNet.from_spec("c8-r8a"), ValueError, "a residual block downsamples with 'p'"),
        (lambda: ConvNet(spec="c8", hidden_dims=[4]), ValueError, "spec or as num_filters/pool/hidden_dims, not both"),
        (lambda: ConvNet.from_spec("c8a", input_dim=(1, 5, 5)), ValueError, r"layer 1 \(c8a\) pools .* height 5"),
        (lambda: ConvNet(weight_scale=0.1), ValueError, "weight_scale applies only to init='gaussian'"),
        (lambda: ConvNet(init="pytorch", weight_scale=5.0), ValueError, "not init='pytorch'"),
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


# --- the 2019 starter's TwoLayerNet and dropout keyword -------------------------------------


def test_two_layer_net_reproduces_the_2019_notebook_checks():
    # The FullyConnectedNets notebook of 2019 sets these weights and compares with these numbers.
    N, D, H, C = 3, 5, 50, 7
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    correct_scores = np.asarray(
        [[11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
         [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
         [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]])
    assert np.abs(model.loss(X) - correct_scores).sum() < 1e-6
    y = np.asarray([0, 5, 1])
    assert abs(model.loss(X, y)[0] - 3.4702243556) < 1e-10
    model.reg = 1.0
    assert abs(model.loss(X, y)[0] - 26.5948426952) < 1e-10


def test_two_layer_net_is_float64_with_the_starter_initialization():
    np.random.seed(231)
    model = TwoLayerNet(input_dim=5, hidden_dim=50, num_classes=7, weight_scale=1e-3)
    np.random.seed(231)
    W1, W2 = 1e-3 * np.random.randn(5, 50), 1e-3 * np.random.randn(50, 7)
    assert model.dtype is np.float64 and all(p.dtype == np.float64 for p in model.params.values())
    np.testing.assert_array_equal(model.params["W1"], W1)
    np.testing.assert_array_equal(model.params["W2"], W2)
    assert not model.params["b1"].any() and model.params["b1"].shape == (50,)
    assert not model.params["b2"].any() and model.params["b2"].shape == (7,)
    assert TwoLayerNet(input_dim=4, hidden_dim=3, dtype=np.float32).params["W1"].dtype == np.float32


def _dropout_net(**kwargs):
    np.random.seed(0)
    return FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=5e-2, dtype=np.float64,
                             seed=123, **kwargs)


@pytest.mark.parametrize("keep", [1, 0.75, 0.5])
def test_the_2019_dropout_keyword_is_the_keep_ratio_with_a_warning(keep):
    with pytest.warns(DeprecationWarning, match="use dropout_keep_ratio"):
        old = _dropout_net(dropout=keep)
    new = _dropout_net(dropout_keep_ratio=keep)
    assert old.get_config() == new.get_config() and old.use_dropout == (keep != 1)
    X, y = np.random.default_rng(0).standard_normal((2, 15)), np.array([1, 7])
    assert old.loss(X, y)[0] == new.loss(X, y)[0]


def test_dropout_and_dropout_keep_ratio_together_are_refused():
    with pytest.raises(ValueError, match="dropout_keep_ratio or its old name dropout, not both"):
        _dropout_net(dropout=0.5, dropout_keep_ratio=0.75)


def test_a_bad_dropout_value_is_named_by_the_keyword_given():
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=r"^FullyConnectedNet: dropout \(the 2019 name .* must be a number"):
        _dropout_net(dropout=0)


def test_the_dropout_notebook_cell_prints_the_notebooks_initial_losses():
    # The Dropout notebook's check (2019 to 2024); solved notebooks print these losses.
    np.random.seed(231)
    X = np.random.randn(2, 15)
    y = np.random.randint(10, size=(2,))
    losses = [FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=5e-2, dtype=np.float64,
                                dropout_keep_ratio=keep, seed=123).loss(X, y)[0] for keep in [1, 0.75, 0.5]]
    np.testing.assert_allclose(losses, [2.300479089768492, 2.302371489704412, 2.30427592207859], rtol=1e-14)


def test_the_pytorch_initialization_draws_uniform_weights_of_its_bound():
    model = ConvNet.from_spec("c64-f32", input_dim=(16, 4, 4), init="pytorch", seed=3)
    for name, fan_in in (("W1", 16 * 9), ("W2", 64 * 16), ("W3", 32)):
        weights = model.params[name]
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(weights).max() <= bound
        assert abs(weights.std() / (bound / np.sqrt(3)) - 1) < 0.1, name
    again = ConvNet.from_spec("c64-f32", input_dim=(16, 4, 4), init="pytorch", seed=3)
    np.testing.assert_array_equal(again.params["W1"], model.params["W1"])


@given(st.floats(min_value=1e-12, max_value=1.0, exclude_min=False))
def test_a_dropout_keep_probability_survives_the_spec_and_the_config(keep):
    model = ConvNet.from_spec(f"c2-f3-d{np.format_float_positional(keep, trim='-')}", input_dim=(1, 2, 2))
    assert model.layers[-1].keep == keep
    assert ConvNet.from_config(model.get_config(), model.params).spec == model.spec


def test_label_smoothing_is_the_losss_and_survives_the_config(rng):
    from tinyconv.layers import softmax_loss

    plain = ConvNet.from_spec("c4p-f8", input_dim=(1, 4, 4), seed=1, dtype=np.float64)
    smoothed = ConvNet.from_spec("c4p-f8", input_dim=(1, 4, 4), seed=1, dtype=np.float64, label_smoothing=0.2)
    X, y = rng.standard_normal((5, 1, 4, 4)), rng.integers(0, 10, 5)
    loss, grads = smoothed.loss(X, y)
    assert loss == pytest.approx(softmax_loss(plain.loss(X), y, label_smoothing=0.2)[0], rel=1e-12)
    assert loss != pytest.approx(plain.loss(X, y)[0], rel=1e-3)
    rebuilt = ConvNet.from_config(json.loads(json.dumps(smoothed.get_config())), smoothed.params)
    assert rebuilt.get_config()["label_smoothing"] == 0.2 and rebuilt.loss(X, y)[0] == loss
    older = {key: value for key, value in smoothed.get_config().items() if key != "label_smoothing"}
    assert ConvNet.from_config(older, smoothed.params).get_config()["label_smoothing"] == 0.0
    with pytest.raises(ValueError, match=r"ConvNet: label_smoothing must be a number in \[0, 1\], got 2"):
        ConvNet.from_spec("c4", input_dim=(1, 4, 4), label_smoothing=2)


def test_load_state_refuses_buffers_of_another_dtype():
    model = ConvNet.from_spec("c4", input_dim=(1, 4, 4), normalization="batchnorm")
    state = {key: value.astype(np.float64) for key, value in model.state().items()}
    with pytest.raises(TypeError, match=r"ConvNet.load_state: state\['running_mean1'\] must have the model's dtype"):
        model.load_state(state)


def test_settings_drawn_by_numpy_are_taken_as_the_starter_took_them():
    # A random search draws its choices with np.random.choice, which gives NumPy strings: the starter
    # compared them with ==, so they are the same settings.
    np.random.seed(0)
    normalization = np.random.choice(["batchnorm", "layernorm"])
    assert type(normalization) is np.str_
    model = FullyConnectedNet([4], input_dim=3, normalization=normalization)
    assert type(model.normalization) is str and model.get_config()["normalization"] == str(normalization)
    json.dumps(model.get_config())
    with pytest.raises(ValueError, match=r"normalization must be one of \[None, 'batchnorm', 'layernorm'\], got True"):
        FullyConnectedNet([4], input_dim=3, normalization=True)


@pytest.mark.parametrize("model_class, config", [
    (ConvNet, {"input_dim": [3, 8, 8], "spec": "c4p-r4-f6", "normalization": "batchnorm", "dtype": "float32"}),
    (FullyConnectedNet, {"hidden_dims": [5, 6], "input_dim": 12, "normalization": "layernorm"}),
])
def test_zeros_builds_the_configs_model_with_every_array_zero(model_class, config):
    model = model_class.zeros(config)
    drawn = model_class.from_config(config, {name: np.ones(shape, model.dtype)
                                             for name, shape in model.param_shapes().items()})
    assert model.get_config() == drawn.get_config()
    assert {name: value.shape for name, value in model.params.items()} == model.param_shapes()
    assert all(value.dtype == model.dtype and not value.any() for value in model.params.values())
    assert all(value.dtype == model.dtype and not value.any() for value in model.state().values())
    with pytest.raises((TypeError, ValueError), match="dtype"):  # the config is checked as from_config checks it
        model_class.zeros({**config, "dtype": "int32"})
