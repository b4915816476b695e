"""LiLAWClassifier: LiLAW re-weighting as a scikit-learn classifier built on skorch."""

import copy
import inspect
import types
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from skorch.history import History
from skorch.utils import noop
from torch import nn

from ._batches import Rows, SparseRows, StreamedBatches, TensorBatches, input_shape
from ._fit_data import FitInput
from ._label_issues import SampleStatistics, difficulty_frame, label_issues_of_fit
from ._loss import LiLAWLoss
from ._networks import MLP
from ._noise_handling import (
    AS_CONFIGURED,
    NoiseHandling,
    Training,
    check_noise_handling,
    log_row,
    trainings_frame,
)
from ._random_streams import RandomStreams, seeded_torch
from ._rollback import InterruptWatch, restored_on_failure
from ._training import (
    PassValues,
    TrainingRun,
    default_callbacks,
    gradients_on,
    implements,
    modules_to_switch,
)
from ._validation import (
    check_dataset_input,
    check_device,
    check_labels,
    check_module_output,
    checked_input,
    encode,
    hidden_layer_sizes,
)
from ._weighting import class_probabilities

# torch's fused optimizers: on small networks, the per-parameter loop of the default
# implementation costs more than the arithmetic
FUSED_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW)


# fitted attributes that are pandas DataFrames
_TABLES = ("label_issues_", "trainings_")


def _table_state(frame):
    """A DataFrame as plain arrays and lists; categorical columns as codes."""
    columns = {}
    for name, column in frame.items():
        if isinstance(column.dtype, pd.CategoricalDtype):
            columns[name] = {
                "codes": column.cat.codes.to_numpy(),
                "categories": column.cat.categories.tolist(),
            }
        else:
            columns[name] = column.to_numpy()
    return {"columns": columns, "index": frame.index.to_numpy(), "index_name": frame.index.name}


def _table_from_state(state):
    columns = {
        name: pd.Categorical.from_codes(**values) if isinstance(values, dict) else values
        for name, values in state["columns"].items()
    }
    return pd.DataFrame(columns, index=pd.Index(state["index"], name=state["index_name"]))


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
        ``Adam`` and ``AdamW`` run torch's fused implementation (one kernel for all
        parameters, ``fused=True``) unless ``optimizer__fused`` or
        ``optimizer__foreach`` says otherwise; pass ``optimizer__fused=False`` for
        parameters it does not support (sparse gradients).
    lr : float, default=1e-3
        Learning rate of ``optimizer``.
    weight_decay : float, default=1e-4
        Weight decay of ``optimizer`` (overridden by ``optimizer__weight_decay``);
        ignored by optimizers without one (``LBFGS``, ``Rprop``, ``SparseAdam``).
    max_epochs : int, default=200
        Number of passes over the training data; with early stopping (the default) at
        most that many, a cap generous enough for small data sets, where an epoch is a
        handful of steps.
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
    detach_weights : bool, default=True
        Treat the LiLAW weights as constants in the network's gradient (the usual
        convention of re-weighting). ``False`` lets them carry their gradient into the
        network through the softmax, as the authors' code does; see
        :class:`~sklilaw.LiLAWLoss`.
    warmup_epochs : int, default=0
        Epochs trained on the unweighted loss, without meta steps, before LiLAW starts.
        The authors' code counts epochs from 0 and weights only after epoch
        ``warmup``: its default ``warmup=0`` trains one unweighted epoch, which is
        ``warmup_epochs=1`` here.
    reweight : bool, default=True
        ``False`` trains the *unweighted twin*: the same estimator, validation split,
        batches and label-issue bookkeeping with unit LiLAW weights and no meta step in
        any epoch (the same model as ``warmup_epochs=max_epochs``). It isolates what
        LiLAW's re-weighting changes; the benchmarks use it as their baseline.
    early_stopping : bool, default=True
        Stop when the validation loss (unweighted) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the module's parameters of the best
        epoch (``alpha_``, ``beta_``, ``delta_`` keep their last values): how long to
        train follows the data, and a network stops before it memorises wrong labels.
        ``False`` trains ``max_epochs`` epochs, as the paper does (see the "paper's
        configuration" in the user guide).
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest decrease of the validation loss that counts as an improvement.
    label_issues_refit : {None, 'prune', 'downweight'}, default=None
        After training, train once more from scratch (two trainings in all) without
        the training rows that ``label_issues_`` flags (``'prune'``), or with each
        flagged row's weight multiplied by its ``label_quality`` (``'downweight'``).
        The refit validates on the first training's validation rows (never pruned),
        and its model replaces the first one only if its log-loss there (a proper score,
        which also counts the rare classes' rows by how well they are predicted) is at
        most as high; otherwise a warning says so and the first model is kept
        (``trainings_`` has both scores). Pruning keeps at least 5 rows of each class (or all of a
        smaller class): where fewer are unflagged, the flagged ones with the highest
        ``label_quality`` stay, with a warning. ``label_issues_`` keeps the first
        training's verdict on all rows; ``classes_`` keeps every class. Only
        :meth:`fit` refits, not :meth:`partial_fit`, and a fit that refits starts from
        scratch: it cannot continue a fitted model with ``warm_start``. Each training
        is that of a new estimator with these parameters (callbacks are shared, so they
        see every training; a module or criterion given as an instance is copied, so
        every training starts from it as given and the instance itself is left as it
        is); this one takes the model kept.
    noise_handling : {None, 'auto'}, default=None
        ``None`` trains as the other parameters say: the paper's method by default.
        ``'auto'`` is the configuration recommended for noisy labels: it trains with
        early stopping, once with ``criterion`` and once with
        :class:`~sklilaw.GeneralizedCrossEntropy` (``q=0.7``), keeps the model of
        lower log-loss on the validation rows, then refits it without its label issues
        (``label_issues_refit='prune'``, guarded as above, without the warning): three
        trainings in all, each kept only if its validation log-loss is at most that of
        the model kept before it on the same validation rows. ``trainings_`` says which was kept
        and ``best_params_`` with which parameters it was trained (e.g.
        ``{'early_stopping': True, 'criterion': GeneralizedCrossEntropy}``); the
        parameters themselves stay as set. It needs ``label_issues_refit=None`` and
        cannot continue a fitted model with ``warm_start``; :meth:`partial_fit` trains
        the model kept as it is. Its trainings are new estimators, as for
        ``label_issues_refit``.
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
    trainings_ : pandas.DataFrame
        Set by :meth:`fit`: one row per training of the fit (one, or more with
        ``label_issues_refit`` or ``noise_handling``) with ``training`` (its name),
        ``validation_accuracy`` and ``validation_log_loss`` (on the validation rows that
        all of them share, by their sample weights; the log-loss decides),
        ``n_train_rows``, ``epochs`` and ``kept`` (whether its model is
        the fitted one: exactly one row).
    best_params_ : dict
        Set by :meth:`fit`: the parameters by which the training of the kept model
        departed from this estimator's, ``{}`` when it trained as configured. With
        ``noise_handling='auto'``, ``clone(clf).set_params(noise_handling=None,
        **clf.best_params_)`` is configured as the kept model was trained.
    history_ : skorch.history.History
        Also reachable as ``history`` (skorch's alias, the name the user guide uses).
        Per-epoch ``train_loss``, ``valid_loss``, ``valid_acc``, ``alpha``, ``beta``,
        ``delta`` and ``mean_weight`` (the average LiLAW weight of the epoch's training
        samples; with ``synthetic=``, also ``mean_weight_real`` and
        ``mean_weight_synthetic``), and per-batch values.

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
        "detach_weights": ["boolean"],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "reweight": ["boolean"],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "label_issues_refit": [None, StrOptions({"prune", "downweight"})],
        "noise_handling": [None, StrOptions({"auto"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    # skorch's __init__ sets these on the instance; scikit-learn wants __init__ to set
    # nothing but the parameters, so they are class-level defaults here instead.
    history_ = None
    initialized_ = False
    virtual_params_ = types.MappingProxyType({})
    # the training in progress, shared by the skorch hooks while it runs (see _train)
    _run = None
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
        max_epochs=200,
        batch_size=128,
        hidden_layer_sizes=(100,),
        validation_fraction=0.15,
        alpha_init=2.0,
        beta_init=2.0,
        delta_init=2.0,
        meta_lr=0.01,
        meta_weight_decay=0.01,
        detach_weights=True,
        warmup_epochs=0,
        reweight=True,
        early_stopping=True,
        n_iter_no_change=10,
        tol=1e-4,
        label_issues_refit=None,
        noise_handling=None,
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
        self.detach_weights = detach_weights
        self.warmup_epochs = warmup_epochs
        self.reweight = reweight
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.label_issues_refit = label_issues_refit
        self.noise_handling = noise_handling
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

    # ----------------------------------------------------------------- pickling
    def __getstate__(self):
        # the fitted tables as arrays: skops, which stores no DataFrame, can then store
        # the estimator and any meta-estimator around it; pickle round-trips them as well
        state = super().__getstate__()
        for name in _TABLES:
            if name in state:
                state[name] = _table_state(state[name])
        return state

    def __setstate__(self, state):
        for name in _TABLES:
            if name in state:
                state[name] = _table_from_state(state[name])
        super().__setstate__(state)

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

    def get_metadata_routing(self):
        """Metadata routing: scikit-learn's, from the signatures of ``fit`` and ``score``.

        With ``sklearn.set_config(enable_metadata_routing=True)``,
        ``set_fit_request(sample_weight=True, sensitive_features=True)`` (or ``X_val``,
        ``y_val``) lets ``Pipeline``, the searches and ``cross_validate`` pass them to
        :meth:`fit`. skorch's own routing would route to its ``train_split``, which this
        estimator replaces by its internal split.

        Returns
        -------
        sklearn.utils.metadata_routing.MetadataRequest
            The estimator's requests.
        """
        return super(NeuralNet, self).get_metadata_routing()

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
        check_device(self.device)

    # ------------------------------------------------------------------- fitting
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sensitive_features=None,
        synthetic=None,
    ):
        """Train the module with LiLAW re-weighting.

        A fit that fails leaves the estimator exactly as it was; meanwhile, a fit that
        continues (``warm_start``) or trains a module given as an instance holds a copy
        of the module's parameters and the optimizer's state on the CPU. Ctrl-C ends
        training and keeps the model trained so far; with ``label_issues_refit`` it
        skips the refit, or, during the refit, keeps the first training's model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or torch.utils.data.Dataset
            Training data; a DataFrame's column names are kept in ``feature_names_in_``;
            a sparse matrix stays sparse, one batch of rows at a time made dense (the
            network works on dense tensors; TF-IDF features fit in memory as they are). A
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
        synthetic : array-like of bool, shape (n_samples,), default=None
            True for the rows that are synthetic (made by a generative model, an
            oversampler such as SMOTE, or augmentation), False for the real ones. The
            internal validation split, and with it every meta step and early stopping,
            is then carved from the real rows only (``validation_fraction`` of them,
            stratified as without the mask); the synthetic rows only train. The history
            records the mean LiLAW weight of the real and of the synthetic training rows
            per epoch (``mean_weight_real``, ``mean_weight_synthetic``), and
            ``label_issues_`` gains a boolean column ``synthetic``. With ``X_val``, the
            mask only labels the rows.

        Returns
        -------
        self : LiLAWClassifier
            The fitted estimator.
        """
        continuing = self.warm_start and self.initialized_
        self._check_params()
        check_noise_handling(self, continuing=continuing)
        data = dict(
            X_val=X_val, y_val=y_val, sensitive_features=sensitive_features, synthetic=synthetic
        )
        if self.noise_handling is None and self.label_issues_refit is None:
            with restored_on_failure(
                self, trained_in_place=self._trained_in_place(continuing), continuing=continuing
            ):
                fit_input = self._checked_input(X, y, sample_weight, data, continuing)
                training = self._train(fit_input, reset=not continuing)
                self.trainings_ = trainings_frame(
                    [log_row(AS_CONFIGURED.name, training, kept=True)]
                )
                self.best_params_ = {}
        else:
            # every training is one of a new estimator, kept only if its model is: this
            # one changes only when the last training has ended
            with restored_on_failure(self):
                fit_input = self._checked_input(X, y, sample_weight, data, continuing=False)
                self._fit_trainings(NoiseHandling.of(self), fit_input)
        return self

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
        synthetic=None,
    ):
        """Train for ``max_epochs`` more epochs, initialising only on the first call.

        Parameters
        ----------
        X, y
            As in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            All labels that will ever be seen; used on the first call, when ``y`` may
            lack some of them. A later call may repeat them; other classes are an error.
        sample_weight, X_val, y_val, sensitive_features, synthetic
            As in :meth:`fit`.

        Returns
        -------
        self : LiLAWClassifier
            The fitted estimator.
        """
        continuing = self.initialized_
        self._check_params()
        if continuing and classes is not None:
            given = np.unique(column_or_1d(classes))
            if not np.array_equal(given, self.classes_):
                raise ValueError(
                    f"classes={given.tolist()} is not the same as on the first call to "
                    f"partial_fit, was: {self.classes_.tolist()}."
                )
        with restored_on_failure(
            self, trained_in_place=self._trained_in_place(continuing), continuing=continuing
        ):
            data = dict(
                X_val=X_val, y_val=y_val, sensitive_features=sensitive_features, synthetic=synthetic
            )
            fit_input = self._checked_input(X, y, sample_weight, data, continuing, classes)
            self._train(fit_input, reset=not continuing)
        return self

    def _checked_input(self, X, y, sample_weight, data, continuing, classes=None):
        """The data of a fit, checked once (a fit that continues keeps its classes)."""
        return FitInput.check(
            self,
            X,
            y,
            sample_weight,
            **data,
            reset=not continuing,
            classes=self.classes_ if continuing else classes,
            device=self._data_device,
        )

    def _trained_in_place(self, continuing):
        """The torch objects that a fit of this estimator trains in place: the fitted
        module, optimizer and criterion when it continues, else a module or criterion
        given as an instance."""
        if continuing:
            return [self.module_, self.optimizer_, self.criterion_]
        return [given for given in (self.module, self.criterion) if isinstance(given, nn.Module)]

    def _fit_trainings(self, noise_handling, fit_input):
        """Run the trainings that ``noise_handling`` plans, then take the kept model.

        Each training is the fit of a new estimator of this one's parameters, changed by
        the step's (:meth:`_with_params`); Ctrl-C ends the training under way and skips
        those after it.
        """
        with InterruptWatch() as interrupt:
            step = noise_handling.first_step(fit_input.sample_weight)
            while step is not None:
                estimator = self._with_params(step.params)
                training = estimator._train(
                    fit_input, reset=True, split=step.split, sample_weight=step.sample_weight
                )
                step = noise_handling.record(
                    step,
                    estimator,
                    training,
                    estimator.label_issues_,
                    interrupted=interrupt.caught,
                )
        self._take_fitted_state(noise_handling.kept)
        self.label_issues_ = noise_handling.label_issues
        self.trainings_ = noise_handling.trainings()
        self.best_params_ = noise_handling.best_params

    def _with_params(self, params):
        """A new, unfitted estimator with this one's parameters, ``params`` replacing some.

        The parameter objects are shared (a callback sees every training), except a
        module or criterion given as an instance, which is copied: every training starts
        from it as given. A new ``criterion`` drops the ``criterion__*`` arguments of the
        old one.
        """
        own = self.get_params(deep=False)
        if "criterion" in params:
            own = {k: v for k, v in own.items() if not k.startswith("criterion__")}
        merged = {**own, **params, "noise_handling": None, "label_issues_refit": None}
        for name in ("module", "criterion"):
            if isinstance(merged[name], nn.Module):
                merged[name] = copy.deepcopy(merged[name])
        return type(self)(**merged)

    def _take_fitted_state(self, other):
        """Take the fitted model of ``other`` (from :meth:`_with_params`): all its
        attributes but its parameters; this estimator's parameters stay as they are."""
        params = {*self._get_param_names(), "_params_to_validate"}
        vars(self).update({k: v for k, v in vars(other).items() if k not in params})

    def _train(self, fit_input, *, reset, split=None, sample_weight=None):
        """One training on the data of a :class:`~sklilaw._fit_data.FitInput`.

        The one training loop of :meth:`fit`, :meth:`partial_fit` and noise handling:
        draws the seeds, carves the validation split (or takes ``split``, training and
        validation rows of ``X``), initialises the estimator on ``reset``, trains for
        ``max_epochs`` (or until early stopping) and sets ``label_issues_``.

        Parameters
        ----------
        fit_input : FitInput
            The checked data of the fit.
        reset : bool
            Start afresh, or continue the fitted model.
        split : tuple of ndarray, default=None
            Training and validation rows, positions in ``X``.
        sample_weight : ndarray, default=None
            Replaces the sample weights of ``fit_input`` (a refit's down-weighting).

        Returns
        -------
        Training
            Its rows, the validation accuracy of its model and its number of epochs.
        """
        split_seed, torch_seed, shuffle_seed = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=3
        )
        if not reset and self.criterion_.random_streams.saved:
            # resuming: the same data split as before, whatever random_state is
            split_seed = int(self.criterion_.random_streams.split_seed)
        if split is None:
            split = fit_input.split(self.validation_fraction, split_seed)
        shuffle = torch.Generator().manual_seed(int(shuffle_seed))
        seed = None if self.random_state is None else int(torch_seed)
        try:
            # the caller's torch.no_grad() or inference_mode() do not reach the training
            with seeded_torch(seed, self._data_device), gradients_on():
                if reset:
                    self._set_data_attributes(fit_input)
                    self.initialize()
                dtype = self._input_dtype()
                data = fit_input.training_data(*split, sample_weight, dtype=dtype)
                X_first, y_first = data.first_rows(2, self._data_device, dtype)
                self._set_training(False)
                with torch.no_grad():
                    output = self.infer(X_first)
                check_module_output(output, y_first, len(self.classes_), self.criterion_)
                self.criterion_.random_streams.split_seed.fill_(int(split_seed))
                statistics = SampleStatistics(
                    len(data.train_rows),
                    len(self.classes_),
                    self._data_device,
                    synthetic=None if data.synthetic is None else data.synthetic[data.train_rows],
                )
                tops = [getattr(self, name + "_") for name in self._modules + self._criteria]
                self._run = TrainingRun(shuffle, statistics, modules_to_switch(tops))
                self._run.cycle_meta_batches(self.get_iterator(data.meta, training=True))
                super().partial_fit(data, None)
                predicted, label_log_proba, probabilities = self._validation_outputs(data)
                self.label_issues_ = label_issues_of_fit(
                    self.classes_,
                    self.criterion_.meta_params,
                    statistics,
                    data,
                    probabilities,
                    fit_input.index,
                )
                accuracy, log_loss = data.validation_scores(predicted, label_log_proba)
        finally:
            vars(self).pop("_run", None)
        return Training(data.train_rows, data.valid_rows, accuracy, log_loss, len(self.history))

    def _validation_outputs(self, data):
        """What the fitted model says of the validation rows, one batch at a time: once,
        for the scores and the label issues.

        Returns
        -------
        predicted : ndarray of int
            The most probable class of each row.
        label_log_proba : ndarray of float64
            The log-probability of each row's (given) label.
        probabilities : ndarray of float32, shape (n_rows, n_classes)
            The class probabilities, for the label issues of rows carved from ``X``
            (none with ``X_val``).
        """
        with_probabilities = len(data.valid_rows) > 0
        n_rows, n_classes = len(data.y_valid), len(self.classes_)
        probabilities = np.empty((len(data.valid_rows), n_classes), dtype=np.float32)
        # filled in place: small per-batch arrays kept to the end would sit in the freed
        # blocks of the large per-batch outputs and fragment the C heap (with 10,000
        # classes, the peak memory of a fit doubled)
        predicted, label_log_proba = np.empty(n_rows, dtype=np.int64), np.empty(n_rows)
        start = 0
        for logits in self.forward_iter(data.valid):
            rows = slice(start, start + len(logits))
            labels = torch.as_tensor(data.y_valid[rows]).view(-1, 1)
            log_norm = torch.logsumexp(logits, dim=1)  # no float64 copy of the logits
            label_log_proba[rows] = logits.gather(1, labels).view(-1) - log_norm.double()
            predicted[rows] = logits.argmax(dim=1).numpy()
            if with_probabilities:
                probabilities[rows] = class_probabilities(logits).numpy()
            start += len(logits)
        return predicted, label_log_proba, probabilities

    def _input_dtype(self):
        """The floating dtype of the module's parameters: that of its inputs (float32,
        or what ``torch.set_default_dtype`` made it)."""
        for tensor in (*self.module_.parameters(), *self.module_.buffers()):
            if tensor.is_floating_point():
                return tensor.dtype
        return torch.float32

    def _set_data_attributes(self, fit_input):
        """``classes_``, ``n_features_in_`` and ``feature_names_in_`` of the fit's data."""
        self._classes = fit_input.classes
        for name, value in fit_input.features.items():
            vars(self).pop(name, None)
            if value is not None:
                setattr(self, name, value)

    # ------------------------------------------------------- skorch extension points
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
        sizes = hidden_layer_sizes(self.hidden_layer_sizes)
        kwargs = self.get_params_for("module")
        self.module_ = MLP(self.n_features_in_, len(self.classes_), sizes, **kwargs)
        return self

    def initialize_criterion(self):
        """Wrap the per-sample ``criterion`` in a :class:`LiLAWLoss` holding the meta
        parameters.

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
        self.criterion_ = LiLAWLoss(
            loss,
            self.alpha_init,
            self.beta_init,
            self.delta_init,
            detach_weights=self.detach_weights,
        )
        self.criterion_.add_module("random_streams", RandomStreams())
        return self

    def initialize_optimizer(self, triggered_directly=None):
        """Build the model's optimizer; ``weight_decay`` is its default weight decay (for an
        optimizer that has one), and ``Adam`` and ``AdamW`` are fused by default.

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
        if self.weight_decay and "weight_decay" in inspect.signature(self.optimizer).parameters:
            kwargs.setdefault("weight_decay", self.weight_decay)
        if self.optimizer in FUSED_OPTIMIZERS and not {"fused", "foreach"} & set(kwargs):
            kwargs["fused"] = True
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self

    def initialize_history(self):
        """Start a new history (skorch clears the old one in place, which a failed fit
        could not give back).

        Returns
        -------
        self : LiLAWClassifier
            The estimator, with an empty ``history_``.
        """
        self.history_ = History()
        return self

    def get_default_callbacks(self):
        """Return skorch's default callbacks, plus ``EarlyStopping`` when ``early_stopping``.

        Returns
        -------
        list of (str, skorch.callbacks.Callback)
            Named callbacks; the validation accuracy is recorded as ``valid_acc``.
        """
        callbacks = default_callbacks()
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
        X : TrainingData
            The datasets of the training, on the device.
        y : None
            Ignored (the labels are in ``X``).
        **fit_params
            Ignored.

        Returns
        -------
        dataset_train, dataset_valid : torch.utils.data.Dataset
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
        X = torch.tensor(X, dtype=self._input_dtype(), device=self._data_device)
        # like skorch's Dataset, stand in a dummy target when there is none
        y = torch.zeros(len(X), dtype=torch.long, device=self._data_device) if y is None else y
        return torch.utils.data.TensorDataset(X, torch.as_tensor(y, device=self._data_device))

    def get_iterator(self, dataset, training=False):
        """Return an iterator of mini-batches over ``dataset``.

        Training batches are shuffled with the generator of the training under way.

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
            return StreamedBatches(dataset, self._data_device, dtype=self._input_dtype(), **kwargs)
        kwargs = {"batch_size": self.batch_size, "shuffle": True}
        kwargs.update(self.get_params_for("iterator_train"))
        if kwargs["shuffle"] and self._run is not None:
            kwargs.setdefault("generator", self._run.shuffle)
        if streamed:
            return StreamedBatches(dataset, self._data_device, dtype=self._input_dtype(), **kwargs)
        return self.iterator_train(dataset, **kwargs)

    def notify(self, method_name, **cb_kwargs):
        """Call ``method_name`` on the estimator and its callbacks, as skorch does.

        The handlers of callbacks that keep skorch's no-op (a callback without its own
        ``on_batch_end``, say) are skipped: called several times per batch, they cost
        more than the batch's arithmetic on small networks.

        Parameters
        ----------
        method_name : str
            ``'on_train_begin'``, ``'on_epoch_end'``, ``'on_batch_begin'`` and so on.
        **cb_kwargs
            Passed to the handlers.
        """
        getattr(self, method_name)(self, **cb_kwargs)
        for _, callback in self.callbacks_:
            handler = getattr(callback, method_name)
            if implements(handler):
                handler(self, **cb_kwargs)

    def _set_training(self, training=True):
        # during a training, the modules found at its start are switched without the
        # recursion of nn.Module.train, to the same effect; otherwise as skorch does
        modules = None if self._run is None else self._run.modules
        if modules is None:
            return super()._set_training(training)
        for module in modules:
            vars(module)["training"] = training  # what nn.Module.train sets, without __setattr__
        return None

    def _in_warmup(self):
        # unit weights and no meta step: a warm-up epoch, or the unweighted twin
        return not self.reweight or len(self.history) <= self.warmup_epochs

    @property
    def _data_device(self):
        """Where fit puts the data and its per-sample statistics."""
        return self.device

    def _backward(self, loss):
        loss.backward()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's pass over the batches of an epoch, without waiting for the device
        after every batch.

        skorch reads every batch's loss with ``.item()``, which on a GPU waits for the
        batch to finish before the next can be queued. Here the per-batch values (the
        loss, the mean LiLAW weight, the validation accuracy, whether the meta step was
        taken) are written into one tensor on the device (``PassValues``) and read
        together at the end of the pass, into the history's batches; there,
        a non-finite training loss or a meta step that was not taken is an error that
        names its epoch and batch (the fit then leaves the estimator as it was).

        Parameters
        ----------
        iterator : iterable or None
            The batches; None: nothing to do.
        training : bool
            Whether the batches train.
        prefix : str
            ``'train'`` or ``'valid'``, the prefix of the recorded values.
        step_fn : callable
            :meth:`train_step` or :meth:`validation_step`.
        **fit_params
            Passed to ``step_fn``.
        """
        if iterator is None:
            return
        values = self._run.pass_values = PassValues(iterator, self._data_device)
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            values.new_batch()
            step = step_fn(batch, **fit_params)
            values.record(prefix + "_loss", step["loss"].detach())
            self.history.record_batch(prefix + "_batch_size", len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        self._run.pass_values = None
        batches = values.read()
        self.history.record(prefix + "_batch_count", len(batches))
        epoch, in_history = len(self.history), self.history[-1]["batches"]
        this_pass = in_history[len(in_history) - len(batches) :]
        for number, (recorded, batch_values) in enumerate(zip(this_pass, batches, strict=True), 1):
            meta_step_taken = batch_values.pop("meta_step_taken", True)
            recorded.update(batch_values)
            if training and not np.isfinite(batch_values["train_loss"]):
                raise ValueError(
                    f"Non-finite training loss ({batch_values['train_loss']}) at epoch {epoch}, "
                    f"batch {number}. Lower lr, scale the features, or check the module."
                )
            if not meta_step_taken:
                raise ValueError(
                    f"Meta step at epoch {epoch}, batch {number}: it would make (alpha, "
                    "beta, delta) non-finite, from non-finite losses or module outputs on "
                    "the validation batch or from a meta learning rate too large. Lower "
                    f"meta_lr (now {self.meta_lr}), or check the module's output on the "
                    "validation data."
                )

    def validation_step(self, batch, **fit_params):
        """skorch's validation step, which also records the batch's accuracy.

        Parameters
        ----------
        batch : tuple of torch.Tensor
            ``X`` and class indices of a validation batch.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``'loss'`` (the unweighted mean loss) and ``'y_pred'`` (the logits).
        """
        step = super().validation_step(batch, **fit_params)
        correct = step["y_pred"].argmax(dim=1) == batch[1]
        self._run.pass_values.record("valid_acc", correct.float().mean())
        return step

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
            ``'loss'`` (the weighted mean loss) and ``'y_pred'`` (the logits). A
            non-finite loss is found at the end of the epoch (:meth:`run_single_epoch`):
            checking it here would wait for the device after every batch.
        """
        self._set_training(True)
        Xi, yi, sample_weight, rows = batch
        y_pred = self.infer(Xi, **fit_params)
        probabilities = class_probabilities(y_pred)
        statistics = self._run.statistics
        statistics.update(rows, probabilities)
        if self._in_warmup():  # unweighted: the loss weights are the sample weights
            weights, mean_weight, loss_weights = None, 1.0, sample_weight
        else:
            weights = self.criterion_.weights(y_pred, yi, probabilities=probabilities).total
            mean_weight, loss_weights = weights.detach().mean(), weights * sample_weight
        statistics.update_weights(rows, weights)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True, sample_weight=loss_weights)
        self._backward(loss)
        # read with the batch's loss at the end of the pass (run_single_epoch)
        self._run.pass_values.record("lilaw_weight", mean_weight)
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
            self.meta_step(next(self._run.meta_batches), **fit_params)
        return step

    def meta_step(self, batch, **fit_params):
        """Update ``alpha, beta, delta`` on a validation batch, without a graph.

        The module runs in evaluation mode for this forward pass. A step that would make
        a parameter non-finite is not taken, and the end of the epoch says so
        (:meth:`run_single_epoch`).

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
        taken = self.criterion_.meta_step(
            y_pred,
            yv,
            sample_weight,
            lr=self.meta_lr,
            weight_decay=self.meta_weight_decay,
            reduce_gradient=self._reduce_meta_gradient,
            check_finite=False,
        )
        self._run.pass_values.record("meta_step_taken", taken)

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
        run, streams = self._run, self.criterion_.random_streams
        if run.resume_pending and streams.saved:
            # without random_state, torch's random state is the caller's
            streams.restore(
                run.shuffle, run.meta_batches, torch_random=self.random_state is not None
            )
        run.resume_pending = False

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Record ``alpha``, ``beta``, ``delta`` and the epoch's mean LiLAW weight (with
        synthetic rows, also the real and the synthetic rows' means).

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
        run = self._run
        self.criterion_.random_streams.save(run.shuffle, run.meta_batches)
        alpha, beta, delta = self.criterion_.meta_params.tolist()
        self.history.record("alpha", alpha)
        self.history.record("beta", beta)
        self.history.record("delta", delta)
        if self.history[-1, "train_batch_count"]:
            weights = self.history[-1, "batches", :, "lilaw_weight"]
            sizes = self.history[-1, "batches", :, "train_batch_size"]
            self.history.record("mean_weight", float(np.average(weights, weights=sizes)))
        for key, value in (run.statistics.pop_origin_means() or {}).items():
            self.history.record(key, value)

    # --------------------------------------------------------------- the fitted model
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

    def _logits(self, X):
        check_is_fitted(self)
        check_device(self.device)
        if isinstance(X, torch.utils.data.Dataset):
            check_dataset_input(self, input_shape(X), reset=False)
            return self.forward(X)
        X = checked_input(self, X, "X")
        return self.forward(SparseRows(X) if sp.issparse(X) else X)

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

    def predict_log_proba(self, X):
        """Logarithms of the class probabilities: the log-softmax of the module's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or torch.utils.data.Dataset
            Input data; a ``Dataset`` (items ``(x, y)`` or ``x``) is read in batches.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; exact where the probabilities round
            to 0 (no ``log(0)``).
        """
        return torch.log_softmax(self._logits(X).double(), dim=1).numpy()

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
            ``label_quality`` (probability of the observed label, ``a``), ``p_max``
            (largest probability, ``m``), ``w_easy``, ``w_moderate``, ``w_hard``
            (``W_alpha``, ``W_delta``, ``W_beta``), ``lilaw_weight`` (their sum) and
            ``difficulty`` (``'easy'``, ``'moderate'`` or ``'hard'``: the component
            that dominates the weight): the names of ``label_issues_``.
        """
        logits = self._logits(X)
        y = column_or_1d(y)
        if len(y) != len(logits):
            raise ValueError(f"X has {len(logits)} samples but y has {len(y)}.")
        check_labels(y, "y")
        target = encode(y, self.classes_, "y")
        probabilities = class_probabilities(logits.double()).numpy()
        frame = difficulty_frame(probabilities, target, self.criterion_.meta_params)
        if isinstance(X, pd.DataFrame):
            frame.index = X.index
        return frame
