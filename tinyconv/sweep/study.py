"""The Optuna side of a sweep: the study in ``OUT/study.db``, the trials' results, and what the sweep writes
from them (trials.csv, best.json).

Only the process that drives the sweep opens the study; the trials report to it.
"""

import csv
import io
import json

from .._files import write_bytes
from .space import describe, space_json

STUDY_NAME = "tinyconv"
# A trial that the sweep cut short (Ctrl-C, or a driver that was killed) carries this user attribute: it
# failed, but does not count towards --trials, so that a resumed sweep runs another in its place.
INTERRUPTED = "interrupted"


class StudyMismatch(ValueError):
    """The study in the folder was made for another search space or other fixed options."""


def open_study(out, space, fixed, sampler, pruner, seed, prune_after):
    """The study in ``out/study.db``: a new one, or the one there when it has the same space and fixed options.

    ``space`` maps names to Dimensions; ``fixed`` holds the train options that every trial shares (seed
    included). ``sampler`` is 'tpe' or 'random', seeded with ``seed`` plus the trials the study already has
    (a resumed sweep draws new points rather than those of its first part). ``pruner`` 'median' prunes a
    trial whose best validation accuracy so far is below the median of the completed trials at that epoch,
    once ``prune_after`` trials have completed; 'none' never prunes. Trials that a killed sweep left running
    are marked failed and interrupted. Raises StudyMismatch when the stored space or fixed options differ.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{out / 'study.db'}", study_name=STUDY_NAME,
                                direction="maximize", load_if_exists=True)
    stored = study.user_attrs
    if not stored:
        study.set_user_attr("space", json.loads(space_json(space)))
        study.set_user_attr("fixed", fixed)
    else:
        _check_same(out, stored, space, fixed)
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,
                                                          optuna.trial.TrialState.WAITING)):
        # A killed sweep leaves its trials running for ever; its files never came back. Trial(study, id) gives
        # the handle that sets user attributes, which Optuna's public API hands out for new trials only (hence
        # the pinned range of the sweep extra).
        mark_interrupted(study, optuna.trial.Trial(study, trial._trial_id), "the sweep stopped before it finished")
    draws = (seed + len(study.trials)) % 2**32  # NumPy's generators take seeds below 2**32
    study.sampler = (optuna.samplers.RandomSampler(seed=draws) if sampler == "random"
                     else optuna.samplers.TPESampler(seed=draws))
    study.pruner = (optuna.pruners.MedianPruner(n_startup_trials=prune_after) if pruner == "median"
                    else optuna.pruners.NopPruner())
    return study


def _check_same(out, stored, space, fixed):
    """Raise StudyMismatch, saying what differs, unless the study's ``stored`` attributes hold this space and these
    fixed options."""
    differences = []
    if stored.get("space") != json.loads(space_json(space)):
        stored_lines = "\n".join(f"  {name}: {kind} {values}" for name, entry in stored.get("space", {}).items()
                                 for kind, values in entry.items())
        differences.append(f"its search space was\n{stored_lines}\nand this command's is\n{describe(space)}")
    if stored.get("fixed") != fixed:
        before, now = stored.get("fixed", {}), fixed
        changed = sorted(key for key in set(before) | set(now) if before.get(key) != now.get(key))
        differences.append("its fixed options differ: " + ", ".join(
            f"--{key.replace('_', '-')} {_or_unset(before.get(key))} (now {_or_unset(now.get(key))})" for key in changed))
    if differences:
        raise StudyMismatch(f"{out / 'study.db'} holds a sweep that this command would not continue: "
                            + "; ".join(differences) + "\nRun the sweep as it was to resume it, or give a new --out "
                            "for the new one.")


def _or_unset(value):
    return "unset" if value is None else value


def finished_trials(study):
    """The trials that count towards --trials: complete, pruned or failed on their own (not cut short)."""
    return [trial for trial in study.get_trials(deepcopy=False)
            if trial.state.is_finished() and not trial.user_attrs.get(INTERRUPTED)]


def mark_interrupted(study, trial, reason):
    """Record a trial that the sweep cut short as failed, with its reason; it does not count towards --trials."""
    import optuna

    trial.set_user_attr(INTERRUPTED, True)
    trial.set_user_attr("fail_reason", reason)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)


def record(study, trial, result, folder):
    """Tell the study how ``trial`` ended (a result of :func:`tinyconv.sweep.trial.run_trial`); its files are in
    ``folder`` (a path relative to the sweep's folder) when it trained to the end or was pruned."""
    import optuna

    metrics = result["metrics"]
    trial.set_user_attr("seconds", round(result["seconds"], 3))
    if metrics is not None:
        trial.set_user_attr("val_acc", metrics["val_acc"])
        trial.set_user_attr("epochs", metrics["epochs"])
        trial.set_user_attr("folder", folder)
    if result["state"] == "complete":
        return study.tell(trial, metrics["val_acc"])
    if result["state"] == "pruned":
        return study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    trial.set_user_attr("fail_reason", result["reason"])
    return study.tell(trial, state=optuna.trial.TrialState.FAIL)


def trials_table(study, space):
    """trials.csv: one row per trial: number, state, every hyperparameter, val_acc, epochs, seconds and why it
    failed."""
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["number", "state", *space, "val_acc", "epochs", "seconds", "fail_reason"])
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        writer.writerow([trial.number, trial.state.name, *(trial.params.get(name, "") for name in space),
                         *(attrs.get(key, "") for key in ("val_acc", "epochs", "seconds", "fail_reason"))])
    return table.getvalue()


def best_trial(study):
    """The completed trial with the highest validation accuracy, or None while no trial has completed."""
    import optuna

    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return max(completed, key=lambda trial: trial.value) if completed else None


def best_record(out, trial, fixed):
    """best.json: the best trial's number, val_acc, hyperparameters and model file, and under ``options`` the
    train options that repeat it (``tinyconv train --config OUT/best.json``)."""
    return {"trial": trial.number, "val_acc": trial.value, "hyperparameters": trial.params,
            "model_file": str(out / trial.user_attrs["folder"] / "model.npz"),
            "options": {**fixed, **trial.params}}


def write_results(out, study, space, fixed):
    """Write trials.csv, and best.json once a trial has completed; return the best trial (or None)."""
    write_bytes(out / "trials.csv", trials_table(study, space).encode())
    best = best_trial(study)
    if best is not None:
        write_bytes(out / "best.json", (json.dumps(best_record(out, best, fixed), indent=2) + "\n").encode())
    return best
