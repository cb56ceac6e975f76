"""The starter's ``cs231n/optim.py``: the update rules of :mod:`tinyconv.optim`."""

import numpy as np

from tinyconv.optim import adam, rmsprop, sgd, sgd_momentum
