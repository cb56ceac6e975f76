"""``tinyconv explain``: why a saved model classified images as it did, as saliency maps."""

from pathlib import Path

import click
import numpy as np

from ._app import EXIT_STATUS_HELP, integer, main
from .evaluate import MODEL_ARGUMENT, exit_if_unreadable, model_for_images, prepare_images, top_classes


@main.command(epilog=EXIT_STATUS_HELP)
@MODEL_ARGUMENT
@click.argument("images", metavar="IMAGE...", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for one picture per image, NAME_saliency.png.")
@click.option("--top", type=integer(1), default=3, show_default=True, help="How many classes to show per image.")
def explain(model_path, images, out, top):
    """Why a saved MODEL classifies each IMAGE as it does: a saliency map per image (Simonyan et al. 2014, as in
    cs231n assignment 3), the gradient of the predicted class's score with respect to each input pixel,
    computed by the model's own backward passes, shown beside the image as prepared for the model and the
    top classes.

    \b
    Example:
      tinyconv explain runs/default/model.npz my_digit.png --out explained/
    """
    from ..evaluation import softmax
    from ..explain import saliency
    from ..viz import as_seen, explanation_figure, save_png

    model, metadata = model_for_images(model_path, "use tinyconv.explain in Python")
    class_names = metadata["class_names"]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.ClickException(f"cannot write into {out}: {error}") from error
    prepared, errors = prepare_images(images, metadata, model.dtype)
    for path, X in prepared.items():
        probabilities = softmax(model.loss(X).astype(np.float64))[0]
        classes = top_classes(probabilities, class_names, top)
        seen = as_seen(X, metadata.get("mean_image"), metadata["input"]["value_range"])[0]
        why = saliency(model, X, [probabilities.argmax()])[0]
        picture = out / f"{path.stem}_saliency.png"
        try:
            save_png(explanation_figure(seen, why, classes, path.name), picture)
        except OSError as error:
            raise click.ClickException(f"cannot write {picture}: {error}") from error
        click.echo(f"{path}: {classes[0][0]} ({classes[0][1]:.3f}); wrote {picture}")
    exit_if_unreadable(errors, len(images))
