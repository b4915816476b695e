"""Checking what fit and predict are given: inputs, labels, sample weights, the module."""

from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight

from ._streaming import read_labels

# what validate_data accepts; sparse input is densified, as the network needs dense
# tensors. float64 first: other dtypes convert without overflow, and dense() names what
# float32 (the network's dtype) cannot hold.
INPUT = dict(dtype=(np.float64, np.float32), accept_sparse=("csr", "csc", "coo"))
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def dense(X, name="X"):
    """Dense ``X``, refused if a value would overflow to infinity in float32."""
    X = X.toarray() if sp.issparse(X) else X
    if X.size and max(X.max(), -X.min()) > _FLOAT32_MAX:
        raise ValueError(
            f"Input {name} contains values too large for float32, the network's dtype "
            f"(largest magnitude {max(X.max(), -X.min()):.3g}); scale the features."
        )
    return X


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


def encoded_targets(estimator, y, sample_weight, *, reset, classes):
    """Check ``y`` and ``sample_weight``, set ``_classes`` on reset, encode ``y``."""
    check_classification_targets(y)
    if reset:
        labels = np.unique(y) if classes is None else np.unique(column_or_1d(classes))
        if len(labels) < 2:
            raise ValueError(
                f"y has {len(labels)} class; {type(estimator).__name__} needs at least 2 classes."
            )
        estimator._classes = labels
    y = encode(y, estimator.classes_, "y")
    sample_weight = _check_sample_weight(
        sample_weight, y, dtype=np.float32, ensure_non_negative=True
    )
    if np.count_nonzero(np.bincount(y, weights=sample_weight)) < 2:
        raise ValueError(
            "sample_weight is zero for every sample of all classes but one; "
            "at least 2 classes need a positive weight."
        )
    return y, sample_weight


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


def check_device(device):
    """Raise a ``ValueError`` that names the problem when torch cannot use ``device``.

    torch's own errors for a CUDA device on a CPU-only build, or without a visible GPU,
    are a bare ``AssertionError`` or a ``RuntimeError`` from deep inside the first tensor
    put there.
    """
    try:
        torch.empty(0, device=device)
    except (AssertionError, RuntimeError) as exc:
        raise ValueError(
            f"device={device!r} cannot be used with this torch {torch.__version__}: {exc}. "
            "Install a torch build for that device, or use device='cpu'."
        ) from exc


def hidden_layer_sizes(value):
    """``hidden_layer_sizes`` as a tuple of positive integers, or a clear error."""
    sizes = tuple(np.atleast_1d(value).tolist())
    if not all(isinstance(s, Integral) and s > 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {value!r}.")
    return sizes


def check_module_output(estimator, X, y):
    """Fail before training if the module does not output one logit per class, or the
    criterion does not give one loss per sample from them and the class indices ``y``."""
    estimator._set_training(False)
    with torch.no_grad():
        output = estimator.infer(X)
    expected = (len(X), len(estimator.classes_))
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != expected:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        hint = ""
        if len(estimator.classes_) == 2 and shape == (len(X), 1):
            hint = (
                " A binary problem needs two logits and a loss on class indices, such as "
                "the default cross-entropy; one logit with BCEWithLogitsLoss does not fit."
            )
        raise ValueError(
            f"The module must map {len(X)} samples to logits of shape {expected} "
            f"(n_samples, n_classes), but returned {shape}.{hint}"
        )
    name = type(estimator.criterion_.loss).__name__
    with torch.no_grad():
        try:
            estimator.criterion_.loss(output, y)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise ValueError(
                f"The criterion {name} cannot take logits of shape {expected} and class "
                f"indices of shape {tuple(y.shape)}: {exc} LiLAWClassifier needs a loss "
                "on class indices that returns one loss per sample, such as the default "
                "cross-entropy."
            ) from exc
        estimator.criterion_.per_sample_loss(output, y)  # says so if it reduces
