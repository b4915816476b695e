"""
Mitigating disparity with fairlearn, on LiLAW and on plain skorch
=================================================================

An audit finds a disparity; fairlearn's mitigations are how users reduce it. Its
reductions (:class:`~fairlearn.reductions.ExponentiatedGradient`) refit the classifier
with sample weights, and its post-processing
(:class:`~fairlearn.postprocessing.ThresholdOptimizer`) moves the decision threshold of
``predict_proba`` per group. :class:`sklilaw.LiLAWClassifier` takes both: its ``fit``
has a ``sample_weight`` (which multiplies each sample's LiLAW weight), and its
``predict_proba`` returns float64. skorch's ``NeuralNetClassifier`` hits a wall at each:
fairlearn's reductions cannot wrap it, and with fairlearn 0.15 and pandas 3 the
post-processing fails on the float32 probabilities it returns; both errors are printed
below.

UCI Adult (4,000 training and 3,000 test rows, read from ``$SKLILAW_DATA/adult/`` or
downloaded from OpenML), the demographic-parity constraint for ``sex``, which is left
out of the features. Every number is computed by fairlearn, with its bootstrap.
"""

# %%
# The data, without the sensitive column among the features
# ---------------------------------------------------------
import time

import numpy as np
import pandas as pd
import torch
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)
from fairlearn.postprocessing import ThresholdOptimizer
from fairlearn.reductions import DemographicParity, ExponentiatedGradient
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.dataset import ValidSplit

from sklilaw import MLP, LiLAWClassifier
from sklilaw.baselines import plain_skorch
from sklilaw.datasets import load_adult

X, y = load_adult(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=4000, test_size=3000, stratify=y, random_state=0
)
numeric = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
categorical = ["workclass", "education", "marital-status", "occupation", "relationship"]
features = ColumnTransformer(
    [
        ("numeric", StandardScaler(), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
    ],
    sparse_threshold=0,
).fit(X_train)
A_train, A_test = features.transform(X_train), features.transform(X_test)
A_train, A_test = A_train.astype(np.float32), A_test.astype(np.float32)
t_train = (y_train == ">50K").to_numpy(dtype=np.int64)  # 1 for the positive label
t_test = (y_test == ">50K").to_numpy(dtype=np.int64)
sex_train, sex_test = X_train["sex"].to_numpy(), X_test["sex"].to_numpy()
EPOCHS = 10

# %%
# Four models
# -----------
# LiLAW and plain skorch, the same MLP, 10 epochs. ``ExponentiatedGradient`` refits
# LiLAW up to about twice per iteration (here at most 10 iterations), so a mitigated
# fit costs up to about 20 fits;
# ``ThresholdOptimizer`` post-processes an already fitted model (``prefit=True``).
fit_seconds = {}


def timed(name, fit):
    start = time.perf_counter()
    model = fit()
    fit_seconds[name] = time.perf_counter() - start
    return model


lilaw = timed(
    "LiLAW",
    lambda: LiLAWClassifier(max_epochs=EPOCHS, random_state=0).fit(A_train, t_train),
)


def plain():
    torch.manual_seed(0)
    net = plain_skorch(
        MLP(A_train.shape[1], 2),
        max_epochs=EPOCHS,
        train_split=ValidSplit(0.15, stratified=True, random_state=0),
    )
    return net.fit(A_train, t_train)


skorch_net = timed("plain skorch", plain)
reduction = timed(
    "LiLAW + ExponentiatedGradient",
    lambda: ExponentiatedGradient(
        LiLAWClassifier(max_epochs=EPOCHS, random_state=0), DemographicParity(), max_iter=10
    ).fit(A_train, t_train, sensitive_features=sex_train),
)


def post_processed(model):
    optimizer = ThresholdOptimizer(
        estimator=model,
        constraints="demographic_parity",
        predict_method="predict_proba",
        prefit=True,
    )
    return optimizer.fit(A_train, t_train, sensitive_features=sex_train)


lilaw_thresholds = timed("LiLAW + ThresholdOptimizer", lambda: post_processed(lilaw))

# skorch hands the sample_weight fit parameter on (here to its validation split)
try:
    ExponentiatedGradient(skorch_net, DemographicParity(), max_iter=2).fit(
        A_train, t_train, sensitive_features=sex_train
    )
except TypeError as error:
    print(f"ExponentiatedGradient on plain skorch: TypeError: {error}")
try:
    post_processed(skorch_net).predict(A_test, sensitive_features=sex_test, random_state=0)
except TypeError as error:
    print(f"ThresholdOptimizer on plain skorch: TypeError: {str(error)[:60]}...")

# %%
# The audit, by fairlearn, with bootstrap intervals
# -------------------------------------------------
predictions = {
    "plain skorch": skorch_net.predict(A_test),
    "LiLAW": lilaw.predict(A_test),
    "LiLAW + ExponentiatedGradient": reduction.predict(A_test, random_state=0),
    "LiLAW + ThresholdOptimizer": lilaw_thresholds.predict(
        A_test, sensitive_features=sex_test, random_state=0
    ),
}
rows = {}
for name, predicted in predictions.items():
    frame = MetricFrame(
        metrics={"accuracy": accuracy_score, "selection_rate": selection_rate},
        y_true=t_test,
        y_pred=predicted,
        sensitive_features=sex_test,
        n_boot=100,
        ci_quantiles=[0.025, 0.975],
        random_state=0,
    )
    low, high = (
        frame.difference_ci()[0]["selection_rate"],
        frame.difference_ci()[1]["selection_rate"],
    )
    rows[name] = {
        "accuracy": accuracy_score(t_test, predicted),
        "balanced accuracy": balanced_accuracy_score(t_test, predicted),
        "DP difference": demographic_parity_difference(
            t_test, predicted, sensitive_features=sex_test
        ),
        "DP difference, 95% interval": f"{low:.3f} to {high:.3f}",
        "EO difference": equalized_odds_difference(t_test, predicted, sensitive_features=sex_test),
        "worst-group accuracy": frame.group_min()["accuracy"],
        "fit s": fit_seconds[name],
    }
table = pd.DataFrame(rows).T
print(table.to_markdown(floatfmt=".3f"))

# %%
# What it shows
# -------------
# Both mitigations shrink LiLAW's demographic-parity difference, and the bootstrap
# intervals of the mitigated models lie below the unmitigated one's. They pay for it
# in accuracy and balanced accuracy, and the equalized-odds difference, another
# criterion than the one constrained, grows. The reduction costs several LiLAW fits;
# the post-processing's fit time is that of the thresholds alone, on top of the fitted
# model's.
dp = table["DP difference"].astype(float)
print(
    f"DP difference: LiLAW {dp['LiLAW']:.3f}, with ExponentiatedGradient "
    f"{dp['LiLAW + ExponentiatedGradient']:.3f}, with ThresholdOptimizer "
    f"{dp['LiLAW + ThresholdOptimizer']:.3f}; plain skorch {dp['plain skorch']:.3f}"
)
ax = dp.plot.barh(figsize=(6, 3))
ax.set_xlabel("demographic-parity difference by sex (test part)")
ax.figure.tight_layout()
