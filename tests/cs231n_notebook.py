# A notebook in the style of the cs231n assignment-2 notebooks (FullyConnectedNets, BatchNormalization,
# Dropout, ConvolutionalNetworks; course years 2019 to 2024), with every cs231n import changed to
# tinyconv.cs231n and nothing else of tinyconv imported. tests/test_cs231n.py runs it cell by cell
# ("# %%" starts a cell) in a folder holding a small CIFAR-10 at cs231n/datasets/cifar-10-batches-py,
# where the assignment's download script puts the real one. Where the notebooks print a number to
# compare, the cells assert it.

# %% setup, as the FullyConnectedNets, BatchNormalization and Dropout notebooks do it
import time

import numpy as np

from tinyconv.cs231n.classifiers.fc_net import *
from tinyconv.cs231n.data_utils import get_CIFAR10_data
from tinyconv.cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from tinyconv.cs231n.solver import Solver


def rel_error(x, y):
    """Largest relative error."""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


# %% load the data (the starter hands back float64)
data = get_CIFAR10_data(num_training=30, num_validation=10, num_test=10)
for k, v in data.items():
    print(f"{k}: {v.shape}")
assert data["X_train"].dtype == np.float64 and data["X_train"].shape == (30, 3, 32, 32)

# %% affine forward on fixed numbers
num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
input_size = num_inputs * np.prod(input_shape)
weight_size = output_dim * np.prod(input_shape)
x = np.linspace(-0.1, 0.5, num=input_size).reshape(num_inputs, *input_shape)
w = np.linspace(-0.2, 0.3, num=weight_size).reshape(np.prod(input_shape), output_dim)
b = np.linspace(-0.3, 0.1, num=output_dim)
out, _ = affine_forward(x, w, b)
correct_out = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
print("difference:", rel_error(out, correct_out))
assert rel_error(out, correct_out) < 1e-8

# %% affine and relu backward against numerical gradients
np.random.seed(231)
x, w, b = np.random.randn(10, 2, 3), np.random.randn(6, 5), np.random.randn(5)
dout = np.random.randn(10, 5)
dx_num = eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: affine_forward(x, w, b)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: affine_forward(x, w, b)[0], b, dout)
dx, dw, db = affine_backward(dout, affine_forward(x, w, b)[1])
assert max(rel_error(dx_num, dx), rel_error(dw_num, dw), rel_error(db_num, db)) < 1e-9

x = np.random.randn(10, 10)
dout = np.random.randn(*x.shape)
dx_num = eval_numerical_gradient_array(lambda x: relu_forward(x)[0], x, dout)
assert rel_error(dx_num, relu_backward(dout, relu_forward(x)[1])) < 1e-11

# %% the sandwich layer, imported on its own as the notebooks do
from tinyconv.cs231n.layer_utils import affine_relu_backward, affine_relu_forward

np.random.seed(231)
x, w, b = np.random.randn(2, 3, 4), np.random.randn(12, 10), np.random.randn(10)
dout = np.random.randn(2, 10)
out, cache = affine_relu_forward(x, w, b)
dx, dw, db = affine_relu_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda x: affine_relu_forward(x, w, b)[0], x, dout)
assert rel_error(dx_num, dx) < 1e-9

# %% SVM and softmax losses (2019 and 2020: svm_loss comes with the star import)
np.random.seed(231)
num_classes, num_inputs = 10, 50
x = 0.001 * np.random.randn(num_inputs, num_classes)
y = np.random.randint(num_classes, size=num_inputs)
for loss_function, expected in [(svm_loss, 9.0), (softmax_loss, 2.3)]:
    dx_num = eval_numerical_gradient(lambda x: loss_function(x, y)[0], x, verbose=False)
    loss, dx = loss_function(x, y)
    print(loss_function.__name__, "loss:", loss, "dx error:", rel_error(dx_num, dx))
    assert abs(loss - expected) < 0.05 and rel_error(dx_num, dx) < 1e-7

# %% the 2019 TwoLayerNet: initialization, fixed-weight scores and losses, gradients
np.random.seed(231)
N, D, H, C = 3, 5, 50, 7
X = np.random.randn(N, D)
y = np.random.randint(C, size=N)
std = 1e-3
model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std)
assert abs(model.params["W1"].std() - std) < std / 10 and np.all(model.params["b1"] == 0)
model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
scores = model.loss(X)
assert abs(scores[0, 0] - 11.53165108) < 1e-7 and abs(scores[2, 6] - 16.2846319) < 1e-7
y = np.asarray([0, 5, 1])
assert abs(model.loss(X, y)[0] - 3.4702243556) < 1e-10
model.reg = 1.0
assert abs(model.loss(X, y)[0] - 26.5948426952) < 1e-10
for reg in [0.0, 0.7]:
    model.reg = reg
    loss, grads = model.loss(X, y)
    for name in sorted(grads):
        grad_num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False)
        assert rel_error(grad_num, grads[name]) < 1e-6, name

# %% TwoLayerNet trained by the Solver
model = TwoLayerNet(hidden_dim=20, weight_scale=1e-2)
solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e-4}, lr_decay=0.95,
                num_epochs=2, batch_size=10, print_every=100)
solver.train()
assert len(solver.val_acc_history) == 3

# %% FullyConnectedNet: initial loss and gradients, with and without regularization
np.random.seed(231)
N, D, H1, H2, C = 2, 15, 20, 30, 10
X = np.random.randn(N, D)
y = np.random.randint(C, size=(N,))
for reg in [0, 3.14]:
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2, dtype=np.float64)
    loss, grads = model.loss(X, y)
    print("reg", reg, "initial loss:", loss)
    for name in sorted(grads):
        grad_num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5)
        assert rel_error(grad_num, grads[name]) < 1e-4, name

# %% overfit a handful of examples
small_data = {"X_train": data["X_train"][:10], "y_train": data["y_train"][:10],
              "X_val": data["X_val"], "y_val": data["y_val"]}
model = FullyConnectedNet([100, 100], weight_scale=1e-2, dtype=np.float64)
solver = Solver(model, small_data, print_every=10, num_epochs=20, batch_size=5, update_rule="sgd",
                optim_config={"learning_rate": 1e-2})
solver.train()
print("train accuracy:", solver.train_acc_history[-1])
assert solver.train_acc_history[-1] == 1.0

# %% a search over learning rates, one of which diverges: the loop goes on
results = {}
for learning_rate in [1e4, 1e-3]:
    model = FullyConnectedNet([50], weight_scale=5e-2, dtype=np.float64)
    solver = Solver(model, small_data, num_epochs=2, batch_size=5, update_rule="sgd",
                    optim_config={"learning_rate": learning_rate}, verbose=False)
    with np.errstate(over="ignore", invalid="ignore"):
        solver.train()
    results[learning_rate] = solver.best_val_acc
print(results)
assert len(results) == 2

# %% update rules on fixed numbers
from tinyconv.cs231n.optim import adam, rmsprop, sgd_momentum

N, D = 4, 5
w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
config = {"learning_rate": 1e-3, "velocity": v}
next_w, _ = sgd_momentum(w, dw, config=config)
assert abs(next_w[0, 0] - 0.1406) < 1e-8 and abs(config["velocity"][3, 4] - 0.8096) < 1e-8
next_w, _ = rmsprop(w, dw, config={"learning_rate": 1e-2, "cache": np.linspace(0.6, 0.9, num=N * D).reshape(N, D)})
next_w, config = adam(w, dw, config={"learning_rate": 1e-2, "m": np.zeros_like(w), "v": np.zeros_like(w), "t": 5})
assert config["t"] == 6

# %% batch normalization: train-mode statistics, then the running averages at test time
np.random.seed(231)
N, D1, D2, D3 = 200, 50, 60, 3
X = np.random.randn(N, D1)
W1, W2 = np.random.randn(D1, D2), np.random.randn(D2, D3)
a = np.maximum(0, X.dot(W1)).dot(W2)
gamma, beta = np.asarray([1.0, 2.0, 3.0]), np.asarray([11.0, 12.0, 13.0])
a_norm, _ = batchnorm_forward(a, gamma, beta, {"mode": "train"})
assert np.allclose(a_norm.mean(axis=0), beta) and np.allclose(a_norm.std(axis=0), gamma, rtol=1e-3)
bn_param = {"mode": "train"}
for t in range(50):
    X = np.random.randn(N, D1)
    batchnorm_forward(np.maximum(0, X.dot(W1)).dot(W2), np.ones(D3), np.zeros(D3), bn_param)
bn_param["mode"] = "test"
a_norm, _ = batchnorm_forward(np.maximum(0, np.random.randn(N, D1).dot(W1)).dot(W2), np.ones(D3), np.zeros(D3), bn_param)
assert np.all(np.abs(a_norm.mean(axis=0)) < 0.3)

# %% batchnorm and layernorm backward, and the alternative batchnorm backward
np.random.seed(231)
N, D = 4, 5
x = 5 * np.random.randn(N, D) + 12
gamma, beta = np.random.randn(D), np.random.randn(D)
dout = np.random.randn(N, D)
bn_param = {"mode": "train"}
fx = lambda x: batchnorm_forward(x, gamma, beta, bn_param)[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
dx_alt, _, _ = batchnorm_backward_alt(dout, cache)
assert rel_error(dx_num, dx) < 1e-7 and rel_error(dx, dx_alt) < 1e-10
fx = lambda x: layernorm_forward(x, gamma, beta, {})[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
assert rel_error(dx_num, layernorm_backward(dout, layernorm_forward(x, gamma, beta, {})[1])[0]) < 1e-7

# %% FullyConnectedNet with batch and layer normalization
np.random.seed(231)
N, D, H1, H2, C = 2, 15, 20, 30, 10
X = np.random.randn(N, D)
y = np.random.randint(C, size=(N,))
for normalization in ["batchnorm", "layernorm"]:
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=0.1, weight_scale=5e-2,
                              dtype=np.float64, normalization=normalization)
    loss, grads = model.loss(X, y)
    for name in sorted(grads):
        grad_num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-5)
        assert rel_error(grad_num, grads[name]) < 1e-3, name

# %% dropout: train-time statistics and the identity at test time
np.random.seed(231)
x = np.random.randn(500, 500) + 10
for p in [0.25, 0.4, 0.7]:
    out, _ = dropout_forward(x, {"mode": "train", "p": p})
    out_test, _ = dropout_forward(x, {"mode": "test", "p": p})
    print(p, "fraction zeroed:", (out == 0).mean())
    assert abs((out == 0).mean() - (1 - p)) < 0.01 and abs(out.mean() - x.mean()) < 0.1
    assert np.array_equal(out_test, x)

# %% dropout backward with a seed
np.random.seed(231)
x = np.random.randn(10, 10) + 10
dout = np.random.randn(*x.shape)
dropout_param = {"mode": "train", "p": 0.2, "seed": 123}
out, cache = dropout_forward(x, dropout_param)
dx = dropout_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda xx: dropout_forward(xx, dropout_param)[0], x, dout)
assert rel_error(dx, dx_num) < 1e-10

# %% the dropout net with the 2019 keyword dropout, then with dropout_keep_ratio (2020 on)
for keyword in ["dropout", "dropout_keep_ratio"]:
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    losses = []
    for keep in [1, 0.75, 0.5]:
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2, dtype=np.float64,
                                  seed=123, **{keyword: keep})
        loss, grads = model.loss(X, y)
        print(keyword, keep, "initial loss:", loss)
        losses.append(loss)
        for name in sorted(grads):
            grad_num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False)
            assert rel_error(grad_num, grads[name]) < 1e-4, name
    # The numbers the solved notebooks print.
    assert np.allclose(losses, [2.300479089768492, 2.302371489704412, 2.30427592207859], rtol=1e-14, atol=0)

# %% two nets, with and without dropout, trained alike
np.random.seed(231)
solvers = {}
for keep in [1, 0.25]:
    model = FullyConnectedNet([100], dropout_keep_ratio=keep)
    solver = Solver(model, small_data, num_epochs=3, batch_size=5, update_rule="adam",
                    optim_config={"learning_rate": 5e-4}, verbose=True, print_every=100)
    solver.train()
    solvers[keep] = solver
assert all(len(solver.train_acc_history) == 4 for solver in solvers.values())

# %% setup of the ConvolutionalNetworks notebook
from tinyconv.cs231n.classifiers.cnn import *
from tinyconv.cs231n.data_utils import get_CIFAR10_data
from tinyconv.cs231n.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from tinyconv.cs231n.layers import *
from tinyconv.cs231n.fast_layers import *
from tinyconv.cs231n.solver import Solver

# %% naive convolution on fixed numbers
x_shape, w_shape = (2, 3, 4, 4), (3, 3, 4, 4)
x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
b = np.linspace(-0.1, 0.2, num=3)
out, _ = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
assert out.shape == (2, 3, 2, 2)
assert abs(out[0, 0, 0, 0] - -0.08759809) < 1e-8 and abs(out[1, 2, 1, 1] - 2.38247847) < 1e-8

# %% convolution as image processing: integer biases, as the notebook writes them
rng = np.random.default_rng(0)
img_size = 24
x = rng.integers(0, 256, size=(2, 3, img_size, img_size)).astype(np.float64)  # stands for the two photos
w = np.zeros((2, 3, 3, 3))
w[0, 0, 1, 1], w[0, 1, 1, 1], w[0, 2, 1, 1] = 0.3, 0.6, 0.1  # grayscale
w[1, 2, :, :] = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]  # horizontal edges in the blue channel
b = np.array([0, 128])
out, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
assert out.shape == (2, 2, img_size, img_size) and out.dtype == np.float64
assert np.allclose(out[:, 0, 1:-1, 1:-1], (0.3 * x[:, 0] + 0.6 * x[:, 1] + 0.1 * x[:, 2])[:, 1:-1, 1:-1])

# %% naive convolution backward
np.random.seed(231)
x, w, b = np.random.randn(4, 3, 5, 5), np.random.randn(2, 3, 3, 3), np.random.randn(2,)
dout = np.random.randn(4, 2, 5, 5)
conv_param = {"stride": 1, "pad": 1}
dx_num = eval_numerical_gradient_array(lambda x: conv_forward_naive(x, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_forward_naive(x, w, b, conv_param)[0], w, dout)
dx, dw, db = conv_backward_naive(dout, conv_forward_naive(x, w, b, conv_param)[1])
assert rel_error(dx, dx_num) < 1e-7 and rel_error(dw, dw_num) < 1e-7

# %% naive max pooling
x_shape = (2, 3, 4, 4)
x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
out, _ = max_pool_forward_naive(x, {"pool_width": 2, "pool_height": 2, "stride": 2})
assert abs(out[0, 0, 0, 0] - -0.26315789) < 1e-8 and abs(out[1, 2, 1, 1] - 0.4) < 1e-8
np.random.seed(231)
x, dout = np.random.randn(3, 2, 8, 8), np.random.randn(3, 2, 4, 4)
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
dx_num = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x, dout)
assert rel_error(dx_num, max_pool_backward_naive(dout, max_pool_forward_naive(x, pool_param)[1])) < 1e-10

# %% fast layers against naive ones
from time import time

from tinyconv.cs231n.fast_layers import conv_backward_fast, conv_forward_fast

np.random.seed(231)
x, w, b = np.random.randn(10, 3, 15, 15), np.random.randn(4, 3, 3, 3), np.random.randn(4,)
dout = np.random.randn(10, 4, 8, 8)
conv_param = {"stride": 2, "pad": 1}
t0 = time()
out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
t1 = time()
out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
t2 = time()
print(f"naive {t1 - t0:.4f}s, fast {t2 - t1:.4f}s")
assert rel_error(out_naive, out_fast) < 1e-10
for naive, fast in zip(conv_backward_naive(dout, cache_naive), conv_backward_fast(dout, cache_fast)):
    assert rel_error(naive, fast) < 1e-10
out_strides, cache_strides = conv_forward_strides(x, w, b, conv_param)
assert rel_error(out_naive, out_strides) < 1e-10
assert rel_error(conv_backward_strides(dout, cache_strides)[0], conv_backward_naive(dout, cache_naive)[0]) < 1e-10

from tinyconv.cs231n.fast_layers import max_pool_backward_fast, max_pool_forward_fast

np.random.seed(231)
x, dout = np.random.randn(10, 3, 16, 16), np.random.randn(10, 3, 8, 8)
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
assert rel_error(out_naive, out_fast) < 1e-12
assert rel_error(max_pool_backward_naive(dout, cache_naive), max_pool_backward_fast(dout, cache_fast)) < 1e-12

# %% convolutional sandwich layers
from tinyconv.cs231n.layer_utils import conv_relu_pool_backward, conv_relu_pool_forward

np.random.seed(231)
x, w, b = np.random.randn(2, 3, 16, 16), np.random.randn(3, 3, 3, 3), np.random.randn(3,)
dout = np.random.randn(2, 3, 8, 8)
conv_param, pool_param = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
dx, dw, db = conv_relu_pool_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda x: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0], x, dout)
assert rel_error(dx_num, dx) < 1e-7

# %% ThreeLayerConvNet: sanity of the initial loss, then gradients on a small net
model = ThreeLayerConvNet()
N = 8
X, y = np.random.randn(N, 3, 32, 32), np.random.randint(10, size=N)
loss, grads = model.loss(X, y)
print("initial loss (no regularization):", loss)
assert abs(loss - np.log(10)) < 0.05

num_inputs, input_dim, reg, num_classes = 2, (3, 16, 16), 0.0, 10
np.random.seed(231)
X = np.random.randn(num_inputs, *input_dim)
y = np.random.randint(num_classes, size=num_inputs)
model = ThreeLayerConvNet(num_filters=3, filter_size=3, input_dim=input_dim, hidden_dim=7, dtype=np.float64,
                          reg=0.5)
loss, grads = model.loss(X, y)
for param_name in sorted(grads):
    param_grad_num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[param_name],
                                             verbose=False, h=1e-6)
    assert rel_error(param_grad_num, grads[param_name]) < 1e-2, param_name

# %% ThreeLayerConvNet trained by the Solver on a few examples, and its first-layer filters
from tinyconv.cs231n.vis_utils import visualize_grid

np.random.seed(231)
model = ThreeLayerConvNet(num_filters=8, weight_scale=1e-2)
solver = Solver(model, small_data, num_epochs=3, batch_size=5, update_rule="adam",
                optim_config={"learning_rate": 1e-3}, verbose=True, print_every=1)
solver.train()
grid = visualize_grid(model.params["W1"].transpose(0, 2, 3, 1))
assert grid.shape == (3 * 7 + 2, 3 * 7 + 2, 3)

# %% spatial batch normalization: integer gamma and beta, as the notebook writes them
np.random.seed(231)
N, C, H, W = 2, 3, 4, 5
x = 4 * np.random.randn(N, C, H, W) + 10
bn_param = {"mode": "train"}
out, _ = spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), bn_param)
assert np.allclose(out.mean(axis=(0, 2, 3)), 0) and np.allclose(out.std(axis=(0, 2, 3)), 1, rtol=1e-4)
gamma, beta = np.asarray([3, 4, 5]), np.asarray([6, 7, 8])
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
print("means:", out.mean(axis=(0, 2, 3)), "stds:", out.std(axis=(0, 2, 3)))
assert np.allclose(out.mean(axis=(0, 2, 3)), beta) and np.allclose(out.std(axis=(0, 2, 3)), gamma, rtol=1e-4)

# %% spatial batchnorm and group norm backward
np.random.seed(231)
N, C, H, W = 2, 3, 4, 5
x = 5 * np.random.randn(N, C, H, W) + 12
gamma, beta = np.random.randn(C), np.random.randn(C)
dout = np.random.randn(N, C, H, W)
bn_param = {"mode": "train"}
dx_num = eval_numerical_gradient_array(lambda x: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0], x, dout)
dx, dgamma, dbeta = spatial_batchnorm_backward(dout, spatial_batchnorm_forward(x, gamma, beta, bn_param)[1])
assert rel_error(dx_num, dx) < 1e-6

N, C, H, W, G = 2, 6, 4, 5, 2
x = 5 * np.random.randn(N, C, H, W) + 12
gamma, beta = np.random.randn(1, C, 1, 1), np.random.randn(1, C, 1, 1)
dout = np.random.randn(N, C, H, W)
gn_param = {}
dx_num = eval_numerical_gradient_array(lambda x: spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[0], x, dout)
dx, dgamma, dbeta = spatial_groupnorm_backward(dout, spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[1])
assert rel_error(dx_num, dx) < 1e-6
