"""What a model gets right and wrong on labelled images, in figures people read: the confusion matrix, each
class's precision, recall and F1, and the images it gets wrong with the most confidence.

:func:`evaluate` scores the images once (``tinyconv.metrics``) and returns a record of plain numbers and
lists, ready for JSON (``tinyconv evaluate --json``) and for the run report.
"""

import numpy as np

from tinyconv import _checks
from tinyconv.metrics import scores


def softmax(scores):
    """Probabilities ``(N, C)`` of class scores ``(N, C)``, in float64."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def confusion_matrix(labels, predictions, num_classes):
    """``counts[true, predicted]``, shape (num_classes, num_classes)."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def per_class(counts, class_names):
    """Each class's precision (of the images predicted as it, the share that are), recall (of its images, the
    share predicted as it), F1 (their harmonic mean) and support (its images), from a confusion matrix; a
    share of nothing is None (no image predicted as the class, or none of it)."""
    rows = []
    for index, name in enumerate(class_names):
        hits, predicted, support = counts[index, index], counts[:, index].sum(), counts[index].sum()
        precision = hits / predicted if predicted else None
        recall = hits / support if support else None
        f1 = (2 * precision * recall / (precision + recall) if precision and recall else
              (0.0 if precision is not None and recall is not None else None))
        rows.append({"class": name, "precision": None if precision is None else float(precision),
                     "recall": None if recall is None else float(recall), "f1": None if f1 is None else float(f1),
                     "support": int(support)})
    return rows


def worst_errors(probabilities, labels, count):
    """The ``count`` misclassified images the model was surest of, surest first: each a dict with its
    ``index``, ``true`` and ``predicted`` class and their probabilities."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    surest = wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:count]
    return [{"index": int(i), "true": int(labels[i]), "predicted": int(predicted[i]),
             "predicted_probability": float(probabilities[i, predicted[i]]),
             "true_probability": float(probabilities[i, labels[i]])} for i in surest]


def evaluate(model, X, y, class_names, errors=16, batch_size=200, xp=np):
    """The evaluation record of ``model`` on images ``X (N, ...)`` labelled ``y (N,)``.

    Returns a dict: ``images``, ``accuracy``, ``per_class`` (see :func:`per_class`), ``macro_f1`` (the mean F1
    of the classes that have images), ``confusion`` (``confusion[true][predicted]`` counts) and
    ``worst_errors`` (up to ``errors`` of them, see :func:`worst_errors`; ``index`` is a row of X). The model
    runs in ``xp`` (NumPy, or CuPy where its arrays are).
    """
    where = "evaluate"
    _checks.array(where, "X", X)
    labels = np.asarray(y)
    if len(labels) != len(X) or len(X) == 0:
        raise ValueError(f"{where}: X and y must hold the same positive number of images, got {len(X)} and "
                         f"{len(labels)}")
    probabilities = softmax(scores(model, X, batch_size, xp).astype(np.float64))
    _checks.labels(where, labels, len(labels), len(class_names))
    if probabilities.shape[1] != len(class_names):
        raise ValueError(f"{where}: the model scores {probabilities.shape[1]} classes, but class_names has "
                         f"{len(class_names)}")
    counts = confusion_matrix(labels, probabilities.argmax(axis=1), len(class_names))
    classes = per_class(counts, class_names)
    scored = [row["f1"] for row in classes if row["support"] and row["f1"] is not None]
    return {"images": int(len(labels)), "accuracy": float(np.trace(counts) / len(labels)), "per_class": classes,
            "macro_f1": float(np.mean(scored)) if scored else None, "confusion": counts.tolist(),
            "worst_errors": worst_errors(probabilities, labels, errors)}
