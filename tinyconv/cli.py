"""The ``tinyconv`` command: train, evaluate, check gradients, run demos.

Needs the 'cli' extra (click, tqdm, matplotlib, scikit-image): ``pip install tinyconv[cli]``.
"""

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import click
import numpy as np

from . import __version__
from . import data as datasets
from ._files import atomic_write

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
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot load {name}: {error}") from error


def dataset_options(command):
    """The options shared by train and evaluate that choose and split a dataset."""
    options = [
        click.option("--dataset", type=click.Choice(sorted(DATASETS)), default="digits", show_default=True,
                     help="digits is bundled; cifar10 and fashion-mnist need --data-dir."),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Folder of the dataset files (cifar-10-batches-py, or the Fashion-MNIST IDX "
                          "files); defaults to $TINYCONV_CIFAR10 / $TINYCONV_FASHION_MNIST."),
        click.option("--num-train", type=click.IntRange(min=1),
                     help="Training images (cifar10: 49000, fashion-mnist: 59000)."),
        click.option("--num-val", type=click.IntRange(min=1),
                     help="Validation images (digits: 200, otherwise 1000)."),
        click.option("--num-test", type=click.IntRange(min=0),
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinyconv", message="%(prog)s %(version)s")
def main():
    """tinyconv: convolutional networks in NumPy that you can read, check and train."""


def _write_json(path, document):
    with atomic_write(path) as file:
        file.write((json.dumps(document, indent=2) + "\n").encode())


# Options that fix the model or the course of training; a resumed run takes them from its checkpoint.
_FIXED_BY_CHECKPOINT = ("model_spec", "normalization", "dtype", "reg", "update_rule", "lr", "lr_decay",
                        "batch_size", "seed")


def _check_resume_options(context):
    given = [param.opts[0] for param in context.command.params if param.name in _FIXED_BY_CHECKPOINT
             and context.get_parameter_source(param.name) != click.core.ParameterSource.DEFAULT]
    if given:
        raise click.UsageError(f"--resume continues the checkpoint's run with its own settings; "
                               f"drop {', '.join(given)}.")


# The Solver settings a checkpoint records and a resumed run must reuse.
_RESUMED_SETTINGS = ("update_rule", "optim_config", "lr_decay", "batch_size", "num_train_samples",
                     "num_val_samples", "seed")


def _solver_settings(update_rule, lr, lr_decay, batch_size, seed):
    return dict(update_rule=update_rule, optim_config={"learning_rate": lr}, lr_decay=lr_decay,
                batch_size=batch_size, seed=seed)


def _resume(checkpoint):
    from .serialization import load_checkpoint

    try:
        model, state = load_checkpoint(checkpoint)
        settings = {key: state["settings"][key] for key in _RESUMED_SETTINGS}
    except (OSError, ValueError, KeyError) as error:
        raise click.BadParameter(f"{checkpoint}: {error}", param_hint="--resume") from error
    return model, settings


def _keep_last_checkpoint(out, epoch):
    """Delete the checkpoints of earlier epochs; the last one can resume or extend the run."""
    for path in out.glob("checkpoint_epoch_*.npz"):
        if path.name != f"checkpoint_epoch_{epoch}.npz":
            path.unlink()


@main.command()
@click.option("--model", "model_spec", default="three-layer", show_default=True,
              help="three-layer (conv-relu-pool-affine-relu-affine), fc (two hidden layers of 100), or a "
                   "ConvNet spec: '-'-separated cN (N filters), cNp (then 2x2 pool), fN (N hidden units), "
                   "e.g. c16p-c32p-f128.")
@click.option("--normalization", type=click.Choice(NORMALIZATIONS), default="none", show_default=True,
              help="fc: batchnorm or layernorm; ConvNet specs: batchnorm or groupnorm.")
@dataset_options
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--update-rule", type=click.Choice(["sgd", "sgd_momentum", "rmsprop", "adam"]), default="adam",
              show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=3e-3, show_default=True,
              help="Learning rate.")
@click.option("--lr-decay", type=click.FloatRange(min=0, max=1), default=0.9, show_default=True,
              help="Learning rate factor after each epoch.")
@click.option("--reg", type=click.FloatRange(min=0), default=0.0, show_default=True, help="L2 strength.")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seeds the initial weights and the minibatches (not the data split).")
@click.option("--resume", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Continue from a checkpoint (OUT/checkpoint_epoch_K.npz) to --epochs in all.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the results [default: runs/DATASET-MODEL-TIME].")
@click.pass_context
def train(context, model_spec, normalization, dataset, data_dir, num_train, num_val, num_test, epochs,
          batch_size, update_rule, lr, lr_decay, reg, dtype, seed, resume, out):
    """Train a model; write its file, metrics.json and pictures to --out.

    With no options: ThreeLayerConvNet on the bundled 8x8 digits, in seconds.
    """
    from .serialization import save_model
    from .solver import Solver, TrainingDivergedError
    from .viz import save_conv_filters, save_training_curves

    spec = DATASETS[dataset]
    if resume is not None:
        _check_resume_options(context)
        model, settings = _resume(resume)
        dtype = np.dtype(model.dtype).name
    else:
        model = build_model(model_spec, normalization, spec.input_dim, len(spec.class_names), reg, dtype, seed)
        settings = _solver_settings(update_rule, lr, lr_decay, batch_size, seed)
    data = load_dataset(dataset, data_dir, dtype, num_train, num_val, num_test)
    out = out or Path("runs") / f"{dataset}-{model_name(model)}-{datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)

    try:
        solver = Solver(model, data, num_epochs=epochs, checkpoint_name=out / "checkpoint",
                        resume_from=resume, **settings)
    except (TypeError, ValueError) as error:
        raise click.ClickException(str(error)) from error
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
    seconds = time.perf_counter() - started
    _keep_last_checkpoint(out, solver.epoch)

    save_model(out / "model.npz", model)
    save_training_curves(solver, out / "curves.png")
    save_conv_filters(first_layer_filters(model, spec.input_dim)[:64], out / "filters.png",
                      title="First-layer weights")
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
    _write_json(out / "metrics.json", metrics)
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


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, exists=True, path_type=Path))
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
        raise click.ClickException(f"{model_path} does not fit {dataset}: {error}") from error
    class_names = DATASETS[dataset].class_names
    click.echo(f"{model_name(model)} on {dataset} {split} ({len(y)} images): "
               f"accuracy {np.mean(predictions == y):.4f}\n")
    click.echo(format_confusion(confusion_matrix(y, predictions, len(class_names)), class_names))


@main.command()
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random inputs.")
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

    convolution_demo(out)
    click.echo(f"Wrote {out}")
