"""A run folder loses nothing: the last complete checkpoint survives whatever stops a run, clean-up touches only
tinyconv's own checkpoints, metrics.csv grows as the run goes, and one run at a time holds the folder."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from tinyconv.recipes import DATASETS
from tinyconv.run.datasets import load_dataset
from tinyconv.run.models import new_model
from tinyconv.run.settings import resolve
from tinyconv.run.training import RunError, run_training
from tinyconv.serialization import load_checkpoint

from .helpers import invoke

SPLIT = dict(num_train=None, num_val=100, num_test=50)
SMALL = ["--model", "c4p-f16", "--batch-size", "100", "--num-val", "100", "--num-test", "50"]


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", None, "float32", **SPLIT)


def _train(out, digits, epochs=3, epoch_callback=None):
    settings = resolve(DATASETS["digits"].recipe, {"model": "c4p-f16", "batch_size": 100, "epochs": epochs})
    model = new_model("digits", settings, "float32", 0)
    return run_training(model, digits, settings, {"dataset": "digits", **SPLIT}, 0, out, verbose=False,
                        pictures=False, epoch_callback=epoch_callback)


def _fill(folder):
    """Take every free byte of the file system that ``folder`` is on."""
    descriptor = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(descriptor, b"\0" * 512):
            pass
    except OSError:  # the disk is full
        pass
    finally:
        os.close(descriptor)


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 4 MiB tmpfs, which a test can fill to the last byte."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_keeps_the_last_complete_checkpoint(small_tmpfs, digits):
    out = small_tmpfs / "run"
    out.mkdir()

    def fill_after_the_first_epoch(solver):
        if solver.epoch == 1:
            _fill(small_tmpfs)
        return False

    with pytest.raises(RunError, match="No space left on device") as caught:
        _train(out, digits, epoch_callback=fill_after_the_first_epoch)
    failed_in = [(Path(frame.filename).name, frame.name)
                 for frame in traceback.extract_tb(caught.value.__cause__.__traceback__)]
    assert ("checkpoint.py", "on_epoch_end") in failed_in  # epoch 2's checkpoint is what could not be written
    assert sorted(path.name for path in out.glob("checkpoint_*")) == ["checkpoint_epoch_1.npz"]
    (small_tmpfs / "filler").unlink()
    _, state = load_checkpoint(out / "checkpoint_epoch_1.npz")  # complete, and it resumes the run
    assert int(state["epoch"]) == 1


def test_a_checkpoint_that_fails_to_be_written_deletes_no_other(tmp_path, digits, monkeypatch):
    import tinyconv.checkpoint

    real_save, saves = tinyconv.checkpoint.save_checkpoint, []

    def failing_second_save(path, model, state):
        saves.append(path)
        if len(saves) == 2:
            Path(path).with_name(".checkpoint_epoch_2.npz.half.tmp").write_bytes(b"half")  # as a write cut short
            raise OSError(28, "No space left on device")
        real_save(path, model, state)

    monkeypatch.setattr(tinyconv.checkpoint, "save_checkpoint", failing_second_save)
    (tmp_path / "checkpoint_epoch_2_backup.npz").write_bytes(b"the user's own file")
    with pytest.raises(RunError):
        _train(tmp_path, digits)
    assert sorted(path.name for path in tmp_path.glob("checkpoint_*")) == [
        "checkpoint_epoch_1.npz", "checkpoint_epoch_2_backup.npz"]
    assert (tmp_path / "checkpoint_epoch_2_backup.npz").read_bytes() == b"the user's own file"


def test_clean_up_after_a_finished_run_touches_only_tinyconvs_checkpoints(tmp_path, digits):
    for name in ("checkpoint_epoch_2_backup.npz", "checkpoint_epoch_x.npz", "my_checkpoint_epoch_1.npz"):
        (tmp_path / name).write_bytes(b"kept")
    _train(tmp_path, digits)
    assert sorted(path.name for path in tmp_path.glob("*checkpoint_*")) == [
        "checkpoint_epoch_2_backup.npz", "checkpoint_epoch_3.npz", "checkpoint_epoch_x.npz",
        "my_checkpoint_epoch_1.npz"]


def test_metrics_csv_has_each_epochs_row_when_the_epoch_ends(tmp_path, digits):
    seen = []

    def read_the_table(solver):
        with open(tmp_path / "metrics.csv") as table:
            seen.append([row["epoch"] for row in csv.DictReader(table)])
        return False

    metrics = _train(tmp_path, digits, epoch_callback=read_the_table)
    assert seen == [["0", "1"], ["0", "1", "2"], ["0", "1", "2", "3"]]
    with open(tmp_path / "metrics.csv") as table:
        rows = list(csv.DictReader(table))
    assert float(rows[-1]["seconds"]) == pytest.approx(metrics["seconds"], abs=1e-3)


def test_a_resume_says_which_epochs_it_trained_and_its_seconds_agree_with_the_table(tmp_path):
    first = tmp_path / "first"
    assert invoke("train", *SMALL, "--epochs", "1", "--out", first).exit_code == 0
    result = invoke("train", "--resume", first / "checkpoint_epoch_1.npz", "--epochs", "3")
    assert result.exit_code == 0, result.output
    assert "2 epochs (epochs 2 to 3, resumed) in" in result.output
    metrics = json.loads((first / "metrics.json").read_text())
    with open(first / "metrics.csv") as table:
        rows = list(csv.DictReader(table))
    assert [row["epoch"] for row in rows] == ["0", "1", "2", "3"]
    assert float(rows[-1]["seconds"]) == pytest.approx(metrics["seconds"], abs=1e-3)


def test_a_refused_run_leaves_no_empty_folder_behind(tmp_path):
    out = tmp_path / "new"
    result = invoke("train", *SMALL, "--data-dir", tmp_path, "--out", out)
    assert result.exit_code == 2 and "--data-dir is not used with --dataset digits" in result.output
    assert not out.exists()
    kept = tmp_path / "existing"
    kept.mkdir()
    assert invoke("train", *SMALL, "--data-dir", tmp_path, "--out", kept).exit_code == 2
    assert kept.is_dir()  # a folder the user made stays


def _train_process(out, epochs):
    command = [sys.executable, "-m", "tinyconv", "train", *SMALL, "--epochs", str(epochs), "--out", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_until_running(process, out):
    deadline = time.monotonic() + 60
    while not (out / ".tinyconv.running").exists():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the first run never started"
        time.sleep(0.05)


def test_a_second_run_on_a_folder_in_use_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "shared"
    first = _train_process(out, 5000)  # far longer than the test: it is killed or interrupted
    try:
        _wait_until_running(first, out)
        second = subprocess.run([sys.executable, "-m", "tinyconv", "train", *SMALL, "--epochs", "1", "--out",
                                 str(out)], capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"is in use by a run that has not ended (pid {first.pid}," in second.stderr
        assert first.poll() is None  # the first run goes on
    finally:
        first.kill()
        first.wait()
    # A killed run leaves no lock behind: the folder can be resumed from its last checkpoint at once.
    last = max(out.glob("checkpoint_epoch_*.npz"), key=lambda path: int(path.stem.rsplit("_", 1)[1]),
               default=None)
    if last is None:
        pytest.skip("the first run was killed before its first checkpoint")
    third = subprocess.run([sys.executable, "-m", "tinyconv", "train", "--resume", str(last), "--epochs",
                            str(int(last.stem.rsplit("_", 1)[1]))], capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stdout + third.stderr


def test_ctrl_c_on_a_real_process_exits_130_with_the_resume_command(tmp_path):
    out = tmp_path / "run"
    process = _train_process(out, 5000)  # far longer than the test: it is killed or interrupted
    deadline = time.monotonic() + 60
    while not list(out.glob("checkpoint_epoch_*.npz")):
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "Continue it with: tinyconv train --resume " in output
    checkpoints = list(out.glob("checkpoint_epoch_*.npz"))
    assert len(checkpoints) == 1 and str(checkpoints[0]) in output
    assert not (out / ".tinyconv.running").exists()
    np.testing.assert_equal(load_checkpoint(checkpoints[0])[1]["epoch"] >= 1, True)


def test_a_refused_run_leaves_the_holders_unfinished_writes_alone(tmp_path):
    from tinyconv.run.folder import holding
    from tinyconv.run.settings import SettingError

    out = tmp_path / "held"
    out.mkdir()
    writing = out / ".checkpoint_epoch_3.npz.5ac1e2f0.tmp"  # the holder's atomic write, under way
    process = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
from tinyconv.run.folder import holding
with holding(Path({str(out)!r})):
    Path({str(writing)!r}).write_bytes(b"half a checkpoint")
    print("holding", flush=True)
    time.sleep(60)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "holding"
        result = invoke("train", *SMALL, "--epochs", "1", "--out", out)
        assert result.exit_code == 2 and "is in use by a run that has not ended" in result.output
        assert writing.read_bytes() == b"half a checkpoint"
        with pytest.raises(SettingError, match="in use"):
            with holding(out):
                pass
    finally:
        process.kill()
        process.wait()
    with holding(out):  # the holder gone, the next run clears what its write left
        assert not writing.exists()
