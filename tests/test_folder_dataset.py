"""Training on your own images: a folder of class sub-folders (``--dataset folder:PATH``), its split, its
image size and channels, the errors that name the folder or the file, and train / evaluate / predict on it."""

import json
import re

import numpy as np
import pytest
from PIL import Image

from tinyconv.data.folder import FolderError, get_folder_data, scan
from tinyconv.serialization import load_metadata

from .helpers import invoke

PATTERNS = ("checks", "horizontal", "vertical")


def pattern(kind, size, rng):
    """A noisy image of stripes or checks, 0..255: what tells the classes apart."""
    rows, cols = np.indices(size)
    clean = {"horizontal": rows // 2 % 2, "vertical": cols // 2 % 2, "checks": (rows // 2 + cols // 2) % 2}[kind]
    return np.clip(clean * 180 + 40 + rng.normal(0, 25, size), 0, 255).astype(np.uint8)


def make_folder(root, per_class=10, size=(12, 12), mode="RGB", seed=0):
    """``root/<pattern>/NNN.png`` (and every fourth a .jpg): one class per pattern."""
    rng = np.random.default_rng(seed)
    for kind in PATTERNS:
        (root / kind).mkdir(parents=True)
        for index in range(per_class):
            gray = pattern(kind, size, rng)
            image = Image.fromarray(gray, "L").convert(mode)
            image.save(root / kind / f"{index:03d}.{'jpg' if index % 4 == 3 else 'png'}")
    return root


def test_the_classes_are_the_sorted_folders_and_the_split_is_stratified(tmp_path):
    root = make_folder(tmp_path / "images", per_class=20)
    (root / "notes.txt").write_text("not a class")
    (root / "horizontal" / "readme.md").write_text("not an image")
    (root / ".cache").mkdir()
    data = get_folder_data(root, dtype=np.float64)
    assert data["class_names"] == ["checks", "horizontal", "vertical"]
    assert {name: data[f"X_{name}"].shape for name in ("train", "val", "test")} == {
        "train": (48, 3, 12, 12), "val": (6, 3, 12, 12), "test": (6, 3, 12, 12)}  # a tenth each by default
    assert sorted(np.bincount(data["y_val"])) == [2, 2, 2] and sorted(np.bincount(data["y_test"])) == [2, 2, 2]
    assert data["X_train"].dtype == np.float64 and data["mean_image"].shape == (3, 12, 12)
    # The mean training image is subtracted; adding it back gives the files' pixels.
    first = Image.open(root / "checks" / "000.png")
    pixels = np.asarray(first, dtype=np.float64).transpose(2, 0, 1)
    restored = np.concatenate([data[f"X_{name}"] for name in ("train", "val", "test")]) + data["mean_image"]
    assert any(np.allclose(image, pixels) for image in restored)
    again = get_folder_data(root, num_validation=3, num_test=0)
    assert len(again["X_val"]) == 3 and len(again["X_test"]) == 0 and len(again["X_train"]) == 57


def test_gray_files_give_one_channel_and_channels_can_be_asked(tmp_path):
    root = make_folder(tmp_path / "gray", mode="L")
    assert scan(root).channels == 1
    assert get_folder_data(root)["X_train"].shape[1] == 1
    assert get_folder_data(root, channels=3)["X_train"].shape[1] == 3
    Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(root / "checks" / "colour.png")
    assert scan(root).channels == 3


def test_an_image_size_stretches_every_image_to_it(tmp_path):
    root = make_folder(tmp_path / "mixed", size=(12, 12))
    Image.fromarray(np.full((20, 9), 200, np.uint8)).convert("RGB").save(root / "vertical" / "large.png")
    with pytest.raises(FolderError, match=r"have different sizes: .*checks/000.png is 12x12 and .*large.png 20x9 "
                                          r"\(height x width\); give an image size"):
        scan(root)
    data = get_folder_data(root, image_size=(8, 6))
    assert data["X_train"].shape[1:] == (3, 8, 6)


@pytest.mark.parametrize("damage, match", [
    (lambda root: None, r"missing is not a folder"),
    (lambda root: root.mkdir() or (root / "only").mkdir(), r"has 1 class folder; a dataset folder has one "
                                                           r"sub-folder of PNG or JPEG images per class, two or more"),
    (lambda root: make_folder(root) and (root / "empty").mkdir(), r"empty holds no PNG or JPEG image; every class "
                                                                  r"needs at least one"),
    (lambda root: make_folder(root) and (root / "checks" / "broken.png").write_bytes(b"not a png"),
     r"checks/broken.png: not a readable image"),
])
def test_a_folder_that_cannot_be_a_dataset_is_refused_naming_it(tmp_path, damage, match):
    root = tmp_path / "missing"
    damage(root)
    with pytest.raises(FolderError, match=match):
        scan(root)


def test_train_evaluate_and_predict_on_a_folder(tmp_path):
    root = make_folder(tmp_path / "patterns", per_class=16, size=(8, 8))
    out = tmp_path / "run"
    result = invoke("train", "--dataset", f"folder:{root}", "--model", "c8p-c8p-f16", "--epochs", "12",
                    "--batch-size", "8", "--lr", "0.01", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["val_acc"] >= 0.8  # stripes and checks are easy: chance is a third
    metadata = load_metadata(out / "model.npz")
    assert metadata["dataset"] == f"folder:{root.resolve()}" and metadata["class_names"] == list(PATTERNS)
    assert metadata["input"]["fit"] == "stretch" and (metadata["input"]["height"], metadata["input"]["width"]) == (8, 8)
    evaluated = invoke("evaluate", out / "model.npz")
    assert evaluated.exit_code == 0, evaluated.output
    assert f"accuracy {metrics['val_acc']:.4f}" in evaluated.output and "vertical" in evaluated.output
    new = tmp_path / "new.png"
    Image.fromarray(pattern("vertical", (16, 16), np.random.default_rng(9))).save(new)  # another size: stretched
    predicted = invoke("predict", out / "model.npz", new)
    assert predicted.exit_code == 0, predicted.output
    assert re.fullmatch(rf"{re.escape(str(new))}: (checks|horizontal|vertical) \(.*\)", predicted.output.strip())


@pytest.mark.parametrize("args, match", [
    (["--dataset", "folder:nowhere"], r"Invalid value for '--dataset': 'folder:nowhere': nowhere is not a folder"),
    (["--dataset", "imagenet"], r"'imagenet' is none of cifar10, digits, fashion-mnist or folder:PATH"),
    (["--image-size", "16"], r"--image-size is for --dataset folder:PATH, whose images may have any size"),
    (["--channels", "3"], r"--channels is for --dataset folder:PATH"),
    (["--image-size", "16x0"], r"Invalid value for '--image-size'"),
])
def test_folder_options_are_checked_on_the_command_line(tmp_path, args, match):
    result = invoke("train", *args, "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    assert re.search(match, result.output), result.output
    assert not (tmp_path / "run").exists()


def test_a_folder_the_recipe_does_not_fit_says_what_to_give(tmp_path):
    root = make_folder(tmp_path / "patterns", per_class=3, size=(10, 10))
    result = invoke("train", "--dataset", f"folder:{root}", "--out", tmp_path / "run")
    assert result.exit_code == 2, result.output
    # The folder recipe's pools need sizes divisible by 4, and its batch more images than 7.
    assert "--model" in result.output or "--image-size" in result.output or "--batch-size" in result.output


def test_a_sweep_trial_takes_the_folders_classes_from_the_loaded_data_not_the_disk(tmp_path):
    import shutil

    from tinyconv.run.datasets import load_dataset
    from tinyconv.sweep.trial import run_trial

    root = make_folder(tmp_path / "patterns", per_class=8, size=(8, 8))
    name = f"folder:{root}"
    data = load_dataset(name, None, "float32", None, None, None)
    shutil.rmtree(root)  # a trial on another node of a cluster has the data, not the folder
    options = {"model": "c4p-f8", "epochs": 1, "batch_size": 8}
    data_options = {"dataset": name, "num_train": None, "num_val": None, "num_test": None, "image_size": None,
                    "channels": None}
    result = run_trial(options, data, data_options, "float32", 0, lambda epoch, val_acc: False)
    assert result["state"] == "complete", result["reason"]
    (tmp_path / "model.npz").write_bytes(result["files"]["model.npz"])
    assert load_metadata(tmp_path / "model.npz")["class_names"] == list(PATTERNS)
