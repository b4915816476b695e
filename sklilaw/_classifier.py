"""LiLAWClassifier: LiLAW re-weighting as a scikit-learn classifier built on skorch."""

import types
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from skorch import NeuralNet, NeuralNetClassifier
from torch import nn

from ._data import TensorBatches
from ._fit_data import FitArguments
from ._mlp import MLP
from ._noise_handling import check_noise_handling, fit_trainings
from ._prediction import LiLAWPrediction
from ._rollback import InterruptWatch, unchanged_on_failure
from ._training import LiLAWTraining
from ._validation import check_device, hidden_layer_sizes

# torch's fused optimizers: on small networks, the per-parameter loop of the default
# implementation costs more than the arithmetic
FUSED_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW)


class LiLAWClassifier(LiLAWTraining, LiLAWPrediction, NeuralNetClassifier):
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
    early_stopping : bool, default=False
        Stop when the validation loss (unweighted) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the module's parameters of the best
        epoch (``alpha_``, ``beta_``, ``delta_`` keep their last values).
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest decrease of the validation loss that counts as an improvement.
    label_issues_refit : {None, 'prune', 'downweight'}, default=None
        After training, train once more from scratch (two trainings in all) without
        the training rows that ``label_issues_`` flags (``'prune'``), or with each
        flagged row's weight multiplied by its ``label_quality`` (``'downweight'``).
        The refit validates on the first training's validation rows (never pruned),
        and its model replaces the first one only if its accuracy there is at least as
        high; otherwise a warning says so and the first model is kept (``trainings_``
        has both scores). Pruning keeps at least 5 rows of each class (or all of a
        smaller class): where fewer are unflagged, the flagged ones with the highest
        ``label_quality`` stay, with a warning. ``label_issues_`` keeps the first
        training's verdict on all rows; ``classes_`` keeps every class. Only
        :meth:`fit` refits, not :meth:`partial_fit`.
    noise_handling : {None, 'auto'}, default=None
        ``None`` trains as the other parameters say: the paper's method by default.
        ``'auto'`` is the configuration recommended for noisy labels: it trains with
        early stopping, once with ``criterion`` and once with
        :class:`~sklilaw.GeneralizedCrossEntropy` (``q=0.7``), keeps the model of
        higher accuracy on the validation rows, then refits it without its label issues
        (``label_issues_refit='prune'``, guarded as above, without the warning): three
        trainings in all, each kept only if it scores at least as well as the model
        kept before it on the same validation rows. ``trainings_`` says which was kept.
        It needs ``label_issues_refit=None`` and cannot continue a fitted model with
        ``warm_start``; :meth:`partial_fit` trains the model kept as it is.
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
        ``validation_accuracy`` (on the validation rows that all of them share, by their
        sample weights), ``n_train_rows``, ``epochs`` and ``kept`` (whether its model is
        the fitted one: exactly one row).
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
        detach_weights=True,
        warmup_epochs=0,
        reweight=True,
        early_stopping=False,
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
        reset = not (self.warm_start and self.initialized_)
        self._check_params()
        check_noise_handling(self, continuing=not reset)
        arguments = FitArguments(X, y, sample_weight, X_val, y_val, sensitive_features, synthetic)
        with unchanged_on_failure(self, continuing=not reset), InterruptWatch() as interrupt:
            fit_trainings(self, arguments, reset=reset, interrupt=interrupt)
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
            All labels that will ever be seen; only used on the first call, when ``y``
            may lack some of them.
        sample_weight, X_val, y_val, sensitive_features, synthetic
            As in :meth:`fit`.

        Returns
        -------
        self : LiLAWClassifier
            The fitted estimator.
        """
        arguments = FitArguments(X, y, sample_weight, X_val, y_val, sensitive_features, synthetic)
        with unchanged_on_failure(self, continuing=self.initialized_):
            self._fit(arguments, reset=not self.initialized_, classes=classes)
        return self

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

    def initialize_optimizer(self, triggered_directly=None):
        """Build the model's optimizer; ``weight_decay`` is its default weight decay, and
        ``Adam`` and ``AdamW`` are fused by default.

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
        if self.optimizer in FUSED_OPTIMIZERS and not {"fused", "foreach"} & set(kwargs):
            kwargs["fused"] = True
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self
