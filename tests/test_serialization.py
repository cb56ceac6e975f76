"""Model and checkpoint files: round trips, atomic writes, and files that must be refused."""

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinyconv import serialization
from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet, TwoLayerNet
from tinyconv.data import get_digits_data
from tinyconv.serialization import load_checkpoint, load_model, save_checkpoint, save_model
from tinyconv.solver import Solver

from .helpers import assert_close_across_machines, assert_normwise_close, assert_refused_before_allocating, invoke

# Files written by tinyconv 0.1.0 (format version 1), with the scores its models gave on five images.
FORMAT_V1 = Path(__file__).resolve().parent / "data" / "format_v1"
FORMAT_V2 = Path(__file__).resolve().parent / "data" / "format_v2"


def _trained_models():
    """One model of every class, with batch-norm running statistics that are not zero."""
    np.random.seed(0)
    models = [
        ThreeLayerConvNet(input_dim=(2, 6, 6), num_filters=3, filter_size=3, hidden_dim=5),
        FullyConnectedNet([5, 4], input_dim=8, normalization="batchnorm", dtype=np.float64,
                          dropout_keep_ratio=0.5, seed=4),
        ConvNet.from_spec("c4p-f6", input_dim=(2, 6, 6), normalization="batchnorm", seed=1),
        ConvNet.from_spec("c4-c4p", input_dim=(2, 6, 6), normalization="groupnorm", seed=2,
                          init="gaussian", weight_scale=0.2, reg=0.3, dtype=np.float64),
        TwoLayerNet(input_dim=8, hidden_dim=5, weight_scale=0.1, reg=0.2),
    ]
    rng = np.random.default_rng(0)
    for model in models:
        shape = model.get_config()["input_dim"]
        X = rng.standard_normal((5, *shape) if isinstance(shape, list) else (5, shape))
        model.loss(X, rng.integers(10, size=5))
        for name in model.params:
            model.params[name] = model.params[name] + 0.01  # differ from a fresh model
    return models


@pytest.mark.parametrize("index", range(5))
def test_model_round_trip_restores_class_config_params_and_buffers(tmp_path, index):
    model = _trained_models()[index]
    path = tmp_path / "model.npz"
    save_model(path, model)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    assert loaded.dtype is model.dtype
    assert loaded.params.keys() == model.params.keys()
    for name, value in model.params.items():
        assert loaded.params[name].dtype == value.dtype
        np.testing.assert_array_equal(loaded.params[name], value)
    for key, value in model.state().items():
        np.testing.assert_array_equal(loaded.state()[key], value)
    X = np.random.default_rng(1).standard_normal((3, 2, 6, 6))
    if isinstance(model, (FullyConnectedNet, TwoLayerNet)):
        X = X.reshape(3, -1)[:, :8]
    np.testing.assert_array_equal(loaded.loss(X), model.loss(X))


def test_files_hold_no_pickle_and_describe_themselves(tmp_path):
    model = _trained_models()[1]
    path = tmp_path / "model.npz"
    save_model(path, model)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    assert all(not value.dtype.hasobject for value in arrays.values())
    record = json.loads(arrays["__tinyconv__"].tobytes())
    assert record["format"] == "tinyconv-model"
    assert record["format_version"] == serialization.FORMAT_VERSION
    assert record["model"]["class"] == "FullyConnectedNet"
    assert record["model"]["dtype"] == "float64"
    assert record["model"]["config"] == model.get_config()
    np.testing.assert_array_equal(arrays["model/params/W1"], model.params["W1"])


def test_loading_does_not_advance_the_global_rng(tmp_path):
    path = tmp_path / "model.npz"
    save_model(path, _trained_models()[0])
    np.random.seed(3)
    expected = np.random.rand()
    np.random.seed(3)
    load_model(path)
    assert np.random.rand() == expected


def test_save_replaces_atomically_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    first, second = _trained_models()[:2]
    path = tmp_path / "model.npz"
    save_model(path, first)
    save_model(path, second)
    assert isinstance(load_model(path), FullyConnectedNet)
    assert os.listdir(tmp_path) == ["model.npz"]

    def failing_savez(file, **arrays):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        save_model(path, first)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.npz"]
    assert isinstance(load_model(path), FullyConnectedNet)


def test_path_is_used_exactly_as_given(tmp_path):
    path = tmp_path / "weights.bin"
    save_model(str(path), _trained_models()[0])
    assert os.listdir(tmp_path) == ["weights.bin"]
    assert isinstance(load_model(str(path)), ThreeLayerConvNet)


def test_checkpoint_round_trip_keeps_nested_solver_state(tmp_path):
    model = _trained_models()[2]
    state = {
        "epoch": 3,
        "best_val_acc": 0.625,
        "rng": {"state": 2**100 + 7, "name": "PCG64"},
        "histories": [np.arange(3.0), np.array([], dtype=np.float64)],
        "configs": {"W1": {"learning_rate": 1e-3, "m": np.ones((2, 2), np.float32), "t": 5}},
        "nothing": None,
        "flag": True,
    }
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model, state)
    loaded_model, loaded = load_checkpoint(path)
    assert loaded_model.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded_model.params["W1"], model.params["W1"])
    assert loaded["epoch"] == 3 and loaded["best_val_acc"] == 0.625
    assert loaded["rng"] == {"state": 2**100 + 7, "name": "PCG64"}
    np.testing.assert_array_equal(loaded["histories"][0], np.arange(3.0))
    assert loaded["histories"][1].shape == (0,)
    assert loaded["configs"]["W1"]["m"].dtype == np.float32
    assert loaded["configs"]["W1"]["t"] == 5
    assert loaded["nothing"] is None and loaded["flag"] is True
    # The model inside a checkpoint can be loaded on its own.
    assert isinstance(load_model(path), ConvNet)


def test_unsavable_values_are_refused(tmp_path):
    model = _trained_models()[0]
    with pytest.raises(TypeError, match="object arrays"):
        save_checkpoint(tmp_path / "a.npz", model, {"x": np.array([{}], dtype=object)})
    with pytest.raises(TypeError, match="cannot save a value of type set"):
        save_checkpoint(tmp_path / "b.npz", model, {"x": {1, 2}})
    with pytest.raises(TypeError, match="only tinyconv models can be saved"):
        save_model(tmp_path / "c.npz", object())
    model.params["W2"] = model.params["W2"].astype(np.float64)  # a file load_model would refuse
    with pytest.raises(TypeError, match=r"model's dtype float32; got \{'W2': 'float64'\}"):
        save_model(tmp_path / "d.npz", model)
    assert os.listdir(tmp_path) == []


def _savez(path, save=np.savez, **arrays):
    with open(path, "wb") as handle:  # a handle, so that no suffix is appended
        save(handle, **arrays)


def _write_record(path, record, extra_arrays=None):
    arrays = dict(extra_arrays or {})
    arrays["__tinyconv__"] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    _savez(path, **arrays)


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _hostile_files(tmp_path):
    """(name, writer) pairs, each writing something load_model must refuse."""
    good = tmp_path / "good.npz"
    save_model(good, _trained_models()[0])
    content = good.read_bytes()
    with np.load(good) as archive:
        good_arrays = {name: archive[name] for name in archive.files}
    good_arrays_record = good_arrays.pop("__tinyconv__")
    good_record = json.loads(good_arrays_record.tobytes())

    def edited(**changes):
        return lambda path: _write_record(path, {**good_record, **changes}, good_arrays)

    def with_model(**changes):
        return edited(model={**good_record["model"], **changes})

    return {
        "empty": lambda path: path.write_bytes(b""),
        "truncated": lambda path: path.write_bytes(content[: len(content) // 2]),
        "random_bytes": lambda path: path.write_bytes(os.urandom(2000)),
        "text": lambda path: path.write_text("W1,b1\n1,2\n"),
        "pickle": lambda path: path.write_bytes(pickle.dumps({"W1": np.ones(3)})),
        "npy": lambda path: path.write_bytes(_npy_bytes(np.ones(3))),
        "foreign_npz": lambda path: _savez(path, W1=np.ones(3)),
        "compressed": lambda path: _savez(path, np.savez_compressed, **good_arrays,
                                          __tinyconv__=good_arrays_record),
        "object_member": lambda path: _write_record(
            path, good_record, {**good_arrays, "extra": np.array([{"a": 1}], dtype=object)}
        ),
        "bad_json": lambda path: _savez(
            path, __tinyconv__=np.frombuffer(b"{not json", dtype=np.uint8)
        ),
        "json_not_object": lambda path: _write_record(path, [1, 2]),
        "wrong_kind": edited(format="something-else"),
        "future_version": edited(format_version=99),
        "unknown_class": with_model(**{"class": "os.system"}),
        "bad_config": with_model(config={**good_record["model"]["config"], "num_filters": -2}),
        "unexpected_config_key": with_model(config={"rm": "-rf"}),
        "params_not_a_dict": with_model(params=[1, 2]),
        "missing_array": lambda path: _write_record(
            path, good_record, {k: v for k, v in good_arrays.items() if not k.endswith("W2")}
        ),
        "wrong_shape": lambda path: _write_record(
            path, good_record, {**good_arrays, "model/params/W2": np.ones((2, 2), np.float32)}
        ),
        "wrong_dtype": lambda path: _write_record(
            path, good_record,
            {**good_arrays, "model/params/W1": good_arrays["model/params/W1"].astype(np.float64)},
        ),
    }


HOSTILE = [
    "empty", "truncated", "random_bytes", "text", "pickle", "npy", "foreign_npz", "compressed",
    "object_member", "bad_json", "json_not_object", "wrong_kind", "future_version",
    "unknown_class", "bad_config", "unexpected_config_key", "params_not_a_dict", "missing_array",
    "wrong_shape",
    "wrong_dtype",
]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_and_damaged_files_are_refused_naming_the_file(tmp_path, kind):
    path = tmp_path / f"{kind}.npz"
    _hostile_files(tmp_path)[kind](path)
    with pytest.raises(ValueError, match=str(path).replace("\\", "\\\\")):
        load_model(path)
    with pytest.raises(ValueError, match="is not a|damaged|format|expected one of|"
                                         "valid tinyconv model|missing array|do not match"):
        load_checkpoint(path)


def test_model_file_is_not_a_checkpoint_and_missing_file_is_not_found(tmp_path):
    path = tmp_path / "model.npz"
    save_model(path, _trained_models()[0])
    with pytest.raises(ValueError, match="expected one of \\['tinyconv-checkpoint'\\]"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.npz")


@pytest.mark.parametrize("name", ["three_layer.npz", "fc_batchnorm.npz", "convnet_groupnorm.npz",
                                  "convnet_batchnorm.npz", "convnet_batchnorm_checkpoint_epoch_2.npz"])
def test_model_files_of_format_version_1_still_load_and_score_as_before(name):
    # The stored scores come from another machine, whose BLAS kernels round differently: equal within a
    # few dozen units in the last place of the scores' scale, not bit for bit (bits are promised between
    # two runs on one machine, which the resume tests check).
    model = load_model(FORMAT_V1 / name)
    with np.load(FORMAT_V1 / "expected_scores.npz") as expected:
        X = expected["X"]
        scores = model.loss(X.reshape(len(X), -1) if isinstance(model, FullyConnectedNet) else X)
        stored = expected[name.replace("_checkpoint_epoch_2", "")]
    assert scores.dtype == stored.dtype
    assert_close_across_machines(scores, stored)


def test_a_format_version_1_checkpoint_resumes_training():
    model, _ = load_checkpoint(FORMAT_V1 / "convnet_batchnorm_checkpoint_epoch_2.npz")
    solver = Solver(model, get_digits_data(num_validation=50, num_test=50), update_rule="adam",
                    optim_config={"learning_rate": 1e-2}, num_epochs=3, batch_size=50, verbose=False, seed=3,
                    resume_from=FORMAT_V1 / "convnet_batchnorm_checkpoint_epoch_2.npz")
    assert solver.epoch == 2 and solver.best_state.keys() == model.state().keys()
    solver.train()
    assert solver.epoch == 3 and len(solver.val_acc_history) == 4


def test_a_file_from_a_newer_tinyconv_says_to_upgrade(tmp_path):
    path = tmp_path / "future.npz"
    _hostile_files(tmp_path)["future_version"](path)
    with pytest.raises(ValueError, match=r"format version 99, written by a newer tinyconv.*Upgrade tinyconv"):
        load_model(path)


@pytest.mark.parametrize("hidden_dim", [400_000, 10**9])
def test_a_config_naming_huge_layers_is_refused_before_anything_is_allocated(tmp_path, hidden_dim):
    good = tmp_path / "good.npz"
    save_model(good, _trained_models()[0])
    with np.load(good) as archive:
        arrays = {name: archive[name] for name in archive.files}
    record = json.loads(arrays.pop("__tinyconv__").tobytes())
    record["model"]["config"]["hidden_dim"] = hidden_dim
    path = tmp_path / "huge.npz"
    _write_record(path, record, arrays)
    # A config too large for memory is refused as such; a smaller one by the stored arrays' shapes.
    assert_refused_before_allocating(lambda: load_model(path), ValueError,
                                     rf"{path}.*(params\['W2'\] must have shape \(27, {hidden_dim}\)|"
                                     r"its parameters would take [0-9,]+ values of float32)")


def test_loading_draws_no_random_numbers(tmp_path, monkeypatch):
    paths = []
    for index, model in enumerate(_trained_models()):
        paths.append(tmp_path / f"{index}.npz")
        save_model(paths[-1], model)

    def no_drawing(*args, **kwargs):
        raise AssertionError("a random number was drawn while loading a model")

    for name in ("normal", "randn", "standard_normal", "rand", "default_rng"):
        monkeypatch.setattr(np.random, name, no_drawing)
    for path in paths:
        load_model(path)


def test_metadata_travels_with_the_model_file(tmp_path):
    path = tmp_path / "model.npz"
    mean_image = np.arange(72.0).reshape(2, 6, 6)
    metadata = {"dataset": "digits", "class_names": ["zero", "one"], "mean_image": mean_image,
                "input": {"value_range": [0, 16]}}
    save_model(path, _trained_models()[0], metadata)
    loaded = serialization.load_metadata(path)
    np.testing.assert_array_equal(loaded.pop("mean_image"), mean_image)
    assert loaded == {"dataset": "digits", "class_names": ["zero", "one"], "input": {"value_range": [0, 16]}}
    save_model(path, _trained_models()[0])
    assert serialization.load_metadata(path) == {}
    with pytest.raises(TypeError, match="metadata must be a dict"):
        save_model(path, _trained_models()[0], ["digits"])


def _with_member_header(path, name, shape):
    """Rewrite the archive at ``path`` so that member ``name``'s .npy header declares ``shape``, its bytes kept."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    member = io.BytesIO(members[name])
    version = np.lib.format.read_magic(member)
    _, fortran_order, dtype = np.lib.format.read_array_header_1_0(member) if version == (1, 0) else (None,) * 3
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                  "fortran_order": fortran_order, "shape": shape})
    members[name] = header.getvalue() + member.read()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for member_name, content in members.items():
            archive.writestr(member_name, content)


def test_an_array_header_declaring_a_huge_shape_is_refused_before_anything_is_allocated(tmp_path):
    path = tmp_path / "huge.npz"
    save_model(path, _trained_models()[0])
    _with_member_header(path, "model/params/W2.npy", (10**12,))
    assert_refused_before_allocating(lambda: load_model(path), ValueError,
                                     rf"{path} is damaged: its member 'model/params/W2.npy' declares an array of "
                                     r"shape \(1000000000000,\) and dtype float32 \(4,000,000,000,000 bytes\) but holds")


def test_a_device_or_a_folder_is_not_read_as_a_model(tmp_path):
    for path in ("/dev/zero", tmp_path):
        with pytest.raises(ValueError, match=f"{path} is not a tinyconv file: it is not a regular file"):
            load_model(path)


def test_a_record_nested_beyond_pythons_reach_is_a_damaged_record(tmp_path):
    path = tmp_path / "deep.npz"
    _savez(path, __tinyconv__=np.frombuffer(b"[" * 100_000 + b"]" * 100_000, dtype=np.uint8))
    with pytest.raises(ValueError, match=f"{path} has a damaged tinyconv record: it is nested deeper"):
        load_model(path)


def test_a_pickle_is_not_a_model_file_and_no_advice_to_unpickle_it(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"W1": np.ones(3)}))
    with pytest.raises(ValueError, match=f"{path} is not a tinyconv file: it is not an npz archive") as caught:
        load_model(path)
    assert "allow_pickle" not in str(caught.value)


@pytest.mark.parametrize("change, message", [
    ({"class_names": ["a", "b", "c"]}, r"metadata\['class_names'\] has 3 names, but the model scores 10 classes"),
    ({"mean_image": np.zeros((1, 9, 9), np.float32)}, r"metadata\['mean_image'\] has shape \(1, 9, 9\)"),
    ({"input": {"channels": 2, "height": 6, "width": 6, "value_range": [16, 0], "background": "dark",
                "fit": "pad"}}, r"metadata\['input'\]\['value_range'\] must be two finite numbers \[low, high\] with low < high"),
    ({"input": {"channels": 2, "height": 6, "width": 6, "value_range": [0, 16], "background": "dark",
                "fit": "squash"}}, r"metadata\['input'\]\['fit'\] must be one of"),
    ({"dataset": 7}, r"metadata\['dataset'\] must be a string"),
])
def test_a_model_files_metadata_is_checked_against_its_model(tmp_path, change, message):
    path = tmp_path / "model.npz"
    save_model(path, _trained_models()[0], {"class_names": [str(k) for k in range(10)], **change})
    with pytest.raises(ValueError, match=f"{path}: {message}"):
        load_model(path)


def test_a_checkpoint_of_tinyconv_0_3_0_resumes_to_where_an_uninterrupted_run_ends(tmp_path):
    # On the machine that wrote it the two agree bit for bit; elsewhere the first two epochs ran on other
    # BLAS kernels, so they agree to rounding, amplified by one epoch of Adam.
    checkpoint = tmp_path / "checkpoint_epoch_2.npz"
    checkpoint.write_bytes((FORMAT_V2 / "digits_c4p-f16_checkpoint_epoch_2.npz").read_bytes())
    result = invoke("train", "--resume", checkpoint, "--epochs", "3", "--out", tmp_path / "resumed")
    assert result.exit_code == 0, result.output
    result = invoke("train", "--model", "c4p-f16", "--epochs", "3", "--batch-size", "100", "--num-val", "100",
                    "--num-test", "50", "--dtype", "float64", "--seed", "3", "--out", tmp_path / "whole")
    assert result.exit_code == 0, result.output
    resumed, whole = (load_model(tmp_path / run / "model.npz") for run in ("resumed", "whole"))
    for name, value in whole.params.items():
        assert resumed.params[name].dtype == np.float64
        assert_normwise_close(resumed.params[name], value, tol=1e-6, what=name)
    metrics = [json.loads((tmp_path / run / "metrics.json").read_text()) for run in ("resumed", "whole")]
    assert metrics[0]["epochs"] == metrics[1]["epochs"] == 3
    assert metrics[0]["options"] == metrics[1]["options"]  # the run goes on with its own settings
