"""The ``tinyconv`` command group and what its commands share: option types that check values as the
library does, the datasets and their loading, building and naming models, scoring in batches."""

import contextlib
from pathlib import Path

import click

from .. import __version__, _checks, keep_freed_memory
from .._parallel import get_num_threads
from ..data import DataSourceMissing
from ..recipes import DATASETS
from ..run import datasets
from ..run.settings import SettingError
from ..run.training import RunError

EXIT_STATUS_HELP = """Exit status: 0 when the work is done; 1 when it fails while running (training diverged, the
disk is full); 2 when the command line is wrong (a bad option value, a missing or unreadable input file,
a model that does not fit the dataset, a bad TINYCONV_NUM_THREADS, an optional extra the command needs
that is not installed); 130 when interrupted (Ctrl-C)."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_STATUS_HELP)
@click.version_option(__version__, prog_name="tinyconv", message="%(prog)s %(version)s")
def main():
    """tinyconv: convolutional networks in NumPy that you can read, check and train."""
    try:
        get_num_threads()
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    keep_freed_memory()  # this process is the command's own (see tinyconv._allocator)


# --- option types that check values as the library does ---------------------------------


class Checked(click.ParamType):
    """A click type that converts with ``convert`` and then applies one of tinyconv's checks, so that the
    command line refuses exactly what the library would, as a usage error."""

    def __init__(self, name, convert, check):
        self.name = name
        self._convert = convert
        self._check = check

    def convert(self, value, param, ctx):
        try:
            converted = self._convert(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not {'an' if self.name[0] in 'aeiou' else 'a'} {self.name}", param, ctx)
        try:
            return self._check(converted)
        except (TypeError, ValueError) as error:
            self.fail(_checks.reason(error), param, ctx)


def number(minimum=None, maximum=None, min_open=False):
    """A finite float in the given bounds (click's FloatRange lets nan and inf through)."""
    return Checked("number", float, lambda value: _checks.real("option", "the value", value, minimum, maximum,
                                                               min_open=min_open))


def integer(minimum=None, maximum=None):
    return Checked("integer", int, lambda value: _checks.integer("option", "the value", value, minimum, maximum))


SEED = integer(0, _checks.MAX_SEED)


class DatasetName(click.ParamType):
    """A known dataset's name, or ``folder:PATH`` for a folder of class sub-folders (made absolute, so that a
    model file records where its images are)."""

    name = "dataset"

    def convert(self, value, param, ctx):
        if value in DATASETS:
            return value
        if not value.startswith(datasets.FOLDER):
            self.fail(f"{value!r} is none of {', '.join(sorted(DATASETS))} or folder:PATH", param, ctx)
        path = Path(value[len(datasets.FOLDER):]).expanduser()
        if not path.is_dir():
            self.fail(f"{value!r}: {path} is not a folder (folder:PATH takes a folder with one sub-folder of "
                      "images per class)", param, ctx)
        return datasets.FOLDER + str(path.resolve())


def _image_size(text):
    """'32' or '32x24' (height x width), or a config file's [32, 24], as a pair."""
    parts = list(text) if isinstance(text, (list, tuple)) else str(text).lower().split("x")
    if len(parts) not in (1, 2):
        raise ValueError(text)
    sizes = [int(part) for part in parts]
    return tuple(sizes * 2 if len(sizes) == 1 else sizes)


IMAGE_SIZE = Checked("size such as 32 or 32x24", _image_size,
                     lambda size: tuple(_checks.integer("option", "each size", side, 1) for side in size))


# --- datasets ----------------------------------------------------------------------------

def load_dataset(name, data_dir, dtype, num_train, num_val, num_test, subtract_mean=True, image_size=None,
                 channels=None):
    """:func:`tinyconv.run.datasets.load_dataset`, with a missing folder or a bad file as a usage error."""
    with library_errors():
        try:
            return datasets.load_dataset(name, data_dir, dtype, num_train, num_val, num_test, subtract_mean,
                                         image_size, channels)
        except SettingError:
            raise  # library_errors names the option
        except (DataSourceMissing, ValueError) as error:
            raise click.UsageError(str(error)) from error


def _split_help(option):
    sizes = ", ".join(f"{name}: {info.defaults[option]}" for name, info in DATASETS.items() if option in info.defaults)
    return sizes + ("" if option == "num_train" else "; folder:PATH: a tenth of its images")


def dataset_options(command):
    """The options that choose and split a dataset, shared by train and evaluate."""
    options = [
        click.option("--dataset", type=DatasetName(), default=None,
                     help="digits (bundled; the default), fashion-mnist (found in Debian's "
                          "/usr/share/datasets/fashion-mnist after apt-get install dataset-fashion-mnist, else "
                          "give --data-dir or $TINYCONV_FASHION_MNIST), cifar10 (--data-dir or $TINYCONV_CIFAR10), "
                          "or folder:PATH, your own images: one sub-folder of PNG or JPEG files per class."),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Folder of the dataset files: cifar-10-batches-py, or the four Fashion-MNIST IDX files."),
        click.option("--num-train", type=integer(1), help=f"Training images ({_split_help('num_train')})."),
        click.option("--num-val", type=integer(1), help=f"Validation images ({_split_help('num_val')})."),
        click.option("--num-test", type=integer(0), help=f"Test images ({_split_help('num_test')})."),
        click.option("--image-size", type=IMAGE_SIZE, metavar="HxW",
                     help="folder:PATH only: bring every image to this size, HEIGHTxWIDTH or one number for a "
                          "square (needed when the images have several sizes)."),
        click.option("--channels", type=click.Choice(["1", "3"]), callback=lambda ctx, param, value: (
            None if value is None else int(value)),
                     help="folder:PATH only: 1 (grayscale) or 3 (RGB) [default: 1 when every image is gray]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


# --- errors of the library, told in the command line's words -------------------------------------


def option_name(setting):
    """The option that sets run setting ``setting``: ``num_train`` is ``--num-train``."""
    return "--" + setting.replace("_", "-")


@contextlib.contextmanager
def library_errors():
    """Turn the library's errors into the command line's: a SettingError into a usage error naming the option
    (exit 2), a RunError (diverged, a folder that cannot be written) into a failure (exit 1)."""
    try:
        yield
    except SettingError as error:
        message = error.describe(option_name)
        if error.setting is None or error.names_its_setting():
            raise click.UsageError(message) from error
        raise click.BadParameter(message, param_hint=option_name(error.setting)) from error
    except RunError as error:
        raise click.ClickException(str(error)) from error


def load_model_file(path, param_hint="MODEL"):
    """The model and the metadata of a model file, or of a checkpoint that ``tinyconv train`` wrote (whose run
    records the metadata its model file gets), or a usage error naming the file."""
    from ..serialization import read_model_file

    try:
        model, metadata, solver_state = read_model_file(path)
    except (OSError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint=param_hint) from error
    if solver_state is not None:
        metadata = solver_state.get("metadata", {}).get("run", {}).get("model_file", {})
    return model, metadata
