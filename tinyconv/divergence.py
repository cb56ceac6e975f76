"""What a training run reports when its loss stops being a finite number."""

from typing import NamedTuple


class Divergence(NamedTuple):
    """Why and where a training run stopped: ``Solver.diverged`` after a NaN or infinite loss."""

    reason: str
    iteration: int  # 1-based iteration whose loss was not finite
    epoch: int  # 1-based epoch that iteration belongs to


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite (raised with ``raise_on_divergence=True``).

    Raised after the model has been given the best parameters seen so far.

    Attributes
    ----------
    iteration : int
        1-based iteration whose loss was not finite.
    epoch : int
        1-based epoch that iteration belongs to.
    """

    def __init__(self, message, iteration, epoch):
        super().__init__(message)
        self.iteration = iteration
        self.epoch = epoch


def describe_divergence(solver, loss, iteration, num_iterations):
    """The Divergence of ``solver``'s run at update ``iteration`` (1-based) of ``num_iterations``, whose loss
    was ``loss``, once the model has been given the best parameters seen (if an accuracy check ran)."""
    if solver.best_params:
        kept = f"the model now holds the best parameters seen (val acc {solver.best_val_acc:f})"
    else:
        kept = "no accuracy check had run yet, so the model keeps the parameters it had"
    return Divergence(
        f"Training diverged: the loss is {loss} at iteration {iteration} / {num_iterations} "
        f"(epoch {solver.epoch + 1} / {solver.num_epochs}); {kept}. Try a smaller learning rate.",
        iteration,
        solver.epoch + 1,
    )
