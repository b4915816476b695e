"""Checking what fit and predict are given: inputs, labels, sample weights, groups, the module."""

from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_array, validate_data

from ._batches import read_labels

# what validate_data accepts. float64 first: other dtypes convert without overflow, and
# float32_values() names what float32 (the network's dtype) cannot hold.
INPUT = dict(dtype=(np.float64, np.float32), accept_sparse=("csr", "csc", "coo"))
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def float32_values(X, name="X"):
    """``X`` refused if a value would overflow to infinity in float32; a sparse matrix
    becomes CSR float32 (its rows are made dense a batch at a time, never all at once)."""
    values = X.data if sp.issparse(X) else X
    if values.size and max(values.max(), -values.min()) > _FLOAT32_MAX:
        raise ValueError(
            f"Input {name} contains values too large for float32, the network's dtype "
            f"(largest magnitude {max(values.max(), -values.min()):.3g}); scale the features."
        )
    return X.tocsr().astype(np.float32) if sp.issparse(X) else X


def checked_input(estimator, X, name):
    """``X`` of a fitted estimator (``X_val``, or data to predict) checked as scikit-learn
    checks it, with ``name`` in the messages."""
    array = check_array(X, input_name=name, estimator=estimator, **INPUT)
    validate_data(estimator, X, reset=False, skip_check_array=True)  # features, their names
    return float32_values(array, name)


def check_labels(y, name):
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


def encode(labels, classes, name):
    """Class indices of ``labels``; a label not in ``classes`` is an error."""
    unknown = np.setdiff1d(labels, classes)
    if len(unknown):
        raise ValueError(
            f"{name} contains labels not seen in fit: {unknown[:5].tolist()}; "
            f"known classes: {classes[:10].tolist()}."
        )
    return np.searchsorted(classes, labels)


def encoded_targets(estimator, y, sample_weight, classes):
    """Check ``y`` and ``sample_weight`` and encode ``y`` as indices into ``classes``.

    Parameters
    ----------
    estimator : LiLAWClassifier
        Named in the messages.
    y : ndarray of shape (n_samples,)
        The labels.
    sample_weight : array-like or None
        As given to fit.
    classes : ndarray
        The classes of the fit: those of ``y``, or all that will ever be seen.

    Returns
    -------
    y : ndarray of int
        Class indices.
    sample_weight : ndarray of float64
        As given (ones when None); the network trains on them in float32.
    """
    if len(classes) < 2:
        raise ValueError(
            f"y has {len(classes)} class; {type(estimator).__name__} needs at least 2 classes."
        )
    y = encode(y, classes, "y")
    sample_weight = _check_sample_weight(
        sample_weight, y, dtype=np.float64, ensure_non_negative=True
    )
    if np.count_nonzero(np.bincount(y, weights=sample_weight.astype(np.float32))) < 2:
        raise ValueError(
            "sample_weight is zero for every sample of all classes but one; "
            "at least 2 classes need a positive weight."
        )
    return y, sample_weight


def fit_classes(y, classes=None):
    """The classes of a fit: those of ``y``, or ``classes`` when given (all classes that
    ``partial_fit`` will see, or those of the fitted model that a fit continues)."""
    check_classification_targets(y)
    return np.unique(y) if classes is None else np.unique(column_or_1d(classes))


def dataset_labels(dataset, y, name, y_name, batch_size):
    """``y`` checked against a Dataset's length, or read from its ``(x, y)`` items."""
    if isinstance(dataset, torch.utils.data.IterableDataset) or not hasattr(dataset, "__len__"):
        raise TypeError(
            f"{name} must be a map-style torch Dataset (with __len__ and __getitem__): "
            "the validation split and the shuffling index its rows."
        )
    if len(dataset) == 0:
        raise ValueError(f"{name} is an empty Dataset.")
    y = read_labels(dataset, batch_size) if y is None else column_or_1d(y)
    if len(y) != len(dataset):
        raise ValueError(f"{name} has {len(dataset)} samples but {y_name} has {len(y)}.")
    return y


def check_dataset_input(estimator, shape, reset):
    """Set (or check) ``n_features_in_`` from the ``shape`` of a Dataset's inputs."""
    if reset:
        vars(estimator).pop("feature_names_in_", None)
        vars(estimator).pop("n_features_in_", None)
        if len(shape) == 1:
            estimator.n_features_in_ = shape[0]
        elif estimator.module is None:
            raise ValueError(
                "module=None builds an MLP for samples that are vectors, but the "
                f"Dataset's inputs have shape {shape}; pass a module."
            )
    elif len(shape) == 1 and shape[0] != vars(estimator).get("n_features_in_", shape[0]):
        raise ValueError(
            f"The Dataset's inputs have {shape[0]} features, but {type(estimator).__name__} "
            f"is expecting {estimator.n_features_in_} features as input."
        )


def check_synthetic(synthetic, n_samples):
    """The ``synthetic`` mask of fit as a boolean ndarray, or None.

    Raises before training when it is not a boolean mask with one value per row of X,
    or when it leaves no real row.
    """
    if synthetic is None:
        return None
    mask = np.asarray(synthetic)
    if mask.dtype != bool:
        raise TypeError(
            "synthetic must be a boolean mask, True for the synthetic rows, got an array "
            f"of dtype {mask.dtype}."
        )
    if mask.shape != (n_samples,):
        raise ValueError(
            f"synthetic must hold one value per row of X ({n_samples}), got shape {mask.shape}."
        )
    if mask.all():
        raise ValueError(
            f"synthetic marks all {n_samples} rows as synthetic: the validation split, "
            "the meta steps and early stopping need real rows."
        )
    return mask


def _column_names(sensitive_features, n_samples):
    """The column names that ``sensitive_features`` gives, or None if it holds values."""
    if isinstance(sensitive_features, str):
        return [sensitive_features]
    is_names = (
        isinstance(sensitive_features, (list, tuple))
        and len(sensitive_features) != n_samples
        and all(isinstance(name, str) for name in sensitive_features)
    )
    return list(sensitive_features) if is_names else None


def sensitive_groups(sensitive_features, X, n_samples):
    """Sensitive features as a DataFrame with string column names and a 0..n-1 index.

    The one parser of group membership: ``fit`` (its stratified split), the fairness
    reports and the fairness scorer all read ``sensitive_features`` through it.

    Parameters
    ----------
    sensitive_features : str, list of str, array-like, Series, DataFrame or dict
        A column name of ``X`` or a list of them, or the values: a Series, a DataFrame,
        a dict of arrays, or an array of shape (n_samples,) or (n_samples, n_features).
    X : object
        The data whose columns the names refer to (a DataFrame), or None.
    n_samples : int
        The number of rows the groups must have.

    Returns
    -------
    pandas.DataFrame
        One column per sensitive feature; several columns' groups are their
        intersections.
    """
    names = _column_names(sensitive_features, n_samples)
    if names is not None:
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"sensitive_features={sensitive_features!r} names columns, but X is not a "
                "DataFrame; pass X as a DataFrame or the sensitive features as an array."
            )
        unknown = [name for name in names if name not in X.columns]
        if unknown:
            raise ValueError(
                f"sensitive_features names unknown columns {unknown}; X has the columns "
                f"{X.columns.tolist()}."
            )
        frame = X[names]
    elif isinstance(sensitive_features, pd.Series):
        frame = sensitive_features.to_frame(sensitive_features.name or "sensitive_feature_0")
    elif isinstance(sensitive_features, (pd.DataFrame, dict)):
        frame = pd.DataFrame(sensitive_features)
    else:
        values = np.asarray(sensitive_features, dtype=object)
        if values.ndim not in (1, 2):
            raise ValueError(
                "sensitive_features must have shape (n_samples,) or (n_samples, n_features), "
                f"got shape {values.shape}."
            )
        values = values.reshape(len(values), -1)
        columns = [f"sensitive_feature_{i}" for i in range(values.shape[1])]
        frame = pd.DataFrame(values, columns=columns)
    if len(frame) != n_samples:
        raise ValueError(f"sensitive_features has {len(frame)} rows but X has {n_samples}.")
    frame = frame.set_axis([str(name) for name in frame.columns], axis=1)
    return frame.reset_index(drop=True)


def check_device(device):
    """Raise a ``ValueError`` that names the problem when torch cannot use ``device``.

    torch's own errors for a CUDA device on a CPU-only build, or without a visible GPU,
    are a bare ``AssertionError`` or a ``RuntimeError`` from deep inside the first tensor
    put there.
    """
    try:
        tensor = torch.empty(0, device=device)
    except (AssertionError, RuntimeError) as exc:
        raise ValueError(
            f"device={device!r} cannot be used with this torch {torch.__version__}: {exc}. "
            "Install a torch build for that device, or use device='cpu'."
        ) from exc
    if tensor.is_meta:
        raise ValueError(
            f"device={device!r} holds no data: a network there cannot train or predict. "
            "Use device='cpu' or 'cuda'."
        )


def hidden_layer_sizes(value):
    """``hidden_layer_sizes`` as a tuple of positive integers, or a clear error."""
    sizes = tuple(np.atleast_1d(value).tolist())
    if not all(isinstance(s, Integral) and s > 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {value!r}.")
    return sizes


def check_module_output(output, y, n_classes, criterion):
    """Fail before training if the module does not output one logit per class, or the
    criterion does not give one loss per sample from them and the class indices ``y``.

    Parameters
    ----------
    output : object
        What the module returned for a few rows, in evaluation mode.
    y : torch.Tensor
        The class indices of those rows.
    n_classes : int
        The number of classes of the fit.
    criterion : LiLAWLoss
        The weighted loss, around the per-sample ``criterion``.
    """
    expected = (len(y), n_classes)
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != expected:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        hint = ""
        if n_classes == 2 and shape == (len(y), 1):
            hint = (
                " A binary problem needs two logits and a loss on class indices, such as "
                "the default cross-entropy; one logit with BCEWithLogitsLoss does not fit."
            )
        raise ValueError(
            f"The module must map {len(y)} samples to logits of shape {expected} "
            f"(n_samples, n_classes), but returned {shape}.{hint}"
        )
    name = type(criterion.loss).__name__
    with torch.no_grad():
        try:
            criterion.loss(output, y)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise ValueError(
                f"The criterion {name} cannot take logits of shape {expected} and class "
                f"indices of shape {tuple(y.shape)}: {exc} LiLAWClassifier needs a loss "
                "on class indices that returns one loss per sample, such as the default "
                "cross-entropy."
            ) from exc
        criterion.per_sample_loss(output, y)  # says so if it reduces
