"""Small datasets written in the exact on-disk formats tinyconv reads."""

import gzip
import pickle
import struct
import types

import numpy as np


def write_cifar_batch(path, data, labels, **extra):
    """Write a CIFAR-10 python batch: a protocol-2 pickle of a dict with bytes keys."""
    batch = {b"batch_label": b"generated batch", b"labels": list(labels), b"data": data,
             b"filenames": [f"image_{index}.png".encode() for index in range(len(labels))]}
    batch.update(extra)
    with open(path, "wb") as file:
        pickle.dump(batch, file, protocol=2)


def write_idx(path, values, gzipped):
    """Write a uint8 array as an IDX file: 0, 0, type 0x08, ndim, big-endian uint32 sizes, values."""
    header = struct.pack(">BBBB", 0, 0, 0x08, values.ndim) + struct.pack(f">{values.ndim}I", *values.shape)
    payload = header + values.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if gzipped else payload)


def make_cifar_dir(tmp_path):
    """Write a CIFAR-10 folder with 5 training batches of 8 images and a test batch of 10.

    Returns a namespace with ``root`` and the raw rows ``train_data (40, 3072)``,
    ``train_labels (40,)``, ``test_data (10, 3072)``, ``test_labels (10,)``.
    """
    rng = np.random.default_rng(1234)
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    train_data = rng.integers(0, 256, size=(40, 3072), dtype=np.uint8)
    train_labels = rng.integers(0, 10, size=40)
    for index in range(5):
        rows = slice(8 * index, 8 * (index + 1))
        write_cifar_batch(root / f"data_batch_{index + 1}", train_data[rows], train_labels[rows].tolist())
    test_data = rng.integers(0, 256, size=(10, 3072), dtype=np.uint8)
    test_labels = rng.integers(0, 10, size=10)
    write_cifar_batch(root / "test_batch", test_data, test_labels.tolist())
    return types.SimpleNamespace(root=root, train_data=train_data, train_labels=train_labels,
                                 test_data=test_data, test_labels=test_labels)


def make_fashion_dir(tmp_path, size=28):
    """Write a Fashion-MNIST folder: 30 training and 12 test images of ``size`` x ``size`` (the real ones are
    28x28), training files gzipped.

    Returns a namespace with ``root``, ``train_images (30, 28, 28)``, ``train_labels (30,)``,
    ``test_images (12, 28, 28)``, ``test_labels (12,)``.
    """
    rng = np.random.default_rng(99)
    root = tmp_path / "fashion"
    root.mkdir()
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, size=(30, size, size), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, size=30, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(12, size, size), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, size=12, dtype=np.uint8),
    }
    for name, values in arrays.items():
        gzipped = name.startswith("train")
        write_idx(root / (name + ".gz" if gzipped else name), values, gzipped)
    return types.SimpleNamespace(root=root, train_images=arrays["train-images-idx3-ubyte"],
                                 train_labels=arrays["train-labels-idx1-ubyte"],
                                 test_images=arrays["t10k-images-idx3-ubyte"],
                                 test_labels=arrays["t10k-labels-idx1-ubyte"])


def make_tiny_imagenet_dir(tmp_path, test_labels=True, size=64):
    """Write a Tiny ImageNet folder of 3 classes: 2 training images each, 4 validation and 3 test images.

    PNG files of ``size`` x ``size`` (the real ones are JPEGs of 64x64); the second training image of the
    second class is grayscale. Returns a namespace with ``root``, ``wnids``, ``train (6, size, size, 3)``
    and ``train_labels``, ``val (4, ...)`` and ``val_labels``, ``test (3, ...)`` (in file-name order) and
    ``test_labels``.
    """
    import imageio.v2 as imageio

    rng = np.random.default_rng(5)
    root = tmp_path / "tiny-imagenet"
    wnids = ["n01443537", "n01629819", "n01641577"]
    names = {"n01443537": "goldfish, Carassius auratus", "n01629819": "European fire salamander",
             "n01641577": "bullfrog, Rana catesbeiana", "n09999999": "not a class of this set"}

    def image(path, gray=False):
        pixels = rng.integers(0, 256, size=(size, size) if gray else (size, size, 3), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        imageio.imwrite(path, pixels)
        return np.repeat(pixels[:, :, None], 3, axis=2) if gray else pixels

    root.mkdir()
    (root / "wnids.txt").write_text("".join(f"{wnid}\n" for wnid in wnids))
    (root / "words.txt").write_text("".join(f"{wnid}\t{words}\n" for wnid, words in names.items()))
    train, train_labels = [], []
    for label, wnid in enumerate(wnids):
        files = [f"{wnid}_{index}.png" for index in range(2)]
        (root / "train" / wnid).mkdir(parents=True)
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("".join(f"{name}\t0\t0\t3\t3\n" for name in files))
        for index, name in enumerate(files):
            train.append(image(root / "train" / wnid / "images" / name, gray=(label, index) == (1, 1)))
            train_labels.append(label)
    val_labels = [2, 0, 1, 2]
    val = [image(root / "val" / "images" / f"val_{index}.png") for index in range(4)]
    (root / "val" / "val_annotations.txt").write_text(
        "".join(f"val_{index}.png\t{wnids[label]}\t0\t0\t3\t3\n" for index, label in enumerate(val_labels)))
    test_files = ["test_2.png", "test_0.png", "test_1.png"]
    test_by_name = {name: image(root / "test" / "images" / name) for name in test_files}
    label_by_name = {"test_0.png": 1, "test_1.png": 0, "test_2.png": 2}
    if test_labels:
        (root / "test" / "test_annotations.txt").write_text(
            "".join(f"{name}\t{wnids[label]}\n" for name, label in label_by_name.items()))
    ordered = sorted(test_files)
    return types.SimpleNamespace(root=root, wnids=wnids, train=np.stack(train), train_labels=np.array(train_labels),
                                 val=np.stack(val), val_labels=np.array(val_labels),
                                 test=np.stack([test_by_name[name] for name in ordered]),
                                 test_labels=np.array([label_by_name[name] for name in ordered]))
