"""Label quality by group: whose labels a fit's ``label_issues_`` finds suspicious."""

import numpy as np
import pandas as pd

from .._validation import sensitive_groups
from ..plotting import _pyplot
from ._bootstrap import ci_quantiles, group_codes, metric_bounds, resampled_sums
from ._inputs import two_or_more_groups
from ._report import _group_labels, _metric_frame, _table

FLAGGED_SHARE = "flagged share"
MEAN_LABEL_QUALITY = "mean label_quality"
_METRICS = {
    FLAGGED_SHARE: lambda quality, flagged: float(np.mean(flagged)),
    MEAN_LABEL_QUALITY: lambda quality, flagged: float(np.mean(quality)),
}


class LabelQualityReport:
    """Per-group share of flagged labels and mean ``label_quality`` of one fit.

    Build one with :func:`label_quality_by_group`.

    Parameters
    ----------
    metric_frame : fairlearn.metrics.MetricFrame
        The two metrics, overall and per group.
    rows : pandas.Series
        Number of rows per group label, and ``'overall'``.
    flagged : pandas.DataFrame
        Counts of the flagged rows by group and (given, predicted) label.
    confidence_level : float or None
        Coverage of the bootstrap intervals, None without a bootstrap.
    bounds : dict or None
        With a bootstrap, ``{'lower': (overall, by_group), 'upper': (overall, by_group)}``
        shaped as ``metric_frame.overall`` and ``metric_frame.by_group``.

    Attributes
    ----------
    metric_frame : fairlearn.metrics.MetricFrame
        fairlearn's object (``y_true``: ``label_quality``, ``y_pred``:
        ``is_label_issue``).
    by_group : pandas.DataFrame
        An ``overall`` row, then one row per group: ``rows``, ``flagged share``,
        ``mean label_quality`` and, with a bootstrap, ``lower`` and ``upper`` bounds of
        the two (columns ``'flagged share lower'`` and so on).
    flagged : pandas.DataFrame
        Counts of the flagged rows, one row per group, one column per (given label,
        predicted label).
    confidence_level : float or None
        Coverage of the bootstrap intervals, None without a bootstrap.
    """

    def __init__(self, metric_frame, rows, flagged, confidence_level, bounds):
        self.metric_frame = metric_frame
        self.flagged = flagged
        self.confidence_level = confidence_level
        groups = metric_frame.by_group.dropna(how="all").index
        table = _table(metric_frame.overall, metric_frame.by_group, groups)
        table.insert(0, "rows", rows.reindex(table.index).to_numpy())
        for bound, (overall, by_group) in (bounds or {}).items():
            bound_table = _table(overall, by_group, groups)
            for name in _METRICS:
                table[f"{name} {bound}"] = bound_table[name]
        self.by_group = table

    def to_markdown(self):
        """``by_group`` and ``flagged`` as Markdown tables."""
        return (
            self.by_group.to_markdown(floatfmt=".3f")
            + "\n\nFlagged rows by given -> predicted label:\n\n"
            + self.flagged.to_markdown()
        )

    def plot(self, *, figsize=None):
        """Bar charts of the two metrics by group, with the bootstrap intervals.

        Parameters
        ----------
        figsize : tuple of float, default=None
            Size of the figure; by default (9, 3.2).

        Returns
        -------
        matplotlib.figure.Figure
        """
        plt = _pyplot()
        fig, axes = plt.subplots(1, 2, figsize=figsize or (9, 3.2), constrained_layout=True)
        table = self.by_group
        for ax, name in zip(axes, _METRICS, strict=True):
            errors = None
            if self.confidence_level is not None:
                lower, upper = table[f"{name} lower"], table[f"{name} upper"]
                errors = np.vstack([table[name] - lower, upper - table[name]])
            ax.bar(table.index, table[name], yerr=errors, capsize=3, color="tab:blue")
            ax.set_title(name)
            ax.tick_params(axis="x", labelrotation=30)
        return fig


def label_quality_by_group(
    estimator,
    sensitive_features,
    *,
    X=None,
    n_boot=None,
    confidence_level=0.95,
    random_state=None,
):
    """Whose labels look noisy: a fit's label issues, by group, through fairlearn.

    Parameters
    ----------
    estimator : LiLAWClassifier or pandas.DataFrame
        A fitted estimator (its ``label_issues_`` is used) or such a table.
    sensitive_features : str, list of str, array-like, Series, DataFrame or dict
        The groups of the training rows: column names of ``X``, or the values, one row
        per row of ``label_issues_``. Several features are reported by their
        intersections.
    X : DataFrame, default=None
        The training data, when ``sensitive_features`` names its columns.
    n_boot : int, default=None
        Bootstrap resamples for intervals (fairlearn's ``MetricFrame``); None for none.
    confidence_level : float, default=0.95
        Coverage of the intervals.
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap.

    Returns
    -------
    LabelQualityReport

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklilaw.fairness import label_quality_by_group
    >>> issues = pd.DataFrame({
    ...     "is_label_issue": [True, False, False, False],
    ...     "label_quality": [0.1, 0.9, 0.8, 0.95],
    ...     "given_label": [1, 0, 1, 0],
    ...     "predicted_label": [0, 0, 1, 0],
    ... })
    >>> report = label_quality_by_group(issues, ["a", "a", "b", "b"])
    >>> report.by_group["flagged share"].tolist()
    [0.25, 0.5, 0.0]
    """
    issues = getattr(estimator, "label_issues_", estimator)
    if not isinstance(issues, pd.DataFrame):
        raise TypeError(
            "label_quality_by_group takes a fitted LiLAWClassifier or its label_issues_, "
            f"got {type(estimator).__name__}."
        )
    groups = two_or_more_groups(sensitive_groups(sensitive_features, X, len(issues)))
    quality = issues["label_quality"].to_numpy(dtype=np.float64)
    flagged = issues["is_label_issue"].to_numpy(dtype=bool)
    frame = _metric_frame(_METRICS, quality, flagged.astype(int), groups, None, None, None)
    bounds = None
    if n_boot is not None:
        bounds = _bootstrap_bounds(frame, groups, quality, flagged, n_boot, confidence_level,
                                   random_state)  # fmt: skip
    keys = pd.MultiIndex.from_frame(groups) if groups.shape[1] > 1 else groups.iloc[:, 0]
    labels = pd.Index(_group_labels(keys), name=", ".join(map(str, groups.columns)))
    rows = pd.Series(labels).value_counts()
    rows["overall"] = len(issues)
    by_class = pd.crosstab(
        labels[flagged],
        [issues[column].to_numpy()[flagged] for column in ("given_label", "predicted_label")],
        rownames=[labels.name],
        colnames=["given_label", "predicted_label"],
    )
    confidence = None if n_boot is None else confidence_level
    return LabelQualityReport(frame, rows, by_class, confidence, bounds)


def _bootstrap_bounds(frame, groups, quality, flagged, n_boot, confidence_level, random_state):
    """Bounds of the two means by group and overall, rows resampled as fairlearn does."""
    ci_quantiles(confidence_level)
    index = frame.by_group.index
    values = np.column_stack([np.ones_like(quality), flagged, quality])
    sums = resampled_sums(group_codes(groups, index), len(index), values, n_boot, random_state)
    total = sums.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a group absent from a resample
        overall = {name: total[:, c] / total[:, 0] for c, name in enumerate(_METRICS, 1)}
        by_group = {name: sums[..., c] / sums[..., 0] for c, name in enumerate(_METRICS, 1)}
    return metric_bounds(frame, overall, by_group, confidence_level)
