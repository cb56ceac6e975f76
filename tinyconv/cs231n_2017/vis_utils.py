"""The 2016-2017 starter's ``cs231n/vis_utils.py``: :mod:`tinyconv.cs231n.vis_utils`, whose names it had."""

from tinyconv.cs231n.vis_utils import *  # noqa: F401,F403
