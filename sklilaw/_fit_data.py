"""The data of one fit: checked once, then split into the datasets of each training.

:class:`FitInput` checks what ``fit`` is given (inputs, labels, sample weights, the
validation set, groups, the synthetic mask) once per fit, whatever number of trainings
follows. Arrays and torch Datasets are both a *source* of rows: :class:`_InMemory` holds
validated arrays and takes rows as tensors on the device, :class:`_Streamed` keeps a torch
``Dataset`` where it is and takes rows as indices (:class:`~sklilaw._batches.Rows`).
:meth:`FitInput.training_data` then takes the :class:`TrainingData` of one training: the
internal split (or a given one) as datasets on the device.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.utils import column_or_1d
from sklearn.utils.validation import validate_data

from ._batches import Rows, SparseRows, StreamedBatches, input_shape
from ._split import strata, stratified_split
from ._validation import (
    INPUT,
    check_dataset_input,
    check_labels,
    check_synthetic,
    checked_input,
    dataset_labels,
    encode,
    encoded_targets,
    fit_classes,
    float32_values,
    sensitive_groups,
)


class TrainingData(NamedTuple):
    """The datasets of one training, on the device (or streamed to it)."""

    train: torch.utils.data.Dataset  # X, y, sample_weight, position in train
    valid: torch.utils.data.Dataset  # X, y: skorch's per-epoch validation pass
    meta: torch.utils.data.Dataset  # X, y, sample_weight: the meta steps
    train_rows: np.ndarray  # positions in X of the training rows
    valid_rows: np.ndarray  # positions in X of the validation rows (empty with X_val)
    y_train: np.ndarray  # class indices of the training rows
    y_valid: np.ndarray  # class indices of the validation rows
    valid_weight: np.ndarray  # sample weights of the validation rows
    synthetic: np.ndarray | None  # True for the synthetic rows of X; None: all real

    def first_rows(self, n, device, dtype):
        """Inputs and class indices of the first ``n`` validation rows, on ``device``."""
        if isinstance(self.valid, Rows):
            batches = StreamedBatches(self.valid, device, batch_size=n, dtype=dtype)
            return tuple(next(iter(batches)))
        return self.valid.tensors[0][:n], self.valid.tensors[1][:n]

    def validation_scores(self, predicted, label_log_proba):
        """Accuracy and log-loss on the validation rows, by their sample weights, of a
        model that predicts the class indices ``predicted`` for them and gives their
        labels the log-probabilities ``label_log_proba``."""
        weights = self.valid_weight if self.valid_weight.sum() > 0 else None
        accuracy = np.average(predicted == self.y_valid, weights=weights)
        return float(accuracy), float(np.average(-label_log_proba, weights=weights))


# values copied to the device at a time when in-memory data become tensors
_COPY_SIZE = 1 << 22
# the network dtypes an array can be used in place for
_NUMPY_DTYPES = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64}


class _InMemory:
    """Validated arrays; rows are taken as tensors on ``device``.

    A sparse matrix is no such source: it stays sparse, its rows streamed
    (:func:`_source_of_arrays`).
    """

    def __init__(self, X, device):
        self.X = X
        self.device = device

    @classmethod
    def training(cls, estimator, X, y, *, reset, device):
        check_labels(y, "y")
        X, y = validate_data(estimator, X, y, reset=reset, **INPUT)
        return _source_of_arrays(float32_values(X), device), y

    @classmethod
    def validation(cls, estimator, X_val, y_val, *, classes, device):
        X_val = checked_input(estimator, X_val, "X_val")
        y_val = column_or_1d(y_val)
        check_labels(y_val, "y_val")
        y_val = encode(y_val, classes, "y_val")
        if X_val.shape[0] != len(y_val):
            raise ValueError(f"X_val has {X_val.shape[0]} samples but y_val has {len(y_val)}.")
        return _source_of_arrays(X_val, device), y_val

    def take(self, rows, *columns, dtype):
        if self._shareable(rows, dtype):
            # all rows in order, on the CPU, already in the network's dtype: the tensor
            # is the caller's array itself (batches are copies; nothing writes to it)
            X = torch.from_numpy(self.X)
        else:
            # copied a block of rows at a time: no full copy of X[rows] in X's own dtype
            # beside the tensor (read-only inputs, memory maps, are fine: X[part] is a copy)
            X = torch.empty((len(rows), *self.X.shape[1:]), dtype=dtype, device=self.device)
            block = max(1, _COPY_SIZE // max(1, int(np.prod(self.X.shape[1:]))))
            for start in range(0, len(rows), block):
                part = self.X[rows[start : start + block]]
                X[start : start + len(part)].copy_(torch.from_numpy(part))
        return torch.utils.data.TensorDataset(
            X, *(torch.tensor(column, device=self.device) for column in columns)
        )

    def _shareable(self, rows, dtype):
        X = self.X
        return (
            torch.device(self.device).type == "cpu"
            and X.dtype == _NUMPY_DTYPES.get(dtype)
            and X.flags.c_contiguous
            and X.flags.writeable  # torch warns about read-only arrays
            and len(rows) == len(X)
            and np.array_equal(rows, np.arange(len(X)))
        )


class _Streamed:
    """A map-style torch Dataset; rows are taken as indices and read batch by batch."""

    def __init__(self, dataset):
        self.dataset = dataset

    @classmethod
    def training(cls, estimator, X, y, *, reset, device):
        y = dataset_labels(X, y, "X", "y", estimator.batch_size)
        check_dataset_input(estimator, input_shape(X), reset)
        return cls(X), y

    @classmethod
    def validation(cls, estimator, X_val, y_val, *, classes, device):
        labels = dataset_labels(X_val, y_val, "X_val", "y_val", estimator.batch_size)
        y_val = encode(labels, classes, "y_val")
        check_dataset_input(estimator, input_shape(X_val), reset=False)
        return cls(X_val), y_val

    def take(self, rows, *columns, dtype):
        # the batches take the network's dtype as they are read (StreamedBatches)
        return Rows(self.dataset, rows, *columns)


def _source_of_arrays(X, device):
    """Dense arrays as tensors in memory; a sparse matrix's rows made dense batch by batch."""
    return _Streamed(SparseRows(X)) if sp.issparse(X) else _InMemory(X, device)


def _without_weights(meta):
    """The meta rows without their sample-weight column, sharing their data."""
    if isinstance(meta, Rows):
        return Rows(meta.subset.dataset, meta.subset.indices, meta.columns[0])
    return torch.utils.data.TensorDataset(*meta.tensors[:2])


class FitInput:
    """The data arguments of one fit, checked once.

    Built with :meth:`check`; a fit's trainings each take their datasets from it with
    :meth:`training_data`, so that the data are validated once however many trainings
    the fit runs.

    Attributes
    ----------
    classes : ndarray
        The classes of the fit (the labels behind the class indices).
    y : ndarray of int
        Class indices of the rows of ``X``.
    sample_weight : ndarray of float64
        One weight per row of ``X``, as given (ones when None).
    synthetic : ndarray of bool or None
        The synthetic mask of the rows of ``X``.
    index : pandas.Index or None
        The index of ``X`` when it is a DataFrame (it labels ``label_issues_``' rows).
    features : dict
        ``n_features_in_`` and ``feature_names_in_`` as ``X`` gives them (None where it
        gives none: a Dataset of non-vector items, an array without column names).
    """

    def __init__(
        self, source, y, sample_weight, *, classes, synthetic, strata, validation, index, features
    ):
        self._source = source
        self.y = y
        self.sample_weight = sample_weight
        self.classes = classes
        self.synthetic = synthetic
        self._strata = strata  # stratification codes of the real rows, or None: by class
        self._validation = validation  # (source, class indices) of X_val, or None
        self.index = index
        self.features = features

    @classmethod
    def check(
        cls,
        estimator,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sensitive_features=None,
        synthetic=None,
        reset,
        classes=None,
        device,
    ):
        """Validate everything ``fit`` is given, before any training.

        Parameters
        ----------
        estimator : LiLAWClassifier
            Its ``n_features_in_`` (and ``feature_names_in_``) are set on ``reset``, as
            scikit-learn's ``validate_data`` does, else checked; its ``batch_size`` reads
            the labels of a Dataset.
        X, y, sample_weight, X_val, y_val, sensitive_features, synthetic
            As given to ``fit``.
        reset : bool
            Whether the fit starts afresh.
        classes : array-like, default=None
            All classes, when ``y`` may lack some: those given to ``partial_fit``, or
            those of the fitted model that the fit continues.
        device : str or torch.device
            Where the data go.

        Returns
        -------
        FitInput
        """
        streamed = isinstance(X, torch.utils.data.Dataset)
        if streamed and X_val is not None and not isinstance(X_val, torch.utils.data.Dataset):
            raise TypeError(
                "With a torch Dataset as X, X_val must be a Dataset too, got "
                f"{type(X_val).__name__}."
            )
        if not streamed and (X_val is None) != (y_val is None):  # a Dataset may hold y_val
            raise ValueError("X_val and y_val must be given together (or neither).")
        if X_val is not None and sensitive_features is not None:
            raise ValueError(
                "sensitive_features only shape the internal validation split; "
                "they have no use with X_val and y_val."
            )
        index = X.index if isinstance(X, pd.DataFrame) else None
        source_type = _Streamed if streamed else _InMemory
        source, y = source_type.training(estimator, X, y, reset=reset, device=device)
        groups = None
        if sensitive_features is not None:  # names refer to the columns of the given X
            groups = sensitive_groups(sensitive_features, X, len(y))
        classes = fit_classes(y, classes)
        y, sample_weight = encoded_targets(estimator, y, sample_weight, classes)
        synthetic = check_synthetic(synthetic, len(y))
        real = None if synthetic is None else np.flatnonzero(~synthetic)
        validation = None
        if X_val is not None:
            validation = source_type.validation(
                estimator, X_val, y_val, classes=classes, device=device
            )
        features = {
            name: vars(estimator).get(name) for name in ("n_features_in_", "feature_names_in_")
        }
        return cls(
            source,
            y,
            sample_weight,
            classes=classes,
            synthetic=synthetic,
            strata=None if groups is None else strata(y, groups, real),
            validation=validation,
            index=index,
            features=features,
        )

    def split(self, validation_fraction, seed):
        """The internal validation split, stratified, carved from the real rows only.

        Returns
        -------
        train_rows, valid_rows : ndarray
            Positions in ``X``; with ``X_val``, all rows train and none validates.
        """
        if self._validation is not None:
            return np.arange(len(self.y)), np.arange(0)
        real = None if self.synthetic is None else np.flatnonzero(~self.synthetic)
        y_real = self.y if real is None else self.y[real]
        train, val = stratified_split(
            y_real,
            y_real if self._strata is None else self._strata,
            classes=self.classes,
            validation_fraction=validation_fraction,
            seed=seed,
            kind="" if real is None else "real ",
        )
        if real is None:
            return train, val
        # the synthetic rows only train
        return np.concatenate([real[train], np.flatnonzero(self.synthetic)]), real[val]

    def training_data(self, train_rows, valid_rows, sample_weight=None, *, dtype):
        """The datasets of a training on ``train_rows`` validated on ``valid_rows``.

        Parameters
        ----------
        train_rows, valid_rows : ndarray
            Positions in ``X``, from :meth:`split` or a refit's plan; with ``X_val`` the
            validation rows are those of ``X_val`` and ``valid_rows`` is empty.
        sample_weight : ndarray, default=None
            Replaces the sample weights given to ``fit`` (a refit's down-weighting).
        dtype : torch.dtype
            The dtype of the inputs: the network's.

        Returns
        -------
        TrainingData
        """
        weights = self.sample_weight if sample_weight is None else sample_weight
        weights = weights.astype(np.float32)  # the network's dtype
        if self._validation is None:
            val_source, rows, y_val = self._source, valid_rows, self.y[valid_rows]
            val_weight = weights[valid_rows]
        else:
            val_source, y_val = self._validation
            rows, val_weight = np.arange(len(y_val)), np.ones(len(y_val), dtype=np.float32)
        meta = val_source.take(rows, y_val, val_weight, dtype=dtype)
        y_train = self.y[train_rows]
        train = self._source.take(
            train_rows, y_train, weights[train_rows], np.arange(len(train_rows)), dtype=dtype
        )
        return TrainingData(
            train=train,
            valid=_without_weights(meta),
            meta=meta,
            train_rows=train_rows,
            valid_rows=valid_rows,
            y_train=y_train,
            y_valid=y_val,
            valid_weight=val_weight,
            synthetic=self.synthetic,
        )
