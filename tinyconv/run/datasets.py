"""Loading a dataset for a run, split as asked or as its recipe says."""

import numpy as np

from tinyconv import data as datasets
from tinyconv.recipes import DATASETS
from tinyconv.run.settings import SettingError

_LOADERS = {
    "digits": lambda data_dir, **kwargs: datasets.get_digits_data(**kwargs),
    "cifar10": lambda data_dir, **kwargs: datasets.get_CIFAR10_data(cifar10_dir=data_dir, **kwargs),
    "fashion-mnist": lambda data_dir, **kwargs: datasets.get_fashion_mnist_data(data_dir, **kwargs),
}
_LOADER_KEYWORDS = {"num_train": "num_training", "num_val": "num_validation", "num_test": "num_test"}


def load_dataset(name, data_dir, dtype, num_train, num_val, num_test, subtract_mean=True):
    """Load dataset ``name``, split as given or else as its recipe says (``DATASETS[name].defaults``).

    SettingError for an option the bundled dataset does not take; ``tinyconv.data.DataSourceMissing`` when
    the files are not found; ValueError naming the dataset for bad split sizes or a damaged file.
    """
    info = DATASETS[name]
    if info.bundled:
        for option, value in (("data_dir", data_dir), ("num_train", num_train)):
            if value is not None:
                raise SettingError(option, f"`{option}` is not used with `dataset` {name}: the images are bundled, "
                                   "and training gets every image not in `num_val` and `num_test`.")
    given = {"num_train": num_train, "num_val": num_val, "num_test": num_test}
    split = {**info.defaults, **{option: value for option, value in given.items() if value is not None}}
    sizes = {_LOADER_KEYWORDS[option]: value for option, value in split.items()}
    try:
        return _LOADERS[name](data_dir, dtype=np.dtype(dtype), subtract_mean=subtract_mean, **sizes)
    except datasets.DataSourceMissing:
        raise
    except (OSError, ValueError) as error:  # bad split sizes, a missing, unreadable or corrupt file
        raise ValueError(f"cannot load {name}: {error}") from error
