"""``tinyconv train``: a dataset's recipe (or the options given) through the Solver into a run folder."""

import csv
import dataclasses
import io
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

import click
import numpy as np

from .. import __version__, _checks
from .._files import remove_stale_temporaries, write_bytes
from ..models.convnet import INITS
from ..recipes import DATASETS, Recipe
from ._app import (
    EXIT_STATUS_HELP,
    NORMALIZATIONS,
    SEED,
    accuracy,
    build_model,
    dataset_options,
    integer,
    load_dataset,
    main,
    model_name,
    number,
)
from ._device import array_module_for, device_option, move_run

UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam", "adamw")


def augmentation(text):
    """The RandomCropFlip an ``--augment`` value names ('none', 'crop2', 'flip', 'crop4-flip'), or None."""
    from ..data.augment import RandomCropFlip

    try:
        return RandomCropFlip.from_text(text)
    except ValueError as error:
        raise click.BadParameter(_checks.reason(error), param_hint="--augment") from None


def _recipe_help(field):
    values = {name: "off" if (value := getattr(info.recipe, field)) is None else value
              for name, info in DATASETS.items()}
    if len(set(values.values())) == 1:
        return str(next(iter(values.values())))
    return ", ".join(f"{name}: {value}" for name, value in values.items())


# Options that a recipe fills in when they are not given; a resumed run takes them from its checkpoint.
_RECIPE_OPTIONS = tuple(field.name for field in dataclasses.fields(Recipe))
# Recipe options that a resumed run may change: they do not change the course of training.
_RESUMABLE = ("epochs", "early_stopping", "keep")
# Settings added to the recipe after runs were first recorded, with what those runs did.
_SETTINGS_BEFORE_THEY_EXISTED = {"label_smoothing": 0.0, "keep": "best"}
# Options that choose the data; a resumed run must see the data its checkpoint was trained on.
_DATA_OPTIONS = ("dataset", "num_train", "num_val", "num_test")


def resolve_settings(dataset, given):
    """The settings of a run: each option ``given`` (not None) replaces the value of ``dataset``'s recipe.

    The recipe is a whole: with another ``--model`` its normalization is not kept (the model may not take
    it), with an update rule other than Adam its weight decay is dropped, and with a cosine schedule its
    per-epoch decay is 1. What the options ask for explicitly is never dropped: a conflict is an error.
    """
    recipe = dataclasses.asdict(DATASETS[dataset].recipe)
    settings = {name: given[name] if given.get(name) is not None else recipe[name] for name in recipe}
    if given.get("model") is not None and given.get("normalization") is None:
        settings["normalization"] = "none"
    if settings["update_rule"] not in ("adam", "adamw") and given.get("weight_decay") is None:
        settings["weight_decay"] = 0.0
    if settings["lr_schedule"] == "cosine" and given.get("lr_decay") is None:
        settings["lr_decay"] = 1.0
    if settings["weight_decay"] and settings["update_rule"] not in ("adam", "adamw"):
        raise click.BadParameter(f"decoupled weight decay goes with Adam (adamw); --update-rule "
                                 f"{settings['update_rule']} takes --reg for an L2 penalty instead",
                                 param_hint="--weight-decay")
    if settings["lr_schedule"] == "cosine" and settings["lr_decay"] != 1:
        raise click.BadParameter("the cosine schedule lowers the learning rate itself; drop --lr-decay or give 1",
                                 param_hint="--lr-decay")
    if settings["model"] in ("three-layer", "fc"):
        if given.get("init") is not None:
            raise click.BadParameter(f"--model {settings['model']} draws its weights as cs231n does; --init is for "
                                     "ConvNet specs", param_hint="--init")
        settings["init"] = None  # so that the run's options, given again with --config, are accepted
        if given.get("label_smoothing"):
            raise click.BadParameter(f"--model {settings['model']} computes cs231n's softmax loss; --label-smoothing "
                                     "is for ConvNet specs", param_hint="--label-smoothing")
        settings["label_smoothing"] = 0.0
    augmentation(settings["augment"])  # refuse a bad value before any work
    return settings


def solver_settings(settings, seed):
    """The Solver keywords of run settings (as :func:`resolve_settings` returns them)."""
    rule, config = settings["update_rule"], {"learning_rate": settings["lr"]}
    # Adam with a weight decay is AdamW; AdamW always gets the run's decay, 0 included (its own default is 1e-2).
    if settings["weight_decay"] or rule == "adamw":
        rule, config["weight_decay"] = "adamw", settings["weight_decay"]
    return dict(update_rule=rule, optim_config=config, lr_decay=settings["lr_decay"], batch_size=settings["batch_size"],
                seed=seed, lr_schedule=None if settings["lr_schedule"] == "step" else settings["lr_schedule"],
                warmup_epochs=settings["warmup_epochs"], early_stopping=settings["early_stopping"],
                augment=augmentation(settings["augment"]), keep=settings["keep"])


def _given(context, name):
    return context.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)


def _option(context, name):
    return next(param.opts[0] for param in context.command.params if param.name == name)


def _resume(context, checkpoint, epochs):
    """The model and the recorded run of the checkpoint a run continues, after checking that the command line
    asks for nothing that run did not do."""
    from ..serialization import load_checkpoint

    if context.get_parameter_source("config") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--config gives a new run its options, --resume continues a run with its own; "
                               "drop one of them.")
    given = [_option(context, name) for name in _RECIPE_OPTIONS + ("dtype", "seed")
             if name not in _RESUMABLE and _given(context, name)]
    if given:
        raise click.UsageError(f"--resume continues the checkpoint's run with its own settings; "
                               f"drop {', '.join(given)}.")
    try:
        model, state = load_checkpoint(checkpoint)
        run = state["metadata"]["run"]
        epoch = int(state["epoch"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise click.BadParameter(f"{checkpoint}: {error} (a checkpoint that tinyconv train wrote is needed)",
                                 param_hint="--resume") from error
    if epochs is not None and epochs < epoch:
        raise click.BadParameter(f"the checkpoint has already trained {epoch} epochs; --epochs counts all of "
                                 f"them, so give at least {epoch}.", param_hint="--epochs")
    planned = run["settings"]["epochs"]
    if epochs is not None and run["settings"]["lr_schedule"] == "cosine" and epochs != planned:
        raise click.BadParameter(f"{checkpoint} follows a cosine schedule over {planned} epochs, which a resume "
                                 f"cannot change; give --epochs {planned} or leave it out.", param_hint="--epochs")
    differing = [f"{_option(context, name)} {context.params[name]} (the run used {run['data'][name]})"
                 for name in _DATA_OPTIONS if _given(context, name) and context.params[name] != run["data"][name]]
    if differing:
        raise click.UsageError("--resume must train on the data of the run it continues; drop or correct "
                               + ", ".join(differing) + ".")
    return model, run


# The files of a finished or interrupted run, which a new run in the same folder would replace.
_RUN_FILES = ("model.npz", "metrics.json", "metrics.csv", "checkpoint_epoch_*.npz")


def make_folder(out):
    """Create the folder ``out`` and check that files can be written there (a usage error naming --out if not);
    remove the temporary files that interrupted writes left there."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise click.BadParameter(f"cannot write into {out}: {error.strerror or error}", param_hint="--out") from None
    remove_stale_temporaries(out)


def _check_out(out, overwrite, resume):
    """Create ``out`` and make sure a run can be written there, before any work starts; return the files of
    an earlier run there that this one replaces.

    A folder that already holds a run's files is refused unless ``overwrite`` is given or the run resumes
    from a checkpoint in that same folder.
    """
    make_folder(out)
    existing = sorted(path for pattern in _RUN_FILES for path in out.glob(pattern))
    continuing = resume is not None and resume.resolve().parent == out.resolve()
    if existing and not continuing:
        if not overwrite:
            names = ", ".join(path.name for path in existing[:4]) + (", ..." if len(existing) > 4 else "")
            raise click.BadParameter(
                f"{out} already holds a run ({names}). Choose a new folder, continue that run with --resume "
                f"{out}/checkpoint_epoch_K.npz, or pass --overwrite to replace it.", param_hint="--out")
        return existing
    return []


def _keep_last_checkpoint(out, epoch):
    """Delete the checkpoints of earlier epochs; the last one can resume or extend the run."""
    for path in out.glob("checkpoint_epoch_*.npz"):
        if path.name != f"checkpoint_epoch_{epoch}.npz":
            path.unlink()


def model_metadata(data_options, mean_image):
    """What a model file records beside the parameters: the dataset and its split (for ``tinyconv evaluate``),
    its class names, how its images look (for ``tinyconv predict``) and the mean image subtracted in
    training."""
    info = DATASETS[data_options["dataset"]]
    return {"dataset": data_options["dataset"], "data": data_options, "class_names": list(info.class_names),
            "input": {**dataclasses.asdict(info.image), "value_range": list(info.image.value_range)},
            "mean_image": mean_image, "tinyconv_version": __version__}


def _metrics_csv(solver):
    """One row per accuracy check: after the first update (epoch 0), then after every epoch."""
    per_epoch = solver.iterations_per_epoch
    losses = solver.loss_history
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["epoch", "train_acc", "val_acc", "mean_loss", "learning_rate", "seconds"])
    rows = zip(solver.train_acc_history, solver.val_acc_history, solver.seconds_history)
    for epoch, (train_acc, val_acc, seconds) in enumerate(rows):
        window = losses[:1] if epoch == 0 else losses[(epoch - 1) * per_epoch:epoch * per_epoch]
        # The learning rate of the epoch's last update (the first one's for epoch 0).
        rate = solver.learning_rate(max(epoch * per_epoch - 1, 0))
        writer.writerow([epoch, f"{train_acc:.6f}", f"{val_acc:.6f}", f"{np.mean(window):.6f}", f"{rate:.6g}",
                         f"{seconds:.3f}"])
    return table.getvalue().encode()


def recipe_options(command):
    """The options that replace a dataset recipe's values, shared by train and sweep."""
    options = [
        click.option("--model", type=str, help="three-layer (conv-relu-pool-affine-relu-affine), fc (two hidden layers "
                     "of 100), or a ConvNet spec: '-'-separated cN (N filters), cNp / cNa (then 2x2 max / average "
                     "pool), rN / rNp (a residual block, at stride 2), g (global average pooling), fN (N hidden units), "
                     f"dP (dropout keeping P), e.g. c16p-c32p-f128 or c32-r32-r64p-g. [recipe: {_recipe_help('model')}]"),
        click.option("--normalization", type=click.Choice(NORMALIZATIONS),
                     help="fc: batchnorm or layernorm; ConvNet specs: batchnorm or groupnorm (residual blocks need "
                          "batchnorm). [the recipe's with the recipe's model, else none]"),
        click.option("--init", type=click.Choice(INITS), help="How a ConvNet spec draws its initial weights: he "
                     "N(0, 2/fan_in), gaussian N(0, 0.01^2) or pytorch U(+-1/sqrt(fan_in)) (the cs231n networks "
                     f"draw theirs as cs231n does). [recipe: {_recipe_help('init')}]"),
        click.option("--epochs", type=integer(1), help="Epochs in all (with --resume, including those the checkpoint "
                     f"has done). [recipe: {_recipe_help('epochs')}]"),
        click.option("--batch-size", type=integer(1), help=f"[recipe: {_recipe_help('batch_size')}]"),
        click.option("--update-rule", type=click.Choice(UPDATE_RULES), help=f"[recipe: {_recipe_help('update_rule')}]"),
        click.option("--lr", type=number(0, min_open=True), help=f"Learning rate. [recipe: {_recipe_help('lr')}]"),
        click.option("--lr-schedule", type=click.Choice(["step", "cosine"]),
                     help="step: multiply by --lr-decay after each epoch; cosine: down to 0 along half a cosine over "
                          f"the run. [recipe: {_recipe_help('lr_schedule')}]"),
        click.option("--lr-decay", type=number(0, 1), help="Learning-rate factor after each epoch (step schedule). "
                     f"[recipe: {_recipe_help('lr_decay')}]"),
        click.option("--warmup-epochs", type=number(0), help="Raise the learning rate linearly from 0 over this many "
                     f"epochs first. [recipe: {_recipe_help('warmup_epochs')}]"),
        click.option("--weight-decay", type=number(0), help="Decoupled weight decay (AdamW). "
                     f"[recipe: {_recipe_help('weight_decay')}]"),
        click.option("--reg", type=number(0), help=f"L2 strength in the loss. [recipe: {_recipe_help('reg')}]"),
        click.option("--label-smoothing", type=number(0, 1), help="Train a ConvNet spec towards 1 - e on the label "
                     f"and e spread over all classes. [recipe: {_recipe_help('label_smoothing')}]"),
        click.option("--augment", type=str, help="Per-minibatch augmentation: none, cropN (shift by up to N pixels), "
                     f"flip, cropN-flip. [recipe: {_recipe_help('augment')}]"),
        click.option("--keep", type=click.Choice(["best", "last"]), help="Which epoch's parameters the model file "
                     "holds: the best on validation, or the last (for a schedule that anneals to zero, where a "
                     f"small validation set picks among near-equal epochs by noise). [recipe: {_recipe_help('keep')}]"),
        click.option("--early-stopping", type=integer(1), metavar="PATIENCE",
                     help="Stop when the validation accuracy has not improved for this many epochs. "
                          f"[recipe: {_recipe_help('early_stopping')}]"),
    ]
    for option in reversed(options):
        command = option(command)
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
    if values is not loaded and set(_RECIPE_OPTIONS) - set(_SETTINGS_BEFORE_THEY_EXISTED) <= set(values):
        # A whole run's record from a tinyconv before some settings existed: repeat what that run did.
        values = {**_SETTINGS_BEFORE_THEY_EXISTED, **values}
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
@click.option("--config", type=click.Path(dir_okay=False, exists=True, readable=True, path_type=Path), is_eager=True,
              expose_value=False, callback=_read_config,
              help="Option values from a JSON file: an object such as {\"lr\": 0.001, \"batch_size\": 64}, or one "
                   "under \"options\" (a sweep's best.json retrains its best trial; a run's metrics.json repeats the "
                   "run). Options on the command line override the file.")
@click.pass_context
def train(context, dataset, data_dir, num_train, num_val, num_test, dtype, seed, device, resume, out, overwrite,
          **options):
    """Train a model; write its file, metrics.json, metrics.csv and pictures to --out.

    Each dataset has a recipe (model, optimizer, schedule, augmentation, epochs) that every option given
    replaces. With no options: ThreeLayerConvNet on the bundled 8x8 digits, in seconds.
    """
    if resume is not None:
        model, run = _resume(context, resume, options["epochs"])
        # --epochs, --early-stopping and --keep may change on a resume; the rest is the run's, where a run
        # from an older tinyconv lacks a setting added since, the value that stands for what it did.
        settings = {**_SETTINGS_BEFORE_THEY_EXISTED, **run["settings"],
                    **{name: options[name] for name in _RESUMABLE if options[name] is not None}}
        dataset, num_train, num_val, num_test = (run["data"][name] for name in _DATA_OPTIONS)
        dtype, seed = np.dtype(model.dtype).name, run["seed"]
        out = out or resume.parent
    else:
        dataset = dataset or "digits"
        settings = resolve_settings(dataset, options)
        model = new_model(dataset, settings, dtype, seed)
    out = out or Path("runs") / f"{dataset}-{model_name(model)}-{datetime.now():%Y%m%d-%H%M%S}"
    array_module_for(device)  # before any work: a missing GPU is a usage error
    replaced = _check_out(out, overwrite, resume)
    data = load_dataset(dataset, data_dir, dtype, num_train, num_val, num_test)
    try:
        model.loss(data["X_val"][:1])
    except ValueError as error:
        raise click.BadParameter(f"the checkpoint's model does not fit {dataset}: {error}",
                                 param_hint="--resume") from error
    for path in replaced:
        path.unlink()
    data_options = dict(zip(_DATA_OPTIONS, (dataset, num_train, num_val, num_test)))
    run_training(model, data, settings, data_options, seed, out, resume=resume, device=device)


def new_model(dataset, settings, dtype, seed):
    """The model that run ``settings`` (as :func:`resolve_settings` returns them) name, for ``dataset``'s images."""
    info = DATASETS[dataset]
    return build_model(settings["model"], settings["normalization"], info.input_dim, len(info.class_names),
                       settings["reg"], dtype, seed, settings["init"], settings["label_smoothing"])


def run_training(model, data, settings, data_options, seed, out, *, resume=None, device="cpu", verbose=True,
                 pictures=True, epoch_callback=None):
    """Train ``model`` as a ``tinyconv train`` run does and write the run into the folder ``out``.

    ``data`` is what :func:`load_dataset` returns for ``data_options`` (dataset, num_train, num_val,
    num_test); ``settings`` are resolved run settings; ``resume`` a checkpoint to continue. Writes
    model.npz, metrics.json, metrics.csv and the last checkpoint, and with ``pictures`` curves.png and
    filters.png; ``verbose`` prints the progress and a summary. ``epoch_callback`` goes to the Solver (a
    true return value stops the run after that epoch). Returns the metrics that metrics.json holds.

    Raises click.UsageError for settings the Solver refuses, click.ClickException when training diverges
    (no model file is written then) or the folder cannot be written.
    """
    from ..serialization import save_model
    from ..solver import Solver, TrainingDivergedError
    from ..viz import save_conv_filters, save_training_curves

    dataset = data_options["dataset"]
    run = {"data": data_options, "settings": settings, "seed": seed,
           "model_file": model_metadata(data_options, data["mean_image"])}
    try:
        solver = Solver(model, data, num_epochs=settings["epochs"], checkpoint_name=out / "checkpoint",
                        resume_from=resume, metadata={"run": run}, raise_on_divergence=True, verbose=verbose,
                        epoch_callback=epoch_callback, **solver_settings(settings, seed))
    except (TypeError, ValueError) as error:
        raise click.UsageError(str(error)) from error
    solver.print_every = max(solver.iterations_per_epoch // 4, 1)
    move_run(solver, array_module_for(device))
    if verbose:
        click.echo(f"Training {type(model).__name__} {model_name(model)} on {dataset} ({len(data['X_train'])} "
                   f"training, {len(data['X_val'])} validation images) for {settings['epochs']} epochs; results in "
                   f"{out}")
    started, updates_before = time.perf_counter(), len(solver.loss_history)
    try:
        # Overflow on the way to a NaN loss is reported once, as the divergence, not as warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            solver.train()
    except TrainingDivergedError as error:
        raise click.ClickException(f"{error} No model file was written.") from error
    except OSError as error:
        raise click.ClickException(f"cannot write the run into {out}: {error}") from error
    finally:
        # An interrupted run keeps only its last checkpoint, as a finished one does.
        _keep_last_checkpoint(out, solver.epoch)
    seconds = time.perf_counter() - started
    move_run(solver, np)

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
        "seconds": round(seconds, 3),
        "images_per_second": round(solver.batch_size * updates / solver.step_seconds, 1) if solver.step_seconds else None,
        "final_loss": solver.loss_history[-1] if solver.loss_history else None,
        "train_acc_history": solver.train_acc_history,
        "val_acc_history": solver.val_acc_history,
        "options": {**settings, **data_options, "dtype": np.dtype(model.dtype).name, "seed": seed, "device": device},
    }
    info = DATASETS[dataset]
    try:
        save_model(out / "model.npz", model, run["model_file"])
        if pictures:
            save_training_curves(solver, out / "curves.png")
            save_conv_filters(_first_layer_filters(model, info.input_dim)[:64], out / "filters.png",
                              title="First-layer weights")
        write_bytes(out / "metrics.json", (json.dumps(metrics, indent=2) + "\n").encode())
        write_bytes(out / "metrics.csv", _metrics_csv(solver))
    except OSError as error:
        raise click.ClickException(f"cannot write the run into {out}: {error}") from error
    if verbose:
        test = "" if metrics["test_acc"] is None else f"; test accuracy {metrics['test_acc']:.4f}"
        stopped = f" (stopped early after epoch {solver.stopped_early})" if solver.stopped_early else ""
        rate = "" if metrics["images_per_second"] is None else f", {metrics['images_per_second']:.0f} images/s"
        files = "model.npz, metrics.json, metrics.csv" + (", curves.png, filters.png" if pictures else "")
        epochs = f"{solver.epoch} epoch{'' if solver.epoch == 1 else 's'}"
        if solver.model_epoch == solver.best_epoch:
            which = (f"the best on validation: accuracy {metrics['val_acc']:.4f} (last epoch "
                     f"{metrics['last_val_acc']:.4f})")
        else:
            which = (f"the last: validation accuracy {metrics['val_acc']:.4f} (best: epoch {solver.best_epoch}, "
                     f"{solver.best_val_acc:.4f})")
        click.echo(f"The model is epoch {solver.model_epoch}'s, {which}{test}. {epochs}{stopped} in {seconds:.1f} s"
                   f"{rate}. Wrote {out}/{files}")
    return metrics


def _first_layer_filters(model, input_dim):
    """The first layer's weights as images ``(F, C, H, W)``: conv filters, or affine columns reshaped."""
    weights = model.params.get("W1", model.params.get("W1a"))
    return weights if weights.ndim == 4 else weights.T.reshape(-1, *input_dim)
