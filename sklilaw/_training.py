"""LiLAW's training in skorch: the weighted training step, the meta step, the batches.

:class:`LiLAWTraining` holds the skorch extension points that make a ``NeuralNet`` train
with LiLAW: every training batch is weighted by ``w(a, m; alpha, beta, delta)``
(:meth:`~LiLAWTraining.train_step_single`), each is followed by one meta step on a
validation batch (:meth:`~LiLAWTraining.meta_step`), and the epochs record the meta
parameters and save the random streams; :meth:`~LiLAWTraining._fit` runs one training.
:class:`~sklilaw.LiLAWClassifier` combines it with :class:`~sklilaw._prediction.LiLAWPrediction`
and its parameters and ``fit``.
"""

import inspect

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochScoring,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
)
from skorch.utils import noop

from ._fit_data import prepare_fit_data
from ._label_issues import TrainingDynamics, label_issues_of_fit
from ._loss import GeneralizedCrossEntropy, LiLAWLoss
from ._noise_handling import AS_CONFIGURED, Training, validation_accuracy
from ._random_streams import Cycle, TrainingState, seeded_torch
from ._streaming import Rows, StreamedBatches, first_rows
from ._validation import check_module_output
from ._weighting import class_probabilities


def _valid_accuracy(net, dataset, y):
    """Accuracy on the validation split, where ``y`` holds class indices."""
    return float((net.forward(dataset).argmax(dim=1).numpy() == y).mean())


class _QuietPrintLog(PrintLog):
    """skorch's ``PrintLog``, which builds no table when it would print nothing."""

    def on_epoch_end(self, net, **kwargs):
        if self.sink is not print or net.verbose:
            super().on_epoch_end(net, **kwargs)


def _implements(handler):
    """Whether the callback's bound method ``handler`` is not skorch's no-op."""
    return getattr(handler, "__func__", None) is not getattr(Callback, handler.__name__, None)


class LiLAWTraining:
    """skorch extension points of LiLAW's training, mixed into a ``NeuralNet``.

    The estimator it is mixed into provides ``criterion_`` (a :class:`~sklilaw.LiLAWLoss`),
    ``meta_lr``, ``meta_weight_decay``, ``detach_weights``, ``warmup_epochs``, ``reweight``,
    ``early_stopping`` and, during
    fit, ``_meta_batches``, ``_shuffle_generator`` and ``_dynamics``.
    """

    # data-parallel subclasses average the meta-gradient over their processes here
    _reduce_meta_gradient = None

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("valid_acc", EpochScoring(_valid_accuracy, name="valid_acc", lower_is_better=False)),
            ("print_log", _QuietPrintLog()),
        ]

    @property
    def _recipe_in_use(self):
        """The :class:`Recipe` of the fit's training from scratch (set by fit)."""
        return vars(self).get("_recipe", AS_CONFIGURED)

    def get_default_callbacks(self):
        """Return skorch's default callbacks, plus ``EarlyStopping`` when ``early_stopping``
        (or a recipe of ``noise_handling``) asks for it.

        Returns
        -------
        list of (str, skorch.callbacks.Callback)
            Named callbacks; the validation accuracy is recorded as ``valid_acc``.
        """
        callbacks = self._default_callbacks
        if self.early_stopping or self._recipe_in_use.early_stopping:
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

    def initialize_criterion(self):
        """Wrap the per-sample criterion in a :class:`LiLAWLoss` holding the meta parameters.

        A recipe of ``noise_handling`` may replace ``criterion`` by
        :class:`~sklilaw.GeneralizedCrossEntropy`.

        Returns
        -------
        self : LiLAWClassifier
            The estimator, with ``criterion_`` set.
        """
        if self._recipe_in_use.robust_loss:
            loss = GeneralizedCrossEntropy(reduction="none")
        else:
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
        self.criterion_.add_module("training_state", TrainingState())
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
            if _implements(handler):
                handler(self, **cb_kwargs)

    def _modules_to_switch(self):
        """Every module under the estimator's modules and criteria, or None if one of
        them overrides ``train``: then only ``train`` itself switches them correctly."""
        modules = []
        for name in self._modules + self._criteria:
            top = getattr(self, name + "_")
            if isinstance(top, torch.nn.Module):
                modules.extend(top.modules())
        if any(type(module).train is not torch.nn.Module.train for module in modules):
            return None
        return modules

    def _set_training(self, training=True):
        # during fit, the modules found at its start are switched without the recursion
        # of nn.Module.train, to the same effect; otherwise as skorch does
        modules = vars(self).get("_mode_switch")
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
            weights, mean_weight, loss_weights = None, 1.0, sample_weight
        else:
            weights = self.criterion_.weights(y_pred, yi, probabilities=probabilities).total
            mean_weight, loss_weights = weights.detach().mean().item(), weights * sample_weight
        self._dynamics.update_weights(rows, weights)
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
        if vars(self).pop("_resume_pending", False) and state.saved:
            # without random_state, torch's random state is the caller's
            state.restore(
                self._shuffle_generator,
                self._meta_batches,
                torch_random=self.random_state is not None,
            )

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
        self.criterion_.training_state.save(self._shuffle_generator, self._meta_batches)
        alpha, beta, delta = self.criterion_.meta_params.tolist()
        self.history.record("alpha", alpha)
        self.history.record("beta", beta)
        self.history.record("delta", delta)
        if self.history[-1, "train_batch_count"]:
            weights = self.history[-1, "batches", :, "lilaw_weight"]
            sizes = self.history[-1, "batches", :, "train_batch_size"]
            self.history.record("mean_weight", float(np.average(weights, weights=sizes)))
        for key, value in (self._dynamics.pop_origin_means() or {}).items():
            self.history.record(key, value)

    def _fit(self, arguments, *, reset, classes=None, split=None, recipe=AS_CONFIGURED):
        """One training of the :class:`FitArguments`; ``split`` (training and validation
        rows) replaces the internal split, and ``recipe`` how a training from scratch
        departs from the parameters.

        Returns
        -------
        Training
        """
        index = arguments.X.index if isinstance(arguments.X, pd.DataFrame) else None
        self._check_params()
        split_seed, torch_seed, shuffle_seed = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=3
        )
        if not reset and self.criterion_.training_state.saved:
            # resuming: the same data split as before, whatever random_state is
            split_seed = int(self.criterion_.training_state.split_seed)
        fit_data = prepare_fit_data(
            self, arguments, reset=reset, classes=classes, seed=split_seed, split=split
        )
        self._shuffle_generator = torch.Generator().manual_seed(int(shuffle_seed))
        seed = None if self.random_state is None else int(torch_seed)
        try:
            with seeded_torch(seed, self._data_device):
                if reset:
                    self._recipe = recipe
                    self.initialize()
                check_module_output(self, *first_rows(fit_data.valid, 2, self._data_device))
                self.criterion_.training_state.split_seed.fill_(int(split_seed))
                self._meta_batches = Cycle(
                    self.get_iterator(fit_data.meta, training=True), self._shuffle_generator
                )
                self._resume_pending = True
                self._mode_switch = self._modules_to_switch()
                self._dynamics = TrainingDynamics(
                    len(fit_data.train_rows),
                    len(self.classes_),
                    self._data_device,
                    synthetic=None
                    if fit_data.synthetic is None
                    else fit_data.synthetic[fit_data.train_rows],
                )
                super().partial_fit(fit_data, None)
                valid_logits = self.forward(fit_data.valid)  # once, for both
                self.label_issues_ = label_issues_of_fit(
                    self, self._dynamics, fit_data, valid_logits, index
                )
                score = validation_accuracy(fit_data, valid_logits)
        finally:
            # iterators and generators cannot be pickled; they live only during fit
            transients = (
                "_meta_batches",
                "_shuffle_generator",
                "_dynamics",
                "_resume_pending",
                "_mode_switch",
            )
            for transient in transients:
                vars(self).pop(transient, None)
        return Training(fit_data.train_rows, fit_data.valid_rows, score, len(self.history))
