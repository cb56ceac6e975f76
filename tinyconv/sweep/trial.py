"""One trial of a sweep: a ``tinyconv train`` run with the trial's options, anywhere (a Ray worker, a test).

The run goes into a temporary folder; the trial returns its files as bytes, so that a trial on another
machine brings them back to the machine that holds the sweep's folder.
"""

import tempfile
import time
from pathlib import Path

# The files of a trial's run that the sweep keeps (the pictures and checkpoints stay behind).
FILES = ("model.npz", "metrics.json", "metrics.csv")


def run_trial(options, data, data_options, dtype, seed, report):
    """Train as ``tinyconv train`` does with the setting values ``options`` (such as
    ``{"lr": 1e-3, "batch_size": 64}``; a dataset's recipe fills in the rest).

    ``data`` is what ``load_dataset`` returns for ``data_options`` (dataset, num_train, num_val, num_test),
    in ``dtype``; ``seed`` seeds the weights and minibatches. ``report(epoch, val_acc)`` is called after
    every epoch; a true return value prunes the trial, which then stops there, as early stopping stops
    (after the last epoch it changes nothing: the trial has completed).

    Returns a dict: ``state`` ('complete', 'pruned' or 'fail'), ``reason`` (why it failed, else None),
    ``metrics`` (val_acc, epochs, val_acc_history; None when it failed), ``files`` (name -> bytes of
    FILES; empty when it failed) and ``seconds`` (the whole trial, from building the model to reading
    the files).
    """
    from ..run.datasets import dataset_info
    from ..run.models import new_model
    from ..run.settings import SettingError, resolve
    from ..run.training import RunError, run_training

    started = time.perf_counter()
    pruned = []

    def epoch_callback(solver):
        # After the last epoch there is nothing left to prune: the trial has completed.
        if report(solver.epoch, solver.val_acc_history[-1]) and solver.epoch < solver.num_epochs:
            pruned.append(solver.epoch)
            return True
        return False

    def result(state, reason=None, metrics=None, files=None):
        return {"state": state, "reason": reason, "metrics": metrics, "files": files or {},
                "seconds": time.perf_counter() - started}

    try:
        info = dataset_info(data_options["dataset"], data=data if "class_names" in data else None)
        settings = resolve(info.recipe, options)
        model = new_model(data_options["dataset"], settings, dtype, seed, info)
        with tempfile.TemporaryDirectory(prefix="tinyconv-trial-") as folder:
            metrics = run_training(model, data, settings, data_options, seed, Path(folder), verbose=False,
                                   pictures=False, epoch_callback=epoch_callback)
            files = {name: (Path(folder) / name).read_bytes() for name in FILES}
    except (RunError, SettingError) as error:  # diverged, or options that do not go together
        return result("fail", str(error))
    except Exception as error:  # whatever else goes wrong ends this trial, not the sweep
        return result("fail", f"{type(error).__name__}: {error}")
    summary = {key: metrics[key] for key in ("val_acc", "epochs", "val_acc_history")}
    return result("pruned" if pruned else "complete", metrics=summary, files=files)
