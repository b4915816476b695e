"""Several classifiers' fairness reports side by side."""

import pandas as pd

from ._fairness_report import fairness_report


def compare_fairness(estimators, X, y, *, sensitive_features, **kwargs):
    """Audit several fitted classifiers on the same data, side by side.

    Parameters
    ----------
    estimators : dict of str to fitted classifier
        The models, by the name their column gets.
    X, y, sensitive_features
        As in :func:`fairness_report`.
    **kwargs
        ``metrics``, ``pos_label``, ``n_boot``, ``confidence_level``, ``random_state``,
        as in :func:`fairness_report`.

    Returns
    -------
    pandas.DataFrame
        Rows as in :meth:`FairnessReport.to_frame` (``(metric, group)``), one column per
        model; with a bootstrap, columns ``(model, 'value' | 'lower' | 'upper')``.
    """
    if not isinstance(estimators, dict) or not estimators:
        raise ValueError("estimators must be a non-empty dict of name to fitted classifier.")
    frames = {
        name: fairness_report(
            model, X, y, sensitive_features=sensitive_features, **kwargs
        ).to_frame()
        for name, model in estimators.items()
    }
    table = pd.concat(frames, axis=1, names=["model", None])
    return table if kwargs.get("n_boot") is not None else table.droplevel(1, axis=1)
