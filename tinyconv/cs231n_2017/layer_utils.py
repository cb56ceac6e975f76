"""The 2016-2017 starter's ``cs231n/layer_utils.py``: the sandwich layers, with every layer of ``layers`` (the
2017 dropout among them) and ``fast_layers``, star-imported as the starter did."""

from tinyconv.cs231n.layer_utils import *  # noqa: F401,F403
from tinyconv.cs231n_2017.layers import *  # noqa: F401,F403
