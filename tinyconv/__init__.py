"""tinyconv: convolutional neural networks in NumPy, naive and fast, checked against PyTorch."""

__version__ = "0.3.0"

from ._allocator import keep_freed_memory  # noqa: E402
from ._parallel import get_num_threads, num_threads, set_num_threads  # noqa: E402

__all__ = ["get_num_threads", "keep_freed_memory", "num_threads", "set_num_threads", "__version__"]
