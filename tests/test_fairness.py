"""sklilaw.fairness: every number is fairlearn's, laid out as tables, Markdown and plots."""

import os
import pickle
import sys
from functools import partial

import matplotlib
import numpy as np
import pandas as pd
import pytest
import sklearn
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from matplotlib.container import BarContainer
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklilaw import LiLAWClassifier
from sklilaw.fairness import (
    DEFAULT_METRICS,
    DISPARITIES,
    FairnessReport,
    balanced_accuracy,
    compare_fairness,
    fairness_report,
    make_fairness_scorer,
)

N = 600


class FixedPredictions(ClassifierMixin, BaseEstimator):
    """A 'fitted' classifier that predicts given labels, row by row."""

    def __init__(self, predictions, classes):
        self.predictions = predictions
        self.classes = classes

    def fit(self, X, y):
        return self

    @property
    def classes_(self):
        return np.asarray(self.classes)

    def predict(self, X):
        return np.asarray(self.predictions)[: len(X)]


@pytest.fixture(scope="module")
def data():
    """Features, a 'sex' and a 'race' column, and labels that depend on sex."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "x0": rng.normal(size=N),
            "x1": rng.normal(size=N),
            "sex": rng.choice(["F", "M"], size=N),
            "race": rng.choice(["a", "b", "c"], size=N, p=[0.6, 0.3, 0.1]),
        }
    )
    score = X["x0"] + 0.8 * (X["sex"] == "M") + rng.normal(size=N)
    y = np.where(score > 0.7, "yes", "no")
    return X, y


@pytest.fixture(scope="module")
def model(data):
    """A fitted pipeline whose ColumnTransformer drops the sensitive columns."""
    X, y = data
    features = ColumnTransformer([("x", StandardScaler(), ["x0", "x1"])])
    return make_pipeline(features, LogisticRegression()).fit(X, y)


@pytest.fixture(scope="module")
def fixed(data):
    """Random predictions, and the 0/1 labels fairlearn gets ('yes' is positive)."""
    X, y = data
    predictions = np.random.default_rng(1).choice(["no", "yes"], size=N, p=[0.6, 0.4])
    estimator = FixedPredictions(predictions, ["no", "yes"])
    return estimator, (y == "yes").astype(int), (predictions == "yes").astype(int)


def _fairlearn_frame(y01, pred01, groups, **kwargs):
    return MetricFrame(
        metrics=DEFAULT_METRICS, y_true=y01, y_pred=pred01, sensitive_features=groups, **kwargs
    )


# ------------------------------------------------------------------ same numbers
def test_numbers_are_fairlearns_for_the_same_predictions(data, fixed):
    X, y = data
    estimator, y01, pred01 = fixed
    report = fairness_report(estimator, X, y, sensitive_features="sex")
    assert isinstance(report, FairnessReport) and report.pos_label == "yes"
    theirs = _fairlearn_frame(y01, pred01, X["sex"])
    pd.testing.assert_frame_equal(report.by_group, theirs.by_group)
    pd.testing.assert_series_equal(report.overall, theirs.overall)
    groups = X["sex"]
    assert report.demographic_parity_difference == demographic_parity_difference(
        y01, pred01, sensitive_features=groups
    )
    assert report.demographic_parity_ratio == demographic_parity_ratio(
        y01, pred01, sensitive_features=groups
    )
    assert report.equalized_odds_difference == equalized_odds_difference(
        y01, pred01, sensitive_features=groups
    )
    assert report.equalized_odds_ratio == equalized_odds_ratio(
        y01, pred01, sensitive_features=groups
    )
    assert report.worst_group_accuracy == theirs.group_min()["accuracy"]
    assert report.true_positive_rate_difference == theirs.difference()["true_positive_rate"]
    assert report.false_positive_rate_difference == theirs.difference()["false_positive_rate"]


def test_binarized_labels_mean_what_the_original_labels_mean(data, fixed):
    # fairlearn on the string labels, told the positive label, agrees
    X, y = data
    estimator, _, _ = fixed
    report = fairness_report(estimator, X, y, sensitive_features="sex")
    metrics = {
        "accuracy": accuracy_score,
        "selection_rate": partial(selection_rate, pos_label="yes"),
        "true_positive_rate": partial(true_positive_rate, pos_label="yes"),
        "false_positive_rate": partial(false_positive_rate, pos_label="yes"),
        "count": count,
    }
    theirs = MetricFrame(
        metrics=metrics, y_true=y, y_pred=estimator.predict(X), sensitive_features=X["sex"]
    )
    pd.testing.assert_frame_equal(report.by_group[list(metrics)], theirs.by_group)


def test_pos_label_defaults_to_the_last_class_and_can_be_chosen(data, fixed):
    X, y = data
    estimator, _, pred01 = fixed
    yes = fairness_report(estimator, X, y, sensitive_features="sex")
    no = fairness_report(estimator, X, y, sensitive_features="sex", pos_label="no")
    assert no.pos_label == "no"
    np.testing.assert_allclose(no.by_group["selection_rate"], 1 - yes.by_group["selection_rate"])
    assert no.by_group["accuracy"].equals(yes.by_group["accuracy"])


def test_a_fitted_pipeline_is_audited_on_its_own_predictions(data, model):
    X, y = data
    report = fairness_report(model, X, y, sensitive_features="sex")
    y01, pred01 = (y == "yes").astype(int), (model.predict(X) == "yes").astype(int)
    pd.testing.assert_frame_equal(report.by_group, _fairlearn_frame(y01, pred01, X["sex"]).by_group)


def test_custom_metrics(data, fixed):
    X, y = data
    estimator, y01, pred01 = fixed
    metrics = {"accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score}
    report = fairness_report(estimator, X, y, sensitive_features="sex", metrics=metrics)
    assert list(report.by_group.columns) == list(metrics)
    assert report.demographic_parity_difference == demographic_parity_difference(
        y01, pred01, sensitive_features=X["sex"]
    )


def test_balanced_accuracy_of_a_one_label_group_is_its_recall_without_warnings():
    assert balanced_accuracy([0, 0, 0, 0], [0, 0, 1, 1]) == 0.5  # sklearn would warn
    assert balanced_accuracy([1, 1], [1, 1]) == 1.0  # sklearn would warn
    assert balanced_accuracy([0, 1, 1], [0, 1, 0]) == balanced_accuracy_score([0, 1, 1], [0, 1, 0])


# ------------------------------------------------------------------ sensitive features
def test_a_column_name_and_the_values_give_the_same_report(data, model):
    X, y = data
    by_name = fairness_report(model, X, y, sensitive_features="sex").to_frame()
    for values in (X["sex"], X["sex"].to_numpy(), X["sex"].tolist(), {"sex": X["sex"]}):
        by_values = fairness_report(model, X, y, sensitive_features=values).to_frame()
        pd.testing.assert_frame_equal(by_values, by_name)


def test_values_need_no_dataframe(data, model):
    X, y = data
    X_array = X[["x0", "x1"]].to_numpy()
    estimator = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_array, y)
    report = fairness_report(estimator, X_array, y, sensitive_features=X["race"].to_numpy())
    assert report.by_group.index.tolist() == ["a", "b", "c"]
    assert report.by_group.index.name == "sensitive_feature_0"


def test_intersections(data, fixed):
    X, y = data
    estimator, y01, pred01 = fixed
    report = fairness_report(estimator, X, y, sensitive_features=["sex", "race"])
    theirs = _fairlearn_frame(y01, pred01, X[["sex", "race"]])
    pd.testing.assert_frame_equal(report.by_group, theirs.by_group)
    assert report.by_group.index.names == ["sex", "race"] and len(report.by_group) == 6
    assert report.demographic_parity_difference == demographic_parity_difference(
        y01, pred01, sensitive_features=X[["sex", "race"]]
    )
    groups = report.to_frame().loc["accuracy"].index.tolist()
    assert groups == ["overall", "F, a", "F, b", "F, c", "M, a", "M, b", "M, c"]
    separate = fairness_report(estimator, X, y, sensitive_features=X[["sex", "race"]])
    pd.testing.assert_frame_equal(separate.to_frame(), report.to_frame())


def test_an_intersection_without_samples_is_left_out_of_the_tables(data, fixed):
    X, y = data
    estimator, _, _ = fixed
    X = X.assign(race=np.where(X["sex"] == "F", "a", X["race"]))  # no F, b and no F, c
    report = fairness_report(estimator, X, y, sensitive_features=["sex", "race"])
    assert report.by_group.loc[("F", "b")].isna().all()  # fairlearn's by_group: NaN
    groups = report.to_frame().loc["count"].index.tolist()
    assert groups == ["overall", "F, a", "M, a", "M, b", "M, c"]
    assert "F, b" not in report.to_markdown()


@pytest.mark.parametrize(
    "sensitive_features, message",
    [
        ("gender", r"unknown columns \['gender'\]; X has the columns"),
        (["sex", "age"], r"unknown columns \['age'\]"),
        (np.array(["F", "M"] * 10), "sensitive_features has 20 rows but X has 600"),
        (np.full(N, "F"), "hold a single group"),
        (np.where(np.arange(N) < 5, None, "F"), "contains missing values"),
    ],
)
def test_bad_sensitive_features_are_named(data, model, sensitive_features, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        fairness_report(model, X, y, sensitive_features=sensitive_features)


def test_a_column_name_needs_a_dataframe(data):
    X, y = data
    X_array = X[["x0", "x1"]].to_numpy()
    estimator = LogisticRegression().fit(X_array, y)
    with pytest.raises(ValueError, match="names columns, but X is not a DataFrame"):
        fairness_report(estimator, X_array, y, sensitive_features="sex")


def test_bad_estimator_labels_and_options_are_named(data, model):
    X, y = data
    three = LogisticRegression().fit(X[["x0", "x1"]], np.arange(N) % 3)
    cases = [
        (dict(estimator=LogisticRegression()), "not a fitted classifier: it has no classes_"),
        (dict(estimator=three, y=np.arange(N) % 3), "for two classes; the estimator has 3"),
        (dict(pos_label="maybe"), "pos_label='maybe' is not one of the classes"),
        (dict(y=np.where(y == "yes", "yes", "nope")), r"labels the estimator does not know"),
        (dict(y=y[:-1]), "one label per row of X"),
        (dict(n_boot=5, confidence_level=95), r"confidence_level must be in \(0, 1\)"),
    ]
    for kwargs, message in cases:
        kwargs = {"estimator": model, "X": X, "y": y, **kwargs}
        estimator, X_, y_ = kwargs.pop("estimator"), kwargs.pop("X"), kwargs.pop("y")
        if estimator is three:
            X_ = X_[["x0", "x1"]]
        with pytest.raises(ValueError, match=message):
            fairness_report(estimator, X_, y_, sensitive_features=X["sex"], **kwargs)


# ------------------------------------------------------------------ bootstrap
def test_bootstrap_intervals_are_fairlearns_and_ordered(data, fixed):
    X, y = data
    estimator, y01, pred01 = fixed
    report = fairness_report(estimator, X, y, sensitive_features="sex", n_boot=20, random_state=0)
    assert report.confidence_level == 0.95
    frame = report.to_frame()
    assert list(frame.columns) == ["value", "lower", "upper"]
    no_interval = frame.index.get_level_values("metric").str.startswith("equalized_odds")
    assert frame[no_interval][["lower", "upper"]].isna().all().all()
    bounds = frame[~no_interval]
    assert bounds.notna().all().all() and (bounds["lower"] <= bounds["upper"]).all()
    theirs = _fairlearn_frame(
        y01, pred01, X["sex"], n_boot=20, ci_quantiles=[0.025, 0.975], random_state=0
    )
    lower, upper = theirs.by_group_ci
    assert frame.loc[("accuracy", "F"), "lower"] == lower.loc["F", "accuracy"]
    assert frame.loc[("selection_rate", "M"), "upper"] == upper.loc["M", "selection_rate"]
    assert frame.loc[("accuracy", "overall"), "upper"] == theirs.overall_ci[1]["accuracy"]
    dp = frame.loc[("demographic_parity_difference", "across groups")]
    assert dp["lower"] == theirs.difference_ci()[0]["selection_rate"]
    assert (
        frame.loc[("worst_group_accuracy", "across groups"), "upper"]
        == (theirs.group_min_ci()[1]["accuracy"])
    )


def test_bootstrap_with_custom_metrics_still_bounds_the_disparities(data, fixed):
    X, y = data
    estimator, _, _ = fixed
    report = fairness_report(
        estimator,
        X,
        y,
        sensitive_features="sex",
        metrics={"accuracy": accuracy_score},
        n_boot=10,
        confidence_level=0.8,
        random_state=0,
    )
    bounds = report.disparities.loc["demographic_parity_difference", ["lower", "upper"]]
    assert bounds.notna().all() and bounds["lower"] <= bounds["upper"]
    assert "80% bootstrap intervals" in report.to_markdown()


# ------------------------------------------------------------------ tables
def test_to_frame_layout(data, model):
    X, y = data
    report = fairness_report(model, X, y, sensitive_features="race")
    frame = report.to_frame()
    assert frame.index.names == ["metric", "group"] and list(frame.columns) == ["value"]
    metrics = frame.index.get_level_values("metric").unique().tolist()
    assert metrics == [*DEFAULT_METRICS, *DISPARITIES]
    assert len(frame) == len(DEFAULT_METRICS) * 4 + len(DISPARITIES)
    assert frame.loc[("count", "overall"), "value"] == N
    assert frame.loc[("accuracy", "b"), "value"] == report.by_group.loc["b", "accuracy"]
    assert frame.loc[("equalized_odds_ratio", "across groups"), "value"] == (
        report.equalized_odds_ratio
    )


def test_markdown(data, model):
    X, y = data
    report = fairness_report(model, X, y, sensitive_features="sex")
    text = report.to_markdown()
    assert text.startswith("Positive label: yes.")
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| sex"))
    assert "accuracy" in header and "count" in header
    female = next(line for line in lines if line.startswith("| F "))
    count = int(report.by_group.loc["F", "count"])
    assert f"{report.by_group.loc['F', 'accuracy']:.3f}" in female and f" {count} |" in female
    dp = next(line for line in lines if "demographic_parity_difference" in line)
    assert f"{report.demographic_parity_difference:.3f}" in dp
    assert report._repr_markdown_() == text
    boot = fairness_report(model, X, y, sensitive_features="sex", n_boot=5, random_state=0)
    assert "95% bootstrap intervals" in boot.to_markdown() and " to " in boot.to_markdown()


# ------------------------------------------------------------------ plot
@pytest.fixture
def agg():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_plot_draws_a_bar_per_group_and_the_overall_line(data, model, agg):
    X, y = data
    report = fairness_report(model, X, y, sensitive_features="race")
    fig = report.plot()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [name.replace("_", " ") for name in DEFAULT_METRICS if name != "count"]
    ax = fig.axes[2]  # selection rate
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, report.by_group["selection_rate"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.lines[-1].get_ydata()[0] == report.overall["selection_rate"]
    single = report.plot(metrics=["accuracy"], figsize=(3, 3))
    assert len(single.axes) == 1 and tuple(single.get_size_inches()) == (3, 3)


def test_plot_shows_bootstrap_intervals_as_error_bars(data, model, agg):
    X, y = data
    report = fairness_report(model, X, y, sensitive_features="sex", n_boot=5, random_state=0)
    ax = report.plot(metrics=["accuracy"]).axes[0]
    bars = next(c for c in ax.containers if isinstance(c, BarContainer))
    segments = bars.errorbar.lines[2][0].get_segments()
    lower = report.to_frame().loc[("accuracy", "F"), "lower"]
    upper = report.to_frame().loc[("accuracy", "F"), "upper"]
    value = report.by_group.loc["F", "accuracy"]
    np.testing.assert_allclose(segments[0][:, 1], [min(lower, value), max(upper, value)])


def test_plot_rejects_unknown_metrics(data, model, agg):
    X, y = data
    report = fairness_report(model, X, y, sensitive_features="sex")
    with pytest.raises(ValueError, match=r"unknown: \['recall'\]"):
        report.plot(metrics=["recall"])


def test_plot_without_matplotlib_says_how_to_get_it(data, model, monkeypatch):
    X, y = data
    report = fairness_report(model, X, y, sensitive_features="sex")
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklilaw\[plot\]"):
        report.plot()


# ------------------------------------------------------------------ comparison
def test_compare_fairness_puts_models_side_by_side(data, model, fixed):
    X, y = data
    estimator, _, _ = fixed
    table = compare_fairness(
        {"logistic": model, "fixed": estimator}, X, y, sensitive_features="sex"
    )
    assert list(table.columns) == ["logistic", "fixed"]
    for name, fitted in (("logistic", model), ("fixed", estimator)):
        alone = fairness_report(fitted, X, y, sensitive_features="sex").to_frame()["value"]
        pd.testing.assert_series_equal(table[name], alone, check_names=False)
    boot = compare_fairness({"fixed": estimator}, X, y, sensitive_features="sex", n_boot=5)
    assert boot.columns.tolist() == [("fixed", "value"), ("fixed", "lower"), ("fixed", "upper")]
    with pytest.raises(ValueError, match="non-empty dict"):
        compare_fairness([model], X, y, sensitive_features="sex")


# ------------------------------------------------------------------ scorer
def test_scorer_is_the_metric_minus_fairlearns_penalty(data, model):
    X, y = data
    y01, pred01 = (y == "yes").astype(int), (model.predict(X) == "yes").astype(int)
    groups = X[["sex", "race"]]
    scorer = make_fairness_scorer(["sex", "race"], weight=0.5)
    expected = balanced_accuracy_score(y01, pred01) - 0.5 * demographic_parity_difference(
        y01, pred01, sensitive_features=groups
    )
    assert scorer(model, X, y) == pytest.approx(expected, abs=1e-15)
    eo = make_fairness_scorer("sex", score_func=accuracy_score, penalty="equalized_odds_difference")
    expected = accuracy_score(y01, pred01) - equalized_odds_difference(
        y01, pred01, sensitive_features=X["sex"]
    )
    assert eo(model, X, y) == pytest.approx(expected, abs=1e-15)
    assert pickle.loads(pickle.dumps(scorer))(model, X, y) == scorer(model, X, y)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sensitive_features=np.array(["F", "M"])), "column name of X or a list of them"),
        (dict(sensitive_features="sex", penalty="parity"), "penalty must be one of"),
        (dict(sensitive_features="sex", weight=-1), "weight must be a non-negative number"),
    ],
)
def test_scorer_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_fairness_scorer(**kwargs)


def _demographic_parity_by_hand(y_pred, groups):
    """Largest minus smallest share of 'yes' predictions among the groups, in numpy."""
    selected, groups = np.asarray(y_pred) == "yes", np.asarray(groups)
    rates = [selected[groups == group].mean() for group in np.unique(groups)]
    return max(rates) - min(rates)


def _fair_search(X_train, y_train, n_jobs):
    """A grid search of LiLAW scored by balanced accuracy minus the DP difference by sex."""
    # the sensitive column stays in X for the scorer; the ColumnTransformer drops it, but
    # the model sees 'proxy', which follows sex, so the penalty matters; each fold's LiLAW
    # meta split is stratified by label x sex
    features = ColumnTransformer(
        [("x", StandardScaler(), ["x0", "x1", "proxy"]), ("race", OneHotEncoder(), ["race"])]
    )
    pipe = make_pipeline(features, LiLAWClassifier(max_epochs=3, batch_size=64, random_state=0))
    scoring = {
        "fair": make_fairness_scorer("sex", weight=1.0),
        "balanced_accuracy": "balanced_accuracy",
    }
    search = GridSearchCV(
        pipe,
        {"lilawclassifier__meta_lr": [0.01, 0.1]},
        scoring=scoring,
        refit="fair",
        cv=StratifiedKFold(n_splits=2, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )
    return search.fit(X_train, y_train, lilawclassifier__sensitive_features=X_train["sex"])


def test_grid_search_with_a_fairness_scorer_in_parallel(data):
    X, y = data
    proxy = (X["sex"] == "M") + np.random.default_rng(2).normal(scale=0.5, size=N)
    X = X.assign(proxy=proxy)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    search = _fair_search(X_train, y_train, n_jobs=2)
    serial = _fair_search(X_train, y_train, n_jobs=1)
    for key, expected in serial.cv_results_.items():
        if not key.endswith("_time"):
            assert list(search.cv_results_[key]) == list(expected), key
    results = pd.DataFrame(search.cv_results_)
    assert results["mean_test_fair"].notna().all()
    assert (results["mean_test_fair"] <= results["mean_test_balanced_accuracy"]).all()
    assert search.best_index_ == results["mean_test_fair"].idxmax()

    # the first candidate's first fold, refitted here on the splitter's rows and scored
    # without the package: balanced accuracy minus the spread of the selection rates
    train, test = next(search.cv.split(X_train, y_train))
    fold_model = clone(search.estimator).set_params(**search.cv_results_["params"][0])
    fold_model.fit(
        X_train.iloc[train],
        y_train[train],
        lilawclassifier__sensitive_features=X_train["sex"].iloc[train],
    )
    y_fold, pred_fold = y_train[test], fold_model.predict(X_train.iloc[test])
    sex_fold = X_train["sex"].iloc[test]
    penalty = _demographic_parity_by_hand(pred_fold, sex_fold)
    by_hand = balanced_accuracy_score(y_fold, pred_fold) - penalty
    assert search.cv_results_["split0_test_fair"][0] == pytest.approx(by_hand, abs=1e-12)
    # plain accuracy, or no penalty, would give this fold another score
    assert penalty > 0.1
    assert (
        abs(accuracy_score(y_fold, pred_fold) - balanced_accuracy_score(y_fold, pred_fold)) > 0.05
    )

    # the refitted best model on the held-out rows, scored the same way by hand
    pred_test = search.best_estimator_.predict(X_test)
    by_hand = balanced_accuracy_score(y_test, pred_test) - _demographic_parity_by_hand(
        pred_test, X_test["sex"]
    )
    assert search.score(X_test, y_test) == pytest.approx(by_hand, abs=1e-12)


# ------------------------------------------------------------------ on Adult
@pytest.fixture(scope="module")
def adult():
    folder = os.environ.get("SKLILAW_DATA")
    if not folder or not os.path.isfile(os.path.join(folder, "adult", "adult.test")):
        pytest.skip("needs UCI Adult: set SKLILAW_DATA to the folder that holds adult/")
    from sklilaw.datasets import load_adult

    X, y = load_adult(return_X_y=True)
    return train_test_split(X, y, train_size=2000, test_size=1000, stratify=y, random_state=0)


def test_lilaw_on_adult_matches_fairlearn(adult):
    X_train, X_test, y_train, y_test = adult
    categorical = ["workclass", "education", "marital-status", "occupation", "relationship"]
    features = ColumnTransformer(
        [
            ("numeric", StandardScaler(), ["age", "education-num", "hours-per-week"]),
            ("categories", OneHotEncoder(handle_unknown="ignore"), categorical),
        ],
        sparse_threshold=0,
    )
    model = make_pipeline(features, LiLAWClassifier(max_epochs=3, random_state=0))
    model.fit(X_train, y_train, lilawclassifier__sensitive_features=X_train["sex"])
    # small intersections, e.g. of 'Other' race, may hold one label only
    groups = X_test[["sex", "race"]]
    report = fairness_report(model, X_test, y_test, sensitive_features=groups)
    assert report.pos_label == ">50K"
    y01 = (y_test == ">50K").to_numpy().astype(int)
    pred01 = (model.predict(X_test) == ">50K").astype(int)
    theirs = _fairlearn_frame(y01, pred01, groups)
    pd.testing.assert_frame_equal(report.by_group, theirs.by_group)
    assert report.equalized_odds_difference == equalized_odds_difference(
        y01, pred01, sensitive_features=groups
    )


# ------------------------------------------------------------ label quality by group
def test_label_quality_by_group_finds_the_group_whose_labels_were_flipped():
    """Breast-cancer labels of one random half of the rows flipped at 30%: that group's
    share of flagged labels and mean label_quality stand apart, intervals and all."""
    from sklearn.datasets import load_breast_cancer

    from sklilaw.fairness import label_quality_by_group
    from sklilaw.noise import symmetric_label_noise

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    group = np.random.RandomState(0).choice(["noisy", "clean"], len(y))
    y_noisy = y.copy()
    in_noisy = group == "noisy"
    y_noisy[in_noisy], flipped = symmetric_label_noise(y[in_noisy], 0.3, random_state=0)
    clf = LiLAWClassifier(max_epochs=30, random_state=0).fit(X, y_noisy)
    report = label_quality_by_group(clf, group, n_boot=100, random_state=0)
    table = report.by_group
    assert table.index.tolist() == ["overall", "clean", "noisy"]
    assert table.loc["overall", "rows"] == len(y)
    assert table.loc["noisy", "rows"] == in_noisy.sum()
    assert table.loc["noisy", "flagged share lower"] > table.loc["clean", "flagged share upper"]
    assert (
        table.loc["noisy", "mean label_quality upper"]
        < table.loc["clean", "mean label_quality lower"]
    )
    assert table.loc["noisy", "flagged share"] > 0.15 > table.loc["clean", "flagged share"]
    issues = clf.label_issues_
    expected = issues["is_label_issue"][in_noisy].mean()
    assert table.loc["noisy", "flagged share"] == pytest.approx(expected)
    # flagged rows by given -> predicted label, per group: they add up
    assert report.flagged.to_numpy().sum() == issues["is_label_issue"].sum()
    assert report.flagged.loc["noisy"].sum() == issues["is_label_issue"][in_noisy].sum()
    assert "flagged share" in report.to_markdown()
    matplotlib.use("Agg")
    assert len(report.plot().axes) == 2


def test_label_quality_by_group_refuses_what_is_not_a_fit():
    from sklilaw.fairness import label_quality_by_group

    with pytest.raises(TypeError, match="fitted LiLAWClassifier or its label_issues_"):
        label_quality_by_group(LogisticRegression(), ["a", "b"])


# ------------------------------------------------------------ fairlearn's mitigations
@pytest.fixture(scope="module")
def biased():
    """A group that shifts the positive rate, and a feature column that is the group."""
    rng = np.random.RandomState(0)
    group = rng.randint(0, 2, 400)
    X = np.c_[rng.normal(size=(400, 3)), group]
    y = (X[:, 0] + 0.8 * group + 0.3 * rng.normal(size=400) > 0.4).astype(int)
    return X, y, group


# fairlearn 0.15's reductions use pandas in ways that pandas 3 deprecates (.at on a
# missing key, a float Series set to bools); not sklilaw's to fix
FAIRLEARN_AT = "ignore::pandas.errors.Pandas4Warning"


def _parity_gap(y, predicted, group):
    return demographic_parity_difference(y, predicted, sensitive_features=group)


@pytest.mark.filterwarnings(FAIRLEARN_AT)
def test_exponentiated_gradient_wraps_lilaw_and_closes_the_parity_gap(biased):
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient

    X, y, group = biased
    clf = LiLAWClassifier(max_epochs=5, random_state=0)
    unmitigated = _parity_gap(y, clone(clf).fit(X, y).predict(X), group)
    mitigator = ExponentiatedGradient(clf, DemographicParity(), max_iter=5)
    mitigator.fit(X, y, sensitive_features=group)  # fits LiLAW with sample_weight
    mitigated = _parity_gap(y, mitigator.predict(X, random_state=0), group)
    assert unmitigated > 0.15 and mitigated < unmitigated / 3
    assert all(isinstance(p, LiLAWClassifier) for p in mitigator.predictors_)


@pytest.mark.filterwarnings(FAIRLEARN_AT)
def test_fairlearn_grid_search_and_threshold_optimizer_run_on_lilaw(biased):
    from fairlearn.postprocessing import ThresholdOptimizer
    from fairlearn.reductions import EqualizedOdds, GridSearch

    X, y, group = biased
    clf = LiLAWClassifier(max_epochs=5, random_state=0)
    search = GridSearch(clf, EqualizedOdds(), grid_size=5).fit(X, y, sensitive_features=group)
    assert len(search.predictors_) == 5
    assert len({tuple(p.predict_proba(X[:20]).ravel()) for p in search.predictors_}) > 1
    optimizer = ThresholdOptimizer(
        estimator=clf, constraints="demographic_parity", predict_method="predict_proba"
    ).fit(X, y, sensitive_features=group)
    thresholded = optimizer.predict(X, sensitive_features=group, random_state=0)
    assert _parity_gap(y, thresholded, group) < 0.05


def test_a_fairness_scorer_without_columns_takes_routed_groups(biased):
    X, y, group = biased
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    clf = LiLAWClassifier(max_epochs=3, random_state=0)
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        make_fairness_scorer()
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_fairness_scorer(weight=0.5)
        routed = cross_validate(
            clf.set_fit_request(sensitive_features=False),
            X,
            y,
            scoring=scorer,
            params={"sensitive_features": group},
            cv=cv,
        )["test_score"]
    expected = []
    for train, test in cv.split(X, y):
        predicted = clone(clf).fit(X[train], y[train]).predict(X[test])
        gap = demographic_parity_difference(y[test], predicted, sensitive_features=group[test])
        expected.append(balanced_accuracy_score(y[test], predicted) - 0.5 * gap)
    np.testing.assert_allclose(routed, expected)
