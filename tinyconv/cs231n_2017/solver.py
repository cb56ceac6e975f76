"""The 2016-2017 starter's ``cs231n/solver.py``: :mod:`tinyconv.cs231n.solver`, whose names it had."""

from tinyconv.cs231n.solver import *  # noqa: F401,F403
