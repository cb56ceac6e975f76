"""tinyconv.cs231n: the starter's module tree, its names per course year, its faces, and a notebook run on it."""

import ast
import importlib
import os
import pickle
import traceback
from pathlib import Path

import numpy as np
import pytest

import tinyconv
from tinyconv import gradcheck, layers, models, optim, solver, viz
from tinyconv._checks import ConvGeometry
from tinyconv.cs231n import data_utils, fast_layers, im2col, im2col_cython
from tinyconv.cs231n._optional import OptionalModule
from tinyconv.layers._im2col import _im2col

from . import oracle
from .cs231n_names import STARTER_NAMES
from .dataset_files import make_cifar_dir, make_tiny_imagenet_dir, write_cifar_batch

MODULES = sorted(STARTER_NAMES[2024])
ALL_YEARS = {module: frozenset().union(*(names[module] for names in STARTER_NAMES.values())) for module in MODULES}


def star_import(module):
    """The names ``from tinyconv.cs231n.<module> import *`` binds."""
    namespace = {}
    exec(f"from tinyconv.cs231n.{module} import *", namespace)
    return set(namespace) - {"__builtins__"}


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("year", sorted(STARTER_NAMES))
def test_each_module_exposes_every_name_of_the_starters_module(year, module):
    missing = STARTER_NAMES[year][module] - star_import(module)
    assert not missing, f"{year} cs231n.{module} has {sorted(missing)}, tinyconv.cs231n.{module} does not"


@pytest.mark.parametrize("module", MODULES)
def test_each_module_exposes_nothing_the_starter_did_not(module):
    extra = star_import(module) - ALL_YEARS[module]
    assert not extra, f"tinyconv.cs231n.{module} exposes {sorted(extra)}, which no starter year has"


# What a mirror module defines itself (other names may be aliases of these); all else is tinyconv's, the
# standard library's or NumPy's.
FACES = {
    "fast_layers": {"conv_forward_im2col"},
    "im2col": {"get_im2col_indices", "im2col_indices", "col2im_indices"},
    "data_utils": {"get_CIFAR10_data", "load_pickle", "load_models", "load_imagenet_val"},
}


@pytest.mark.parametrize("module", MODULES)
def test_modules_are_faces_over_tinyconv(module):
    mirror = importlib.import_module(f"tinyconv.cs231n.{module}")
    objects = [getattr(mirror, name) for name in star_import(module)]
    own = {obj.__name__ for obj in objects if getattr(obj, "__module__", "") == f"tinyconv.cs231n.{module}"}
    assert own == FACES.get(module, set())


def test_faces_share_tinyconvs_objects():
    from tinyconv.cs231n import gradient_check, layer_utils, vis_utils
    from tinyconv.cs231n import optim as mirror_optim
    from tinyconv.cs231n import solver as mirror_solver
    from tinyconv.cs231n.classifiers import cnn, fc_net

    for name in ["conv_forward_naive", "dropout_forward", "svm_loss", "spatial_groupnorm_backward"]:
        assert getattr(layer_utils, name) is getattr(layers, name)
    assert layer_utils.conv_relu_pool_forward is layers.conv_relu_pool_forward
    assert fast_layers.conv_forward_fast is layers.conv_forward_fast
    assert fast_layers.max_pool_forward_reshape is fast_layers.max_pool_forward_im2col is layers.max_pool_forward_fast
    assert fast_layers.conv_backward_strides is fast_layers.conv_backward_pytorch is layers.conv_backward_fast
    assert cnn.ThreeLayerConvNet is models.ThreeLayerConvNet
    assert (fc_net.FullyConnectedNet, fc_net.TwoLayerNet) == (models.FullyConnectedNet, models.TwoLayerNet)
    assert mirror_solver.Solver is solver.Solver and mirror_solver.optim is mirror_optim
    assert mirror_optim.adam is optim.adam
    assert gradient_check.eval_numerical_gradient_blobs is gradcheck.eval_numerical_gradient_blobs
    assert (vis_utils.vis_grid, vis_utils.vis_nn) == (viz.vis_grid, viz.vis_nn)
    assert gradient_check.xrange is range and gradient_check.np is np
    assert data_utils.load_tiny_imagenet is tinyconv.data.load_tiny_imagenet


def test_torch_and_nn_are_imported_on_first_use():
    conv2d = oracle.nn.Conv2d  # first, so that a missing PyTorch skips (or, in CI, fails) the test
    assert fast_layers.torch.zeros(2).shape == oracle.torch.Size([2])
    assert fast_layers.nn.Conv2d is conv2d
    assert "imported on first use" in repr(fast_layers.torch)


def test_a_missing_optional_module_says_what_to_install():
    absent = OptionalModule("tinyconv_no_such_module", "pip install it")
    with pytest.raises(ImportError, match="tinyconv_no_such_module is not installed: pip install it"):
        absent.anything
    with pytest.raises(AttributeError):
        absent.__wrapped__  # inspection does not import


# --- the fast layers' faces -------------------------------------------------------------------


@pytest.mark.parametrize("forward, backward", [
    ("conv_forward_im2col", "conv_backward_im2col"),
    ("conv_forward_strides", "conv_backward_strides"),
    ("conv_forward_pytorch", "conv_backward_pytorch"),
])
def test_conv_faces_match_the_naive_conv_and_take_their_own_caches(rng, forward, backward):
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    conv_param = {"stride": 2, "pad": 1}
    out, cache = getattr(fast_layers, forward)(x, w, b, conv_param)
    assert conv_param == {"stride": 2, "pad": 1}
    expected, naive_cache = layers.conv_forward_naive(x, w, b, conv_param)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for grad, naive in zip(getattr(fast_layers, backward)(dout, cache), layers.conv_backward_naive(dout, naive_cache)):
        np.testing.assert_allclose(grad, naive, rtol=1e-10, atol=1e-12)


def test_conv_face_names_itself_for_a_conv_param_that_is_not_a_dict(rng):
    with pytest.raises(TypeError, match=r"conv_forward_im2col: conv_param must be a dict, got \[1, 0\] \(list\)"):
        fast_layers.conv_forward_strides(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), np.ones(1), [1, 0])


@pytest.mark.parametrize("forward, backward", [("max_pool_forward_reshape", "max_pool_backward_reshape"),
                                               ("max_pool_forward_im2col", "max_pool_backward_im2col")])
def test_pool_faces_match_the_naive_pool(rng, forward, backward):
    x = rng.standard_normal((2, 3, 6, 6))
    pool_param = {"pool_height": 3, "pool_width": 2, "stride": 1}
    out, cache = getattr(fast_layers, forward)(x, pool_param)
    expected, naive_cache = layers.max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, expected)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(getattr(fast_layers, backward)(dout, cache),
                               layers.max_pool_backward_naive(dout, naive_cache), rtol=1e-12)


# --- im2col ---------------------------------------------------------------------------------

GEOMETRIES = [((2, 3, 5, 5), 3, 3, 1, 1), ((3, 2, 7, 6), 3, 2, 0, 2), ((1, 1, 4, 4), 1, 1, 0, 1),
              ((2, 2, 6, 8), 2, 4, 1, 2)]


def _columns_by_loops(x, fh, fw, pad, stride):
    """The starter's column layout, entry by entry: row (c, kh, kw), column (i, j, n)."""
    N, C, H, W = x.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    H_out, W_out = (H + 2 * pad - fh) // stride + 1, (W + 2 * pad - fw) // stride + 1
    cols = np.empty((C * fh * fw, H_out * W_out * N))
    for c in range(C):
        for kh in range(fh):
            for kw in range(fw):
                for i in range(H_out):
                    for j in range(W_out):
                        for n in range(N):
                            cols[(c * fh + kh) * fw + kw, (i * W_out + j) * N + n] = \
                                x_pad[n, c, stride * i + kh, stride * j + kw]
    return cols


@pytest.mark.parametrize("shape, fh, fw, pad, stride", GEOMETRIES)
def test_im2col_layout_indices_and_adjoint(rng, shape, fh, fw, pad, stride):
    x = rng.standard_normal(shape)
    cols = im2col.im2col_indices(x, fh, fw, pad, stride)
    np.testing.assert_array_equal(cols, _columns_by_loops(x, fh, fw, pad, stride))
    np.testing.assert_array_equal(im2col_cython.im2col_cython(x, fh, fw, pad, stride), cols)
    k, i, j = im2col.get_im2col_indices(shape, fh, fw, pad, stride)
    assert k.shape == (cols.shape[0], 1) and i.shape == j.shape == (cols.shape[0], cols.shape[1] // shape[0])
    gathered = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))[:, k, i, j]  # (N, rows, positions)
    np.testing.assert_array_equal(gathered.transpose(1, 2, 0).reshape(cols.shape), cols)
    # col2im is the adjoint: <im2col(x), c> == <x, col2im(c)>.
    c = rng.standard_normal(cols.shape)
    back = im2col.col2im_indices(c, shape, fh, fw, pad, stride)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)
    np.testing.assert_array_equal(im2col_cython.col2im_cython(c, *shape, fh, fw, pad, stride), back)


@pytest.mark.parametrize("shape, fh, fw, pad, stride", GEOMETRIES)
def test_col2im_6d_is_the_adjoint_of_the_six_dimensional_columns(rng, shape, fh, fw, pad, stride):
    x = rng.standard_normal(shape)
    H_out, W_out = (shape[2] + 2 * pad - fh) // stride + 1, (shape[3] + 2 * pad - fw) // stride + 1
    cols = _im2col(x, fh, fw, ConvGeometry.square(stride, pad, H_out, W_out))  # (C, fh, fw, N, H_out, W_out)
    c = rng.standard_normal(cols.shape)
    back = im2col_cython.col2im_6d_cython(c, *shape, fh, fw, pad, stride)
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)


@pytest.mark.parametrize("call, error, match", [
    (lambda: im2col.im2col_indices(np.ones((1, 1, 4, 4)), 3, 3, 0, 2), ValueError, "im2col_indices: output height"),
    (lambda: im2col.im2col_indices(np.ones((1, 1, 4, 4), int), 3, 3), TypeError, "im2col_indices: x must be"),
    (lambda: im2col.get_im2col_indices((1, 4, 4), 3, 3), ValueError, r"x_shape must be \(N, C, H, W\)"),
    (lambda: im2col.get_im2col_indices((1, 1, 4, 4), 3, 3, stride=0), ValueError, "get_im2col_indices: stride must be a positive integer, got 0"),
    (lambda: im2col.col2im_indices(np.ones((9, 5)), (1, 1, 4, 4)), ValueError, r"cols must have shape .* \(9, 16\)"),
    (lambda: im2col_cython.col2im_6d_cython(np.ones((1, 3, 3, 1, 2, 2)), 1, 1, 4, 4, 3, 3, 1, 1), ValueError,
     r"col2im_6d_cython: cols must have shape .* \(1, 3, 3, 1, 4, 4\)"),
])
def test_im2col_functions_name_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- data_utils -----------------------------------------------------------------------------


def test_get_cifar10_data_is_float64_from_the_assignments_folder(tmp_path, monkeypatch):
    cifar = make_cifar_dir(tmp_path)
    monkeypatch.delenv("TINYCONV_CIFAR10", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="CIFAR-10 folder not given"):
        data_utils.get_CIFAR10_data(num_training=30, num_validation=10, num_test=10)
    (tmp_path / "cs231n" / "datasets").mkdir(parents=True)
    cifar.root.rename(tmp_path / "cs231n" / "datasets" / "cifar-10-batches-py")
    data = data_utils.get_CIFAR10_data(num_training=30, num_validation=10, num_test=10)
    expected = tinyconv.data.get_CIFAR10_data(30, 10, 10, cifar10_dir="cs231n/datasets/cifar-10-batches-py",
                                              dtype=np.float64)
    assert all(data[key].dtype == np.float64 for key in ("X_train", "X_val", "X_test"))
    assert sorted(data) == ["X_test", "X_train", "X_val", "y_test", "y_train", "y_val"]  # the starter's keys
    for key, value in data.items():
        np.testing.assert_array_equal(value, expected[key])


class _TouchesAFile:
    """Unpickling it runs a shell command that creates ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_load_pickle_reads_cifar_batches_and_refuses_other_pickles(tmp_path):
    write_cifar_batch(tmp_path / "batch", np.zeros((2, 3072), np.uint8), [1, 2])
    with open(tmp_path / "batch", "rb") as file:
        assert data_utils.load_pickle(file)[b"labels"] == [1, 2]
    (tmp_path / "model.p").write_bytes(pickle.dumps({"model": _TouchesAFile(tmp_path / "pwned")}))
    with open(tmp_path / "model.p", "rb") as file, pytest.raises(pickle.UnpicklingError,
                                                                  match="load_pickle: refusing global .* load_model"):
        data_utils.load_pickle(file)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("call, match", [
    (lambda: data_utils.load_models("models"), r"load_models\('models'\): .* tinyconv.serialization.load_model"),
    (lambda: data_utils.load_imagenet_val(5), r"load_imagenet_val\(num=5\): .* f\['X'\], f\['y'\]"),
])
def test_loaders_of_pickled_files_refuse_and_say_what_to_use(call, match):
    with pytest.raises(NotImplementedError, match=match):
        call()


def test_load_tiny_imagenet_and_imread(tmp_path):
    files = make_tiny_imagenet_dir(tmp_path)
    with pytest.raises(FileNotFoundError, match="Tiny ImageNet folder not found"):
        data_utils.load_tiny_imagenet(tmp_path / "absent")
    data = data_utils.load_tiny_imagenet(os.fspath(files.root), dtype=np.float64, subtract_mean=False)
    np.testing.assert_array_equal(data["X_train"], files.train.transpose(0, 3, 1, 2))
    image = data_utils.imread(files.root / "val" / "images" / "val_0.png")
    np.testing.assert_array_equal(image, files.val[0])


# --- a notebook run on the mirror -------------------------------------------------------------

NOTEBOOK = Path(__file__).with_name("cs231n_notebook.py")


def notebook_cells():
    """(title, source) of each cell of the notebook script; a cell starts at a line '# %% title'."""
    cells, title, lines = [], None, []
    for line in NOTEBOOK.read_text().splitlines():
        if line.startswith("# %%"):
            if title is not None:
                cells.append((title, "\n".join(lines)))
            title, lines = line[4:].strip(), []
        elif title is not None:
            lines.append(line)
    cells.append((title, "\n".join(lines)))
    return cells


def test_the_notebook_imports_tinyconv_only_through_the_mirror():
    modules = [node.module for node in ast.walk(ast.parse(NOTEBOOK.read_text())) if isinstance(node, ast.ImportFrom)]
    modules += [alias.name for node in ast.walk(ast.parse(NOTEBOOK.read_text())) if isinstance(node, ast.Import)
                for alias in node.names]
    tinyconv_modules = {module for module in modules if module.split(".")[0] == "tinyconv"}
    assert tinyconv_modules and all(module.startswith("tinyconv.cs231n.") for module in tinyconv_modules)


@pytest.mark.filterwarnings("ignore:FullyConnectedNet. dropout is the 2019 name:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:Training diverged:RuntimeWarning")
def test_every_cell_of_the_notebook_runs(tmp_path, monkeypatch, capsys):
    cifar = make_cifar_dir(tmp_path)
    (tmp_path / "cs231n" / "datasets").mkdir(parents=True)
    cifar.root.rename(tmp_path / "cs231n" / "datasets" / "cifar-10-batches-py")
    monkeypatch.delenv("TINYCONV_CIFAR10", raising=False)
    monkeypatch.chdir(tmp_path)
    cells = notebook_cells()
    assert len(cells) >= 30
    namespace, failures = {"__name__": "__main__"}, []
    for title, source in cells:
        # A notebook goes on after a failing cell; so does this run, to report every failing cell at once.
        try:
            exec(compile(source, f"{NOTEBOOK.name} [{title}]", "exec"), namespace)
        except Exception:
            failures.append(f"cell '{title}':\n{traceback.format_exc(limit=-3)}")
    assert not failures, "\n".join(failures)
    out = capsys.readouterr().out
    assert "(Epoch 3 / 3)" in out  # the Solver printed its progress as the starter's does
