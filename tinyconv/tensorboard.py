"""Live logs that TensorBoard reads: a callback that writes a run's scalars and first-layer filters as event
files, through tensorboardX (the ``tensorboard`` extra), so that ``tensorboard --logdir runs`` follows every
run while it trains."""

import numpy as np

from tinyconv.callbacks import Callback


class TensorBoardLogger(Callback):
    """Event files in ``folder``: ``loss/train`` (each update's minibatch loss), ``loss/val``,
    ``accuracy/train``, ``accuracy/val`` and ``learning_rate`` at each accuracy check, all by update number,
    and at each epoch's end the image ``filters/first_layer`` of ``first_layer(model)`` (weights ``(F, C, H,
    W)``; None: no image). A resumed run drops the events its first run wrote after the checkpoint."""

    def __init__(self, folder, first_layer=None):
        self.folder, self.first_layer = str(folder), first_layer
        self._writer = None

    def on_train_begin(self, solver):
        try:
            from tensorboardX import SummaryWriter
        except ImportError as error:
            raise ImportError("TensorBoard logs need tensorboardX: pip install 'tinyconv[tensorboard]'") from error
        # Steps up to the checkpoint are the first run's own; a resume rewrites only those after it.
        self._writer = SummaryWriter(self.folder, purge_step=solver.iteration + 1 if solver.iteration else None)

    def on_iteration_end(self, solver, iteration, loss):
        self._writer.add_scalar("loss/train", loss, iteration + 1)

    def on_accuracies(self, solver, train_acc, val_acc):
        step = solver.iteration
        self._writer.add_scalar("accuracy/train", train_acc, step)
        self._writer.add_scalar("accuracy/val", val_acc, step)
        if not np.isnan(solver.val_loss_history[-1]):
            self._writer.add_scalar("loss/val", solver.val_loss_history[-1], step)
        rate = solver.learning_rate(max(step - 1, 0))
        if rate is not None:
            self._writer.add_scalar("learning_rate", rate, step)

    def on_epoch_end(self, solver):
        weights = None if self.first_layer is None else self.first_layer(solver.model)
        if weights is not None:
            from tinyconv._backend import to_numpy
            from tinyconv.viz import filters_to_tiles, visualize_grid

            grid = visualize_grid(filters_to_tiles(to_numpy(weights)[:64]), ubound=1.0)
            self._writer.add_image("filters/first_layer", grid, solver.iteration, dataformats="HWC")
        self._writer.flush()
        return False

    def on_train_end(self, solver):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
