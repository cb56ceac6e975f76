"""The starter's ``cs231n/classifiers/fc_net.py``: FullyConnectedNet and the 2019 TwoLayerNet, with every layer.

:class:`tinyconv.models.FullyConnectedNet` takes ``dropout_keep_ratio`` (2020 on) and the 2019
keyword ``dropout``, both the probability of keeping a unit. As in the starter, the module
star-imports ``layers`` and ``layer_utils``, so ``from tinyconv.cs231n.classifiers.fc_net import *``
brings every layer and sandwich.
"""

from builtins import object, range

import numpy as np

from tinyconv.cs231n.layers import *  # noqa: F401,F403
from tinyconv.cs231n.layer_utils import *  # noqa: F401,F403
from tinyconv.models import FullyConnectedNet, TwoLayerNet
