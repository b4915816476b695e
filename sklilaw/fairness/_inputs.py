"""Inputs of the fairness audits and the scorer: two groups at least, the positive label,
0/1 outcomes."""

import numpy as np


def two_or_more_groups(groups):
    """``groups`` (from :func:`~sklilaw._validation.sensitive_groups`), refused if it holds
    a single group: a fairness audit compares at least two."""
    if len(groups.drop_duplicates()) < 2:
        raise ValueError(
            f"sensitive_features {groups.columns.tolist()} hold a single group; a fairness "
            "audit compares at least two groups."
        )
    return groups


def positive_label(estimator, pos_label):
    """The positive class: ``pos_label``, by default the estimator's ``classes_[-1]``."""
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ValueError(
            f"{type(estimator).__name__} is not a fitted classifier: it has no classes_."
        )
    return positive_class(classes, pos_label, "the estimator")


def positive_class(classes, pos_label, owner):
    """The positive one of two ``classes`` (``owner``'s, named in the errors):
    ``pos_label``, also given as a class's text (as typed on a command line), by default
    the last class."""
    if len(classes) != 2:
        raise ValueError(
            f"Fairness metrics here are for two classes; {owner} has {len(classes)}: "
            f"{list(classes)[:10]}."
        )
    if pos_label is None:
        positive = classes[-1]
    else:
        matches = [c for c in classes if c == pos_label or str(c) == str(pos_label)]
        if not matches:
            raise ValueError(f"pos_label={pos_label!r} is not one of the classes {list(classes)}.")
        positive = matches[0]
    return positive.item() if isinstance(positive, np.generic) else positive


def binary_outcomes(estimator, X, y, pos_label):
    """True and predicted labels as 0/1 (1: the positive label), and that label."""
    pos_label = positive_label(estimator, pos_label)
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
