"""The 2016-2017 starter's ``cs231n/im2col.py``: :mod:`tinyconv.cs231n.im2col`, whose names it had."""

from tinyconv.cs231n.im2col import *  # noqa: F401,F403
