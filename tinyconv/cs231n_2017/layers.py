"""The 2016-2017 starter's ``cs231n/layers.py``: :mod:`tinyconv.cs231n.layers`, with dropout's ``p`` the
probability of dropping a unit (:func:`tinyconv.layers.dropout_forward_2017`)."""

from tinyconv.cs231n.layers import *  # noqa: F401,F403
from tinyconv.layers import dropout_backward  # noqa: F401
from tinyconv.layers import dropout_forward_2017 as dropout_forward  # noqa: F401
