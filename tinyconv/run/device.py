"""Where a run's arrays live: NumPy's memory, or a GPU's through CuPy (``Solver.move_to`` moves a run)."""

import numpy as np

from tinyconv.run.settings import SettingError


def array_module_for(device):
    """NumPy for 'cpu'; CuPy for 'gpu', or a SettingError (on ``device``) that says what is missing (the
    other choice being the cpu)."""
    if device == "cpu":
        return np
    try:
        import cupy
    except ImportError:
        raise SettingError("device", "CuPy is not installed: pip install cupy-cuda12x (or the build for your CUDA "
                           "version)") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CuPy raises its own CUDA errors when no driver answers
        raise SettingError("device", f"CuPy found no usable GPU ({error})") from None
    if count == 0:
        raise SettingError("device", "CuPy found no GPU")
    return cupy
