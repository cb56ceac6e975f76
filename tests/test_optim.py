"""Update rules against torch.optim, plus the contract every rule keeps.

PyTorch's optimizers compute the same updates in a different arrangement:
- SGD with momentum keeps ``buf = momentum * buf + g`` and steps ``-lr * buf``;
  tinyconv keeps ``v = momentum * v - lr * g`` and steps ``+v``. With a fixed
  learning rate ``v == -lr * buf``, so the weights agree.
- RMSprop: both add epsilon after the square root (``g / (sqrt(cache) + eps)``).
- Adam: PyTorch divides by ``sqrt(v) / sqrt(1 - beta2**t) + eps`` and scales the
  step by ``lr / (1 - beta1**t)``, which is algebraically the bias-corrected
  ``lr * m_hat / (sqrt(v_hat) + eps)``; only the rounding differs.
So the comparisons use tolerances at the level of rounding error.
"""

import numpy as np
import pytest

from tinyconv import optim
from tinyconv.gradcheck import rel_error
from .oracle import torch

RULES = ["sgd", "sgd_momentum", "rmsprop", "adam", "adamw"]


def _torch_optimizer(rule, param, config):
    if rule == "sgd":
        return torch.optim.SGD([param], lr=config["learning_rate"])
    if rule == "sgd_momentum":
        return torch.optim.SGD([param], lr=config["learning_rate"], momentum=config["momentum"])
    if rule == "rmsprop":
        return torch.optim.RMSprop(
            [param], lr=config["learning_rate"], alpha=config["decay_rate"], eps=config["epsilon"]
        )
    if rule == "adamw":
        return torch.optim.AdamW([param], lr=config["learning_rate"], betas=(config["beta1"], config["beta2"]),
                                 eps=config["epsilon"], weight_decay=config["weight_decay"])
    return torch.optim.Adam(
        [param], lr=config["learning_rate"], betas=(config["beta1"], config["beta2"]),
        eps=config["epsilon"],
    )


CONFIGS = {
    "sgd": {"learning_rate": 0.1},
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.8},
    "rmsprop": {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-6},
    "adam": {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6},
    "adamw": {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6, "weight_decay": 0.3},
}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_rule_matches_torch_over_several_steps(rule, dtype, tolerance):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 7)).astype(dtype)
    param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    config = dict(CONFIGS[rule])
    reference = _torch_optimizer(rule, param, config)
    for _ in range(6):
        dw = rng.standard_normal(w.shape).astype(dtype)
        w, config = getattr(optim, rule)(w, dw, config)
        param.grad = torch.from_numpy(dw.copy())
        reference.step()
        assert w.dtype == dtype
    assert rel_error(w, param.detach().numpy()) < tolerance


def _adam_by_hand(w, gradients, learning_rate, beta1, beta2, epsilon):
    """Adam written element by element from the paper (Kingma & Ba, Algorithm 1)."""
    w = w.astype(np.float64).ravel().tolist()
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    for t, grad in enumerate(gradients, start=1):
        for i, g in enumerate(grad.ravel().tolist()):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1**t)
            v_hat = v[i] / (1 - beta2**t)
            w[i] -= learning_rate * m_hat / (v_hat**0.5 + epsilon)
    return np.array(w)


def test_adam_matches_the_paper_written_out_by_hand():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((3, 4))
    gradients = [rng.standard_normal((3, 4)) for _ in range(4)]
    w, config = w0, None
    for dw in gradients:
        w, config = optim.adam(w, dw, config)
    expected = _adam_by_hand(w0, gradients, 1e-3, 0.9, 0.999, 1e-8)
    assert rel_error(w.ravel(), expected) < 1e-10
    assert config["t"] == 4


def test_adam_increments_t_before_use():
    # With t = 1 the bias corrections give m_hat = dw and v_hat = dw**2, so the
    # first step is learning_rate * dw / (|dw| + eps): about learning_rate in size.
    w = np.zeros(5)
    dw = np.array([-3.0, -0.5, 0.25, 1.0, 40.0])
    next_w, config = optim.adam(w, dw, {"learning_rate": 0.1})
    assert config["t"] == 1
    np.testing.assert_allclose(next_w, -0.1 * dw / (np.abs(dw) + 1e-8), rtol=1e-12)


def test_rmsprop_first_step_by_formula():
    w = np.array([1.0, -2.0, 3.0])
    dw = np.array([0.5, -1.0, 2.0])
    next_w, config = optim.rmsprop(w, dw)
    cache = 0.01 * dw**2
    np.testing.assert_allclose(config["cache"], cache, rtol=1e-14)
    np.testing.assert_allclose(next_w, w - 1e-2 * dw / (np.sqrt(cache) + 1e-8), rtol=1e-14)


DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adamw": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 1e-2},
}


def test_adamw_without_weight_decay_is_adam():
    rng = np.random.default_rng(3)
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_array_equal(optim.adamw(w, dw, {"weight_decay": 0.0})[0], optim.adam(w, dw)[0])


@pytest.mark.parametrize("rule", RULES)
def test_defaults_are_set_on_the_config_and_caller_values_kept(rule):
    w, dw = np.ones((2, 3)), np.full((2, 3), 0.5)
    _, config = getattr(optim, rule)(w, dw)
    for key, value in DEFAULTS[rule].items():
        assert config[key] == value
    mine = {"learning_rate": 0.123}
    _, returned = getattr(optim, rule)(w, dw, mine)
    assert returned is mine
    assert mine["learning_rate"] == 0.123


@pytest.mark.parametrize("rule", RULES)
def test_inputs_unmodified_and_float32_kept(rule):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    dw = rng.standard_normal((4, 5)).astype(np.float32)
    w_before, dw_before = w.copy(), dw.copy()
    # A float64 NumPy scalar hyperparameter must not upcast the weights.
    config = {"learning_rate": np.float64(1e-2)}
    for _ in range(2):
        next_w, config = getattr(optim, rule)(w, dw, config)
    np.testing.assert_array_equal(w, w_before)
    np.testing.assert_array_equal(dw, dw_before)
    assert next_w.dtype == np.float32
    assert not np.array_equal(next_w, w)
    for value in config.values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


@pytest.mark.parametrize("rule", RULES)
def test_mismatched_gradient_is_rejected(rule):
    update = getattr(optim, rule)
    with pytest.raises(ValueError, match=rf"{rule}: dw must have the shape of w"):
        update(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(TypeError, match=rf"{rule}: dw has dtype float64 but w has float32"):
        update(np.ones(3, dtype=np.float32), np.ones(3, dtype=np.float64))
    with pytest.raises(TypeError, match="config must be a dict"):
        update(np.ones(3), np.ones(3), [("learning_rate", 1.0)])


def test_state_of_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"config\['velocity'\]"):
        optim.sgd_momentum(np.ones(3), np.ones(3), {"velocity": np.zeros(4)})


@pytest.mark.parametrize(
    "rule, key", [("sgd_momentum", "velocity"), ("rmsprop", "cache"), ("adam", "m"), ("adam", "v")]
)
def test_state_of_another_dtype_or_not_an_array_is_rejected(rule, key):
    w = np.ones(3, dtype=np.float32)
    with pytest.raises(TypeError, match=rf"config\['{key}'\] has dtype float64 but w has float32"):
        getattr(optim, rule)(w, w.copy(), {key: np.zeros(3)})
    with pytest.raises(TypeError, match=rf"config\['{key}'\] must be a NumPy or CuPy array"):
        getattr(optim, rule)(w, w.copy(), {key: [0.0, 0.0, 0.0]})


@pytest.mark.parametrize("rule", RULES)
def test_integer_weights_are_rejected(rule):
    with pytest.raises(TypeError, match=f"{rule}: w must be a float32 or float64 array"):
        getattr(optim, rule)(np.ones(3, dtype=np.int64), np.ones(3, dtype=np.int64))
    with pytest.raises(TypeError, match=f"{rule}: w must be a NumPy or CuPy array"):
        getattr(optim, rule)([1.0, 2.0], [1.0, 2.0])
