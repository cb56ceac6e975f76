"""The ``tinyconv`` command: train, evaluate, check gradients, run demos.

Needs the 'cli' extra (click, tqdm, matplotlib, scikit-image): ``pip install tinyconv[cli]``.
"""

import json
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import click
import numpy as np

from . import __version__, _checks
from . import data as datasets
from ._files import atomic_write, remove_stale_temporaries
from ._parallel import get_num_threads

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
            return self._check(self._convert(value))
        except (TypeError, ValueError) as error:
            self.fail(_checks.reason(error), param, ctx)


def number(minimum=None, maximum=None, min_open=False):
    """A finite float in the given bounds (click's FloatRange lets nan and inf through)."""
    return Checked("number", float, lambda value: _checks.real("option", "the value", value, minimum, maximum,
                                                               min_open=min_open))


def integer(minimum=None, maximum=None):
    return Checked("integer", int, lambda value: _checks.integer("option", "the value", value, minimum, maximum))


SEED = integer(0, _checks.MAX_SEED)

# --- datasets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """What the command line needs to know about a dataset before loading it."""

    input_dim: tuple  # (C, H, W)
    class_names: tuple
    load: Callable  # load(data_dir, dtype, **split_sizes) -> data dict
    takes_num_train: bool = True


def _load_digits(data_dir, dtype, **sizes):
    if data_dir is not None:
        raise click.UsageError("--data-dir is not used with --dataset digits (the digits are bundled).")
    return datasets.get_digits_data(dtype=dtype, **sizes)


def _load_cifar10(data_dir, dtype, **sizes):
    return datasets.get_CIFAR10_data(cifar10_dir=data_dir, dtype=dtype, **sizes)


def _load_fashion_mnist(data_dir, dtype, **sizes):
    return datasets.get_fashion_mnist_data(data_dir, dtype=dtype, **sizes)


DATASETS = {
    "digits": Dataset((1, 8, 8), tuple(str(digit) for digit in range(10)), _load_digits,
                      takes_num_train=False),
    "cifar10": Dataset((3, 32, 32), datasets.cifar10.CLASS_NAMES, _load_cifar10),
    "fashion-mnist": Dataset((1, 28, 28), datasets.fashion_mnist.CLASS_NAMES, _load_fashion_mnist),
}


def load_dataset(name, data_dir, dtype, num_train, num_val, num_test):
    """Load dataset ``name``; turn a missing folder or a bad file into a clear command-line error."""
    dataset = DATASETS[name]
    if num_train is not None and not dataset.takes_num_train:
        raise click.UsageError(f"--num-train is not used with --dataset {name}: training gets every "
                               "image not in --num-val and --num-test.")
    sizes = {"num_training": num_train, "num_validation": num_val, "num_test": num_test}
    sizes = {key: value for key, value in sizes.items() if value is not None}
    try:
        return dataset.load(data_dir, np.dtype(dtype), **sizes)
    except datasets.DataSourceMissing as error:
        raise click.UsageError(str(error)) from error
    except (OSError, ValueError) as error:  # bad split sizes, a missing, unreadable or corrupt file
        raise click.UsageError(f"cannot load {name}: {error}") from error


def dataset_options(command):
    """The options shared by train and evaluate that choose and split a dataset."""
    options = [
        click.option("--dataset", type=click.Choice(sorted(DATASETS)), default="digits", show_default=True,
                     help="digits is bundled; cifar10 and fashion-mnist need --data-dir."),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Folder of the dataset files (cifar-10-batches-py, or the Fashion-MNIST IDX "
                          "files); defaults to $TINYCONV_CIFAR10 / $TINYCONV_FASHION_MNIST."),
        click.option("--num-train", type=integer(1),
                     help="Training images (cifar10: 49000, fashion-mnist: 59000)."),
        click.option("--num-val", type=integer(1),
                     help="Validation images (digits: 200, otherwise 1000)."),
        click.option("--num-test", type=integer(0),
                     help="Test images (digits: 200, cifar10: 1000, fashion-mnist: 10000)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def predict(model, X, batch_size=200):
    """Class predictions ``(N,)`` for images ``X (N, C, H, W)``, scored ``batch_size`` at a time."""
    return np.concatenate([np.argmax(model.loss(X[start:start + batch_size]), axis=1)
                           for start in range(0, len(X), batch_size)])


def accuracy(model, X, y):
    return float(np.mean(predict(model, X) == y)) if len(X) else None


# --- models -----------------------------------------------------------------------------

THREE_LAYER = dict(num_filters=32, filter_size=3, hidden_dim=100, weight_scale=1e-2)
FC_HIDDEN_DIMS = (100, 100)
FC_WEIGHT_SCALE = 1e-2
NORMALIZATIONS = ("none", "batchnorm", "layernorm", "groupnorm")


def build_model(spec, normalization, input_dim, num_classes, reg, dtype, seed):
    """The model named by ``--model``: 'three-layer', 'fc' or a ConvNet spec such as 'c16p-c32p-f128'."""
    from .models import ConvNet, FullyConnectedNet, ThreeLayerConvNet

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
        return ConvNet.from_spec(spec, input_dim=input_dim, normalization=normalization, seed=seed, **common)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(f"{error} (or use three-layer or fc)", param_hint="--model") from error


def model_name(model):
    """The ``--model`` value that builds a model like ``model``."""
    return {"ThreeLayerConvNet": "three-layer", "FullyConnectedNet": "fc"}.get(type(model).__name__) or model.spec


def first_layer_filters(model, input_dim):
    """The first layer's weights as images ``(F, C, H, W)``: conv filters, or affine columns reshaped."""
    weights = model.params["W1"]
    return weights if weights.ndim == 4 else weights.T.reshape(-1, *input_dim)


# --- commands ---------------------------------------------------------------------------


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


def _write_json(path, document):
    with atomic_write(path) as file:
        file.write((json.dumps(document, indent=2) + "\n").encode())


# Options that fix the model or the course of training; a resumed run takes them from its checkpoint.
_FIXED_BY_CHECKPOINT = ("model_spec", "normalization", "dtype", "reg", "update_rule", "lr", "lr_decay",
                        "batch_size", "seed")
# Options that choose the data; a resumed run must see the data its checkpoint was trained on.
_DATA_OPTIONS = ("dataset", "num_train", "num_val", "num_test")


def _given(context, name):
    return context.get_parameter_source(name) != click.core.ParameterSource.DEFAULT


def _option(context, name):
    return next(param.opts[0] for param in context.command.params if param.name == name)


# The Solver settings a checkpoint records and a resumed run must reuse.
_RESUMED_SETTINGS = ("update_rule", "optim_config", "lr_decay", "batch_size", "num_train_samples",
                     "num_val_samples", "seed")


def _solver_settings(update_rule, lr, lr_decay, batch_size, seed):
    return dict(update_rule=update_rule, optim_config={"learning_rate": lr}, lr_decay=lr_decay,
                batch_size=batch_size, seed=seed)


def _resume(context, checkpoint, epochs):
    """The model, Solver settings and data options of the run ``checkpoint`` continues, after checking
    that the command line asks for nothing that run did not do."""
    from .serialization import load_checkpoint

    given = [_option(context, name) for name in _FIXED_BY_CHECKPOINT if _given(context, name)]
    if given:
        raise click.UsageError(f"--resume continues the checkpoint's run with its own settings; "
                               f"drop {', '.join(given)}.")
    try:
        model, state = load_checkpoint(checkpoint)
        settings = {key: state["settings"][key] for key in _RESUMED_SETTINGS}
        epoch = int(state["epoch"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise click.BadParameter(f"{checkpoint}: {error}", param_hint="--resume") from error
    if epochs < epoch:
        raise click.BadParameter(f"the checkpoint has already trained {epoch} epochs; --epochs counts all of "
                                 f"them, so give at least {epoch}.", param_hint="--epochs")
    recorded = state.get("metadata", {}).get("data")
    if recorded is None:  # a checkpoint written by the Solver outside the command line
        return model, settings, None
    differing = [f"{_option(context, name)} {context.params[name]} (the run used {recorded[name]})"
                 for name in _DATA_OPTIONS if _given(context, name) and context.params[name] != recorded[name]]
    if differing:
        raise click.UsageError("--resume must train on the data of the run it continues; drop or correct "
                               + ", ".join(differing) + ".")
    return model, settings, recorded


# The files of a finished or interrupted run, which a new run in the same folder would replace.
_RUN_FILES = ("model.npz", "metrics.json", "checkpoint_epoch_*.npz")


def _run_files(out):
    return sorted(path for pattern in _RUN_FILES for path in out.glob(pattern))


def _check_out(out, overwrite, resume):
    """Create ``out`` and make sure a run can be written there, before any work starts; return the files of
    an earlier run there that this one replaces.

    A folder that already holds a run's files is refused unless ``overwrite`` is given or the run resumes
    from a checkpoint in that same folder.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise click.BadParameter(f"cannot write into {out}: {error.strerror or error}", param_hint="--out") from None
    remove_stale_temporaries(out)
    existing = _run_files(out)
    continuing = resume is not None and resume.resolve().parent == out.resolve()
    if existing and not continuing:
        if not overwrite:
            names = ", ".join(path.name for path in existing[:4]) + (", ..." if len(existing) > 4 else "")
            raise click.BadParameter(
                f"{out} already holds a run ({names}). Choose a new folder, continue that run with --resume "
                f"{out}/checkpoint_epoch_K.npz, or pass --overwrite to replace it.", param_hint="--out")
        return existing
    return []


def _keep_last_checkpoint(out, epoch):
    """Delete the checkpoints of earlier epochs; the last one can resume or extend the run."""
    for path in out.glob("checkpoint_epoch_*.npz"):
        if path.name != f"checkpoint_epoch_{epoch}.npz":
            path.unlink()


@main.command(epilog=EXIT_STATUS_HELP)
@click.option("--model", "model_spec", default="three-layer", show_default=True,
              help="three-layer (conv-relu-pool-affine-relu-affine), fc (two hidden layers of 100), or a "
                   "ConvNet spec: '-'-separated cN (N filters), cNp (then 2x2 pool), fN (N hidden units), "
                   "e.g. c16p-c32p-f128.")
@click.option("--normalization", type=click.Choice(NORMALIZATIONS), default="none", show_default=True,
              help="fc: batchnorm or layernorm; ConvNet specs: batchnorm or groupnorm.")
@dataset_options
@click.option("--epochs", type=integer(1), default=10, show_default=True,
              help="Epochs in all (with --resume, including those the checkpoint has done).")
@click.option("--batch-size", type=integer(1), default=50, show_default=True)
@click.option("--update-rule", type=click.Choice(["sgd", "sgd_momentum", "rmsprop", "adam"]), default="adam",
              show_default=True)
@click.option("--lr", type=number(0, min_open=True), default=3e-3, show_default=True, help="Learning rate.")
@click.option("--lr-decay", type=number(0, 1), default=0.9, show_default=True,
              help="Learning rate factor after each epoch.")
@click.option("--reg", type=number(0), default=0.0, show_default=True, help="L2 strength.")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seeds the initial weights and the minibatches (not the data split); 0 to 2**32 - 1.")
@click.option("--resume", type=click.Path(dir_okay=False, exists=True, readable=True, path_type=Path),
              help="Continue from a checkpoint (OUT/checkpoint_epoch_K.npz) to --epochs in all; the run goes on "
                   "in the checkpoint's folder unless --out says otherwise.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the results [default: runs/DATASET-MODEL-TIME]. A folder that holds another "
                   "run is refused unless --overwrite is given.")
@click.option("--overwrite", is_flag=True, help="Replace the run that --out already holds.")
@click.pass_context
def train(context, model_spec, normalization, dataset, data_dir, num_train, num_val, num_test, epochs,
          batch_size, update_rule, lr, lr_decay, reg, dtype, seed, resume, out, overwrite):
    """Train a model; write its file, metrics.json and pictures to --out.

    With no options: ThreeLayerConvNet on the bundled 8x8 digits, in seconds.
    """
    from .serialization import save_model
    from .solver import Solver, TrainingDivergedError
    from .viz import save_conv_filters, save_training_curves

    if resume is not None:
        model, settings, recorded = _resume(context, resume, epochs)
        if recorded is not None:
            dataset, num_train, num_val, num_test = (recorded[name] for name in _DATA_OPTIONS)
        dtype = np.dtype(model.dtype).name
        out = out or resume.parent
    else:
        spec = DATASETS[dataset]
        model = build_model(model_spec, normalization, spec.input_dim, len(spec.class_names), reg, dtype, seed)
        settings = _solver_settings(update_rule, lr, lr_decay, batch_size, seed)
    spec = DATASETS[dataset]
    out = out or Path("runs") / f"{dataset}-{model_name(model)}-{datetime.now():%Y%m%d-%H%M%S}"
    replaced = _check_out(out, overwrite, resume)
    data = load_dataset(dataset, data_dir, dtype, num_train, num_val, num_test)
    try:
        model.loss(data["X_val"][:1])
    except ValueError as error:
        raise click.BadParameter(f"the checkpoint's model does not fit {dataset}: {error}",
                                 param_hint="--resume") from error
    for path in replaced:
        path.unlink()

    recorded = dict(zip(_DATA_OPTIONS, (dataset, num_train, num_val, num_test)))
    try:
        solver = Solver(model, data, num_epochs=epochs, checkpoint_name=out / "checkpoint",
                        resume_from=resume, metadata={"data": recorded}, raise_on_divergence=True, **settings)
    except (TypeError, ValueError) as error:
        raise click.UsageError(str(error)) from error
    solver.print_every = max(solver.iterations_per_epoch // 4, 1)
    click.echo(f"Training {type(model).__name__} on {dataset} ({len(data['X_train'])} training, "
               f"{len(data['X_val'])} validation images) for {epochs} epochs; results in {out}")
    started = time.perf_counter()
    try:
        # Overflow on the way to a NaN loss is reported once, as TrainingDivergedError, not as warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            solver.train()
    except TrainingDivergedError as error:
        raise click.ClickException(f"{error} No model file was written.") from error
    except OSError as error:
        raise click.ClickException(f"cannot write the run into {out}: {error}") from error
    finally:
        # An interrupted run keeps only its last checkpoint, as a finished one does.
        _keep_last_checkpoint(out, solver.epoch)
    seconds = time.perf_counter() - started

    metrics = {
        "dataset": dataset,
        "model": model_name(model),
        "model_class": type(model).__name__,
        "model_config": model.get_config(),
        "val_acc": accuracy(model, data["X_val"], data["y_val"]),
        "train_acc": accuracy(model, data["X_train"], data["y_train"]),
        "test_acc": accuracy(model, data["X_test"], data["y_test"]),
        "epochs": solver.epoch,
        "iterations": len(solver.loss_history),
        "seconds": round(seconds, 3),
        "final_loss": solver.loss_history[-1] if solver.loss_history else None,
        "train_acc_history": solver.train_acc_history,
        "val_acc_history": solver.val_acc_history,
        "options": {key: str(value) if isinstance(value, Path) else value for key, value in context.params.items()},
    }
    try:
        save_model(out / "model.npz", model)
        save_training_curves(solver, out / "curves.png")
        save_conv_filters(first_layer_filters(model, spec.input_dim)[:64], out / "filters.png",
                          title="First-layer weights")
        _write_json(out / "metrics.json", metrics)
    except OSError as error:
        raise click.ClickException(f"cannot write the run into {out}: {error}") from error
    test = "" if metrics["test_acc"] is None else f", test accuracy {metrics['test_acc']:.4f}"
    click.echo(f"Validation accuracy {metrics['val_acc']:.4f}{test} after {solver.epoch} epochs "
               f"in {seconds:.1f} s. Wrote {out}/model.npz, metrics.json, curves.png, filters.png")


def confusion_matrix(labels, predictions, num_classes):
    """``counts[true, predicted]``, shape (num_classes, num_classes)."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def format_confusion(counts, class_names):
    """The confusion matrix as a text table: rows true classes, columns predictions, then recall."""
    labels = [f"{index} {name}" for index, name in enumerate(class_names)]
    label_width = max(len(label) for label in labels + ["true \\ predicted"])
    cell = max(len(str(counts.max())), len(str(len(class_names) - 1))) + 1
    lines = ["true \\ predicted".ljust(label_width) + "".join(f"{index:>{cell}}" for index in range(len(labels)))
             + "  recall"]
    for true_class, (label, row) in enumerate(zip(labels, counts)):
        total = row.sum()
        recall = f"{row[true_class] / total:8.3f}" if total else "       -"
        lines.append(label.ljust(label_width) + "".join(f"{count:>{cell}}" for count in row) + recall)
    return "\n".join(lines)


@main.command(epilog=EXIT_STATUS_HELP)
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, exists=True, readable=True,
                                                                path_type=Path))
@dataset_options
@click.option("--split", type=click.Choice(["val", "test", "train"]), default="val", show_default=True)
def evaluate(model_path, dataset, data_dir, num_train, num_val, num_test, split):
    """Accuracy and confusion matrix of a saved MODEL (model.npz or a checkpoint) on a dataset split.

    Pass the dataset options the model was trained with, so the split and mean image match.
    """
    from .serialization import load_model

    try:
        model = load_model(model_path)
    except (OSError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="MODEL") from error
    data = load_dataset(dataset, data_dir, np.dtype(model.dtype).name, num_train, num_val, num_test)
    X, y = data[f"X_{split}"], data[f"y_{split}"]
    if len(X) == 0:
        raise click.UsageError(f"the {split} split of {dataset} is empty.")
    try:
        predictions = predict(model, X)
    except ValueError as error:
        raise click.BadParameter(f"{model_path} does not fit {dataset}: {error}", param_hint="MODEL") from error
    class_names = DATASETS[dataset].class_names
    click.echo(f"{model_name(model)} on {dataset} {split} ({len(y)} images): "
               f"accuracy {np.mean(predictions == y):.4f}\n")
    click.echo(format_confusion(confusion_matrix(y, predictions, len(class_names)), class_names))


@main.command()
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the random inputs.")
def gradcheck(seed):
    """Check every layer's backward pass against numerical gradients (float64).

    Exits with status 1 if any error exceeds its tolerance.
    """
    from .layer_gradcheck import check_all_layers

    results = check_all_layers(seed)
    layer_width = max(len(result.layer) for result in results)
    click.echo(f"{'layer':<{layer_width}}  grad    {'measure':<14}  {'error':>8}  {'tolerance':>9}")
    for result in results:
        click.echo(f"{result.layer:<{layer_width}}  {result.gradient:<6}  {result.measure:<14}  "
                   f"{result.error:8.1e}  {result.tolerance:9.0e}  {'ok' if result.passed else 'FAIL'}")
    failures = [result for result in results if not result.passed]
    if failures:
        click.echo(f"{len(failures)} of {len(results)} gradients exceed their tolerance.", err=True)
        raise SystemExit(1)
    click.echo(f"All {len(results)} gradients match.")


@main.group()
def demo():
    """Small demonstrations that write pictures."""


@demo.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("convolve.png"),
              show_default=True, help="PNG to write.")
def convolve(out):
    """Convolution as image processing: a grayscale filter and an edge detector on two photos."""
    from .demos import convolution_demo

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.BadParameter(f"cannot create the folder {out.parent}: {error.strerror or error}",
                                 param_hint="--out") from None
    try:
        convolution_demo(out)
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error}") from error
    click.echo(f"Wrote {out}")


@main.command(epilog=EXIT_STATUS_HELP)
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, exists=True, readable=True,
                                                                path_type=Path))
@click.option("--onnx", "onnx_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ONNX file to write.")
@click.option("--dtype", type=click.Choice(["float32"]),
              help="Export a float32 copy of a float64 model (onnxruntime's CPU backend has no float64 "
                   "convolution, so float64 models are refused without it).")
def export(model_path, onnx_path, dtype):
    """Export a saved MODEL (a model.npz that train wrote) as an ONNX graph.

    The graph takes a batch of images (N, C, H, W) and returns the scores (N, classes). Where the model file
    records the mean image its training data had subtracted, the graph subtracts it itself and takes raw
    pixel values; the class names, the input's value range and the preprocessing are in its metadata.
    """
    from .serialization import load_metadata, load_model

    try:
        from .interop import to_onnx
    except ImportError as error:
        raise click.ClickException(str(error)) from error
    try:
        metadata = load_metadata(model_path)
        model = load_model(model_path)
    except (OSError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="MODEL") from error
    try:
        proto = to_onnx(model, onnx_path, metadata=metadata, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise click.UsageError(f"cannot export {model_path}: {_checks.reason(error)}") from error
    except OSError as error:
        raise click.ClickException(f"cannot write {onnx_path}: {error.strerror or error}") from error
    preprocessing = json.loads({prop.key: prop.value for prop in proto.metadata_props}["preprocessing"])
    click.echo(f"Wrote {onnx_path}: {model_name(model)} in float32, input 'input', output 'scores'; {preprocessing}.")
