"""Tiny ImageNet (TinyImageNet-100-A, -100-B and -200) in the folder layout its archives unpack to.

``path`` holds ``wnids.txt`` (one WordNet id per class), ``words.txt`` (``wnid<TAB>names, comma
separated``), ``train/<wnid>/<wnid>_boxes.txt`` (image file names first on each line) with the images
in ``train/<wnid>/images/``, ``val/val_annotations.txt`` (``file<TAB>wnid...``) with ``val/images/``,
and ``test/images/`` with, where labels are given out, ``test/test_annotations.txt``. The images are
JPEGs, read with imageio (installed with the ``cli`` extra).
"""

import os

import numpy as np

from .. import _checks


def read_image(path, **kwargs):
    """An image file as an array: ``(H, W)`` for grayscale, ``(H, W, C)`` otherwise, as stored (uint8).

    ``kwargs`` go to imageio's ``imread``. Needs imageio, which ``pip install tinyconv[cli]`` (through
    scikit-image) or ``pip install imageio`` brings.
    """
    try:
        import imageio.v2 as imageio
    except ImportError as error:
        raise ImportError(f"reading the image {path} needs imageio: pip install imageio") from error
    return imageio.imread(path, **kwargs)


def _lines(path):
    with open(path, encoding="utf-8") as file:
        return [line.rstrip("\n") for line in file if line.strip()]


def _rows(path, fields):
    """The lines of ``path`` split at tabs into at least ``fields`` fields each (the first ``fields`` of them);
    ValueError naming the file and the line where one has fewer."""
    rows = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < fields:
                raise ValueError(f"{path}, line {number}: expected {fields} tab-separated fields, got "
                                 f"{line.strip()[:80]!r}")
            rows.append(parts[:fields])
    return rows


def _read_images(paths, shape):
    """uint8 (N, H, W, 3) from image files of ``shape`` (H, W); grayscale ones fill all three channels."""
    images = np.empty((len(paths), *shape, 3), dtype=np.uint8)
    for index, path in enumerate(paths):
        image = read_image(path)
        if image.ndim == 2:
            image = image[:, :, None]
        if image.shape[:2] != tuple(shape) or image.shape[2] not in (1, 3):
            raise ValueError(f"{path}: expected a {shape[0]}x{shape[1]} grayscale or RGB image, got shape "
                             f"{image.shape}")
        images[index] = image
    return images


def load_tiny_imagenet(path, dtype=np.float32, subtract_mean=True, image_size=(64, 64)):
    """Load a Tiny ImageNet folder (see the module docstring for its layout).

    Parameters
    ----------
    path : str or path-like
        The unpacked folder, e.g. ``tiny-imagenet-100-A``.
    dtype : float32 or float64
        dtype of the returned images and mean image.
    subtract_mean : bool
        Subtract the mean training image from every split.
    image_size : (H, W)
        Size of every image (64x64 in every Tiny ImageNet).

    Returns
    -------
    dict
        ``class_names``: list, for each class its list of WordNet names; ``X_train``, ``X_val``,
        ``X_test`` of shape ``(N, 3, H, W)``; ``y_train``, ``y_val`` int64 ``(N,)``; ``y_test`` int64
        ``(N,)``, or None when the folder has no test labels; ``mean_image`` ``(3, H, W)``. Test images
        come in the order of their file names.

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a folder, or a file of the layout is missing.
    ValueError
        When an image has another size, or a label names a class not in ``wnids.txt``.
    """
    dtype = _checks.float_dtype("load_tiny_imagenet", "dtype", dtype)
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Tiny ImageNet folder not found: {root} (expected the unpacked folder holding "
                                "wnids.txt, words.txt, train/, val/ and test/)")
    wnids = [line.strip() for line in _lines(os.path.join(root, "wnids.txt"))]
    labels = {wnid: label for label, wnid in enumerate(wnids)}
    words_file = os.path.join(root, "words.txt")
    words = dict(_rows(words_file, 2))
    missing = [wnid for wnid in wnids if wnid not in words]
    if missing:
        raise ValueError(f"{words_file} has no names for the classes {missing[:5]} of wnids.txt")
    class_names = [[name.strip() for name in words[wnid].split(",")] for wnid in wnids]

    def label_of(wnid, where):
        if wnid not in labels:
            raise ValueError(f"{where}: class {wnid!r} is not in wnids.txt")
        return labels[wnid]

    train_paths, y_train = [], []
    for wnid in wnids:
        folder = os.path.join(root, "train", wnid)
        names = [line.split("\t")[0] for line in _lines(os.path.join(folder, f"{wnid}_boxes.txt"))]
        train_paths += [os.path.join(folder, "images", name) for name in names]
        y_train += [labels[wnid]] * len(names)

    val_file = os.path.join(root, "val", "val_annotations.txt")
    val_rows = _rows(val_file, 2)
    val_paths = [os.path.join(root, "val", "images", name) for name, _ in val_rows]
    y_val = [label_of(wnid, val_file) for _, wnid in val_rows]

    test_names = sorted(os.listdir(os.path.join(root, "test", "images")))
    test_paths = [os.path.join(root, "test", "images", name) for name in test_names]
    y_test = None
    test_file = os.path.join(root, "test", "test_annotations.txt")
    if os.path.isfile(test_file):
        test_wnids = dict(_rows(test_file, 2))
        y_test = np.array([label_of(test_wnids.get(name), f"{test_file} ({name})") for name in test_names], dtype=np.int64)

    splits = {name: _read_images(paths, image_size).transpose(0, 3, 1, 2).astype(dtype)
              for name, paths in (("train", train_paths), ("val", val_paths), ("test", test_paths))}
    mean_image = splits["train"].mean(axis=0, dtype=np.float64).astype(dtype)
    if subtract_mean:
        for images in splits.values():
            images -= mean_image
    return {
        "class_names": class_names,
        "X_train": splits["train"], "y_train": np.array(y_train, dtype=np.int64),
        "X_val": splits["val"], "y_val": np.array(y_val, dtype=np.int64),
        "X_test": splits["test"], "y_test": y_test,
        "mean_image": mean_image,
    }
