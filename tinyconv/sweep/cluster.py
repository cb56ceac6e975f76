"""The Ray side of a sweep: reaching a cluster (or starting a local instance), running each trial as a Ray
task, and the board through which running trials report their epochs to the driver, which alone holds the
Optuna study.

tinyconv travels with the job (Ray's ``py_modules``), so the cluster's nodes need Python and Ray of the
driver's versions and NumPy, nothing of tinyconv; the data goes through Ray's object store.
"""

import asyncio
import contextlib
import logging
import signal
import socket

from .trial import run_trial

# A trial's BLAS and OpenMP threads: as many as the CPUs its task holds.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Seconds to wait for the head node's port to answer before calling the address unreachable.
CONNECT_TIMEOUT = 5.0
# The local instance's object store holds the data once and the trials' files on their way back.
_MIN_OBJECT_STORE = 100 * 2**20


class ClusterError(RuntimeError):
    """No Ray cluster could be reached or started; the message says why and what to do."""


def parse_address(address):
    """``(host, port)`` of a Ray address ``HOST:PORT`` (the GCS address ``ray start --head`` prints); ValueError
    for anything else."""
    host, colon, port = address.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r} is not HOST:PORT, the address that `ray start --head` prints "
                         "(e.g. 10.0.0.5:6379)")
    return host.strip("[]"), int(port)


def check_reachable(address, timeout=CONNECT_TIMEOUT):
    """Raise ClusterError unless something accepts a connection at ``address`` within ``timeout`` seconds (Ray
    itself would retry for a minute before giving up)."""
    host, port = parse_address(address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        reason = "no answer" if isinstance(error, TimeoutError) else error.strerror or str(error)
        raise ClusterError(f"no Ray cluster answers at {address} ({reason} within {timeout:g} s). Start one there "
                           f"with `ray start --head --port {port}`, or check --address / RAY_ADDRESS; without "
                           "either, the sweep starts Ray on this machine.") from None


def connect(address, threads, data_bytes):
    """Join the Ray cluster at ``address`` (HOST:PORT), or start a local instance on this machine's cores when it
    is None (its object store sized for ``data_bytes`` of data); return the cluster's CPU count.

    The job's workers get tinyconv and ``threads`` BLAS threads through the runtime environment. Raises
    ClusterError when the cluster cannot be joined; :func:`check_reachable` first says so faster when
    nothing answers at the address.
    """
    import ray

    import tinyconv

    runtime_env = {"py_modules": [tinyconv], "env_vars": {name: str(threads) for name in THREAD_VARIABLES}}
    common = dict(runtime_env=runtime_env, log_to_driver=False, logging_level=logging.WARNING)
    try:
        if address is None:
            ray.init(address="local", include_dashboard=False,
                     object_store_memory=max(_MIN_OBJECT_STORE, 2 * data_bytes), **common)
        else:
            ray.init(address=address, **common)
    except Exception as error:  # Ray raises ConnectionError, RuntimeError and errors of its own here
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise ClusterError(f"cannot join {where}: {str(error).splitlines()[0]}") from error
    return int(ray.cluster_resources().get("CPU", 0))


class Board:
    """Where running trials report each epoch's validation accuracy and wait for the driver's answer: True to
    prune the trial, False to go on. It runs as an asynchronous Ray actor, so that many trials wait at once."""

    def __init__(self):
        self._reports = []
        self._arrived = asyncio.Event()
        self._waiting = {}

    async def report(self, number, epoch, val_acc):
        """Called by trial ``number`` after ``epoch``; returns the driver's answer."""
        answer = asyncio.get_running_loop().create_future()
        self._waiting[number, epoch] = answer
        self._reports.append((number, epoch, val_acc))
        self._arrived.set()
        return await answer

    async def next_reports(self):
        """The reports that arrived since the last call, as (number, epoch, val_acc); waits for one."""
        await self._arrived.wait()
        self._arrived.clear()
        reports, self._reports = self._reports, []
        return reports

    async def answer(self, answers):
        """Hand the driver's answers, a dict (number, epoch) -> prune, to the trials waiting for them."""
        for key, prune in answers.items():
            self._waiting.pop(key).set_result(prune)


def _trial_task(board, number, options, data, data_options, dtype, seed, threads):
    """Trial ``number`` in a Ray worker, on ``threads`` threads, reporting its epochs to ``board``."""
    import ray

    from .. import keep_freed_memory, set_num_threads

    set_num_threads(threads)
    keep_freed_memory()  # the worker process is the sweep's own, as the tinyconv command's process is
    return run_trial(options, data, data_options, dtype, seed,
                     lambda epoch, val_acc: ray.get(board.report.remote(number, epoch, val_acc)))


def _lost(error):
    """The result of a trial whose task returned none: its worker or node died, or the task could not start."""
    return {"state": "fail", "metrics": None, "files": {}, "seconds": 0.0,
            "reason": f"its Ray task ended without a result: {type(error).__name__}: {str(error).splitlines()[0]}"}


@contextlib.contextmanager
def _deferred_interrupt():
    """Hold Ctrl-C back until the block has run, then raise KeyboardInterrupt: so that a trial is launched and
    recorded whole (its files and its state in the study) or not at all."""
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def drive(study, space, count, parallel, trial_args, finish):
    """Run ``count`` trials of ``study`` over the ``space`` as Ray tasks, at most ``parallel`` at once.

    ``trial_args`` holds run_trial's arguments but the options: ``fixed`` (the options every trial shares),
    ``data`` (an object reference), ``data_options``, ``dtype``, ``seed`` and ``threads`` (the CPUs of a task).
    ``finish(trial, result)`` records each trial as it ends. On Ctrl-C the running trials are cancelled and
    recorded as interrupted, and KeyboardInterrupt is raised again.
    """
    import ray

    # Here and not at the top: the workers import this module, and need neither Optuna nor the TOML reader.
    from .study import mark_interrupted

    args = dict(trial_args)
    fixed, threads = args.pop("fixed"), args.pop("threads")
    task = ray.remote(num_cpus=threads, max_retries=0)(_trial_task)
    board = ray.remote(num_cpus=0)(Board).remote()
    distributions = {name: dim.distribution() for name, dim in space.items()}
    running, launched = {}, 0
    reports = board.next_reports.remote()
    try:
        while launched < count or running:
            while launched < count and len(running) < parallel:
                with _deferred_interrupt():
                    trial = study.ask(distributions)
                    options = {**fixed, **trial.params}
                    running[task.remote(board, trial.number, options, threads=threads, **args)] = trial
                    launched += 1
            [ready], _ = ray.wait([reports, *running], num_returns=1)
            if ready == reports:
                trials = {trial.number: trial for trial in running.values()}
                answers = {}
                for number, epoch, val_acc in ray.get(reports):
                    if number in trials:  # else its task has ended since (its worker died) and no one waits
                        trials[number].report(val_acc, epoch)
                        answers[number, epoch] = trials[number].should_prune()
                board.answer.remote(answers)
                reports = board.next_reports.remote()
                continue
            try:
                result = ray.get(ready)
            except ray.exceptions.RayError as error:
                result = _lost(error)
            with _deferred_interrupt():
                finish(running.pop(ready), result)
    except KeyboardInterrupt:
        for ref, trial in running.items():
            ray.cancel(ref, force=True)
            mark_interrupted(study, trial, "interrupted: the sweep was stopped (Ctrl-C)")
        raise
