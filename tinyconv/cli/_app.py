"""The ``tinyconv`` command group and what its commands share: option types that check values as the
library does, the datasets and their loading, building and naming models, scoring in batches."""

from pathlib import Path

import click
import numpy as np

from .. import __version__, _checks, keep_freed_memory
from .. import data as datasets
from .._backend import to_numpy
from .._parallel import get_num_threads
from ..recipes import DATASETS

EXIT_STATUS_HELP = """Exit status: 0 when the work is done; 1 when it fails while running (training diverged, the
disk is full); 2 when the command line is wrong (a bad option value, a missing or unreadable input file,
a model that does not fit the dataset, a bad TINYCONV_NUM_THREADS)."""


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


# --- datasets ----------------------------------------------------------------------------

_LOADERS = {
    "digits": lambda data_dir, **kwargs: datasets.get_digits_data(**kwargs),
    "cifar10": lambda data_dir, **kwargs: datasets.get_CIFAR10_data(cifar10_dir=data_dir, **kwargs),
    "fashion-mnist": lambda data_dir, **kwargs: datasets.get_fashion_mnist_data(data_dir, **kwargs),
}


_LOADER_KEYWORDS = {"num_train": "num_training", "num_val": "num_validation", "num_test": "num_test"}


def load_dataset(name, data_dir, dtype, num_train, num_val, num_test, subtract_mean=True):
    """Load dataset ``name``, split as given or else as its recipe says (``DATASETS[name].defaults``); turn a
    missing folder or a bad file into a clear command-line error."""
    info = DATASETS[name]
    if info.bundled:
        for option, value in (("--data-dir", data_dir), ("--num-train", num_train)):
            if value is not None:
                raise click.UsageError(f"{option} is not used with --dataset {name}: the images are bundled, and "
                                       "training gets every image not in --num-val and --num-test.")
    given = {"num_train": num_train, "num_val": num_val, "num_test": num_test}
    split = {**info.defaults, **{option: value for option, value in given.items() if value is not None}}
    sizes = {_LOADER_KEYWORDS[option]: value for option, value in split.items()}
    try:
        return _LOADERS[name](data_dir, dtype=np.dtype(dtype), subtract_mean=subtract_mean, **sizes)
    except datasets.DataSourceMissing as error:
        raise click.UsageError(str(error)) from error
    except (OSError, ValueError) as error:  # bad split sizes, a missing, unreadable or corrupt file
        raise click.UsageError(f"cannot load {name}: {error}") from error


def _split_help(option):
    sizes = ", ".join(f"{name}: {info.defaults[option]}" for name, info in DATASETS.items() if option in info.defaults)
    return sizes


def dataset_options(command):
    """The options that choose and split a dataset, shared by train and evaluate."""
    options = [
        click.option("--dataset", type=click.Choice(sorted(DATASETS)), default=None,
                     help="digits (bundled; the default), fashion-mnist (found in Debian's "
                          "/usr/share/datasets/fashion-mnist after apt-get install dataset-fashion-mnist, else "
                          "give --data-dir or $TINYCONV_FASHION_MNIST) or cifar10 (--data-dir or $TINYCONV_CIFAR10)."),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Folder of the dataset files: cifar-10-batches-py, or the four Fashion-MNIST IDX files."),
        click.option("--num-train", type=integer(1), help=f"Training images ({_split_help('num_train')})."),
        click.option("--num-val", type=integer(1), help=f"Validation images ({_split_help('num_val')})."),
        click.option("--num-test", type=integer(0), help=f"Test images ({_split_help('num_test')})."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


# --- models ------------------------------------------------------------------------------

THREE_LAYER = dict(num_filters=32, filter_size=3, hidden_dim=100, weight_scale=1e-2)
FC_HIDDEN_DIMS = (100, 100)
FC_WEIGHT_SCALE = 1e-2
NORMALIZATIONS = ("none", "batchnorm", "layernorm", "groupnorm")


def build_model(spec, normalization, input_dim, num_classes, reg, dtype, seed, init="he", label_smoothing=0.0):
    """The model named by ``--model``: 'three-layer', 'fc' or a ConvNet spec such as 'c16p-c32p-f128' (whose
    weights ``init`` draws and whose loss has the ``label_smoothing``; the cs231n networks draw theirs as
    cs231n does)."""
    from ..models import ConvNet, FullyConnectedNet, ThreeLayerConvNet

    normalization = None if normalization == "none" else normalization
    allowed = {"three-layer": (None,), "fc": (None, "batchnorm", "layernorm")}.get(
        spec, (None, "batchnorm", "groupnorm"))
    if normalization not in allowed:
        raise click.BadParameter(f"--model {spec} takes --normalization "
                                 f"{' | '.join('none' if n is None else n for n in allowed)}",
                                 param_hint="--normalization")
    # ThreeLayerConvNet and FullyConnectedNet draw their weights from NumPy's global generator.
    np.random.seed(seed)
    common = dict(num_classes=num_classes, reg=reg, dtype=np.dtype(dtype).type)
    if spec == "three-layer":
        return ThreeLayerConvNet(input_dim=input_dim, **THREE_LAYER, **common)
    if spec == "fc":
        return FullyConnectedNet(FC_HIDDEN_DIMS, input_dim=int(np.prod(input_dim)), normalization=normalization,
                                 weight_scale=FC_WEIGHT_SCALE, seed=seed, **common)
    try:
        return ConvNet.from_spec(spec, input_dim=input_dim, normalization=normalization, init=init, seed=seed,
                                 label_smoothing=label_smoothing, **common)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(f"{error} (or use three-layer or fc)", param_hint="--model") from error


def model_name(model):
    """The ``--model`` value that builds a model like ``model`` (a ConvNet's spec), else its class name."""
    spec = getattr(model, "spec", None)
    if spec:
        return spec
    config = model.get_config() if hasattr(model, "get_config") else {}
    if type(model).__name__ == "ThreeLayerConvNet" and all(config.get(k) == v for k, v in THREE_LAYER.items()):
        return "three-layer"
    if type(model).__name__ == "FullyConnectedNet" and tuple(config.get("hidden_dims", ())) == FC_HIDDEN_DIMS:
        return "fc"
    return type(model).__name__


def scores(model, X, batch_size=200, xp=np):
    """Class scores ``(N, num_classes)`` (a NumPy array) for images ``X (N, C, H, W)``, computed ``batch_size``
    at a time in array module ``xp``, where the model's arrays are."""
    return np.concatenate([to_numpy(model.loss(xp.asarray(X[start:start + batch_size])))
                           for start in range(0, len(X), batch_size)])


def accuracy(model, X, y):
    return float(np.mean(np.argmax(scores(model, X), axis=1) == y)) if len(X) else None


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
