"""Models: the cs231n ThreeLayerConvNet, FullyConnectedNet and (2019) TwoLayerNet, and a configurable ConvNet.

Every model has ``params`` (dict name -> array), ``dtype``, ``reg``,
``loss(X, y=None)`` (scores, or ``(loss, grads)`` when labels are given),
``get_config()`` (JSON-serializable constructor kwargs),
``state()`` / ``load_state(state)`` for non-parameter buffers, and
``from_config(config, params, state)``, which builds a model around given
parameters without drawing anything.

Each model is a list of ops (``model.ops``, see :mod:`tinyconv.ops`) that :class:`Model`'s one ``loss``
runs forward and back; a model class says which ops, in what order, with which parameter names, and how
it draws its initial weights.

Where the initial weights come from
-----------------------------------
- The cs231n classes, ``ThreeLayerConvNet`` and ``FullyConnectedNet``, draw
  them from NumPy's global RNG, as the starter code does, so that a notebook's
  ``np.random.seed(231)`` reproduces its printed losses.
  ``FullyConnectedNet``'s ``seed`` is the dropout seed, as in cs231n, not an
  initialization seed.
- ``ConvNet``, tinyconv's own, draws them from a generator seeded with its
  ``seed`` and leaves the global RNG alone.
- Loading a model (``from_config``, ``tinyconv.serialization.load_model``)
  draws no random numbers at all.
"""

from tinyconv.models._base import Model
from tinyconv.models.convnet import ConvNet
from tinyconv.models.fc_net import FullyConnectedNet
from tinyconv.models.three_layer import ThreeLayerConvNet
from tinyconv.models.two_layer import TwoLayerNet

__all__ = ["Model", "ThreeLayerConvNet", "FullyConnectedNet", "TwoLayerNet", "ConvNet"]
