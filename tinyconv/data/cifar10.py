"""CIFAR-10 in its python format (the ``cifar-10-batches-py`` folder), read without trusting pickle.

The batches are pickles, and unpickling runs whatever callables a file names. The unpickler here
resolves only the few globals a real batch refers to (numpy's array reconstruction for a uint8
array and the bytes codec of Python 3 pickles), each behind a check of its arguments, and refuses
everything else before it can run.
"""

import os
import pickle
from pathlib import Path

import numpy as np

from ._prepare import DataSourceMissing, holdout_splits

TRAIN_BATCHES = tuple(f"data_batch_{index}" for index in range(1, 6))
TEST_BATCH = "test_batch"
NUM_CLASSES = 10
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")
ENV_VAR = "TINYCONV_CIFAR10"
_ROW_LENGTH = 32 * 32 * 3

# numpy's own unpickling hook for arrays, taken from an array rather than a private module path.
_numpy_reconstruct = np.empty(0).__reduce__()[0]


def _refuse(what):
    raise pickle.UnpicklingError(f"refusing {what}: a CIFAR-10 batch holds only a dict of bytes, "
                                 "strings, ints, lists and one uint8 array")


def _latin1_bytes(text, encoding):
    """Python 3 protocol-2 pickles spell bytes as ``_codecs.encode(text, 'latin1')``."""
    if not isinstance(text, str) or encoding != "latin1":
        _refuse(f"_codecs.encode called with {type(text).__name__}, {encoding!r}")
    return text.encode("latin1")


class _NdarrayToken:
    """Stands in for numpy.ndarray in a batch; only _empty_ndarray accepts it.

    Calling numpy.ndarray itself would allocate an array of any size the pickle names, so a call
    is refused.
    """

    def __call__(self, *args, **kwargs):
        _refuse("a direct call of numpy.ndarray")


_NDARRAY_TOKEN = _NdarrayToken()


def _empty_ndarray(subtype, shape, typecode):
    """The first step of unpickling an array: an empty ndarray that BUILD then fills."""
    if subtype is not _NDARRAY_TOKEN or tuple(shape) != (0,):
        _refuse(f"array reconstruction of {subtype!r} with shape {shape!r}")
    return _numpy_reconstruct(np.ndarray, (0,), typecode)


def _uint8_dtype(spec, align=False, copy=False):
    if spec != "u1":
        _refuse(f"array dtype {spec!r}")
    return np.dtype(spec, align, copy)


_ALLOWED_GLOBALS = {
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy.core.multiarray", "_reconstruct"): _empty_ndarray,
    ("numpy._core.multiarray", "_reconstruct"): _empty_ndarray,
    ("numpy", "ndarray"): _NDARRAY_TOKEN,
    ("numpy", "dtype"): _uint8_dtype,
}


class _BatchUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in ``_ALLOWED_GLOBALS``."""

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            _refuse(f"global {module}.{name}")


def unpickle_batch(file):
    """Unpickle one object from the open binary ``file`` with the restricted unpickler.

    Accepts only what a CIFAR-10 batch holds (dicts, lists, bytes, strings, ints and uint8 arrays);
    any other global is refused with ``pickle.UnpicklingError`` before it can run.
    """
    return _BatchUnpickler(file, encoding="latin1").load()


def _unpickle_batch(path):
    with open(path, "rb") as file:
        try:
            return unpickle_batch(file)
        # A damaged or hostile stream can fail in many ways inside the unpickler (bad opcode,
        # EOF, wrong argument types); all of them mean the same thing to the caller.
        except Exception as error:
            raise ValueError(f"{path}: not a valid CIFAR-10 batch ({type(error).__name__}: {error})") from error


def _text_keys(batch, path):
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a dict, the pickle holds a {type(batch).__name__}")
    # Python 2 wrote str keys (read back as str with latin1); Python 3 writers often use bytes.
    return {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in batch.items()}


def load_CIFAR_batch(filename):
    """Load one CIFAR-10 batch file.

    Parameters
    ----------
    filename : str or path-like

    Returns
    -------
    images : ndarray of float64, shape (N, 32, 32, 3)
        NHWC, pixel values 0..255 (float64, as in the cs231n starter code); N is 10000 in the
        real batches.
    labels : ndarray of int64, shape (N,)
        Classes 0..9.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not an intact CIFAR-10 batch: corrupt or truncated, names anything but the
        few globals a batch needs, or holds data of the wrong shape, dtype or label range.
    """
    images, labels = _read_batch(filename)
    return images.astype(np.float64), labels


def _read_batch(filename):
    """:func:`load_CIFAR_batch` with the images kept as stored: uint8 ``(N, 32, 32, 3)``."""
    path = Path(filename)
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch file not found: {path}")
    batch = _text_keys(_unpickle_batch(path), path)
    missing = {"data", "labels"} - batch.keys()
    if missing:
        raise ValueError(f"{path}: batch is missing {sorted(missing)}; it has {sorted(map(str, batch))}")
    data, labels = batch["data"], batch["labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _ROW_LENGTH:
        raise ValueError(f"{path}: 'data' must be a uint8 array of shape (N, {_ROW_LENGTH}), "
                         f"got {type(data).__name__} {getattr(data, 'dtype', '')} {getattr(data, 'shape', '')}")
    if not isinstance(labels, (list, tuple)) or not all(type(label) is int for label in labels):
        raise ValueError(f"{path}: 'labels' must be a list of ints")
    outside = next((label for label in labels if not 0 <= label < NUM_CLASSES), None)
    if outside is not None:  # checked as Python ints: 2**63 does not fit an int64
        raise ValueError(f"{path}: labels must lie in 0..{NUM_CLASSES - 1}, found {outside}")
    labels = np.array(labels, dtype=np.int64)
    if labels.shape != (len(data),):
        raise ValueError(f"{path}: {len(data)} images but {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{path}: labels must lie in 0..{NUM_CLASSES - 1}, "
                         f"found {labels.min()}..{labels.max()}")
    # Each row is 1024 red, then 1024 green, then 1024 blue values, each plane row-major.
    images = data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels


def _load_uint8(root):
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"CIFAR-10 folder not found: {root} (expected the extracted "
                                f"cifar-10-batches-py folder holding {', '.join(TRAIN_BATCHES)}, {TEST_BATCH})")
    train = [_read_batch(root / name) for name in TRAIN_BATCHES]
    Xtr = np.concatenate([images for images, _ in train])
    ytr = np.concatenate([labels for _, labels in train])
    Xte, yte = _read_batch(root / TEST_BATCH)
    return Xtr, ytr, Xte, yte


def load_CIFAR10(root):
    """Load all of CIFAR-10 from the python-format folder ``root``.

    Returns
    -------
    Xtr : ndarray of float64, shape (50000, 32, 32, 3)
        Training images, pixel values 0..255 (float64, as in the cs231n starter code).
    ytr : ndarray of int64, shape (50000,)
    Xte : ndarray of float64, shape (10000, 32, 32, 3)
    yte : ndarray of int64, shape (10000,)
    """
    Xtr, ytr, Xte, yte = _load_uint8(root)
    return Xtr.astype(np.float64), ytr, Xte.astype(np.float64), yte


def resolve_cifar10_dir(cifar10_dir):
    """Return ``cifar10_dir``, else the folder named by $TINYCONV_CIFAR10.

    Raises DataSourceMissing (a ValueError) when neither is given.
    """
    if cifar10_dir is not None:
        return cifar10_dir
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return from_env
    raise DataSourceMissing(
        "CIFAR-10 folder not given: pass cifar10_dir='.../cifar-10-batches-py' (the command line's "
        f"--data-dir) or set the environment variable {ENV_VAR}; the data is the 'CIFAR-10 python "
        "version' from https://www.cs.toronto.edu/~kriz/cifar.html")


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True,
                     cifar10_dir=None, dtype=np.float32):
    """CIFAR-10 split and preprocessed for a Solver.

    Validation takes training rows ``num_training .. num_training + num_validation``, training
    the rows before them, test the first ``num_test`` test images.

    Parameters
    ----------
    num_training, num_validation, num_test : int
    subtract_mean : bool
        Subtract the mean training image from every split.
    cifar10_dir : str or path-like, optional
        The ``cifar-10-batches-py`` folder; defaults to $TINYCONV_CIFAR10.
    dtype : float32 or float64
        dtype of the returned images.

    Returns
    -------
    dict
        ``X_train, X_val, X_test`` of shape ``(N, 3, 32, 32)``, ``y_train, y_val, y_test`` int64 ``(N,)``.
    """
    return holdout_splits("get_CIFAR10_data", lambda: _load_uint8(resolve_cifar10_dir(cifar10_dir)), "CIFAR-10",
                          num_training, num_validation, num_test, subtract_mean, dtype)
