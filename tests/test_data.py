"""tinyconv.data: the bundled digits, CIFAR-10 python batches and Fashion-MNIST IDX files."""

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from tinyconv.data import (get_CIFAR10_data, get_digits_data, get_fashion_mnist_data, load_CIFAR10,
                           load_CIFAR_batch, load_digits, load_fashion_mnist, load_tiny_imagenet, read_idx)
from tinyconv.data._prepare import prepare_splits
from tinyconv.data.cifar10 import unpickle_batch

from .dataset_files import make_cifar_dir, make_fashion_dir, make_tiny_imagenet_dir, write_cifar_batch, write_idx
from .helpers import assert_refused_before_allocating


# ---------------------------------------------------------------- bundled digits

def test_load_digits_shapes_values_and_classes():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8, 1) and images.dtype == np.uint8
    assert labels.shape == (1797,)
    assert images.min() == 0 and images.max() == 16
    counts = np.bincount(labels)
    assert len(counts) == 10 and counts.min() >= 170


def _rows_as_bytes(images):
    return sorted(row.tobytes() for row in images.reshape(len(images), -1))


def test_digits_splits_partition_the_data_and_are_stratified():
    images, labels = load_digits()
    data = get_digits_data(num_validation=300, num_test=100, subtract_mean=False, dtype=np.float64)
    sizes = {name: len(data[f"y_{name}"]) for name in ("train", "val", "test")}
    assert sizes == {"train": 1397, "val": 300, "test": 100}
    for name in ("train", "val", "test"):
        assert data[f"X_{name}"].shape == (sizes[name], 1, 8, 8)
        assert data[f"y_{name}"].dtype == np.int64
    together = np.concatenate([data[f"X_{name}"] for name in ("train", "val", "test")]).astype(np.uint8)
    assert _rows_as_bytes(together) == _rows_as_bytes(images)
    class_share = np.bincount(labels) / len(labels)
    for name, size in (("val", 300), ("test", 100)):
        assert np.all(np.abs(np.bincount(data[f"y_{name}"], minlength=10) - class_share * size) <= 1.5)


def test_digits_split_depends_on_the_seed_only():
    first, again = get_digits_data(seed=3), get_digits_data(seed=3)
    other = get_digits_data(seed=4)
    np.testing.assert_array_equal(first["X_val"], again["X_val"])
    np.testing.assert_array_equal(first["y_test"], again["y_test"])
    assert not np.array_equal(first["X_val"], other["X_val"])


def test_digits_mean_subtraction_and_dtype():
    raw = get_digits_data(subtract_mean=False, dtype=np.float64)
    centred = get_digits_data(subtract_mean=True, dtype=np.float32)
    mean_image = raw["X_train"].mean(axis=0)
    assert centred["X_train"].dtype == np.float32
    for name in ("train", "val", "test"):
        np.testing.assert_allclose(centred[f"X_{name}"], raw[f"X_{name}"] - mean_image, atol=1e-5)
    assert abs(centred["X_train"].mean(axis=0)).max() < 1e-4


@pytest.mark.parametrize("kwargs, error", [
    ({"num_validation": -1}, ValueError),
    ({"num_test": 2.5}, TypeError),
    ({"num_validation": 1000, "num_test": 797}, ValueError),
    ({"dtype": np.int32}, ValueError),
    ({"dtype": "not a dtype"}, ValueError),
])
def test_digits_bad_arguments(kwargs, error):
    with pytest.raises(error, match="|".join(kwargs)):
        get_digits_data(**kwargs)


# ---------------------------------------------------------------- shared preprocessing

def test_prepare_splits_layout_and_inputs_untouched():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(6, 4, 5, 3), dtype=np.uint8)
    val = rng.integers(0, 256, size=(2, 4, 5, 3), dtype=np.uint8)
    train_copy = train.copy()
    data = prepare_splits("test", {"train": (train, [0, 1, 2, 0, 1, 2]), "val": (val, [1, 1])}, dtype=np.float64)
    assert data["X_val"].shape == (2, 3, 4, 5) and data["X_val"].flags.c_contiguous
    mean = train.astype(np.float64).mean(axis=0)
    for n, c, h, w in [(0, 2, 3, 4), (1, 0, 1, 2)]:
        assert data["X_val"][n, c, h, w] == pytest.approx(val[n, h, w, c] - mean[h, w, c])
    np.testing.assert_array_equal(train, train_copy)
    assert set(data) == {"X_train", "y_train", "X_val", "y_val", "mean_image"}
    np.testing.assert_array_equal(data["mean_image"], mean.transpose(2, 0, 1))
    assert prepare_splits("test", {"train": (train, [0] * 6)}, subtract_mean=False)["mean_image"] is None


# ---------------------------------------------------------------- CIFAR-10

def _python2_pickle(data, labels):
    """The opcode stream Python 2's cPickle writes for a real CIFAR-10 batch (protocol 2).

    Strings are BINSTRINGs, and the array is rebuilt by numpy.core.multiarray._reconstruct.
    """
    def string(raw):
        return b"U" + bytes([len(raw)]) + raw if len(raw) < 256 else b"T" + struct.pack("<I", len(raw)) + raw

    def integer(value):
        return b"K" + bytes([value]) if 0 <= value < 256 else b"J" + struct.pack("<i", value)

    dtype_state = b"(" + integer(3) + string(b"|") + b"NNN" + integer(-1) + integer(-1) + integer(0) + b"t"
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + integer(0) + b"\x85" + string(b"b")
             + b"\x87R(" + integer(1) + integer(data.shape[0]) + b"M" + struct.pack("<H", data.shape[1])
             + b"\x86cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R" + dtype_state
             + b"b\x89" + string(data.tobytes()) + b"tb")
    label_list = b"](" + b"".join(integer(label) for label in labels) + b"e"
    return (b"\x80\x02}(" + string(b"data") + array + string(b"labels") + label_list
            + string(b"batch_label") + string(b"training batch 1 of 5") + b"u.")


def test_python2_batch_loads(tmp_path):
    rng = np.random.default_rng(5)
    data = rng.integers(0, 256, size=(3, 3072), dtype=np.uint8)
    path = tmp_path / "data_batch_1"
    path.write_bytes(_python2_pickle(data, [9, 0, 4]))
    images, labels = load_CIFAR_batch(path)
    np.testing.assert_array_equal(labels, [9, 0, 4])
    assert images.shape == (3, 32, 32, 3)
    assert images.dtype == np.float64  # as cs231n's: uint8 arithmetic would wrap around silently
    # Row layout: 1024 red, 1024 green, 1024 blue, each 32x32 row-major.
    for n, row, column, channel in [(0, 0, 0, 0), (1, 5, 31, 1), (2, 31, 7, 2)]:
        assert images[n, row, column, channel] == data[n, channel * 1024 + row * 32 + column]


def test_load_cifar10_layout_and_dtype(tmp_path):
    cifar_dir = make_cifar_dir(tmp_path)
    Xtr, ytr, Xte, yte = load_CIFAR10(cifar_dir.root)
    assert Xtr.shape == (40, 32, 32, 3) and Xte.shape == (10, 32, 32, 3)
    assert Xtr.dtype == np.float64
    np.testing.assert_array_equal(ytr, cifar_dir.train_labels)
    np.testing.assert_array_equal(yte, cifar_dir.test_labels)
    planes = cifar_dir.train_data.reshape(40, 3, 32, 32)
    np.testing.assert_array_equal(Xtr[:, 10, 20, :], planes[:, :, 10, 20])
    np.testing.assert_array_equal(Xte.reshape(10, -1, 3)[:, :, 1], cifar_dir.test_data[:, 1024:2048])


def test_get_cifar10_data_splits_and_mean(tmp_path):
    cifar_dir = make_cifar_dir(tmp_path)
    data = get_CIFAR10_data(num_training=30, num_validation=6, num_test=4, cifar10_dir=cifar_dir.root,
                            dtype=np.float64)
    images = cifar_dir.train_data.reshape(40, 3, 32, 32).astype(np.float64)
    mean_image = images[:30].mean(axis=0)
    np.testing.assert_allclose(data["X_train"], images[:30] - mean_image)
    np.testing.assert_allclose(data["X_val"], images[30:36] - mean_image)
    np.testing.assert_allclose(data["X_test"],
                               cifar_dir.test_data[:4].reshape(4, 3, 32, 32) - mean_image)
    np.testing.assert_array_equal(data["y_val"], cifar_dir.train_labels[30:36])
    assert get_CIFAR10_data(30, 6, 4, cifar10_dir=cifar_dir.root)["X_train"].dtype == np.float32


def test_get_cifar10_data_directory_from_environment(tmp_path, monkeypatch):
    cifar_dir = make_cifar_dir(tmp_path)
    monkeypatch.setenv("TINYCONV_CIFAR10", str(cifar_dir.root))
    data = get_CIFAR10_data(num_training=20, num_validation=5, num_test=5, subtract_mean=False)
    np.testing.assert_array_equal(data["y_test"], cifar_dir.test_labels[:5])
    monkeypatch.delenv("TINYCONV_CIFAR10")
    with pytest.raises(ValueError, match="TINYCONV_CIFAR10"):
        get_CIFAR10_data()


def test_get_cifar10_data_too_many_rows(tmp_path):
    cifar_dir = make_cifar_dir(tmp_path)
    with pytest.raises(ValueError, match="num_training=49000"):
        get_CIFAR10_data(cifar10_dir=cifar_dir.root)


def test_missing_cifar_files(tmp_path):
    cifar_dir = make_cifar_dir(tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_CIFAR10(tmp_path / "nowhere")
    os.remove(cifar_dir.root / "data_batch_3")
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_CIFAR10(cifar_dir.root)


class _RunsShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _CallsEval:
    def __reduce__(self):
        return eval, ("1 + 1",)


class _HugeArray:
    """Calls numpy.ndarray directly: a 1 TB allocation if it were allowed."""

    def __reduce__(self):
        return np.ndarray, ((2**40,),)


@pytest.mark.parametrize("payload", ["shell_at_top", "shell_inside_dict", "eval_as_labels", "object_array",
                                     "huge_array"])
def test_hostile_pickles_are_refused_without_running(tmp_path, payload):
    marker = tmp_path / "was_executed"
    data = np.zeros((2, 3072), dtype=np.uint8)
    content = {
        "shell_at_top": _RunsShellCommand(marker),
        "shell_inside_dict": {b"data": data, b"labels": [0, 1], b"batch_label": _RunsShellCommand(marker)},
        "eval_as_labels": {b"data": data, b"labels": _CallsEval()},
        "object_array": {b"data": np.array([[1, 2]], dtype=object), b"labels": [0]},
        "huge_array": {b"data": _HugeArray(), b"labels": [0]},
    }[payload]
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ValueError, match=r"data_batch_1.*refusing"):
        load_CIFAR_batch(path)
    assert not marker.exists()


@pytest.mark.parametrize("data, labels, message", [
    (np.zeros((2, 3000), dtype=np.uint8), [0, 1], r"shape \(N, 3072\)"),
    (np.zeros((2, 3, 1024), dtype=np.uint8), [0, 1], r"shape \(N, 3072\)"),
    (np.zeros((2, 3072), dtype=np.uint8), [0, 1, 2], "2 images but 3 labels"),
    (np.zeros((2, 3072), dtype=np.uint8), [0, 10], r"0\.\.9"),
    (np.zeros((2, 3072), dtype=np.uint8), [-1, 3], r"0\.\.9"),
    (np.zeros((2, 3072), dtype=np.uint8), [0, "cat"], "list of ints"),
    (np.zeros((2, 3072), dtype=np.float64), [0, 1], "refusing array dtype 'f8'"),
])
def test_malformed_batches(tmp_path, data, labels, message):
    path = tmp_path / "test_batch"
    write_cifar_batch(path, data, labels)
    with pytest.raises(ValueError, match=message) as error:
        load_CIFAR_batch(path)
    assert "test_batch" in str(error.value)


def test_batch_missing_key_or_not_a_dict(tmp_path):
    path = tmp_path / "data_batch_2"
    path.write_bytes(pickle.dumps({b"labels": [1]}, protocol=2))
    with pytest.raises(ValueError, match=r"data_batch_2.*missing \['data'\]"):
        load_CIFAR_batch(path)
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(ValueError, match="data_batch_2.*list"):
        load_CIFAR_batch(path)


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.9, 0.999])
def test_truncated_batch(tmp_path, keep):
    cifar_dir = make_cifar_dir(tmp_path)
    path = cifar_dir.root / "data_batch_4"
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep)])
    with pytest.raises(ValueError, match="data_batch_4"):
        load_CIFAR10(cifar_dir.root)


# ---------------------------------------------------------------- Fashion-MNIST

@pytest.mark.parametrize("gzipped", [True, False])
def test_read_idx_round_trip(tmp_path, gzipped):
    values = np.random.default_rng(2).integers(0, 256, size=(4, 3, 5), dtype=np.uint8)
    path = tmp_path / "images"
    write_idx(path, values, gzipped)
    result = read_idx(path, ndim=3)
    np.testing.assert_array_equal(result, values)
    assert result.dtype == np.uint8


def test_load_fashion_mnist_mixed_gzip(tmp_path):
    fashion_dir = make_fashion_dir(tmp_path)
    Xtr, ytr, Xte, yte = load_fashion_mnist(fashion_dir.root)
    assert Xtr.shape == (30, 28, 28, 1) and Xte.shape == (12, 28, 28, 1)
    np.testing.assert_array_equal(Xtr[..., 0], fashion_dir.train_images)
    np.testing.assert_array_equal(Xte[..., 0], fashion_dir.test_images)
    np.testing.assert_array_equal(ytr, fashion_dir.train_labels)
    np.testing.assert_array_equal(yte, fashion_dir.test_labels)


def test_get_fashion_mnist_data(tmp_path, monkeypatch):
    fashion_dir = make_fashion_dir(tmp_path)
    monkeypatch.setenv("TINYCONV_FASHION_MNIST", str(fashion_dir.root))
    data = get_fashion_mnist_data(num_training=20, num_validation=10, num_test=12, dtype=np.float64)
    mean_image = fashion_dir.train_images[:20].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(data["X_val"][:, 0], fashion_dir.train_images[20:30] - mean_image)
    np.testing.assert_allclose(data["X_test"][:, 0], fashion_dir.test_images - mean_image)
    np.testing.assert_array_equal(data["y_train"], fashion_dir.train_labels[:20])
    with pytest.raises(ValueError, match="num_test=13"):
        get_fashion_mnist_data(fashion_dir.root, num_training=20, num_validation=10, num_test=13)


def _idx_bytes(magic, shape, payload):
    return bytes(magic) + struct.pack(f">{len(shape)}I", *shape) + payload


@pytest.mark.parametrize("content, message", [
    (_idx_bytes([0, 0, 8, 3], (2, 2, 2), bytes(7)), "promises"),
    (_idx_bytes([0, 0, 8, 3], (2, 2, 2), bytes(9)), "promises"),
    (_idx_bytes([0, 0, 9, 3], (2, 2, 2), bytes(8)), "magic"),
    (_idx_bytes([0, 0, 8, 1], (8,), bytes(8)), "magic"),
    (_idx_bytes([1, 0, 8, 3], (2, 2, 2), bytes(8)), "magic"),
    (b"\x00\x00\x08", "too short"),
    (gzip.compress(_idx_bytes([0, 0, 8, 3], (2, 2, 2), bytes(8)))[:-6], "gzip"),
])
def test_read_idx_rejects_bad_files(tmp_path, content, message):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        read_idx(path, ndim=3)
    assert "broken-idx3-ubyte" in str(error.value)


def test_fashion_mnist_bad_labels_and_counts(tmp_path):
    fashion_dir = make_fashion_dir(tmp_path)
    labels_path = fashion_dir.root / "t10k-labels-idx1-ubyte"
    write_idx(labels_path, np.array([0] * 11 + [10], dtype=np.uint8), gzipped=False)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.*0\.\.9"):
        load_fashion_mnist(fashion_dir.root)
    write_idx(labels_path, np.zeros(11, dtype=np.uint8), gzipped=False)
    with pytest.raises(ValueError, match="12 images but .* 11 labels"):
        load_fashion_mnist(fashion_dir.root)
    os.remove(labels_path)
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_fashion_mnist(fashion_dir.root)


# --- Tiny ImageNet ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_load_tiny_imagenet_layout_labels_and_mean(tmp_path, dtype):
    files = make_tiny_imagenet_dir(tmp_path)
    data = load_tiny_imagenet(files.root, dtype=dtype)
    assert data["class_names"] == [["goldfish", "Carassius auratus"], ["European fire salamander"],
                                   ["bullfrog", "Rana catesbeiana"]]
    mean = files.train.mean(axis=0).transpose(2, 0, 1)
    np.testing.assert_allclose(data["mean_image"], mean, rtol=1e-6)
    for split in ("train", "val", "test"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        assert X.dtype == dtype and X.shape == (len(getattr(files, split)), 3, 64, 64)
        np.testing.assert_allclose(X, getattr(files, split).transpose(0, 3, 1, 2) - mean, rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(y, getattr(files, f"{split}_labels"))
        assert y.dtype == np.int64


def test_load_tiny_imagenet_without_test_labels_or_mean_subtraction(tmp_path):
    files = make_tiny_imagenet_dir(tmp_path, test_labels=False)
    data = load_tiny_imagenet(files.root, subtract_mean=False)
    assert data["y_test"] is None
    np.testing.assert_array_equal(data["X_val"], files.val.transpose(0, 3, 1, 2))


def test_load_tiny_imagenet_names_what_is_missing_or_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="Tiny ImageNet folder not found: .*wnids.txt"):
        load_tiny_imagenet(tmp_path / "absent")
    files = make_tiny_imagenet_dir(tmp_path)
    with pytest.raises(ValueError, match=r"expected a 8x8 grayscale or RGB image, got shape \(64, 64, 3\)"):
        load_tiny_imagenet(files.root, image_size=(8, 8))
    annotations = files.root / "val" / "val_annotations.txt"
    annotations.write_text(annotations.read_text() + "val_0.png\tn09999999\n")
    with pytest.raises(ValueError, match="class 'n09999999' is not in wnids.txt"):
        load_tiny_imagenet(files.root)
    (files.root / "wnids.txt").unlink()
    with pytest.raises(FileNotFoundError, match="wnids.txt"):
        load_tiny_imagenet(files.root)


def test_unpickle_batch_reads_an_open_batch_and_refuses_other_globals(tmp_path):
    write_cifar_batch(tmp_path / "batch", np.zeros((2, 3072), np.uint8), [3, 4])
    with open(tmp_path / "batch", "rb") as file:
        assert unpickle_batch(file)[b"labels"] == [3, 4]
    (tmp_path / "other").write_bytes(pickle.dumps(os.getcwd))
    with open(tmp_path / "other", "rb") as file, pytest.raises(pickle.UnpicklingError, match="refusing global"):
        unpickle_batch(file)


def test_a_gzip_that_inflates_beyond_its_header_is_refused_having_inflated_no_more_than_the_header_promised(tmp_path):
    # 256 MiB of zeros behind a header that promises 8 values: refused after reading 9 of them.
    path = tmp_path / "bomb-idx3-ubyte.gz"
    with gzip.open(path, "wb", compresslevel=9) as stream:
        stream.write(_idx_bytes([0, 0, 8, 3], (2, 2, 2), bytes(8)))
        for _ in range(256):
            stream.write(bytes(2**20))
    assert path.stat().st_size < 2**20
    assert_refused_before_allocating(lambda: read_idx(path, ndim=3), ValueError,
                                     r"header promises \(2, 2, 2\) = 8 bytes of values, file has more than 8")


def test_a_header_promising_more_values_than_any_dataset_has_is_refused_before_inflating(tmp_path):
    path = tmp_path / "huge-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_bytes([0, 0, 8, 3], (60000, 2000, 2000), bytes(64))))
    with pytest.raises(ValueError, match=r"header promises \(60000, 2000, 2000\) = 240,000,000,000 values, more"):
        read_idx(path, ndim=3)


def test_a_missing_idx_file_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent-idx3-ubyte", ndim=3)


@pytest.mark.parametrize("line, message", [
    ("n01443537 goldfish\n", r"words.txt, line 1: expected 2 tab-separated fields, got 'n01443537 goldfish'"),
    ("n00000001\tsomething else\n", r"words.txt has no names for the classes \['n"),
])
def test_a_tiny_imagenet_words_file_without_its_tabs_is_refused_naming_the_file_and_line(tmp_path, line, message):
    files = make_tiny_imagenet_dir(tmp_path)
    (files.root / "words.txt").write_text(line)
    with pytest.raises(ValueError, match=message):
        load_tiny_imagenet(files.root)


@pytest.mark.parametrize("label", [2**63, -1, 10])
def test_a_cifar_label_outside_the_classes_is_refused_naming_the_file(tmp_path, label):
    path = tmp_path / "data_batch_1"
    write_cifar_batch(path, np.zeros((2, 3072), np.uint8), [3, label])
    with pytest.raises(ValueError, match=rf"{path}: labels must lie in 0..9, found {label}"):
        load_CIFAR_batch(path)
