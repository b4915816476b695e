"""Group-fairness audits of fitted classifiers, on fairlearn's ``MetricFrame``.

Every number here is computed by fairlearn: per-group and overall metrics by
:class:`fairlearn.metrics.MetricFrame` (and its bootstrap, for intervals), disparities by
fairlearn's own functions (:func:`~fairlearn.metrics.demographic_parity_difference` and
the like). This module chooses the metrics, the positive label and the groups, and lays
the results out as tables and plots.

Labels are binarized before any metric sees them: 1 for the positive label (by default
the estimator's ``classes_[-1]``, e.g. ``'>50K'``), 0 for the other class.
"""

from ._label_quality import LabelQualityReport, label_quality_by_group
from ._metrics import DEFAULT_METRICS, DISPARITIES, PENALTIES, balanced_accuracy
from ._report import ACROSS_GROUPS, OVERALL, FairnessReport, compare_fairness, fairness_report
from ._scorer import make_fairness_scorer

__all__ = [
    "ACROSS_GROUPS",
    "DEFAULT_METRICS",
    "DISPARITIES",
    "FairnessReport",
    "LabelQualityReport",
    "OVERALL",
    "PENALTIES",
    "balanced_accuracy",
    "compare_fairness",
    "fairness_report",
    "label_quality_by_group",
    "make_fairness_scorer",
]
