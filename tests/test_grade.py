"""tinyconv grade: a learner's layers.py against the reference. A correct set passes, each deliberate mistake
fails exactly its function on a small case, stubs are "not implemented", and a module that breaks, loops
or exits is reported while the other functions are still graded."""

import json
import textwrap

import pytest

from tinyconv.grade import ITEMS, STATUSES, grade

from .helpers import invoke

CORRECT = "from tinyconv.cs231n.layers import *\n"

# Each mistake a learner makes, as an override of the correct layer, and the function it must fail.
MISTAKES = {
    "conv_forward_naive": '''
        def conv_forward_naive(x, w, b, conv_param):  # ignores the stride
            return _reference.conv_forward_naive(x, w, b, {**conv_param, "stride": 1})
        ''',
    "conv_backward_naive": '''
        def conv_backward_naive(dout, cache):  # forgets to cut the padding off dx
            dx, dw, db = _reference.conv_backward_naive(dout, cache)
            pad = cache.conv_param.get("pad", 0)
            return np.pad(dx, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else dx * 1.0001, dw, db
        ''',
    "max_pool_backward_naive": '''
        def max_pool_backward_naive(dout, cache):  # sends a tie's gradient to the last maximum
            x, pool_param = cache.x, cache.pool_param
            ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
            dx = np.zeros_like(x)
            for n, c, i, j in np.ndindex(*dout.shape):
                window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                flat = window.size - 1 - np.argmax(window.ravel()[::-1])
                dx[n, c, i * s + flat // pw, j * s + flat % pw] += dout[n, c, i, j]
            return dx
        ''',
    "batchnorm_backward": '''
        def batchnorm_backward(dout, cache):  # sums dgamma over the features instead of the batch
            dx, dgamma, dbeta = _reference.batchnorm_backward(dout, cache)
            return dx, dgamma.sum() * np.ones_like(dgamma) / dgamma.size, dbeta
        ''',
    "batchnorm_forward": '''
        def batchnorm_forward(x, gamma, beta, bn_param):  # normalizes with the batch's statistics at test time
            if bn_param["mode"] == "test":
                return _reference.batchnorm_forward(x, gamma, beta, {**bn_param, "mode": "train"})
            return _reference.batchnorm_forward(x, gamma, beta, bn_param)
        ''',
    "dropout_forward": '''
        def dropout_forward(x, dropout_param):  # forgets to scale the kept units by 1/p
            out, cache = _reference.dropout_forward(x, dropout_param)
            return out * dropout_param["p"] if dropout_param["mode"] == "train" else out, cache
        ''',
    "affine_backward": '''
        def affine_backward(dout, cache):  # ignores dout
            return _reference.affine_backward(np.ones_like(dout), cache)
        ''',
    "spatial_groupnorm_forward": '''
        def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):  # groups every G-th channel, not neighbours
            N, C, H, W = x.shape
            grouped = x.reshape(N, C // G, G, H, W)
            mean, var = grouped.mean(axis=(1, 3, 4), keepdims=True), grouped.var(axis=(1, 3, 4), keepdims=True)
            normed = ((grouped - mean) / np.sqrt(var + gn_param.get("eps", 1e-5))).reshape(N, C, H, W)
            return gamma * normed + beta, _reference.spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[1]
        ''',
    "layernorm_forward": '''
        def layernorm_forward(x, gamma, beta, ln_param):  # normalizes over the batch, as batch norm does
            return _reference.batchnorm_forward(x, gamma, beta, {"mode": "train", **ln_param})
        ''',
    "svm_loss": '''
        def svm_loss(x, y):  # a margin of 0.5
            return _reference.svm_loss(x - 0.5 * (np.arange(x.shape[1]) != y[:, None]), y)
        ''',
}


MODELS = {"cnn": "from tinyconv.cs231n.classifiers.cnn import *\n",
          "fc_net": "from tinyconv.cs231n.classifiers.fc_net import *\n"}


LAYER_UTILS = "from tinyconv.cs231n.layer_utils import *\n"


def _layers(tmp_path, body, name="cs231n", models=None, layer_utils=None):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "layers.py").write_text(textwrap.dedent(body))
    if layer_utils is not None:
        (folder / "layer_utils.py").write_text(textwrap.dedent(layer_utils))
    if models is not None:
        (folder / "classifiers").mkdir()
        for module, source in models.items():
            (folder / "classifiers" / f"{module}.py").write_text(textwrap.dedent(source))
    return folder


def _broken(tmp_path, *mistakes):
    body = CORRECT + "import numpy as np\nimport tinyconv.cs231n.layers as _reference\n"
    return _layers(tmp_path, body + "".join(textwrap.dedent(MISTAKES[mistake]) for mistake in mistakes))


def test_a_correct_set_passes_every_function(tmp_path):
    records = grade(_layers(tmp_path, CORRECT, models=MODELS, layer_utils=LAYER_UTILS))
    assert [record.name for record in records] == [item.name for item in ITEMS]
    assert {record.name: record.status for record in records} == {item.name: "passed" for item in ITEMS}
    assert all(record.cases >= 2 and not record.warnings for record in records)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_fails_exactly_its_function_with_a_small_case_and_a_snippet(tmp_path, mistake):
    neighbours = [item.name for item in ITEMS if item.name.split("_")[0] == mistake.split("_")[0]]
    records = {record.name: record for record in grade(_broken(tmp_path, mistake), only=neighbours)}
    failed = [name for name, record in records.items() if record.status not in ("passed", "untested", "missing")]
    assert failed == [mistake], {name: (r.status, r.output, r.message) for name, r in records.items()}
    # A backward whose forward is wrong is not blamed: it is untested, naming the forward.
    assert all(mistake in r.message for r in records.values() if r.status == "untested")
    record = records[mistake]
    assert record.status == "failed" and record.case and record.output and record.snippet
    assert f"{mistake}(" in record.snippet or mistake.replace("forward", "backward") in record.snippet


def test_a_conv_that_ignores_the_stride_fails_on_the_first_case_with_stride_2(tmp_path):
    record, = grade(_broken(tmp_path, "conv_forward_naive"), only=["conv_forward_naive"])
    assert record.case["stride"] == 2 and record.cases == 4  # the four cases of stride 1 before it pass
    assert record.case["x"] == (2, 2, 5, 5) and record.output.startswith("out")


def test_stubs_are_not_implemented_and_exit_zero(tmp_path):
    stubs = "".join(f"def {item.name}(*args):\n    pass\n" for item in ITEMS if "." not in item.name)
    stubs = stubs.replace("def dropout_backward(*args):\n    pass", "def dropout_backward(*args):\n"
                                                                      "    raise NotImplementedError")
    starter_model = textwrap.dedent('''
        class FullyConnectedNet(object):  # the starter's, before the learner fills it in
            def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10, **kwargs):
                self.params = {}

            def loss(self, X, y=None):
                scores = None
                return scores
        ''')
    folder = _layers(tmp_path, stubs, models={"fc_net": starter_model})
    result = invoke("grade", folder, "--only", "affine_forward", "--only", "dropout_backward", "--only",
                    "FullyConnectedNet.loss")
    assert result.exit_code == 0, result.output
    assert result.output.count("not implemented") == 4  # three lines and the summary


def test_a_module_that_breaks_loops_or_exits_is_reported_and_the_rest_still_graded(tmp_path):
    body = CORRECT + textwrap.dedent('''
        import sys

        def relu_forward(x):
            while True:
                pass

        def relu_backward(dout, cache):
            sys.exit(3)
        ''')
    records = {r.name: r for r in grade(_layers(tmp_path, body), only=["relu_forward", "relu_backward",
                                                                      "affine_forward"], time_limit=3)}
    assert records["relu_forward"].status == "timed out" and "after 3 s" in records["relu_forward"].message
    assert records["relu_backward"].status in ("timed out", "error")  # its forward loops first
    assert records["affine_forward"].status == "passed"
    exits = CORRECT + "import sys\n\ndef relu_backward(dout, cache):\n    sys.exit(3)\n"
    record, = grade(_layers(tmp_path, exits, "exits"), only=["relu_backward"])
    assert record.status == "error" and "SystemExit: 3" in record.message
    broken = _layers(tmp_path, CORRECT + "def relu_forward(x:\n", "syntax")
    result = invoke("grade", broken, "--only", "relu_forward", "--only", "affine_forward")
    assert result.exit_code == 1 and "SyntaxError" in result.output and "importing" in result.output


def test_the_learners_own_imports_of_cs231n_resolve_to_their_folder_then_to_tinyconv(tmp_path):
    folder = _layers(tmp_path, "from cs231n.helper import conv_forward_naive\nfrom cs231n.im2col import *\n"
                               "from tinyconv.cs231n.layers import relu_forward\n")
    (folder / "helper.py").write_text(CORRECT)
    records = {r.name: r for r in grade(folder, only=["conv_forward_naive", "relu_forward", "affine_forward"])}
    assert {name: r.status for name, r in records.items()} == {
        "affine_forward": "missing", "relu_forward": "passed", "conv_forward_naive": "passed"}
    assert "has no affine_forward" in records["affine_forward"].message


def test_json_and_gradescope_reports(tmp_path):
    folder = _broken(tmp_path, "svm_loss")
    result = invoke("grade", folder, "--only", "svm_loss", "--only", "softmax_loss", "--json", tmp_path / "grade.json",
                    "--gradescope", tmp_path / "results.json", "--seed", "4")
    assert result.exit_code == 1, result.output
    assert "svm_loss" in result.output and "FAILED" in result.output and "reproduce it with" in result.output
    records = json.loads((tmp_path / "grade.json").read_text())
    assert [(r["name"], r["status"]) for r in records] == [("softmax_loss", "passed"), ("svm_loss", "failed")]
    assert all(set(r) >= {"name", "status", "cases", "case", "output", "error", "snippet", "warnings"} for r in records)
    results = json.loads((tmp_path / "results.json").read_text())
    # Gradescope's results.json: a score and tests of name, score, max_score, status (passed/failed), output.
    assert set(results) == {"score", "tests"} and results["score"] == 1.0
    for test in results["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"] == 1.0
    assert results["tests"][1]["status"] == "failed" and "smallest failing case" in results["tests"][1]["output"]


def test_a_path_without_layers_is_a_usage_error(tmp_path):
    result = invoke("grade", tmp_path)
    assert result.exit_code == 2 and "is not a cs231n folder with a layers.py" in result.output
    result = invoke("grade", _layers(tmp_path, CORRECT), "--only", "conv_forward_fast")
    assert result.exit_code == 2 and "conv_forward_fast: not a function tinyconv grades" in result.output
    assert set(STATUSES) >= {"passed", "failed", "not implemented"}


def test_side_findings_are_warnings_not_failures(tmp_path):
    body = CORRECT + textwrap.dedent('''
        import numpy as np

        def relu_forward(x):  # right, but in place
            np.maximum(x, 0, out=x)
            return x, x

        def affine_forward(x, w, b):  # right, but in float64 whatever came in
            out = x.reshape(len(x), -1).astype(np.float64) @ w + b
            return out, (x, w, b)
        ''')
    records = {r.name: r for r in grade(_layers(tmp_path, body), only=["relu_forward", "affine_forward"])}
    assert records["relu_forward"].status == records["affine_forward"].status == "passed"
    assert records["relu_forward"].warnings == ["relu_forward modifies its input"]
    assert records["affine_forward"].warnings == ["out: float32 in, float64 out"]


def test_a_backward_under_a_wrong_forward_is_untested_and_told_whether_it_agrees_with_that_forward(tmp_path):
    record, = grade(_broken(tmp_path, "conv_forward_naive"), only=["conv_backward_naive"])
    assert record.status == "untested" and record.case["stride"] == 2
    assert "conv_forward_naive gives a wrong output on this case" in record.message
    # The backward is the reference's, given the cache of that stride-1 forward: right for it.
    assert "its dx agrees with a numerical gradient of that forward" in record.message


def test_a_models_mistake_fails_its_loss_and_a_folder_without_classifiers_has_them_missing(tmp_path):
    models = {"cnn": MODELS["cnn"] + textwrap.dedent('''
                  import numpy as np
                  from tinyconv.models import ThreeLayerConvNet as _Reference

                  class ThreeLayerConvNet(_Reference):
                      def loss(self, X, y=None):  # regularizes the biases too
                          if y is None:
                              return super().loss(X)
                          loss, grads = super().loss(X, y)
                          return loss + 0.5 * self.reg * np.sum(self.params["b1"] ** 2), grads
                  '''),
              "fc_net": MODELS["fc_net"]}
    records = {r.name: r for r in grade(_layers(tmp_path, CORRECT, models=models),
                                        only=["ThreeLayerConvNet.loss", "FullyConnectedNet.loss"])}
    assert records["FullyConnectedNet.loss"].status == "passed"
    record = records["ThreeLayerConvNet.loss"]
    assert record.status == "failed" and record.output == "loss" and record.case["reg"] == 0.3
    assert record.cases == 1 and "model.loss(X, y)" in record.snippet
    record, = grade(_layers(tmp_path, CORRECT, "bare"), only=["FullyConnectedNet.loss"])
    assert record.status == "missing" and "classifiers/fc_net.py is absent" in record.message


def test_a_conv_that_accepts_an_impossible_output_size_passes_with_a_warning(tmp_path):
    body = CORRECT + textwrap.dedent('''
        import numpy as np

        def conv_forward_naive(x, w, b, conv_param):  # right, but floors an output size that is not whole
            stride, pad = conv_param["stride"], conv_param["pad"]
            F, _, HH, WW = w.shape
            xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            H_out, W_out = 1 + (xp.shape[2] - HH) // stride, 1 + (xp.shape[3] - WW) // stride
            out = np.zeros((len(x), F, H_out, W_out), dtype=x.dtype)
            for n, f, i, j in np.ndindex(*out.shape):
                window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                out[n, f, i, j] = np.sum(window * w[f]) + b[f]
            return out, (x, w, b, conv_param)
        ''')
    record, = grade(_layers(tmp_path, body), only=["conv_forward_naive"])
    assert record.status == "passed"
    assert record.warnings == ["conv_forward_naive accepts an output size that is not a whole number, "
                               "1 + (5 - 2) / 2, where it should raise an error"]


def test_a_sandwich_of_layer_utils_that_skips_relus_backward_fails_its_backward(tmp_path):
    layer_utils = LAYER_UTILS + textwrap.dedent('''
        from cs231n.layers import relu_backward  # the learner's own layers, through their package

        def conv_relu_backward(dout, cache):  # forgets ReLU's mask
            conv_cache, relu_cache = cache
            return conv_backward_fast(dout, conv_cache)
        ''')
    records = {r.name: r for r in grade(_layers(tmp_path, CORRECT, layer_utils=layer_utils),
                                        only=["conv_relu_forward", "conv_relu_backward", "affine_relu_backward"])}
    assert {name: r.status for name, r in records.items()} == {
        "affine_relu_backward": "passed", "conv_relu_forward": "passed", "conv_relu_backward": "failed"}
    assert records["conv_relu_backward"].output == "dx"
    bare = grade(_layers(tmp_path, CORRECT, "bare"), only=["conv_relu_forward"])
    assert bare[0].status == "missing"
