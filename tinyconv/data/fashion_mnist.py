"""Fashion-MNIST from its IDX files: 70,000 28x28 grayscale images of 10 kinds of clothing.

The files come from https://github.com/zalandoresearch/fashion-mnist or, on Debian and Ubuntu,
the package ``dataset-fashion-mnist`` (installed in /usr/share/datasets/fashion-mnist).
Each may be gzipped or not.
"""

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ._prepare import DataSourceMissing, holdout_splits

FILE_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NUM_CLASSES = 10
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
ENV_VAR = "TINYCONV_FASHION_MNIST"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE_TYPE_CODE = 0x08


# The most values an IDX file may hold (Fashion-MNIST's training images are 47 million): a header that
# promises more is refused before anything is inflated or allocated.
MAX_VALUES = 2**30


def _open(path):
    """The file as a stream of its bytes, inflated as it is read when it is gzipped."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_idx(path, ndim):
    """Read an IDX file of unsigned bytes with ``ndim`` dimensions.

    The header is two zero bytes, a type code (0x08 for unsigned bytes), the number of
    dimensions, then each dimension as a big-endian uint32; the values follow.

    Parameters
    ----------
    path : str or path-like
        The file, gzipped or not (recognised by its content, not its name).
    ndim : int
        Dimensions expected: 3 for images, 1 for labels.

    Returns
    -------
    ndarray of uint8 with ``ndim`` dimensions, shaped as the header says.

    Raises
    ------
    ValueError
        If the header is not an IDX header of unsigned bytes with ``ndim`` dimensions or the
        payload is shorter or longer than the header promises.
    """
    path = Path(path)
    header_length = 4 + 4 * ndim
    try:
        # Read as a stream: the header is checked before the values are inflated, and no more is inflated
        # than it promises (a small gzip of zeros could otherwise inflate to gigabytes first).
        with _open(path) as stream:
            header = stream.read(header_length)
            if len(header) < header_length:
                raise ValueError(f"{path}: {len(header)} bytes is too short for an IDX header")
            if header[:2] != b"\x00\x00" or header[2] != _UBYTE_TYPE_CODE or header[3] != ndim:
                raise ValueError(f"{path}: bad IDX magic {header[:4].hex()}, expected 000008{ndim:02x} "
                                 f"(unsigned bytes, {ndim} dimensions)")
            shape = tuple(int(size) for size in np.frombuffer(header, dtype=">u4", count=ndim, offset=4))
            expected = math.prod(shape)  # exact: np.prod could wrap around on a crafted header
            if expected > MAX_VALUES:
                raise ValueError(f"{path}: header promises {shape} = {expected:,} values, more than the "
                                 f"{MAX_VALUES:,} an IDX file of tinyconv's datasets holds")
            values = stream.read(expected)
            if len(values) != expected or stream.read(1):
                found = str(len(values)) if len(values) != expected else f"more than {expected}"
                raise ValueError(f"{path}: header promises {shape} = {expected} bytes of values, file has {found}")
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: damaged gzip stream ({error})") from error
    return np.frombuffer(values, dtype=np.uint8).reshape(shape)


def _find_file(root, stem):
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"Fashion-MNIST file not found: {root / stem} (or {stem}.gz)")


def _load_split(root, split):
    images_path = _find_file(root, FILE_STEMS[f"{split}_images"])
    labels_path = _find_file(root, FILE_STEMS[f"{split}_labels"])
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise ValueError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise ValueError(f"{labels_path}: labels must lie in 0..{NUM_CLASSES - 1}, found {labels.max()}")
    return images[..., np.newaxis], labels.astype(np.int64)


def load_fashion_mnist(root):
    """Load Fashion-MNIST from the folder ``root`` holding its four IDX files.

    Returns
    -------
    Xtr : ndarray of uint8, shape (60000, 28, 28, 1)
        NHWC training images, values 0..255.
    ytr : ndarray of int64, shape (60000,)
    Xte : ndarray of uint8, shape (10000, 28, 28, 1)
    yte : ndarray of int64, shape (10000,)
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Fashion-MNIST folder not found: {root}")
    return (*_load_split(root, "train"), *_load_split(root, "test"))


def resolve_fashion_mnist_dir(root):
    """Return ``root``, else $TINYCONV_FASHION_MNIST, else Debian's folder if present.

    Raises DataSourceMissing (a ValueError) when none of them is available.
    """
    for candidate in (root, os.environ.get(ENV_VAR)):
        if candidate:
            return candidate
    if Path(DEBIAN_DIR).is_dir():
        return DEBIAN_DIR
    raise DataSourceMissing(
        f"Fashion-MNIST folder not given: pass root= (the command line's --data-dir) or set {ENV_VAR} "
        "to a folder with train-images-idx3-ubyte(.gz) and the other three IDX files "
        f"(Debian/Ubuntu: apt-get install dataset-fashion-mnist puts them in {DEBIAN_DIR})")


def get_fashion_mnist_data(root=None, num_training=59000, num_validation=1000, num_test=10000,
                           subtract_mean=True, dtype=np.float32):
    """Fashion-MNIST split and preprocessed like ``get_CIFAR10_data``.

    Validation takes training rows ``num_training .. num_training + num_validation``, training
    the rows before them, test the first ``num_test`` test images.

    Parameters
    ----------
    root : str or path-like, optional
        Folder of the IDX files; see ``resolve_fashion_mnist_dir`` for the defaults.
    num_training, num_validation, num_test : int
    subtract_mean : bool
    dtype : float32 or float64

    Returns
    -------
    dict
        ``X_train, X_val, X_test`` of shape ``(N, 1, 28, 28)``, ``y_train, y_val, y_test`` int64 ``(N,)``.
    """
    return holdout_splits("get_fashion_mnist_data", lambda: load_fashion_mnist(resolve_fashion_mnist_dir(root)), "Fashion-MNIST",
                          num_training, num_validation, num_test, subtract_mean, dtype)
