"""Grading a learner's own cs231n ``layers.py`` and models against tinyconv's reference: ``tinyconv grade PATH``.

:func:`grade` imports the learner's module in a child process per function, with a time limit, so that an
endless loop, a crash or a ``sys.exit`` in their code is reported and the other functions are still graded.
Their ``cs231n.*`` imports resolve to their own folder, and to :mod:`tinyconv.cs231n` for what it lacks
(a Cython build that was never made, say). Each function is tried on the cases of
:mod:`tinyconv.grade.cases`, smallest first; the first that fails is reported with a snippet that
reproduces it. A function that still returns None or raises NotImplementedError is "not implemented".
"""

import importlib
import importlib.abc
import importlib.util
import multiprocessing
import queue
import sys
import traceback
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tinyconv.grade import cases, models
from tinyconv.grade.cases import ForwardFails, NotImplementedYet

__all__ = ["grade", "Record", "GradeError", "STATUSES"]

# What is graded: the layers of layers.py, then the models of classifiers/.
ITEMS = cases.ITEMS + cases.SANDWICHES + models.ITEMS
ITEMS_BY_NAME = {item.name: item for item in ITEMS}
# What a function's grade can be.
STATUSES = ("passed", "failed", "not implemented", "missing", "untested", "error", "timed out")


class GradeError(ValueError):
    """A PATH that is not a learner's cs231n folder or layers.py."""


@dataclass
class Record:
    """The grade of one function: its ``status`` (one of STATUSES), the ``cases`` it passed, and for a
    failure the smallest failing case (``case``: its shapes and parameters), ``output`` (what differs),
    ``error`` (its relative error), ``snippet`` (a few lines that reproduce it) or ``message`` (an exception's
    text); ``warnings`` are side findings (float32 in, float64 out; an input modified)."""

    name: str
    status: str
    cases: int = 0
    case: dict = None
    output: str = None
    error: float = None
    snippet: str = None
    message: str = None
    warnings: list = field(default_factory=list)


def layers_file(path):
    """The learner's ``layers.py``: PATH itself, or the one in the cs231n folder PATH; GradeError otherwise."""
    path = Path(path)
    if path.is_dir():
        path = path / "layers.py"
    if not path.is_file() or path.suffix != ".py":
        raise GradeError(f"{path} is not a cs231n folder with a layers.py, nor a layers.py file")
    return path


class _StarterFallback(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``cs231n.X`` in tinyconv.cs231n when the learner's folder has no importable X (the last finder
    asked, so the learner's own modules come first)."""

    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith("cs231n."):
            return None
        try:
            importlib.import_module("tinyconv." + fullname)
        except ImportError:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return sys.modules["tinyconv." + spec.name]

    def exec_module(self, module):
        pass


def _learner_functions(layers):
    """The names of the learner's ``cs231n.layers`` and, where they have one, ``cs231n.layer_utils`` modules (in
    the child process)."""
    package = types.ModuleType("cs231n")
    package.__path__ = [str(layers.parent)]
    sys.modules["cs231n"] = package
    sys.meta_path.append(_StarterFallback())
    # The file given is cs231n.layers, whatever its name, so that a learner's other modules import it so.
    spec = importlib.util.spec_from_file_location("cs231n.layers", layers)
    module = importlib.util.module_from_spec(spec)
    sys.modules["cs231n.layers"] = module
    spec.loader.exec_module(module)
    functions = {}
    if (layers.parent / "layer_utils.py").is_file():
        functions.update(vars(importlib.import_module("cs231n.layer_utils")))
    return {**functions, **vars(module)}  # layers.py's own names over what layer_utils star-imported


def _grade_in_child(layers, name, seed, results):
    """The child process's work: import the learner's module and grade ``name``; put the Record on
    ``results``."""
    item = ITEMS_BY_NAME[name]
    try:
        learner = _learner_functions(layers)
    except BaseException as error:  # their module may raise anything, SystemExit included
        results.put(Record(name, "error", message=f"importing {layers} failed: "
                           f"{''.join(traceback.format_exception_only(type(error), error)).strip()}"))
        return
    missing = [needed for needed in item.needs if not callable(learner.get(needed))]
    if missing:
        results.put(Record(name, "missing", message=f"{layers} has no {', '.join(missing)}"))
        return
    learner = {**learner, "__folder__": layers.parent}  # where the model checks find classifiers/
    warnings, passed = set(), 0
    for case in item.cases(seed):
        try:
            failure, found = item.check(learner, case)
        except (NotImplementedYet, NotImplementedError):  # a stub returning None, or the starter's raise
            results.put(Record(name, "not implemented", passed))
            return
        except ForwardFails as reason:  # graded as the forward's failure, not this function's
            results.put(Record(name, "untested", passed, case.params, message=str(reason)))
            return
        except models.Missing as reason:
            results.put(Record(name, "missing", message=str(reason)))
            return
        except BaseException as error:
            results.put(Record(name, "error", passed, case.params, message="".join(
                traceback.format_exception_only(type(error), error)).strip(), warnings=sorted(warnings)))
            return
        warnings |= found
        if failure is not None:
            results.put(Record(name, "failed", passed, case.params, failure.output, failure.error, failure.snippet,
                               warnings=sorted(warnings)))
            return
        passed += 1
    results.put(Record(name, "passed", passed, warnings=sorted(warnings)))


def grade(path, only=None, seed=0, time_limit=60.0, progress=None):
    """Grade the learner's layers at ``path`` (their cs231n folder, or its layers.py).

    ``only`` limits the grade to the named functions; ``seed`` draws the cases; each function's grade runs
    in a child process stopped after ``time_limit`` seconds. ``progress(record)`` hears of each function as
    it is graded. Returns the list of :class:`Record`, one per function, in the assignment's order.
    """
    layers = layers_file(path)
    names = [item.name for item in ITEMS]
    if only is not None:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise GradeError(f"{', '.join(unknown)}: not a function tinyconv grades; it grades {', '.join(names)}")
        names = [name for name in names if name in set(only)]
    context = multiprocessing.get_context("spawn")
    records = []
    for name in names:
        results = context.Queue()
        child = context.Process(target=_grade_in_child, args=(layers, name, seed, results), daemon=True)
        child.start()
        child.join(time_limit)
        if child.is_alive():
            child.kill()
            child.join()
            record = Record(name, "timed out", message=f"still running after {time_limit:g} s (an endless loop?)")
        else:
            try:
                record = results.get(timeout=5)
            except queue.Empty:
                record = Record(name, "error", message=f"the process grading it ended with exit code "
                                                       f"{child.exitcode} (the learner's code exited or crashed)")
        records.append(record)
        if progress is not None:
            progress(record)
    return records


def as_dicts(records):
    """The records as JSON-ready dicts."""
    return [asdict(record) for record in records]


def gradescope(records):
    """Gradescope's autograder results (``results.json``): one test per function, a point each, passed when
    its grade is 'passed'."""
    tests = []
    for record in records:
        lines = [record.status]
        if record.case:
            lines.append(f"smallest failing case: {record.case}")
        if record.output:
            lines.append(f"wrong: {record.output} (relative error {record.error:.3g})")
        if record.message:
            lines.append(record.message)
        if record.snippet:
            lines.append("reproduce it with:\n" + record.snippet)
        lines += [f"warning: {warning}" for warning in record.warnings]
        passed = record.status == "passed"
        tests.append({"name": record.name, "score": 1.0 if passed else 0.0, "max_score": 1.0,
                      "status": "passed" if passed else "failed", "output": "\n".join(lines)})
    return {"score": sum(test["score"] for test in tests), "tests": tests}
