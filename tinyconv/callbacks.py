"""What a training run does beside its updates, as objects the Solver calls: progress, early stopping,
a function called after each epoch, a log of each epoch, and holding BLAS to one thread (the learning-rate
schedule is :class:`tinyconv.schedule.LearningRateSchedule`, the checkpoints
:class:`tinyconv.checkpoint.Checkpoints`).

A callback subclasses :class:`Callback` and overrides the moments it cares about. The Solver calls every
callback of ``solver.callbacks``, in order, at each moment; at an epoch's end, one that returns True
stops the run there (after all of them have heard of the epoch), as early stopping does.
"""

import contextlib
import csv
import io
import shutil
import sys
import time

import numpy as np

from tinyconv import _checks
from tinyconv._files import write_bytes
from tinyconv._parallel import get_num_threads, held_blas


class Callback:
    """The moments of a run; each does nothing here."""

    def on_train_begin(self, solver):
        """``train()`` starts (or continues a resumed run)."""

    def on_iteration_begin(self, solver, iteration):
        """Update ``iteration`` (0-based) is about to draw its minibatch."""

    def on_iteration_end(self, solver, iteration, loss):
        """Update ``iteration`` (0-based) finished with minibatch loss ``loss``."""

    def on_accuracies(self, solver, train_acc, val_acc):
        """Accuracies were measured: after the first update, and at the end of every epoch."""

    def on_epoch_end(self, solver):
        """Epoch ``solver.epoch`` ended, its accuracies recorded (and its checkpoint written, for the callbacks
        after the Solver's ``Checkpoints``). Return True to stop the run here."""
        return False

    def on_train_end(self, solver):
        """``train()`` stops, normally or by an exception."""


class HoldBlas(Callback):
    """Hold BLAS at one thread for the run (``tinyconv._parallel.held_blas``) where that is faster: for a
    network with convolutions, whose fast layers' workers do the parallel work, and for any network when
    tinyconv runs one worker. A network of matrix products alone on several workers keeps BLAS's threads."""

    def on_train_begin(self, solver):
        self._held = contextlib.ExitStack()
        convolutional = any(getattr(p, "ndim", 0) == 4 for p in solver.model.params.values())
        if convolutional or get_num_threads() == 1:
            self._held.enter_context(held_blas())

    def on_train_end(self, solver):
        self._held.close()


class EarlyStopping(Callback):
    """Stop when the validation accuracy has not improved for ``patience`` epochs."""

    def __init__(self, patience):
        self.patience = _checks.positive_int("EarlyStopping", "patience", patience)

    def on_epoch_end(self, solver):
        return solver.epoch - solver.best_epoch >= self.patience


class EpochFunction(Callback):
    """``function(solver)`` after every epoch; a true return value stops the run (a sweep prunes so)."""

    def __init__(self, function):
        if not callable(function):
            raise TypeError(f"EpochFunction: function must be a function f(solver) -> bool, got "
                            f"{_checks.describe(function)}")
        self.function = function

    def on_epoch_end(self, solver):
        return bool(self.function(solver))


class CSVLogger(Callback):
    """A CSV table of the run at ``path``: one row per accuracy check (after the first update, epoch 0, then
    after every epoch) with the training loss (the mean minibatch loss of the epoch, as trained: with
    regularization) and accuracy, the validation loss (the data loss) and accuracy, the learning rate and the
    seconds. Written whole (atomically) when training starts, with the rows of what a resumed run had done,
    then a row is appended and flushed as each epoch ends, so that ``tail -f`` follows it."""

    HEADER = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "learning_rate", "seconds")

    def __init__(self, path):
        self.path = path
        self._file = None

    @classmethod
    def table(cls, solver):
        """The whole table of ``solver``'s run so far, as bytes."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(cls.HEADER)
        writer.writerows(cls._rows(solver))
        return text.getvalue().encode()

    @staticmethod
    def _rows(solver, start=0):
        per_epoch = solver.iterations_per_epoch
        losses = solver.loss_history
        rows = list(zip(solver.train_acc_history, solver.val_loss_history, solver.val_acc_history,
                        solver.seconds_history))
        for epoch in range(start, len(rows)):
            train_acc, val_loss, val_acc, seconds = rows[epoch]
            window = losses[:1] if epoch == 0 else losses[(epoch - 1) * per_epoch:epoch * per_epoch]
            # The learning rate of the epoch's last update (the first one's for epoch 0).
            rate = solver.learning_rate(max(epoch * per_epoch - 1, 0))
            yield (epoch, f"{np.mean(window):.6f}", f"{train_acc:.6f}", "" if np.isnan(val_loss) else f"{val_loss:.6f}",
                   f"{val_acc:.6f}", "" if rate is None else f"{rate:.6g}", f"{seconds:.3f}")

    def on_train_begin(self, solver):
        write_bytes(self.path, self.table(solver))
        self._written = len(solver.val_acc_history)
        self._file = open(self.path, "a", newline="")
        self._writer = csv.writer(self._file, lineterminator="\n")

    def on_epoch_end(self, solver):
        rows = list(self._rows(solver, self._written))
        self._writer.writerows(rows)
        self._file.flush()
        self._written += len(rows)
        return False

    def on_train_end(self, solver):
        if self._file is not None:
            self._file.close()
            self._file = None


# --- progress -----------------------------------------------------------------------------------------


class _Progress(Callback):
    """What the progress reports share: the pace of the run so far."""

    def on_train_begin(self, solver):
        self._first_iteration = solver.iteration
        self._started = time.perf_counter()
        self._total = solver.num_epochs * solver.iterations_per_epoch

    def pace(self, solver):
        """Images per second of the updates so far and the seconds the rest of the run should take."""
        updates = solver.iteration - self._first_iteration
        if not updates or not solver.step_seconds:
            return None, None
        seconds_per_update = (time.perf_counter() - self._started) / updates
        return (solver.batch_size * updates / solver.step_seconds,
                seconds_per_update * (self._total - solver.iteration))


def _duration(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class ProgressLines(_Progress):
    """The starter code's report lines (the loss every ``solver.print_every`` updates, the accuracies), and
    after each epoch the speed and the time left."""

    def on_iteration_end(self, solver, iteration, loss):
        if iteration % solver.print_every == 0:
            print("(Iteration %d / %d) loss: %f" % (iteration + 1, self._total, loss))

    def on_accuracies(self, solver, train_acc, val_acc):
        print("(Epoch %d / %d) train acc: %f; val_acc: %f" % (solver.epoch, solver.num_epochs, train_acc, val_acc))

    def on_epoch_end(self, solver):
        rate, left = self.pace(solver)
        if rate is not None:
            print(f"  {rate:.0f} images/s, about {_duration(left)} left")
        return False


class ProgressBar(_Progress):
    """One tqdm bar for the whole run, in images, with its rate and time left; the current epoch's own bar,
    the loss and the latest accuracies follow it on the same line."""

    _EPOCH_BAR = 10

    def __init__(self, tqdm):
        self._tqdm = tqdm
        self._bar = None
        self._postfix = {}

    def _epoch_text(self, solver, iteration):
        per_epoch = solver.iterations_per_epoch
        done = (iteration + 1) % per_epoch or per_epoch
        filled = self._EPOCH_BAR * done // per_epoch
        epoch = min(iteration // per_epoch + 1, solver.num_epochs)
        return f"epoch {epoch}/{solver.num_epochs} [{'#' * filled}{'.' * (self._EPOCH_BAR - filled)}]"

    def on_iteration_end(self, solver, iteration, loss):
        batch = solver.batch_size
        if self._bar is None:
            self._bar = self._tqdm(total=self._total * batch, initial=iteration * batch, unit="img",
                                   unit_scale=True, file=sys.stdout, dynamic_ncols=True, smoothing=0.05,
                                   bar_format="{percentage:3.0f}%|{bar}| {elapsed}<{remaining}, {rate_fmt} {desc}")
        self._postfix["loss"] = f"{loss:.4f}"
        postfix = ", ".join(f"{key} {value}" for key, value in self._postfix.items())
        self._bar.set_description_str(f"{self._epoch_text(solver, iteration)} {postfix}", refresh=False)
        self._bar.update(batch)

    def on_accuracies(self, solver, train_acc, val_acc):
        self._postfix.update(train=f"{train_acc:.3f}", val=f"{val_acc:.3f}")

    def on_train_end(self, solver):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# Narrower than this, a bar is unreadable: print lines instead.
_MIN_BAR_COLUMNS = 60


def progress():
    """The progress report for this process's output: a bar on a terminal at least 60 columns wide when
    tqdm is installed, else lines."""
    if getattr(sys.stdout, "isatty", lambda: False)() and shutil.get_terminal_size((0, 0)).columns >= _MIN_BAR_COLUMNS:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return ProgressBar(tqdm)
    return ProgressLines()
