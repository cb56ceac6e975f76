"""The cs231n assignment-2 starter of 2016 and 2017, on tinyconv: change ``cs231n.`` to ``tinyconv.cs231n_2017.``.

Those years' starter took dropout's ``p`` as the probability of DROPPING a unit (``mask = rand >= p``,
scaled by ``1 / (1 - p)``), and ``FullyConnectedNet(hidden_dims, input_dim, num_classes, dropout=0,
use_batchnorm=False, reg, weight_scale, dtype, seed)`` took ``dropout`` the same way (0: no dropout) and
batch normalization as a flag. From 2018 on, ``p`` and ``dropout`` are the probability of keeping a unit:
the same numbers mean the opposite, so a notebook of 2016 or 2017 imports this tree, and one of 2018 on
imports :mod:`tinyconv.cs231n`. Every other module here is :mod:`tinyconv.cs231n`'s, whose names those
years' modules had; ``layers``, ``layer_utils`` and ``classifiers.fc_net`` carry the 2017 dropout and
``FullyConnectedNet``, star imports included.
"""
