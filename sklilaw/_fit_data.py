"""Preparing the data of one fit: one path for arrays and torch Datasets.

Both kinds of input are a *source* of rows: :class:`_InMemory` holds validated arrays
and takes rows as tensors on the device, :class:`_Streamed` keeps a torch ``Dataset``
where it is and takes rows as indices (:class:`~sklilaw._streaming.Rows`). Everything
else, the checks of labels, sample weights and validation arguments, the split and the
datasets of the fit, is written once for both.
"""

from typing import NamedTuple

import numpy as np
import torch
from sklearn.utils import column_or_1d
from sklearn.utils.validation import validate_data

from ._split import strata, stratified_split
from ._streaming import Rows, input_shape
from ._validation import (
    INPUT,
    check_dataset_input,
    check_labels,
    check_synthetic,
    dataset_labels,
    dense,
    encode,
    encoded_targets,
)


class FitArguments(NamedTuple):
    """The data arguments of ``fit``, as given."""

    X: object
    y: object
    sample_weight: object = None
    X_val: object = None
    y_val: object = None
    sensitive_features: object = None
    synthetic: object = None


class FitData(NamedTuple):
    """The datasets of one call to fit, on the device (or streamed to it)."""

    train: torch.utils.data.Dataset  # X, y, sample_weight, row in train
    valid: torch.utils.data.Dataset  # X, y: skorch's per-epoch validation pass
    meta: torch.utils.data.Dataset  # X, y, sample_weight: the meta steps
    train_rows: np.ndarray  # positions in X of the training rows
    valid_rows: np.ndarray  # positions in X of the validation rows (empty with X_val)
    synthetic: np.ndarray | None  # True for the synthetic rows of X; None: all real


class _InMemory:
    """Validated arrays; rows are taken as tensors on ``device``."""

    def __init__(self, X, device):
        self.X = X
        self.device = device

    @classmethod
    def training(cls, estimator, X, y, *, reset):
        check_labels(y, "y")
        X, y = validate_data(estimator, X, y, reset=reset, **INPUT)
        return cls(dense(X), estimator._data_device), y

    @classmethod
    def validation(cls, estimator, X_val, y_val):
        X_val = dense(validate_data(estimator, X_val, reset=False, **INPUT), "X_val")
        y_val = column_or_1d(y_val)
        check_labels(y_val, "y_val")
        y_val = encode(y_val, estimator.classes_, "y_val")
        if len(X_val) != len(y_val):
            raise ValueError(f"X_val has {len(X_val)} samples but y_val has {len(y_val)}.")
        return cls(X_val, estimator._data_device), y_val

    def take(self, rows, *columns):
        # torch.tensor copies, so read-only inputs (memory maps) are fine
        X = torch.tensor(self.X[rows], dtype=torch.float32, device=self.device)
        return torch.utils.data.TensorDataset(
            X, *(torch.tensor(column, device=self.device) for column in columns)
        )


class _Streamed:
    """A map-style torch Dataset; rows are taken as indices and read batch by batch."""

    def __init__(self, dataset):
        self.dataset = dataset

    @classmethod
    def training(cls, estimator, X, y, *, reset):
        y = dataset_labels(X, y, "X", "y", estimator.batch_size)
        check_dataset_input(estimator, input_shape(X), reset)
        return cls(X), y

    @classmethod
    def validation(cls, estimator, X_val, y_val):
        labels = dataset_labels(X_val, y_val, "X_val", "y_val", estimator.batch_size)
        y_val = encode(labels, estimator.classes_, "y_val")
        check_dataset_input(estimator, input_shape(X_val), reset=False)
        return cls(X_val), y_val

    def take(self, rows, *columns):
        return Rows(self.dataset, rows, *columns)


def _without_weights(meta):
    """The meta rows without their sample-weight column, sharing their data."""
    if isinstance(meta, Rows):
        return Rows(meta.subset.dataset, meta.subset.indices, meta.columns[0])
    return torch.utils.data.TensorDataset(*meta.tensors[:2])


def _split(estimator, y, sensitive_features, synthetic, seed):
    """The internal validation split, stratified, carved from the real rows only."""
    real = None if synthetic is None else np.flatnonzero(~synthetic)
    y_real = y if real is None else y[real]
    codes = y_real if sensitive_features is None else strata(y, sensitive_features, real)
    train, val = stratified_split(
        y_real,
        codes,
        classes=estimator.classes_,
        validation_fraction=estimator.validation_fraction,
        seed=seed,
        kind="" if real is None else "real ",
    )
    if real is None:
        return train, val
    # the synthetic rows only train
    return np.concatenate([real[train], np.flatnonzero(synthetic)]), real[val]


def prepare_fit_data(estimator, arguments, *, reset, classes, seed, split=None):
    """Validate everything, set the data-dependent attributes, build the datasets.

    Parameters
    ----------
    estimator : LiLAWClassifier
        Its ``classes_``, ``n_features_in_`` (and ``feature_names_in_``) are set on
        ``reset``, else checked.
    arguments : FitArguments
        As given to ``fit``.
    reset : bool
        Whether this fit starts afresh.
    classes : array-like or None
        All classes, when ``y`` may lack some (``partial_fit``, a refit).
    seed : int
        Seeds the validation split.
    split : tuple of ndarray, default=None
        Training and validation rows (positions in ``X``) to use instead of a split
        drawn from ``seed``; with ``X_val``, the validation rows are empty and the
        training rows those of ``X`` trained on.

    Returns
    -------
    FitData
    """
    X, y, sample_weight, X_val, y_val, sensitive_features, synthetic = arguments
    streamed = isinstance(X, torch.utils.data.Dataset)
    if streamed and X_val is not None and not isinstance(X_val, torch.utils.data.Dataset):
        raise TypeError(
            f"With a torch Dataset as X, X_val must be a Dataset too, got {type(X_val).__name__}."
        )
    if not streamed and (X_val is None) != (y_val is None):  # a Dataset may hold y_val
        raise ValueError("X_val and y_val must be given together (or neither).")
    if X_val is not None and sensitive_features is not None:
        raise ValueError(
            "sensitive_features only shape the internal validation split; "
            "they have no use with X_val and y_val."
        )
    source_type = _Streamed if streamed else _InMemory
    source, y = source_type.training(estimator, X, y, reset=reset)
    y, sample_weight = encoded_targets(estimator, y, sample_weight, reset=reset, classes=classes)
    synthetic = check_synthetic(synthetic, len(y))
    if split is not None:
        train, val = split
    elif X_val is None:
        train, val = _split(estimator, y, sensitive_features, synthetic, seed)
    else:
        train, val = np.arange(len(y)), np.arange(0)
    if X_val is None:
        val_source, val_rows, y_val, val_weight = source, val, y[val], sample_weight[val]
    else:
        val_source, y_val = source_type.validation(estimator, X_val, y_val)
        val_rows, val_weight = np.arange(len(y_val)), np.ones(len(y_val), dtype=np.float32)
    meta = val_source.take(val_rows, y_val, val_weight)
    return FitData(
        train=source.take(train, y[train], sample_weight[train], np.arange(len(train))),
        valid=_without_weights(meta),
        meta=meta,
        train_rows=train,
        valid_rows=val,
        synthetic=synthetic,
    )
