"""The 2016-2017 starter's ``cs231n/im2col_cython.py``: :mod:`tinyconv.cs231n.im2col_cython`, whose names it had."""

from tinyconv.cs231n.im2col_cython import *  # noqa: F401,F403
