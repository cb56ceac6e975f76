"""The starter's ``cs231n/classifiers/cnn.py``: :class:`tinyconv.models.ThreeLayerConvNet`, with every layer.

As in the starter, the module star-imports ``layers``, ``fast_layers`` and ``layer_utils``, so
``from tinyconv.cs231n.classifiers.cnn import *`` brings them all.
"""

from builtins import object

import numpy as np

from tinyconv.cs231n.layers import *  # noqa: F401,F403
from tinyconv.cs231n.fast_layers import *  # noqa: F401,F403
from tinyconv.cs231n.layer_utils import *  # noqa: F401,F403
from tinyconv.models import ThreeLayerConvNet
