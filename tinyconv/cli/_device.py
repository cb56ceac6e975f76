"""``--device``: where the arrays of a run live, NumPy's memory or a GPU's through CuPy."""

import click

from ..run import device

device_option = click.option(
    "--device", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True,
    help="gpu runs the same code on CuPy arrays (pip install cupy-cuda12x or the build for your CUDA).")


def array_module_for(name):
    """NumPy for 'cpu'; CuPy for 'gpu', or a usage error naming --device that says what is missing."""
    try:
        return device.array_module_for(name)
    except device.SettingError as error:
        raise click.BadParameter(f"{error}; use --device cpu", param_hint="--device") from None
