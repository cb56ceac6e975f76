"""tinyconv: convolutional neural networks in NumPy, naive and fast, checked against PyTorch."""

__version__ = "0.1.0"
