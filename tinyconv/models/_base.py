"""What every tinyconv model shares: params, dtype, L2 penalty, config, buffers, and building from a config."""

import copy
import inspect
import math

import numpy as np

from tinyconv import _checks
from tinyconv.layers import softmax_loss

_RUNNING_STATS = ("running_mean", "running_var")


def buffers(model):
    """The running statistics of ``model``'s batch norms, as ``{'running_mean{n}': array, ...}`` (copies).

    Follows cs231n's convention: ``model.bn_params`` is a list with one dict per normalized layer ``n``
    (1-based), and a batch norm keeps ``running_mean`` and ``running_var`` in it. Works for any model
    that follows it, a learner's own included; a model without ``bn_params`` has no buffers.
    """
    found = {}
    for number, bn_param in enumerate(getattr(model, "bn_params", None) or [], start=1):
        if isinstance(bn_param, dict):
            for key in _RUNNING_STATS:
                if bn_param.get(key) is not None:
                    found[f"{key}{number}"] = bn_param[key].copy()
    return found


def set_buffers(model, state, where="load_state"):
    """Put the arrays of ``state`` (as :func:`buffers` returns) back into ``model.bn_params``, as copies.

    Every key must name a running statistic of an existing norm dict; the shapes must match any
    statistic already there.
    """
    _checks.dictionary(where, "state", state)
    bn_params = getattr(model, "bn_params", None) or []
    for key, value in state.items():
        name = next((name for name in _RUNNING_STATS if str(key).startswith(name)), None)
        suffix = str(key)[len(name):] if name else ""
        if name is None or not suffix.isdigit() or not 1 <= int(suffix) <= len(bn_params):
            raise ValueError(f"{where}: state has the key {key!r}, but the model's buffers are "
                             f"running_mean<n> and running_var<n> for n in 1..{len(bn_params)}")
        bn_param = bn_params[int(suffix) - 1]
        current = bn_param.get(name)
        _checks.array(where, f"state[{key!r}]", value)
        if current is not None and tuple(np.shape(current)) != tuple(value.shape):
            raise ValueError(f"{where}: state[{key!r}] must have shape {tuple(np.shape(current))}, "
                             f"got {tuple(value.shape)}")
        bn_param[name] = value.astype(getattr(current, "dtype", value.dtype), copy=True)


class Model:
    """Base class of the tinyconv models.

    A model is a list of ops (:mod:`tinyconv.ops`), run by one :meth:`loss`. A subclass's ``__init__``
    validates its arguments in ``_configure``, which builds the ops and plans them through the input shape
    (:meth:`_build`: every parameter shape, allocating nothing), and then draws the initial values in
    ``_initialize``.
    :meth:`from_config` runs only the first step and takes the parameters it is given, so loading a
    model file draws no random numbers and checks the stored shapes before anything is allocated.

    Attributes
    ----------
    params : dict of str -> ndarray
        Learnable parameters. Weights are named ``W1, W2, ...``, biases
        ``b1, b2, ...`` and normalization scales and shifts ``gamma1, beta1, ...``.
    dtype : type
        ``np.float32`` or ``np.float64``; parameters, inputs (cast on entry),
        scores, losses and gradients all use it.
    reg : float
        L2 strength; the loss adds ``0.5 * reg * sum(W**2)`` for every weight
        (biases and normalization parameters are not regularized).
    bn_params : list of dict
        One dict per normalized layer (cs231n's convention): its ``mode`` and, for batch norm, the
        running statistics.
    ops : tuple of tinyconv.ops.Op
        What the model computes, in forward order; the last op gives the scores.
    """

    # The softmax loss's label smoothing; a subclass with the option sets it in _configure.
    _label_smoothing = 0.0

    def _configure_base(self, config, reg, dtype):
        """Store the validated ``config`` (the subclass's own arguments) with ``reg`` and ``dtype``."""
        where = type(self).__name__
        self.reg = _checks.nonnegative_float(where, "reg", reg)
        self.dtype = _checks.float_dtype(where, "dtype", dtype)
        self._config = {**config, "reg": self.reg, "dtype": np.dtype(self.dtype).name}
        self.params = {}
        self.normalization = None
        self.bn_params = []
        # Filled by the subclass's _configure: the shape of every parameter and batch-norm statistic.
        self._param_shapes = {}
        self._batchnorm_sizes = {}

    def _configure(self, config):
        """Validate constructor arguments ``config``, build the ops and compute every shape; allocate nothing."""
        raise NotImplementedError

    def _build(self, ops, input_shape):
        """Use ``ops`` for the model, planned through one input of ``input_shape``: every parameter shape (in
        the order the ops list them, which is the order of initialization) and one norm dict per norm."""
        self.ops = tuple(ops)
        self._input_shape = input_shape
        self._plans = []
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        for op in self.ops:
            plan = op.plan(type(self).__name__, shape)
            self._plans.append(plan)
            self._param_shapes.update(plan.params)
            for statistics in plan.norms:
                self.bn_params.append({"mode": "train"})
                if statistics is not None:
                    self._batchnorm_sizes[len(self.bn_params)] = statistics
            shape = plan.out_shape
        count = sum(math.prod(param_shape) for param_shape in self._param_shapes.values())
        _checks.fits_in_memory(type(self).__name__, count, self.dtype, "its parameters")

    def _arguments(self, config):
        """``config`` completed with the constructor's defaults; an unknown key is a TypeError, as in a call.

        The constructor is that of the class whose ``_configure`` reads the config: a subclass that only
        translates other arguments into its base's (the 2017 FullyConnectedNet) has its base's config."""
        owner = next(cls for cls in type(self).__mro__ if "_configure" in vars(cls))
        signature = inspect.signature(owner.__init__)
        try:
            bound = signature.bind(None, **config)
        except TypeError as error:
            raise TypeError(f"{type(self).__name__}: {error}; it takes {list(signature.parameters)[1:]}") from None
        bound.apply_defaults()
        return dict(list(bound.arguments.items())[1:])

    def _initialize(self):
        """Draw the initial parameters (and zero the running statistics)."""
        raise NotImplementedError

    def _initialize_as_cs231n(self):
        """cs231n's draws: weights from N(0, weight_scale**2) on NumPy's global RNG in the order of
        ``params`` (W1, W2, ...); zero biases and betas, unit gammas, zero running statistics."""
        for name, shape in self._param_shapes.items():
            if name.startswith("W"):
                self.params[name] = np.random.normal(0.0, self._config["weight_scale"], shape).astype(self.dtype)
            else:
                self.params[name] = (np.ones if name.startswith("gamma") else np.zeros)(shape, dtype=self.dtype)
        self._zero_running_stats()

    @classmethod
    def from_config(cls, config, params, state=None):
        """A model built from ``config`` (as :meth:`get_config` returns it) with the given parameters.

        Nothing is drawn at random: ``params`` must hold exactly the parameters the config implies, of
        the config's shapes and dtype; they are used as they are, not copied. ``state`` gives the
        running statistics of batch norms (zeros when omitted).
        """
        model = cls._configured(f"{cls.__name__}.from_config", config)
        model.set_params(params)
        model._zero_running_stats()
        if state is not None:
            model.load_state(state)
        return model

    @classmethod
    def zeros(cls, config):
        """A model built from ``config`` whose parameters and running statistics are zeros, to be filled in
        place (``from_torch`` fills one through its op list)."""
        model = cls._configured(f"{cls.__name__}.zeros", config)
        model.set_params({name: np.zeros(shape, dtype=model.dtype) for name, shape in model.param_shapes().items()})
        model._zero_running_stats()
        return model

    def summary(self):
        """Each op with its output shape (no batch axis), its parameter count and its multiply-adds for one
        sample, as a list of dicts ``op``, ``output``, ``params``, ``multiply_adds`` (see
        :func:`tinyconv.models.summary.summary_text` for the table)."""
        return [{"op": op.describe(), "output": plan.out_shape,
                 "params": sum(math.prod(shape) for shape in plan.params.values()),
                 "multiply_adds": plan.multiply_adds} for op, plan in zip(self.ops, self._plans)]

    def param_shapes(self):
        """``{name: shape}`` of every parameter, computed from the config alone."""
        return dict(self._param_shapes)

    def set_params(self, params):
        """Use ``params`` (dict name -> ndarray) as the model's parameters, after checking that they are
        exactly the model's parameters, in its shapes and dtype."""
        where = f"{type(self).__name__}.set_params"
        _checks.dictionary(where, "params", params)
        if set(params) != set(self._param_shapes):
            missing = sorted(set(self._param_shapes) - set(params))
            extra = sorted(set(params) - set(self._param_shapes))
            raise ValueError(f"{where}: params must have exactly the keys {sorted(self._param_shapes)}; "
                             f"missing {missing}, unexpected {extra}")
        for name, shape in self._param_shapes.items():
            value = params[name]
            if not isinstance(value, np.ndarray) or value.dtype != self.dtype:
                raise TypeError(f"{where}: params[{name!r}] must be a NumPy array of dtype "
                                f"{np.dtype(self.dtype).name}, got {_checks.describe(value)}"
                                + (f" of dtype {value.dtype}" if hasattr(value, "dtype") else ""))
            if value.shape != shape:
                raise ValueError(f"{where}: params[{name!r}] must have shape {shape} for this config, "
                                 f"got {value.shape}")
        self.params = dict(params)

    def get_config(self):
        """Constructor keyword arguments, JSON-serializable: ``type(self)(**config)`` rebuilds the model."""
        return copy.deepcopy(self._config)

    @classmethod
    def complete_config(cls, config):
        """``config`` as :meth:`get_config` gives it back for a model built from it: validated, with the
        defaults of the arguments it lacks (which a file from an older tinyconv may lack). Allocates nothing."""
        return cls._configured(f"{cls.__name__}.complete_config", config).get_config()

    @classmethod
    def _configured(cls, where, config):
        """A model with ``config`` checked and every shape computed, but no parameters yet."""
        _checks.dictionary(where, "config", config)
        model = cls.__new__(cls)
        model._configure(dict(config))
        return model

    # --- buffers (running statistics of batch normalization) -------------------------

    def _zero_running_stats(self):
        for number, size in self._batchnorm_sizes.items():
            for key in _RUNNING_STATS:
                self.bn_params[number - 1][key] = np.zeros(size, dtype=self.dtype)

    def state(self):
        """Non-parameter buffers, as a dict ``running_mean{n}`` / ``running_var{n}`` -> copy.

        ``n`` is the number of the layer the statistics belong to (the one that
        owns ``gamma{n}``). Empty for models without batch normalization.
        """
        return buffers(self)

    def load_state(self, state):
        """Set the buffers from a dict shaped like :meth:`state`'s result: arrays of the model's dtype (copied)."""
        where = f"{type(self).__name__}.load_state"
        _checks.dictionary(where, "state", state)
        expected = {f"{key}{number}": (size,) for number, size in self._batchnorm_sizes.items()
                    for key in _RUNNING_STATS}
        if set(state) != set(expected):
            raise ValueError(f"{where}: state must have exactly the keys {sorted(expected)}, got {sorted(state)}")
        for key, value in state.items():
            _checks.array(where, f"state[{key!r}]", value)
            if value.dtype != self.dtype:  # converting would hide a change of precision
                raise TypeError(f"{where}: state[{key!r}] must have the model's dtype {np.dtype(self.dtype).name}, "
                                f"got {value.dtype}")
            if value.shape != expected[key]:
                raise ValueError(f"{where}: state[{key!r}] must have shape {expected[key]}, got {value.shape}")
        set_buffers(self, state, where)

    # --- the forward and backward pass ----------------------------------------------------

    def loss(self, X, y=None):
        """Scores for ``X``, or the loss and gradients when labels ``y`` are given.

        ``y is None`` runs the network in test mode (running statistics of batch normalization, no
        dropout); otherwise in train mode.

        Parameters
        ----------
        X : ndarray (N, C, H, W) for the conv nets, (N, d1, ..., dk) with d1 * ... * dk == input_dim for
            the fully connected ones; cast to the model dtype.
        y : ndarray (N,) of int, optional
            Labels in ``[0, num_classes)``.

        Returns
        -------
        scores : ndarray (N, num_classes)
            When ``y`` is None.
        loss, grads : float, dict
            When ``y`` is given: softmax loss (with the model's label smoothing) plus L2, and gradients
            keyed like params.
        """
        out, caches = self._forward(X, "test" if y is None else "train")
        if y is None:
            return out

        grads = {}
        data_loss, dout = softmax_loss(out, y, self._label_smoothing)
        for index in reversed(range(len(self.ops))):
            # Nothing needs the gradient of the images: need_dx=False saves a third of a conv's backward.
            dout, op_grads = self.ops[index].backward(dout, caches[index], need_dx=index > 0)
            grads.update(op_grads)
        return self._add_l2(data_loss, grads)

    def input_gradient(self, X, dscores):
        """The scores of ``X`` and the gradient of ``sum(scores * dscores)`` with respect to ``X``, through the
        ops' own backward passes in test mode (running statistics, no dropout): with ``dscores`` one-hot in
        class c, the gradient of class c's score, which saliency maps show (``tinyconv.explain``).

        Returns ``(scores (N, num_classes), dX)``, dX of the model's input shape and dtype.
        """
        out, caches = self._forward(X, "test")
        _checks.gradient(f"{type(self).__name__}.input_gradient", dscores, out.shape, out.dtype, "dscores",
                         "the scores")
        dout = dscores
        for index in reversed(range(len(self.ops))):
            dout, _ = self.ops[index].backward(dout, caches[index], need_dx=True)
        return out, dout

    # --- shared pieces of loss() -----------------------------------------------------

    def _forward(self, X, mode):
        """The ops' forward passes over ``X`` (cast and checked) in ``mode``: the scores and each op's cache."""
        X = self._prepare_input(X, self._input_shape)
        self._set_mode(mode)
        norms = iter(self.bn_params)  # each op takes its norm dicts in forward order
        out, caches = X, []
        for op in self.ops:
            out, cache = op.forward(self.params, out, norms, mode)
            caches.append(cache)
        return out, caches

    def _set_mode(self, mode):
        """Record ``mode`` ('train' or 'test') where cs231n's models keep it, in the batch norms' and the
        dropout's parameter dicts; the ops themselves take the mode of each call as an argument."""
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        for op in self.ops:
            op.record_mode(mode)

    def _prepare_input(self, X, feature_shape):
        """``X`` cast to the model dtype, after checking its per-sample shape.

        ``feature_shape`` is a (C, H, W) tuple, or an int: the number of
        features each sample flattens to.
        """
        where = f"{type(self).__name__}.loss"
        shape = getattr(X, "shape", None)
        if shape is None:
            raise TypeError(f"{where}: X must be an array of shape (N, ...), got {type(X).__name__}")
        if getattr(X, "dtype", np.dtype(object)).kind not in "fiu":
            raise TypeError(f"{where}: X must hold numbers, got dtype {getattr(X, 'dtype', None)}")
        matches = len(shape) >= 2 and (
            math.prod(shape[1:]) == feature_shape
            if isinstance(feature_shape, int)
            else tuple(shape[1:]) == feature_shape
        )
        if not matches:
            raise ValueError(
                f"{where}: X must have shape (N, *{feature_shape}) for this model "
                f"(input_dim={self._config['input_dim']!r}), got {shape}"
            )
        return X.astype(self.dtype, copy=False)

    def _add_l2(self, data_loss, grads):
        """Add ``0.5 * reg * sum(W**2)`` over the weights to the loss and ``reg * W`` to their grads."""
        loss = data_loss
        for name, weight in self.params.items():
            if name.startswith("W"):
                loss = loss + self.dtype(0.5 * self.reg) * np.sum(weight * weight)
                grads[name] = grads[name] + self.dtype(self.reg) * weight
        return loss, grads

