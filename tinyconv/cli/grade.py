"""``tinyconv grade``: a learner's own cs231n layers against tinyconv's reference, for them or as a course's
autograder."""

import json
from pathlib import Path

import click

from ._app import EXIT_STATUS_HELP, main

_MARKS = {"passed": "ok", "failed": "FAILED", "not implemented": "not implemented", "missing": "missing",
          "untested": "untested", "error": "ERROR", "timed out": "TIMED OUT"}


def _print(record):
    """One line per function as it is graded, then what is wrong and how to see it."""
    click.echo(f"{record.name:<26} {_MARKS[record.status]:<16} {record.cases} case{'' if record.cases == 1 else 's'}"
               " passed")
    if record.case:
        click.echo(f"    smallest failing case: {', '.join(f'{key}={value}' for key, value in record.case.items())}")
    if record.output:
        click.echo(f"    wrong: {record.output}, relative error {record.error:.3g}")
    if record.message:
        click.echo(f"    {record.message}")
    if record.snippet:
        click.echo("    reproduce it with:\n" + "\n".join("        " + line for line in record.snippet.splitlines()))
    for warning in record.warnings:
        click.echo(f"    warning: {warning}")


@main.command(epilog=EXIT_STATUS_HELP.replace("0 when the work is done; 1 when it fails while running",
                                              "0 when every implemented function passes; 1 when one fails"))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--only", multiple=True, metavar="NAME", help="Grade only this function (repeatable).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the drawn cases.")
@click.option("--time-limit", type=click.FloatRange(min=1), default=60, show_default=True,
              help="Seconds each function's grade may take before it counts as an endless loop.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write one record per function to this file.")
@click.option("--gradescope", type=click.Path(dir_okay=False, path_type=Path),
              help="Write Gradescope's autograder results.json (a point per function) to this file.")
def grade(path, only, seed, time_limit, json_path, gradescope):
    """Grade the layers of a learner's cs231n folder (or its layers.py) against tinyconv's.

    Each function is tried on cases drawn smallest first (stride 2, no padding, non-square inputs and
    filters, overlapping pools, ties, N = 1, float32); the first that fails is shown with a snippet that
    reproduces it. A function still returning None is "not implemented". Each runs in a process of its own
    with a time limit, so a loop or crash in one is reported and the others are graded.
    """
    from .. import grade as grading
    from .._files import write_bytes

    try:
        records = grading.grade(path, only=only or None, seed=seed, time_limit=time_limit, progress=_print)
    except grading.GradeError as error:
        raise click.BadParameter(str(error), param_hint="PATH") from None
    counts = {status: sum(record.status == status for record in records) for status in grading.STATUSES}
    click.echo("\n" + ", ".join(f"{count} {status}" for status, count in counts.items() if count))
    for target, document in ((json_path, grading.as_dicts(records)), (gradescope, grading.gradescope(records))):
        if target is not None:
            write_bytes(target, (json.dumps(document, indent=2) + "\n").encode())
    if any(record.status in ("failed", "error", "timed out") for record in records):
        raise SystemExit(1)
