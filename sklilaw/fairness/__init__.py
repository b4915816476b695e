"""Group-fairness audits of fitted classifiers, on fairlearn's ``MetricFrame``.

Every point estimate here is computed by fairlearn: per-group and overall metrics by
:class:`fairlearn.metrics.MetricFrame`, disparities by fairlearn's own functions
(:func:`~fairlearn.metrics.demographic_parity_difference` and the like). The bootstrap
intervals are those of ``MetricFrame(n_boot=...)``: the same resamples and quantiles,
counted from per-group sums for the default metrics (fairlearn's bootstrap calls every
metric again on every resample, minutes on tens of thousands of rows). This module
chooses the metrics, the positive label and the groups, lays the results out as tables,
plots and an HTML page, and audits a whole table in one call (:func:`audit`).

Labels are binarized before any metric sees them: 1 for the positive label (by default
the estimator's ``classes_[-1]``, e.g. ``'>50K'``), 0 for the other class.
"""

from ._audit import Audit, audit, default_models
from ._label_quality import LabelQualityReport, label_quality_by_group
from ._metrics import DEFAULT_METRICS, DISPARITIES, PENALTIES, balanced_accuracy
from ._report import ACROSS_GROUPS, OVERALL, FairnessReport, compare_fairness, fairness_report
from ._scorer import make_fairness_scorer

__all__ = [
    "ACROSS_GROUPS",
    "Audit",
    "DEFAULT_METRICS",
    "DISPARITIES",
    "FairnessReport",
    "LabelQualityReport",
    "OVERALL",
    "PENALTIES",
    "audit",
    "balanced_accuracy",
    "compare_fairness",
    "default_models",
    "fairness_report",
    "label_quality_by_group",
    "make_fairness_scorer",
]
