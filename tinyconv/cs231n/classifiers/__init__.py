"""The starter's classifiers: ``cnn`` (ThreeLayerConvNet) and ``fc_net`` (FullyConnectedNet, TwoLayerNet)."""
