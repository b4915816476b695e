"""Inputs of the fairness audits and the scorer: the groups, the positive label, 0/1 outcomes."""

import numpy as np
import pandas as pd


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


def _sensitive_frame(X, sensitive_features, n_samples):
    """Sensitive features as a DataFrame with string column names and a 0..n-1 index.

    ``sensitive_features`` is a column name of ``X``, a list of them, or values: a
    Series, a DataFrame, a dict of arrays or an array of shape (n_samples,) or
    (n_samples, n_features).
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
    if len(frame.drop_duplicates()) < 2:
        raise ValueError(
            f"sensitive_features {frame.columns.tolist()} hold a single group; a fairness "
            "audit compares at least two groups."
        )
    return frame.reset_index(drop=True)


def _positive_label(estimator, pos_label):
    """The positive class: ``pos_label``, by default the estimator's ``classes_[-1]``."""
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ValueError(
            f"{type(estimator).__name__} is not a fitted classifier: it has no classes_."
        )
    if len(classes) != 2:
        raise ValueError(
            f"Fairness metrics here are for binary classifiers; the estimator has "
            f"{len(classes)} classes: {list(classes)[:10]}."
        )
    if pos_label is None:
        pos_label = classes[-1]
        return pos_label.item() if isinstance(pos_label, np.generic) else pos_label
    if pos_label not in classes:
        raise ValueError(f"pos_label={pos_label!r} is not one of the classes {list(classes)}.")
    return pos_label


def _binary_outcomes(estimator, X, y, pos_label):
    """True and predicted labels as 0/1 (1: the positive label), and that label."""
    pos_label = _positive_label(estimator, pos_label)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must have one label per row of X ({len(X)}), got shape {y.shape}.")
    unknown = np.setdiff1d(y, estimator.classes_)
    if len(unknown):
        raise ValueError(
            f"y contains labels the estimator does not know: {unknown[:5].tolist()}; "
            f"its classes are {list(estimator.classes_)}."
        )
    y_pred = np.asarray(estimator.predict(X))
    return (y == pos_label).astype(int), (y_pred == pos_label).astype(int), pos_label
