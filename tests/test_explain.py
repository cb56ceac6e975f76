"""Why a prediction was made: saliency maps against numerical gradients of a class score, where a digits
model looks, and ``tinyconv explain``."""

import numpy as np
import pytest
from PIL import Image

from tinyconv.data import get_digits_data, load_digits
from tinyconv.explain import saliency
from tinyconv.models import ConvNet, FullyConnectedNet
from tinyconv.serialization import load_metadata, load_model

from .helpers import invoke


def _numerical_score_gradient(model, X, c, h=1e-5):
    """d scores[0, c] / d X by central differences, one pixel at a time."""
    grad = np.zeros_like(X)
    for index in np.ndindex(X.shape):
        bumped = X.copy()
        bumped[index] += h
        up = model.loss(bumped)[0, c]
        bumped[index] -= 2 * h
        grad[index] = (up - model.loss(bumped)[0, c]) / (2 * h)
    return grad


@pytest.mark.parametrize("build", [
    lambda: ConvNet.from_spec("c3p-s4-f5-d0.5", input_dim=(2, 6, 6), num_classes=4, normalization="batchnorm",
                              seed=0, dtype=np.float64),
    lambda: FullyConnectedNet([5], input_dim=12, num_classes=3, normalization="layernorm", dropout_keep_ratio=0.5,
                              weight_scale=0.3, dtype=np.float64, seed=1),
], ids=["convnet", "fc"])
def test_saliency_is_the_size_of_the_numerical_gradient_of_the_class_score(build, rng):
    model = build()
    for name, value in model.params.items():  # away from the ReLU kinks and the initial zero biases
        model.params[name] = value + 0.1 * rng.standard_normal(value.shape)
    for norm in model.bn_params:
        if "running_mean" in norm:  # statistics as after training, not zeros and ones
            norm["running_mean"] = rng.standard_normal(norm["running_mean"].shape) * 0.1
            norm["running_var"] = rng.uniform(0.5, 2, norm["running_var"].shape)
    shape = (1, 2, 6, 6) if isinstance(model, ConvNet) else (1, 3, 2, 2)
    X = rng.standard_normal(shape)
    c = 1
    expected = np.abs(_numerical_score_gradient(model, X, c)).max(axis=1)
    np.testing.assert_allclose(saliency(model, X, [c]), expected, rtol=1e-6, atol=1e-9)
    predicted = model.loss(X).argmax(axis=1)
    np.testing.assert_array_equal(saliency(model, X), saliency(model, X, predicted))  # the prediction by default


def test_input_gradient_and_saliency_refuse_what_does_not_fit(rng):
    model = ConvNet.from_spec("c2-f3", input_dim=(1, 4, 4), num_classes=3, seed=0, dtype=np.float64)
    X = rng.standard_normal((2, 1, 4, 4))
    with pytest.raises(ValueError, match=r"ConvNet.input_gradient: dscores must have the shape of the scores \(2, 3\)"):
        model.input_gradient(X, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"saliency: labels in y must lie in \[0, 3\)"):
        saliency(model, X, [0, 3])
    with pytest.raises(TypeError, match="saliency: model must be a tinyconv model"):
        saliency(object(), X)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    result = invoke("train", "--out", out)  # the default: ThreeLayerConvNet on the digits, seeded
    assert result.exit_code == 0, result.output
    return out


def test_a_digits_model_looks_at_the_strokes(digits_run):
    model, metadata = load_model(digits_run / "model.npz"), load_metadata(digits_run / "model.npz")
    data = get_digits_data(dtype=np.float32)
    raw = data["X_val"] + np.asarray(metadata["mean_image"], dtype=np.float32)
    maps = saliency(model, data["X_val"])
    strokes = raw[:, 0] > 0  # the digit's own pixels: those with ink
    mass = (maps * strokes).sum(axis=(1, 2)) / maps.sum(axis=(1, 2))
    assert mass.mean() > 0.5 and mass.mean() > strokes.mean()  # most of the mass, more than their share
    never_inked = np.asarray(metadata["mean_image"])[0] < 0.5  # the border no digit reaches
    assert maps[:, never_inked].mean() < 0.5 * maps[strokes].mean()


def test_explain_draws_a_picture_per_image_and_reports_one_it_cannot_read(digits_run, tmp_path):
    images, labels = load_digits()
    drawn = tmp_path / "three.png"  # a dark digit on white paper, as a photo of one would be
    Image.fromarray((255 - images[3][:, :, 0] * 15).astype(np.uint8)).resize((40, 40), Image.NEAREST).save(drawn)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    result = invoke("explain", digits_run / "model.npz", drawn, broken, "--out", tmp_path / "explained")
    assert result.exit_code == 2
    assert f"{drawn}: {labels[3]} (" in result.output and "broken.png: not a readable image" in result.output
    with Image.open(tmp_path / "explained" / "three_saliency.png") as picture:
        picture.load()
        assert picture.width > 300
    assert not (tmp_path / "explained" / "broken_saliency.png").exists()
