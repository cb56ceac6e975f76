"""Hyperparameter sweeps: an Optuna search whose trials are ``tinyconv train`` runs on Ray (``tinyconv sweep``).

Needs the 'sweep' extra (Ray, Optuna): ``pip install 'tinyconv[sweep]'``.

- ``space``: the search space, from a TOML file or a default;
- ``trial``: one trial, a train run that returns its files;
- ``study``: the Optuna study in ``OUT/study.db`` and what is written from it (trials.csv, best.json);
- ``cluster``: Ray: joining or starting a cluster, trials as tasks, the board they report their epochs to;
- ``pictures``: validation accuracy against each hyperparameter, and the optimization history.
"""
