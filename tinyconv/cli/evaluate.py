"""``tinyconv evaluate`` (a model on a dataset split), ``tinyconv predict`` (a model on image files),
``tinyconv summary`` (a model's ops, shapes, parameters and multiply-adds) and ``tinyconv report`` (a run
folder's report.html)."""

import json
from pathlib import Path

import click
import numpy as np

from ..recipes import DATASETS
from .._backend import move_model
from ..evaluation import evaluate as evaluation_of, softmax
from ..metrics import scores
from ..run.datasets import dataset_info, is_folder
from ..run.models import model_name
from ..data import DataSourceMissing
from ._app import EXIT_STATUS_HELP, dataset_options, integer, library_errors, load_dataset, load_model_file, main
from ._device import array_module_for, device_option

MODEL_ARGUMENT = click.argument("model_path", metavar="MODEL",
                                type=click.Path(dir_okay=False, exists=True, readable=True, path_type=Path))


def format_confusion(counts, class_names, classes):
    """The confusion matrix as a text table, rows true classes and columns predictions, then each class's
    precision, recall and F1 (``classes``: :func:`tinyconv.evaluation.per_class`'s rows)."""
    # A class named by its own number (a digit) is labelled once, not "0 0".
    labels = [name if name == str(index) else f"{index} {name}" for index, name in enumerate(class_names)]
    label_width = max(len(label) for label in labels + ["true \\ predicted"])
    cell = max(len(str(counts.max())), len(str(len(class_names) - 1))) + 1
    lines = ["true \\ predicted".ljust(label_width) + "".join(f"{index:>{cell}}" for index in range(len(labels)))
             + "  precision  recall      F1"]
    for label, row, figures in zip(labels, counts, classes):
        shown = "".join("          -" if figures[key] is None else f"{figures[key]:11.3f}"
                        for key in ("precision", "recall"))
        shown += "       -" if figures["f1"] is None else f"{figures['f1']:8.3f}"
        lines.append(label.ljust(label_width) + "".join(f"{count:>{cell}}" for count in row) + shown)
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
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the evaluation as JSON: accuracy, per-class precision, recall, F1 and support, the "
                   "confusion matrix and the worst errors (the misclassified images the model was surest of).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Also write confusion.png (the confusion matrix) and errors.png (the worst errors) here.")
@device_option
def evaluate(model_path, dataset, data_dir, num_train, num_val, num_test, image_size, channels, split, json_path,
             out, device):
    """Accuracy, per-class figures and confusion matrix of a saved MODEL (model.npz or a checkpoint) on a
    dataset split.

    The dataset, its split and the mean image come from the model file (written by tinyconv train); give
    --num-train, --num-val or --num-test to split it otherwise.

    \b
    Examples:
      tinyconv evaluate runs/default/model.npz --split test
      tinyconv evaluate runs/default/model.npz --json eval.json --out eval/
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
    class_names = list(metadata.get("class_names")
                       or dataset_info(dataset, sizes["image_size"], sizes["channels"]).class_names)
    move_model(model, xp)
    try:
        record = evaluation_of(model, X, y, class_names, xp=xp)
    except ValueError as error:
        raise click.BadParameter(f"{model_path} does not fit {dataset}: {error}", param_hint="MODEL") from error
    record = {"model": str(model_path), "dataset": dataset, "split": split, **record}
    click.echo(f"{model_name(model)} on {dataset} {split} ({len(y)} images): accuracy {record['accuracy']:.4f}"
               + ("" if record["macro_f1"] is None else f", macro F1 {record['macro_f1']:.4f}") + "\n")
    click.echo(format_confusion(np.array(record["confusion"]), class_names, record["per_class"]))
    _write_evaluation(record, json_path, out, X, metadata, class_names)


def _write_evaluation(record, json_path, out, X, metadata, class_names):
    """The record as JSON at ``json_path``, and the confusion matrix and worst errors as pictures in ``out``."""
    from .._files import write_bytes
    from ..viz import as_seen, confusion_figure, errors_figure, save_png

    try:
        if json_path is not None:
            write_bytes(json_path, (json.dumps(record, indent=2) + "\n").encode())
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            save_png(confusion_figure(record["confusion"], class_names), out / "confusion.png")
            value_range = metadata.get("input", {}).get("value_range")
            seen = as_seen(X, metadata.get("mean_image"), value_range)
            save_png(errors_figure(seen, record["worst_errors"], class_names), out / "errors.png")
    except OSError as error:
        raise click.ClickException(f"cannot write the evaluation: {error}") from error


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
    xp = array_module_for(device)
    model, metadata = model_for_images(model_path, "prepare images in Python")
    prepared, errors = prepare_images(images, metadata, model.dtype)
    class_names = metadata["class_names"]
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
        ranked = top_classes(ranked_rows[path], class_names, top)
        results.append({"file": str(path), "label": ranked[0][0], "probability": ranked[0][1],
                        "top": [{"label": label, "probability": probability} for label, probability in ranked]})
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        for result in results:
            if "error" in result:
                continue
            ranked = ", ".join(f"{entry['label']} {entry['probability']:.3f}" for entry in result["top"])
            click.echo(f"{result['file']}: {result['label']} ({ranked})")
    exit_if_unreadable(errors, len(images))


def model_for_images(model_path, instead):
    """The model and metadata of a model file that records how its images were prepared, or a usage error
    naming the file that says to do ``instead``."""
    model, metadata = load_model_file(model_path)
    if "input" not in metadata:
        raise click.BadParameter(f"{model_path} does not record how its images were prepared (it was not written "
                                 f"by tinyconv train 0.2 or later); retrain it, or {instead}.", param_hint="MODEL")
    return model, metadata


def prepare_images(paths, metadata, dtype):
    """The model inputs ``(1, C, H, W)`` of the image files that could be read, by path, and the messages of
    those that could not: one bad file is reported while the others are still classified."""
    from ..images import ImageError, prepare_image

    prepared, errors = {}, {}
    for path in paths:
        try:
            prepared[path] = prepare_image(path, metadata["input"], metadata.get("mean_image"), dtype)
        except ImageError as error:
            errors[path] = str(error)
    return prepared, errors


def top_classes(probabilities, class_names, top):
    """The ``top`` most probable classes of one image's ``probabilities``, as (label, probability) pairs."""
    ranked = np.argsort(-probabilities, kind="stable")[:top]
    return [(class_names[k], float(probabilities[k])) for k in ranked]


def exit_if_unreadable(errors, count):
    """Report the images that could not be read, and exit with status 2, if there are any."""
    if errors:
        for message in errors.values():
            click.echo(f"Error: {message}", err=True)
        click.echo(f"{len(errors)} of {count} images could not be read.", err=True)
        raise SystemExit(2)


@main.command(epilog=EXIT_STATUS_HELP)
@MODEL_ARGUMENT
def summary(model_path):
    """Each op of a saved MODEL with its output shape, parameters and multiply-adds, and the totals."""
    from ..models.summary import summary_text

    model, _ = load_model_file(model_path)
    click.echo(summary_text(model))


@main.command(epilog=EXIT_STATUS_HELP)
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the dataset files, for a dataset that is not bundled (as for train).")
def report(run_dir, data_dir):
    """Write RUN_DIR/report.html: the run in one page that opens from disk (settings, model summary, curves,
    speed, per-class figures, confusion matrix, the worst errors, first-layer weights).

    tinyconv train writes it into every run folder; this writes it again, from the folder's files.

    \b
    Example:
      tinyconv report runs/default && xdg-open runs/default/report.html
    """
    from ..report import write_report

    missing = [name for name in ("metrics.json", "model.npz") if not (run_dir / name).is_file()]
    if missing:
        raise click.BadParameter(f"{run_dir} holds no finished run ({' and '.join(missing)} missing); give the "
                                 "--out folder of a tinyconv train that ended", param_hint="RUN_DIR")
    with library_errors():
        try:
            path = write_report(run_dir, data_dir=data_dir)
        except (DataSourceMissing, ValueError) as error:
            raise click.UsageError(str(error)) from error
        except OSError as error:
            raise click.ClickException(f"cannot write {run_dir / 'report.html'}: {error}") from error
    click.echo(f"Wrote {path}")
