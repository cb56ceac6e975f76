"""The public names of the cs231n assignment-2 starter modules, per course year.

What ``from cs231n.<module> import *`` binds in the starter code handed out for each year: every
top-level name not starting with an underscore (the modules define no ``__all__``), modules such as
``np`` included, with the names that their own star imports bring in (``layer_utils`` star-imports
``layers`` and ``fast_layers``, which star-imports ``im2col``; the classifiers star-import all three).
The names that ``fast_layers`` imports from the compiled ``im2col_cython`` count as the built
starter has them.

Read from the official archives in the repository cs231n/cs231n.github.io, each at the last commit
that changed it (earlier versions of an archive within a year give the same names):

- 2019: assignments/2019/spring1819_assignment2.zip, commit 5a864376d7fb66e9b254470cb3fd1646404acc55
- 2020: assignments/2020/assignment2_colab.zip and assignment2_jupyter.zip, commit
  e6a9e1433525c2986addb35dc8e9c6b5680b7260
- 2021: assignments/2021/assignment2_colab.zip, commit 4c47b7f81f63cff3cb80a55c2f7fdcf1eb7cc319
- 2022: assignments/2022/assignment2_colab.zip, commit ca884c1d9e5af400834ee3804f89d845a6a527f7
- 2023: assignments/2023/assignment2_colab.zip, commit 4932fd4238d571193587128e611a7a34f65c7288
- 2024: assignments/2024/assignment2_colab.zip, commit fd363114c9bf9fee2c45689f137734c8eca361bf

2021 to 2024 expose the same names. 2020 adds ``svm_loss`` and ``TwoLayerNet``; 2019 also the PyTorch
convolution of ``fast_layers`` (``conv_forward_pytorch``, ``conv_backward_pytorch``) and the modules
``torch`` and ``nn`` it imported.
"""

# 2021 to 2024.
_RECENT = {
    "layers": frozenset({
        "affine_backward", "affine_forward", "batchnorm_backward", "batchnorm_backward_alt",
        "batchnorm_forward", "conv_backward_naive", "conv_forward_naive", "dropout_backward",
        "dropout_forward", "layernorm_backward", "layernorm_forward", "max_pool_backward_naive",
        "max_pool_forward_naive", "np", "range", "relu_backward", "relu_forward", "softmax_loss",
        "spatial_batchnorm_backward", "spatial_batchnorm_forward", "spatial_groupnorm_backward",
        "spatial_groupnorm_forward",
    }),
    "fast_layers": frozenset({
        "col2im_6d_cython", "col2im_cython", "col2im_indices", "conv_backward_fast", "conv_backward_im2col",
        "conv_backward_strides", "conv_forward_fast", "conv_forward_im2col", "conv_forward_strides",
        "get_im2col_indices", "im2col_cython", "im2col_indices", "max_pool_backward_fast",
        "max_pool_backward_im2col", "max_pool_backward_reshape", "max_pool_forward_fast",
        "max_pool_forward_im2col", "max_pool_forward_reshape", "np", "print_function", "range",
    }),
    "layer_utils": frozenset({
        "affine_backward", "affine_forward", "affine_relu_backward", "affine_relu_forward",
        "batchnorm_backward", "batchnorm_backward_alt", "batchnorm_forward", "col2im_6d_cython",
        "col2im_cython", "col2im_indices", "conv_backward_fast", "conv_backward_im2col",
        "conv_backward_naive", "conv_backward_strides", "conv_bn_relu_backward", "conv_bn_relu_forward",
        "conv_forward_fast", "conv_forward_im2col", "conv_forward_naive", "conv_forward_strides",
        "conv_relu_backward", "conv_relu_forward", "conv_relu_pool_backward", "conv_relu_pool_forward",
        "dropout_backward", "dropout_forward", "get_im2col_indices", "im2col_cython", "im2col_indices",
        "layernorm_backward", "layernorm_forward", "max_pool_backward_fast", "max_pool_backward_im2col",
        "max_pool_backward_naive", "max_pool_backward_reshape", "max_pool_forward_fast",
        "max_pool_forward_im2col", "max_pool_forward_naive", "max_pool_forward_reshape", "np",
        "print_function", "range", "relu_backward", "relu_forward", "softmax_loss",
        "spatial_batchnorm_backward", "spatial_batchnorm_forward", "spatial_groupnorm_backward",
        "spatial_groupnorm_forward",
    }),
    "classifiers.cnn": frozenset({
        "ThreeLayerConvNet", "affine_backward", "affine_forward", "affine_relu_backward",
        "affine_relu_forward", "batchnorm_backward", "batchnorm_backward_alt", "batchnorm_forward",
        "col2im_6d_cython", "col2im_cython", "col2im_indices", "conv_backward_fast", "conv_backward_im2col",
        "conv_backward_naive", "conv_backward_strides", "conv_bn_relu_backward", "conv_bn_relu_forward",
        "conv_forward_fast", "conv_forward_im2col", "conv_forward_naive", "conv_forward_strides",
        "conv_relu_backward", "conv_relu_forward", "conv_relu_pool_backward", "conv_relu_pool_forward",
        "dropout_backward", "dropout_forward", "get_im2col_indices", "im2col_cython", "im2col_indices",
        "layernorm_backward", "layernorm_forward", "max_pool_backward_fast", "max_pool_backward_im2col",
        "max_pool_backward_naive", "max_pool_backward_reshape", "max_pool_forward_fast",
        "max_pool_forward_im2col", "max_pool_forward_naive", "max_pool_forward_reshape", "np", "object",
        "print_function", "range", "relu_backward", "relu_forward", "softmax_loss",
        "spatial_batchnorm_backward", "spatial_batchnorm_forward", "spatial_groupnorm_backward",
        "spatial_groupnorm_forward",
    }),
    "classifiers.fc_net": frozenset({
        "FullyConnectedNet", "affine_backward", "affine_forward", "affine_relu_backward",
        "affine_relu_forward", "batchnorm_backward", "batchnorm_backward_alt", "batchnorm_forward",
        "col2im_6d_cython", "col2im_cython", "col2im_indices", "conv_backward_fast", "conv_backward_im2col",
        "conv_backward_naive", "conv_backward_strides", "conv_bn_relu_backward", "conv_bn_relu_forward",
        "conv_forward_fast", "conv_forward_im2col", "conv_forward_naive", "conv_forward_strides",
        "conv_relu_backward", "conv_relu_forward", "conv_relu_pool_backward", "conv_relu_pool_forward",
        "dropout_backward", "dropout_forward", "get_im2col_indices", "im2col_cython", "im2col_indices",
        "layernorm_backward", "layernorm_forward", "max_pool_backward_fast", "max_pool_backward_im2col",
        "max_pool_backward_naive", "max_pool_backward_reshape", "max_pool_forward_fast",
        "max_pool_forward_im2col", "max_pool_forward_naive", "max_pool_forward_reshape", "np", "object",
        "print_function", "range", "relu_backward", "relu_forward", "softmax_loss",
        "spatial_batchnorm_backward", "spatial_batchnorm_forward", "spatial_groupnorm_backward",
        "spatial_groupnorm_forward",
    }),
    "data_utils": frozenset({
        "get_CIFAR10_data", "imread", "load_CIFAR10", "load_CIFAR_batch", "load_imagenet_val", "load_models",
        "load_pickle", "load_tiny_imagenet", "np", "os", "pickle", "platform", "print_function", "range",
    }),
    "gradient_check": frozenset({
        "eval_numerical_gradient", "eval_numerical_gradient_array", "eval_numerical_gradient_blobs",
        "eval_numerical_gradient_net", "grad_check_sparse", "np", "print_function", "randrange", "range",
        "xrange",
    }),
    "solver": frozenset({
        "Solver", "division", "np", "object", "optim", "os", "pickle", "print_function", "range",
        "standard_library",
    }),
    "optim": frozenset({
        "adam", "np", "rmsprop", "sgd", "sgd_momentum",
    }),
    "vis_utils": frozenset({
        "ceil", "np", "range", "sqrt", "vis_grid", "vis_nn", "visualize_grid", "xrange",
    }),
    "im2col": frozenset({
        "col2im_indices", "get_im2col_indices", "im2col_indices", "np", "range",
    }),
}

# What 2020 has on top of the later years.
_ADDED_2020 = {
    "layers": {"svm_loss"},
    "layer_utils": {"svm_loss"},
    "classifiers.cnn": {"svm_loss"},
    "classifiers.fc_net": {"TwoLayerNet", "svm_loss"},
}

# What 2019 has on top of 2020.
_ADDED_2019 = {
    "fast_layers": {"conv_backward_pytorch", "conv_forward_pytorch", "nn", "torch"},
    "layer_utils": {"conv_backward_pytorch", "conv_forward_pytorch", "nn", "torch"},
    "classifiers.cnn": {"conv_backward_pytorch", "conv_forward_pytorch", "nn", "torch"},
    "classifiers.fc_net": {"conv_backward_pytorch", "conv_forward_pytorch", "nn", "torch"},
}


def _with(base, added):
    return {module: names | frozenset(added.get(module, ())) for module, names in base.items()}


_2020 = _with(_RECENT, _ADDED_2020)

#: year -> starter module (dotted, under ``cs231n``) -> its public names
STARTER_NAMES = {
    2019: _with(_2020, _ADDED_2019),
    2020: _2020,
    2021: _RECENT,
    2022: _RECENT,
    2023: _RECENT,
    2024: _RECENT,
}
