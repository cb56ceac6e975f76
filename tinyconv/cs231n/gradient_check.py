"""The starter's ``cs231n/gradient_check.py``: the numerical gradients of :mod:`tinyconv.gradcheck`.

``grad_check_sparse`` also takes a ``seed`` and returns the relative errors it prints.
"""

from __future__ import print_function

from builtins import range
from random import randrange

import numpy as np

from tinyconv.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    eval_numerical_gradient_blobs,
    eval_numerical_gradient_net,
    grad_check_sparse,
)

# Python 2's xrange, as the starter imported it from the 'future' package; on Python 3 it is range.
xrange = range
