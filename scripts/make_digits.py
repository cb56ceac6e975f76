"""Regenerate tinyconv/data/digits.npz from scikit-learn's copy of the UCI digits.

Run once from the repository root: ``python3 scripts/make_digits.py``. Only this script needs
scikit-learn; tinyconv reads the resulting file with NumPy alone.

The file holds ``images``, uint8 (1797, 8, 8) with the original pixel counts 0..16, and
``labels``, uint8 (1797,) with the digit 0..9.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUTPUT = Path(__file__).resolve().parent.parent / "tinyconv" / "data" / "digits.npz"


def main():
    digits = load_digits()
    images = digits.images.astype(np.uint8)
    # The source values are whole counts 0..16; refuse to write a lossy copy if that ever changes.
    if not np.array_equal(images, digits.images):
        raise ValueError("scikit-learn's digits are no longer whole numbers 0..16")
    labels = digits.target.astype(np.uint8)
    np.savez_compressed(OUTPUT, images=images, labels=labels)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes): images {images.shape}, labels {labels.shape}")


if __name__ == "__main__":
    main()
