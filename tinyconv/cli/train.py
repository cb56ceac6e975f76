"""``tinyconv train``: a dataset's recipe (or the options given) through the Solver into a run folder."""

import json
import shlex
from datetime import datetime
from pathlib import Path

import click
import numpy as np

from ..recipes import DATASETS
from ..run.datasets import FOLDER, dataset_info, is_folder
from ..run.models import model_name, new_model
from ..run.settings import (
    BEFORE_THEY_EXISTED,
    RESUMABLE,
    SETTINGS,
    SettingError,
    check_resume_epochs,
    from_record,
    resolve,
    spell_settings,
)
from ..run.folder import RUNNING_FILE, holding
from ..run.training import RunInterrupted, check_fits_data, checkpoints, make_folder, run_files, run_training
from ._app import EXIT_STATUS_HELP, SEED, dataset_options, library_errors, load_dataset, main, option_name
from ._device import array_module_for, device_option


def _recipe_help(field):
    values = {name: "off" if (value := getattr(info.recipe, field)) is None else value
              for name, info in DATASETS.items()}
    if len(set(values.values())) == 1:
        return str(next(iter(values.values())))
    return ", ".join(f"{name}: {value}" for name, value in values.items())


# Options that choose the data; a resumed run must see the data its checkpoint was trained on.
_DATA_OPTIONS = ("dataset", "num_train", "num_val", "num_test", "image_size", "channels")


def _given(context, name):
    return context.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)


def _option(context, name):
    return next(param.opts[0] for param in context.command.params if param.name == name)


def _recorded(run, name):
    """The data option ``name`` as a run recorded it (a size as a tuple, as the option gives it)."""
    value = run["data"].get(name)
    return tuple(value) if isinstance(value, list) else value


def _resume(context, checkpoint, epochs):
    """The model, the recorded run and the settings of the checkpoint a run continues, after checking that
    the command line asks for nothing that run did not do."""
    from ..serialization import load_checkpoint

    if context.get_parameter_source("config") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--config gives a new run its options, --resume continues a run with its own; "
                               "drop one of them.")
    given = [_option(context, name) for name in (*SETTINGS, "dtype", "seed")
             if name not in RESUMABLE and _given(context, name)]
    if given:
        raise click.UsageError(f"--resume continues the checkpoint's run with its own settings; "
                               f"drop {', '.join(given)}.")
    try:
        model, state = load_checkpoint(checkpoint)
        run = state["metadata"]["run"]
        epoch = int(state["epoch"])
        settings = from_record(run["settings"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise click.BadParameter(f"{checkpoint}: {error} (a checkpoint that tinyconv train wrote is needed)",
                                 param_hint="--resume") from error
    if epochs is not None:
        with library_errors():
            check_resume_epochs(settings, epochs, epoch, checkpoint)
    differing = [f"{_option(context, name)} {context.params[name]} (the run used {_recorded(run, name)})"
                 for name in _DATA_OPTIONS if _given(context, name) and context.params[name] != _recorded(run, name)]
    if differing:
        raise click.UsageError("--resume must train on the data of the run it continues; drop or correct "
                               + ", ".join(differing) + ".")
    return model, run, settings


def _replaced_run(out, overwrite, resume):
    """The files of an earlier run in ``out`` that this one replaces, after making sure that it may.

    A folder that already holds a run's files is refused unless ``overwrite`` is given or the run resumes
    from a checkpoint in that same folder.
    """
    existing = run_files(out)
    continuing = resume is not None and resume.resolve().parent == out.resolve()
    if not existing or continuing:
        return []
    if not overwrite:
        names = ", ".join(path.name for path in existing[:4]) + (", ..." if len(existing) > 4 else "")
        last = list(checkpoints(out).values())[-1:]
        resume_hint = f", continue that run with --resume {shlex.quote(str(last[0]))}" if last else ""
        raise click.BadParameter(f"{out} already holds a run ({names}). Choose a new folder{resume_hint}, or pass "
                                 "--overwrite to replace it.", param_hint="--out")
    return existing


def _remove_if_unused(out):
    """Remove the folder ``out`` if nothing but a run's record is in it (a run refused before it wrote)."""
    if out.is_dir() and {path.name for path in out.iterdir()} <= {RUNNING_FILE}:
        (out / RUNNING_FILE).unlink(missing_ok=True)
        out.rmdir()


class SettingType(click.ParamType):
    """A click type that checks a value as the run setting it sets does, so that the command line refuses
    exactly what the library would, as a usage error."""

    def __init__(self, setting):
        self.setting = setting
        self.name = setting.kind

    def convert(self, value, param, ctx):
        try:
            return self.setting.validate(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


# What the help says of a setting's recipe value where it is not simply the recipe's.
_RECIPE_HELP = {"normalization": "the recipe's with the recipe's model, else none"}
_METAVARS = {"early_stopping": "PATIENCE"}


def recipe_options(command):
    """The options that replace a dataset recipe's values, one per run setting, shared by train and sweep."""
    for setting in reversed(SETTINGS.values()):
        recipe = _RECIPE_HELP.get(setting.name, f"recipe: {_recipe_help(setting.name)}")
        kind = click.Choice(setting.choices) if setting.choices else SettingType(setting)
        command = click.option(option_name(setting.name), setting.name, type=kind, metavar=_METAVARS.get(setting.name),
                               help=spell_settings(f"{setting.help} [{recipe}]".lstrip(), option_name))(command)
    return command


# Options that a --config file cannot set: they say what to do with the files, not how to train.
_NOT_IN_CONFIG = ("config", "resume", "overwrite")


def _read_config(context, param, path):
    """The eager ``--config`` callback: the option values in the JSON file ``path`` become the command's defaults,
    which options given on the command line override. Each value is checked as the option checks its own."""
    if path is None:
        return None
    try:
        loaded = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}", param_hint="--config") from None
    values = loaded.get("options") if isinstance(loaded, dict) and isinstance(loaded.get("options"), dict) else loaded
    if not isinstance(values, dict):
        raise click.BadParameter(f"{path} must hold a JSON object of option values, such as {{\"lr\": 0.001}}, or "
                                 "one under \"options\" (a sweep's best.json, a run's metrics.json)",
                                 param_hint="--config")
    if values is not loaded and set(SETTINGS) - set(BEFORE_THEY_EXISTED) <= set(values):
        # A whole run's record from a tinyconv before some settings existed: repeat what that run did.
        values = {**BEFORE_THEY_EXISTED, **values}
    params = {option.name: option for option in context.command.params if option.name not in _NOT_IN_CONFIG}
    defaults = {}
    for key, value in values.items():
        option = params.get(str(key).replace("-", "_"))
        if option is None:
            raise click.BadParameter(f"{path}: {key!r} is not an option that a config gives; the options are "
                                     f"{', '.join(sorted(params))}", param_hint="--config")
        if value is None:  # an option that was not given
            continue
        if isinstance(value, (bool, list, dict)):
            raise click.BadParameter(f"{path}: {key} must be a number or a string, got {json.dumps(value)}",
                                     param_hint="--config")
        try:
            option.type.convert(str(value), option, context)
        except click.BadParameter as error:
            raise click.BadParameter(f"{path}: {key}: {error.message}", param_hint="--config") from None
        defaults[option.name] = str(value)
    context.default_map = {**(context.default_map or {}), **defaults}
    return path


dtype_option = click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True)


@main.command(epilog=EXIT_STATUS_HELP)
@recipe_options
@dataset_options
@dtype_option
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seeds the initial weights, the minibatches and the augmentation (not the data split); "
                   "0 to 2**32 - 1.")
@device_option
@click.option("--resume", type=click.Path(dir_okay=False, exists=True, readable=True, path_type=Path),
              help="Continue from a checkpoint (OUT/checkpoint_epoch_K.npz) to --epochs in all; the run goes on "
                   "in the checkpoint's folder unless --out says otherwise.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the results [default: runs/DATASET-MODEL-TIME]. A folder that holds another "
                   "run is refused unless --overwrite is given.")
@click.option("--overwrite", is_flag=True, help="Replace the run that --out already holds.")
@click.option("--tensorboard", is_flag=True,
              help="Also write TensorBoard event files into OUT/tensorboard as the run goes (loss, accuracy, learning "
                   "rate, first-layer filters): tensorboard --logdir runs. A resume goes on writing the logs its "
                   "folder holds. Needs the tensorboard extra.")
@click.option("--config", type=click.Path(dir_okay=False, exists=True, readable=True, path_type=Path), is_eager=True,
              expose_value=False, callback=_read_config,
              help="Option values from a JSON file: an object such as {\"lr\": 0.001, \"batch_size\": 64}, or one "
                   "under \"options\" (a sweep's best.json retrains its best trial; a run's metrics.json repeats the "
                   "run). Options on the command line override the file.")
@click.pass_context
def train(context, dataset, data_dir, num_train, num_val, num_test, image_size, channels, dtype, seed, device, resume,
          out, overwrite, tensorboard, **options):
    """Train a model; write its file, metrics.json, metrics.csv and pictures to --out.

    Each dataset has a recipe (model, optimizer, schedule, augmentation, epochs) that every option given
    replaces. With no options: ThreeLayerConvNet on the bundled 8x8 digits, in seconds.
    """
    if resume is not None:
        model, run, settings = _resume(context, resume, options["epochs"])
        # --epochs, --early-stopping and --keep may change on a resume; the rest is the run's.
        with library_errors():
            settings = settings.replace(**{name: options[name] for name in RESUMABLE if options[name] is not None})
        # Runs of tinyconv before folder datasets record no image_size or channels.
        dataset, num_train, num_val, num_test, image_size, channels = (run["data"].get(name) for name in _DATA_OPTIONS)
        dtype, seed = np.dtype(model.dtype).name, run["seed"]
        out = out or resume.parent
    else:
        dataset = dataset or "digits"
        with library_errors():
            info = dataset_info(dataset, image_size, channels)
            settings = resolve(info.recipe, options)
            try:
                model = new_model(dataset, settings, dtype, seed, info)
            except SettingError as error:
                if error.setting != "model" or not is_folder(dataset):
                    raise
                raise SettingError("model", f"{error.reason}; or bring the folder's images to a size that fits with "
                                   "`image_size`") from None
    name = Path(dataset[len(FOLDER):]).name if is_folder(dataset) else dataset
    out = out or Path("runs") / f"{name}-{model_name(model)}-{datetime.now():%Y%m%d-%H%M%S}"
    array_module_for(device)  # before any work: a missing GPU is a usage error
    # A resumed run goes on writing the TensorBoard logs its folder holds.
    tensorboard = tensorboard or (resume is not None and any((out / "tensorboard").glob("events.out.tfevents.*")))
    if tensorboard:
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            raise click.UsageError("--tensorboard needs tensorboardX: pip install 'tinyconv[tensorboard]'") from None
    created = not out.exists()
    with library_errors():
        make_folder(out)
    try:
        with library_errors(), holding(out):
            replaced = _replaced_run(out, overwrite, resume)
            data = load_dataset(dataset, data_dir, dtype, num_train, num_val, num_test, image_size=image_size,
                                channels=channels)
            _check_fits(model, data, dataset, resume)
            check_fits_data(settings, data)  # before an earlier run's files are replaced
            for path in replaced:
                path.unlink()
            data_options = dict(zip(_DATA_OPTIONS, (dataset, num_train, num_val, num_test, image_size, channels)))
            try:
                run_training(model, data, settings, data_options, seed, out, resume=resume, device=device,
                             tensorboard=tensorboard)
            except RunInterrupted as interrupted:
                _report_interrupt(context, interrupted)
    except (click.ClickException, KeyboardInterrupt) as error:
        if created:
            _remove_if_unused(out)
        if isinstance(error, KeyboardInterrupt):
            click.echo("Interrupted before training began; nothing was written.", err=True)
            context.exit(130)
        raise


def _check_fits(model, data, dataset, resume):
    """A usage error if the images of ``data`` are not what ``model`` takes."""
    try:
        model.loss(data["X_val"][:1])
    except ValueError as error:
        if resume is not None:
            raise click.BadParameter(f"the checkpoint's model does not fit {dataset}: {error}",
                                     param_hint="--resume") from error
        raise click.UsageError(f"the {dataset} images found have shape {tuple(data['X_val'].shape[1:])}, which "
                               f"the model does not take: {error}") from error


def _report_interrupt(context, interrupted):
    """Say where an interrupted run stopped and how to continue it; exit with 130, as after SIGINT."""
    click.echo(str(interrupted), err=True)
    if interrupted.last_checkpoint is not None:
        click.echo(f"Continue it with: tinyconv train --resume {shlex.quote(str(interrupted.last_checkpoint))}",
                   err=True)
    context.exit(130)
