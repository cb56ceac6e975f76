"""A whole training run: a model, its data and settings through the Solver into a run folder.

The folder gets the model file, ``metrics.json``, ``metrics.csv``, the last checkpoint and, with pictures,
``curves.png``, ``filters.png`` and ``report.html``; :func:`run_training` is what ``tinyconv train`` and each
sweep trial do.
"""

import json
import re
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from tinyconv import __version__, _checks
from tinyconv._files import write_bytes
from tinyconv.callbacks import CSVLogger
from tinyconv.run.datasets import dataset_info, image_format_record
from tinyconv.run.device import array_module_for
from tinyconv.metrics import accuracy
from tinyconv.models.summary import summary_text
from tinyconv.run.models import model_name
from tinyconv.run.settings import SettingError, solver_keywords

# The files of a finished or interrupted run, which a new run in the same folder would replace.
RUN_FILES = ("model.npz", "metrics.json", "metrics.csv", "curves.png", "filters.png", "report.html")
# The name of a checkpoint the Solver writes into a run folder; nothing else there is one.
_CHECKPOINT = re.compile(r"checkpoint_epoch_([0-9]+)\.npz")


class RunError(RuntimeError):
    """A run that failed while running: training diverged, or the folder could not be written."""


class RunInterrupted(RunError):
    """A run stopped by an interrupt (Ctrl-C). ``last_checkpoint`` is the path of its last complete
    checkpoint, from which it can resume, or None when it wrote none."""

    def __init__(self, message, last_checkpoint):
        super().__init__(message)
        self.last_checkpoint = last_checkpoint


def checkpoints(folder):
    """The checkpoints that runs wrote into ``folder``, by epoch: ``{epoch: path}``, found by exact name."""
    found = {}
    for path in folder.iterdir() if folder.is_dir() else ():
        match = _CHECKPOINT.fullmatch(path.name)
        if match and path.is_file():
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def run_files(folder):
    """The files of a run in ``folder`` (results, pictures and checkpoints), which a new run would replace."""
    named = [folder / name for name in RUN_FILES if (folder / name).is_file()]
    events = (folder / "tensorboard").glob("events.out.tfevents.*")  # --tensorboard's
    return sorted(named + list(checkpoints(folder).values()) + list(events))


def make_folder(out):
    """Create the folder ``out`` and check that files can be written there (SettingError on ``out`` if not).
    The temporary files that interrupted writes left there are removed by the run that holds the folder
    (:func:`tinyconv.run.folder.holding`), never by one that may be refused."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise SettingError("out", f"cannot write into {out}: {error.strerror or error}") from None


def model_metadata(data_options, mean_image, info):
    """What a model file records beside the parameters: the dataset and its split (for ``tinyconv evaluate``),
    its class names, how its images look (for ``tinyconv predict``) and the mean image subtracted in
    training."""
    return {"dataset": data_options["dataset"], "data": data_options, "class_names": list(info.class_names),
            "input": image_format_record(info), "mean_image": mean_image, "tinyconv_version": __version__}


def check_fits_data(settings, data):
    """A SettingError unless ``settings`` suit the training images of ``data``: a batch no larger than the
    training set, and crops no larger than the images take."""
    from tinyconv.data.augment import RandomCropFlip

    count, (height, width) = len(data["X_train"]), data["X_train"].shape[-2:]
    if settings.batch_size > count:
        raise SettingError("batch_size", f"`batch_size` {settings.batch_size} is more than the {count} training "
                           f"images; give at most {count}")
    augment = RandomCropFlip.from_text(settings.augment)
    if augment is not None:
        try:
            augment.check_images(height, width)
        except ValueError as error:
            raise SettingError("augment", f"`augment` {settings.augment}: {_checks.reason(error)}") from None


def run_training(model, data, settings, data_options, seed, out, *, resume=None, device="cpu", verbose=True,
                 pictures=True, epoch_callback=None, tensorboard=False):
    """Train ``model`` with run ``settings`` (a RunSettings) and ``seed``, and write the run into the folder
    ``out``.

    ``data`` is what :func:`tinyconv.run.datasets.load_dataset` returns for ``data_options`` (dataset,
    num_train, num_val, num_test); ``resume`` a checkpoint to continue. Writes model.npz, metrics.json,
    metrics.csv and the last checkpoint, and with ``pictures`` curves.png, filters.png and report.html; ``verbose``
    prints the progress and a summary. ``epoch_callback`` goes to the Solver (a true return value stops the
    run after that epoch). With ``tensorboard``, event files for TensorBoard go to ``out/tensorboard``.
    Returns the metrics that metrics.json holds.

    Raises SettingError for settings the Solver refuses, RunError when training diverges (no model file is
    written then) or the folder cannot be written.
    """
    from tinyconv.serialization import save_model
    from tinyconv.solver import Solver, TrainingDivergedError
    from tinyconv.viz import save_conv_filters, save_training_curves

    dataset = data_options["dataset"]
    info = dataset_info(dataset, data=data if "class_names" in data else None)
    check_fits_data(settings, data)
    run = {"data": data_options, "settings": settings.as_dict(), "seed": seed,
           "model_file": model_metadata(data_options, data["mean_image"], info)}
    xp = array_module_for(device)
    try:
        solver = Solver(model, data, num_epochs=settings.epochs, checkpoint_name=out / "checkpoint",
                        resume_from=resume, metadata={"run": run}, raise_on_divergence=True, verbose=verbose,
                        callbacks=_callbacks(out, tensorboard, info.input_dim), epoch_callback=epoch_callback,
                        **solver_keywords(settings, seed))
    except (TypeError, ValueError) as error:
        raise SettingError(None, str(error)) from error
    solver.print_every = max(solver.iterations_per_epoch // 4, 1)
    solver.move_to(xp)
    if verbose:
        if hasattr(model, "summary"):
            print(summary_text(model), flush=True)
        print(f"Training {type(model).__name__} {model_name(model)} on {dataset} ({len(data['X_train'])} "
              f"training, {len(data['X_val'])} validation images) for {settings.epochs} epochs; results in {out}",
              flush=True)
    started, updates_before, epochs_before = time.perf_counter(), len(solver.loss_history), solver.epoch
    try:
        # Overflow on the way to a NaN loss is reported once, as the divergence, not as warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            solver.train()
    except TrainingDivergedError as error:
        raise RunError(f"{error} No model file was written.") from error
    except OSError as error:
        raise RunError(f"cannot write the run into {out}: {error}") from error
    except KeyboardInterrupt:
        solver.move_to(np)
        if pictures and solver.val_acc_history:
            save_training_curves(solver, out / "curves.png")
        last = solver.last_checkpoint
        raise RunInterrupted(f"Interrupted in epoch {solver.epoch + 1}; "
                             + (f"the last checkpoint is {last} (epoch {solver.epoch})." if last else
                                "no epoch had ended, so there is no checkpoint."), last) from None
    finally:
        # A run keeps only its last complete checkpoint, whatever stopped it.
        _keep_only(out, solver.last_checkpoint)
    seconds = time.perf_counter() - started
    solver.move_to(np)

    updates = len(solver.loss_history) - updates_before
    metrics = {
        "dataset": dataset,
        "model": model_name(model),
        "model_class": type(model).__name__,
        "model_config": model.get_config(),
        "model_epoch": solver.model_epoch,
        "best_epoch": solver.best_epoch,
        "val_acc": accuracy(model, data["X_val"], data["y_val"]),
        "last_val_acc": solver.val_acc_history[-1],
        "train_acc": accuracy(model, data["X_train"], data["y_train"]),
        "test_acc": accuracy(model, data["X_test"], data["y_test"]),
        "epochs": solver.epoch,
        "stopped_early": solver.stopped_early,
        "iterations": len(solver.loss_history),
        # Training time in all, across resumes, as metrics.csv's last row has it.
        "seconds": round(solver.seconds_history[-1], 3),
        "images_per_second": (round(solver.batch_size * updates / solver.step_seconds, 1) if solver.step_seconds
                              else None),
        "final_loss": solver.loss_history[-1] if solver.loss_history else None,
        "train_acc_history": solver.train_acc_history,
        "val_acc_history": solver.val_acc_history,
        "val_loss_history": [None if np.isnan(loss) else loss for loss in solver.val_loss_history],
        "options": {**settings.as_dict(), **data_options, "dtype": np.dtype(model.dtype).name, "seed": seed,
                    "device": device},
    }
    try:
        save_model(out / "model.npz", model, run["model_file"])
        if pictures:
            save_training_curves(solver, out / "curves.png")
            weights = _first_layer_filters(model, info.input_dim)
            shown = f"all {len(weights)}" if len(weights) <= 64 else f"64 of {len(weights)}"
            save_conv_filters(weights[:64], out / "filters.png", title=f"First-layer weights ({shown} units)")
        write_bytes(out / "metrics.json", (json.dumps(metrics, indent=2) + "\n").encode())
        write_bytes(out / "metrics.csv", CSVLogger.table(solver))
    except OSError as error:
        raise RunError(f"cannot write the run into {out}: {error}") from error
    if pictures:
        _write_report(out, data)
    if verbose:
        print(_summary(solver, metrics, seconds, epochs_before, out, pictures), flush=True)
    return metrics


def _summary(solver, metrics, seconds, epochs_before, out, pictures):
    """The line that ends a run: which epoch the model is, its accuracies, the epochs this call trained and
    their time, and the files."""
    test = "" if metrics["test_acc"] is None else f"; test accuracy {metrics['test_acc']:.4f}"
    stopped = f" (stopped early after epoch {solver.stopped_early})" if solver.stopped_early else ""
    rate = "" if metrics["images_per_second"] is None else f", {metrics['images_per_second']:.0f} images/s"
    files = "model.npz, metrics.json, metrics.csv" + (", curves.png, filters.png, report.html" if pictures else "")
    trained = solver.epoch - epochs_before
    epochs = f"{trained} epoch{'' if trained == 1 else 's'}"
    if epochs_before:
        epochs += f" (epochs {epochs_before + 1} to {solver.epoch}, resumed)" if trained else " (resumed at the end)"
    if solver.model_epoch == solver.best_epoch:
        which = f"the best on validation: accuracy {metrics['val_acc']:.4f} (last epoch {metrics['last_val_acc']:.4f})"
    else:
        which = (f"the last: validation accuracy {metrics['val_acc']:.4f} (best: epoch {solver.best_epoch}, "
                 f"{solver.best_val_acc:.4f})")
    return (f"The model is epoch {solver.model_epoch}'s, {which}{test}. {epochs}{stopped} in {seconds:.1f} s"
            f"{rate}. Wrote {out}/{files}")


def _callbacks(out, tensorboard, input_dim):
    """The run's own callbacks: the CSV table, and with ``tensorboard`` the event files."""
    chosen = [CSVLogger(out / "metrics.csv")]
    if tensorboard:
        from tinyconv.tensorboard import TensorBoardLogger

        chosen.append(TensorBoardLogger(out / "tensorboard", lambda model: _first_layer_filters(model, input_dim)))
    return chosen


def _write_report(out, data):
    """report.html, once the model and metrics are saved: a report that cannot be drawn is a warning, never a
    lost run."""
    from tinyconv.report import write_report

    try:
        write_report(out, data)
    except Exception as error:  # whatever fails in drawing, the run itself is already safe on disk
        warnings.warn(f"{out / 'report.html'} was not written: {type(error).__name__}: {error}", RuntimeWarning,
                      stacklevel=3)


def _keep_only(out, last_checkpoint):
    """Delete the checkpoints in ``out`` other than ``last_checkpoint``, the run's last complete one (which
    resumes or extends it); with none complete, delete nothing."""
    if last_checkpoint is None:
        return
    keep = Path(last_checkpoint).resolve()
    for path in checkpoints(out).values():
        if path.resolve() != keep:
            path.unlink()


def _first_layer_filters(model, input_dim):
    """The first layer's weights as images ``(F, C, H, W)``: conv filters, or affine columns reshaped."""
    weights = model.params.get("W1", model.params.get("W1a"))
    return weights if weights.ndim == 4 else weights.T.reshape(-1, *input_dim)
