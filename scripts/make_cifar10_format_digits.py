"""Write the bundled digits as a CIFAR-10 python-format folder, to try the CIFAR-10 path offline.

Usage: ``python3 scripts/make_cifar10_format_digits.py OUT_DIR``

Each 8x8 digit is scaled up 4x to 32x32, copied into the three colour planes and stretched from
0..16 to 0..255. Rows 0..1499 fill data_batch_1..5 (300 each), rows 1500..1796 the test_batch.
The files have the layout of the real ones: protocol-2 pickles of dicts with bytes keys, 'data'
a uint8 array (N, 3072) of red, green and blue planes, 'labels' a list of ints.
"""

import pickle
import sys
from pathlib import Path

import numpy as np

from tinyconv.data import load_digits

TRAIN_ROWS_PER_BATCH = 300


def as_cifar_rows(images):
    """(N, 8, 8, 1) values 0..16 -> (N, 3072) uint8: three identical 32x32 planes."""
    large = images[..., 0].repeat(4, axis=1).repeat(4, axis=2)
    stretched = np.round(large * (255 / 16)).astype(np.uint8)
    return np.repeat(stretched.reshape(len(images), 1, 1024), 3, axis=1).reshape(len(images), 3072)


def write_batch(path, rows, labels, name):
    batch = {b"batch_label": name.encode(), b"labels": [int(label) for label in labels], b"data": rows,
             b"filenames": [f"digit_{index}.png".encode() for index in range(len(labels))]}
    with open(path, "wb") as file:
        pickle.dump(batch, file, protocol=2)


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images, labels = load_digits()
    rows = as_cifar_rows(images)
    for index in range(5):
        part = slice(index * TRAIN_ROWS_PER_BATCH, (index + 1) * TRAIN_ROWS_PER_BATCH)
        write_batch(out / f"data_batch_{index + 1}", rows[part], labels[part], f"training batch {index + 1} of 5")
    test = slice(5 * TRAIN_ROWS_PER_BATCH, None)
    write_batch(out / "test_batch", rows[test], labels[test], "testing batch 1 of 1")
    print(f"wrote {out}: {5 * TRAIN_ROWS_PER_BATCH} training and {len(rows[test])} test images")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
