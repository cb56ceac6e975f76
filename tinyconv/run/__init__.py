"""A training run as a library: its settings (:mod:`tinyconv.run.settings`), the model and data they name,
and the run itself, which trains and writes a run folder (:mod:`tinyconv.run.training`). The command line
and the sweeps are built on it; it raises tinyconv's own errors, never the command line's.
"""
