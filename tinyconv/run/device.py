"""Where a run's arrays live: NumPy's memory, or a GPU's through CuPy."""

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


def move(tree, xp):
    """``tree`` (nested dicts and lists of arrays and plain values) with every array moved to module ``xp``."""
    if isinstance(tree, dict):
        return {key: move(value, xp) for key, value in tree.items()}
    if isinstance(tree, list):
        return [move(value, xp) for value in tree]
    if hasattr(tree, "shape") and hasattr(tree, "dtype"):
        return tree.get() if xp is np and hasattr(tree, "get") else xp.asarray(tree)
    return tree


def move_model(model, xp):
    """Move a model's parameters and batch-norm buffers to module ``xp``."""
    model.params = move(model.params, xp)
    model.bn_params[:] = move(list(model.bn_params), xp)


def move_run(solver, xp):
    """Move everything a Solver trains with (model parameters and buffers, optimizer state, best parameters
    and buffers, data) to module ``xp``."""
    move_model(solver.model, xp)
    solver.optim_configs = move(solver.optim_configs, xp)
    solver.best_params = move(solver.best_params, xp)
    solver.best_state = move(solver.best_state, xp)
    for name in ("X_train", "y_train", "X_val", "y_val"):
        setattr(solver, name, move(getattr(solver, name), xp))
