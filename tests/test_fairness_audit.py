"""``sklilaw.fairness.audit``: the audit of a user's table, its report and its checks."""

import re
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from sklilaw import tabular_preprocessor
from sklilaw.fairness import audit, label_quality_by_group

matplotlib.use("Agg")

N = 400


@pytest.fixture(scope="module")
def table():
    """Numbers, a category with missing values, a group column, string labels."""
    rng = np.random.default_rng(0)
    group = rng.choice(["a", "b", "c"], size=N, p=[0.5, 0.3, 0.2])
    income = rng.normal(size=N) + (group == "a")
    city = rng.choice(["north", "south", None], size=N)
    score = income + 0.5 * (city == "north") + rng.normal(scale=0.7, size=N)
    return pd.DataFrame(
        {
            "income": income,
            "age": rng.integers(20, 70, size=N).astype(float),
            "city": city,
            "group": group,
            "label": np.where(score > 0.3, "yes", "no"),
        }
    )


QUICK = {"logistic": LogisticRegression(), "tree": DecisionTreeClassifier(max_depth=3)}


def _audit(table, **kwargs):
    kwargs = {"sensitive_features": "group", "models": QUICK, "n_boot": 30, **kwargs}
    return audit(table, "label", **kwargs)


def test_audit_scores_every_model_by_group_and_mitigates_the_most_accurate(table):
    result = _audit(table)
    accuracy = result.summary["accuracy"]
    assert result.best_model == accuracy[list(QUICK)].idxmax()
    mitigations = [f"{result.best_model} + ThresholdOptimizer({c})"
                   for c in ("demographic_parity", "equalized_odds")]  # fmt: skip
    assert list(result.reports) == [*QUICK, *mitigations]
    assert list(result.summary.index) == list(result.reports)
    assert result.pos_label == "yes" and result.sensitive == ["group"]
    assert result.n_rows == 100 and "held-out 25% (100 rows)" in result.evaluation
    report = result.reports["logistic"]
    assert report.by_group["count"].sum() == 100
    assert list(report.by_group.index) == ["a", "b", "c"]
    # the summary's numbers are the reports'
    for name, row in result.summary.iterrows():
        assert row["accuracy"] == result.reports[name].overall["accuracy"]
        assert row["demographic_parity_difference"] == pytest.approx(
            result.reports[name].demographic_parity_difference
        )
    # the demographic-parity mitigation narrows the gap in selection rates
    dp = result.summary["demographic_parity_difference"]
    assert dp[mitigations[0]] < dp[result.best_model]
    assert result.label_quality is None  # no LiLAW model, no label issues


def test_cross_validation_scores_every_row_once_and_test_data_its_rows(table):
    result = _audit(table, cv=3, mitigate=False)
    assert result.n_rows == N and "3-fold cross-validation" in result.evaluation
    assert result.reports["tree"].by_group["count"].sum() == N
    train, test = table.iloc[:300], table.iloc[300:]
    held = _audit(train, test_data=(test, "label"), mitigate=False)
    assert held.n_rows == 100 and held.evaluation == "scored on 100 test rows"
    features = ["income", "age", "city"]
    manual = make_pipeline(tabular_preprocessor(), LogisticRegression())
    manual.fit(train[features], train["label"])
    accuracy = np.mean(manual.predict(test[features]) == test["label"])
    assert held.summary.loc["logistic", "accuracy"] == accuracy
    with pytest.raises(ValueError, match="Give cv or test_data, not both"):
        _audit(train, test_data=(test, "label"), cv=3)


def test_groups_with_few_scored_outcomes_are_named(table, tmp_path):
    train, test = table.iloc[:300], table.iloc[300:]
    result = _audit(train, test_data=(test, "label"), mitigate=False)
    outcomes = pd.crosstab(test["group"], test["label"])
    expected = outcomes[outcomes.min(axis=1) < 10]
    assert len(expected)  # the fixture's test rows have such a group
    assert result.few_outcomes.index.tolist() == expected.index.tolist()
    assert result.few_outcomes["positives"].tolist() == expected["yes"].tolist()
    assert result.few_outcomes["negatives"].tolist() == expected["no"].tolist()
    assert "fewer than 10 scored rows of a label" in result.to_markdown()
    result.to_html(tmp_path / "audit.html")
    assert "Few outcomes:" in (tmp_path / "audit.html").read_text(encoding="utf-8")


def test_the_same_random_state_gives_the_same_audit(table):
    first, second = _audit(table, random_state=3), _audit(table, random_state=3)
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame())
    other = _audit(table, random_state=4)
    assert not first.to_frame().equals(other.to_frame())


def test_default_models_and_the_label_quality_of_the_training_rows(table):
    result = audit(table, "label", sensitive_features=["group"], n_boot=20, mitigate=False)
    assert list(result.reports) == [
        "plain skorch",
        "LiLAWClassifier()",
        "LiLAWClassifier(noise_handling='auto')",
    ]
    assert (result.summary["accuracy"] > 0.7).all()
    quality = result.label_quality.by_group
    assert quality.loc["overall", "rows"] == 300  # the training rows of the split
    assert list(quality.index) == ["overall", "a", "b", "c"]
    assert {"flagged share lower", "mean label_quality upper"} <= set(quality.columns)


class _Refuses(ClassifierMixin, BaseEstimator):
    """Fails the test if an audit trains it."""

    def fit(self, X, y):
        raise AssertionError("trained although the input was bad")


@pytest.mark.parametrize(
    "change, kwargs, message",
    [
        (None, dict(y="outcome"), "The target column 'outcome' is not in X"),
        (lambda t: t.assign(label="yes"), {}, "for two classes; the target has 1: \\['yes'\\]"),
        (lambda t: t.assign(label=np.arange(N) % 3), {}, "for two classes; the target has 3"),
        (
            lambda t: t.assign(group=np.where(np.arange(N) < 5, "tiny", t["group"])),
            {},
            r"Too few rows to score the group\(s\) 'tiny' \(5 rows\) of \['group'\]",
        ),
        (
            lambda t: t.assign(group=t["group"].where(np.arange(N) > 0)),
            {},
            "The sensitive feature 'group' has missing values",
        ),
        (None, dict(sensitive_features="region"), "unknown columns \\['region'\\]"),
        (None, dict(test_data=[1, 2]), "test_data must be a tuple \\(X_test, y_test\\)"),
        (None, dict(cv=1), "cv must be an int of at least 2"),
        (None, dict(pos_label="maybe"), "pos_label='maybe' is not one of the classes"),
        (lambda t: t.assign(label=t["label"].where(np.arange(N) > 2)), {}, "3 missing labels"),
        (None, dict(n_boot=0), "n_boot must be a positive int or None"),
        (None, dict(confidence_level=95), r"confidence_level must be in \(0, 1\)"),
        (None, dict(test_size=1.5), r"test_size must be in \(0, 1\)"),
    ],
)
def test_bad_input_is_named_before_any_training(table, change, kwargs, message):
    data = table if change is None else change(table)
    kwargs = {"y": "label", "sensitive_features": "group", "models": {"m": _Refuses()}, **kwargs}
    with pytest.raises(ValueError, match=message):
        audit(data, kwargs.pop("y"), **kwargs)


def test_models_must_be_classifiers():
    X = pd.DataFrame({"x": range(40), "g": ["a", "b"] * 20})
    with pytest.raises(TypeError, match="models\\['scaler'\\] is a StandardScaler"):
        audit(X, np.arange(40) % 2, sensitive_features="g", models={"scaler": StandardScaler()})


class _WellFormed(HTMLParser):
    """Checks that every opened element is closed in order; collects sources and links."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.sources, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        self.sources += [attrs[key] for key in ("src", "href") if key in attrs]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"</{tag}> closes nothing open"


def test_the_html_report_is_well_formed_self_contained_and_complete(table, tmp_path):
    result = _audit(table, models={"logistic": LogisticRegression()})
    result.label_quality = label_quality_by_group(
        pd.DataFrame(
            {
                "is_label_issue": np.arange(300) % 7 == 0,
                "label_quality": np.linspace(0, 1, 300),
                "given_label": 1,
                "predicted_label": 0,
            }
        ),
        table["group"].iloc[:300].to_numpy(),
    )
    path = tmp_path / "audit.html"
    result.to_html(path)
    page = path.read_text(encoding="utf-8")
    parser = _WellFormed()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"(https?:)?//\w", text)  # no external resource
    assert parser.sources and all(s.startswith("data:image/png;base64,") for s in parser.sources)
    # the summary, the groups with few outcomes (when any), per model its metrics and its
    # disparities, the label quality
    few = 1 if len(result.few_outcomes) else 0
    assert parser.tags.count("table") == 1 + few + 2 * len(result.reports) + 1
    assert parser.tags.count("img") == 3  # trade-off, by group, label quality
    for name in result.reports:
        assert name in page
    assert "Fairness audit by group" in page
    markdown = result.to_markdown()
    assert all(f"## {name}" in markdown for name in result.reports)


def test_label_quality_intervals_are_fairlearns():
    rng = np.random.default_rng(1)
    issues = pd.DataFrame(
        {
            "is_label_issue": rng.random(500) < 0.1,
            "label_quality": rng.random(500),
            "given_label": 1,
            "predicted_label": 0,
        }
    )
    groups = rng.choice(["u", "v"], size=500)
    ours = label_quality_by_group(issues, groups, n_boot=25, random_state=7).by_group
    theirs = MetricFrame(
        metrics={
            "flagged share": lambda quality, flagged: float(np.mean(flagged)),
            "mean label_quality": lambda quality, flagged: float(np.mean(quality)),
        },
        y_true=issues["label_quality"].to_numpy(),
        y_pred=issues["is_label_issue"].to_numpy().astype(int),
        sensitive_features=pd.Series(groups, name="sensitive_feature_0"),
        n_boot=25,
        ci_quantiles=[0.025, 0.975],
        random_state=7,
    )
    lower, upper = theirs.by_group_ci
    for name in ("flagged share", "mean label_quality"):
        assert ours.loc["u", f"{name} lower"] == pytest.approx(lower.loc["u", name], abs=1e-12)
        assert ours.loc["v", f"{name} upper"] == pytest.approx(upper.loc["v", name], abs=1e-12)
        assert ours.loc["overall", f"{name} upper"] == pytest.approx(
            theirs.overall_ci[1][name], abs=1e-12
        )
