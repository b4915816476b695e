"""The metrics of the fairness audits and the scorer: which fairlearn functions compute what.

Every metric here is called with 0/1 labels, 1 for the positive label.
"""

import warnings

from fairlearn.metrics import (
    accuracy_score_group_min,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    false_positive_rate_difference,
    selection_rate,
    true_positive_rate,
    true_positive_rate_difference,
)
from sklearn.metrics import accuracy_score, balanced_accuracy_score


def balanced_accuracy(y_true, y_pred):
    """:func:`sklearn.metrics.balanced_accuracy_score`, quiet about one-label groups.

    In a group whose samples all have one label (common in small intersections), it is
    that label's recall; scikit-learn warns then, once per group and bootstrap resample.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.

    Returns
    -------
    float
    """
    with warnings.catch_warnings():
        for message in ("A single label was found", "y_pred contains classes not in y_true"):
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        return balanced_accuracy_score(y_true, y_pred)


DEFAULT_METRICS = {
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "count": count,
}

# name -> (fairlearn function; the base metric and the MetricFrame method of its interval)
DISPARITIES = {
    "demographic_parity_difference": (
        demographic_parity_difference,
        "selection_rate",
        "difference",
    ),
    "demographic_parity_ratio": (demographic_parity_ratio, "selection_rate", "ratio"),
    "equalized_odds_difference": (equalized_odds_difference, None, None),
    "equalized_odds_ratio": (equalized_odds_ratio, None, None),
    "true_positive_rate_difference": (
        true_positive_rate_difference,
        "true_positive_rate",
        "difference",
    ),
    "false_positive_rate_difference": (
        false_positive_rate_difference,
        "false_positive_rate",
        "difference",
    ),
    "worst_group_accuracy": (accuracy_score_group_min, "accuracy", "group_min"),
}
# an audit names the groups with fewer scored rows of either label than this: their
# true and false positive rates rest on a handful of rows
FEW_OUTCOMES = 10

# the disparities an audit sets against accuracy (its summary, its trade-off figure)
TRADE_OFF_DISPARITIES = [
    "demographic_parity_difference",
    "equalized_odds_difference",
    "true_positive_rate_difference",
    "false_positive_rate_difference",
]

PENALTIES = {
    "demographic_parity_difference": demographic_parity_difference,
    "equalized_odds_difference": equalized_odds_difference,
    "equal_opportunity_difference": equal_opportunity_difference,
}
