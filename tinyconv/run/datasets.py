"""Loading a dataset for a run, split as asked or as its recipe says: a bundled or downloaded one by its
name, or a folder of your own images as ``folder:PATH``."""

import dataclasses

import numpy as np

from tinyconv import data as datasets
from tinyconv.data import folder
from tinyconv.recipes import DATASETS, FOLDER_RECIPE, DatasetInfo, ImageFormat
from tinyconv.run.settings import SettingError

FOLDER = "folder:"
_LOADERS = {
    "digits": lambda data_dir, **kwargs: datasets.get_digits_data(**kwargs),
    "cifar10": lambda data_dir, **kwargs: datasets.get_CIFAR10_data(cifar10_dir=data_dir, **kwargs),
    "fashion-mnist": lambda data_dir, **kwargs: datasets.get_fashion_mnist_data(data_dir, **kwargs),
}
_LOADER_KEYWORDS = {"num_train": "num_training", "num_val": "num_validation", "num_test": "num_test"}


def is_folder(name):
    """Whether dataset ``name`` is a folder of the user's images (``folder:PATH``)."""
    return name.startswith(FOLDER)


def _folder_dataset(channels, height, width, class_names):
    return DatasetInfo(ImageFormat(channels, height, width, (0, 255), None, "stretch"), tuple(class_names),
                       FOLDER_RECIPE)


def dataset_info(name, image_size=None, channels=None, data=None):
    """The :class:`~tinyconv.recipes.DatasetInfo` of dataset ``name``: a known dataset's, or for ``folder:PATH``
    one read from the folder's files (its class names, the shape its images take with ``image_size`` and
    ``channels``, and the recipe for a folder), or from ``data`` where it was loaded already (a sweep's trial
    may run where the folder is not). SettingError for options that do not go with the dataset, a folder that
    cannot be used, or a name no dataset has."""
    if not is_folder(name):
        for option, value in (("image_size", image_size), ("channels", channels)):
            if value is not None:
                raise SettingError(option, f"`{option}` is for `dataset` folder:PATH, whose images may have any "
                                   f"size; {name}'s images have theirs")
        if name not in DATASETS:
            raise SettingError("dataset", f"`dataset` {name!r} is none of {', '.join(sorted(DATASETS))} or "
                               "folder:PATH")
        return DATASETS[name]
    if data is not None:
        channels, height, width = data["X_train"].shape[1:]
        return _folder_dataset(channels, height, width, data["class_names"])
    try:
        found = folder.scan(name[len(FOLDER):], image_size, channels)
    except (TypeError, ValueError) as error:
        raise SettingError("dataset", f"`dataset` {name}: {error}") from None
    return _folder_dataset(found.channels, found.height, found.width, found.class_names)


def load_dataset(name, data_dir, dtype, num_train, num_val, num_test, subtract_mean=True, image_size=None,
                 channels=None):
    """Load dataset ``name``, split as given or else as its recipe says (``DATASETS[name].defaults``); a
    folder (``folder:PATH``) with its images brought to ``image_size`` and ``channels``.

    SettingError for an option the dataset does not take; ``tinyconv.data.DataSourceMissing`` when the files
    are not found; ValueError naming the dataset for bad split sizes or a damaged file.
    """
    # A folder is read, and its options checked, by its loader; a named dataset has its recipe's split.
    info = None if is_folder(name) else dataset_info(name, image_size, channels)
    if is_folder(name) or info.bundled:
        for option, value in (("data_dir", data_dir), ("num_train", num_train)):
            if value is not None:
                raise SettingError(option, f"`{option}` is not used with `dataset` {name}: "
                                   + ("the folder is the dataset" if is_folder(name) else "the images are bundled")
                                   + ", and training gets every image not in `num_val` and `num_test`.")
    given = {"num_train": num_train, "num_val": num_val, "num_test": num_test}
    defaults = {} if info is None else info.defaults
    split = {**defaults, **{option: value for option, value in given.items() if value is not None}}
    sizes = {_LOADER_KEYWORDS[option]: value for option, value in split.items()}
    try:
        if is_folder(name):
            return folder.get_folder_data(name[len(FOLDER):], image_size, channels, dtype=np.dtype(dtype),
                                          subtract_mean=subtract_mean, **sizes)
        return _LOADERS[name](data_dir, dtype=np.dtype(dtype), subtract_mean=subtract_mean, **sizes)
    except datasets.DataSourceMissing:
        raise
    except (OSError, ValueError) as error:  # bad split sizes, a missing, unreadable or corrupt file
        raise ValueError(f"cannot load {name}: {error}") from error


def image_format_record(info):
    """How a model file records a dataset's image format (a dict, its value range a list)."""
    return {**dataclasses.asdict(info.image), "value_range": list(info.image.value_range)}
