"""``tinyconv train --tensorboard``: event files that TensorBoard's own reader reads back, agreeing with the
run's metrics, and a resume that continues them."""

import json

import numpy as np

from .helpers import invoke
from .oracle import require

RUN = ["--model", "c4p-f16", "--batch-size", "100", "--num-val", "100", "--num-test", "50", "--tensorboard"]


def _events(folder):
    require("tensorboardX", "tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def test_the_logs_hold_the_runs_scalars_and_filters(tmp_path):
    require("tensorboardX", "tensorboard")
    out = tmp_path / "run"
    result = invoke("train", *RUN, "--epochs", "3", "--out", out)
    assert result.exit_code == 0, result.output
    events = _events(out / "tensorboard")
    tags = events.Tags()
    assert set(tags["scalars"]) == {"loss/train", "loss/val", "accuracy/train", "accuracy/val", "learning_rate"}
    metrics = json.loads((out / "metrics.json").read_text())
    per_epoch = metrics["iterations"] // 3
    val = events.Scalars("accuracy/val")
    assert [event.step for event in val] == [1] + [per_epoch * k for k in (1, 2, 3)]
    np.testing.assert_allclose([event.value for event in val], metrics["val_acc_history"], rtol=1e-6)
    np.testing.assert_allclose([event.value for event in events.Scalars("loss/val")], metrics["val_loss_history"],
                               rtol=1e-6)
    assert len(events.Scalars("loss/train")) == metrics["iterations"]
    assert tags["images"] == ["filters/first_layer"] and len(events.Images("filters/first_layer")) == 3
    assert events.Images("filters/first_layer")[0].encoded_image_string[:4] == b"\x89PNG"


def test_a_resumed_run_goes_on_in_the_same_logs(tmp_path):
    require("tensorboardX", "tensorboard")
    out = tmp_path / "run"
    assert invoke("train", *RUN, "--epochs", "1", "--out", out).exit_code == 0
    result = invoke("train", "--resume", out / "checkpoint_epoch_1.npz", "--epochs", "2")
    assert result.exit_code == 0, result.output
    steps = [event.step for event in _events(out / "tensorboard").Scalars("accuracy/val")]
    assert steps == sorted(set(steps)) and len(steps) == 3  # epochs 0, 1 and 2, each once


def test_tensorboard_without_tensorboardx_is_a_usage_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_tensorboardx(name, *args, **kwargs):
        if name == "tensorboardX":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_tensorboardx)
    result = invoke("train", *RUN, "--out", tmp_path / "run")
    assert result.exit_code == 2 and "pip install 'tinyconv[tensorboard]'" in result.output
    assert not (tmp_path / "run").exists()

