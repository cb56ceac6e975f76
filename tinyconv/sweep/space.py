"""The search space of a sweep: which ``tinyconv train`` options vary, and how.

A space file (TOML) has one table per option, named as the option is (``batch-size`` or ``batch_size``),
holding one distribution::

    [lr]
    log_uniform = [1e-4, 1e-2]     # a float, uniform in its logarithm
    [reg]
    uniform = [0.0, 0.01]          # a float
    [epochs]
    int = [2, 6]                   # an integer, both ends included
    [model]
    choice = ["c16p-c32p-f128", "c32p-c64p-f256"]

Inline tables say the same (``lr = {log_uniform = [1e-4, 1e-2]}``). Every value is checked as the train
option checks its own, and a mistake is reported with the file's line and the option's key.
"""

import dataclasses
import json
import re
import sys

from ..run.settings import SETTINGS

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no TOML reader of its own
    import tomli as tomllib

KINDS = ("log_uniform", "uniform", "int", "choice")
# The train options a sweep can search: the run settings (the data and the seed stay fixed).
SEARCHABLE = tuple(SETTINGS)


class SpaceError(ValueError):
    """A space file that cannot be used; the message names the file, the line and the key."""


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One searched option: ``name`` (as train's keyword, e.g. 'batch_size'), ``kind`` (one of KINDS) and
    ``values``, the (low, high) bounds of a range or the choices."""

    name: str
    kind: str
    values: tuple

    @property
    def log(self):
        """Whether the values are spread on a log scale (and best plotted on one)."""
        return self.kind == "log_uniform"

    def distribution(self):
        """The Optuna distribution that samples this dimension."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "choice":
            return CategoricalDistribution(self.values)
        if self.kind == "int":
            return IntDistribution(*self.values)
        return FloatDistribution(*self.values, log=self.log)


def space_json(space):
    """The canonical JSON text of a space (dict name -> Dimension), to compare two spaces."""
    return json.dumps({dim.name: {dim.kind: list(dim.values)} for dim in space.values()}, sort_keys=True)


def describe(space):
    """One line per dimension, e.g. 'lr: log_uniform [0.0001, 0.01]'."""
    return "\n".join(f"  {dim.name}: {dim.kind} {list(dim.values)}" for dim in space.values())


def default_space(settings, fixed):
    """The space searched when no file is given, centred on run ``settings`` (a recipe with the options given).

    The learning rate log-uniform over a decade each side of the settings'; the weight decay the same where
    the settings use it, else the L2 strength (reg) log-uniform in [1e-6, 1e-2]; the batch size half, the
    same or double. Options in ``fixed`` (given on the command line) are not searched.
    """
    lr, batch, decay = settings.lr, settings.batch_size, settings.weight_decay
    space = {"lr": Dimension("lr", "log_uniform", _decade_each_side(lr))}
    if decay:
        space["weight_decay"] = Dimension("weight_decay", "log_uniform", _decade_each_side(decay))
    else:
        space["reg"] = Dimension("reg", "log_uniform", (1e-6, 1e-2))
    space["batch_size"] = Dimension("batch_size", "choice", tuple(sorted({max(batch // 2, 1), batch, 2 * batch})))
    return {name: dim for name, dim in space.items() if name not in fixed}


def _decade_each_side(value):
    # Rounded, so that 3e-3 / 10 reads 0.0003 and not 0.00030000000000000003.
    return float(f"{value / 10:.6g}"), float(f"{value * 10:.6g}")


def read_space(path):
    """The space that the TOML file ``path`` defines, as a dict name -> Dimension in the file's order.

    Every value is checked as its run setting checks its own (:data:`tinyconv.run.settings.SETTINGS`).
    Raises SpaceError naming the file, the line and the key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpaceError(f"cannot read {path}: {error}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found, lines = re.search(r"line (\d+)", str(error)), text.splitlines()
        if found and int(found.group(1)) <= len(lines):
            line = int(found.group(1))
            raise SpaceError(f"{path}, line {line}: {error} in {lines[line - 1].strip()!r}") from None
        raise SpaceError(f"{path}: {error}") from None
    space = {}
    for key, entry in table.items():
        try:
            name, dimension = _table(key, entry, space)
        except _Misplaced as error:
            raise SpaceError(f"{path}, line {_line_of(text, key, error.inner)}, [{key}]: {error}") from None
        space[name] = dimension
    if not space:
        raise SpaceError(f"{path} searches no option: give at least one table, e.g. [lr] then "
                         "log_uniform = [1e-4, 1e-2]")
    return space


class _Misplaced(ValueError):
    """A mistake in one table; ``inner`` is the key inside it where the mistake is, if any."""

    def __init__(self, message, inner=None):
        super().__init__(message)
        self.inner = inner


def _table(key, entry, space):
    """The option name and Dimension of table ``key``, given the dimensions read before it."""
    name = key.replace("-", "_")
    if name not in SEARCHABLE:
        raise _Misplaced(f"not a train option that a sweep searches; these are: {', '.join(SEARCHABLE)}")
    if name in space:
        raise _Misplaced(f"{name} is searched twice (as {name} and {name.replace('_', '-')}); keep one")
    if not isinstance(entry, dict) or not entry:
        raise _Misplaced(f"give a table with one distribution, e.g. [{key}] then {_example(SETTINGS[name])}")
    unknown = [kind for kind in entry if kind not in KINDS]
    if unknown:
        raise _Misplaced(f"unknown distribution {unknown[0]!r}: give one of {', '.join(KINDS)}", unknown[0])
    if len(entry) > 1:
        raise _Misplaced(f"give one distribution, not {len(entry)} ({', '.join(entry)})", list(entry)[1])
    kind, values = next(iter(entry.items()))
    try:
        return name, _dimension(name, kind, values, SETTINGS[name])
    except ValueError as error:
        raise _Misplaced(str(error), kind) from None


def _dimension(name, kind, values, setting):
    """The Dimension of one table, its values checked by the setting's own check; ValueError if wrong."""
    if kind not in _KINDS_OF[setting.kind]:
        raise ValueError(f"{name} takes {' or '.join(_KINDS_OF[setting.kind])}, not {kind}")
    if not isinstance(values, list) or not values:
        raise ValueError(f"{kind} takes a list, e.g. {_example(setting)}")
    if kind != "choice" and len(values) != 2:
        raise ValueError(f"{kind} takes two bounds [low, high], got {len(values)} values")
    checked = [_check_value(name, value, setting) for value in values]
    if kind == "choice":
        if len(set(checked)) < len(checked):
            raise ValueError(f"the choices {values} repeat a value")
        return Dimension(name, kind, tuple(checked))
    low, high = checked
    if not low < high:
        raise ValueError(f"the low bound must be below the high one, got [{values[0]}, {values[1]}]")
    if kind == "log_uniform" and low <= 0:
        raise ValueError(f"log_uniform needs bounds above 0, got [{values[0]}, {values[1]}]; use uniform to "
                         "include 0")
    return Dimension(name, kind, (low, high))


_KINDS_OF = {"number": ("log_uniform", "uniform", "choice"), "integer": ("int", "choice"), "text": ("choice",)}
_TAKES = {"number": "a number", "integer": "an integer", "text": "a string"}


def _check_value(name, value, setting):
    """``value`` as the setting takes it, or ValueError with the setting's own reason."""
    wanted = {"number": (int, float), "integer": (int,), "text": (str,)}[setting.kind]
    if isinstance(value, bool) or not isinstance(value, wanted):
        raise ValueError(f"{name} takes {_TAKES[setting.kind]}, got {value!r}")
    try:
        return setting.validate(value)
    except ValueError as error:
        raise ValueError(f"{value!r}: {error}") from None


def _example(setting):
    return {"number": "log_uniform = [1e-4, 1e-2]", "integer": "int = [2, 6]"}.get(
        setting.kind, 'choice = ["a", "b"]')


def _line_of(text, key, inner=None):
    """The 1-based line of table ``key`` in TOML ``text`` (its header, or its inline table), or of the key
    ``inner`` inside that table when given; 1 when not found."""
    name = re.escape(key)
    quoted = rf"(?:{name}|\"{name}\"|'{name}')"
    header = re.compile(rf"^\s*\[\s*{quoted}\s*\]")
    inline = re.compile(rf"^\s*{quoted}\s*=")
    lines = text.splitlines()
    start = next((number for number, line in enumerate(lines) if header.match(line) or inline.match(line)), None)
    if start is None:
        return 1
    if inner is not None and header.match(lines[start]):
        inner_key = re.compile(rf"^\s*{re.escape(inner)}\s*=")
        for number in range(start + 1, len(lines)):
            if lines[number].lstrip().startswith("["):
                break
            if inner_key.match(lines[number]):
                return number + 1
    return start + 1
