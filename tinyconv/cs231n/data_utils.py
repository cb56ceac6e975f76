"""The starter's ``cs231n/data_utils.py``: CIFAR-10 and Tiny ImageNet from :mod:`tinyconv.data`.

Differences from the starter:

- ``get_CIFAR10_data`` returns float64 images, as the starter does (``tinyconv.data`` defaults to
  float32). It reads the folder given as ``cifar10_dir``, else the one named by ``$TINYCONV_CIFAR10``,
  else ``cs231n/datasets/cifar-10-batches-py`` under the working directory, where the assignment's
  download script puts it.
- Nothing is unpickled that could run code. ``load_pickle`` reads CIFAR-10 batches only, through
  tinyconv's restricted unpickler, and refuses any other pickle. ``load_models`` and
  ``load_imagenet_val``, whose files hold pickled objects, refuse with an error that says what to use.
- ``imread`` reads images with imageio (installed with tinyconv's ``cli`` extra, or ``pip install
  imageio``); the starter imported it from imageio at the top.
"""

from __future__ import print_function

import os
import pickle
import platform
from builtins import range

import numpy as np

from tinyconv.data import load_CIFAR10, load_CIFAR_batch, load_tiny_imagenet
from tinyconv.data import get_CIFAR10_data as _get_CIFAR10_data
from tinyconv.data.cifar10 import ENV_VAR as _CIFAR10_ENV_VAR
from tinyconv.data.cifar10 import unpickle_batch as _unpickle_batch
from tinyconv.data.tiny_imagenet import read_image as imread

# Where the assignment's get_datasets.sh unpacks CIFAR-10, relative to the notebooks' folder.
_STARTER_CIFAR10_DIR = os.path.join("cs231n", "datasets", "cifar-10-batches-py")
_NO_UNPICKLING = ("tinyconv unpickles nothing but CIFAR-10 batches, so that no file can run code when "
                  "it is loaded")


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True, cifar10_dir=None):
    """CIFAR-10 split, mean-subtracted and in NCHW, in float64 as the starter returns it.

    Parameters
    ----------
    num_training, num_validation, num_test : int
        Validation takes training rows ``num_training .. num_training + num_validation``.
    subtract_mean : bool
    cifar10_dir : str or path-like, optional
        The ``cifar-10-batches-py`` folder; defaults to $TINYCONV_CIFAR10, then to
        ``cs231n/datasets/cifar-10-batches-py`` under the working directory if it exists.

    Returns
    -------
    dict
        ``X_train, X_val, X_test`` float64 ``(N, 3, 32, 32)``, ``y_train, y_val, y_test`` int64 ``(N,)``.
    """
    if cifar10_dir is None and not os.environ.get(_CIFAR10_ENV_VAR) and os.path.isdir(_STARTER_CIFAR10_DIR):
        cifar10_dir = _STARTER_CIFAR10_DIR
    data = _get_CIFAR10_data(num_training, num_validation, num_test, subtract_mean, cifar10_dir=cifar10_dir,
                             dtype=np.float64)
    del data["mean_image"]  # the starter's dict holds the six splits only
    return data


def load_pickle(f):
    """Unpickle a CIFAR-10 batch from the open binary file ``f``; any other pickle is refused.

    Raises
    ------
    pickle.UnpicklingError
        When the pickle names anything a CIFAR-10 batch does not hold; nothing of it has run.
    """
    try:
        return _unpickle_batch(f)
    except pickle.UnpicklingError as error:
        raise pickle.UnpicklingError(
            f"load_pickle: {error}. {_NO_UNPICKLING}; save and load models with "
            "tinyconv.serialization.save_model and load_model (.npz files).") from error


def load_models(models_dir):
    """Refused: the starter's model files are pickles, which can run any code when loaded.

    Raises
    ------
    NotImplementedError
        Always; save models with ``tinyconv.serialization.save_model`` and load each with
        ``tinyconv.serialization.load_model``.
    """
    raise NotImplementedError(
        f"load_models({models_dir!r}): the starter's model files are pickles, and {_NO_UNPICKLING}. "
        "Save models with tinyconv.serialization.save_model(path, model) and load each with "
        "tinyconv.serialization.load_model(path).")


def load_imagenet_val(num=None):
    """Refused: ``imagenet_val_25.npz`` keeps its class names as a pickled object.

    Raises
    ------
    NotImplementedError
        Always; the images and labels load without unpickling with
        ``np.load(path)['X']`` and ``np.load(path)['y']``.
    """
    raise NotImplementedError(
        f"load_imagenet_val(num={num!r}): imagenet_val_25.npz keeps its class names as a pickled object, "
        f"and {_NO_UNPICKLING}. Its images and labels load without unpickling: "
        "f = np.load('cs231n/datasets/imagenet_val_25.npz'); X, y = f['X'], f['y'].")
