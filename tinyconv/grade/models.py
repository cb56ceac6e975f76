"""What ``tinyconv grade`` checks of a learner's models: ``ThreeLayerConvNet.loss`` (``classifiers/cnn.py``) and
``FullyConnectedNet.loss`` (``classifiers/fc_net.py``), against tinyconv's models given the same parameters.

Each case builds the learner's model and tinyconv's with the same arguments, checks that they have the same
parameters (names and shapes), sets both to the same values, and compares the scores, the loss and every
gradient.
"""

import importlib

import numpy as np

from tinyconv import models as reference
from tinyconv.grade.cases import Case, Failure, Item, NotImplementedYet, _compare


class Missing(Exception):
    """The learner's folder has no such module or class."""


def _learner_class(learner, module, name):
    path = learner["__folder__"] / "classifiers" / f"{module}.py"
    if not path.is_file():
        raise Missing(f"{path} is absent")
    cls = getattr(importlib.import_module(f"cs231n.classifiers.{module}"), name, None)
    if cls is None:
        raise Missing(f"{path} has no {name}")
    return cls


def _model_check(module, name, reference_class):
    def check(learner, case):
        warnings = set()
        kwargs, X, y = case.arrays["kwargs"], case.arrays["X"], case.arrays["y"]
        model = _learner_class(learner, module, name)(**kwargs)
        expected = reference_class(**kwargs)
        snippet = (f"import numpy as np\nfrom cs231n.classifiers.{module} import {name}\n"
                   f"model = {name}(**{kwargs!r})\nX = np.random.default_rng(0).standard_normal({X.shape})\n"
                   f"y = np.arange({len(y)}) % {kwargs['num_classes']}\nloss, grads = model.loss(X, y)")
        if not getattr(model, "params", None):
            raise NotImplementedYet
        own = {key: np.shape(value) for key, value in model.params.items()}
        theirs = {key: value.shape for key, value in expected.params.items()}
        if own != theirs:
            return Failure(f"params: {own}, expected {theirs}", float("inf"), snippet), warnings
        values = np.random.default_rng(5)
        for key in theirs:  # the same values in both, large enough that every layer matters
            value = 0.3 * values.standard_normal(theirs[key])
            model.params[key], expected.params[key] = value.copy(), value.copy()
        scores = model.loss(X.copy())
        if scores is None:
            raise NotImplementedYet
        failure = _compare("scores", scores, expected.loss(X), X.dtype, snippet, warnings)
        if failure is not None:
            return failure, warnings
        loss, grads = model.loss(X.copy(), y)
        expected_loss, expected_grads = expected.loss(X, y)
        failure = _compare("loss", loss, expected_loss, X.dtype, snippet, warnings)
        for key in sorted(expected_grads):
            if failure is not None:
                break
            if key not in grads:
                return Failure(f"grads has no {key}", float("inf"), snippet), warnings
            failure = _compare(f"grads['{key}']", grads[key], expected_grads[key], X.dtype, snippet, warnings)
        return failure, warnings

    return check


def _cases(kwargs_list, input_shape):
    def cases(seed):
        rng = np.random.default_rng(seed)
        built = []
        for kwargs in kwargs_list:
            N = 3
            X = rng.standard_normal((N, *input_shape(kwargs)))
            y = rng.integers(kwargs["num_classes"], size=N)
            params = {key: value for key, value in kwargs.items() if key != "dtype"}
            built.append(Case(params, {"kwargs": {**kwargs, "dtype": np.float64}, "X": X, "y": y}))
        return built
    return cases


_THREE_LAYER = [dict(input_dim=(1, 4, 4), num_filters=2, filter_size=3, hidden_dim=3, num_classes=2, reg=0.0),
                dict(input_dim=(3, 6, 8), num_filters=3, filter_size=5, hidden_dim=4, num_classes=5, reg=0.3)]
_FULLY_CONNECTED = [dict(hidden_dims=[], input_dim=6, num_classes=3, reg=0.0),
                    dict(hidden_dims=[5, 4], input_dim=6, num_classes=3, reg=0.2),
                    dict(hidden_dims=[5, 4], input_dim=6, num_classes=3, reg=0.1, normalization="batchnorm"),
                    dict(hidden_dims=[4], input_dim=6, num_classes=2, reg=0.0, normalization="layernorm")]

ITEMS = (
    Item("ThreeLayerConvNet.loss", (), _cases(_THREE_LAYER, lambda kwargs: kwargs["input_dim"]),
         _model_check("cnn", "ThreeLayerConvNet", reference.ThreeLayerConvNet)),
    Item("FullyConnectedNet.loss", (), _cases(_FULLY_CONNECTED, lambda kwargs: (kwargs["input_dim"],)),
         _model_check("fc_net", "FullyConnectedNet", reference.FullyConnectedNet)),
)
