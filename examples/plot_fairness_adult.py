"""
Fairness audit on UCI Adult
===========================

Train a :class:`sklilaw.LiLAWClassifier` and the same network without re-weighting on
census data, with the sensitive column ``sex`` left out of the features, and audit
both with :mod:`sklilaw.fairness`: metrics by group, disparities, bootstrap intervals,
intersections, a plot, and a grid search that scores models by balanced accuracy minus
their demographic-parity difference. Every number is computed by fairlearn.

The data is read from ``$SKLILAW_DATA/adult/`` (the UCI files), else downloaded from
OpenML. To keep this example quick it uses 5,000 rows for training and 3,000 for
testing; ``sklilaw fairness`` and ``benchmarks/fairness_adult.py`` audit the full data
over several seeds.
"""

# %%
# Load the data
# -------------
# ``load_adult`` returns OpenML 1590's columns, categorical ones as ``category`` dtype
# and missing values as NaN; the target is ``'<=50K'`` or ``'>50K'``.
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklilaw import LiLAWClassifier
from sklilaw.datasets import load_adult
from sklilaw.fairness import compare_fairness, fairness_report, make_fairness_scorer

X, y = load_adult(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=5000, test_size=3000, stratify=y, random_state=0
)
print(y_train.value_counts(normalize=True).round(3).to_dict())

# %%
# Pipelines that never see the sensitive columns
# ----------------------------------------------
# The ``ColumnTransformer`` selects the features; ``sex`` and ``race`` stay in the
# DataFrame for the audit but are not among them. ``sensitive_features`` in ``fit``
# only stratifies LiLAW's internal validation split (the meta batches) by label x sex.
numeric = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
categorical = ["workclass", "education", "marital-status", "occupation", "relationship"]
features = ColumnTransformer(
    [
        ("numeric", StandardScaler(), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
    ],
    sparse_threshold=0,  # LiLAWClassifier takes dense arrays
)
EPOCHS = 10


def pipeline(reweight):
    return make_pipeline(
        features,
        LiLAWClassifier(max_epochs=EPOCHS, reweight=reweight, random_state=0),
    )


lilaw = pipeline(reweight=True)
lilaw.fit(X_train, y_train, lilawclassifier__sensitive_features=X_train["sex"])
unweighted = pipeline(reweight=False)  # the same network and data, no re-weighting
unweighted.fit(X_train, y_train)

# %%
# Audit one model
# ---------------
# The positive label is the estimator's ``classes_[-1]``, here ``'>50K'``: the
# selection rate is the share of people predicted to earn more than 50K. With
# ``n_boot``, fairlearn's ``MetricFrame`` resamples the test rows for 95% intervals.
report = fairness_report(lilaw, X_test, y_test, sensitive_features="sex", n_boot=20, random_state=0)
print(report.to_markdown())

# %%
# The same numbers as a plot: one bar per group, the overall value dashed.
fig = report.plot(metrics=["accuracy", "selection_rate", "true_positive_rate"])

# %%
# Compare models side by side
# ---------------------------
# A disparity can only be read together with the selection rates: a model that
# selects fewer people overall also has a smaller demographic-parity difference. One
# seed on a subsample says little about which model is fairer: on the full data over
# five seeds (``docs/fairness.md``), LiLAW selects more people than unweighted
# training, and its demographic-parity difference by sex is larger accordingly.
table = compare_fairness(
    {"unweighted twin": unweighted, "LiLAW": lilaw},
    X_test,
    y_test,
    sensitive_features="sex",
)
rows = ["selection_rate", "true_positive_rate", "accuracy"]
print(table.loc[rows].round(3).reset_index().to_markdown(index=False))
print(table.xs("across groups", level="group").round(3).to_markdown())

# %%
# Intersections
# -------------
# Several sensitive columns give one group per combination of their values.
intersections = fairness_report(lilaw, X_test, y_test, sensitive_features=["sex", "race"])
print(intersections.by_group[["selection_rate", "true_positive_rate", "count"]].round(3))

# %%
# A fairness-aware grid search
# ----------------------------
# ``make_fairness_scorer("sex")`` scores a model by its balanced accuracy minus its
# demographic-parity difference on each test fold. It reads the groups from the
# ``sex`` column of the fold's ``X``, so it works with any cross-validation splitter
# and with worker processes (``n_jobs=2``). Here the search chooses between LiLAW and
# no re-weighting (``reweight=False``).
search = GridSearchCV(
    pipeline(reweight=True),
    {"lilawclassifier__reweight": [True, False]},
    scoring={"fair": make_fairness_scorer("sex"), "balanced_accuracy": "balanced_accuracy"},
    refit="fair",
    cv=2,
    n_jobs=2,
)
search.fit(X_train, y_train, lilawclassifier__sensitive_features=X_train["sex"])
columns = ["param_lilawclassifier__reweight", "mean_test_fair", "mean_test_balanced_accuracy"]
print(pd.DataFrame(search.cv_results_)[columns].round(3).to_markdown(index=False))
print(
    f"fairness-aware score of the chosen model on the test set: {search.score(X_test, y_test):.3f}"
)
