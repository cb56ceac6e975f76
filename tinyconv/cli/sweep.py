"""``tinyconv sweep``: an Optuna search over train options whose trials run as Ray tasks, on this machine or on
a cluster."""

import time
from pathlib import Path

import click

from .._files import write_bytes
from ..run.datasets import dataset_info
from ..run.settings import resolve
from ..run.folder import holding
from ..run.training import make_folder
from ._app import SEED, dataset_options, integer, library_errors, load_dataset, main
from .train import dtype_option, recipe_options

SWEEP_EXIT_STATUS_HELP = """Exit status: 0 when the sweep has run its trials (some may have failed: trials.csv says
why); 1 when no trial completed, or a file cannot be written; 2 when the command line is wrong (a bad option,
a bad space file, a study of another space in --out, an unreachable --address); 130 when stopped with Ctrl-C
(the finished trials are kept: run the same command again to go on)."""

_MISSING_EXTRA = "tinyconv sweep needs Ray and Optuna: pip install 'tinyconv[sweep]'"


def _address(context, param, value):
    if value is None:
        return None
    from ..sweep.cluster import parse_address

    try:
        parse_address(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--address") from None
    return value


@main.command(epilog=SWEEP_EXIT_STATUS_HELP)
@click.option("--trials", type=integer(1), required=True,
              help="Trials in all. Run again on the same --out, the sweep goes on until the study has this many.")
@click.option("--parallel", type=integer(1),
              help="Trials at once, at most. [default: the cluster's CPUs / --threads-per-trial]")
@click.option("--address", envvar="RAY_ADDRESS", metavar="HOST:PORT", callback=_address,
              help="Run the trials on the Ray cluster at this address (what `ray start --head` prints; or "
                   "$RAY_ADDRESS). Without it, Ray starts on this machine's cores.")
@click.option("--space", "space_file", type=click.Path(dir_okay=False, exists=True, readable=True, path_type=Path),
              help="TOML file of the options to search, one table each: [lr] log_uniform = [1e-4, 1e-2], "
                   "[reg] uniform = [0, 0.01], [epochs] int = [2, 6], [model] choice = [\"c16p-f64\", \"c32p-f128\"]. "
                   "[default: the learning rate a decade each side of the recipe's, the L2 strength (or the weight "
                   "decay) log-uniform, the batch size halved, kept or doubled]")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seeds the sampler and every trial's training: with --parallel 1 a sweep repeats exactly.")
@click.option("--sampler", type=click.Choice(["tpe", "random"]), default="tpe", show_default=True,
              help="tpe: Optuna's tree-structured Parzen estimator (its first 10 trials are random); random.")
@click.option("--pruner", type=click.Choice(["median", "none"]), default="median", show_default=True,
              help="median: stop a trial whose best validation accuracy after an epoch is below the median of the "
                   "completed trials' at that epoch; none: every trial trains to the end.")
@click.option("--prune-after", type=integer(1), default=4, show_default=True, metavar="TRIALS",
              help="Prune only once this many trials have completed.")
@click.option("--threads-per-trial", type=integer(1), default=1, show_default=True,
              help="CPUs a trial holds and the threads it trains on.")
@recipe_options
@dataset_options
@dtype_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder of the sweep: study.db, trials.csv, best.json, tuning.png, history.png and trials/NNNN/ "
                   "with each trial's model.npz, metrics.json and metrics.csv. A folder that holds a sweep resumes it.")
def sweep(trials, parallel, address, space_file, seed, sampler, pruner, prune_after, threads_per_trial, dataset,
          data_dir, num_train, num_val, num_test, image_size, channels, dtype, out, **options):
    """Search train options with Optuna, each trial a train run as a Ray task; write the best to --out.

    The options that are not searched fix what every trial shares (the dataset, the model, ...); the
    dataset's recipe fills in the rest, as for train. Without --address the trials run on this machine;
    with it, on a Ray cluster, whose nodes need Python and Ray of this machine's versions and NumPy
    (tinyconv travels with the job). The study lives in OUT/study.db: optuna-dashboard sqlite:///OUT/study.db
    shows it. tinyconv train --config OUT/best.json retrains the best trial.
    """
    try:
        import optuna  # noqa: F401  (both are needed before any work)
        import ray  # noqa: F401

        from ..sweep import space as space_module  # noqa: F401  (its TOML reader: tomli before Python 3.11)
    except ImportError as error:
        raise click.UsageError(f"{_MISSING_EXTRA} ({error.name} is missing)") from None
    from ..sweep import study as studies

    dataset = dataset or "digits"
    given = {name: value for name, value in options.items() if value is not None}
    with library_errors():
        settings = resolve(dataset_info(dataset, image_size, channels).recipe, given)
    space = _read_space(space_file, settings, given)
    if address is not None:
        _reachable(address)
    with library_errors():
        make_folder(out)
    with library_errors(), holding(out):  # one sweep at a time writes the study and its trials
        _check_folder(out)
        data_options = {"dataset": dataset, "num_train": num_train, "num_val": num_val, "num_test": num_test,
                        "image_size": image_size and list(image_size), "channels": channels}
        fixed = {**{name: value for name, value in data_options.items() if value is not None},
                 **({"data_dir": str(data_dir)} if data_dir is not None else {}), "dtype": dtype, **given, "seed": seed}
        try:  # before the data: a study of another sweep is refused without loading anything
            study = studies.open_study(out, space, fixed, sampler, pruner, seed, prune_after)
        except studies.StudyMismatch as error:
            raise click.UsageError(str(error)) from None
        data = load_dataset(dataset, data_dir, dtype, num_train, num_val, num_test, image_size=image_size,
                            channels=channels)
        count = trials - len(studies.finished_trials(study))
        started = time.perf_counter()
        if count > 0:
            trial_args = dict(fixed=given, data=data, data_options=data_options, dtype=dtype, seed=seed)
            _run(study, space, count, parallel, address, threads_per_trial, out, fixed, trial_args)
        else:
            click.echo(f"{out / 'study.db'} already holds {trials - count} trials; give a larger --trials to run more.")
        best = _write_all(out, study, space, fixed)
        if best is None:
            raise click.ClickException(f"no trial completed; {out / 'trials.csv'} says why each failed.")
        _summary(study, best, out, time.perf_counter() - started)


def _read_space(space_file, settings, given):
    """The space of ``space_file``, or the default around ``settings``; a usage error if it searches a given option."""
    from ..sweep.space import SpaceError, default_space, read_space

    if space_file is None:
        space = default_space(settings, given)
        if not space:
            raise click.UsageError("every option of the default search space is given on the command line; leave "
                                   "one out or give --space.")
        return space
    try:
        space = read_space(space_file)
    except SpaceError as error:
        raise click.BadParameter(str(error), param_hint="--space") from None
    both = [name for name in space if name in given]
    if both:
        raise click.UsageError(f"{', '.join('--' + name.replace('_', '-') for name in both)} "
                               f"{'is' if len(both) == 1 else 'are'} given and searched in {space_file}; drop one.")
    return space


def _reachable(address):
    """A usage error within seconds when nothing answers at ``address``, before the study is touched."""
    from ..sweep.cluster import ClusterError, check_reachable

    try:
        check_reachable(address)
    except ClusterError as error:
        raise click.BadParameter(str(error), param_hint="--address") from None


def _check_folder(out):
    """Refuse trial folders without the study that owns them (new trials would overwrite them)."""
    trials = out / "trials"
    if not (out / "study.db").exists() and trials.is_dir() and any(trials.iterdir()):
        raise click.BadParameter(f"{trials} holds trials but {out / 'study.db'}, their study, is missing; choose a "
                                 "new folder.", param_hint="--out")


def _run(study, space, count, parallel, address, threads, out, fixed, trial_args):
    """Run ``count`` trials on Ray (``trial_args`` as cluster.drive takes them, but the data still in memory and
    the CPUs of a trial); on Ctrl-C write what finished and exit with status 130."""
    import ray

    from ..sweep import cluster, study as studies
    from ..sweep.space import describe

    data = trial_args["data"]
    try:
        cpus = cluster.connect(address, threads, sum(getattr(value, "nbytes", 0) for value in data.values()))
    except cluster.ClusterError as error:
        if address is None:
            raise click.ClickException(str(error)) from None
        raise click.BadParameter(str(error), param_hint="--address") from None
    try:
        if cpus < threads:
            raise click.BadParameter(f"the cluster has {cpus} CPUs, fewer than one trial holds",
                                     param_hint="--threads-per-trial")
        parallel = min(parallel or max(cpus // threads, 1), count)
        where = f"the Ray cluster at {address}" if address else "Ray on this machine"
        click.echo(f"Sweep: {count} trials, {parallel} at once on {where} ({cpus} CPUs), searching\n"
                   f"{describe(space)}\nThe study is in {out / 'study.db'}.")
        cluster.drive(study, space, count, parallel, {**trial_args, "data": ray.put(data), "threads": threads},
                      lambda trial, result: _finish(out, study, space, fixed, trial, result))
    except KeyboardInterrupt:
        _write_all(out, study, space, fixed)
        finished = len(studies.finished_trials(study))
        click.echo(f"\nInterrupted; {finished} finished trial{'' if finished == 1 else 's'} kept in {out}. Run the "
                   "same command again to go on.", err=True)
        raise SystemExit(130) from None
    finally:
        ray.shutdown()


def _finish(out, study, space, fixed, trial, result):
    """Keep a trial's files in OUT/trials/NNNN, record it in the study, rewrite trials.csv and best.json, and say
    how it went."""
    from ..sweep import study as studies

    folder = Path("trials") / f"{trial.number:04d}"
    if result["files"]:
        try:
            (out / folder).mkdir(parents=True, exist_ok=True)
            for name, content in result["files"].items():
                write_bytes(out / folder / name, content)
        except OSError as error:
            raise click.ClickException(f"cannot write trial {trial.number} into {out / folder}: {error}") from error
    studies.record(study, trial, result, str(folder))
    studies.write_results(out, study, space, fixed)
    params = ", ".join(f"{name}={_formatted(value)}" for name, value in trial.params.items())
    metrics = result["metrics"]
    if result["state"] == "fail":
        outcome = f"failed: {result['reason']}"
    elif result["state"] == "pruned":
        outcome = f"pruned after epoch {metrics['epochs']} (val_acc {metrics['val_acc']:.4f})"
    else:
        outcome = f"val_acc {metrics['val_acc']:.4f} after {metrics['epochs']} epochs"
    click.echo(f"trial {trial.number:>3} ({result['seconds']:5.1f} s) {params}: {outcome}")


def _formatted(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _write_all(out, study, space, fixed):
    """trials.csv, best.json and the pictures from the study as it is; returns the best trial or None."""
    from ..sweep import study as studies
    from ..sweep.pictures import save_history, save_tuning

    try:
        best = studies.write_results(out, study, space, fixed)
        trials = study.get_trials(deepcopy=False)
        save_tuning(trials, space, out / "tuning.png", best)
        save_history(trials, out / "history.png")
    except OSError as error:
        raise click.ClickException(f"cannot write the sweep's results into {out}: {error}") from error
    return best


def _summary(study, best, out, seconds):
    states = [trial.state.name for trial in study.get_trials(deepcopy=False)]
    counts = ", ".join(f"{states.count(state)} {state.lower()}" for state in ("COMPLETE", "PRUNED", "FAIL")
                       if states.count(state))
    params = ", ".join(f"{name}={_formatted(value)}" for name, value in best.params.items())
    click.echo(f"The study holds {len(states)} trials ({counts}); this run took {seconds:.0f} s.\n"
               f"Best: trial {best.number}, val_acc {best.value:.4f} with {params}; its model is "
               f"{out / best.user_attrs['folder'] / 'model.npz'}.\n"
               f"Wrote {out}/trials.csv, best.json, tuning.png, history.png. Retrain the best with: tinyconv train "
               f"--config {out / 'best.json'}; browse the study with: optuna-dashboard sqlite:///{out / 'study.db'}")
