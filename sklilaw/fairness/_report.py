"""The fairness report: fairlearn's MetricFrame and disparities, laid out as tables and plots;
several classifiers' reports side by side."""

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from .._validation import sensitive_groups
from ..plotting import _pyplot
from ._bootstrap import (
    ci_quantiles,
    confusion_metrics,
    confusion_sums,
    group_codes,
    interval,
    metric_bounds,
    resampled_sums,
)
from ._inputs import binary_outcomes, two_or_more_groups
from ._metrics import DEFAULT_METRICS, DISPARITIES

OVERALL = "overall"
ACROSS_GROUPS = "across groups"


# --------------------------------------------------------------------------- tables
def _group_labels(index):
    """Group labels as strings; an intersection of several features joined by ', '."""
    return [", ".join(map(str, key)) if isinstance(key, tuple) else str(key) for key in index]


def _table(overall, by_group, groups):
    """An ``overall`` row above the rows of ``groups`` (labels as strings)."""
    by_group = by_group.reindex(groups)
    rows = pd.concat([overall.to_frame(OVERALL).T, by_group.set_axis(_group_labels(groups))])
    return rows.rename_axis(", ".join(by_group.index.names)).astype(float)


def _format_cell(value, lower=np.nan, upper=np.nan):
    text = f"{value:.3f}" if np.isfinite(value) else ""
    if np.isfinite(lower) and np.isfinite(upper):
        text += f" ({lower:.3f} to {upper:.3f})"
    return text


class FairnessReport:
    """Per-group metrics and disparities of one classifier's predictions.

    Build one with :func:`fairness_report`. All numbers come from fairlearn: the
    metrics from a :class:`fairlearn.metrics.MetricFrame` (``metric_frame``), the
    disparities from fairlearn's functions (:data:`DISPARITIES`), the intervals from
    the MetricFrame's bootstrap.

    Parameters
    ----------
    metric_frame : fairlearn.metrics.MetricFrame
        The metrics, overall and per group.
    disparities : pandas.DataFrame
        One row per key of :data:`DISPARITIES`, columns ``value`` (and with a bootstrap
        ``lower``, ``upper``).
    pos_label : object
        The label counted as positive.
    confidence_level : float or None
        Coverage of the bootstrap intervals, None without a bootstrap.
    bounds : dict or None
        With a bootstrap, ``{'lower': (overall, by_group), 'upper': (overall, by_group)}``
        shaped as ``metric_frame.overall`` and ``metric_frame.by_group``.

    Attributes
    ----------
    metric_frame : fairlearn.metrics.MetricFrame
        fairlearn's object, for anything the report does not show.
    bounds : dict or None
        The bounds of the bootstrap intervals, as given.
    pos_label : object
        The label counted as positive (selection rate, true and false positive rates).
    confidence_level : float or None
        Coverage of the bootstrap intervals, or None without a bootstrap.
    disparities : pandas.DataFrame
        The numbers below, with their bootstrap intervals (columns ``value``, and with
        a bootstrap ``lower``, ``upper``).
    demographic_parity_difference, demographic_parity_ratio : float
        Largest difference and smallest ratio between the groups' selection rates.
    equalized_odds_difference, equalized_odds_ratio : float
        The worse of the differences (ratios) between the groups' true positive rates
        and between their false positive rates.
    true_positive_rate_difference, false_positive_rate_difference : float
        Largest difference between the groups' true (false) positive rates; the
        equalized odds difference is the larger of the two.
    worst_group_accuracy : float
        The lowest accuracy of a group.
    """

    def __init__(self, metric_frame, disparities, pos_label, confidence_level, bounds):
        self.metric_frame = metric_frame
        self.disparities = disparities
        self.pos_label = pos_label
        self.confidence_level = confidence_level
        self.bounds = bounds
        for name in DISPARITIES:
            setattr(self, name, float(disparities.loc[name, "value"]))

    @property
    def overall(self):
        """Each metric on all samples (pandas.Series indexed by metric)."""
        return self.metric_frame.overall

    @property
    def by_group(self):
        """Each metric per group (pandas.DataFrame: one row per group, one column per metric).

        An intersection of several sensitive features that has no sample is a row of NaN.
        """
        return self.metric_frame.by_group

    def _groups(self):
        """The groups with at least one sample, in fairlearn's order."""
        return self.by_group.dropna(how="all").index

    def _tables(self):
        """``{'value': table, 'lower': table, 'upper': table}`` (bounds with a bootstrap)."""
        groups = self._groups()
        tables = {"value": _table(self.overall, self.by_group, groups)}
        for bound, (overall, by_group) in (self.bounds or {}).items():
            tables[bound] = _table(overall, by_group, groups)
        return tables

    def to_frame(self):
        """All numbers in one long table.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``(metric, group)``: for each metric a row ``'overall'`` and one
            row per group (an intersection's label joins its values with ``', '``;
            intersections without samples are left out), then one row per disparity
            with group ``'across groups'``. Column ``value``, and with a bootstrap
            ``lower`` and ``upper``, the bounds of the interval (NaN for the equalized
            odds metrics, which fairlearn's bootstrap does not give: they are the worse of
            two metrics, whose intervals are in the rows ``true_positive_rate_difference``
            and ``false_positive_rate_difference``).
        """
        metrics = pd.concat(
            {bound: table.T.stack() for bound, table in self._tables().items()}, axis=1
        )
        disparities = self.disparities.set_axis(
            pd.MultiIndex.from_product([self.disparities.index, [ACROSS_GROUPS]])
        )
        return pd.concat([metrics, disparities]).rename_axis(["metric", "group"])

    def to_markdown(self):
        """The report as two Markdown tables: metrics by group, then disparities.

        Returns
        -------
        str
            Numbers with three decimals, the metric ``count`` as integers; with a
            bootstrap each number but the counts is followed by its interval in
            parentheses.
        """
        tables = self._tables()
        values = tables["value"]
        lower, upper = (tables.get(bound, values * np.nan) for bound in ("lower", "upper"))
        cells = values.astype(object)
        for metric in values.columns:
            if metric == "count":  # group sizes, not estimates: no interval
                cells[metric] = [f"{v:.0f}" if np.isfinite(v) else "" for v in values[metric]]
                continue
            cells[metric] = [
                _format_cell(*bounds)
                for bounds in zip(values[metric], lower[metric], upper[metric], strict=True)
            ]
        bounds = self.disparities.reindex(columns=["value", "lower", "upper"]).to_numpy()
        disparities = pd.DataFrame(
            {"value": [_format_cell(*row) for row in bounds]},
            index=self.disparities.index.rename(ACROSS_GROUPS),
        )
        header = f"Positive label: {self.pos_label}"
        if self.confidence_level is not None:
            header += f"; in parentheses, {self.confidence_level:.0%} bootstrap intervals"
        return f"{header}.\n\n{cells.to_markdown()}\n\n{disparities.to_markdown()}\n"

    def _repr_markdown_(self):
        return self.to_markdown()

    def plot(self, metrics=None, *, figsize=None):
        """Bar charts of the metrics by group, the overall value as a dashed line.

        Needs matplotlib (``pip install sklilaw[plot]``).

        Parameters
        ----------
        metrics : list of str, default=None
            Metrics to plot, one panel each; by default all but ``count``.
        figsize : tuple of float, default=None
            Figure size in inches; by default 3.2 wide per panel and 3.6 high.

        Returns
        -------
        matplotlib.figure.Figure
            One Axes per metric (``fig.axes``), one bar per group, with the bootstrap
            interval as an error bar when there is one.
        """
        plt = _pyplot()
        tables = self._tables()
        values = tables["value"]
        metrics = _plot_metrics(values.columns, metrics)
        fig, axes = plt.subplots(
            1, len(metrics), figsize=figsize or (3.2 * len(metrics), 3.6), squeeze=False
        )
        groups = values.index[1:]
        for ax, metric in zip(axes[0], metrics, strict=True):
            heights = values.loc[groups, metric].to_numpy()
            errors = None
            if "lower" in tables:
                lower, upper = (
                    tables[b].loc[groups, metric].to_numpy() for b in ("lower", "upper")
                )
                errors = np.clip([heights - lower, upper - heights], 0, None)
            ax.bar(range(len(groups)), heights, yerr=errors, capsize=3, color="tab:blue")
            ax.axhline(values.loc[OVERALL, metric], color="black", linestyle="--", label=OVERALL)
            ax.set_xticks(range(len(groups)), groups, rotation=45, ha="right")
            ax.set_title(metric.replace("_", " "))
        axes[0, 0].legend()
        fig.tight_layout()
        return fig


def _plot_metrics(available, metrics):
    if metrics is None:
        return [name for name in available if name != "count"]
    unknown = [name for name in metrics if name not in available]
    if unknown or not metrics:
        raise ValueError(
            f"metrics must be a non-empty list of the report's metrics {list(available)}; "
            f"unknown: {unknown}."
        )
    return list(metrics)


# --------------------------------------------------------------------------- building
def _metric_frame(metrics, y_true, y_pred, groups, n_boot, confidence_level, random_state):
    bootstrap = {}
    if n_boot is not None:
        bootstrap = dict(
            n_boot=n_boot,
            ci_quantiles=ci_quantiles(confidence_level),
            random_state=random_state,
        )
    return MetricFrame(
        metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=groups, **bootstrap
    )


def _disparity_values(y_true, y_pred, groups):
    """fairlearn's disparity metrics: ``{name: value}``."""
    return {
        name: function(y_true, y_pred, sensitive_features=groups)
        for name, (function, _, _) in DISPARITIES.items()
    }


_ACROSS = {
    "difference": lambda by_group: np.nanmax(by_group, axis=-1) - np.nanmin(by_group, axis=-1),
    "ratio": lambda by_group: np.nanmin(by_group, axis=-1) / np.nanmax(by_group, axis=-1),
    "group_min": lambda by_group: np.nanmin(by_group, axis=-1),
}


def _bootstrap(metrics, frame, y_true, y_pred, groups, n_boot, confidence_level, random_state):
    """Interval bounds of the metrics and the disparities: ``(bounds, disparity bounds)``.

    The default metrics and the disparities' base metrics from per-group counts of
    fairlearn's resamples (:mod:`._bootstrap`); any other metric by fairlearn's own
    bootstrap. Both draw the same resamples.
    """
    ci_quantiles(confidence_level)
    index = frame.by_group.index
    codes = group_codes(groups, index)
    sums = resampled_sums(codes, len(index), confusion_sums(y_true, y_pred), n_boot, random_state)
    by_group, overall = confusion_metrics(sums), confusion_metrics(sums.sum(axis=1))
    known = [name for name, f in metrics.items() if DEFAULT_METRICS.get(name) is f]
    bounds = metric_bounds(
        frame,
        {name: overall[name] for name in known},
        {name: by_group[name] for name in known},
        confidence_level,
    )
    other = {name: f for name, f in metrics.items() if name not in known}
    if other:
        boot = (n_boot, confidence_level, random_state)
        other_frame = _metric_frame(other, y_true, y_pred, groups, *boot)
        for i, (overall_bound, group_bound) in enumerate(bounds.values()):
            for name in other:
                overall_bound[name] = other_frame.overall_ci[i][name]
                group_bound[name] = other_frame.by_group_ci[i][name]
    disparity_bounds = {}
    for name, (_, base, method) in DISPARITIES.items():
        if base is not None:
            across = _ACROSS[method](by_group[base])
            disparity_bounds[name] = interval(across, confidence_level)
    return bounds, disparity_bounds


def fairness_report(
    estimator,
    X,
    y,
    *,
    sensitive_features,
    metrics=None,
    pos_label=None,
    n_boot=None,
    confidence_level=0.95,
    random_state=None,
):
    """Audit a fitted binary classifier: metrics by group and disparities, by fairlearn.

    Parameters
    ----------
    estimator : fitted classifier
        Anything with ``predict`` and ``classes_`` (two classes), e.g. a Pipeline.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Input of ``estimator.predict``.
    y : array-like of shape (n_samples,)
        True labels, from ``estimator.classes_``.
    sensitive_features : str, list of str, array-like, Series, DataFrame or dict
        The groups: a column name of ``X`` (a DataFrame) or a list of them, or the
        values themselves, of shape (n_samples,) or (n_samples, n_features). Several
        features are audited by their intersections.
    metrics : dict of str to callable, default=None
        Metrics ``f(y_true, y_pred)`` to report per group, called with 0/1 labels (1 for
        ``pos_label``). By default accuracy, balanced accuracy, selection rate, true and
        false positive rates and count (:data:`DEFAULT_METRICS`; the balanced accuracy
        of a group whose samples all have one label is that label's recall, see
        :func:`balanced_accuracy`).
    pos_label : object, default=None
        The positive ("selected") label; by default ``estimator.classes_[-1]``.
    n_boot : int, default=None
        Number of bootstrap resamples for intervals (fairlearn's ``MetricFrame``
        bootstrap, which resamples rows); None for no intervals. Each resample
        recomputes every metric, so this costs ``n_boot`` times the report.
    confidence_level : float, default=0.95
        Coverage of the bootstrap intervals.
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap.

    Returns
    -------
    FairnessReport

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklilaw.fairness import fairness_report
    >>> rng = np.random.default_rng(0)
    >>> group = rng.choice(["a", "b"], size=200)
    >>> X = np.c_[rng.normal(size=200), group == "a"]
    >>> y = np.where(X[:, 0] + X[:, 1] + rng.normal(size=200) > 0.5, "yes", "no")
    >>> report = fairness_report(
    ...     LogisticRegression().fit(X, y), X, y, sensitive_features=group
    ... )
    >>> report.pos_label, report.by_group.index.tolist()
    ('yes', ['a', 'b'])
    >>> bool(report.demographic_parity_difference > 0.2)
    True
    """
    groups = two_or_more_groups(sensitive_groups(sensitive_features, X, len(X)))
    y_true, y_pred, pos_label = binary_outcomes(estimator, X, y, pos_label)
    return report_of_predictions(
        y_true,
        y_pred,
        groups,
        pos_label,
        metrics=metrics,
        n_boot=n_boot,
        confidence_level=confidence_level,
        random_state=random_state,
    )


def report_of_predictions(
    y_true, y_pred, groups, pos_label, *, metrics, n_boot, confidence_level, random_state
):
    """:func:`fairness_report` of predictions already made: 0/1 ``y_true`` and ``y_pred``
    (1 for ``pos_label``), ``groups`` as :func:`~sklilaw._validation.sensitive_groups`
    returns them."""
    metrics = metrics or DEFAULT_METRICS
    frame = _metric_frame(metrics, y_true, y_pred, groups, None, None, None)
    disparities = pd.DataFrame({"value": _disparity_values(y_true, y_pred, groups)}, dtype=float)
    if n_boot is None:
        return FairnessReport(frame, disparities, pos_label, None, None)
    bounds, disparity_bounds = _bootstrap(
        metrics, frame, y_true, y_pred, groups, n_boot, confidence_level, random_state
    )
    disparities["lower"] = disparities["upper"] = np.nan
    for name, (lower, upper) in disparity_bounds.items():
        disparities.loc[name, ["lower", "upper"]] = lower, upper
    return FairnessReport(frame, disparities, pos_label, confidence_level, bounds)


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
