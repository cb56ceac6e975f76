"""The tinyconv command line, end to end on small runs."""

import csv
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tinyconv import layer_gradcheck
from tinyconv.cli._app import load_dataset
from tinyconv.data import get_digits_data
from tinyconv.layers import relu_forward
from tinyconv.recipes import DATASETS
from tinyconv.serialization import load_model, save_model

from .dataset_files import make_cifar_dir, make_fashion_dir
from .helpers import SMALL_DIGITS, SMALL_RUN, invoke
from .oracle import require


def test_train_writes_model_metrics_and_pictures(small_run):
    assert sorted(path.name for path in small_run.iterdir()) == [
        "checkpoint_epoch_2.npz", "curves.png", "filters.png", "metrics.csv", "metrics.json", "model.npz",
        "report.html"]
    for picture in ("curves.png", "filters.png"):
        assert (small_run / picture).read_bytes()[:4] == b"\x89PNG"
    metrics = json.loads((small_run / "metrics.json").read_text())
    assert metrics["dataset"] == "digits" and metrics["model"] == "c4p-f16"
    assert metrics["model_class"] == "ConvNet" and metrics["model_config"]["spec"] == "c4p-f16"
    assert metrics["epochs"] == 2 and metrics["iterations"] == 2 * (1647 // 100)
    assert len(metrics["val_acc_history"]) == 3 and metrics["seconds"] > 0
    assert metrics["options"]["lr"] == pytest.approx(3e-3) and metrics["options"]["batch_size"] == 100

    # The recorded accuracies are those of the saved model on the same splits.
    model = load_model(small_run / "model.npz")
    data = get_digits_data(num_validation=100, num_test=50)
    for split in ("val", "test", "train"):
        predicted = np.argmax(model.loss(data[f"X_{split}"]), axis=1)
        assert metrics[f"{split}_acc"] == pytest.approx(np.mean(predicted == data[f"y_{split}"]))
    assert metrics["val_acc"] > 0.25  # chance is 0.1


def test_evaluate_prints_accuracy_and_confusion_matrix(small_run):
    result = invoke("evaluate", small_run / "model.npz", *SMALL_DIGITS, "--split", "test")
    assert result.exit_code == 0, result.output
    metrics = json.loads((small_run / "metrics.json").read_text())
    assert f"accuracy {metrics['test_acc']:.4f}" in result.output
    rows = [line.split() for line in result.output.splitlines() if re.match(r"\d +\d", line)]
    assert [row[0] for row in rows] == [str(digit) for digit in range(10)]  # each digit labelled once
    counts = np.array([[int(value) for value in row[1:11]] for row in rows])
    assert counts.sum() == 50
    assert np.trace(counts) / 50 == pytest.approx(metrics["test_acc"])
    for digit, row in enumerate(rows):  # then precision, recall and F1, "-" where a share is of nothing
        hits, predicted, support = counts[digit, digit], counts[:, digit].sum(), counts[digit].sum()
        precision, recall = (hits / predicted if predicted else None), (hits / support if support else None)
        for shown, expected in zip(row[11:13], (precision, recall)):
            assert shown == "-" if expected is None else float(shown) == pytest.approx(expected, abs=5e-4)


def test_evaluate_takes_the_dataset_and_split_from_the_model_file(small_run):
    result = invoke("evaluate", small_run / "model.npz", "--split", "test")
    assert result.exit_code == 0, result.output
    metrics = json.loads((small_run / "metrics.json").read_text())
    assert f"on digits test (50 images): accuracy {metrics['test_acc']:.4f}" in result.output


def test_evaluate_names_the_dataset_the_model_was_trained_on(tmp_path, small_run):
    cifar_dir = make_cifar_dir(tmp_path)
    result = invoke("evaluate", small_run / "model.npz", "--dataset", "cifar10", "--data-dir", cifar_dir.root)
    assert result.exit_code == 2
    assert "was trained on digits, not cifar10; drop --dataset or give --dataset digits" in result.output


def test_evaluate_refuses_a_model_for_other_images(tmp_path, small_run):
    bare = tmp_path / "bare.npz"
    save_model(bare, load_model(small_run / "model.npz"))  # saved from Python: no record of its dataset
    result = invoke("evaluate", bare)
    assert result.exit_code == 2 and "does not record the dataset" in result.output and "--dataset" in result.output
    cifar_dir = make_cifar_dir(tmp_path)
    result = invoke("evaluate", bare, "--dataset", "cifar10", "--data-dir", cifar_dir.root,
                    "--num-train", "30", "--num-val", "10", "--num-test", "10")
    assert result.exit_code == 2
    assert "does not fit cifar10" in result.output


def test_resume_continues_the_run_exactly(tmp_path, small_run):
    first = tmp_path / "first"
    assert invoke("train", *SMALL_RUN[:2], "--epochs", "1", *SMALL_RUN[4:], "--out", first).exit_code == 0
    result = invoke("train", "--resume", first / "checkpoint_epoch_1.npz", "--epochs", "2", *SMALL_DIGITS,
                    "--out", tmp_path / "resumed")
    assert result.exit_code == 0, result.output
    resumed = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    straight = json.loads((small_run / "metrics.json").read_text())
    assert resumed["val_acc_history"] == straight["val_acc_history"]
    assert resumed["train_acc_history"] == straight["train_acc_history"]
    np.testing.assert_array_equal(load_model(tmp_path / "resumed" / "model.npz").params["W1"],
                                  load_model(small_run / "model.npz").params["W1"])


def test_default_model_learns_the_digits_in_one_epoch(tmp_path):
    result = invoke("train", "--epochs", "1", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model_class"] == "ThreeLayerConvNet" and metrics["dataset"] == "digits"
    assert metrics["val_acc"] >= 0.7


def test_cifar10_format_run(tmp_path):
    cifar_dir = make_cifar_dir(tmp_path)
    out = tmp_path / "cifar-run"
    result = invoke("train", "--dataset", "cifar10", "--data-dir", cifar_dir.root, "--num-train", "30",
                    "--num-val", "10", "--num-test", "10", "--model", "c2p-f8", "--batch-size", "10",
                    "--epochs", "1", "--dtype", "float64", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"] == "cifar10" and metrics["iterations"] == 3
    assert metrics["model_config"]["input_dim"] == [3, 32, 32]
    assert load_model(out / "model.npz").params["W1"].dtype == np.float64


def test_divergence_is_reported(tmp_path):
    result = invoke("train", "--model", "c4p-f16", "--update-rule", "sgd", "--lr", "1e6", "--epochs", "1",
                    "--out", tmp_path)
    assert result.exit_code == 1
    assert "Training diverged" in result.output and "smaller learning rate" in result.output
    assert not (tmp_path / "model.npz").exists()


@pytest.mark.parametrize("args, message", [
    (["--model", "c4q"], "bad token 'c4q'"),
    (["--normalization", "layernorm"], "--model three-layer takes --normalization none"),
    (["--model", "fc", "--normalization", "groupnorm"], "batchnorm | layernorm"),
    (["--data-dir", "."], "--data-dir is not used with --dataset digits"),
    (["--num-train", "100"], "--num-train is not used with --dataset digits"),
    (["--epochs", "0"], "--epochs"),
    (["--dtype", "float16"], "float16"),
    (["--dataset", "mnist"], "mnist"),
    (["--num-val", "1500", "--num-test", "500"], "exceeds"),
])
def test_bad_train_options(tmp_path, args, message):
    result = invoke("train", *args, "--out", tmp_path)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "model.npz").exists()


def test_resume_refuses_settings_it_fixes(tmp_path, small_run):
    result = invoke("train", "--resume", small_run / "checkpoint_epoch_2.npz", "--lr", "0.1", "--out", tmp_path)
    assert result.exit_code == 2 and "drop --lr" in result.output


def test_cifar10_without_a_folder_says_how_to_give_one(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYCONV_CIFAR10", raising=False)
    result = invoke("train", "--dataset", "cifar10", "--out", tmp_path)
    assert result.exit_code == 2
    assert "TINYCONV_CIFAR10" in result.output and "--data-dir" in result.output


def test_gradcheck_passes_and_lists_every_case():
    result = invoke("gradcheck")
    assert result.exit_code == 0, result.output
    for case in layer_gradcheck.CASES:
        assert case.name in result.output
    assert "All" in result.output and "FAIL" not in result.output


def test_gradcheck_fails_on_a_wrong_backward(monkeypatch):
    broken = layer_gradcheck.GradCase("doubled relu", relu_forward, lambda dout, cache: 2 * dout * (cache.out > 0),
                                      (("x", (3, 4)),))
    monkeypatch.setattr(layer_gradcheck, "CASES", (broken,))
    result = invoke("gradcheck")
    assert result.exit_code == 1
    assert re.search(r"doubled relu\s+dx .* FAIL", result.output)


def test_demo_convolve_writes_a_png(tmp_path):
    out = tmp_path / "demo.png"
    result = invoke("demo", "convolve", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_python_dash_m_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "tinyconv", "--help"], capture_output=True, text=True,
                            check=True)
    assert result.stdout.startswith("Usage: tinyconv")
    for command in ("train", "evaluate", "gradcheck", "demo"):
        assert command in result.stdout


def _snapshot(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_a_finished_run_is_never_overwritten_unasked(tmp_path, small_run):
    before = _snapshot(small_run)
    result = invoke("train", *SMALL_RUN, "--out", small_run)
    assert result.exit_code == 2
    assert "already holds a run" in result.output and "--resume" in result.output
    assert "--overwrite" in result.output
    assert _snapshot(small_run) == before


def test_overwrite_replaces_the_run_knowingly(tmp_path):
    out = tmp_path / "run"
    assert invoke("train", *SMALL_RUN, "--out", out).exit_code == 0
    result = invoke("train", *SMALL_RUN[:2], "--epochs", "1", *SMALL_RUN[4:], "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.glob("checkpoint_*")) == ["checkpoint_epoch_1.npz"]
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 1


def test_an_existing_empty_folder_is_fine_and_stale_temporary_files_are_removed(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    stale = out / ".model.npz.3f9a0c21.tmp"  # what a write killed midway leaves
    stale.write_bytes(b"half a file")
    result = invoke("train", *SMALL_RUN[:2], "--epochs", "1", *SMALL_RUN[4:], "--out", out)
    assert result.exit_code == 0, result.output
    assert not stale.exists()


def test_an_output_folder_that_cannot_be_made_is_refused_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = invoke("train", *SMALL_RUN, "--out", blocker / "run")
    assert result.exit_code == 2
    assert "cannot write into" in result.output and "Training" not in result.output


def test_a_full_disk_ends_the_run_with_a_clear_error(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tinyconv.checkpoint.save_checkpoint", full_disk)
    result = invoke("train", *SMALL_RUN, "--out", tmp_path / "run")
    assert result.exit_code == 1
    assert "cannot write the run into" in result.output and "No space left on device" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback


@pytest.mark.parametrize("args, message", [
    (["--seed", "4294967296"], "--seed"),
    (["--seed", "-1"], "--seed"),
    (["--reg", "inf"], "--reg"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--lr-decay", "nan"], "--lr-decay"),
    (["--batch-size", "1.5"], "--batch-size"),
])
def test_every_option_is_checked_before_any_work(tmp_path, args, message):
    result = invoke("train", *args, "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{message}'" in result.output
    assert not (tmp_path / "run").exists()


def test_a_bad_thread_setting_in_the_environment_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("TINYCONV_NUM_THREADS", "many")
    result = invoke("gradcheck")
    assert result.exit_code == 2 and "TINYCONV_NUM_THREADS" in result.output


def test_help_documents_the_exit_status():
    for args in ([], ["train"], ["evaluate"]):
        result = invoke(*args, "--help")
        assert "Exit status: 0" in result.output and "1 when" in result.output and "2 when" in result.output


def test_resume_refuses_fewer_epochs_than_the_checkpoint_has(tmp_path, small_run):
    result = invoke("train", "--resume", small_run / "checkpoint_epoch_2.npz", "--epochs", "1",
                    "--out", tmp_path / "more")
    assert result.exit_code == 2 and "already trained 2 epochs" in result.output


def test_resume_refuses_another_data_split_and_keeps_the_recorded_one(tmp_path):
    first = tmp_path / "first"
    assert invoke("train", *SMALL_RUN[:2], "--epochs", "1", *SMALL_RUN[4:], "--out", first).exit_code == 0
    result = invoke("train", "--resume", first / "checkpoint_epoch_1.npz", "--epochs", "2", "--num-val", "300")
    assert result.exit_code == 2 and "--num-val 300 (the run used 100)" in result.output
    # Without the data options the run continues on its own split, in its own folder.
    result = invoke("train", "--resume", first / "checkpoint_epoch_1.npz", "--epochs", "2")
    assert result.exit_code == 0, result.output
    metrics = json.loads((first / "metrics.json").read_text())
    assert metrics["epochs"] == 2
    assert sorted(path.name for path in first.glob("checkpoint_*")) == ["checkpoint_epoch_2.npz"]


def _interrupt_in_the_third_epoch(monkeypatch):
    """Make the Solver raise KeyboardInterrupt a few steps into the third epoch of a SMALL_RUN-sized run;
    return the real step, to put back."""
    from tinyconv.solver import Solver

    real_step, steps = Solver._step, []

    def step_then_interrupt(self):
        steps.append(1)
        if len(steps) > 2 * (1647 // 100) + 3:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(Solver, "_step", step_then_interrupt)
    return real_step


def test_an_interrupted_run_says_how_to_continue_and_keeps_what_ran(tmp_path, monkeypatch):
    _interrupt_in_the_third_epoch(monkeypatch)
    out = tmp_path / "run"
    result = invoke("train", *SMALL_RUN[:2], "--epochs", "4", *SMALL_RUN[4:], "--out", out)
    assert result.exit_code == 130, result.output  # as a process stopped by SIGINT
    checkpoint = out / "checkpoint_epoch_2.npz"
    assert f"Interrupted in epoch 3; the last checkpoint is {checkpoint} (epoch 2)." in result.output
    assert f"Continue it with: tinyconv train --resume {checkpoint}" in result.output
    assert sorted(path.name for path in out.glob("checkpoint_*")) == ["checkpoint_epoch_2.npz"]
    with open(out / "metrics.csv") as table:
        assert [row["epoch"] for row in csv.DictReader(table)] == ["0", "1", "2"]
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert not (out / "model.npz").exists()


def test_demo_convolve_creates_the_folder_or_says_why_it_cannot(tmp_path):
    out = tmp_path / "missing" / "dir" / "c.png"
    result = invoke("demo", "convolve", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "file").write_text("")
    result = invoke("demo", "convolve", "--out", tmp_path / "file" / "c.png")
    assert result.exit_code == 2 and "cannot create the folder" in result.output


def _digit_pngs(tmp_path, count):
    """Test digits drawn as a person would: dark ink on white paper, 4 times the size."""
    raw = get_digits_data(num_validation=100, num_test=50, subtract_mean=False)
    paths = []
    for index in range(count):
        ink = raw["X_test"][index, 0] / 16.0
        pixels = np.kron(255 * (1 - ink), np.ones((4, 4)))
        paths.append(tmp_path / f"digit{index}.png")
        Image.fromarray(pixels.astype(np.uint8)).save(paths[-1])
    return paths, raw["y_test"][:count]


def test_predict_prints_the_top_classes_of_each_image(tmp_path, small_run):
    paths, _ = _digit_pngs(tmp_path, 3)
    result = invoke("predict", small_run / "model.npz", *paths, "--top", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    for path, line in zip(paths, lines):
        assert re.fullmatch(rf"{re.escape(str(path))}: (\d) \(\1 [0-9.]+, \d [0-9.]+\)", line), line


def test_predict_json_agrees_with_the_model_on_the_prepared_images(tmp_path, small_run):
    from tinyconv.images import prepare_image
    from tinyconv.serialization import load_metadata

    paths, labels = _digit_pngs(tmp_path, 12)
    result = invoke("predict", small_run / "model.npz", *paths, "--json")
    assert result.exit_code == 0, result.output
    predictions = json.loads(result.output)
    model, metadata = load_model(small_run / "model.npz"), load_metadata(small_run / "model.npz")
    for path, prediction in zip(paths, predictions):
        assert set(prediction) == {"file", "label", "probability", "top"} and prediction["file"] == str(path)
        scores = model.loss(prepare_image(path, metadata["input"], metadata["mean_image"]))[0]
        assert prediction["label"] == str(int(np.argmax(scores)))
        probabilities = [entry["probability"] for entry in prediction["top"]]
        assert prediction["top"][0] == {"label": prediction["label"], "probability": prediction["probability"]}
        assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1 + 1e-9
    # The drawn digits are prepared like the dataset's: the model reads most of them as it reads the data.
    data = get_digits_data(num_validation=100, num_test=50)
    on_data = np.argmax(model.loss(data["X_test"][:12]), axis=1)
    agreement = np.mean([int(p["label"]) == label for p, label in zip(predictions, on_data)])
    assert agreement >= 0.75, (agreement, labels)


def test_predict_reports_unreadable_images_and_still_classifies_the_others(tmp_path, small_run):
    broken = tmp_path / "broken.png"
    broken.write_text("not a picture")
    paths, _ = _digit_pngs(tmp_path, 2)
    result = invoke("predict", small_run / "model.npz", paths[0], broken, paths[1])
    assert result.exit_code == 2 and f"Error: {broken}: not a readable image" in result.output
    assert "1 of 3 images could not be read" in result.output
    assert [line.split(":")[0] for line in result.output.splitlines() if not line.startswith(("Error", "1 of"))] == [
        str(paths[0]), str(paths[1])]
    result = invoke("predict", small_run / "model.npz", broken, paths[0], "--json")
    records = json.loads(result.output[:result.output.rindex("]") + 1])
    assert result.exit_code == 2 and records[0]["file"] == str(broken) and "not a readable image" in records[0]["error"]
    assert records[1]["file"] == str(paths[0]) and "label" in records[1]


def test_predict_refuses_models_without_a_record(tmp_path, small_run):
    bare = tmp_path / "bare.npz"
    save_model(bare, load_model(small_run / "model.npz"))
    paths, _ = _digit_pngs(tmp_path, 1)
    result = invoke("predict", bare, *paths)
    assert result.exit_code == 2 and "does not record how its images were prepared" in result.output


def test_metrics_say_which_epoch_the_model_is_and_how_fast_it_trained(small_run):
    metrics = json.loads((small_run / "metrics.json").read_text())
    assert metrics["best_epoch"] == metrics["val_acc_history"].index(max(metrics["val_acc_history"]))
    assert metrics["model_epoch"] == metrics["best_epoch"]  # the digits recipe keeps the best epoch
    assert metrics["val_acc"] == pytest.approx(metrics["val_acc_history"][metrics["best_epoch"]])
    assert metrics["last_val_acc"] == metrics["val_acc_history"][-1]
    assert metrics["images_per_second"] > 0 and metrics["stopped_early"] is None
    rows = list(csv.DictReader(io.StringIO((small_run / "metrics.csv").read_text())))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    assert [float(row["val_acc"]) for row in rows] == pytest.approx(metrics["val_acc_history"], abs=1e-6)
    assert [float(row["val_loss"]) for row in rows] == pytest.approx(metrics["val_loss_history"], abs=1e-6)
    assert all(float(row["train_loss"]) > 0 for row in rows)
    assert float(rows[2]["val_loss"]) < float(rows[0]["val_loss"])  # it learned
    assert float(rows[1]["learning_rate"]) == pytest.approx(3e-3) and float(rows[2]["learning_rate"]) == pytest.approx(
        3e-3 * 0.9)
    assert 0 < float(rows[1]["seconds"]) <= float(rows[2]["seconds"])


def test_the_summary_names_the_epoch_of_the_model(tmp_path):
    result = invoke("train", *SMALL_RUN, "--out", tmp_path / "run")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert f"The model is epoch {metrics['best_epoch']}'s, the best on validation" in result.output
    assert "images/s" in result.output


def test_keep_last_writes_the_last_epochs_model_and_says_which_was_best(tmp_path):
    result = invoke("train", *SMALL_RUN, "--epochs", "3", "--lr", "0.3", "--keep", "last", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["model_epoch"] == metrics["epochs"] == 3 and metrics["options"]["keep"] == "last"
    assert metrics["val_acc"] == pytest.approx(metrics["last_val_acc"])
    best = metrics["val_acc_history"].index(max(metrics["val_acc_history"]))
    assert metrics["best_epoch"] == best
    if best == 3:
        assert "The model is epoch 3's, the best on validation" in result.output
    else:
        assert (f"The model is epoch 3's, the last: validation accuracy {metrics['val_acc']:.4f} (best: epoch {best}, "
                in result.output)


def test_a_run_recorded_before_keep_and_label_smoothing_is_repeated_as_it_ran(tmp_path, small_run, monkeypatch):
    import dataclasses

    digits = DATASETS["digits"]
    monkeypatch.setitem(DATASETS, "digits", dataclasses.replace(digits, recipe=dataclasses.replace(
        digits.recipe, keep="last", label_smoothing=0.1)))
    metrics = json.loads((small_run / "metrics.json").read_text())
    older = {**metrics, "options": {key: value for key, value in metrics["options"].items()
                                    if key not in ("keep", "label_smoothing")}}
    (tmp_path / "older.json").write_text(json.dumps(older))
    (tmp_path / "partial.json").write_text(json.dumps({"options": {"lr": 0.01}}))
    for config, keep, smoothing in (("older.json", "best", 0.0), ("partial.json", "last", 0.1)):
        result = invoke("train", "--config", tmp_path / config, "--epochs", "1", "--model", "c4p-f16",
                        "--out", tmp_path / config.replace(".json", ""))
        assert result.exit_code == 0, result.output
        options = json.loads((tmp_path / config.replace(".json", "") / "metrics.json").read_text())["options"]
        assert (options["keep"], options["label_smoothing"]) == (keep, smoothing), config


def test_the_fashion_recipe_fills_in_what_is_not_given(tmp_path):
    fashion_dir = make_fashion_dir(tmp_path)
    result = invoke("train", "--dataset", "fashion-mnist", "--data-dir", fashion_dir.root, "--num-train", "20",
                    "--num-val", "10", "--num-test", "10", "--epochs", "2", "--batch-size", "20",
                    "--model", "c2p-f8", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    options = json.loads((tmp_path / "run" / "metrics.json").read_text())["options"]
    recipe = DATASETS["fashion-mnist"].recipe
    assert options["lr_schedule"] == recipe.lr_schedule == "cosine" and options["lr_decay"] == 1.0
    assert options["augment"] == recipe.augment and options["weight_decay"] == recipe.weight_decay
    assert options["normalization"] == "none"  # another --model does not take the recipe's normalization
    assert options["epochs"] == 2 and options["model"] == "c2p-f8"
    assert options["label_smoothing"] == recipe.label_smoothing and options["keep"] == recipe.keep == "last"
    assert load_model(tmp_path / "run" / "model.npz").get_config()["label_smoothing"] == recipe.label_smoothing


def test_a_datasets_split_comes_from_its_recipe_unless_given(tmp_path, monkeypatch):
    fashion_dir = make_fashion_dir(tmp_path)
    for option, size in (("num_train", 16), ("num_val", 8), ("num_test", 12)):
        monkeypatch.setitem(DATASETS["fashion-mnist"].defaults, option, size)
    data = load_dataset("fashion-mnist", fashion_dir.root, "float32", None, None, None)
    assert [len(data[f"y_{split}"]) for split in ("train", "val", "test")] == [16, 8, 12]
    data = load_dataset("fashion-mnist", fashion_dir.root, "float32", None, 5, 3)
    assert [len(data[f"y_{split}"]) for split in ("train", "val", "test")] == [16, 5, 3]


@pytest.mark.parametrize("args, message", [
    (["--update-rule", "sgd", "--weight-decay", "0.1"], "decoupled weight decay goes with Adam"),
    (["--lr-schedule", "cosine", "--lr-decay", "0.5"], "drop --lr-decay or give 1"),
    (["--augment", "crop-2"], "is not none, cropN, flip or cropN-flip"),
    (["--augment", "rotate"], "is not none, cropN, flip or cropN-flip"),
    (["--warmup-epochs", "-1"], "--warmup-epochs"),
    (["--early-stopping", "0"], "--early-stopping"),
    (["--device", "gpu"], "--device"),
    (["--model", "three-layer", "--init", "he"], "--init is for ConvNet specs"),
    (["--model", "fc", "--label-smoothing", "0.1"], "--label-smoothing is for ConvNet specs"),
    (["--label-smoothing", "1.5"], "--label-smoothing"),
])
def test_bad_recipe_options_are_usage_errors(tmp_path, args, message):
    result = invoke("train", *args, "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "run" / "model.npz").exists()


def test_an_interrupted_cosine_run_with_augmentation_resumes_exactly(tmp_path, monkeypatch):
    from tinyconv.solver import Solver

    args = [*SMALL_RUN[:2], *SMALL_RUN[4:], "--epochs", "3", "--lr-schedule", "cosine", "--warmup-epochs", "0.5",
            "--augment", "crop1-flip", "--update-rule", "adamw", "--weight-decay", "0.01"]
    assert invoke("train", *args, "--out", tmp_path / "whole").exit_code == 0
    real_step = _interrupt_in_the_third_epoch(monkeypatch)
    invoke("train", *args, "--out", tmp_path / "part")
    monkeypatch.setattr(Solver, "_step", real_step)
    result = invoke("train", "--resume", tmp_path / "part" / "checkpoint_epoch_2.npz", "--epochs", "4")
    assert result.exit_code == 2 and "cosine schedule over 3 epochs" in result.output
    assert "give --epochs 3 or leave it out" in result.output
    result = invoke("train", "--resume", tmp_path / "part" / "checkpoint_epoch_2.npz")
    assert result.exit_code == 0, result.output
    whole, part = (json.loads((tmp_path / run / "metrics.json").read_text()) for run in ("whole", "part"))
    assert part["val_acc_history"] == whole["val_acc_history"] and part["epochs"] == 3
    assert part["options"]["augment"] == "crop1-flip"
    np.testing.assert_array_equal(load_model(tmp_path / "part" / "model.npz").params["W1"],
                                  load_model(tmp_path / "whole" / "model.npz").params["W1"])


def test_config_gives_option_values_that_the_command_line_overrides(tmp_path, small_run):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model": "c4p-f16", "epochs": 1, "batch-size": 100, "lr": 0.002,
                                  "num_val": 100, "num_test": 50, "early_stopping": None}))
    result = invoke("train", "--config", config, "--lr", "0.001", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    options = json.loads((tmp_path / "run" / "metrics.json").read_text())["options"]
    assert options["model"] == "c4p-f16" and options["epochs"] == 1 and options["batch_size"] == 100
    assert options["lr"] == 0.001 and options["num_val"] == 100 and options["early_stopping"] is None
    # A run's metrics.json holds its options: training from it repeats the run.
    result = invoke("train", "--config", small_run / "metrics.json", "--out", tmp_path / "again")
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert again["val_acc_history"] == json.loads((small_run / "metrics.json").read_text())["val_acc_history"]


def test_a_cs231n_networks_run_trains_again_from_its_metrics(tmp_path):
    result = invoke("train", "--epochs", "1", *SMALL_DIGITS, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    options = json.loads((tmp_path / "run" / "metrics.json").read_text())["options"]
    assert options["model"] == "three-layer" and options["init"] is None
    result = invoke("train", "--config", tmp_path / "run" / "metrics.json", "--out", tmp_path / "again")
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert again["val_acc_history"] == json.loads((tmp_path / "run" / "metrics.json").read_text())["val_acc_history"]


@pytest.mark.parametrize("content, message", [
    ('{"lrr": 0.1}', "'lrr' is not an option that a config gives"),
    ('{"epochs": 1.5}', "epochs: '1.5' is not an integer"),
    ('{"lr": -1}', "lr: the value must be a finite number > 0"),
    ('{"update_rule": "adagrad"}', "update_rule: 'adagrad' is not one of"),
    ('{"resume": "x.npz"}', "'resume' is not an option that a config gives"),
    ('{"batch_size": [1, 2]}', "batch_size must be a number or a string"),
    ('[1, 2]', "must hold a JSON object of option values"),
    ('{"lr": 0.1', "cannot read"),
])
def test_a_bad_config_is_refused_naming_the_file_and_the_option(tmp_path, content, message):
    config = tmp_path / "config.json"
    config.write_text(content)
    result = invoke("train", "--config", config, "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert "Invalid value for --config: " in result.output and str(config) in result.output
    assert message in result.output
    assert not (tmp_path / "run").exists()


def test_bench_races_naive_fast_and_torch(monkeypatch):
    from tinyconv import benchmark

    require("torch")  # without it the command races the naive and fast layers only

    small = (benchmark.LayerCase("conv3x3s2", (4, 3, 9, 9), (5, 3, 3, 3), stride=2, pad=1),
             benchmark.LayerCase("pool3", (4, 3, 8, 8), None, stride=2))
    monkeypatch.setattr(benchmark, "CASES", small)
    monkeypatch.setattr(benchmark, "CASES_BY_KEY", {case.key: case for case in small})
    result = invoke("bench", "--dtype", "float32")
    assert result.exit_code == 0, result.output
    assert re.search(r"conv forward: conv 3->5 3x3/2 pad 1 on 4x3x9x9 +[0-9.]+ +[0-9.]+ +\d+x", result.output)
    assert re.search(r"pool 2x2/2 on 4x3x8x8 +float32 +[0-9.]+ +[0-9.]+ +[0-9.]+", result.output)
    assert re.search(r"training step: ConvNet c32-c32p-c64-c64p-f256, batchnorm, batch 64 +float32", result.output)
    assert re.search(r"geometric mean over the 2 layers +float32 +[0-9.]+", result.output)


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_device_gpu_without_cupy_says_what_is_missing(tmp_path, small_run, monkeypatch, command):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail, as on a machine without it
    args = {"train": ["train", *SMALL_RUN, "--out", tmp_path / "run"],
            "evaluate": ["evaluate", small_run / "model.npz"],
            "predict": ["predict", small_run / "model.npz", *_digit_pngs(tmp_path, 1)[0]]}[command]
    result = invoke(*args, "--device", "gpu")
    assert result.exit_code == 2
    assert "CuPy is not installed" in result.output and "--device cpu" in result.output
    assert not (tmp_path / "run").exists()


def test_evaluate_and_predict_read_what_a_checkpoint_s_run_recorded(tmp_path, small_run):
    checkpoint = small_run / "checkpoint_epoch_2.npz"
    result = invoke("evaluate", checkpoint, "--split", "test")
    assert result.exit_code == 0, result.output
    metrics = json.loads((small_run / "metrics.json").read_text())
    assert f"on digits test (50 images): accuracy {metrics['test_acc']:.4f}" in result.output
    paths, _ = _digit_pngs(tmp_path, 2)
    from_checkpoint = invoke("predict", checkpoint, *paths, "--json")
    from_model = invoke("predict", small_run / "model.npz", *paths, "--json")
    assert from_checkpoint.exit_code == 0, from_checkpoint.output
    assert json.loads(from_checkpoint.output) == json.loads(from_model.output)  # the last epoch is the best here


def test_a_model_the_command_line_did_not_build_is_named_by_its_class(tmp_path):
    from tinyconv.models import TwoLayerNet

    path = tmp_path / "two.npz"
    save_model(path, TwoLayerNet(input_dim=64, hidden_dim=8, dtype=np.float32))
    result = invoke("evaluate", path, "--dataset", "digits")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("TwoLayerNet on digits val")


def test_adamw_without_weight_decay_trains_without_it(tmp_path):
    from tinyconv.recipes import DATASETS
    from tinyconv.run.settings import resolve, solver_keywords

    settings = solver_keywords(resolve(DATASETS["digits"].recipe, {"update_rule": "adamw"}), seed=0)
    assert settings["update_rule"] == "adamw" and settings["optim_config"]["weight_decay"] == 0.0
    settings = solver_keywords(resolve(DATASETS["digits"].recipe, {"weight_decay": 0.01}), seed=0)
    assert settings["update_rule"] == "adamw" and settings["optim_config"]["weight_decay"] == 0.01


def test_a_resume_keeps_early_stopping_and_may_end_where_the_checkpoint_is(tmp_path):
    first = tmp_path / "first"
    result = invoke("train", *SMALL_RUN[:2], "--epochs", "2", *SMALL_RUN[4:], "--early-stopping", "5", "--out", first)
    assert result.exit_code == 0, result.output
    result = invoke("train", "--resume", first / "checkpoint_epoch_2.npz", "--epochs", "2")
    assert result.exit_code == 0, result.output  # nothing left to train: the run is written again as it was
    assert "0 epochs (resumed at the end) in" in result.output and "images/s" not in result.output
    assert json.loads((first / "metrics.json").read_text())["options"]["early_stopping"] == 5


def test_config_and_resume_together_are_refused(tmp_path, small_run):
    config = tmp_path / "options.json"
    config.write_text(json.dumps({"lr": 0.01}))
    result = invoke("train", "--config", config, "--resume", small_run / "checkpoint_epoch_2.npz", "--epochs", "3",
                    "--out", tmp_path / "more")
    assert result.exit_code == 2 and "--config gives a new run its options" in result.output


def test_evaluate_refuses_a_device_and_a_model_naming_an_unknown_dataset(tmp_path, small_run):
    result = invoke("evaluate", "/dev/zero")
    assert result.exit_code == 2 and "/dev/zero is not a tinyconv file: it is not a regular file" in result.output
    from tinyconv.serialization import load_metadata

    path = tmp_path / "model.npz"
    save_model(path, load_model(small_run / "model.npz"), {**load_metadata(small_run / "model.npz"),
                                                           "dataset": "mnist-3d"})
    result = invoke("evaluate", path)
    assert result.exit_code == 2 and "names the dataset 'mnist-3d', which this tinyconv does not know" in result.output


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "1000000000000"], "--batch-size 1000000000000 is more than the 1647 training images; give at most "
                                        "1647"),
    (["--augment", "crop1000000"], "--augment crop1000000: a shift of up to 1000000 pixels is too large for images "
                                   "of 8x8; shift by at most a quarter of the shorter side, 2"),
    (["--augment", "crop9"], "a shift of up to 9 pixels is too large for images of 8x8"),
    (["--model", "c50000-c50000"], "ConvNet: its parameters would take 22,532,550,010 values of float32, 83.9 GiB, "
                                   "more than this machine's 24.0 GiB of memory"),
])
def test_sizes_nobody_can_use_are_refused_up_front_with_the_numbers(tmp_path, monkeypatch, args, message):
    monkeypatch.setattr("tinyconv._checks.memory_bytes", lambda: 24 * 2**30)  # the same on any machine
    out = tmp_path / "run"
    result = invoke("train", *SMALL_RUN, *args, "--out", out)
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", " ")
    assert not out.exists()


def test_export_refuses_to_write_the_graph_over_its_model_and_a_missing_extra_is_a_usage_error(
        tmp_path, small_run, monkeypatch):
    model = tmp_path / "model.npz"
    model.write_bytes((small_run / "model.npz").read_bytes())
    result = invoke("export", model, "--onnx", model)
    assert result.exit_code == 2 and "is the model file itself; the graph would replace it" in result.output
    assert model.read_bytes() == (small_run / "model.npz").read_bytes()
    monkeypatch.setitem(sys.modules, "tinyconv.interop.onnx_export", None)
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = invoke("export", model, "--onnx", tmp_path / "model.onnx")
    assert result.exit_code == 2, result.output  # as sweep without Optuna


def test_a_fresh_run_on_images_of_another_size_names_the_images_not_resume(tmp_path):
    fashion_dir = make_fashion_dir(tmp_path, size=32)
    out = tmp_path / "run"
    result = invoke("train", "--dataset", "fashion-mnist", "--data-dir", fashion_dir.root, "--num-train", "20",
                    "--num-val", "10", "--num-test", "12", "--epochs", "1", "--out", out)
    assert result.exit_code == 2, result.output
    assert "the fashion-mnist images found have shape (1, 32, 32), which the model does not take" in result.output
    assert "--resume" not in result.output and not out.exists()
