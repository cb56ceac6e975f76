"""The ops that models are lists of: plans that match what forward computes, backward passes against float64
numerical gradients, the one loss loop, and seeded models that give the numbers they gave before the ops."""

import numpy as np
import pytest

from tinyconv import ops
from tinyconv.interop import _walk
from tinyconv.models import ConvNet, FullyConnectedNet, Model, ThreeLayerConvNet, TwoLayerNet

from .helpers import assert_close_across_machines, check_backward

# (op, input shape without the batch, normalizations it needs filled into its norm dicts)
OPS = [
    (ops.ConvBlock("1", 3, 3), (2, 5, 5)),
    (ops.ConvBlock("1", 3, 3, pool="max"), (2, 6, 4)),
    (ops.ConvBlock("1", 4, 3, "batchnorm", pool="avg"), (2, 4, 6)),
    (ops.ConvBlock("1", 4, 3, "groupnorm", num_groups=2), (3, 5, 4)),
    (ops.ConvBlock("1", 3, 4, pool="max"), (2, 7, 5)),  # an even filter size takes one off each side
    (ops.ConvBlock("1", 3, 3, dilation=2, pool="avg"), (2, 6, 8)),
    (ops.ConvBlock("1", None, 3, "batchnorm", stride=2, depthwise=True), (3, 5, 6)),  # PyTorch's floor on 6
    (ops.SeparableBlock(3, 4, 3, "batchnorm", stride=2), (3, 6, 5)),
    (ops.SeparableBlock(3, 4, 3, "groupnorm", num_groups=2), (2, 4, 3)),
    (ops.SeparableBlock(3, 5, 5), (2, 5, 4)),
    (ops.UpBlock("2", 4, "batchnorm"), (3, 2, 3)),
    (ops.UpBlock("2", 4, "groupnorm", num_groups=2), (2, 3, 2)),
    (ops.UpBlock("2", 3), (2, 2, 2)),
    (ops.ResidualBlock(2, 3, 3), (3, 5, 5)),
    (ops.ResidualBlock(2, 4, 3, stride=2), (3, 5, 6)),
    (ops.GlobalAvgPool(), (3, 4, 5)),
    (ops.Affine(1, 4), (2, 3, 2)),
    (ops.Affine(1, 4, relu=True), (6,)),
    (ops.Affine(1, 4, relu=True, normalization="batchnorm"), (5,)),
    (ops.Affine(1, 4, relu=True, normalization="layernorm"), (3, 2)),
]


def _planned(op, in_shape, rng, dtype=np.float64):
    """Parameters of the op's plan (drawn), its norm dicts and the plan."""
    plan = op.plan("test", in_shape)
    params = {name: rng.standard_normal(shape).astype(dtype) for name, shape in plan.params.items()}
    norms = [{"mode": "train"} for _ in plan.norms]
    return plan, params, norms


@pytest.mark.parametrize("op, in_shape", OPS, ids=lambda value: repr(value)[:60])
def test_the_plan_gives_the_shapes_forward_computes_and_backward_returns(op, in_shape, rng):
    plan, params, norms = _planned(op, in_shape, rng)
    x = rng.standard_normal((3, *in_shape))
    out, cache = op.forward(params, x, iter(norms), "train")
    assert out.shape == (3, *plan.out_shape)
    dx, grads = op.backward(rng.standard_normal(out.shape), cache, need_dx=True)
    assert dx.shape == x.shape
    assert set(grads) == set(plan.params)
    assert all(grads[name].shape == shape for name, shape in plan.params.items())
    # A batch norm's plan names the size of its running statistics, which forward fills in.
    for norm, statistics in zip(norms, plan.norms):
        if statistics is not None:
            assert norm["running_mean"].shape == (statistics,)


@pytest.mark.parametrize("op, in_shape", OPS, ids=lambda value: repr(value)[:60])
def test_backward_matches_a_float64_numerical_gradient(op, in_shape, rng):
    plan, params, norms = _planned(op, in_shape, rng)
    names = ["x", *plan.params]
    x = rng.standard_normal((2, *in_shape))

    def forward(x, *arrays):
        return op.forward({**params, **dict(zip(plan.params, arrays))}, x, iter(norms), "train")

    def backward(dout, cache):
        dx, grads = op.backward(dout, cache, need_dx=True)
        return (dx, *(grads[name] for name in plan.params))

    out, _ = forward(x, *params.values())
    check_backward(forward, backward, [x, *params.values()], rng.standard_normal(out.shape), names=names,
                   rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("op, in_shape", OPS[:7], ids=lambda value: repr(value)[:60])  # the conv ops
def test_without_need_dx_backward_gives_the_same_parameter_gradients_and_no_dx(op, in_shape, rng):
    _, params, norms = _planned(op, in_shape, rng)
    x = rng.standard_normal((2, *in_shape))
    out, cache = op.forward(params, x, iter(norms), "train")
    dout = rng.standard_normal(out.shape)
    dx, grads = op.backward(dout.copy(), cache, need_dx=False)
    _, expected = op.backward(dout.copy(), op.forward(params, x, iter(norms), "train")[1], need_dx=True)
    assert dx is None
    for name in grads:
        np.testing.assert_array_equal(grads[name], expected[name])


def test_a_pool_that_meets_an_odd_size_is_named_by_the_ops_label():
    with pytest.raises(ValueError, match=r"^Net: block 2 pools a feature map of height 5, but 2x2 pooling needs"):
        ops.ConvBlock("2", 4, 3, pool="max", label="block 2").plan("Net", (3, 5, 4))


def test_group_norm_needs_groups_that_divide_the_filters():
    with pytest.raises(ValueError, match=r"num_groups=3 does not divide the 4 filters of the conv block"):
        ops.ConvBlock("1", 4, 3, "groupnorm", num_groups=3).plan("Net", (3, 4, 4))


class _TinyMLP(Model):
    """A model that is only its op list: what a new model needs beyond its ops is a config and an init."""

    def __init__(self, dtype=np.float64):
        self._configure(dict(dtype=dtype))
        self._initialize()

    def _configure(self, config):
        config = self._arguments(config)
        self._configure_base({}, 0.0, config["dtype"])
        self._build([ops.Affine(1, 5, relu=True), ops.Dropout({"p": 0.5, "seed": 1}), ops.Affine(2, 3)], 4)

    def _initialize(self):
        rng = np.random.default_rng(0)
        self.params = {name: rng.standard_normal(shape) for name, shape in self._param_shapes.items()}


def test_a_model_of_ops_gets_the_one_loss_loop_with_its_modes():
    model = _TinyMLP()
    X, y = np.random.default_rng(1).standard_normal((6, 4)), np.array([0, 1, 2, 0, 1, 2])
    scores = model.loss(X)
    p = model.params
    np.testing.assert_allclose(scores, np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"])  # no dropout
    loss, grads = model.loss(X, y)
    assert set(grads) == set(p) and np.isfinite(loss)
    assert model.ops[1].param["mode"] == "train"


def test_the_exports_read_the_op_list_with_one_flatten_before_the_first_vector_op():
    model = ConvNet(spec="c4p-d0.5-f6", input_dim=(2, 4, 4), seed=0)
    kinds = [type(primitive).__name__ for primitive in _walk.operations("test", model, np.float32)]
    assert kinds == ["Conv", "ReLU", "Pool", "Flatten", "Dropout", "Affine", "ReLU", "Affine"]
    fc = FullyConnectedNet([5], input_dim=6, normalization="layernorm", dropout_keep_ratio=0.5)
    kinds = [type(primitive).__name__ for primitive in _walk.operations("test", fc, np.float64)]
    assert kinds == ["Flatten", "Affine", "LayerNorm", "ReLU", "Dropout", "Affine"]


def test_every_model_is_its_ops():
    assert [type(op).__name__ for op in ThreeLayerConvNet(input_dim=(1, 4, 4)).ops] == [
        "ConvBlock", "Affine", "Affine"]
    assert [type(op).__name__ for op in TwoLayerNet(input_dim=4).ops] == ["Affine", "Affine"]
    assert [type(op).__name__ for op in FullyConnectedNet([3, 3], input_dim=4, dropout_keep_ratio=0.5).ops] == [
        "Affine", "Dropout", "Affine", "Dropout", "Affine"]
    assert [type(op).__name__ for op in ConvNet(spec="c4-r4p-g-f3", input_dim=(1, 4, 4),
                                                normalization="batchnorm").ops] == [
        "ConvBlock", "ResidualBlock", "GlobalAvgPool", "Affine", "Affine"]


def _seeded_losses(model, shape, steps=2):
    """Losses of two plain SGD steps on a fixed batch, as tinyconv 0.3.0 (before the op lists) gave them."""
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((6, *shape)), rng.integers(0, 5, 6)
    losses = []
    for _ in range(steps):
        np.random.seed(11)
        loss, grads = model.loss(X, y)
        losses.append(loss)
        for name, grad in grads.items():
            model.params[name] = model.params[name] - 0.1 * grad
    return np.array(losses, dtype=model.dtype)


@pytest.mark.parametrize("dtype, expected", [(np.float64, [2.7557201663574484, 2.699693341733217]),
                                             (np.float32, [2.7557201385498047, 2.699693441390991])])
def test_a_seeded_three_layer_convnet_gives_the_losses_it_gave_before_the_op_lists(dtype, expected):
    np.random.seed(0)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=10, reg=0.1,
                              dtype=dtype, weight_scale=1e-1)
    assert_close_across_machines(_seeded_losses(model, (3, 8, 8)), np.array(expected, dtype))


@pytest.mark.parametrize("normalization, keep, dtype, expected", [
    ("batchnorm", 0.6, np.float64, [3.3801466643048217, 2.9329042404421877]),
    ("layernorm", 1, np.float64, [3.4487063352324308, 3.2084526120180614]),
    (None, 0.6, np.float32, [3.728776216506958, 2.750072717666626]),
])
def test_a_seeded_fully_connected_net_gives_the_losses_it_gave_before_the_op_lists(normalization, keep, dtype,
                                                                                   expected):
    np.random.seed(2)
    model = FullyConnectedNet([8, 7], input_dim=12, normalization=normalization, dropout_keep_ratio=keep, seed=3,
                              dtype=dtype, reg=0.05, weight_scale=0.3)
    assert_close_across_machines(_seeded_losses(model, (12,)), np.array(expected, dtype))


def test_a_models_summary_lists_each_op_with_its_output_parameters_and_multiply_adds():
    from tinyconv.models.summary import summary_text

    model = ConvNet(spec="c8p-r16p-g-f12-d0.5", input_dim=(3, 8, 10), normalization="batchnorm", seed=0)
    rows = model.summary()
    assert [row["op"] for row in rows] == [
        "conv 3x3, 8 filters - batchnorm - relu - 2x2 max pool", "residual block, 16 filters 3x3, stride 2",
        "global average pool", "affine, 12 units - relu", "dropout, keeping 0.5", "affine, 10 units"]
    assert [row["output"] for row in rows] == [(8, 4, 5), (16, 2, 3), (16,), (12,), (12,), (10,)]
    # Every parameter is counted once, in the op that owns it.
    assert sum(row["params"] for row in rows) == sum(value.size for value in model.params.values())
    # A conv's multiply-adds: filters x channels x window at each output pixel (before the pool); the
    # residual block's two 3x3 convs and its 1x1 projection at its 2x3 outputs; an affine layer's D x M.
    assert rows[0]["multiply_adds"] == 8 * 3 * 9 * 8 * 10
    assert rows[1]["multiply_adds"] == (16 * 8 * 9 + 16 * 16 * 9 + 16 * 8) * 2 * 3
    assert [row["multiply_adds"] for row in rows[2:]] == [0, 16 * 12, 0, 12 * 10]
    text = summary_text(model)
    assert text.splitlines()[0] == "ConvNet, input 3x8x10, float32"
    total = sum(row["params"] for row in rows)
    assert text.splitlines()[-1].startswith(f"{total:,} parameters")


def test_the_summary_command_prints_a_model_files_table(tmp_path):
    from tinyconv.serialization import save_model

    from .helpers import invoke

    path = tmp_path / "model.npz"
    save_model(path, TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3, dtype=np.float32))
    result = invoke("summary", path)
    assert result.exit_code == 0, result.output
    assert "affine, 4 units - relu" in result.output and "43 parameters" in result.output


def test_dropout_runs_in_the_mode_of_its_call_not_the_one_its_dict_records():
    # A model used by two threads, one training and one scoring: the dict holds the last call's mode, and
    # each forward must go by its own.
    model = ConvNet(spec="c4p-d0.5-f6", input_dim=(2, 4, 4), seed=0)
    dropout = model.ops[1]
    x = np.ones((3, 4, 2, 2))
    dropout.record_mode("train")
    out, _ = dropout.forward(model.params, x, iter([]), "test")
    np.testing.assert_array_equal(out, x)
    dropout.record_mode("test")
    out, _ = dropout.forward(model.params, x, iter([]), "train")
    assert set(np.unique(out)) == {0.0, 2.0}
