"""Training-time augmentation: random crops after zero padding and horizontal flips."""

import numpy as np
import pytest

from tinyconv.data.augment import RandomCropFlip


def _crop_by_loops(X, pad, rows, cols):
    N, C, H, W = X.shape
    padded = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return np.stack([padded[n, :, rows[n]:rows[n] + H, cols[n]:cols[n] + W] for n in range(N)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_crops_are_windows_of_the_padded_images_drawn_from_the_generator(dtype):
    X = np.random.default_rng(0).standard_normal((6, 2, 5, 4)).astype(dtype)
    before = X.copy()
    out = RandomCropFlip(pad=2)(X, np.random.default_rng(7))
    draws = np.random.default_rng(7)
    rows, cols = draws.integers(0, 5, size=6), draws.integers(0, 5, size=6)
    np.testing.assert_array_equal(out, _crop_by_loops(X, 2, rows, cols))
    assert out.dtype == dtype and out.shape == X.shape
    np.testing.assert_array_equal(X, before)


def test_flips_mirror_about_half_the_images_left_to_right():
    X = np.random.default_rng(1).standard_normal((200, 1, 3, 4))
    out = RandomCropFlip(flip=True)(X, np.random.default_rng(2))
    flipped = np.array([np.array_equal(o, x[..., ::-1]) for o, x in zip(out, X)])
    kept = np.array([np.array_equal(o, x) for o, x in zip(out, X)])
    assert (flipped ^ kept).all()
    assert 70 < flipped.sum() < 130


def test_the_same_seed_gives_the_same_batch_and_another_seed_another():
    X = np.random.default_rng(3).standard_normal((8, 3, 6, 6))
    augment = RandomCropFlip(pad=2, flip=True)
    first = augment(X, np.random.default_rng(4))
    np.testing.assert_array_equal(augment(X, np.random.default_rng(4)), first)
    assert not np.array_equal(augment(X, np.random.default_rng(5)), first)


def test_no_padding_and_no_flip_returns_a_copy():
    X = np.ones((2, 1, 3, 3))
    out = RandomCropFlip()(X, np.random.default_rng(0))
    np.testing.assert_array_equal(out, X)
    assert out is not X


def test_bad_settings_and_inputs_are_refused():
    with pytest.raises(ValueError, match="RandomCropFlip: pad must be a non-negative integer"):
        RandomCropFlip(pad=-1)
    with pytest.raises(TypeError, match="RandomCropFlip: flip must be True or False"):
        RandomCropFlip(flip=1)
    with pytest.raises(ValueError, match="RandomCropFlip: X must be 4-D"):
        RandomCropFlip(pad=1)(np.ones((2, 3, 3)), np.random.default_rng(0))


@pytest.mark.parametrize("text, expected", [
    ("none", None), ("crop2", RandomCropFlip(pad=2)), ("flip", RandomCropFlip(flip=True)),
    ("crop12-flip", RandomCropFlip(pad=12, flip=True)), ("crop3flip", RandomCropFlip(pad=3, flip=True)),
])
def test_from_text_reads_the_train_option(text, expected):
    assert RandomCropFlip.from_text(text) == expected


@pytest.mark.parametrize("text", ["", "-flip", "crop0", "crop-2", "rotate", "crop2-"])
def test_from_text_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError, match="RandomCropFlip: .* is not none, cropN, flip or cropN-flip"):
        RandomCropFlip.from_text(text)


def test_from_text_refuses_what_is_not_text():
    with pytest.raises(TypeError, match="RandomCropFlip: the text must be a str"):
        RandomCropFlip.from_text(2)
