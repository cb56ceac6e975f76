"""A sweep's pictures: validation accuracy against each hyperparameter (cs231n's tuning scatter) and the
optimization history."""

import math

from ..viz import new_figure, save_png

_STYLES = {"COMPLETE": dict(marker="o", color="C0", label="complete"),
           "PRUNED": dict(marker="o", facecolors="none", edgecolors="C1", label="pruned (its best before it stopped)")}


def _scored(trials):
    """(trial, val_acc) for the trials that trained, completed or pruned, in trial order."""
    return [(trial, trial.user_attrs["val_acc"]) for trial in trials
            if trial.state.name in _STYLES and "val_acc" in trial.user_attrs]


def save_tuning(trials, space, path, best=None):
    """Write a PNG with one scatter per dimension of ``space``: each trial's validation accuracy against its
    value, on a log axis where the dimension is log-uniform; choices are spread over their labels. The
    ``best`` trial is ringed."""
    scored = _scored(trials)
    columns = len(space) if len(space) <= 3 else math.ceil(math.sqrt(len(space)))
    rows = math.ceil(len(space) / columns)
    figure = new_figure(4.2 * columns, 3.4 * rows)
    axes_grid = figure.subplots(rows, columns, squeeze=False)
    for axes, dim in zip(axes_grid.flat, space.values()):
        position = ((lambda value: dim.values.index(value)) if dim.kind == "choice" else (lambda value: value))
        for state, style in _STYLES.items():
            points = [(position(trial.params[dim.name]), score) for trial, score in scored
                      if trial.state.name == state and dim.name in trial.params]
            if points:
                axes.scatter(*zip(*points), s=28, **style)
        if best is not None and dim.name in best.params:
            axes.scatter([position(best.params[dim.name])], [best.value], s=160, facecolors="none",
                         edgecolors="C3", linewidths=1.5, label=f"best (trial {best.number})")
        if dim.log:
            axes.set_xscale("log")
        if dim.kind == "choice":
            axes.set_xticks(range(len(dim.values)), [str(value) for value in dim.values])
            axes.set_xlim(-0.5, len(dim.values) - 0.5)
        axes.set(xlabel=dim.name, ylabel="validation accuracy")
        axes.grid(alpha=0.3)
    for axes in list(axes_grid.flat)[len(space):]:
        axes.set_visible(False)
    handles, labels = axes_grid.flat[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncol=len(handles), frameon=False)
    figure.suptitle(f"Validation accuracy of {len(scored)} trials against each hyperparameter")
    save_png(figure, path)


def save_history(trials, path):
    """Write a PNG of each trial's validation accuracy by trial number, with the best so far as a line."""
    scored = _scored(trials)
    figure = new_figure(7, 4)
    axes = figure.subplots()
    for state, style in _STYLES.items():
        points = [(trial.number, score) for trial, score in scored if trial.state.name == state]
        if points:
            axes.scatter(*zip(*points), s=28, **style)
    completed = [(trial.number, score) for trial, score in scored if trial.state.name == "COMPLETE"]
    if completed:
        numbers, scores = zip(*completed)
        running = [max(scores[:index + 1]) for index in range(len(scores))]
        axes.step(numbers, running, where="post", color="C3", label="best so far")
    axes.set(title="Optimization history", xlabel="trial", ylabel="validation accuracy")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    if scored:
        axes.legend(loc="lower right")
    save_png(figure, path)
