"""``tinyconv evaluate`` (a model on a dataset split), ``tinyconv predict`` (a model on image files) and
``tinyconv summary`` (a model's ops, shapes, parameters and multiply-adds)."""

import json
from pathlib import Path

import click
import numpy as np

from ..recipes import DATASETS
from .._backend import move_model
from ..metrics import scores
from ..run.datasets import dataset_info, is_folder
from ..run.models import model_name
from ._app import EXIT_STATUS_HELP, dataset_options, integer, load_dataset, load_model_file, main
from ._device import array_module_for, device_option

MODEL_ARGUMENT = click.argument("model_path", metavar="MODEL",
                                type=click.Path(dir_okay=False, exists=True, readable=True, path_type=Path))


def confusion_matrix(labels, predictions, num_classes):
    """``counts[true, predicted]``, shape (num_classes, num_classes)."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def format_confusion(counts, class_names):
    """The confusion matrix as a text table: rows true classes, columns predictions, then recall."""
    # A class named by its own number (a digit) is labelled once, not "0 0".
    labels = [name if name == str(index) else f"{index} {name}" for index, name in enumerate(class_names)]
    label_width = max(len(label) for label in labels + ["true \\ predicted"])
    cell = max(len(str(counts.max())), len(str(len(class_names) - 1))) + 1
    lines = ["true \\ predicted".ljust(label_width) + "".join(f"{index:>{cell}}" for index in range(len(labels)))
             + "  recall"]
    for true_class, (label, row) in enumerate(zip(labels, counts)):
        total = row.sum()
        recall = f"{row[true_class] / total:8.3f}" if total else "       -"
        lines.append(label.ljust(label_width) + "".join(f"{count:>{cell}}" for count in row) + recall)
    return "\n".join(lines)


def _trained_dataset(model_path, metadata, dataset):
    """The dataset to evaluate on: the model file's own, which ``--dataset`` may only repeat."""
    trained = metadata.get("dataset")
    if trained is None and dataset is None:
        raise click.UsageError(f"{model_path} does not record the dataset it was trained on (it predates tinyconv "
                               "0.2 or was saved from Python); give --dataset.")
    if trained is not None and trained not in DATASETS and not is_folder(trained):
        raise click.BadParameter(f"{model_path} names the dataset {trained!r}, which this tinyconv does not know "
                                 f"(it knows {', '.join(sorted(DATASETS))}).", param_hint="MODEL")
    if trained is not None and dataset is not None and dataset != trained:
        raise click.BadParameter(f"{model_path} was trained on {trained}, not {dataset}; drop --dataset or give "
                                 f"--dataset {trained}.", param_hint="--dataset")
    return trained or dataset


@main.command(epilog=EXIT_STATUS_HELP)
@MODEL_ARGUMENT
@dataset_options
@click.option("--split", type=click.Choice(["val", "test", "train"]), default="val", show_default=True)
@device_option
def evaluate(model_path, dataset, data_dir, num_train, num_val, num_test, image_size, channels, split, device):
    """Accuracy and confusion matrix of a saved MODEL (model.npz or a checkpoint) on a dataset split.

    The dataset, its split and the mean image come from the model file (written by tinyconv train); give
    --num-train, --num-val or --num-test to split it otherwise.
    """
    xp = array_module_for(device)
    model, metadata = load_model_file(model_path)
    dataset = _trained_dataset(model_path, metadata, dataset)
    recorded = metadata.get("data", {})
    sizes = {name: given if given is not None else recorded.get(name)
             for name, given in (("num_train", num_train), ("num_val", num_val), ("num_test", num_test),
                                 ("image_size", image_size), ("channels", channels))}
    mean_image = metadata.get("mean_image")
    data = load_dataset(dataset, data_dir, np.dtype(model.dtype).name, **sizes, subtract_mean=mean_image is None)
    X, y = data[f"X_{split}"], data[f"y_{split}"]
    if mean_image is not None:
        X = X - np.asarray(mean_image, dtype=X.dtype)  # the training run's mean, whatever the split
    if len(X) == 0:
        raise click.UsageError(f"the {split} split of {dataset} is empty.")
    move_model(model, xp)
    try:
        predictions = np.argmax(scores(model, X, xp=xp), axis=1)
    except ValueError as error:
        raise click.BadParameter(f"{model_path} does not fit {dataset}: {error}", param_hint="MODEL") from error
    class_names = (metadata.get("class_names")
                   or dataset_info(dataset, sizes["image_size"], sizes["channels"]).class_names)
    click.echo(f"{model_name(model)} on {dataset} {split} ({len(y)} images): "
               f"accuracy {np.mean(predictions == y):.4f}\n")
    click.echo(format_confusion(confusion_matrix(y, predictions, len(class_names)), class_names))


def softmax(scores):
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@main.command(epilog=EXIT_STATUS_HELP)
@MODEL_ARGUMENT
@click.argument("images", metavar="IMAGE...", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--top", type=integer(1), default=3, show_default=True, help="How many classes to list per image.")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON array: one object per image with file, label, probability and top (a list of "
                   "{label, probability}), or file and error for an image that could not be read.")
@device_option
def predict(model_path, images, top, as_json, device):
    """Classify PNG or JPEG files with a saved MODEL.

    Each image is prepared as the model's training images were (grayscale or colour, size, value range, mean
    image, and light-on-dark for digits and clothing: a dark drawing on white paper is inverted), from what
    the model file records.
    """
    from ..images import ImageError, prepare_image

    xp = array_module_for(device)
    model, metadata = load_model_file(model_path)
    if "input" not in metadata:
        raise click.BadParameter(f"{model_path} does not record how its images were prepared (it was not written "
                                 "by tinyconv train 0.2 or later); retrain it, or prepare images in Python.",
                                 param_hint="MODEL")
    prepared, errors = {}, {}
    for path in images:  # one bad file is reported; the others are still classified
        try:
            prepared[path] = prepare_image(path, metadata["input"], metadata.get("mean_image"), model.dtype)
        except ImageError as error:
            errors[path] = str(error)
    class_names = metadata["class_names"]
    top = min(top, len(class_names))
    ranked_rows = {}
    if prepared:
        move_model(model, xp)
        probabilities = softmax(scores(model, np.concatenate(list(prepared.values())), xp=xp).astype(np.float64))
        ranked_rows = dict(zip(prepared, probabilities))
    results = []
    for path in images:
        if path in errors:
            results.append({"file": str(path), "error": errors[path]})
            continue
        row = ranked_rows[path]
        ranked = np.argsort(-row, kind="stable")[:top]
        results.append({"file": str(path), "label": class_names[ranked[0]], "probability": float(row[ranked[0]]),
                        "top": [{"label": class_names[k], "probability": float(row[k])} for k in ranked]})
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        for result in results:
            if "error" in result:
                continue
            ranked = ", ".join(f"{entry['label']} {entry['probability']:.3f}" for entry in result["top"])
            click.echo(f"{result['file']}: {result['label']} ({ranked})")
    if errors:
        for message in errors.values():
            click.echo(f"Error: {message}", err=True)
        click.echo(f"{len(errors)} of {len(images)} images could not be read.", err=True)
        raise SystemExit(2)


@main.command(epilog=EXIT_STATUS_HELP)
@MODEL_ARGUMENT
def summary(model_path):
    """Each op of a saved MODEL with its output shape, parameters and multiply-adds, and the totals."""
    from ..models.summary import summary_text

    model, _ = load_model_file(model_path)
    click.echo(summary_text(model))
