"""The 2016-2017 starter's ``cs231n/classifiers/cnn.py``: :class:`tinyconv.models.ThreeLayerConvNet`, with
every layer (the 2017 dropout among them)."""

from tinyconv.cs231n.classifiers.cnn import *  # noqa: F401,F403
from tinyconv.cs231n_2017.layer_utils import *  # noqa: F401,F403
