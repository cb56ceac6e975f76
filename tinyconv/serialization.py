"""Model and training-checkpoint files: ``.npz`` archives without pickle.

A file holds plain numeric arrays plus one JSON document (stored as a uint8
array under the key ``__tinyconv__``) that describes everything else: the file
kind and format version, the model class (from a fixed registry of tinyconv
models), its constructor config and dtype, and where each array belongs.
Files are read with ``allow_pickle=False`` and written atomically: to a
temporary file in the destination directory, then ``os.replace``.

Loading never draws random numbers and never allocates from a config: the
model is built with ``from_config`` around the stored arrays, whose shapes are
checked against the config first.

Format versions
---------------
1. tinyconv 0.1.0.
2. A ConvNet's config holds its ``spec`` (in place of num_filters, pool and
   hidden_dims). Checkpoints keep the running statistics of the best epoch
   (``best_state``) with its parameters, and may hold a model that is not a
   tinyconv class (a learner's own, with its ``params`` and cs231n-style
   ``bn_params`` buffers).

Every older version is read by upgrading its document one version at a time
(``_UPGRADES``); a newer one is refused with a message to upgrade tinyconv.

Public functions
----------------
save_model(path, model, metadata) / load_model(path) / load_metadata(path) / read_model_file(path)
save_checkpoint(path, model, solver_state) / load_checkpoint(path) / read_checkpoint(path)
check_savable(model), atomic_savez(path, arrays)
"""

import json
import math
import os
import zipfile
from typing import NamedTuple

import numpy as np

from tinyconv import _checks
from tinyconv._backend import is_array, to_numpy
from tinyconv._files import atomic_write
from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet
from tinyconv.models._base import buffers
from tinyconv.models.convnet import spec_from_lists

__all__ = [
    "save_model",
    "load_model",
    "load_metadata",
    "read_model_file",
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint",
    "check_savable",
    "check_metadata",
    "atomic_savez",
    "MODEL_CLASSES",
]

FORMAT_VERSION = 2
_META_KEY = "__tinyconv__"
_ARRAY_TAG = "__array__"
_MODEL_KIND = "tinyconv-model"
_CHECKPOINT_KIND = "tinyconv-checkpoint"

#: The classes a file may name; nothing outside this table is ever instantiated.
MODEL_CLASSES = {cls.__name__: cls for cls in (ThreeLayerConvNet, FullyConnectedNet, TwoLayerNet, ConvNet)}


def atomic_savez(path, arrays):
    """Write ``arrays`` (dict name -> ndarray) to ``path`` as an uncompressed npz, atomically.

    See :func:`tinyconv._files.atomic_write`: a reader sees either the old file
    or the complete new one, never a partial write. ``path`` is used exactly as
    given (no ``.npz`` is appended).
    """
    with atomic_write(path) as handle:
        np.savez(handle, **arrays)


# --- nested structures <-> (JSON document, flat arrays) --------------------------------


def _join(key, name):
    return f"{key}/{name}" if key else str(name)


def _encode(value, key, arrays):
    """JSON-ready copy of ``value``; its ndarrays (CuPy's copied to host memory) move to ``arrays`` under
    '/'-joined keys."""
    if is_array(value):
        value = to_numpy(value)
        if value.dtype.hasobject:
            raise TypeError(f"{key}: object arrays cannot be saved without pickle.")
        arrays[key] = value
        return {_ARRAY_TAG: key}
    if isinstance(value, dict):
        encoded = {}
        for name, item in value.items():
            if not isinstance(name, str) or name == _ARRAY_TAG:
                raise TypeError(f"{key}: dict keys must be strings other than {_ARRAY_TAG!r}.")
            encoded[name] = _encode(item, _join(key, name), arrays)
        return encoded
    if isinstance(value, (list, tuple)):
        return [_encode(item, _join(key, index), arrays) for index, item in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{key}: cannot save a value of type {type(value).__name__}.")


def _decode(value, arrays, path):
    if isinstance(value, dict):
        if set(value) == {_ARRAY_TAG}:
            key = value[_ARRAY_TAG]
            if not isinstance(key, str) or key not in arrays:
                raise ValueError(f"{path}: the file refers to a missing array {key!r}.")
            return arrays[key]
        return {name: _decode(item, arrays, path) for name, item in value.items()}
    if isinstance(value, list):
        return [_decode(item, arrays, path) for item in value]
    return value


def _write(path, kind, body):
    arrays = {}
    document = {"format": kind, "format_version": FORMAT_VERSION}
    document.update(_encode(body, "", arrays))
    text = json.dumps(document, allow_nan=False)
    arrays[_META_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    atomic_savez(path, arrays)


_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _check_members(path, handle):
    """Check, from the archive's directory and each member's header alone, that every member is an array
    that its bytes hold: tinyconv writes its archives uncompressed, so a member can be no larger than the
    file, where a compressed one could inflate without bound (a zip bomb), and an array header declaring a
    shape larger than its bytes would have NumPy allocate that shape before finding out."""
    if not zipfile.is_zipfile(handle):
        raise ValueError(f"{path} is not a tinyconv file: it is not an npz archive (tinyconv writes its models "
                         "and checkpoints as .npz archives).")
    handle.seek(0)
    with zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(
                    f"{path} is not a tinyconv file: its member {info.filename!r} is compressed, "
                    "and tinyconv writes its archives uncompressed."
                )
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in _NPY_HEADERS:
                    raise ValueError(f"{path} is not a tinyconv file: its member {info.filename!r} is an .npy "
                                     f"array of format {version}, which tinyconv does not write.")
                shape, _, dtype = _NPY_HEADERS[version](member)
                if dtype.hasobject:
                    raise ValueError(f"{path} is not a tinyconv file: its member {info.filename!r} holds Python "
                                     "objects (pickled data), which tinyconv never writes.")
                needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
                held = info.file_size - member.tell()
                if needed != held:
                    raise ValueError(f"{path} is damaged: its member {info.filename!r} declares an array of shape "
                                     f"{shape} and dtype {dtype} ({needed:,} bytes) but holds {held:,} bytes.")
    handle.seek(0)


def _read(path, kinds):
    """Read a tinyconv file of one of ``kinds``; return its decoded document.

    Anything that is not such a file (corrupt, truncated, foreign, pickled)
    raises ValueError naming the path; a missing file raises FileNotFoundError.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isfile(path):  # /dev/zero, a pipe or a folder: no end to read to
        raise ValueError(f"{path} is not a tinyconv file: it is not a regular file.")
    try:
        # Our own handle: np.load leaks the one it opens when the zip is damaged.
        with open(path, "rb") as handle:
            _check_members(path, handle)
            with np.load(handle, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except ValueError as error:
        if str(error).startswith(path):
            raise
        raise ValueError(f"{path} is not a readable tinyconv file (corrupt or truncated): {error}") from error
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a readable tinyconv file (corrupt or truncated): {error}") from error
    if _META_KEY not in arrays:
        raise ValueError(f"{path} is not a tinyconv file: it has no {_META_KEY!r} record.")
    meta = arrays.pop(_META_KEY)
    try:
        if meta.dtype != np.uint8 or meta.ndim != 1:
            raise ValueError("the record is not a byte string")
        document = json.loads(meta.tobytes().decode("utf-8"))
        if not isinstance(document, dict):
            raise ValueError("the record is not a JSON object")
    except RecursionError:
        raise ValueError(f"{path} has a damaged tinyconv record: it is nested deeper than Python can read.") from None
    except ValueError as error:
        raise ValueError(f"{path} has a damaged tinyconv record: {error}.") from error
    kind, version = document.get("format"), document.get("format_version")
    if kind not in kinds:
        raise ValueError(f"{path} is a {kind!r} file; expected one of {sorted(kinds)}.")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path} has a damaged tinyconv record: format version {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} has format version {version}, written by a newer tinyconv; this one reads versions "
            f"1 to {FORMAT_VERSION}. Upgrade tinyconv (pip install -U tinyconv) to read it."
        )
    for older in range(version, FORMAT_VERSION):
        document = _UPGRADES[older](document)
    try:
        return _decode(document, arrays, path)
    except RecursionError:
        raise ValueError(f"{path} has a damaged tinyconv record: it is nested deeper than Python can read.") from None


def _from_version_1(document):
    """Version 1 described a ConvNet by num_filters, pool and hidden_dims, where version 2 has its spec; and
    its checkpoints kept no buffers of the best epoch (the last epoch's serve, as in 0.1.0)."""
    model = document.get("model")
    if isinstance(model, dict) and model.get("class") == "ConvNet" and isinstance(model.get("config"), dict):
        config = dict(model["config"])
        lists = {name: config.pop(name, None) for name in ("num_filters", "pool", "hidden_dims")}
        if config.get("spec") is None:
            model["config"] = {**config, "spec": spec_from_lists(**lists)}
    solver = document.get("solver")
    if document.get("format") == _CHECKPOINT_KIND and isinstance(solver, dict) and "best_state" not in solver:
        solver["best_state"] = document.get("model", {}).get("state", {})
    return document


# Version -> function turning that version's document into the next version's.
_UPGRADES = {1: _from_version_1}


# --- models ---------------------------------------------------------------------------


def check_savable(model):
    """Raise TypeError unless ``model`` is an instance of a class in :data:`MODEL_CLASSES`."""
    if MODEL_CLASSES.get(type(model).__name__) is not type(model):
        raise TypeError(
            f"save_model: only tinyconv models can be saved as model files ({sorted(MODEL_CLASSES)}); "
            f"got {type(model).__name__}. Checkpoints (save_checkpoint, the Solver's checkpoint_name) take "
            "any model with a params dict."
        )


def _type_name(model):
    return f"{type(model).__module__}.{type(model).__qualname__}"


def _checked_arrays(what, arrays, dtype=None):
    """``arrays`` (dict name -> array) if each is a float NumPy or CuPy array (of ``dtype`` when given)."""
    wrong = {
        name: str(getattr(value, "dtype", type(value).__name__))
        for name, value in arrays.items()
        if not is_array(value) or value.dtype.kind != "f" or dtype is not None and value.dtype != dtype
    }
    if wrong:
        kind = f"an array of the model's dtype {np.dtype(dtype).name}" if dtype else "a float array"
        raise TypeError(f"every {what} must be {kind}; got {wrong}")
    return dict(arrays)


def _model_record(model, custom_allowed=False):
    """The part of a file that describes ``model``: class and config for tinyconv models, else its type name."""
    if not custom_allowed:
        check_savable(model)
    params = getattr(model, "params", None)
    if not isinstance(params, dict):
        raise TypeError(f"a model must have a params dict to be saved; {type(model).__name__} has "
                        f"{type(params).__name__}")
    if MODEL_CLASSES.get(type(model).__name__) is type(model):
        # load_model refuses parameters that differ from the model's dtype, so refuse to write them.
        return {
            "class": type(model).__name__,
            "config": model.get_config(),
            "dtype": np.dtype(model.dtype).name,
            "params": _checked_arrays("parameter", params, model.dtype),
            "state": model.state(),
        }
    return {"class": None, "type": _type_name(model), "params": _checked_arrays("parameter", params),
            "state": buffers(model)}


def _model_from_record(record, path):
    """The tinyconv model a record describes, built around its arrays (nothing random is drawn)."""
    if not isinstance(record, dict):
        raise ValueError(f"{path} has no model record.")
    if record.get("class") is None and "type" in record:
        raise ValueError(
            f"{path} holds a model of a class outside tinyconv ({record['type']}); build that model yourself "
            "and resume it with Solver(model, data, resume_from=...)."
        )
    try:
        cls = MODEL_CLASSES[record["class"]]
        return cls.from_config(record["config"], record["params"], record["state"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path} does not describe a valid tinyconv model: {error}") from error


def save_model(path, model, metadata=None):
    """Save a tinyconv model (parameters, buffers, constructor config) to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Destination, used exactly as given (``.npz`` is the conventional suffix).
    model : ThreeLayerConvNet, FullyConnectedNet, TwoLayerNet or ConvNet
    metadata : dict, optional
        What else a user of the model needs, saved as given (JSON values and NumPy arrays; see
        :func:`load_metadata`). The command line records the dataset, its class names and how an image is
        prepared for the model.
    """
    body = {"model": _model_record(model)}
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"save_model: metadata must be a dict, got {type(metadata).__name__}")
        body["metadata"] = metadata
    _write(path, _MODEL_KIND, body)


def load_metadata(path):
    """The ``metadata`` dict saved with a model file (empty when there is none), without building the model."""
    return _metadata(_read(path, {_MODEL_KIND}), path)


def _metadata(document, path):
    metadata = document.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError(f"{os.fspath(path)} has a damaged metadata record.")
    return metadata


_FITS = ("content", "pad", "crop", "stretch")
_BACKGROUNDS = ("dark", None)


def check_metadata(where, model, metadata):
    """Check a model file's ``metadata`` against its ``model``; return the shape of one input image,
    ``(C, H, W)`` (the model's own input shape where the metadata describes no image).

    Each key is optional: ``class_names`` (one string per class the model scores), ``dataset`` (a string),
    ``input`` (``channels``, ``height``, ``width`` of the model's input, ``value_range`` [low, high],
    ``background`` 'dark' or None, ``fit`` 'content', 'pad', 'crop' or 'stretch'), ``mean_image`` (a finite float
    array of the input's shape, or None). TypeError or ValueError starting with ``where`` otherwise.
    """
    _checks.dictionary(where, "metadata", metadata)
    config = model.get_config()
    model_shape = tuple(config["input_dim"]) if isinstance(config["input_dim"], list) else (config["input_dim"],)
    num_classes = config["num_classes"]
    class_names = metadata.get("class_names")
    if class_names is not None:
        if not isinstance(class_names, (list, tuple)) or not all(isinstance(name, str) for name in class_names):
            raise TypeError(f"{where}: metadata['class_names'] must be a list of strings, got "
                            f"{_checks.describe(class_names)}")
        if len(class_names) != num_classes:
            raise ValueError(f"{where}: metadata['class_names'] has {len(class_names)} names, but the model scores "
                             f"{num_classes} classes")
    dataset = metadata.get("dataset")
    if dataset is not None and not isinstance(dataset, str):
        raise TypeError(f"{where}: metadata['dataset'] must be a string, got {_checks.describe(dataset)}")
    image, shape = metadata.get("input"), model_shape
    if image is not None:
        _checks.dictionary(where, "metadata['input']", image)
        shape = tuple(_checks.positive_int(where, f"metadata['input'][{key!r}]", image.get(key))
                      for key in ("channels", "height", "width"))
        # A fully connected net flattens the image, so only the number of values has to match.
        fits = shape == model_shape if len(model_shape) == 3 else math.prod(shape) == model_shape[0]
        if not fits:
            raise ValueError(f"{where}: metadata['input'] describes images of shape {shape}, but the model takes "
                             f"inputs of shape {model_shape}")
        value_range = image.get("value_range", [0, 255])
        if (not isinstance(value_range, (list, tuple)) or len(value_range) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in value_range) or not value_range[0] < value_range[1]):
            raise ValueError(f"{where}: metadata['input']['value_range'] must be two finite numbers [low, high] with "
                             f"low < high, got {value_range!r}")
        _checks.one_of(where, "metadata['input']['background']", image.get("background"), _BACKGROUNDS)
        _checks.one_of(where, "metadata['input']['fit']", image.get("fit", "crop"), _FITS)
    mean_image = metadata.get("mean_image")
    if mean_image is not None:
        _checks.float_array(where, "metadata['mean_image']", mean_image)
        if tuple(mean_image.shape) != shape:
            hint = "" if image is not None else "; give metadata['input'] with the image's channels, height, width"
            raise ValueError(f"{where}: metadata['mean_image'] has shape {tuple(mean_image.shape)}, but the "
                             f"model's input images are {shape}{hint}")
        if not np.all(np.isfinite(mean_image)):
            raise ValueError(f"{where}: metadata['mean_image'] holds values that are not finite")
    return shape


class ModelFile(NamedTuple):
    """A model file or checkpoint read once: the model, the model file's metadata (empty for a checkpoint)
    and a checkpoint's solver state (None for a model file)."""

    model: object
    metadata: dict
    solver_state: object


def read_model_file(path):
    """Read a model file or a checkpoint: a :class:`ModelFile`. Raises as :func:`load_model` does."""
    document = _read(path, {_MODEL_KIND, _CHECKPOINT_KIND})
    model = _model_from_record(document.get("model", {}), os.fspath(path))
    if document["format"] == _MODEL_KIND:
        metadata = _metadata(document, path)
        if isinstance(model, tuple(MODEL_CLASSES.values())):
            try:
                check_metadata(os.fspath(path), model, metadata)
            except TypeError as error:
                raise ValueError(str(error)) from None
        return ModelFile(model, metadata, None)
    return ModelFile(model, {}, _solver_state(document, path))


def _solver_state(checkpoint, path):
    """The solver state of a read checkpoint document, which must have one."""
    solver_state = checkpoint.get("solver")
    if not isinstance(solver_state, dict):
        raise ValueError(f"{os.fspath(path)} is a checkpoint without solver state.")
    return solver_state


def load_model(path):
    """Load a model written by :func:`save_model` (or the model in a checkpoint).

    Returns
    -------
    model
        A new instance of the stored class with the stored parameters and buffers.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is not a tinyconv model or checkpoint file (the message names it).
    """
    return read_model_file(path).model


def save_checkpoint(path, model, solver_state):
    """Save a training checkpoint: the model record plus ``solver_state``.

    ``model`` is a tinyconv model or any object with a ``params`` dict of float arrays (its
    cs231n-style ``bn_params`` running statistics are saved too). ``solver_state`` is a nested
    structure of dicts (string keys), lists, ndarrays and JSON scalars; its arrays are stored as npz
    members, the rest in the JSON record.
    """
    _write(path, _CHECKPOINT_KIND, {"model": _model_record(model, custom_allowed=True), "solver": solver_state})


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns
    -------
    model
        The model stored in the checkpoint, rebuilt as by :func:`load_model`.
    solver_state : dict
        The solver state as saved (tuples come back as lists).
    """
    record, solver_state = read_checkpoint(path)
    return _model_from_record(record, os.fspath(path)), solver_state


def read_checkpoint(path):
    """Read a checkpoint without building its model.

    Returns
    -------
    model_record : dict
        ``class`` (a tinyconv class name, or None for another model, then named by ``type``),
        ``config`` and ``dtype`` for tinyconv models, ``params`` and ``state`` (dicts of arrays).
    solver_state : dict
        As :func:`load_checkpoint` returns it.
    """
    document = _read(path, {_CHECKPOINT_KIND})
    record = document.get("model")
    if not isinstance(record, dict) or not isinstance(record.get("params"), dict):
        raise ValueError(f"{os.fspath(path)} is a checkpoint without a model record.")
    return record, _solver_state(document, path)
