"""What a run shows of itself: the evaluation record (per-class figures, confusion matrix, worst errors),
``tinyconv evaluate --json --out``, and report.html, checked in Python and in headless Chromium."""

import base64
import io
import json
import os
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from PIL import Image

from tinyconv.evaluation import confusion_matrix, evaluate, per_class, worst_errors

from .helpers import SMALL_RUN, invoke
from .oracle import REQUIRE_ENV


def test_per_class_figures_come_from_the_confusion_matrix():
    counts = confusion_matrix(np.array([0, 0, 0, 1, 1, 2]), np.array([0, 0, 1, 1, 0, 1]), 3)
    np.testing.assert_array_equal(counts, [[2, 1, 0], [1, 1, 0], [0, 1, 0]])
    rows = per_class(counts, ["a", "b", "c"])
    assert rows[0] == {"class": "a", "precision": 2 / 3, "recall": 2 / 3, "f1": pytest.approx(2 / 3), "support": 3}
    assert rows[1]["precision"] == 1 / 3 and rows[1]["recall"] == 1 / 2 and rows[1]["f1"] == pytest.approx(0.4)
    assert rows[2] == {"class": "c", "precision": None, "recall": 0.0, "f1": None, "support": 1}  # never predicted


def test_the_worst_errors_are_the_surest_mistakes_first():
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7], [0.05, 0.95], [0.6, 0.4]])
    errors = worst_errors(probabilities, np.array([0, 0, 0, 1]), 5)
    assert [error["index"] for error in errors] == [2, 1, 3]
    assert errors[0] == {"index": 2, "true": 0, "predicted": 1, "predicted_probability": 0.95, "true_probability": 0.05}
    assert len(worst_errors(probabilities, np.array([0, 0, 0, 1]), 2)) == 2


def test_evaluate_scores_once_and_checks_the_classes():
    class Lookup:
        def loss(self, X, y=None):
            return np.eye(3)[X[:, 0].astype(int)] * 4

    X, y = np.array([[0], [1], [2], [1]], dtype=float), np.array([0, 1, 1, 1])
    record = evaluate(Lookup(), X, y, ["x", "y", "z"])
    assert record["accuracy"] == 0.75 and record["images"] == 4 and record["confusion"] == [[1, 0, 0], [0, 2, 1],
                                                                                            [0, 0, 0]]
    assert [error["index"] for error in record["worst_errors"]] == [2]
    assert record["macro_f1"] == pytest.approx(np.mean([1.0, 0.8]))  # z has no images: left out of the mean
    json.dumps(record)  # plain numbers and lists
    with pytest.raises(ValueError, match="the model scores 3 classes, but class_names has 2"):
        evaluate(Lookup(), X, np.array([0, 1, 1, 0]), ["x", "y"])


def test_evaluate_writes_json_and_pictures_that_agree_with_what_it_prints(small_run, tmp_path):
    result = invoke("evaluate", small_run / "model.npz", "--json", tmp_path / "eval.json", "--out", tmp_path / "pictures")
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "eval.json").read_text())
    assert f"accuracy {record['accuracy']:.4f}" in result.output and "precision  recall      F1" in result.output
    assert record["split"] == "val" and record["images"] == 100 == sum(map(sum, record["confusion"]))
    assert [row["support"] for row in record["per_class"]] == [sum(row) for row in record["confusion"]]
    wrong = 100 - sum(record["confusion"][k][k] for k in range(10))
    assert len(record["worst_errors"]) == min(16, wrong)
    for name in ("confusion.png", "errors.png"):
        with Image.open(tmp_path / "pictures" / name) as picture:
            picture.load()
            assert picture.width > 100 and picture.height > 100


def _pictures(page):
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_a_run_writes_a_report_that_holds_its_figures_and_pictures(small_run):
    page = (small_run / "report.html").read_text()
    metrics = json.loads((small_run / "metrics.json").read_text())
    assert f"validation accuracy {metrics['val_acc']:.4f}" in page and "c4p-f16 on digits" in page
    assert page.count("<tr><td>") >= 10 + 3  # a row per class, the model's ops
    assert "http" not in page.replace("http-equiv", "") and "<script" not in page  # nothing fetched, nothing run
    pictures = _pictures(page)
    every_one_right = "None: every validation image is classified right" in page
    assert len(pictures) == 4 - every_one_right  # curves, confusion, the worst errors (if any), filters
    assert pictures[0] == (small_run / "curves.png").read_bytes() and pictures[-1] == (small_run / "filters.png").read_bytes()
    for data in pictures:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()


def test_the_report_command_writes_it_again_and_refuses_a_folder_without_a_run(small_run, tmp_path):
    (small_run / "report.html").unlink()
    result = invoke("report", small_run)
    assert result.exit_code == 0 and (small_run / "report.html").is_file(), result.output
    refused = invoke("report", tmp_path)
    assert refused.exit_code == 2 and "holds no finished run (metrics.json and model.npz missing)" in refused.output


def test_a_report_that_cannot_be_drawn_is_a_warning_and_the_run_is_kept(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr("tinyconv.report.write_report", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = invoke("train", *SMALL_RUN, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert any("report.html was not written: RuntimeError: no fonts" in str(warning.message) for warning in caught)
    assert (tmp_path / "run" / "model.npz").is_file() and not (tmp_path / "run" / "report.html").exists()


def _chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium is not installed (apt-get install chromium), which the report's browser test needs"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_the_report_loads_in_headless_chromium_with_every_picture_decoded(small_run, tmp_path):
    chromium = _chromium()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'p'}",
             "--enable-logging=stderr", "--v=0"]
    # A copy that says, in its title, whether every picture decoded: the report itself has no script.
    probe = (small_run / "report.html").read_text().replace("</body>", (
        "<script>addEventListener('load', () => { const all = [...document.images]; document.title = "
        "all.length + ' images, ' + all.filter(i => i.complete && i.naturalWidth > 0).length + ' decoded'; "
        "});</script></body>"))
    (tmp_path / "probe.html").write_text(probe)
    dom = subprocess.run([chromium, *flags, "--dump-dom", (tmp_path / "probe.html").as_uri()], capture_output=True,
                         text=True, timeout=120)
    count = len(_pictures(probe))
    assert count >= 3 and f"<title>{count} images, {count} decoded</title>" in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "shot.png"
    page = subprocess.run([chromium, *flags, "--window-size=1200,2400", f"--screenshot={shot}",
                           (small_run / "report.html").as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.is_file(), page.stderr[-2000:]
    console = [line for line in page.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    with Image.open(shot) as screenshot:
        pixels = np.asarray(screenshot.convert("L"), dtype=np.float64)
    assert pixels.std() > 20 and (pixels < 100).mean() > 0.01  # text and pictures, not a blank page
