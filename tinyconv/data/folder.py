"""Your own images, one sub-folder per class: the ImageFolder layout of PyTorch and Keras.

::

    flowers/
        daisy/    001.jpg 002.png ...
        rose/     ...
        tulip/    ...

The classes are the sub-folders' names in sorted order (class 0 is the first); their PNG and JPEG files
(``.png``, ``.jpg``, ``.jpeg``, any case) are the images, other files and hidden ones are left out. The
images keep their size when they all share one; give ``image_size`` to bring every image to one size
(stretched, as ``torchvision.transforms.Resize((h, w))`` does). They are grayscale when every file is,
RGB otherwise, unless ``channels`` says. Needs Pillow (in the ``cli`` extra).
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import _checks
from ._prepare import prepare_splits
from .digits import stratified_order

SUFFIXES = (".png", ".jpg", ".jpeg")
# Pillow modes of images without colour.
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
# The split's own seed: every run (and tinyconv evaluate) splits a folder the same way.
SPLIT_SEED = 0


class FolderError(ValueError):
    """A folder of images that cannot be used as a dataset; the message names the folder or the file."""


class Scan(NamedTuple):
    """What a folder of class sub-folders holds, read from the files' headers."""

    class_names: tuple
    files: tuple  # paths, class by class in sorted order
    labels: np.ndarray
    channels: int
    height: int
    width: int


def image_files(folder):
    """The PNG and JPEG files of ``folder``, sorted, hidden ones left out."""
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith("."))


def scan(root, image_size=None, channels=None):
    """The classes and images of the folder ``root`` and the shape its images will have, from the files'
    headers alone; FolderError for a missing folder, fewer than two classes, an empty class, an unreadable
    file or, without ``image_size``, images of two sizes (naming a file of each)."""
    from PIL import Image, UnidentifiedImageError

    where = "scan"
    root = Path(root)
    if image_size is not None:
        image_size = tuple(_checks.integer(where, "image_size", size, 1) for size in image_size)
    if channels is not None:
        channels = _checks.one_of(where, "channels", channels, (1, 3))
    if not root.is_dir():
        raise FolderError(f"{root} is not a folder (a dataset folder has one sub-folder of images per class)")
    classes = sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))
    if len(classes) < 2:
        raise FolderError(f"{root} has {len(classes)} class folder{'' if len(classes) == 1 else 's'}; a dataset "
                          "folder has one sub-folder of PNG or JPEG images per class, two or more")
    files, labels, sizes, gray = [], [], {}, True
    for label, folder in enumerate(classes):
        found = image_files(folder)
        if not found:
            raise FolderError(f"{folder} holds no PNG or JPEG image; every class needs at least one (or remove the "
                              "folder)")
        for path in found:
            try:
                with Image.open(path) as image:
                    sizes.setdefault((image.height, image.width), path)
                    gray = gray and image.mode in _GRAY_MODES
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
                raise FolderError(f"{path}: not a readable image ({type(error).__name__}: {error})") from None
        files += found
        labels += [label] * len(found)
    if image_size is None and len(sizes) > 1:
        (first, first_path), (second, second_path) = list(sizes.items())[:2]
        raise FolderError(f"the images of {root} have different sizes: {first_path} is {first[0]}x{first[1]} and "
                          f"{second_path} {second[0]}x{second[1]} (height x width); give an image size to bring "
                          "them all to one")
    height, width = image_size or next(iter(sizes))
    return Scan(tuple(path.name for path in classes), tuple(files), np.array(labels, dtype=np.int64),
                channels or (1 if gray else 3), height, width)


def read_images(found):
    """The images of a :class:`Scan` as an array (N, H, W, C) of values 0..255, each stretched to the scan's
    size where it has another; ImageError naming a file that cannot be decoded."""
    from ..images import read_image, resize

    images = np.empty((len(found.files), found.height, found.width, found.channels), dtype=np.float32)
    for index, path in enumerate(found.files):
        pixels = read_image(path, found.channels)
        images[index] = pixels if pixels.shape[:2] == (found.height, found.width) else resize(
            pixels, found.height, found.width)
    return images


def get_folder_data(root, image_size=None, channels=None, num_validation=None, num_test=None, subtract_mean=True,
                    dtype=np.float32):
    """The images of a folder of class sub-folders (see the module docstring), split and preprocessed like
    ``get_CIFAR10_data``: values 0..255, the mean training image subtracted.

    Parameters
    ----------
    root : str or path
    image_size : (height, width), optional
        Bring every image to this size; needed when the images have more than one.
    channels : 1 or 3, optional
        Grayscale or RGB (default: grayscale when every file is).
    num_validation, num_test : int, optional
        Sizes of the validation and test splits (default: a tenth of the images each, at least one for
        validation), drawn in a seeded, class-stratified order; the rest is the training split.
    subtract_mean : bool
    dtype : float32 or float64

    Returns
    -------
    dict
        ``X_train, y_train, X_val, y_val, X_test, y_test`` (NCHW), ``mean_image`` and ``class_names``.
    """
    where = "get_folder_data"
    found = scan(root, image_size, channels)
    count = len(found.files)
    num_validation = max(1, count // 10) if num_validation is None else num_validation
    num_test = count // 10 if num_test is None else num_test
    _checks.split_sizes(where, count - 1, f"{root} (one must stay for training)", num_validation=num_validation,
                        num_test=num_test)
    images = read_images(found)
    order = stratified_order(found.labels, SPLIT_SEED)
    rows = {"val": order[:num_validation], "test": order[num_validation:num_validation + num_test],
            "train": order[num_validation + num_test:]}
    data = prepare_splits(where, {name: (images[rows[name]], found.labels[rows[name]])
                                  for name in ("train", "val", "test")}, subtract_mean, dtype)
    data["class_names"] = list(found.class_names)
    return data
