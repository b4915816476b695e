"""A fairness audit of the user's own table: models fitted, scored by group, mitigated."""

import time
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from .._classifier import LiLAWClassifier
from .._networks import MLP
from .._preprocessing import tabular_preprocessor
from .._validation import sensitive_groups
from ..baselines import plain_skorch
from ._bootstrap import ci_quantiles
from ._html import plot_trade_off, write_html
from ._inputs import positive_class, two_or_more_groups
from ._label_quality import label_quality_by_group
from ._metrics import FEW_OUTCOMES, TRADE_OFF_DISPARITIES
from ._report import _group_labels, report_of_predictions

# fairlearn's post-processing of the most accurate model, one per constraint
MITIGATION_CONSTRAINTS = ("demographic_parity", "equalized_odds")


_FEW_OUTCOMES_NOTE = (
    f"Groups with fewer than {FEW_OUTCOMES} scored rows of a label: their true or false "
    "positive rates, and the differences and ratios of them, rest on a handful of rows."
)


def default_models(random_state=0):
    """The models an audit compares by default, by name.

    ``'plain skorch'`` (the package's MLP and optimizer, cross-entropy, early stopping on
    a stratified 15% validation split), ``'LiLAWClassifier()'`` and
    ``"LiLAWClassifier(noise_handling='auto')"``. Each is a callable of the preprocessed
    width (skorch's module needs it) that returns the unfitted classifier.

    Parameters
    ----------
    random_state : int, default=0
        Seeds the validation splits and LiLAW's randomness.

    Returns
    -------
    dict of str to callable
    """

    def skorch_net(n_features):
        net = plain_skorch(
            MLP,
            module__n_features=n_features,
            module__n_classes=2,
            max_epochs=200,
            train_split=ValidSplit(0.15, stratified=True, random_state=random_state),
            callbacks=[("early_stopping", EarlyStopping(patience=10, load_best=True))],
        )
        return make_pipeline(FunctionTransformer(_float32), net)

    return {
        "plain skorch": skorch_net,
        "LiLAWClassifier()": lambda n: LiLAWClassifier(random_state=random_state),
        "LiLAWClassifier(noise_handling='auto')": lambda n: LiLAWClassifier(
            noise_handling="auto", random_state=random_state
        ),
    }


def _float32(X):
    return np.asarray(X, dtype=np.float32)


class Audit:
    """What :func:`audit` found: every model's metrics by group, side by side.

    Built by :func:`audit`; its parameters are the attributes below.

    Parameters
    ----------
    reports, summary, label_quality, best_model, pos_label, sensitive : see Attributes
    evaluation, n_rows, few_outcomes : see Attributes

    Attributes
    ----------
    reports : dict of str to FairnessReport
        Per model (the mitigations included), the fairness report of its predictions on
        the scored rows.
    summary : pandas.DataFrame
        The trade-off: one row per model; accuracy, balanced accuracy, worst-group
        accuracy, the differences in selection rates (demographic parity), in true and
        false positive rates and the larger of the two (equalized odds), and the fit time
        in seconds (all splits together).
    label_quality : LabelQualityReport or None
        The training labels' quality by group, from the label issues of the first
        LiLAW model's fit (on the first split's training rows); None without a LiLAW
        model.
    best_model : str
        The most accurate of the models given (the one the mitigations post-process).
    pos_label : object
        The label counted as positive.
    sensitive : list of str
        The sensitive features (several: audited by their intersections).
    evaluation : str
        How the predictions were scored (cross-validation, a held-out share, a test set).
    n_rows : int
        Rows scored.
    few_outcomes : pandas.DataFrame
        The groups with fewer than ``FEW_OUTCOMES`` (10) scored rows of either label
        (columns ``positives``, ``negatives``): their true or false positive rate rests
        on a handful of rows, and so may any difference or ratio of it (an equalized
        odds difference of 1 often comes from such a group).
    """

    def __init__(self, reports, summary, label_quality, best_model, pos_label, sensitive,
                 evaluation, n_rows, few_outcomes):  # fmt: skip
        self.reports = reports
        self.summary = summary
        self.label_quality = label_quality
        self.best_model = best_model
        self.pos_label = pos_label
        self.sensitive = sensitive
        self.evaluation = evaluation
        self.n_rows = n_rows
        self.few_outcomes = few_outcomes

    def to_frame(self):
        """Every model's report in one long table.

        Returns
        -------
        pandas.DataFrame
            Rows ``(metric, group)`` as in :meth:`FairnessReport.to_frame`, columns
            ``(model, 'value' | 'lower' | 'upper')``.
        """
        frames = {name: report.to_frame() for name, report in self.reports.items()}
        return pd.concat(frames, axis=1, names=["model", None])

    def to_markdown(self):
        """The summary, each model's report and the label quality, as Markdown.

        Returns
        -------
        str
        """
        parts = [
            f"# Fairness audit by {', '.join(self.sensitive)}",
            "",
            f"{self.n_rows} rows; positive label {self.pos_label!r}; {self.evaluation}.",
            "",
            "## Accuracy and disparities",
            "",
            self.summary.to_markdown(floatfmt=".3f"),
        ]
        if len(self.few_outcomes):
            parts += ["", _FEW_OUTCOMES_NOTE, "", self.few_outcomes.to_markdown()]
        for name, report in self.reports.items():
            parts += ["", f"## {name}", "", report.to_markdown()]
        if self.label_quality is not None:
            parts += ["", "## Label quality of the training labels", ""]
            parts.append(self.label_quality.to_markdown())
        return "\n".join(parts) + "\n"

    def _repr_markdown_(self):
        return self.to_markdown()

    def plot_trade_off(self, *, figsize=None):
        """Accuracy against each disparity, one point per model.

        Parameters
        ----------
        figsize : tuple of float, default=None
            Size of the figure; by default 3.4 inches wide per panel and 3.6 high.

        Returns
        -------
        matplotlib.figure.Figure
            One panel per disparity of the summary (``TRADE_OFF_DISPARITIES``).
        """
        return plot_trade_off(self.summary, figsize=figsize)

    def to_html(self, path):
        """Write the audit as one self-contained HTML page (figures embedded).

        Needs jinja2 and matplotlib (``pip install sklilaw[audit]``).

        Parameters
        ----------
        path : str or path-like
            The file to write.
        """
        write_html(self, path)


def audit(
    X,
    y,
    *,
    sensitive_features,
    models=None,
    preprocessor=None,
    drop_sensitive=True,
    test_data=None,
    cv=None,
    test_size=0.25,
    mitigate=True,
    pos_label=None,
    n_boot=200,
    confidence_level=0.95,
    min_group_size=20,
    random_state=0,
    progress=None,
):
    """Fit models on a table, score their predictions by group, and mitigate the best.

    Every model is the last step of a pipeline behind ``preprocessor``, fitted on the
    training rows and scored on rows it did not see: a held-out share (the default),
    the folds of a cross-validation (``cv``), or a test set (``test_data``). The
    predictions are scored by group with fairlearn's ``MetricFrame`` (bootstrap
    intervals), then the most accurate model is post-processed by fairlearn's
    ``ThresholdOptimizer`` for demographic parity and for equalized odds (fitted on the
    same training rows), and its training labels are judged by group from a LiLAW fit's
    label issues.

    Parameters
    ----------
    X : DataFrame of shape (n_samples, n_features)
        The table.
    y : str or array-like of shape (n_samples,)
        The labels (two classes), or the name of their column in ``X``.
    sensitive_features : str, list of str, array-like, Series or DataFrame
        The groups: column names of ``X``, or the values (as in
        :func:`fairness_report`). Several features are audited by their intersections.
    models : dict of str to estimator or callable, default=None
        The classifiers to compare, by name: a scikit-learn classifier (put behind
        ``preprocessor``), a Pipeline (used as it is) or a callable ``f(n_features)``
        that returns one, given the number of preprocessed columns. By default
        :func:`default_models` (plain skorch, ``LiLAWClassifier()`` and
        ``LiLAWClassifier(noise_handling='auto')``).
    preprocessor : transformer, default=None
        What turns the table into numbers; by default
        :func:`sklilaw.tabular_preprocessor` (imputed, scaled numbers; imputed, one-hot
        categories).
    drop_sensitive : bool, default=True
        Leave the sensitive columns (when ``sensitive_features`` names columns) out of
        the models' features.
    test_data : tuple (X_test, y_test), default=None
        Score on these rows, and train on all of ``X``. ``y_test`` may be a column name
        of ``X_test``, as ``y`` of ``X``; the sensitive features, when given as values,
        are then those of the rows of ``X`` followed by those of ``X_test``.
    cv : int, default=None
        Score the out-of-fold predictions of a stratified ``cv``-fold cross-validation
        (every row is scored once); by default one stratified held-out share.
    test_size : float, default=0.25
        The held-out share, without ``cv`` or ``test_data``.
    mitigate : bool, default=True
        Add the ``ThresholdOptimizer`` mitigations of the most accurate model.
    pos_label : object, default=None
        The positive label; by default the larger of the two (as ``classes_[-1]``).
    n_boot : int or None, default=200
        Bootstrap resamples for the intervals; None for none.
    confidence_level : float, default=0.95
        Coverage of the intervals.
    min_group_size : int, default=20
        A group with fewer rows cannot be scored: it is an error that names it.
    random_state : int, default=0
        Seeds the split, the models, the mitigations' randomised predictions and the
        bootstrap.
    progress : callable, default=None
        Wraps the list of fits, as ``tqdm.tqdm`` does (``progress(fits, desc=...)``);
        the command line passes tqdm.

    Returns
    -------
    Audit
    """
    table = _AuditData(X, y, sensitive_features, test_data, pos_label, min_group_size,
                       drop_sensitive)  # fmt: skip
    if n_boot is not None and (not isinstance(n_boot, Integral) or n_boot < 1):
        raise ValueError(f"n_boot must be a positive int or None, got {n_boot!r}.")
    ci_quantiles(confidence_level)
    models = _checked_models(default_models(random_state) if models is None else models)
    preprocessor = tabular_preprocessor() if preprocessor is None else preprocessor
    splits, evaluation = table.splits(cv, test_size, random_state)
    predictions = {name: np.full(table.n_rows, -1) for name in models}
    seconds = dict.fromkeys(models, 0.0)
    fitted = {}
    widths = {}  # of the preprocessed rows, per split
    fits = [(i, name) for i in range(len(splits)) for name in models]
    for split, name in progress(fits, desc="audit fits") if progress else fits:
        train, test = splits[split]
        if split not in widths:
            rows = table.X.iloc[train]
            widths[split] = clone(preprocessor).fit(rows).transform(rows.iloc[:1]).shape[1]
        model = _pipeline(models[name], preprocessor, widths[split])
        start = time.perf_counter()
        with torch.random.fork_rng():
            torch.manual_seed(random_state)  # skorch initialises from torch's global state
            model.fit(table.X.iloc[train], table.y[train])
        seconds[name] += time.perf_counter() - start
        predictions[name][test] = model.predict(table.X.iloc[test])
        fitted[split, name] = model
    scored = np.sort(np.concatenate([test for _, test in splits]))
    accuracy = {name: np.mean(p[scored] == table.y[scored]) for name, p in predictions.items()}
    best = max(accuracy, key=accuracy.get)
    if mitigate:
        _mitigate(table, splits, fitted, best, predictions, seconds, random_state)
    groups = table.groups.iloc[scored].reset_index(drop=True)
    reports = {
        name: report_of_predictions(
            table.y[scored],
            p[scored],
            groups,
            table.pos_label,
            metrics=None,
            n_boot=n_boot,
            confidence_level=confidence_level,
            random_state=random_state,
        )
        for name, p in predictions.items()
    }
    summary = _summary(reports, seconds)
    quality = _label_quality(table, splits, fitted, models, n_boot, confidence_level, random_state)
    outcomes = pd.crosstab(table.labels[scored], table.y[scored]).reindex(
        columns=[1, 0], fill_value=0
    )
    outcomes = outcomes.set_axis(["positives", "negatives"], axis=1).rename_axis("group")
    few = outcomes[outcomes.min(axis=1) < FEW_OUTCOMES]
    return Audit(reports, summary, quality, best, table.pos_label,
                 table.groups.columns.tolist(), evaluation, len(scored), few)  # fmt: skip


class _AuditData:
    """The audited rows, checked before any fit: features, 0/1 labels, groups."""

    def __init__(self, X, y, sensitive_features, test_data, pos_label, min_group_size,
                 drop_sensitive):  # fmt: skip
        X, y = _table(X, y, "X", "y")
        self.n_train = len(X)
        if test_data is not None:
            if not isinstance(test_data, tuple) or len(test_data) != 2:
                raise ValueError("test_data must be a tuple (X_test, y_test).")
            X_test, y_test = _table(*test_data, "X_test", "y_test")
            if list(X_test.columns) != list(X.columns):
                raise ValueError(
                    f"X_test has the columns {X_test.columns.tolist()}, X has {X.columns.tolist()}."
                )
            X, y = pd.concat([X, X_test], ignore_index=True), np.concatenate([y, y_test])
        self.groups = two_or_more_groups(sensitive_groups(sensitive_features, X, len(X)))
        for column in self.groups:
            if self.groups[column].isna().any():
                raise ValueError(
                    f"The sensitive feature {column!r} has missing values; give them a "
                    "group of their own (e.g. fillna('missing')) to audit them."
                )
        several = self.groups.shape[1] > 1
        keys = pd.MultiIndex.from_frame(self.groups) if several else self.groups.iloc[:, 0]
        # one label per row (an intersection's values joined), as fairlearn's groups
        self.labels = np.asarray(_group_labels(keys), dtype=object)
        sizes = pd.Series(self.labels).value_counts()
        small = sizes[sizes < min_group_size]
        if len(small):
            named = ", ".join(f"{group!r} ({count} rows)" for group, count in small.items())
            raise ValueError(
                f"Too few rows to score the group(s) {named} of "
                f"{self.groups.columns.tolist()}: each needs min_group_size={min_group_size}. "
                "Merge them into a larger group, or lower min_group_size."
            )
        self.pos_label, self.y = _binary_labels(y, pos_label)
        named = isinstance(sensitive_features, str) or (
            isinstance(sensitive_features, list)
            and all(isinstance(name, str) for name in sensitive_features)
        )
        self.X = X.drop(columns=self.groups.columns) if named and drop_sensitive else X
        self.X = self.X.reset_index(drop=True)
        self.test_data = test_data is not None
        self.n_rows = len(self.X)

    def splits(self, cv, test_size, random_state):
        """``[(train rows, test rows), ...]`` and how they are scored, in words."""
        rows = np.arange(self.n_rows)
        if self.test_data:
            if cv is not None:
                raise ValueError("Give cv or test_data, not both.")
            n_test = self.n_rows - self.n_train
            return [(rows[: self.n_train], rows[self.n_train :])], f"scored on {n_test} test rows"
        if cv is not None:
            if not isinstance(cv, Integral) or isinstance(cv, bool) or cv < 2:
                raise ValueError(f"cv must be an int of at least 2, got {cv!r}.")
            folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
            return list(folds.split(rows, self.y)), (
                f"out-of-fold predictions of a stratified {cv}-fold cross-validation"
            )
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must be in (0, 1), got {test_size!r}.")
        train, test = train_test_split(
            rows, test_size=test_size, stratify=self.y, random_state=random_state
        )
        return [(np.sort(train), np.sort(test))], (
            f"trained on {len(train)} rows, scored on a stratified held-out {test_size:.0%} "
            f"({len(test)} rows)"
        )


def _table(X, y, x_name, y_name):
    if not isinstance(X, pd.DataFrame):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{x_name} must be a table (2 dimensions), got shape {X.shape}.")
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    if isinstance(y, str):
        if y not in X.columns:
            raise ValueError(
                f"The target column {y!r} is not in {x_name}; its columns are {X.columns.tolist()}."
            )
        X, y = X.drop(columns=y), X[y]
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{y_name} must hold one label per row of {x_name} ({len(X)}).")
    missing = pd.isna(y)
    if missing.any():
        raise ValueError(f"{y_name} has {int(missing.sum())} missing labels.")
    return X.reset_index(drop=True), y


def _binary_labels(y, pos_label):
    """The positive label and 0/1 labels."""
    positive = positive_class(np.unique(y), pos_label, "the target")
    return positive, (y == positive).astype(int)


def _checked_models(models):
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict of name to classifier.")
    for name, model in models.items():
        if not (callable(model) and not hasattr(model, "fit")) and not (
            is_classifier(model) or isinstance(model, Pipeline)
        ):
            raise TypeError(
                f"models[{name!r}] is a {type(model).__name__}: give a scikit-learn "
                "classifier, a Pipeline, or a callable of the number of features."
            )
    return models


def _pipeline(model, preprocessor, width):
    """An unfitted copy of a given Pipeline, or ``model`` (built for ``width`` features
    if a callable) behind a copy of ``preprocessor``."""
    if isinstance(model, Pipeline):
        return clone(model)
    built = model if hasattr(model, "fit") else model(width)
    steps = built.steps if isinstance(built, Pipeline) else [(None, built)]
    return make_pipeline(clone(preprocessor), *(clone(step) for _, step in steps))


def _mitigate(table, splits, fitted, best, predictions, seconds, random_state):
    """fairlearn's ThresholdOptimizer on the best model, per constraint, per split."""
    for constraint in MITIGATION_CONSTRAINTS:
        name = f"{best} + ThresholdOptimizer({constraint})"
        predictions[name] = np.full(table.n_rows, -1)
        seconds[name] = seconds[best]
        for split, (train, test) in enumerate(splits):
            mitigation = ThresholdOptimizer(
                estimator=_Float64Scores(fitted[split, best]),
                constraints=constraint,
                predict_method="predict_proba",
                prefit=True,
            )
            start = time.perf_counter()
            mitigation.fit(
                table.X.iloc[train], table.y[train], sensitive_features=table.labels[train]
            )
            seconds[name] += time.perf_counter() - start
            predictions[name][test] = mitigation.predict(
                table.X.iloc[test],
                sensitive_features=table.labels[test],
                random_state=random_state,
            )


class _Float64Scores(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose scores are float64.

    fairlearn's ThresholdOptimizer writes float64 thresholds into an array of the
    scores' dtype, which pandas 3 refuses for the float32 of a torch model.
    """

    def __init__(self, model):
        self.model = model

    def fit(self, X, y):
        self.model.fit(X, y)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self.model, "classes_")

    @property
    def classes_(self):
        return self.model.classes_

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        return np.asarray(self.model.predict_proba(X), dtype=np.float64)


def _summary(reports, seconds):
    rows = {}
    for name, report in reports.items():
        overall = report.overall
        rows[name] = {
            "accuracy": overall["accuracy"],
            "balanced_accuracy": overall["balanced_accuracy"],
            "worst_group_accuracy": report.worst_group_accuracy,
            **{d: getattr(report, d) for d in TRADE_OFF_DISPARITIES},
            "fit_seconds": seconds[name],
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _label_quality(table, splits, fitted, models, n_boot, confidence_level, random_state):
    """Label quality by group from the first LiLAW fit's ``label_issues_``."""
    train = splits[0][0]
    for name in models:
        final = fitted[0, name][-1]
        if isinstance(final, LiLAWClassifier):
            groups = table.groups.iloc[train].reset_index(drop=True)
            return label_quality_by_group(
                final.label_issues_,
                groups,
                n_boot=n_boot,
                confidence_level=confidence_level,
                random_state=random_state,
            )
    return None
