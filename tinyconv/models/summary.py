"""A model's summary as a table, in the manner of Keras' ``model.summary()``: each op with its output shape,
its parameters and its multiply-adds, then the totals."""

import numpy as np


def summary_text(model):
    """The table of ``model.summary()`` with the input and the totals (parameters, their memory, and the
    multiply-adds of one sample's forward pass)."""
    rows = model.summary()
    header = ("op", "output", "params", "multiply-adds")
    table = [header, *((row["op"], "x".join(map(str, row["output"])), f"{row['params']:,}",
                        f"{row['multiply_adds']:,}") for row in rows)]
    widths = [max(len(line[column]) for line in table) for column in range(4)]
    lines = [f"{type(model).__name__}, input {'x'.join(map(str, _input_shape(model)))}, "
             f"{np.dtype(model.dtype).name}"]
    for index, line in enumerate(table):
        lines.append("  ".join(cell.ljust(width) if column < 2 else cell.rjust(width)
                               for column, (cell, width) in enumerate(zip(line, widths))).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    params = sum(row["params"] for row in rows)
    bytes_ = params * np.dtype(model.dtype).itemsize
    lines.append(f"{params:,} parameters ({bytes_ / 2**20:.2f} MiB), "
                 f"{sum(row['multiply_adds'] for row in rows):,} multiply-adds per image")
    return "\n".join(lines)


def _input_shape(model):
    shape = model.get_config()["input_dim"]
    return tuple(shape) if isinstance(shape, list) else (shape,)


__all__ = ["summary_text"]
