"""Data augmentation for training minibatches: random crops after zero padding, and horizontal flips.

An augmentation is a callable ``augment(X, rng) -> X`` for a minibatch ``X (N, C, H, W)`` and a NumPy
``Generator``; the Solver calls it on every training minibatch with its own seeded generator, so a seeded
run augments the same way each time and a resumed run goes on exactly.
"""

import re
from dataclasses import dataclass

from .. import _checks
from .._backend import array_module


@dataclass(frozen=True)
class RandomCropFlip:
    """Shift each image by up to ``pad`` pixels each way (a random crop of the image padded with ``pad``
    zeros on every side) and, with ``flip``, mirror it left to right with probability 1/2.

    The images are mean-subtracted by then, so the zeros of the padding are the mean image's values: an
    average background rather than black. A flip suits photos (CIFAR-10) but not digits, where a mirrored
    digit is another digit or none.

    Parameters
    ----------
    pad : int >= 0
        Largest shift in pixels.
    flip : bool
        Whether to mirror half the images.
    """

    pad: int = 0
    flip: bool = False

    _TEXT = re.compile(r"none|(?:crop([1-9][0-9]*))?(-?flip)?")

    @classmethod
    def from_text(cls, text):
        """The augmentation that ``text`` names, as ``tinyconv train --augment`` takes it: 'none' (None),
        'cropN' (shifts of up to N pixels), 'flip' or 'cropN-flip'."""
        if not isinstance(text, str):
            raise TypeError(f"RandomCropFlip: the text must be a str such as 'crop2-flip', got {_checks.describe(text)}")
        match = cls._TEXT.fullmatch(text)
        if not match or text in ("", "-flip"):
            raise ValueError(f"RandomCropFlip: {text!r} is not none, cropN, flip or cropN-flip (N: the largest "
                             "shift in pixels), e.g. crop2 or crop4-flip")
        pad, flip = match.group(1), bool(match.group(2))
        return None if text == "none" else cls(pad=int(pad or 0), flip=flip)

    def __post_init__(self):
        _checks.integer("RandomCropFlip", "pad", self.pad, minimum=0)
        _checks.boolean("RandomCropFlip", "flip", self.flip)

    def check_images(self, height, width):
        """A ValueError unless the shift suits images of ``height`` x ``width``: at most a quarter of the
        shorter side (crops of 2 on 8x8 digits, 8 on 32x32 photos), since a crop shifted by the image's size
        or more holds nothing of it."""
        limit = min(height, width) // 4
        if self.pad > limit:
            raise ValueError(f"RandomCropFlip: a shift of up to {self.pad} pixels is too large for images of "
                             f"{height}x{width}; shift by at most a quarter of the shorter side, {limit}")

    def __call__(self, X, rng):
        """A new minibatch ``(N, C, H, W)`` of X's dtype; X is not modified. Draws the rows' and columns'
        offsets, then the flips, from ``rng``."""
        _checks.float_array("RandomCropFlip", "X", X, 4, "(N, C, H, W)")
        xp = array_module(X)
        N, C, H, W = X.shape
        out = X
        if self.pad:
            pad = self.pad
            padded = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=X.dtype)
            padded[:, :, pad:pad + H, pad:pad + W] = X
            rows = xp.asarray(rng.integers(0, 2 * pad + 1, size=N))
            cols = xp.asarray(rng.integers(0, 2 * pad + 1, size=N))
            # Index (n, c, i, j) of the crop reads padded[n, c, rows[n] + i, cols[n] + j].
            i = rows[:, None, None, None] + xp.arange(H)[None, None, :, None]
            j = cols[:, None, None, None] + xp.arange(W)[None, None, None, :]
            out = padded[xp.arange(N)[:, None, None, None], xp.arange(C)[None, :, None, None], i, j]
        if self.flip:
            mirrored = xp.asarray(rng.random(N) < 0.5)
            out = xp.where(mirrored[:, None, None, None], out[..., ::-1], out)
        return out if out is not X else X.copy()

