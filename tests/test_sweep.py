"""tinyconv sweep: the search space, one trial, and whole sweeps on a real Ray cluster (a head node started on
127.0.0.1 for this module) and on the local instance that the command starts itself."""

import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from tinyconv.cli._app import load_dataset
from tinyconv.recipes import DATASETS
from tinyconv.run.settings import resolve
from tinyconv.sweep.space import Dimension, default_space
from tinyconv.sweep.trial import run_trial

from .helpers import invoke
from .oracle import optuna, require

SMALL = ["--num-val", "100", "--num-test", "50"]
DATA_OPTIONS = {"dataset": "digits", "num_train": None, "num_val": 100, "num_test": 50}


@pytest.fixture
def sweep_extra():
    """The sweep command needs Ray and Optuna before it reads anything: without them a test of it skips (or,
    with $TINYCONV_REQUIRE_ORACLE, fails)."""
    require("optuna", "ray")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_space(path, text):
    path.write_text(text)
    return path


def _rows(out):
    with open(out / "trials.csv", newline="") as file:
        return list(csv.DictReader(file))


# --- the search space and one trial, without Ray ---------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("[lr]\nlog_uniform = [1e-4 1e-2]\n", "line 2: "),
    ("[lrr]\nlog_uniform = [1e-4, 1e-2]\n", "line 1, [lrr]: not a train option that a sweep searches"),
    ("[reg]\nuniform = [0.0, 0.01]\n\n[seed]\nchoice = [1, 2]\n", "line 4, [seed]: not a train option"),
    ("[lr]\nlog_uniform = [0.0, 1e-2]\n", "line 2, [lr]: 0.0: the value must be a finite number > 0"),
    ("[reg]\nlog_uniform = [0.0, 1e-2]\n", "line 2, [reg]: log_uniform needs bounds above 0"),
    ("[lr]\nlog_uniform = [1e-2, 1e-4]\n", "line 2, [lr]: the low bound must be below the high one"),
    ("# the rate\n[lr]\nnormal = [1e-3, 1e-4]\n", "line 3, [lr]: unknown distribution 'normal'"),
    ("[lr]\nuniform = [1e-4, 1e-2]\nchoice = [1e-3]\n", "line 3, [lr]: give one distribution, not 2"),
    ("[lr]\nuniform = [1e-4, 1e-2, 1e-1]\n", "line 2, [lr]: uniform takes two bounds"),
    ("[batch-size]\nuniform = [16, 64]\n", "line 2, [batch-size]: batch_size takes int or choice, not uniform"),
    ("[batch_size]\nchoice = [32, 64.5]\n", "line 2, [batch_size]: batch_size takes an integer, got 64.5"),
    ("[epochs]\nint = [0, 3]\n", "line 2, [epochs]: 0: the value must be a positive integer, got 0"),
    ("lr = 0.01\n", "line 1, [lr]: give a table with one distribution"),
    ('model = {choice = ["c8p-f32", "c8q"]}\n', "line 1, [model]: 'c8q': bad token 'c8q'"),
    ('[update-rule]\nchoice = ["adam", "adagrad"]\n', "line 2, [update-rule]: 'adagrad': 'adagrad' is not one of"),
    ('[augment]\nchoice = ["crop2", "rotate"]\n', "line 2, [augment]: 'rotate': 'rotate' is not none, cropN"),
    ("[lr]\nchoice = [1e-3, 1e-3]\n", "line 2, [lr]: the choices [0.001, 0.001] repeat a value"),
    ("[lr]\nlog_uniform = [1e-4, 1e-2]\n[batch_size]\nchoice = [32]\n[batch-size]\nchoice = [64]\n",
     "line 5, [batch-size]: batch_size is searched twice"),
    ("# nothing here\n", "searches no option"),
])
def test_a_bad_space_file_is_refused_naming_the_line_and_the_key(sweep_extra, tmp_path, text, message):
    space = _write_space(tmp_path / "space.toml", text)
    result = invoke("sweep", "--trials", "2", "--space", space, *SMALL, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "Invalid value for --space" in result.output and str(space) in result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_a_syntax_error_shows_the_line_that_holds_it(sweep_extra, tmp_path):
    space = _write_space(tmp_path / "space.toml", "[lr]\nlog_uniform = [1e-4, 1e-2]\n[reg]\nuniform = 0.0, 0.01]\n")
    result = invoke("sweep", "--trials", "2", "--space", space, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "line 4" in result.output and "'uniform = 0.0, 0.01]'" in result.output


def test_an_option_cannot_be_both_given_and_searched(sweep_extra, tmp_path):
    space = _write_space(tmp_path / "space.toml", "[lr]\nlog_uniform = [1e-4, 1e-2]\n")
    result = invoke("sweep", "--trials", "2", "--space", space, "--lr", "0.01", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "--lr is given and searched in" in result.output


def test_the_default_space_centres_on_the_recipe_and_leaves_given_options_alone():
    digits = resolve(DATASETS["digits"].recipe, {})
    assert default_space(digits, {}) == {
        "lr": Dimension("lr", "log_uniform", (3e-4, 3e-2)),
        "reg": Dimension("reg", "log_uniform", (1e-6, 1e-2)),
        "batch_size": Dimension("batch_size", "choice", (25, 50, 100))}
    fashion = resolve(DATASETS["fashion-mnist"].recipe, {"lr": 1e-3})
    space = default_space(fashion, {"lr": 1e-3})
    assert list(space) == ["weight_decay", "batch_size"]
    assert space["weight_decay"].values == pytest.approx((5e-5, 5e-3))


def test_without_ray_and_optuna_the_command_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    result = invoke("sweep", "--trials", "2", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "pip install 'tinyconv[sweep]'" in result.output


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", None, "float32", None, 100, 50)
    for value in data.values():
        value.flags.writeable = False  # as a Ray worker gets them from the object store
    return data


def test_a_trial_is_a_train_run_and_the_report_can_prune_it(digits):
    reports = []

    def report(epoch, val_acc):
        reports.append((epoch, val_acc))
        return epoch == 2

    options = {"model": "c8p-f32", "epochs": 4, "lr": 3e-3}
    result = run_trial(options, digits, DATA_OPTIONS, "float32", 0, report)
    assert result["state"] == "pruned" and result["reason"] is None
    assert [epoch for epoch, _ in reports] == [1, 2] and result["metrics"]["epochs"] == 2
    assert [val_acc for _, val_acc in reports] == result["metrics"]["val_acc_history"][1:]
    assert sorted(result["files"]) == ["metrics.csv", "metrics.json", "model.npz"] and result["seconds"] > 0
    metrics = json.loads(result["files"]["metrics.json"])
    assert metrics["stopped_early"] == 2 and metrics["options"]["lr"] == 3e-3 and metrics["options"]["seed"] == 0

    # Told to stop after its last epoch, a trial has completed all the same.
    whole = run_trial({**options, "epochs": 2}, digits, DATA_OPTIONS, "float32", 0, lambda epoch, val_acc: epoch == 2)
    assert whole["state"] == "complete" and whole["metrics"]["val_acc"] == result["metrics"]["val_acc"]


@pytest.mark.parametrize("options, reason", [
    ({"model": "c8p-f32", "update_rule": "sgd", "lr": 1e6, "epochs": 1}, "Training diverged"),
    ({"model": "c8p-f32", "update_rule": "sgd", "weight_decay": 0.1}, "decoupled weight decay goes with Adam"),
    ({"model": "c8p-c8p-c8p-c8p", "epochs": 1}, "layer 4 (c8p) pools a feature map of height 1"),
])
def test_a_trial_that_fails_says_why_and_returns_no_files(digits, options, reason):
    result = run_trial(options, digits, DATA_OPTIONS, "float32", 0, lambda epoch, val_acc: False)
    assert result["state"] == "fail" and reason in result["reason"]
    assert result["files"] == {} and result["metrics"] is None


def test_a_resumed_study_fails_what_a_killed_sweep_left_running_and_draws_new_points(sweep_extra, tmp_path):
    from tinyconv.sweep.study import finished_trials, open_study

    space = {"lr": Dimension("lr", "log_uniform", (1e-4, 1e-2))}
    fixed = {"dataset": "digits", "seed": 0}
    study = open_study(tmp_path, space, fixed, "random", "median", 0, 4)
    distributions = {"lr": space["lr"].distribution()}
    first = [study.ask(distributions) for _ in range(2)]
    study.tell(first[0], 0.5)  # the second is left running, as by a sweep killed with SIGKILL
    study = open_study(tmp_path, space, fixed, "random", "median", 0, 4)
    left = study.trials[1]
    assert left.state.name == "FAIL" and left.user_attrs["interrupted"] is True
    assert "stopped before it finished" in left.user_attrs["fail_reason"]
    assert [trial.number for trial in finished_trials(study)] == [0]
    # Seeded with the seed plus the trials so far, the resumed sampler does not repeat the first draws.
    again = study.ask(distributions)
    assert again.params["lr"] not in [trial.params["lr"] for trial in first]


@pytest.mark.parametrize("address, message", [
    (None, "no Ray cluster answers at 127.0.0.1:{port}"),
    ("localhost", "'localhost' is not HOST:PORT"),
])
def test_an_unreachable_address_is_a_usage_error_not_a_wait(sweep_extra, tmp_path, address, message):
    port = _free_port()  # nothing listens there
    environment = {**os.environ, "RAY_ADDRESS": address or f"127.0.0.1:{port}"}
    # A process of its own, so that a sweep that waited on the address (as Ray's own connect retries
    # would, for minutes) fails the test instead of holding up the suite.
    result = subprocess.run(
        [sys.executable, "-m", "tinyconv", "sweep", "--trials", "2", "--model", "c8p-f32", "--epochs", "1", *SMALL,
         "--out", str(tmp_path / "out")],
        env=environment, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Invalid value for --address" in result.stderr and message.format(port=port) in result.stderr
    assert not (tmp_path / "out").exists()


# --- whole sweeps on Ray ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_env():
    """The environment of the sweeps under test: Ray on the loopback interface only, its files in a folder of
    its own, and token authentication with a token of its own (nothing is written to ~/.ray)."""
    require("ray", "optuna")  # a sweep needs both
    # A short folder: Ray's socket paths inside it must stay under the 107 characters a socket name can have.
    folder = Path(tempfile.mkdtemp(prefix="tcray"))
    token = folder / "token"
    token.write_text(secrets.token_hex(32))
    env = {key: value for key, value in os.environ.items() if key != "RAY_ADDRESS"}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token), RAY_TMPDIR=str(folder),
               # Ray otherwise swaps 127.0.0.1 for the machine's own address.
               RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0", PYTHONUNBUFFERED="1")
    yield env
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def head_node(ray_env):
    """A Ray head node on 127.0.0.1 with ports of its own and 2 CPUs; its address. Stopped afterwards, whatever
    happened, by ending the processes it started (never with `ray stop`, which stops every Ray on the machine)."""
    port = _free_port()
    ports = {flag: _free_port() for flag in ("--node-manager-port", "--object-manager-port", "--dashboard-port",
                                              "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port",
                                              "--runtime-env-agent-port", "--metrics-export-port")}
    command = [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--node-ip-address",
               "127.0.0.1", "--port", str(port), "--num-cpus", "2", "--object-store-memory", str(200 * 2**20),
               "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", ray_env["RAY_TMPDIR"],
               *(str(item) for pair in ports.items() for item in pair)]
    log = Path(ray_env["RAY_TMPDIR"]) / "head.log"
    with open(log, "w") as output:
        head = subprocess.Popen(command, env=ray_env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in log.read_text():
            assert head.poll() is None and time.monotonic() < deadline, f"ray start failed:\n{log.read_text()}"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()  # ray start --block stops the processes it started on SIGTERM
        try:
            head.wait(60)
        finally:
            try:
                os.killpg(head.pid, signal.SIGKILL)  # whatever of its own process group is left
            except ProcessLookupError:
                pass


def sweep(env, *args, timeout=240):
    """Run ``tinyconv sweep`` in a process of its own, as a user would."""
    return subprocess.run([sys.executable, "-m", "tinyconv", "sweep", *(str(arg) for arg in args)], env=env,
                          capture_output=True, text=True, timeout=timeout)


CLUSTER_SPACE = """\
[lr]
log_uniform = [3e-4, 3e-2]
[batch-size]
choice = [50, 100]
[epochs]
int = [1, 2]
"""


@pytest.fixture(scope="module")
def cluster_sweep(tmp_path_factory, ray_env, head_node):
    """A 4-trial sweep, 2 at a time, on the head node; returns its folder and the command line that ran it."""
    folder = tmp_path_factory.mktemp("cluster")
    space = _write_space(folder / "space.toml", CLUSTER_SPACE)
    args = ["--space", space, "--model", "c8p-f32", *SMALL, "--parallel", "2", "--address", head_node,
            "--out", folder / "out"]
    result = sweep(ray_env, "--trials", "4", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"on the Ray cluster at {head_node}" in result.stdout
    return folder / "out", args


def _snapshot(folder):
    return {path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_sweep_on_a_cluster_records_every_trial(cluster_sweep):
    out, _ = cluster_sweep
    rows = _rows(out)
    assert [int(row["number"]) for row in rows] == [0, 1, 2, 3]
    study = optuna.load_study(study_name="tinyconv", storage=f"sqlite:///{out / 'study.db'}")
    for row, trial in zip(rows, study.trials):
        assert row["state"] == trial.state.name == "COMPLETE"
        assert 3e-4 <= float(row["lr"]) <= 3e-2 and row["batch_size"] in ("50", "100") and row["epochs"] in ("1", "2")
        assert float(row["val_acc"]) == trial.value and float(row["seconds"]) > 0
        # The trial is the train run of its options, and each of its epochs was reported to the study.
        metrics = json.loads((out / "trials" / f"{trial.number:04d}" / "metrics.json").read_text())
        assert metrics["options"]["lr"] == trial.params["lr"] and metrics["epochs"] == trial.params["epochs"]
        assert metrics["val_acc"] == trial.value and metrics["options"]["model"] == "c8p-f32"
        assert trial.intermediate_values == {epoch: metrics["val_acc_history"][epoch]
                                             for epoch in range(1, metrics["epochs"] + 1)}


def test_best_json_names_the_best_trial_and_train_config_retrains_it(cluster_sweep, tmp_path):
    out, _ = cluster_sweep
    best = json.loads((out / "best.json").read_text())
    rows = _rows(out)
    top = max(rows, key=lambda row: float(row["val_acc"]))
    assert best["trial"] == int(top["number"]) and best["val_acc"] == float(top["val_acc"])
    assert set(best["hyperparameters"]) == {"lr", "batch_size", "epochs"}
    assert Path(best["model_file"]) == out / "trials" / f"{best['trial']:04d}" / "model.npz"
    assert Path(best["model_file"]).is_file()
    assert best["options"] == {"dataset": "digits", "num_val": 100, "num_test": 50, "dtype": "float32",
                               "model": "c8p-f32", "seed": 0, **best["hyperparameters"]}
    result = invoke("train", "--config", out / "best.json", "--out", tmp_path / "retrained")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "retrained" / "metrics.json").read_text())["val_acc"] == best["val_acc"]
    for picture in ("tuning.png", "history.png"):
        assert (out / picture).read_bytes()[:4] == b"\x89PNG"


def test_running_again_resumes_the_study_and_keeps_the_finished_trials(cluster_sweep, ray_env):
    out, args = cluster_sweep
    before = _snapshot(out / "trials")
    result = sweep(ray_env, "--trials", "6", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sweep: 2 trials" in result.stdout
    rows = _rows(out)
    assert [int(row["number"]) for row in rows] == list(range(6))
    after = _snapshot(out / "trials")
    assert {path: after[path] for path in before} == before
    assert len(after) == 6 * 3
    # Asked for no more than the study holds, the sweep has nothing to run.
    result = sweep(ray_env, "--trials", "6", *args)
    assert result.returncode == 0 and "already holds 6 trials" in result.stdout
    assert _snapshot(out / "trials") == after


def test_another_search_space_is_refused_on_an_existing_study(cluster_sweep, ray_env, tmp_path):
    out, args = cluster_sweep
    changed = _write_space(tmp_path / "space.toml", CLUSTER_SPACE.replace("[50, 100]", "[25, 50]"))
    before = (out / "study.db").read_bytes()
    result = invoke("sweep", "--trials", "8", *args[2:], "--space", changed)
    assert result.exit_code == 2
    assert "holds a sweep that this command would not continue" in result.output
    assert "batch_size: choice [50, 100]" in result.output and "batch_size: choice [25, 50]" in result.output
    assert "give a new --out" in result.output
    result = invoke("sweep", "--trials", "8", *args, "--model", "c16p-f32")
    assert result.exit_code == 2 and "--model c8p-f32 (now c16p-f32)" in result.output
    assert (out / "study.db").read_bytes() == before


def test_a_diverging_trial_fails_and_the_sweep_goes_on(tmp_path, ray_env, head_node):
    space = _write_space(tmp_path / "space.toml", "[lr]\nchoice = [1e6, 0.05]\n")
    out = tmp_path / "out"
    result = sweep(ray_env, "--trials", "4", "--space", space, "--update-rule", "sgd", "--model", "c8p-f32",
                   "--epochs", "1", *SMALL, "--sampler", "random", "--seed", "0", "--address", head_node, "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = _rows(out)
    assert len(rows) == 4
    states = {row["lr"]: row["state"] for row in rows}
    assert states == {"1000000.0": "FAIL", "0.05": "COMPLETE"}, "the seed no longer draws both rates: choose another"
    for row in rows:
        folder = out / "trials" / f"{int(row['number']):04d}"
        if row["state"] == "FAIL":
            assert "Training diverged" in row["fail_reason"] and not folder.exists()
        else:
            assert row["fail_reason"] == "" and (folder / "model.npz").is_file()
    assert "failed: Training diverged" in result.stdout


def test_the_pruner_stops_trials_that_fall_behind(tmp_path, ray_env, head_node):
    space = _write_space(tmp_path / "space.toml", "[lr]\nchoice = [3e-3, 1e-6]\n")
    out = tmp_path / "out"
    result = sweep(ray_env, "--trials", "4", "--space", space, "--model", "c8p-f32", "--epochs", "3", *SMALL,
                   "--sampler", "random", "--seed", "0", "--prune-after", "1", "--parallel", "1",
                   "--address", head_node, "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = _rows(out)
    assert any(row["state"] == "PRUNED" for row in rows), "the seed draws no slow trial after a fast one"
    study = optuna.load_study(study_name="tinyconv", storage=f"sqlite:///{out / 'study.db'}")
    for row, trial in zip(rows, study.trials):
        if row["state"] == "PRUNED":
            # Behind the completed trials' median at its first epoch, it stopped there; its run is kept.
            assert trial.params["lr"] == 1e-6 and row["epochs"] == "1" and list(trial.intermediate_values) == [1]
            completed = [other.intermediate_values[1] for other in study.trials[:trial.number]
                         if other.state.name == "COMPLETE"]
            assert trial.intermediate_values[1] < np.median(completed)
            assert json.loads((out / "trials" / f"{trial.number:04d}" / "metrics.json").read_text())["epochs"] == 1
        else:
            assert row["state"] == "COMPLETE" and row["epochs"] == "3"


def test_ctrl_c_keeps_the_finished_trials_and_the_same_command_goes_on(tmp_path, ray_env, head_node):
    out = tmp_path / "out"
    args = ["--trials", "4", "--model", "three-layer", "--epochs", "12", *SMALL, "--parallel", "1",
            "--address", head_node, "--out", out]
    driver = subprocess.Popen([sys.executable, "-m", "tinyconv", "sweep", *(str(arg) for arg in args)], env=ray_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "trials" / "0000" / "metrics.json").exists():
            assert driver.poll() is None and time.monotonic() < deadline, driver.communicate()
            time.sleep(0.1)
        driver.send_signal(signal.SIGINT)
        stdout, stderr = driver.communicate(timeout=60)
    finally:
        driver.kill()
    assert driver.returncode == 130, stdout + stderr
    assert "Interrupted" in stderr and "Run the same command again" in stderr
    rows = _rows(out)
    assert rows[0]["state"] == "COMPLETE" and len(rows) < 4
    assert all(row["state"] == "FAIL" and "interrupted" in row["fail_reason"] for row in rows[1:] if
               row["state"] != "COMPLETE")
    finished = _snapshot(out / "trials")

    result = sweep(ray_env, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    rows_after = _rows(out)
    counted = [row for row in rows_after if "interrupted" not in row["fail_reason"]]
    assert len(counted) == 4 and all(row["state"] == "COMPLETE" for row in counted)
    assert rows_after[:len(rows)] == rows
    after = _snapshot(out / "trials")
    assert {path: after[path] for path in finished} == finished


def test_without_an_address_the_sweep_starts_ray_on_this_machine(tmp_path, ray_env):
    out = tmp_path / "out"
    result = sweep(ray_env, "--trials", "2", "--model", "c8p-f32", "--epochs", "1", "--batch-size", "100", *SMALL,
                   "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "on Ray on this machine" in result.stdout
    rows = _rows(out)
    assert [row["state"] for row in rows] == ["COMPLETE", "COMPLETE"]
    assert set(rows[0]) == {"number", "state", "lr", "reg", "val_acc", "epochs", "seconds", "fail_reason"}


def test_a_second_sweep_on_a_folder_in_use_is_refused_naming_the_first(tmp_path, ray_env, head_node):
    out = tmp_path / "out"
    args = ["--model", "c8p-f32", *SMALL, "--epochs", "3", "--address", head_node, "--out", out]
    first = subprocess.Popen([sys.executable, "-m", "tinyconv", "sweep", "--trials", "40",
                              *(str(arg) for arg in args)], env=ray_env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / ".tinyconv.running").exists():
            assert first.poll() is None, first.communicate()[0]
            assert time.monotonic() < deadline, "the first sweep never started"
            time.sleep(0.1)
        second = sweep(ray_env, "--trials", "2", *args, timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"is in use by a run that has not ended (pid {first.pid}," in second.stderr
        assert first.poll() is None  # the first sweep goes on, its study untouched by the second
    finally:
        first.kill()  # SIGTERM leaves Ray to shut down, which a loaded machine can take minutes over
        first.communicate(timeout=120)
