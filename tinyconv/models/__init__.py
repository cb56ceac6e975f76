"""Models: the cs231n ThreeLayerConvNet and FullyConnectedNet, and a configurable ConvNet.

Every model has ``params`` (dict name -> array), ``dtype``, ``reg``,
``loss(X, y=None)`` (scores, or ``(loss, grads)`` when labels are given),
``get_config()`` (JSON-serializable constructor kwargs) and
``state()`` / ``load_state(state)`` for non-parameter buffers.
"""

from tinyconv.models.convnet import ConvNet
from tinyconv.models.fc_net import FullyConnectedNet
from tinyconv.models.three_layer import ThreeLayerConvNet

__all__ = ["ThreeLayerConvNet", "FullyConnectedNet", "ConvNet"]
