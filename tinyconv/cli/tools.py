"""``tinyconv gradcheck`` and ``tinyconv demo``: checks and pictures beside training."""

from pathlib import Path

import click

from ._app import SEED, main


@main.command()
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the random inputs.")
def gradcheck(seed):
    """Check every layer's backward pass against numerical gradients (float64).

    Exits with status 1 if any error exceeds its tolerance.
    """
    from ..layer_gradcheck import check_all_layers

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
    from ..demos import convolution_demo

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
