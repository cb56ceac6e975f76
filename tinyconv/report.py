"""``report.html``: a run folder as one page that opens from disk in any browser.

The page is plain HTML and CSS, its pictures inline (PNG as data URLs), with no script and nothing fetched
from a network. It shows the run's settings, the model's summary, the training curves (``curves.png``), the
speed, the evaluation on the validation split (accuracy, each class's precision, recall and F1, the
confusion matrix as a picture, the misclassified images the model was surest of) and the first layer's
weights (``filters.png``). ``tinyconv train`` writes it into every run folder; ``tinyconv report RUN_DIR``
writes it again from the folder's files.
"""

import base64
import html
import json
from pathlib import Path

import numpy as np

from tinyconv._files import write_bytes

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.lead { color: #555; } .figures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
img { max-width: 100%; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 0.25em 0.8em; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _picture(data, alt):
    """An img element holding the PNG ``data`` itself."""
    encoded = base64.b64encode(data).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _table(headers, rows, numeric=()):
    head = "".join(f"<th>{html.escape(str(header))}</th>" for header in headers)
    body = "".join("<tr>" + "".join(
        f'<td{" class=number" if index in numeric else ""}>{html.escape(_text(cell))}</td>'
        for index, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _text(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(metrics, summary, record, pictures, class_names):
    """The page as text, from the run's ``metrics`` (metrics.json), the model's ``summary`` (its rows),
    the evaluation ``record`` (:func:`tinyconv.evaluation.evaluate`), ``pictures`` (name -> PNG bytes, of
    'curves', 'confusion', 'errors' and 'filters', each optional) and the ``class_names``."""
    options = metrics.get("options", {})
    title = f"{options.get('model', 'model')} on {options.get('dataset', 'a dataset')}"
    epochs = metrics.get("epochs") or 0
    speed = [("images per second", metrics.get("images_per_second")),
             ("seconds per epoch", metrics["seconds"] / epochs if epochs and metrics.get("seconds") else None),
             ("seconds in all", metrics.get("seconds")), ("epochs", epochs)]
    scores = [("validation accuracy of the model", metrics.get("val_acc")), ("its epoch", metrics.get("model_epoch")),
              ("best validation epoch", metrics.get("best_epoch")), ("test accuracy", metrics.get("test_acc"))]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="lead">The model is epoch {html.escape(_text(metrics.get("model_epoch")))}\'s: validation '
             f'accuracy {html.escape(_text(metrics.get("val_acc")))}, test accuracy '
             f'{html.escape(_text(metrics.get("test_acc")))}, macro F1 on validation '
             f'{html.escape(_text(record["macro_f1"]))}.</p>',
             "<h2>Training</h2>", '<div class="figures">',
             _picture(pictures["curves"], "training curves") if "curves" in pictures else "",
             _table(["", ""], scores + speed, numeric=(1,)), "</div>",
             "<h2>Evaluation on the validation images</h2>",
             f"<p>{record['images']:,} images, accuracy {record['accuracy']:.4f}.</p>",
             '<div class="figures">',
             _table(["class", "precision", "recall", "F1", "images"],
                    [[row["class"], row["precision"], row["recall"], row["f1"], row["support"]]
                     for row in record["per_class"]], numeric=(1, 2, 3, 4)),
             _picture(pictures["confusion"], "confusion matrix") if "confusion" in pictures else "", "</div>",
             "<h3>The misclassified images the model was surest of</h3>",
             _picture(pictures["errors"], "misclassified images") if "errors" in pictures and record["worst_errors"]
             else "<p>None: every validation image is classified right.</p>",
             _table(["image", "true", "predicted", "its probability", "the true class's"],
                    [[error["index"], class_names[error["true"]], class_names[error["predicted"]],
                      error["predicted_probability"], error["true_probability"]] for error in record["worst_errors"]],
                    numeric=(0, 3, 4)),
             "<h2>The model</h2>",
             _table(["op", "output", "parameters", "multiply-adds"],
                    [[row["op"], "x".join(map(str, row["output"])), row["params"], row["multiply_adds"]]
                     for row in summary], numeric=(2, 3)),
             _picture(pictures["filters"], "first-layer weights") if "filters" in pictures else "",
             "<h2>Settings</h2>",
             _table(["setting", "value"], [[name, json.dumps(value)] for name, value in sorted(options.items())])]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(part for part in parts if part)
            + "\n</body></html>\n")


def write_report(out, data=None, data_dir=None):
    """Write ``out/report.html`` for the run folder ``out`` (its metrics.json, model.npz, curves.png and
    filters.png), evaluating the model on ``data``'s validation split, or on the split the model file records
    (loaded again, from ``data_dir`` where the dataset needs it) when ``data`` is None. Returns the path."""
    from tinyconv.evaluation import evaluate
    from tinyconv.run.datasets import load_dataset
    from tinyconv.serialization import read_model_file
    from tinyconv.viz import as_seen, confusion_figure, errors_figure, png_bytes

    out = Path(out)
    metrics = json.loads((out / "metrics.json").read_text())
    model, metadata, _ = read_model_file(out / "model.npz")  # one read of the file, its metadata checked
    class_names = list(metadata["class_names"])
    if data is None:
        recorded = metadata["data"]
        data = load_dataset(recorded["dataset"], data_dir, np.dtype(model.dtype).name, recorded.get("num_train"),
                            recorded.get("num_val"), recorded.get("num_test"), image_size=recorded.get("image_size"),
                            channels=recorded.get("channels"))
    record = evaluate(model, data["X_val"], data["y_val"], class_names)
    seen = as_seen(data["X_val"], metadata.get("mean_image"), metadata.get("input", {}).get("value_range"))
    pictures = {"confusion": png_bytes(confusion_figure(record["confusion"], class_names)),
                "errors": png_bytes(errors_figure(seen, record["worst_errors"], class_names))}
    for name in ("curves", "filters"):
        if (out / f"{name}.png").exists():
            pictures[name] = (out / f"{name}.png").read_bytes()
    summary = model.summary() if hasattr(model, "summary") else []
    path = out / "report.html"
    write_bytes(path, render(metrics, summary, record, pictures, class_names).encode())
    return path
