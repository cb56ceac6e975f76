"""The ``tinyconv`` command: train, evaluate, predict and explain, report, sweep hyperparameters, export, check
gradients, run demos.

Needs the 'cli' extra (click, tqdm, matplotlib, scikit-image, Pillow): ``pip install tinyconv[cli]``.
``_app.py`` holds the command group and what the commands share; each other module adds its commands.
"""

from . import evaluate, explain, export, grade, sweep, tools, train  # noqa: F401  (importing them registers their commands)
from ._app import main

__all__ = ["main"]
