"""``sklilaw fairness``: a group-fairness audit of plain training vs LiLAW on UCI Adult."""

import time

import numpy as np
import pandas as pd
import torch
from fairlearn.postprocessing import ThresholdOptimizer
from fairlearn.reductions import DemographicParity, ExponentiatedGradient
from sklearn import config_context
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from skorch.dataset import ValidSplit
from tqdm.auto import tqdm

from .._classifier import LiLAWClassifier
from .._networks import MLP
from ..baselines import plain_skorch
from ..datasets import load_adult
from ..fairness import DEFAULT_METRICS, DISPARITIES, fairness_report, label_quality_by_group
from ..noise import group_label_noise, symmetric_label_noise
from ..plotting import _pyplot
from ._runtime import warm_up_torch

N_TRAIN = 32561  # rows of adult.data; the rest of load_adult's rows are adult.test
POSITIVE = ">50K"
AUTO = "LiLAW, noise_handling='auto'"
THRESHOLDS = "LiLAW + ThresholdOptimizer"
REDUCTION = "LiLAW + ExponentiatedGradient"
# fairlearn's mitigations of LiLAW, for demographic parity by the first sensitive column
MITIGATIONS = (THRESHOLDS, REDUCTION)
METHODS = (
    "plain skorch",
    "unweighted twin",
    "LiLAW",
    "LiLAW, group-aware split",
    AUTO,
    *MITIGATIONS,
)
# the methods whose fit leaves label_issues_ to judge the training labels by
LABEL_QUALITY_METHODS = tuple(m for m in METHODS if m not in ("plain skorch", *MITIGATIONS))
REDUCTION_ITERATIONS = 10  # each iteration fits LiLAW up to about twice
BY_GROUP = list(DEFAULT_METRICS)
SUMMARY = [*DISPARITIES, "fit_seconds"]
# of the LiLAW fits' label_issues_ on the training labels, by group
LABEL_QUALITY = ["flagged share", "mean label_quality"]


def adult_train_test(data_home=None, n_samples=None, random_state=0):
    """UCI Adult's official train and test parts; the target as 1 for ``'>50K'``, else 0.

    Parameters
    ----------
    data_home : str or path-like, default=None
        As in :func:`sklilaw.datasets.load_adult`.
    n_samples : int, default=None
        Keep a random subsample of this many of the 48,842 rows (stratified by the
        target) before splitting; None keeps all.
    random_state : int, default=0
        Seeds the subsample.

    Returns
    -------
    X_train, X_test : pandas.DataFrame
    y_train, y_test : ndarray of int64
    """
    X, y = load_adult(data_home, return_X_y=True)
    y = (y == POSITIVE).to_numpy(dtype=np.int64)
    rows = np.arange(len(X))
    if n_samples is not None:
        rows, _ = train_test_split(
            rows, train_size=n_samples, stratify=y, random_state=random_state
        )
        rows = np.sort(rows)
    train, test = rows[rows < N_TRAIN], rows[rows >= N_TRAIN]
    return X.iloc[train], X.iloc[test], y[train], y[test]


def noisy_training_labels(y, sex, label_noise, seed):
    """Training labels (1 for ``'>50K'``) as ``label_noise`` corrupts them.

    Parameters
    ----------
    y : ndarray of int64
        Clean labels, 1 for ``'>50K'``.
    sex : array-like
        The ``sex`` column of the same rows.
    label_noise : str
        ``'none'``; ``'sym-R'``: R% of all labels flipped; ``'women-R'``: R% of the
        women's ``'>50K'`` labels recorded as ``'<=50K'``, the men's left alone.
    seed : int
        Seeds which labels flip.

    Returns
    -------
    ndarray of int64
    """
    kind, _, percent = label_noise.partition("-")
    if label_noise == "none":
        return y
    if kind not in ("sym", "women") or not percent.isdigit():
        raise ValueError(f"label_noise must be 'none', 'sym-R' or 'women-R', got {label_noise!r}.")
    rate = int(percent) / 100
    if kind == "sym":
        return symmetric_label_noise(y, rate, random_state=seed)[0]
    sex = np.asarray(sex, dtype=object)
    return group_label_noise(
        y, sex, rate, group="Female", from_label=1, to_label=0, random_state=seed
    )[0]


def preprocessor(X, sensitive):
    """Standardised numbers and one-hot categories of ``X``, without the ``sensitive`` columns."""
    keep = [column for column in X.columns if column not in sensitive]
    numeric = [column for column in keep if pd.api.types.is_numeric_dtype(X[column])]
    categorical = [column for column in keep if column not in numeric]
    return ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
        ]
    )


def make_model(method, preprocess, n_features, *, max_epochs, seed):
    """A Pipeline: ``preprocess``, then the network trained by ``method``.

    All methods train the same MLP (one hidden layer of 100) with Adam (lr 1e-3, weight
    decay 1e-4) on 85% of the training rows, the other 15% held out as validation split
    (plain skorch: for its validation loss only; LiLAW: for the meta steps). The
    mitigations wrap the LiLAW Pipeline: ``ThresholdOptimizer`` post-processes its
    ``predict_proba``, ``ExponentiatedGradient`` refits it with sample weights (routed
    to the LiLAWClassifier; build and fit it with metadata routing enabled).
    """
    if method == THRESHOLDS:
        lilaw = make_model("LiLAW", preprocess, n_features, max_epochs=max_epochs, seed=seed)
        return ThresholdOptimizer(
            estimator=lilaw, constraints="demographic_parity", predict_method="predict_proba"
        )
    if method == REDUCTION:
        lilaw = make_model("LiLAW", preprocess, n_features, max_epochs=max_epochs, seed=seed)
        scaler = {name: step for name, step, _ in lilaw[0].transformers}["numeric"]
        scaler.set_fit_request(sample_weight=False)  # the preprocessing is not re-weighted
        lilaw[-1].set_fit_request(sample_weight=True)
        return ExponentiatedGradient(lilaw, DemographicParity(), max_iter=REDUCTION_ITERATIONS)
    if method == "plain skorch":
        net = plain_skorch(
            MLP,
            module__n_features=n_features,
            module__n_classes=2,
            max_epochs=max_epochs,
            train_split=ValidSplit(0.15, stratified=True, random_state=seed),
        )
        to_float32 = FunctionTransformer(np.asarray, kw_args={"dtype": np.float32})
        return make_pipeline(clone(preprocess), to_float32, net)
    noise_handling = "auto" if method == AUTO else None
    net = LiLAWClassifier(
        max_epochs=max_epochs,
        early_stopping=False,  # the paper's fixed epochs, as docs/fairness.md measured them
        reweight=method != "unweighted twin",
        noise_handling=noise_handling,
        random_state=seed,
    )
    return make_pipeline(clone(preprocess), net)


def _fit(method, model, X, y, sensitive, seed):
    """Fit ``model``; the group-aware method stratifies its meta split by label x groups."""
    params = {}
    if method == "LiLAW, group-aware split":
        params["lilawclassifier__sensitive_features"] = X[list(sensitive)]
    if method in MITIGATIONS:
        params["sensitive_features"] = X[sensitive[0]]
    start = time.perf_counter()
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # skorch initialises and shuffles from torch's global state
        model.fit(X, y, **params)
    return time.perf_counter() - start


class _SeededMitigation:
    """A fitted mitigation as :func:`fairness_report` calls it: ``predict(X)`` alone.

    fairlearn's mitigated predictions are randomised; ``seed`` fixes them.
    ``ThresholdOptimizer`` also needs the groups, taken from the column ``attribute``
    of ``X``.
    """

    classes_ = np.array([0, 1])

    def __init__(self, mitigation, attribute, seed):
        self.mitigation = mitigation
        self.attribute = attribute
        self.seed = seed

    def predict(self, X):
        if isinstance(self.mitigation, ThresholdOptimizer):
            return self.mitigation.predict(
                X, sensitive_features=X[self.attribute], random_state=self.seed
            )
        return self.mitigation.predict(X, random_state=self.seed)


def run_audit(
    methods=("plain skorch", "LiLAW"),
    seeds=(0, 1, 2),
    max_epochs=20,
    sensitive=("sex",),
    data_home=None,
    n_samples=None,
    label_noise="none",
    progress=True,
):
    """Fit every method with every seed on Adult's training part; audit on its test part.

    Parameters
    ----------
    methods : sequence of str, default=('plain skorch', 'LiLAW')
        From :data:`METHODS`. The mitigations constrain demographic parity by the first
        column of ``sensitive``, fitted on the (noisy) training labels;
        ``ExponentiatedGradient`` (10 iterations) costs up to about 20 LiLAW fits.
    seeds : sequence of int, default=(0, 1, 2)
        One fit per method and seed (validation split, initialisation, batches).
    max_epochs : int, default=20
        Epochs for every model.
    sensitive : sequence of str, default=('sex',)
        Columns of Adult left out of the features; each is audited on its own, and the
        group-aware method stratifies by their intersection.
    data_home : str or path-like, default=None
        As in :func:`sklilaw.datasets.load_adult`.
    n_samples : int, default=None
        Subsample of Adult's rows, as in :func:`adult_train_test`.
    label_noise : str, default='none'
        Noise on the training labels, seeded by each seed, as in
        :func:`noisy_training_labels`; the audit is on clean test labels.
    progress : bool, default=True
        Show a progress bar over the fits.

    Returns
    -------
    pandas.DataFrame
        Long format: ``method``, ``seed``, ``attribute`` (the audited column), ``metric``,
        ``group`` and ``value``, with the rows of :meth:`FairnessReport.to_frame`, the
        fit time as metric ``fit_seconds`` and, for the LiLAW methods, the training
        labels' ``flagged share`` and ``mean label_quality`` by group
        (:func:`~sklilaw.fairness.label_quality_by_group`).
    """
    X_train, X_test, y_train, y_test = adult_train_test(data_home, n_samples)
    preprocess = preprocessor(X_train, sensitive)
    n_features = clone(preprocess).fit(X_train).transform(X_train.iloc[:1]).shape[1]
    warm_up_torch()
    runs = [(seed, method) for seed in seeds for method in methods]
    frames = []
    for seed, method in tqdm(runs, desc="Adult fairness audit", disable=not progress):
        y_fit = noisy_training_labels(y_train, X_train["sex"], label_noise, seed)
        with config_context(enable_metadata_routing=method == REDUCTION):
            model = make_model(method, preprocess, n_features, max_epochs=max_epochs, seed=seed)
            seconds = _fit(method, model, X_train, y_fit, sensitive, seed)
        audited = _SeededMitigation(model, sensitive[0], seed) if method in MITIGATIONS else model
        for attribute in sensitive:
            report = fairness_report(audited, X_test, y_test, sensitive_features=attribute)
            frame = report.to_frame()["value"].reset_index()
            frame.loc[len(frame)] = ["fit_seconds", "", seconds]
            if method in LABEL_QUALITY_METHODS:
                quality = label_quality_by_group(model[-1], X_train[attribute].to_numpy())
                table = quality.by_group[LABEL_QUALITY].rename_axis("group").reset_index()
                table = table.melt(id_vars="group", var_name="metric", value_name="value")
                frame = pd.concat([frame, table[["metric", "group", "value"]]])
            frames.append(frame.assign(method=method, seed=seed, attribute=attribute))
    columns = ["method", "seed", "attribute", "metric", "group", "value"]
    return pd.concat(frames, ignore_index=True)[columns]


def summarize_audit(results):
    """Medians over seeds: a by-group table and an across-groups table per attribute.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`run_audit`.

    Returns
    -------
    dict of str to (pandas.DataFrame, pandas.DataFrame)
        For each audited attribute: the metrics by ``(method, group)`` (the ``overall``
        row first), and the disparities, the worst-group accuracy and the fit time by
        method.
    """
    medians = results.groupby(["attribute", "metric", "method", "group"], sort=False)
    medians = medians["value"].median().reset_index()
    tables = {}
    for attribute, rows in medians.groupby("attribute", sort=False):
        by_group = rows[rows["metric"].isin(BY_GROUP)].pivot_table(
            index=["method", "group"], columns="metric", values="value", sort=False
        )
        across = rows[rows["metric"].isin(SUMMARY)].pivot_table(
            index="method", columns="metric", values="value", sort=False
        )
        by_group = by_group[BY_GROUP].astype({"count": np.int64})  # the same in every seed
        tables[attribute] = (by_group, across[SUMMARY])
    return tables


def summarize_label_quality(results):
    """Medians over seeds of the training labels' quality by group, per attribute.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`run_audit`.

    Returns
    -------
    dict of str to pandas.DataFrame
        For each audited attribute: ``flagged share`` and ``mean label_quality`` by
        ``(method, group)``, for the methods that record label issues.
    """
    rows = results[results["metric"].isin(LABEL_QUALITY)]
    medians = rows.groupby(["attribute", "method", "group", "metric"], sort=False)["value"]
    medians = medians.median().reset_index()
    return {
        attribute: table.pivot_table(
            index=["method", "group"], columns="metric", values="value", sort=False
        )[LABEL_QUALITY]
        for attribute, table in medians.groupby("attribute", sort=False)
    }


def _plot_by_group(tables, metrics):
    """One bar chart per (attribute, metric): a bar per method in each group."""
    plt = _pyplot()
    fig, axes = plt.subplots(
        len(tables), len(metrics), figsize=(4.2 * len(metrics), 3.8 * len(tables)), squeeze=False
    )
    for row, (attribute, by_group) in zip(axes, tables.items(), strict=True):
        methods = by_group.index.unique("method")
        groups = by_group.index.unique("group")
        for ax, metric in zip(row, metrics, strict=True):
            bars = by_group[metric].unstack("method").reindex(index=groups, columns=methods)
            bars.plot.bar(ax=ax, legend=False)
            ax.set_title(f"{metric.replace('_', ' ')} by {attribute}")
            ax.set_xlabel("")
            plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", ncols=len(methods))
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def plot_audit(tables, metrics=("accuracy", "selection_rate", "true_positive_rate")):
    """Bar charts of the median metrics by group, one bar per method.

    Parameters
    ----------
    tables : dict
        The output of :func:`summarize_audit`.
    metrics : sequence of str, default=('accuracy', 'selection_rate', 'true_positive_rate')
        One panel each, in a row per audited attribute.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return _plot_by_group({a: by_group for a, (by_group, _) in tables.items()}, metrics)


def plot_label_quality(tables):
    """Bar charts of the training labels' flagged share and mean quality by group.

    Parameters
    ----------
    tables : dict
        The output of :func:`summarize_label_quality`.

    Returns
    -------
    matplotlib.figure.Figure
        A row per audited attribute, a bar per method in each group.
    """
    return _plot_by_group(tables, LABEL_QUALITY)
