"""The starter's ``cs231n/vis_utils.py``: the image grids of :mod:`tinyconv.viz`."""

from builtins import range
from math import ceil, sqrt

import numpy as np

from tinyconv.viz import vis_grid, vis_nn, visualize_grid

# Python 2's xrange, as the starter imported it from the 'future' package; on Python 3 it is range.
xrange = range
