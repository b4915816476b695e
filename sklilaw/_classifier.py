"""LiLAWClassifier: LiLAW re-weighting as a scikit-learn classifier built on skorch."""

import inspect
import math
import threading
import types
import warnings
from contextlib import contextmanager
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring, EpochTimer, PassthroughScoring, PrintLog
from skorch.utils import noop
from torch import nn

from ._data import TensorBatches
from ._label_issues import TrainingDynamics, label_issue_frame, rows_to_keep, weight_components
from ._loss import LiLAWLoss
from ._mlp import MLP
from ._rollback import InterruptWatch, unchanged_on_failure
from ._streaming import (
    Rows,
    StreamedBatches,
    class_indices,
    first_inputs,
    input_shape,
    read_labels,
    take_rows,
)
from ._weighting import CATEGORIES, class_probabilities

# pruning keeps at least this many rows of each class (its best flagged ones if need be)
_MIN_KEPT_PER_CLASS = 5
# what validate_data accepts; sparse input is densified, as the network needs dense
# tensors. float64 first: other dtypes convert without overflow, and _dense names what
# float32 (the network's dtype) cannot hold.
_INPUT = dict(dtype=(np.float64, np.float32), accept_sparse=("csr", "csc", "coo"))
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# torch has one global random generator per process, which initialisation, dropout and a
# module's own sampling draw from: seeded fits (and loads) in threads take turns with it
TORCH_RANDOM_LOCK = threading.RLock()


def _dense(X, name="X"):
    """Dense ``X``, refused if a value would overflow to infinity in float32."""
    X = X.toarray() if sp.issparse(X) else X
    if X.size and max(X.max(), -X.min()) > _FLOAT32_MAX:
        raise ValueError(
            f"Input {name} contains values too large for float32, the network's dtype "
            f"(largest magnitude {max(X.max(), -X.min()):.3g}); scale the features."
        )
    return X


def _check_labels(y, name):
    """Refuse missing labels and strings mixed with other types.

    scikit-learn reports them as an unknown label type, a failed sort or an unnamed NaN.
    """
    y = np.asarray(y)
    if y.dtype != object or y.ndim != 1:
        return
    missing = pd.isna(y)
    if missing.any():
        raise ValueError(
            f"{name} contains missing labels (None or NaN) at rows "
            f"{np.flatnonzero(missing)[:5].tolist()}; drop those rows or give them a label."
        )
    is_string = np.array([isinstance(label, str) for label in y])
    if is_string.any() and not is_string.all():
        types = sorted({type(label).__name__ for label in y})
        raise ValueError(
            f"{name} mixes string labels with labels of other types ({', '.join(types)}); "
            "give all labels one type, e.g. with y.astype(str)."
        )


class _FitData(NamedTuple):
    """Tensors of one call to fit, already on the device."""

    train: torch.utils.data.TensorDataset  # X, y, sample_weight, row in train
    valid: torch.utils.data.TensorDataset  # X, y: skorch's per-epoch validation pass
    meta: torch.utils.data.TensorDataset  # X, y, sample_weight: the meta steps
    train_rows: np.ndarray  # positions in X of the training rows
    valid_rows: np.ndarray  # positions in X of the validation rows (empty with X_val)


def _strata(y, sensitive_features):
    """Stratification codes: class x group, where a cell with one sample joins its class.

    ``y`` holds class indices. Such left-over samples of a class form one stratum, or,
    if they are a single sample, join the class's largest cell.
    """
    groups = pd.DataFrame(sensitive_features)
    if len(groups) != len(y):
        raise ValueError(f"sensitive_features has {len(groups)} rows but X has {len(y)} samples.")
    group_codes, _ = pd.factorize(pd.MultiIndex.from_frame(groups), use_na_sentinel=False)
    _, cells, sizes = np.unique(
        np.c_[y, group_codes], axis=0, return_inverse=True, return_counts=True
    )
    strata = np.where(sizes[cells] >= 2, cells, -1 - y)  # negative: a class's left-overs
    for label in np.unique(y[strata < 0]):
        rest = strata == -1 - label
        in_class = (y == label) & ~rest
        if rest.sum() == 1 and in_class.any():  # else the class is too small: fit says so
            strata[rest] = np.bincount(strata[in_class]).argmax()
    return strata


class _Cycle:
    """Loop over ``iterable`` forever, re-iterating (and so re-shuffling) each pass.

    Remembers the state of ``generator`` (which shuffles the batches) at the start of the
    pass in progress and how many batches the pass has given, so that a later fit can
    :meth:`resume` the pass where this one stopped.
    """

    def __init__(self, iterable, generator):
        self.iterable = iterable
        self.generator = generator
        self.pass_start, self.drawn, self._batches = None, 0, None

    def __next__(self):
        if self._batches is None:
            self.pass_start = self.generator.get_state()
            self.drawn, self._batches = 0, iter(self.iterable)
        batch = next(self._batches, None)
        if batch is None:
            if self.drawn == 0:
                raise ValueError(
                    "The validation data give no meta batch (is iterator_train__drop_last "
                    "dropping a batch larger than the validation split?)."
                )
            self._batches = None
            return next(self)
        self.drawn += 1
        return batch

    def resume(self, pass_start, drawn):
        """Draw again the first ``drawn`` batches of the pass that began at ``pass_start``.

        The generator is left in the state it had before.
        """
        end = self.generator.get_state()
        self.generator.set_state(pass_start)
        self.pass_start, self.drawn, self._batches = pass_start, 0, iter(self.iterable)
        while self.drawn < drawn and next(self._batches, None) is not None:
            self.drawn += 1
        self.generator.set_state(end)


class _TrainingState(nn.Module):
    """Where a fit left its random streams, for a later fit to continue them exactly.

    Buffers, so that they travel in the criterion's state dict: skorch's ``Checkpoint``
    and ``LoadInitState``, ``save_params(f_criterion=...)``, pickles and
    ``save_estimator`` keep them.
    """

    def __init__(self):
        super().__init__()
        size = torch.get_rng_state().numel()
        self.register_buffer("saved", torch.tensor(False))
        self.register_buffer("split_seed", torch.tensor(0))
        # generator states: of the batch shuffling, of torch's (dropout, ...), and of the
        # batch shuffling when the meta pass in progress began, with its batches drawn
        self.register_buffer("shuffle", torch.zeros(size, dtype=torch.uint8))
        self.register_buffer("torch_random", torch.zeros(size, dtype=torch.uint8))
        self.register_buffer("meta_pass_start", torch.zeros(size, dtype=torch.uint8))
        self.register_buffer("meta_pass_drawn", torch.tensor(0))


class _RefitInterrupted(Exception):
    """Ctrl-C arrived during the refit: roll it back to the first training's model."""


def _valid_accuracy(net, dataset, y):
    """Accuracy on the validation split, where ``y`` holds class indices."""
    return float((net.forward(dataset).argmax(dim=1).numpy() == y).mean())


class LiLAWClassifier(NeuralNetClassifier):
    """Neural network classifier trained with LiLAW sample re-weighting.

    LiLAW (Lightweight Learnable Adaptive Weighting) multiplies every sample's loss by
    ``W_alpha + W_delta + W_beta``, three functions of the model's probability for the
    observed label and its largest probability, shaped by three learned scalars
    ``alpha``, ``beta`` and ``delta``. After every training mini-batch, the scalars take
    one gradient step on a mini-batch of a validation split carved out of the training
    data (or on ``X_val, y_val``). That step uses a closed-form gradient on outputs
    computed without a graph, so it costs one gradient-free forward pass.

    The meta forward pass runs the module in evaluation mode (no dropout, no update of
    batch-norm statistics); the authors' code leaves it in training mode.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The network; it must map a batch of ``X`` to logits of shape
        ``(n_samples, n_classes)``. Its constructor arguments are given as
        ``module__name=value``. ``None`` builds an :class:`~sklilaw.MLP` sized from the
        data at fit time.
    criterion : torch.nn.Module class or instance, default=torch.nn.CrossEntropyLoss
        A loss on logits that returns one value per sample. A class whose constructor
        takes ``reduction`` is built with ``reduction='none'`` unless
        ``criterion__reduction`` is given. See also :class:`~sklilaw.FocalLoss`.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        The model's optimizer; ``alpha``, ``beta`` and ``delta`` are never passed to it.
    lr : float, default=1e-3
        Learning rate of ``optimizer``.
    weight_decay : float, default=1e-4
        Weight decay of ``optimizer`` (overridden by ``optimizer__weight_decay``).
    max_epochs : int, default=100
        Number of passes over the training data.
    batch_size : int, default=128
        Size of the training, validation and meta mini-batches.
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the default MLP's hidden layers; used only when ``module=None``.
    validation_fraction : float, default=0.15
        Share of the training data held out, stratified by class, for the meta steps,
        the per-epoch validation loss and early stopping. Ignored when ``X_val`` is
        given to :meth:`fit`.
    alpha_init, beta_init, delta_init : float, default=2.0
        Initial values of ``alpha`` (easy samples), ``beta`` (hard samples) and
        ``delta`` (moderate samples).
    meta_lr : float, default=0.01
        Learning rate of the meta step.
    meta_weight_decay : float, default=0.01
        Weight decay of the meta step.
    warmup_epochs : int, default=0
        Epochs trained on the unweighted loss, without meta steps, before LiLAW starts.
    early_stopping : bool, default=False
        Stop when the validation loss (unweighted) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the module's parameters of the best
        epoch (``alpha_``, ``beta_``, ``delta_`` keep their last values).
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest decrease of the validation loss that counts as an improvement.
    label_issues_refit : {None, 'prune', 'downweight'}, default=None
        After training, train once more from scratch (two trainings in all) on the
        data without the samples that ``label_issues_`` flags (``'prune'``), or with
        each flagged sample's weight multiplied by its ``label_quality``
        (``'downweight'``). Pruning keeps at least 5 samples of each class (or all of
        a smaller class): where fewer are unflagged, the flagged ones with the highest
        ``label_quality`` stay. ``label_issues_`` keeps the first training's verdict on
        all rows; ``classes_`` keeps every class. Only :meth:`fit` refits, not
        :meth:`partial_fit`.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the module's initialisation, dropout and the
        shuffling of batches. An int makes ``fit`` reproducible; torch's global random
        state is left as it was. As torch has one random generator per process, fits
        with an int ``random_state`` in threads of one process run one at a time (in
        processes, e.g. joblib's default backend, they run in parallel).
    iterator_train, iterator_valid : class, default=TensorBatches
        Mini-batch iterators over the in-memory tensors. ``TensorBatches`` slices
        tensors that already sit on the device; ``torch.utils.data.DataLoader`` works
        too. Training batches are shuffled unless ``iterator_train__shuffle=False``.
    callbacks : list of (name, callback) or None, default=None
        skorch callbacks, e.g. ``skorch.callbacks.ProgressBar()`` or ``Checkpoint``.
    warm_start : bool, default=False
        Continue from the fitted module and meta parameters instead of re-initialising.
    verbose : int, default=0
        ``1`` prints skorch's per-epoch table, including ``alpha``, ``beta``, ``delta``.
    device : str or torch.device, default='cpu'
        Where the module and the data live, e.g. ``'cuda'``.
    compile : bool, default=False
        Compile the module with ``torch.compile``.
    use_caching : bool or 'auto', default='auto'
        skorch's caching of validation outputs for scoring callbacks.
    torch_load_kwargs : dict or None, default=None
        Passed to ``torch.load`` when unpickling or in ``load_params``.
    **kwargs
        skorch's routed parameters: ``module__*``, ``criterion__*``, ``optimizer__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the order of the module's output columns.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Names of the features, when ``X`` was a DataFrame with string column names.
    alpha_, beta_, delta_ : float
        The learned meta parameters.
    module_ : torch.nn.Module
        The trained network.
    criterion_ : LiLAWLoss
        The weighted loss; holds ``alpha``, ``beta``, ``delta`` in its state dict.
    label_issues_ : pandas.DataFrame
        One row per row of ``X`` (indexed like ``X`` when it is a DataFrame), with
        cleanlab's column names: ``is_label_issue``, ``label_quality`` (probability of
        the given label), ``given_label``, ``predicted_label``; plus ``difficulty``
        (LiLAW's category), ``lilaw_weight`` and ``in_validation``. Training rows are
        judged by their class probabilities averaged over the epochs of training (taken
        from the training forward passes, at no extra cost), rows of the validation
        split by the fitted model's out-of-sample probabilities; ``is_label_issue``
        flags the confident off-diagonal samples of confident learning, with
        thresholds per class computed separately for the two kinds of rows.
    history_ : skorch.history.History
        Per-epoch ``train_loss``, ``valid_loss``, ``valid_acc``, ``alpha``, ``beta``,
        ``delta`` and ``mean_weight`` (the average LiLAW weight of the epoch's training
        samples), and per-batch values.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklilaw import LiLAWClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LiLAWClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "lr": [Interval(Real, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "alpha_init": [Interval(Real, None, None, closed="neither")],
        "beta_init": [Interval(Real, None, None, closed="neither")],
        "delta_init": [Interval(Real, None, None, closed="neither")],
        "meta_lr": [Interval(Real, 0, None, closed="left")],
        "meta_weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "label_issues_refit": [None, StrOptions({"prune", "downweight"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    # skorch's __init__ sets these on the instance; scikit-learn wants __init__ to set
    # nothing but the parameters, so they are class-level defaults here instead.
    history_ = None
    initialized_ = False
    virtual_params_ = types.MappingProxyType({})
    # data-parallel subclasses average the meta-gradient over their processes here
    _reduce_meta_gradient = None

    def __init__(
        self,
        module=None,
        *,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        weight_decay=1e-4,
        max_epochs=100,
        batch_size=128,
        hidden_layer_sizes=(100,),
        validation_fraction=0.15,
        alpha_init=2.0,
        beta_init=2.0,
        delta_init=2.0,
        meta_lr=0.01,
        meta_weight_decay=0.01,
        warmup_epochs=0,
        early_stopping=False,
        n_iter_no_change=10,
        tol=1e-4,
        label_issues_refit=None,
        random_state=None,
        iterator_train=TensorBatches,
        iterator_valid=TensorBatches,
        callbacks=None,
        warm_start=False,
        verbose=0,
        device="cpu",
        compile=False,
        use_caching="auto",
        torch_load_kwargs=None,
        **kwargs,
    ):
        # skorch's __setattr__ would take a torch module given here for one assigned
        # outside initialize() (it tests for initialized_, a class attribute here)
        vars(self).update(module=module, criterion=criterion)
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.validation_fraction = validation_fraction
        self.alpha_init = alpha_init
        self.beta_init = beta_init
        self.delta_init = delta_init
        self.meta_lr = meta_lr
        self.meta_weight_decay = meta_weight_decay
        self.warmup_epochs = warmup_epochs
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.label_issues_refit = label_issues_refit
        self.random_state = random_state
        self.iterator_train = iterator_train
        self.iterator_valid = iterator_valid
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.compile = compile
        self.use_caching = use_caching
        self.torch_load_kwargs = torch_load_kwargs
        self._params_to_validate = set(kwargs)
        vars(self).update(kwargs)

    # ----------------------------------------------------------------- parameters
    def _get_param_names(self):
        # skorch takes every attribute not ending in "_" as a parameter, private state
        # included; here they are the constructor's arguments, as in scikit-learn, plus
        # the extra keyword arguments given to __init__ or set_params (checked at fit).
        explicit = super(NeuralNet, self)._get_param_names()
        extra = [k for k in vars(self) if not k.startswith("_") and not k.endswith("_")]
        return sorted({*explicit, *extra})

    def set_params(self, **params):
        """Set parameters; as in scikit-learn, ``callbacks`` is checked only at fit.

        Parameters
        ----------
        **params
            New values by name, including skorch's routed ``module__*``,
            ``criterion__*``, ``optimizer__*`` and ``callbacks__*``.

        Returns
        -------
        self : LiLAWClassifier
            The estimator.
        """
        if "callbacks" in params and not self.initialized_:
            # skorch builds the callbacks as soon as they are set, failing on bad values
            self.callbacks = params.pop("callbacks")
        return super().set_params(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _check_params(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )

    # ------------------------------------------------------------ fitted attributes
    @property
    def classes_(self):
        """Class labels, in the order of the module's output columns."""
        if "_classes" not in vars(self):
            raise AttributeError(f"{type(self).__name__} is not fitted yet: no classes_.")
        return self._classes

    @property
    def alpha_(self):
        """The learned ``alpha`` (weight of easy samples)."""
        check_is_fitted(self)
        return self.criterion_.alpha

    @property
    def beta_(self):
        """The learned ``beta`` (weight of hard samples)."""
        check_is_fitted(self)
        return self.criterion_.beta

    @property
    def delta_(self):
        """The learned ``delta`` (weight of moderate samples)."""
        check_is_fitted(self)
        return self.criterion_.delta

    # ------------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sensitive_features=None):
        """Train the module with LiLAW re-weighting.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or torch.utils.data.Dataset
            Training data; a DataFrame's column names are kept in ``feature_names_in_``;
            a sparse matrix is made dense (the network works on dense tensors). A
            map-style torch ``Dataset`` of items ``(x, y)`` or ``x`` is not loaded: the
            validation split takes row indices, and batches of rows are read through a
            ``DataLoader`` (``iterator_train__num_workers`` and the like are passed to
            it). The batches are those of the same data as arrays, so the fitted model
            is the same.
        y : array-like of shape (n_samples,) or None
            Observed (possibly noisy) labels of any type. ``None`` only with a
            ``Dataset`` of ``(x, y)`` items: the labels are then read from it before
            training, which reads every item once (about one epoch of data loading).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each multiplies the sample's LiLAW weight (in the
            training loss and, for samples of the validation split, in the meta loss).
        X_val, y_val : array-like, default=None
            A validation set (e.g. one with clean labels) for the meta steps and the
            validation loss, instead of a split of ``X, y``. Give both or neither;
            with a ``Dataset`` as ``X``, ``X_val`` is a ``Dataset`` too, and ``y_val``
            may be left out to read it from ``X_val``.
        sensitive_features : array-like of shape (n_samples,) or DataFrame, default=None
            Group membership (several columns: their intersections). The internal
            validation split is then stratified by class x group, so that every group
            is represented in the meta batches as in the data; a class x group cell with
            a single sample is stratified with the rest of its class. Not used for
            training, and not allowed with ``X_val``.

        Returns
        -------
        self : LiLAWClassifier
            The fitted estimator.
        """
        reset = not (self.warm_start and self.initialized_)
        data = (X, y, sample_weight, X_val, y_val, sensitive_features)
        with unchanged_on_failure(self, continuing=not reset), InterruptWatch() as interrupt:
            self._fit(*data, reset=reset)
            if self.label_issues_refit is not None:
                if interrupt.caught:
                    warnings.warn(
                        "Training was interrupted (Ctrl-C): label_issues_refit="
                        f"{self.label_issues_refit!r} is skipped, the interrupted model kept.",
                        UserWarning,
                        stacklevel=2,
                    )
                else:
                    self._refit(*data, interrupt=interrupt)
        return self

    def _refit(self, X, y, sample_weight, X_val, y_val, sensitive_features, *, interrupt):
        """Train once more from scratch on the data as ``label_issues_refit`` changes it.

        An interrupt during the refit keeps the first training's model.
        """
        issues = self.label_issues_
        flagged = issues["is_label_issue"].to_numpy()
        if self.label_issues_refit == "prune":
            keep = rows_to_keep(issues, _MIN_KEPT_PER_CLASS)
            X, y, sample_weight, sensitive_features = (
                None if data is None else take_rows(data, keep)
                for data in (X, y, sample_weight, sensitive_features)
            )
        else:
            quality = np.where(flagged, issues["label_quality"].to_numpy(), 1.0)
            sample_weight = quality if sample_weight is None else quality * sample_weight
        try:
            with unchanged_on_failure(self, continuing=False):
                self._fit(
                    X,
                    y,
                    sample_weight,
                    X_val,
                    y_val,
                    sensitive_features,
                    reset=True,
                    classes=self.classes_,
                )
                if interrupt.caught:
                    raise _RefitInterrupted
        except _RefitInterrupted:
            warnings.warn(
                "The refit was interrupted (Ctrl-C): the first training's model is kept.",
                UserWarning,
                stacklevel=3,
            )
        else:
            self.label_issues_ = issues

    def partial_fit(
        self,
        X,
        y,
        classes=None,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sensitive_features=None,
    ):
        """Train for ``max_epochs`` more epochs, initialising only on the first call.

        Parameters
        ----------
        X, y
            As in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            All labels that will ever be seen; only used on the first call, when ``y``
            may lack some of them.
        sample_weight, X_val, y_val, sensitive_features
            As in :meth:`fit`.

        Returns
        -------
        self : LiLAWClassifier
            The fitted estimator.
        """
        with unchanged_on_failure(self, continuing=self.initialized_):
            return self._fit(
                X,
                y,
                sample_weight,
                X_val,
                y_val,
                sensitive_features,
                reset=not self.initialized_,
                classes=classes,
            )

    def _fit(self, X, y, sample_weight, X_val, y_val, sensitive_features, *, reset, classes=None):
        index = X.index if isinstance(X, pd.DataFrame) else None
        self._check_params()
        split_seed, torch_seed, shuffle_seed = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=3
        )
        if not reset and self.criterion_.training_state.saved:
            # resuming: the same data split as before, whatever random_state is
            split_seed = int(self.criterion_.training_state.split_seed)
        fit_data = self._prepare_fit_data(
            X,
            y,
            sample_weight,
            X_val,
            y_val,
            sensitive_features,
            reset=reset,
            classes=classes,
            seed=split_seed,
        )
        self._shuffle_generator = torch.Generator().manual_seed(int(shuffle_seed))
        try:
            with self._seeded_torch(int(torch_seed)):
                if reset:
                    self.initialize()
                self._check_module_output(first_inputs(fit_data.valid, 2, self._data_device))
                self.criterion_.training_state.split_seed.fill_(int(split_seed))
                self._meta_batches = _Cycle(
                    self.get_iterator(fit_data.meta, training=True), self._shuffle_generator
                )
                self._resume_pending = True
                self._dynamics = TrainingDynamics(
                    len(fit_data.train_rows), len(self.classes_), self._data_device
                )
                super().partial_fit(fit_data, None)
                self.label_issues_ = self._label_issues(fit_data, index)
        finally:
            # iterators and generators cannot be pickled; they live only during fit
            transients = ("_meta_batches", "_shuffle_generator", "_dynamics", "_resume_pending")
            for transient in transients:
                vars(self).pop(transient, None)
        return self

    @contextmanager
    def _seeded_torch(self, seed):
        if self.random_state is None:
            yield
            return
        device = torch.device(self._data_device)
        devices = [device.index or 0] if device.type == "cuda" else []
        with TORCH_RANDOM_LOCK, torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    def _check_module_output(self, X):
        """Fail before training if the module does not output one logit per class."""
        self._set_training(False)
        with torch.no_grad():
            output = self.infer(X)
        expected = (len(X), len(self.classes_))
        if not isinstance(output, torch.Tensor) or tuple(output.shape) != expected:
            shape = (
                tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
            )
            raise ValueError(
                f"The module must map {len(X)} samples to logits of shape {expected} "
                f"(n_samples, n_classes), but returned {shape}."
            )

    def _prepare_fit_data(
        self, X, y, sample_weight, X_val, y_val, sensitive_features, *, reset, classes, seed
    ):
        """Validate everything, set the data-dependent attributes, build the tensors."""
        if isinstance(X, torch.utils.data.Dataset):
            return self._prepare_dataset_fit_data(
                X,
                y,
                sample_weight,
                X_val,
                y_val,
                sensitive_features,
                reset=reset,
                classes=classes,
                seed=seed,
            )
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together (or neither).")
        if X_val is not None and sensitive_features is not None:
            raise ValueError(
                "sensitive_features only shape the internal validation split; "
                "they have no use with X_val and y_val."
            )
        _check_labels(y, "y")
        X, y = validate_data(self, X, y, reset=reset, **_INPUT)
        X = _dense(X)
        y, sample_weight = self._encoded_targets(y, sample_weight, reset=reset, classes=classes)
        if X_val is None:
            strata = y if sensitive_features is None else _strata(y, sensitive_features)
            train, val = self._stratified_split(y, strata, seed)
            X_val, y_val, val_weight = X[val], y[val], sample_weight[val]
            X, y, sample_weight = X[train], y[train], sample_weight[train]
        else:
            train, val = np.arange(len(y)), np.arange(0)
            X_val = _dense(validate_data(self, X_val, reset=False, **_INPUT), "X_val")
            y_val = column_or_1d(y_val)
            _check_labels(y_val, "y_val")
            y_val = self._encode(y_val, "y_val")
            if len(X_val) != len(y_val):
                raise ValueError(f"X_val has {len(X_val)} samples but y_val has {len(y_val)}.")
            val_weight = np.ones(len(y_val), dtype=np.float32)
        X_t, y_t, w_t = self._tensors(X, y, sample_weight)
        X_val_t, y_val_t, w_val_t = self._tensors(X_val, y_val, val_weight)
        TensorDataset = torch.utils.data.TensorDataset
        rows_t = torch.arange(len(y), device=self._data_device)
        return _FitData(
            train=TensorDataset(X_t, y_t, w_t, rows_t),
            valid=TensorDataset(X_val_t, y_val_t),
            meta=TensorDataset(X_val_t, y_val_t, w_val_t),
            train_rows=train,
            valid_rows=val,
        )

    def _encoded_targets(self, y, sample_weight, *, reset, classes):
        """Check ``y`` and ``sample_weight``, set the classes on reset, encode ``y``."""
        check_classification_targets(y)
        if reset:
            labels = np.unique(y) if classes is None else np.unique(column_or_1d(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"y has {len(labels)} class; {type(self).__name__} needs at least 2 classes."
                )
            self._classes = labels
        y = self._encode(y, "y")
        sample_weight = _check_sample_weight(
            sample_weight, y, dtype=np.float32, ensure_non_negative=True
        )
        if np.count_nonzero(np.bincount(y, weights=sample_weight)) < 2:
            raise ValueError(
                "sample_weight is zero for every sample of all classes but one; "
                "at least 2 classes need a positive weight."
            )
        return y, sample_weight

    def _prepare_dataset_fit_data(
        self, X, y, sample_weight, X_val, y_val, sensitive_features, *, reset, classes, seed
    ):
        """:meth:`_prepare_fit_data` for a torch Dataset: splits by index, no data copied."""
        if X_val is not None and not isinstance(X_val, torch.utils.data.Dataset):
            raise TypeError(
                "With a torch Dataset as X, X_val must be a Dataset too, got "
                f"{type(X_val).__name__}."
            )
        if X_val is not None and sensitive_features is not None:
            raise ValueError(
                "sensitive_features only shape the internal validation split; "
                "they have no use with X_val and y_val."
            )
        y = self._dataset_labels(X, y, "X", "y")
        self._check_dataset_input(input_shape(X), reset)
        y, sample_weight = self._encoded_targets(y, sample_weight, reset=reset, classes=classes)
        if X_val is None:
            strata = y if sensitive_features is None else _strata(y, sensitive_features)
            train, val = self._stratified_split(y, strata, seed)
            X_val, val_rows, y_val, val_weight = X, val, y[val], sample_weight[val]
        else:
            train, val = np.arange(len(y)), np.arange(0)
            y_val = self._encode(self._dataset_labels(X_val, y_val, "X_val", "y_val"), "y_val")
            self._check_dataset_input(input_shape(X_val), reset=False)
            val_rows, val_weight = np.arange(len(y_val)), np.ones(len(y_val), dtype=np.float32)
        return _FitData(
            train=Rows(X, train, y[train], sample_weight[train], np.arange(len(train))),
            valid=Rows(X_val, val_rows, y_val),
            meta=Rows(X_val, val_rows, y_val, val_weight),
            train_rows=train,
            valid_rows=val,
        )

    def _dataset_labels(self, dataset, y, name, y_name):
        """``y`` checked against a Dataset's length, or read from its ``(x, y)`` items."""
        if isinstance(dataset, torch.utils.data.IterableDataset) or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"{name} must be a map-style torch Dataset (with __len__ and __getitem__): "
                "the validation split and the shuffling index its rows."
            )
        if len(dataset) == 0:
            raise ValueError(f"{name} is an empty Dataset.")
        y = read_labels(dataset, self.batch_size) if y is None else column_or_1d(y)
        if len(y) != len(dataset):
            raise ValueError(f"{name} has {len(dataset)} samples but {y_name} has {len(y)}.")
        return y

    def _check_dataset_input(self, shape, reset):
        """Set (or check) ``n_features_in_`` from the ``shape`` of a Dataset's inputs."""
        if reset:
            vars(self).pop("feature_names_in_", None)
            vars(self).pop("n_features_in_", None)
            if len(shape) == 1:
                self.n_features_in_ = shape[0]
            elif self.module is None:
                raise ValueError(
                    "module=None builds an MLP for samples that are vectors, but the "
                    f"Dataset's inputs have shape {shape}; pass a module."
                )
        elif len(shape) == 1 and shape[0] != vars(self).get("n_features_in_", shape[0]):
            raise ValueError(
                f"The Dataset's inputs have {shape[0]} features, but {type(self).__name__} "
                f"is expecting {self.n_features_in_} features as input."
            )

    def _encode(self, labels, name):
        """Class indices of ``labels``; a label unseen in fit is an error."""
        unknown = np.setdiff1d(labels, self.classes_)
        if len(unknown):
            raise ValueError(
                f"{name} contains labels not seen in fit: {unknown[:5].tolist()}; "
                f"known classes: {self.classes_[:10].tolist()}."
            )
        return np.searchsorted(self.classes_, labels)

    def _stratified_split(self, y, strata, seed):
        """Train and validation indices, stratified by ``strata``, with clear errors."""
        n_samples = len(y)
        counts = np.bincount(y, minlength=len(self.classes_))
        present = counts > 0
        fix = "Provide more samples, raise validation_fraction, or pass X_val and y_val."
        if (counts[present] < 2).any():
            smallest = self.classes_[present][np.argmin(counts[present])]
            raise ValueError(
                f"Class {smallest} has only 1 sample, too few for the stratified "
                "validation split: every class needs at least 2 samples (one for training, "
                f"one for validation). {fix}"
            )
        n_val = math.ceil(self.validation_fraction * n_samples)
        n_strata = len(np.unique(strata))
        if n_val < n_strata or n_samples - n_val < n_strata:
            what = "class" if strata is y else "class x group cell"
            raise ValueError(
                f"validation_fraction={self.validation_fraction} splits {n_samples} samples "
                f"into {n_samples - n_val} for training and {n_val} for validation, but the "
                f"stratified split needs at least {n_strata} (one per {what}) in each. {fix}"
            )
        return train_test_split(
            np.arange(n_samples), test_size=n_val, stratify=strata, random_state=seed
        )

    def _tensors(self, X, y, sample_weight):
        # torch.tensor copies, so read-only inputs (memory maps) are fine
        return (
            torch.tensor(X, dtype=torch.float32, device=self._data_device),
            torch.tensor(y, dtype=torch.long, device=self._data_device),
            torch.tensor(sample_weight, dtype=torch.float32, device=self._data_device),
        )

    # ------------------------------------------------------- skorch extension points
    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("valid_acc", EpochScoring(_valid_accuracy, name="valid_acc", lower_is_better=False)),
            ("print_log", PrintLog()),
        ]

    def get_default_callbacks(self):
        """Return skorch's default callbacks, plus ``EarlyStopping`` when ``early_stopping``.

        Returns
        -------
        list of (str, skorch.callbacks.Callback)
            Named callbacks; the validation accuracy is recorded as ``valid_acc``.
        """
        callbacks = self._default_callbacks
        if self.early_stopping:
            stopper = EarlyStopping(
                monitor="valid_loss",
                patience=self.n_iter_no_change,
                threshold=self.tol,
                threshold_mode="abs",
                load_best=True,
                sink=print if self.verbose else noop,
            )
            callbacks.append(("early_stopping", stopper))
        return callbacks

    def initialize_module(self):
        """Build the module; with ``module=None``, an MLP sized from the fitted data.

        Returns
        -------
        self : LiLAWClassifier
            The estimator, with ``module_`` set.
        """
        if self.module is not None:
            return super().initialize_module()
        if "_classes" not in vars(self):
            raise ValueError("module=None builds an MLP from the data: call fit, not initialize.")
        sizes = tuple(np.atleast_1d(self.hidden_layer_sizes).tolist())
        if not all(isinstance(s, Integral) and s > 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}."
            )
        kwargs = self.get_params_for("module")
        self.module_ = MLP(self.n_features_in_, len(self.classes_), sizes, **kwargs)
        return self

    def initialize_criterion(self):
        """Wrap the per-sample criterion in a :class:`LiLAWLoss` holding the meta parameters.

        Returns
        -------
        self : LiLAWClassifier
            The estimator, with ``criterion_`` set.
        """
        kwargs = self.get_params_for("criterion")
        takes_reduction = (
            isinstance(self.criterion, type)
            and "reduction" in inspect.signature(self.criterion).parameters
        )
        if takes_reduction:
            kwargs.setdefault("reduction", "none")
        loss = self.initialized_instance(self.criterion, kwargs)
        self.criterion_ = LiLAWLoss(loss, self.alpha_init, self.beta_init, self.delta_init)
        self.criterion_.add_module("training_state", _TrainingState())
        return self

    def initialize_optimizer(self, triggered_directly=None):
        """Build the model's optimizer; ``weight_decay`` is its default weight decay.

        Parameters
        ----------
        triggered_directly : None
            Unused; skorch's deprecated argument, kept for its signature.

        Returns
        -------
        self : LiLAWClassifier
            The estimator, with ``optimizer_`` set.
        """
        args, kwargs = self.get_params_for_optimizer("optimizer", self.get_all_learnable_params())
        if self.weight_decay:
            kwargs.setdefault("weight_decay", self.weight_decay)
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self

    def check_data(self, X, y=None):
        """Do nothing: :meth:`fit` has validated the data before training.

        Parameters
        ----------
        X, y
            Ignored.
        """

    def get_split_datasets(self, X, y=None, **fit_params):
        """Return the training and validation datasets that :meth:`fit` prepared.

        Parameters
        ----------
        X : object
            The data that :meth:`fit` prepared: validated tensors on the device, split
            into training and validation datasets.
        y : None
            Ignored (the labels are in ``X``).
        **fit_params
            Ignored.

        Returns
        -------
        dataset_train, dataset_valid : torch.utils.data.TensorDataset
            The training rows (``X``, ``y``, sample weight, row number) and the
            validation rows (``X``, ``y``).
        """
        return X.train, X.valid

    def get_dataset(self, X, y=None):
        """Return a ``TensorDataset`` of validated ``X`` (and ``y``) on the device.

        Parameters
        ----------
        X : array-like or torch.utils.data.Dataset
            Validated input data; a ``Dataset`` is returned as it is.
        y : array-like or torch.Tensor, default=None
            Class indices; zeros stand in when there are none.

        Returns
        -------
        torch.utils.data.Dataset
        """
        if isinstance(X, (torch.utils.data.TensorDataset, Rows)):
            return X
        if isinstance(X, torch.utils.data.Dataset):
            # x of each item, read batch by batch; a dummy target, as for arrays
            return Rows(X, range(len(X)), torch.zeros(len(X), dtype=torch.long))
        X = torch.tensor(X, dtype=torch.float32, device=self._data_device)
        # like skorch's Dataset, stand in a dummy target when there is none
        y = torch.zeros(len(X), dtype=torch.long, device=self._data_device) if y is None else y
        return torch.utils.data.TensorDataset(X, torch.as_tensor(y, device=self._data_device))

    def get_iterator(self, dataset, training=False):
        """Return an iterator of mini-batches over ``dataset``.

        Training batches are shuffled with the generator seeded in :meth:`fit`.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
            The data to iterate over.
        training : bool, default=False
            Use ``iterator_train`` (and its parameters) instead of ``iterator_valid``.

        Returns
        -------
        iterable of tuple of torch.Tensor
        """
        streamed = not isinstance(dataset, torch.utils.data.TensorDataset)
        if not training:
            if not streamed:
                return super().get_iterator(dataset, training=False)
            kwargs = {"batch_size": self.batch_size, **self.get_params_for("iterator_valid")}
            return StreamedBatches(dataset, self._data_device, **kwargs)
        kwargs = {"batch_size": self.batch_size, "shuffle": True}
        kwargs.update(self.get_params_for("iterator_train"))
        if kwargs["shuffle"]:
            kwargs.setdefault("generator", vars(self).get("_shuffle_generator"))
        if streamed:
            return StreamedBatches(dataset, self._data_device, **kwargs)
        return self.iterator_train(dataset, **kwargs)

    def _in_warmup(self):
        return len(self.history) <= self.warmup_epochs

    @property
    def _data_device(self):
        """Where fit puts the data and its per-sample statistics."""
        return self.device

    def _backward(self, loss):
        loss.backward()

    def train_step_single(self, batch, **fit_params):
        """Forward, LiLAW-weighted loss (meta parameters fixed) and backward.

        Parameters
        ----------
        batch : tuple of torch.Tensor
            ``X``, class indices, sample weights and row numbers of a training batch.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``'loss'`` (the weighted mean loss) and ``'y_pred'`` (the logits).
        """
        self._set_training(True)
        Xi, yi, sample_weight, rows = batch
        y_pred = self.infer(Xi, **fit_params)
        probabilities = class_probabilities(y_pred)
        self._dynamics.update(rows, probabilities)
        if self._in_warmup():  # unweighted: the loss weights are the sample weights
            mean_weight, loss_weights = 1.0, sample_weight
        else:
            weights = self.criterion_.weights_of_probabilities(probabilities, yi).total
            mean_weight, loss_weights = weights.mean().item(), weights * sample_weight
        loss = self.get_loss(y_pred, yi, X=Xi, training=True, sample_weight=loss_weights)
        if not torch.isfinite(loss):
            epoch, batch_number = len(self.history), len(self.history[-1, "batches"])
            raise ValueError(
                f"Non-finite training loss ({loss.item()}) at epoch {epoch}, batch "
                f"{batch_number}. Lower lr, scale the features, or check the module."
            )
        self._backward(loss)
        self.history.record_batch("lilaw_weight", mean_weight)
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """One optimizer step of the model, then (after warm-up) one meta step.

        Parameters
        ----------
        batch : tuple of torch.Tensor
            A training batch, as in :meth:`train_step_single`.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            As :meth:`train_step_single` returns it.
        """
        step = super().train_step(batch, **fit_params)
        if not self._in_warmup():
            self.meta_step(next(self._meta_batches), **fit_params)
        return step

    def meta_step(self, batch, **fit_params):
        """Update ``alpha, beta, delta`` on a validation batch, without a graph.

        The module runs in evaluation mode for this forward pass.

        Parameters
        ----------
        batch : tuple of torch.Tensor
            ``X``, class indices and sample weights of a validation batch.
        **fit_params
            Passed to the module's ``forward``.
        """
        Xv, yv, sample_weight = batch
        self._set_training(False)
        with torch.no_grad():
            y_pred = self.infer(Xv, **fit_params)
        try:
            self.criterion_.meta_step(
                y_pred,
                yv,
                sample_weight,
                lr=self.meta_lr,
                weight_decay=self.meta_weight_decay,
                reduce_gradient=self._reduce_meta_gradient,
            )
        except ValueError as exc:
            epoch, batch_number = len(self.history), len(self.history[-1, "batches"])
            raise ValueError(
                f"Meta step at epoch {epoch}, batch {batch_number}: {exc} Lower meta_lr "
                f"(now {self.meta_lr}), or check the module's output on the validation data."
            ) from exc

    def get_loss(self, y_pred, y_true, X=None, training=False, sample_weight=None):
        """Mean per-sample loss, each sample's loss multiplied by ``sample_weight``.

        During training ``sample_weight`` carries the LiLAW weights; the validation
        loss is the plain mean.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (n_samples, n_classes)
            Logits.
        y_true : torch.Tensor of shape (n_samples,)
            Class indices.
        X : object, default=None
            Ignored (skorch's signature).
        training : bool, default=False
            Ignored (skorch's signature).
        sample_weight : torch.Tensor of shape (n_samples,), default=None
            Multiplies each sample's loss.

        Returns
        -------
        torch.Tensor
            A scalar.
        """
        losses = self.criterion_.per_sample_loss(y_pred, y_true)
        if sample_weight is not None:
            losses = losses * sample_weight
        return losses.mean()

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Start an epoch; the first of a resumed fit continues the saved random streams.

        A fit resumes when ``partial_fit`` or ``warm_start=True`` continue a fitted
        estimator, or when skorch's ``LoadInitState`` has loaded a checkpoint: the batch
        shuffling, the meta batches and (with ``random_state`` set) torch's random
        numbers then go on where the saved fit's last epoch left them.

        Parameters
        ----------
        net : LiLAWClassifier
            The estimator (skorch passes it to every callback).
        dataset_train, dataset_valid : torch.utils.data.Dataset, default=None
            The epoch's data.
        **kwargs
            Passed on to skorch.
        """
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        state = self.criterion_.training_state
        if not vars(self).pop("_resume_pending", False) or not state.saved:
            return
        self._shuffle_generator.set_state(state.shuffle.cpu())
        if state.meta_pass_drawn:
            self._meta_batches.resume(state.meta_pass_start.cpu(), int(state.meta_pass_drawn))
        if self.random_state is not None:  # else torch's random state is the caller's
            torch.set_rng_state(state.torch_random.cpu())

    def _save_training_state(self):
        state = self.criterion_.training_state
        state.shuffle.copy_(self._shuffle_generator.get_state())
        state.torch_random.copy_(torch.get_rng_state())
        if self._meta_batches.pass_start is not None:
            state.meta_pass_start.copy_(self._meta_batches.pass_start)
        state.meta_pass_drawn.fill_(self._meta_batches.drawn)
        state.saved.fill_(True)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Record ``alpha``, ``beta``, ``delta`` and the epoch's mean LiLAW weight.

        Parameters
        ----------
        net : LiLAWClassifier
            The estimator (skorch passes it to every callback).
        dataset_train, dataset_valid : torch.utils.data.Dataset, default=None
            The epoch's data.
        **kwargs
            Passed on to skorch.
        """
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        self._save_training_state()
        alpha, beta, delta = self.criterion_.meta_params.tolist()
        self.history.record("alpha", alpha)
        self.history.record("beta", beta)
        self.history.record("delta", delta)
        if self.history[-1, "train_batch_count"]:
            weights = self.history[-1, "batches", :, "lilaw_weight"]
            sizes = self.history[-1, "batches", :, "train_batch_size"]
            self.history.record("mean_weight", float(np.average(weights, weights=sizes)))

    def _label_issues(self, fit_data, index):
        """``label_issues_``: training rows judged by their mean probabilities over the
        epochs, validation rows by the fitted model's out-of-sample probabilities."""
        meta_params = self.criterion_.meta_params
        probabilities = self._dynamics.mean_probabilities()
        labels = class_indices(fit_data.train)
        frame = label_issue_frame(probabilities, labels, self.classes_, meta_params)
        parts = [frame.assign(in_validation=False)]
        if len(fit_data.valid_rows):
            probabilities = class_probabilities(self.forward(fit_data.valid)).numpy()
            labels = class_indices(fit_data.valid)
            frame = label_issue_frame(probabilities, labels, self.classes_, meta_params)
            parts.append(frame.assign(in_validation=True))
        order = np.argsort(np.concatenate([fit_data.train_rows, fit_data.valid_rows]))
        frame = pd.concat(parts, ignore_index=True).iloc[order].reset_index(drop=True)
        if index is not None:
            frame.index = index
        return frame

    # ----------------------------------------------------------------- prediction
    def _logits(self, X):
        check_is_fitted(self)
        if isinstance(X, torch.utils.data.Dataset):
            self._check_dataset_input(input_shape(X), reset=False)
            return self.forward(X)
        X = _dense(validate_data(self, X, reset=False, **_INPUT))
        return self.forward(X)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the module's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or torch.utils.data.Dataset
            Input data; a ``Dataset`` (items ``(x, y)`` or ``x``) is read in batches.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return torch.softmax(self._logits(X).double(), dim=1).numpy()

    def predict(self, X):
        """Most probable class label for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or torch.utils.data.Dataset
            Input data; a ``Dataset`` (items ``(x, y)`` or ``x``) is read in batches.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        indices = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[indices]

    def difficulty(self, X, y):
        """Per-sample LiLAW weights and difficulty under the fitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,)
            Observed labels (from ``classes_``).

        Returns
        -------
        pandas.DataFrame
            One row per sample (indexed like ``X`` when it is a DataFrame) with
            ``p_label`` (probability of the observed label), ``p_max`` (largest
            probability), ``w_easy``, ``w_moderate``, ``w_hard`` (``W_alpha``,
            ``W_delta``, ``W_beta``), ``weight`` (their sum) and ``category`` (``'easy'``,
            ``'moderate'`` or ``'hard'``: the component that dominates the weight).
        """
        logits = self._logits(X)
        y = column_or_1d(y)
        if len(y) != len(logits):
            raise ValueError(f"X has {len(logits)} samples but y has {len(y)}.")
        _check_labels(y, "y")
        target = self._encode(y, "y")
        probabilities = class_probabilities(logits.double()).numpy()
        weights = weight_components(probabilities, target, self.criterion_.meta_params)
        frame = pd.DataFrame(
            {
                "p_label": probabilities[np.arange(len(target)), target],
                "p_max": probabilities.max(axis=1),
                "w_easy": weights[0],
                "w_moderate": weights[1],
                "w_hard": weights[2],
                "weight": weights.sum(axis=0),
                "category": pd.Categorical(
                    CATEGORIES[weights.argmax(axis=0)], categories=CATEGORIES
                ),
            }
        )
        if isinstance(X, pd.DataFrame):
            frame.index = X.index
        return frame
