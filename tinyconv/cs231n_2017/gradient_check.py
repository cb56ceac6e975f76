"""The 2016-2017 starter's ``cs231n/gradient_check.py``: :mod:`tinyconv.cs231n.gradient_check`, whose names it had."""

from tinyconv.cs231n.gradient_check import *  # noqa: F401,F403
