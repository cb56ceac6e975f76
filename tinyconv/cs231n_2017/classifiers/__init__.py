"""The 2016-2017 starter's classifiers: ``cnn`` (ThreeLayerConvNet) and ``fc_net`` (FullyConnectedNet of 2017,
TwoLayerNet)."""
