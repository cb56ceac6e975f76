"""The cs231n assignment-2 starter's module tree, on tinyconv: change ``cs231n.`` to ``tinyconv.cs231n.``.

Each module here has the public names the starter's module of the same name had in the course years
2019 to 2024, the names its star imports bring in included, so that a notebook's imports, star
imports among them, keep working after that one change::

    from tinyconv.cs231n.classifiers.fc_net import *
    from tinyconv.cs231n.data_utils import get_CIFAR10_data
    from tinyconv.cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
    from tinyconv.cs231n.solver import Solver

The modules hold no layers of their own: every name is tinyconv's implementation (``tinyconv.layers``,
``tinyconv.models``, ``tinyconv.solver``, ...) or a thin face over it where the starter's name or
signature differs. Where the starter differs from tinyconv in behaviour, the module docstrings say so.
"""
