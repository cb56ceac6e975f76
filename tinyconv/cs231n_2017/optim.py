"""The 2016-2017 starter's ``cs231n/optim.py``: :mod:`tinyconv.cs231n.optim`, whose names it had."""

from tinyconv.cs231n.optim import *  # noqa: F401,F403
