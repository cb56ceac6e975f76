"""Taking models out and bringing them in: ONNX export and PyTorch interchange.

- ``to_onnx(model, path, metadata=None, dtype=None)``: write any tinyconv model as an ONNX graph for
  onnxruntime and ONNX viewers, its preprocessing and class names included (``onnx_export``; needs the
  ``onnx`` package, ``pip install 'tinyconv[onnx]'``). ``onnx_model`` builds the same graph without writing it.
- ``to_torch(model)``: the model as a PyTorch ``nn.Module`` with the same weights and outputs;
  ``from_torch(module, input_shape)``: an ``nn.Sequential`` of supported layers as a ConvNet;
  ``ResidualBlock``: the module that stands for a residual block (``pytorch``; needs PyTorch).

Importing this package imports neither onnx nor PyTorch: each is imported the first time one of its names
is looked up here.
"""

import importlib

_NAMES = {"to_onnx": "onnx_export", "onnx_model": "onnx_export", "to_torch": "pytorch", "from_torch": "pytorch",
          "ResidualBlock": "pytorch"}

__all__ = sorted(_NAMES)


def __getattr__(name):
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)


def __dir__():
    return sorted(set(globals()) | set(_NAMES))
