"""``tinyconv gradcheck``, ``tinyconv bench`` and ``tinyconv demo``: checks, races and pictures beside training."""

from pathlib import Path

import click
import numpy as np

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


@main.command()
@click.option("--dtype", type=click.Choice(["float32", "float64", "both"]), default="both", show_default=True)
def bench(dtype):
    """A quick race, under a minute: the fast layers against the naive loops, and against PyTorch on the CPU
    (forward + backward of each layer, and a whole training step of two networks) when it is installed.

    Ratios below 1 mean tinyconv is faster. The figures are one quick run on a possibly busy machine:
    benchmarks/bench.py in a source checkout measures longer and more.
    """
    from .. import benchmark

    dtypes = [np.float32, np.float64] if dtype == "both" else [np.dtype(dtype).type]
    effort = benchmark.QUICK
    benchmark.print_table("Naive vs fast, float64 (ms)", ["layer", "naive ms", "fast ms", "speedup"],
                          benchmark.naive_vs_fast_rows(effort))
    try:
        import torch  # noqa: F401
    except ImportError:
        click.echo("\nPyTorch is not installed: no race against it (pip install 'tinyconv[bench]').")
        return
    times = benchmark.layer_times(benchmark.CASES, dtypes, effort)
    rows, ratios = [], {}
    for (case, layer_dtype), t in times.items():
        value = t["tinyconv", None] / t["torch", None]
        ratios.setdefault(np.dtype(layer_dtype).name, []).append(value)
        rows.append([case.label, np.dtype(layer_dtype).name, benchmark.milliseconds(t["tinyconv", None]),
                     benchmark.milliseconds(t["torch", None]), benchmark.ratio(value)])
    for (network, step_dtype), t in benchmark.training_times(dtypes, effort).items():
        label, batch = benchmark.NETWORKS[network]
        rows.append([f"training step: {label}, batch {batch}", np.dtype(step_dtype).name,
                     benchmark.milliseconds(t["tinyconv", None]), benchmark.milliseconds(t["torch", None]),
                     benchmark.ratio(t["tinyconv", None] / t["torch", None])])
    for name, values in ratios.items():
        rows.append([f"geometric mean over the {len(values)} layers", name, "", "",
                     benchmark.ratio(benchmark.geometric_mean(values))])
    benchmark.print_table("tinyconv vs PyTorch on the CPU, default threads (ms)",
                          ["what", "dtype", "tinyconv ms", "torch ms", "tinyconv/torch"], rows)
