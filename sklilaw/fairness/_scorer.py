"""A scorer for model selection: a metric minus a fairness penalty, by fairlearn."""

from numbers import Real

import numpy as np
import sklearn
from sklearn.metrics import balanced_accuracy_score, make_scorer

from .._validation import sensitive_groups
from ._inputs import binary_outcomes, two_or_more_groups
from ._metrics import PENALTIES


class _FairnessScorer:
    """A scorer ``score_func(y, y_pred) - weight * penalty``; see :func:`make_fairness_scorer`.

    Parameters
    ----------
    sensitive_features : list of str
        Columns of ``X`` that hold the groups.
    score_func : callable
        ``score_func(y_true, y_pred)`` on 0/1 labels, greater is better.
    penalty : str
        A key of :data:`PENALTIES`.
    weight : float
        Multiplier of the penalty.
    pos_label : object or None
        The positive label, by default the estimator's ``classes_[-1]``.
    """

    def __init__(self, sensitive_features, score_func, penalty, weight, pos_label):
        self.sensitive_features = sensitive_features
        self.score_func = score_func
        self.penalty = penalty
        self.weight = weight
        self.pos_label = pos_label

    def __call__(self, estimator, X, y_true):
        """Score a fitted ``estimator`` on ``X, y_true`` (scikit-learn's scorer protocol).

        Parameters
        ----------
        estimator : fitted classifier
            Binary; it gets all of ``X``, the sensitive columns included.
        X : DataFrame
            Data with the sensitive feature columns.
        y_true : array-like of shape (n_samples,)
            True labels.

        Returns
        -------
        float
            ``score_func(y_true, y_pred) - weight * penalty(y_true, y_pred, groups)``.
        """
        groups = two_or_more_groups(sensitive_groups(self.sensitive_features, X, len(X)))
        y01, pred01, _ = binary_outcomes(estimator, X, y_true, self.pos_label)
        penalty = PENALTIES[self.penalty](y01, pred01, sensitive_features=groups)
        return float(self.score_func(y01, pred01) - self.weight * penalty)

    def __repr__(self):
        return (
            f"make_fairness_scorer({self.sensitive_features!r}, "
            f"score_func={getattr(self.score_func, '__name__', self.score_func)}, "
            f"penalty={self.penalty!r}, weight={self.weight!r})"
        )


def _routed_fairness_score(
    y_true, y_pred, *, sensitive_features, metric, penalty, weight, positive_label
):
    """``metric - weight * penalty`` of labels, with groups routed by scikit-learn."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if positive_label is None:  # as the estimator's classes_[-1]
        positive_label = np.unique(np.concatenate([y_true, y_pred]))[-1]
    y01, pred01 = (y_true == positive_label).astype(int), (y_pred == positive_label).astype(int)
    groups = two_or_more_groups(sensitive_groups(sensitive_features, None, len(y01)))
    value = PENALTIES[penalty](y01, pred01, sensitive_features=groups)
    return float(metric(y01, pred01) - weight * value)


def make_fairness_scorer(
    sensitive_features=None,
    *,
    score_func=balanced_accuracy_score,
    penalty="demographic_parity_difference",
    weight=1.0,
    pos_label=None,
):
    """A scorer for ``GridSearchCV``: a metric minus a fairness penalty, by fairlearn.

    The groups come from columns of ``X``, so they follow every cross-validation split
    and every worker process (``n_jobs``) without metadata routing: keep the sensitive
    columns in the DataFrame that the search gets, and drop them from the model's
    features inside the pipeline (e.g. a ``ColumnTransformer`` that does not select
    them). Without column names, the scorer takes the groups from scikit-learn's
    metadata routing instead, as ``sensitive_features`` passed to the search's ``fit``
    (or in ``cross_validate``'s ``params``); that needs
    ``sklearn.set_config(enable_metadata_routing=True)``.

    Parameters
    ----------
    sensitive_features : str or list of str, default=None
        Column name(s) of ``X`` holding the groups (several: their intersections); None
        for routed groups (the scorer requests ``sensitive_features``).
    score_func : callable, default=sklearn.metrics.balanced_accuracy_score
        ``score_func(y_true, y_pred)``, greater is better, called with 0/1 labels (1 for
        the positive label).
    penalty : {'demographic_parity_difference', 'equalized_odds_difference', \
'equal_opportunity_difference'}, default='demographic_parity_difference'
        The fairlearn function of the same name, on the test fold's predictions.
    weight : float, default=1.0
        Multiplier of the penalty (0 scores ``score_func`` alone).
    pos_label : object, default=None
        The positive label; by default the estimator's ``classes_[-1]``.

    Returns
    -------
    callable
        A picklable ``scorer(estimator, X, y)`` returning
        ``score_func - weight * penalty`` (with routed groups, a scikit-learn scorer
        that requests ``sensitive_features``).

    Examples
    --------
    >>> from sklilaw.fairness import make_fairness_scorer
    >>> make_fairness_scorer("sex", weight=0.5)
    make_fairness_scorer(['sex'], score_func=balanced_accuracy_score, \
penalty='demographic_parity_difference', weight=0.5)
    """
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {sorted(PENALTIES)}, got {penalty!r}.")
    if not isinstance(weight, Real) or weight < 0:
        raise ValueError(f"weight must be a non-negative number, got {weight!r}.")
    if sensitive_features is None:
        if not sklearn.get_config()["enable_metadata_routing"]:
            raise ValueError(
                "make_fairness_scorer() without column names takes the groups from "
                "metadata routing: call sklearn.set_config(enable_metadata_routing=True) "
                "first, or name the columns of X that hold the groups."
            )
        scorer = make_scorer(
            _routed_fairness_score,
            metric=score_func,
            penalty=penalty,
            weight=weight,
            positive_label=pos_label,
        )
        return scorer.set_score_request(sensitive_features=True)
    names = [sensitive_features] if isinstance(sensitive_features, str) else sensitive_features
    if (
        not isinstance(names, (list, tuple))
        or not names
        or not all(isinstance(n, str) for n in names)
    ):
        raise ValueError(
            "sensitive_features must be a column name of X or a list of them (values "
            "would not follow the cross-validation splits; route them instead, with "
            f"sensitive_features=None), got {sensitive_features!r}."
        )
    return _FairnessScorer(list(names), score_func, penalty, weight, pos_label)
