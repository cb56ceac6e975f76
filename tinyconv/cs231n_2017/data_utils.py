"""The 2016-2017 starter's ``cs231n/data_utils.py``: :mod:`tinyconv.cs231n.data_utils`, whose names it had."""

from tinyconv.cs231n.data_utils import *  # noqa: F401,F403
