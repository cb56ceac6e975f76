"""The starter's ``cs231n/solver.py``: :class:`tinyconv.solver.Solver`.

It takes the starter's keyword arguments and has its attributes, and more (``seed``, checkpoints
that resume exactly). A NaN or infinite loss stops ``train()`` with a RuntimeWarning and
``solver.diverged`` set, so that a loop over hyperparameters goes on; ``raise_on_divergence=True``
raises instead. Checkpoints are ``.npz`` files, not pickles.
"""

from __future__ import division, print_function

import os
import pickle
from builtins import object, range

import numpy as np

from tinyconv.cs231n import optim
from tinyconv.cs231n._optional import standard_library
from tinyconv.solver import Solver
