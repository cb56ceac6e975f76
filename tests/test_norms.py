"""Batchnorm (both backward forms), layernorm, spatial batchnorm and spatial groupnorm."""

import numpy as np
import pytest

from tinyconv.layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)

from .oracle import F, torch
from .helpers import (
    DTYPES,
    FLOAT64_ORACLE,
    check_against_oracle,
    check_backward,
    check_layer_contract,
    check_rejects_bad_dout,
)

# (forward, backward, x shape, axes the statistics are taken over); batchnorm_backward_alt shares the forward.
BATCHNORMS = [
    pytest.param(batchnorm_forward, batchnorm_backward, (8, 4), (0,), id="batchnorm"),
    pytest.param(batchnorm_forward, batchnorm_backward_alt, (8, 4), (0,), id="batchnorm_alt"),
    pytest.param(spatial_batchnorm_forward, spatial_batchnorm_backward, (3, 4, 3, 2), (0, 2, 3), id="spatial"),
]
BN_FORWARDS = [
    pytest.param(batchnorm_forward, (8, 4), (0,), id="batchnorm"),
    pytest.param(spatial_batchnorm_forward, (3, 4, 3, 2), (0, 2, 3), id="spatial"),
]
GN_SHAPE = (2, 6, 3, 2)


def norm_inputs(rng, x_shape, param_shape, dtype=np.float64):
    """x with a non-trivial mean and scale, and gamma, beta away from 1 and 0."""
    return (
        (2.0 * rng.standard_normal(x_shape) + 1.0).astype(dtype),
        rng.uniform(0.5, 1.5, param_shape).astype(dtype),
        rng.standard_normal(param_shape).astype(dtype),
    )


def with_stats(axes, x):
    """Mean and biased variance over `axes`, shaped (C,)."""
    return x.mean(axis=axes), x.var(axis=axes)


def train_running_stats(forward, rng, x_shape, dtype, steps=4, momentum=0.9):
    """Run `steps` train-mode forwards; return the bn_param and the batches seen."""
    C = x_shape[1]
    gamma, beta = np.ones(C, dtype), np.zeros(C, dtype)
    bn_param = {"mode": "train", "momentum": momentum}
    batches = [(rng.standard_normal(x_shape) * (i + 1) + i).astype(dtype) for i in range(steps)]
    for batch in batches:
        forward(batch, gamma, beta, bn_param)
    return bn_param, batches


def expected_running_stats(batches, axes, momentum):
    """running = momentum * running + (1 - momentum) * batch statistic, from zeros, biased variance."""
    running_mean = running_var = 0.0
    for batch in batches:
        mean, var = with_stats(axes, batch.astype(np.float64))
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    return running_mean, running_var


def as_test_mode(bn_param):
    """A test-mode copy of a trained bn_param (copied so that the forward cannot alter the original)."""
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in bn_param.items()} | {"mode": "test"}


def bn(forward, bn_param):
    """The forward with bn_param closed over; a fresh copy each call so the test stays repeatable."""
    return lambda x, gamma, beta: forward(x, gamma, beta, dict(bn_param))


# ------------------------------------------------------------------------------- batchnorm, spatial bn


@pytest.mark.parametrize("forward, backward, x_shape, axes", BATCHNORMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_train_matches_torch(rng, forward, backward, x_shape, axes, dtype):
    inputs = norm_inputs(rng, x_shape, x_shape[1], dtype)
    dout = rng.standard_normal(x_shape).astype(dtype)
    check_against_oracle(
        bn(forward, {"mode": "train", "eps": 1e-5}),
        backward,
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5),
        inputs,
        dout,
        names=["x", "gamma", "beta"],
    )


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_running_stats_follow_the_cs231n_update(rng, forward, x_shape, axes, dtype):
    momentum = 0.8
    bn_param, batches = train_running_stats(forward, rng, x_shape, dtype, momentum=momentum)
    expected_mean, expected_var = expected_running_stats(batches, axes, momentum)
    tol = FLOAT64_ORACLE if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    assert bn_param["running_mean"].dtype == dtype and bn_param["running_var"].dtype == dtype
    assert bn_param["running_mean"].shape == (x_shape[1],)
    np.testing.assert_allclose(bn_param["running_mean"], expected_mean, **tol)
    np.testing.assert_allclose(bn_param["running_var"], expected_var, **tol)


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
def test_running_stats_start_at_zero_with_default_momentum(rng, forward, x_shape, axes):
    x, gamma, beta = norm_inputs(rng, x_shape, x_shape[1])
    bn_param = {"mode": "train"}
    forward(x, gamma, beta, bn_param)
    mean, var = with_stats(axes, x)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * var, rtol=1e-12)


@pytest.mark.parametrize("forward, backward, x_shape, axes", BATCHNORMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_test_mode_matches_torch_with_our_running_stats(rng, forward, backward, x_shape, axes, dtype):
    bn_param, _ = train_running_stats(forward, rng, x_shape, dtype)
    running_mean = torch.tensor(bn_param["running_mean"].astype(np.float64))
    running_var = torch.tensor(bn_param["running_var"].astype(np.float64))
    inputs = norm_inputs(rng, x_shape, x_shape[1], dtype)
    dout = rng.standard_normal(x_shape).astype(dtype)
    check_against_oracle(
        bn(forward, as_test_mode(bn_param)),
        backward,
        lambda x, g, b: F.batch_norm(x, running_mean, running_var, g, b, training=False, eps=1e-5),
        inputs,
        dout,
        names=["x", "gamma", "beta"],
    )


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_eps_is_read_from_the_dict(rng, forward, x_shape, axes, mode):
    x, gamma, beta = norm_inputs(rng, x_shape, x_shape[1])
    x *= 0.01  # small variance, so eps matters
    C = x_shape[1]
    running_mean, running_var = rng.standard_normal(C) * 0.01, rng.uniform(1e-4, 2e-4, C)
    bn_param = {"mode": mode, "eps": 1e-3, "running_mean": running_mean, "running_var": running_var}
    out, _ = forward(x, gamma, beta, bn_param)
    expected = F.batch_norm(
        torch.tensor(x), torch.tensor(running_mean), torch.tensor(running_var), torch.tensor(gamma),
        torch.tensor(beta), training=mode == "train", eps=1e-3,
    ).numpy()
    np.testing.assert_allclose(out, expected, **FLOAT64_ORACLE)


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
def test_batchnorm_accepts_numpy_scalars_for_momentum_and_eps(rng, forward, x_shape, axes):
    # Hyperparameters read from NumPy arrays or configs arrive as NumPy scalars, float32 included.
    x, gamma, beta = norm_inputs(rng, x_shape, x_shape[1], np.float32)
    reference = {"mode": "train", "momentum": 0.75, "eps": 1e-4}
    out_reference, _ = forward(x, gamma, beta, reference)
    for scalar in (np.float32, np.float64):
        bn_param = {"mode": "train", "momentum": scalar(0.75), "eps": scalar(1e-4)}
        out, _ = forward(x, gamma, beta, bn_param)
        np.testing.assert_allclose(out, out_reference, rtol=1e-6)
        np.testing.assert_allclose(bn_param["running_mean"], reference["running_mean"], rtol=1e-6)


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
@pytest.mark.parametrize("momentum", [-0.1, 1.5])
def test_batchnorm_rejects_momentum_outside_0_1(rng, forward, x_shape, axes, momentum):
    with pytest.raises(ValueError, match="momentum"):
        forward(*norm_inputs(rng, x_shape, x_shape[1]), {"mode": "train", "momentum": momentum})


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
def test_test_mode_leaves_running_stats_alone(rng, forward, x_shape, axes):
    bn_param, _ = train_running_stats(forward, rng, x_shape, np.float64)
    param = as_test_mode(bn_param)
    forward(*norm_inputs(rng, x_shape, x_shape[1]), param)
    np.testing.assert_array_equal(param["running_mean"], bn_param["running_mean"])
    np.testing.assert_array_equal(param["running_var"], bn_param["running_var"])


@pytest.mark.parametrize("forward, backward, x_shape, axes", BATCHNORMS)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_backward_numerical(rng, forward, backward, x_shape, axes, mode):
    bn_param, _ = train_running_stats(forward, rng, x_shape, np.float64)
    bn_param = as_test_mode(bn_param) if mode == "test" else {"mode": "train"}
    inputs = norm_inputs(rng, x_shape, x_shape[1])
    dout = rng.standard_normal(x_shape)
    check_backward(bn(forward, bn_param), backward, inputs, dout, names=["x", "gamma", "beta"])


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_backward_alt_equals_batchnorm_backward(rng, mode, dtype):
    bn_param, _ = train_running_stats(batchnorm_forward, rng, (8, 4), dtype)
    bn_param = as_test_mode(bn_param) if mode == "test" else {"mode": "train"}
    x, gamma, beta = norm_inputs(rng, (8, 4), 4, dtype)
    _, cache = batchnorm_forward(x, gamma, beta, bn_param)
    dout = rng.standard_normal((8, 4)).astype(dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    pairs = zip(batchnorm_backward_alt(dout, cache), batchnorm_backward(dout, cache), ["dx", "dgamma", "dbeta"])
    for alt, full, name in pairs:
        np.testing.assert_allclose(alt, full, **tol, err_msg=name)


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
def test_train_output_has_the_mean_beta_and_std_gamma(rng, forward, x_shape, axes):
    # The notebook check: per feature, the normalised output has mean beta and standard deviation gamma.
    x = 10.0 * rng.standard_normal(x_shape) + 12.0
    gamma, beta = np.array([1.0, 2.0, 3.0, 4.0]), np.array([11.0, 12.0, 13.0, 14.0])
    out, _ = forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=axes), beta, rtol=1e-10)
    np.testing.assert_allclose(out.std(axis=axes), gamma, rtol=1e-5)


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
def test_test_mode_normalises_with_learned_statistics(rng, forward, x_shape, axes):
    # The notebook check: after many train batches, test-mode output of a fresh batch is about N(0, 1).
    C = x_shape[1]
    gamma, beta, bn_param = np.ones(C), np.zeros(C), {"mode": "train"}
    for _ in range(60):
        forward(3.0 * rng.standard_normal((64,) + x_shape[1:]) + 5.0, gamma, beta, bn_param)
    bn_param["mode"] = "test"
    out, _ = forward(3.0 * rng.standard_normal((256,) + x_shape[1:]) + 5.0, gamma, beta, bn_param)
    np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=0.25)
    np.testing.assert_allclose(out.std(axis=axes), 1.0, atol=0.15)


@pytest.mark.parametrize("forward, backward, x_shape, axes", BATCHNORMS)
@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_dtype_and_purity(rng, forward, backward, x_shape, axes, mode, dtype):
    bn_param, _ = train_running_stats(forward, rng, x_shape, dtype)
    bn_param = as_test_mode(bn_param) if mode == "test" else {"mode": "train"}
    check_layer_contract(bn(forward, bn_param), backward, norm_inputs(rng, x_shape, x_shape[1], dtype), rng)


@pytest.mark.parametrize("forward, backward, x_shape, axes", BATCHNORMS)
def test_batchnorm_rejects_bad_dout(rng, forward, backward, x_shape, axes):
    inputs = norm_inputs(rng, x_shape, x_shape[1])
    check_rejects_bad_dout(bn(forward, {"mode": "train"}), backward, inputs)


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
def test_batchnorm_rejects_bad_inputs(rng, forward, x_shape, axes):
    x, gamma, beta = norm_inputs(rng, x_shape, x_shape[1])
    param = {"mode": "train"}
    C = x_shape[1]
    with pytest.raises(TypeError, match=r"\bx\b"):
        forward(x.tolist(), gamma, beta, param)
    with pytest.raises(TypeError, match=r"\bx\b"):
        forward(x.astype(np.int64), gamma, beta, param)
    with pytest.raises(ValueError, match=r"\bx\b"):
        forward(x[..., None], gamma, beta, param)
    with pytest.raises(ValueError, match="gamma"):
        forward(x, np.ones(C + 1), beta, param)
    with pytest.raises(ValueError, match="gamma"):
        forward(x, np.ones((1, C)), beta, param)
    with pytest.raises(ValueError, match="beta"):
        forward(x, gamma, np.zeros(C - 1), param)
    with pytest.raises(TypeError, match="gamma"):
        forward(x.astype(np.float32), gamma, beta.astype(np.float32), param)
    with pytest.raises(TypeError, match="beta"):
        forward(x, gamma, beta.astype(np.float32), param)


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
@pytest.mark.parametrize("bad_param", [{}, {"mode": "eval"}, {"mode": "Train"}, {"mode": None}])
def test_batchnorm_rejects_invalid_or_missing_mode(rng, forward, x_shape, axes, bad_param):
    with pytest.raises(ValueError, match="mode"):
        forward(*norm_inputs(rng, x_shape, x_shape[1]), bad_param)


@pytest.mark.parametrize("forward, x_shape, axes", BN_FORWARDS)
def test_batchnorm_rejects_running_stats_of_the_wrong_shape(rng, forward, x_shape, axes):
    x, gamma, beta = norm_inputs(rng, x_shape, x_shape[1])
    param = {"mode": "test", "running_mean": np.zeros(x_shape[1] + 1), "running_var": np.ones(x_shape[1] + 1)}
    with pytest.raises(ValueError, match="running_mean"):
        forward(x, gamma, beta, param)


# ------------------------------------------------------------------------------------------- layernorm


@pytest.mark.parametrize("dtype", DTYPES)
def test_layernorm_matches_torch(rng, dtype):
    x, gamma, beta = norm_inputs(rng, (5, 6), 6, dtype)
    dout = rng.standard_normal((5, 6)).astype(dtype)
    check_against_oracle(
        lambda x, g, b: layernorm_forward(x, g, b, {"eps": 1e-5}),
        layernorm_backward,
        lambda x, g, b: F.layer_norm(x, (6,), g, b, eps=1e-5),
        [x, gamma, beta],
        dout,
        names=["x", "gamma", "beta"],
    )


def test_layernorm_eps_is_read_from_the_dict(rng):
    x, gamma, beta = norm_inputs(rng, (3, 4), 4)
    x *= 0.01  # small variance, so eps matters
    out, _ = layernorm_forward(x, gamma, beta, {"eps": 1e-3})
    expected = F.layer_norm(torch.tensor(x), (4,), torch.tensor(gamma), torch.tensor(beta), eps=1e-3).numpy()
    np.testing.assert_allclose(out, expected, **FLOAT64_ORACLE)
    default, _ = layernorm_forward(x, gamma, beta, {})
    expected = F.layer_norm(torch.tensor(x), (4,), torch.tensor(gamma), torch.tensor(beta), eps=1e-5).numpy()
    np.testing.assert_allclose(default, expected, **FLOAT64_ORACLE)


def test_layernorm_output_is_normalised_per_sample(rng):
    x = 4.0 * rng.standard_normal((6, 50)) + 3.0
    out, _ = layernorm_forward(x, np.ones(50), np.zeros(50), {})
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=1), 1.0, rtol=1e-5)


def test_layernorm_backward_numerical(rng):
    inputs = norm_inputs(rng, (4, 5), 5)
    check_backward(
        lambda x, g, b: layernorm_forward(x, g, b, {}),
        layernorm_backward,
        inputs,
        rng.standard_normal((4, 5)),
        names=["x", "gamma", "beta"],
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_layernorm_dtype_and_purity(rng, dtype):
    forward = lambda x, g, b: layernorm_forward(x, g, b, {})  # noqa: E731
    check_layer_contract(forward, layernorm_backward, norm_inputs(rng, (4, 5), 5, dtype), rng)
    check_rejects_bad_dout(forward, layernorm_backward, norm_inputs(rng, (4, 5), 5, dtype))


def test_layernorm_rejects_bad_inputs(rng):
    x, gamma, beta = norm_inputs(rng, (4, 5), 5)
    with pytest.raises(TypeError, match=r"\bx\b"):
        layernorm_forward(x.astype(np.int32), gamma, beta, {})
    with pytest.raises(ValueError, match=r"\bx\b"):
        layernorm_forward(x[None], gamma, beta, {})
    with pytest.raises(ValueError, match="gamma"):
        layernorm_forward(x, np.ones(4), beta, {})
    with pytest.raises(ValueError, match="beta"):
        layernorm_forward(x, gamma, np.zeros((5, 1)), {})
    with pytest.raises(TypeError, match="gamma"):
        layernorm_forward(x, gamma.astype(np.float32), beta, {})


# --------------------------------------------------------------------------------------- groupnorm


def gn(G, eps=1e-5):
    return lambda x, g, b: spatial_groupnorm_forward(x, g, b, G, {"eps": eps})


def gn_inputs(rng, dtype=np.float64, shape=GN_SHAPE):
    return norm_inputs(rng, shape, (1, shape[1], 1, 1), dtype)


@pytest.mark.parametrize("G", [1, 2, 3, 6])
@pytest.mark.parametrize("dtype", DTYPES)
def test_groupnorm_matches_torch(rng, G, dtype):
    inputs = gn_inputs(rng, dtype)
    dout = rng.standard_normal(GN_SHAPE).astype(dtype)
    check_against_oracle(
        gn(G),
        spatial_groupnorm_backward,
        lambda x, g, b: F.group_norm(x, G, g.reshape(-1), b.reshape(-1), eps=1e-5),
        inputs,
        dout,
        names=["x", "gamma", "beta"],
    )


@pytest.mark.parametrize("G", [1, 3])
def test_groupnorm_backward_numerical(rng, G):
    check_backward(
        gn(G), spatial_groupnorm_backward, gn_inputs(rng), rng.standard_normal(GN_SHAPE), names=["x", "gamma", "beta"]
    )


def test_groupnorm_groups_are_contiguous_channels_normalised_per_sample(rng):
    x = 5.0 * rng.standard_normal((3, 6, 4, 5)) + 2.0
    out, _ = spatial_groupnorm_forward(x, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 2, {})
    groups = out.reshape(3, 2, 3 * 4 * 5)  # channels 0-2 and 3-5
    np.testing.assert_allclose(groups.mean(axis=2), 0.0, atol=1e-10)
    np.testing.assert_allclose(groups.std(axis=2), 1.0, rtol=1e-5)


def test_groupnorm_eps_is_read_from_the_dict(rng):
    x, gamma, beta = gn_inputs(rng)
    x *= 0.01
    out, _ = gn(2, eps=1e-2)(x, gamma, beta)
    expected = F.group_norm(
        torch.tensor(x), 2, torch.tensor(gamma.reshape(-1)), torch.tensor(beta.reshape(-1)), eps=1e-2
    ).numpy()
    np.testing.assert_allclose(out, expected, **FLOAT64_ORACLE)


@pytest.mark.parametrize("dtype", DTYPES)
def test_groupnorm_dtype_and_purity(rng, dtype):
    check_layer_contract(gn(3), spatial_groupnorm_backward, gn_inputs(rng, dtype), rng)
    check_rejects_bad_dout(gn(3), spatial_groupnorm_backward, gn_inputs(rng, dtype))


@pytest.mark.parametrize("G", [4, 5, 7, 12])
def test_groupnorm_rejects_G_not_dividing_C(rng, G):
    with pytest.raises(ValueError, match=r"\bG\b"):
        gn(G)(*gn_inputs(rng))


@pytest.mark.parametrize("G", [0, -2])
def test_groupnorm_rejects_non_positive_G(rng, G):
    with pytest.raises(ValueError, match=r"\bG\b"):
        gn(G)(*gn_inputs(rng))


def test_groupnorm_rejects_bad_inputs(rng):
    x, gamma, beta = gn_inputs(rng)
    C = GN_SHAPE[1]
    with pytest.raises(TypeError, match=r"\bG\b"):
        gn(2.0)(x, gamma, beta)
    with pytest.raises(TypeError, match=r"\bx\b"):
        gn(2)(x.astype(np.int16), gamma, beta)
    with pytest.raises(ValueError, match=r"\bx\b"):
        gn(2)(x[0], gamma, beta)
    with pytest.raises(ValueError, match="gamma"):
        gn(2)(x, np.ones((1, C + 1, 1, 1)), beta)
    with pytest.raises(ValueError, match="gamma"):
        gn(2)(x, np.ones((1, C, 2, 1)), beta)
    with pytest.raises(ValueError, match="beta"):
        gn(2)(x, gamma, np.zeros((C, 1, 1, 1)))
    with pytest.raises(TypeError, match="beta"):
        gn(2)(x, gamma, beta.astype(np.float32))


def test_groupnorm_on_an_empty_batch_gives_empty_results():
    x = np.zeros((0, 4, 3, 3))
    gamma, beta = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    out, cache = spatial_groupnorm_forward(x, gamma, beta, 2, {})
    dx, dgamma, dbeta = spatial_groupnorm_backward(out, cache)
    assert out.shape == dx.shape == (0, 4, 3, 3)
    np.testing.assert_array_equal(dgamma, np.zeros((1, 4, 1, 1)))
    np.testing.assert_array_equal(dbeta, np.zeros((1, 4, 1, 1)))


def test_the_graph_walking_backward_takes_a_spatial_cache_too(rng):
    x = rng.standard_normal((2, 3, 4, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    _, cache = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal(x.shape)
    for mine, expected in zip(batchnorm_backward(dout, cache), spatial_batchnorm_backward(dout, cache)):
        np.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-12)
