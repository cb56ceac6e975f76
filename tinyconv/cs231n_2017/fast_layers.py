"""The 2016-2017 starter's ``cs231n/fast_layers.py``: :mod:`tinyconv.cs231n.fast_layers`, whose names it had."""

from tinyconv.cs231n.fast_layers import *  # noqa: F401,F403
