"""Run every fast layer on a CUDA GPU through CuPy and compare it with the same call on NumPy.

    python benchmarks/cupy_check.py            # needs cupy and a GPU

Checks, for float32 and float64: each output and gradient comes back as a CuPy
array of the input's dtype and matches NumPy's result (normwise relative error).
Then times fast conv forward+backward on the issue's shapes against PyTorch on
the same GPU (when torch sees CUDA), and a ThreeLayerConvNet training step on
the GPU against the CPU. Prints ratios measured in this one run.
"""

import time

import cupy as cp
import numpy as np

from tinyconv import layers as L
from tinyconv.models import ThreeLayerConvNet


def relative_error(a, b):
    """Normwise relative error, floored at norm 1: a gradient that is zero in exact arithmetic (a conv
    bias before batchnorm) is rounding noise on both devices."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1.0))


def layer_cases(rng, dtype):
    """(name, forward, backward, inputs, extra args)."""
    def r(*shape):
        return rng.standard_normal(shape).astype(dtype)

    x4, w3, b = r(4, 16, 10, 10), r(8, 16, 3, 3), r(8)
    conv = {"stride": 1, "pad": 1}
    cases = [
        ("conv im2col 5x3 s2", L.conv_forward_fast, L.conv_backward_fast,
         (r(4, 3, 11, 9), r(6, 3, 5, 3), r(6)), ({"stride": 2, "pad": 2},)),
    ]
    cases += [
        ("conv dilated, grouped, four pads", L.conv_forward_fast, L.conv_backward_fast,
         (r(2, 4, 9, 8), r(6, 2, 3, 2), r(6)), ({"stride": (2, 1), "pad": (1, 1, 2, 0), "dilation": 2, "groups": 2},)),
        ("conv depthwise", L.conv_forward_fast, L.conv_backward_fast, (x4, r(16, 1, 3, 3), r(16)),
         ({**conv, "groups": 16},)),
        ("transposed conv", L.conv_transpose_forward_fast, L.conv_transpose_backward_fast,
         (r(2, 4, 5, 5), r(4, 3, 3, 3), r(6)), ({"stride": 2, "pad": 1, "output_padding": 1, "groups": 2},)),
    ]
    for algorithm in ("im2col", "winograd2", "winograd4"):
        cases.append((f"conv {algorithm}", L.conv_forward_fast, L.conv_backward_fast, (x4, w3, b),
                      ({**conv, "algorithm": algorithm},)))
    cases += [
        ("max pool 2x2", L.max_pool_forward_fast, L.max_pool_backward_fast, (r(4, 3, 8, 8),),
         ({"pool_height": 2, "pool_width": 2, "stride": 2},)),
        ("max pool 3x3 s2", L.max_pool_forward_fast, L.max_pool_backward_fast, (r(4, 3, 9, 9),),
         ({"pool_height": 3, "pool_width": 3, "stride": 2},)),
        ("affine", L.affine_forward, L.affine_backward, (r(5, 2, 3), r(6, 4), r(4)), ()),
        ("relu", L.relu_forward, L.relu_backward, (r(5, 7),), ()),
        ("batchnorm", L.batchnorm_forward, L.batchnorm_backward, (r(6, 5), r(5), r(5)), ({"mode": "train"},)),
        ("batchnorm alt", L.batchnorm_forward, L.batchnorm_backward_alt, (r(6, 5), r(5), r(5)),
         ({"mode": "train"},)),
        ("layernorm", L.layernorm_forward, L.layernorm_backward, (r(6, 5), r(5), r(5)), ({},)),
        ("spatial batchnorm", L.spatial_batchnorm_forward, L.spatial_batchnorm_backward,
         (r(4, 3, 5, 5), r(3), r(3)), ({"mode": "train"},)),
        ("spatial groupnorm", lambda x, g, b_, p: L.spatial_groupnorm_forward(x, g, b_, 2, p),
         L.spatial_groupnorm_backward, (r(4, 6, 5, 5), r(1, 6, 1, 1), r(1, 6, 1, 1)), ({},)),
        ("conv-bn-relu", L.conv_bn_relu_forward, L.conv_bn_relu_backward,
         (x4, w3, b, r(8), r(8)), (conv, {"mode": "train"})),
        ("conv-relu-pool", L.conv_relu_pool_forward, L.conv_relu_pool_backward, (x4, w3, b),
         (conv, {"pool_height": 2, "pool_width": 2, "stride": 2})),
    ]
    return cases


def check_layers():
    rng = np.random.default_rng(0)
    failures = 0
    print(f"{'layer':<22}{'dtype':<9}{'worst relative error':>22}")
    for dtype, tolerance in ((np.float32, 1e-5), (np.float64, 1e-12)):
        for name, forward, backward, inputs, extra in layer_cases(rng, dtype):
            out, cache = forward(*inputs, *[dict(e) for e in extra])
            dout = rng.standard_normal(out.shape).astype(dtype)
            expected = [out, *_as_list(backward(dout, cache))]
            gpu_inputs = [cp.asarray(a) for a in inputs]
            gout, gcache = forward(*gpu_inputs, *[dict(e) for e in extra])
            got = [gout, *_as_list(backward(cp.asarray(dout), gcache))]
            ok = all(isinstance(g, cp.ndarray) and g.dtype == dtype for g in got)
            worst = max(relative_error(cp.asnumpy(g), e) for g, e in zip(got, expected))
            ok &= worst < tolerance
            failures += not ok
            print(f"{name:<22}{np.dtype(dtype).name:<9}{worst:>22.2e}{'' if ok else '   FAILED'}")
    for dtype in (np.float32, np.float64):
        scores = rng.standard_normal((6, 5)).astype(dtype)
        labels = rng.integers(0, 5, 6)
        for loss in (L.softmax_loss, L.svm_loss):
            value, dx = loss(scores, labels)
            gvalue, gdx = loss(cp.asarray(scores), cp.asarray(labels))
            worst = max(relative_error(float(gvalue), float(value)), relative_error(cp.asnumpy(gdx), dx))
            ok = gdx.dtype == dtype and worst < 1e-5
            failures += not ok
            print(f"{loss.__name__:<22}{np.dtype(dtype).name:<9}{worst:>22.2e}{'' if ok else '   FAILED'}")
        x = rng.standard_normal((50, 40)).astype(dtype)
        out, cache = L.dropout_forward(cp.asarray(x), {"p": 0.5, "mode": "train", "seed": 1})
        dx = L.dropout_backward(cp.ones_like(out), cache)
        ok = isinstance(out, cp.ndarray) and out.dtype == dtype and 0.3 < float((out != 0).mean()) < 0.7
        failures += not ok
        print(f"{'dropout':<22}{np.dtype(dtype).name:<9}{'kept %.2f' % float((dx != 0).mean()):>22}")
    return failures


def _as_list(grads):
    return list(grads) if isinstance(grads, tuple) else [grads]


def gpu_time(fn, repeats=20):
    fn()
    cp.cuda.Device().synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    cp.cuda.Device().synchronize()
    return (time.perf_counter() - start) / repeats


def time_convs():
    try:
        import torch
        import torch.nn.functional as F
        has_torch = torch.cuda.is_available()
    except ImportError:
        has_torch = False
    shapes = [((100, 3, 31, 31), (25, 3, 3, 3), 2, 1), ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3),
              ((64, 64, 16, 16), (64, 64, 3, 3), 1, 1), ((32, 128, 8, 8), (128, 128, 3, 3), 1, 1)]
    print(f"\n{'conv fwd+bwd on the GPU':<44}{'dtype':<9}{'algorithm':<11}{'tinyconv ms':>12}{'torch ms':>10}"
          f"{'ratio':>8}")
    for dtype in (np.float32, np.float64):
        for x_shape, w_shape, stride, pad in shapes:
            x = cp.random.standard_normal(x_shape).astype(dtype)
            w = cp.random.standard_normal(w_shape).astype(dtype)
            b = cp.zeros(w_shape[0], dtype)
            t_torch = float("nan")
            if has_torch:
                tx, tw, tb = (torch.as_tensor(a, device="cuda").requires_grad_() for a in (x, w, b))
                out = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
                tdout = torch.randn_like(out)

                def theirs():
                    o = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
                    torch.autograd.grad(o, (tx, tw, tb), tdout)
                    torch.cuda.synchronize()

                t_torch = gpu_time(theirs)
            winograd_fits = w_shape[2:] == (3, 3) and stride == 1
            for algorithm in ("auto", "winograd2", "winograd4") if winograd_fits else ("auto",):
                conv_param = {"stride": stride, "pad": pad, "algorithm": algorithm}
                out, _ = L.conv_forward_fast(x, w, b, conv_param)
                dout = cp.random.standard_normal(out.shape).astype(dtype)

                def ours():
                    _, cache = L.conv_forward_fast(x, w, b, conv_param)
                    L.conv_backward_fast(dout, cache)

                t_ours = gpu_time(ours)
                label = f"x{x_shape} w{w_shape} s{stride} p{pad}"
                print(f"{label:<44}{np.dtype(dtype).name:<9}{algorithm:<11}{t_ours * 1e3:>12.2f}"
                      f"{t_torch * 1e3:>10.2f}{t_ours / t_torch:>8.2f}")


def time_training_step():
    print(f"\n{'ThreeLayerConvNet step, batch 128':<44}{'device':<9}{'images/s':>12}")
    np.random.seed(0)
    model = ThreeLayerConvNet(weight_scale=1e-2)
    X = np.random.standard_normal((128, 3, 32, 32)).astype(np.float32)
    y = np.random.randint(0, 10, 128)
    cpu_params = dict(model.params)
    for device, xp in (("cpu", np), ("gpu", cp)):
        model.params = {k: xp.asarray(v) for k, v in cpu_params.items()}
        Xd, yd = xp.asarray(X), xp.asarray(y)

        def step():
            _, grads = model.loss(Xd, yd)
            for k in model.params:
                model.params[k] = model.params[k] - 1e-3 * grads[k]

        seconds = gpu_time(step, repeats=5 if device == "cpu" else 20)
        print(f"{'':<44}{device:<9}{128 / seconds:>12.0f}")


if __name__ == "__main__":
    failed = check_layers()
    time_convs()
    time_training_step()
    print(f"\n{failed} layer check(s) failed")
    raise SystemExit(1 if failed else 0)
