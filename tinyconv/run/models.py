"""The models that run settings name, and their names back."""

import numpy as np

from tinyconv.run.datasets import dataset_info
from tinyconv.run.settings import SettingError

THREE_LAYER = dict(num_filters=32, filter_size=3, hidden_dim=100, weight_scale=1e-2)
FC_HIDDEN_DIMS = (100, 100)
FC_WEIGHT_SCALE = 1e-2


def build_model(spec, normalization, input_dim, num_classes, reg, dtype, seed, init="he", label_smoothing=0.0):
    """The model named by the ``model`` setting: 'three-layer', 'fc' or a ConvNet spec such as 'c16p-c32p-f128'
    (whose weights ``init`` draws and whose loss has the ``label_smoothing``; the cs231n networks draw theirs as
    cs231n does). SettingError for a normalization the model does not take, or a spec that does not fit."""
    from tinyconv.models import ConvNet, FullyConnectedNet, ThreeLayerConvNet

    normalization = None if normalization == "none" else normalization
    allowed = {"three-layer": (None,), "fc": (None, "batchnorm", "layernorm")}.get(
        spec, (None, "batchnorm", "groupnorm"))
    if normalization not in allowed:
        raise SettingError("normalization", f"`model` {spec} takes `normalization` "
                           f"{' | '.join('none' if n is None else n for n in allowed)}")
    # ThreeLayerConvNet and FullyConnectedNet draw their weights from NumPy's global generator.
    np.random.seed(seed)
    common = dict(num_classes=num_classes, reg=reg, dtype=np.dtype(dtype).type)
    if spec == "three-layer":
        return ThreeLayerConvNet(input_dim=input_dim, **THREE_LAYER, **common)
    if spec == "fc":
        return FullyConnectedNet(FC_HIDDEN_DIMS, input_dim=int(np.prod(input_dim)), normalization=normalization,
                                 weight_scale=FC_WEIGHT_SCALE, seed=seed, **common)
    try:
        return ConvNet.from_spec(spec, input_dim=input_dim, normalization=normalization, init=init, seed=seed,
                                 label_smoothing=label_smoothing, **common)
    except (TypeError, ValueError) as error:
        raise SettingError("model", f"{error} (or use three-layer or fc)") from error


def new_model(dataset, settings, dtype, seed, info=None):
    """The model that run ``settings`` (a RunSettings) name, for ``dataset``'s images (``info``, its
    DatasetInfo, where the caller has it: a folder's, read from its files)."""
    info = info or dataset_info(dataset)
    return build_model(settings.model, settings.normalization, info.input_dim, len(info.class_names), settings.reg,
                       dtype, seed, settings.init, settings.label_smoothing)


def model_name(model):
    """The ``model`` setting that builds a model like ``model`` (a ConvNet's spec), else its class name."""
    spec = getattr(model, "spec", None)
    if spec:
        return spec
    config = model.get_config() if hasattr(model, "get_config") else {}
    if type(model).__name__ == "ThreeLayerConvNet" and all(config.get(k) == v for k, v in THREE_LAYER.items()):
        return "three-layer"
    if type(model).__name__ == "FullyConnectedNet" and tuple(config.get("hidden_dims", ())) == FC_HIDDEN_DIMS:
        return "fc"
    return type(model).__name__
