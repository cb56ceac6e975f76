"""Datasets: the bundled UCI digits, CIFAR-10 (python format), Fashion-MNIST (IDX files) and Tiny ImageNet.

Every ``get_*_data`` returns the cs231n data dict: ``X_train, y_train, X_val, y_val, X_test,
y_test`` with images in NCHW, the mean training image subtracted (unless ``subtract_mean=False``) and
the requested float dtype, plus ``mean_image``: the float64 (C, H, W) image subtracted, which new
images need too, or None when none was. ``load_tiny_imagenet`` follows cs231n's own loader instead:
its ``mean_image`` has the data's dtype and is always subtracted.
"""

from ._prepare import DataSourceMissing
from .cifar10 import load_CIFAR10, load_CIFAR_batch, get_CIFAR10_data
from .digits import load_digits, get_digits_data
from .fashion_mnist import load_fashion_mnist, get_fashion_mnist_data, read_idx
from .tiny_imagenet import load_tiny_imagenet

__all__ = [
    "DataSourceMissing",
    "load_CIFAR10", "load_CIFAR_batch", "get_CIFAR10_data",
    "load_digits", "get_digits_data",
    "load_fashion_mnist", "get_fashion_mnist_data", "read_idx",
    "load_tiny_imagenet",
]
