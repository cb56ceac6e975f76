"""``tinyconv explain``: why a saved model classified images as it did, as saliency maps."""

from pathlib import Path

import click
import numpy as np

from ._app import EXIT_STATUS_HELP, integer, load_model_file, main
from .evaluate import MODEL_ARGUMENT


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
    from ..images import ImageError, prepare_image
    from ..viz import as_seen, explanation_figure, save_png

    model, metadata = load_model_file(model_path)
    if "input" not in metadata:
        raise click.BadParameter(f"{model_path} does not record how its images were prepared (it was not written "
                                 "by tinyconv train 0.2 or later); retrain it, or use tinyconv.explain in Python.",
                                 param_hint="MODEL")
    class_names, mean_image = metadata["class_names"], metadata.get("mean_image")
    top = min(top, len(class_names))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.ClickException(f"cannot write into {out}: {error}") from error
    failed = 0
    for path in images:
        try:
            X = prepare_image(path, metadata["input"], mean_image, model.dtype)
        except ImageError as error:
            click.echo(f"Error: {error}", err=True)
            failed += 1
            continue
        probabilities = softmax(model.loss(X).astype(np.float64))[0]
        ranked = np.argsort(-probabilities, kind="stable")[:top]
        classes = [(class_names[k], float(probabilities[k])) for k in ranked]
        seen = as_seen(X, mean_image, metadata["input"]["value_range"])[0]
        picture = out / f"{path.stem}_saliency.png"
        try:
            save_png(explanation_figure(seen, saliency(model, X, ranked[:1])[0], classes, path.name), picture)
        except OSError as error:
            raise click.ClickException(f"cannot write {picture}: {error}") from error
        click.echo(f"{path}: {classes[0][0]} ({classes[0][1]:.3f}); wrote {picture}")
    if failed:
        click.echo(f"{failed} of {len(images)} images could not be read.", err=True)
        raise SystemExit(2)
