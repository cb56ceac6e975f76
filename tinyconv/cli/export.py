"""``tinyconv export``: a model file as an ONNX graph, for onnxruntime and ONNX viewers."""

import json
from pathlib import Path

import click

from .. import _checks
from ..run.models import model_name
from ._app import EXIT_STATUS_HELP, load_model_file, main


@main.command(epilog=EXIT_STATUS_HELP)
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, exists=True, readable=True,
                                                                path_type=Path))
@click.option("--onnx", "onnx_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ONNX file to write.")
@click.option("--dtype", type=click.Choice(["float32"]),
              help="Export a float32 copy of a float64 model (onnxruntime's CPU backend has no float64 "
                   "convolution, so float64 models are refused without it).")
def export(model_path, onnx_path, dtype):
    """Export a saved MODEL (the model.npz that train writes) as an ONNX graph.

    The graph takes a batch of images (N, C, H, W) and returns the scores (N, classes). Where the model file
    records the mean image its training data had subtracted, the graph subtracts it itself and takes raw
    pixel values; the class names, the input's value range and the preprocessing are in its metadata.
    """
    if onnx_path.resolve() == model_path.resolve():
        raise click.BadParameter(f"{onnx_path} is the model file itself; the graph would replace it. Give the ONNX "
                                 "file another name, such as model.onnx.", param_hint="--onnx")
    try:
        from ..interop import to_onnx
    except ImportError as error:  # a missing extra is a usage error, as for sweep
        raise click.UsageError(str(error)) from error
    model, metadata = load_model_file(model_path)
    try:
        proto = to_onnx(model, onnx_path, metadata=metadata, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise click.UsageError(f"cannot export {model_path}: {_checks.reason(error)}") from error
    except OSError as error:
        raise click.ClickException(f"cannot write {onnx_path}: {error.strerror or error}") from error
    preprocessing = json.loads({prop.key: prop.value for prop in proto.metadata_props}["preprocessing"])
    click.echo(f"Wrote {onnx_path}: {model_name(model)} in float32, input 'input', output 'scores'; {preprocessing}.")
