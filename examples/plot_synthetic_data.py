"""
Training on real and synthetic rows
===================================

A small real training set (10% of ``load_digits``' training part) and synthetic rows
from a generative model: a diagonal ``GaussianMixture`` per class, and a degraded copy
of it that draws 30% of each class's rows from another class's mixture (wrong labels
made by the generator). ``fit(..., synthetic=mask)`` keeps the validation split, and so
LiLAW's meta steps, on real rows; the history and ``label_issues_`` show how LiLAW
weighed each kind of row. Every model is scored on the real test part.
"""

# %%
# A small real training set, and two generators
# ---------------------------------------------
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from sklilaw import LiLAWClassifier

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, stratify=y, random_state=0)
X_real, _, y_real, _ = train_test_split(
    X_pool, y_pool, train_size=0.1, stratify=y_pool, random_state=0
)
# the validation rows stay out of the generators: held out first, passed as X_val
X_train, X_val, y_train, y_val = train_test_split(
    X_real, y_real, test_size=0.15, stratify=y_real, random_state=0
)
rng = np.random.RandomState(0)
mixtures = {
    label: GaussianMixture(2, covariance_type="diag", reg_covar=1e-3, random_state=0).fit(
        X_train[y_train == label]
    )
    for label in range(10)
}


def generate(off_class_share):
    """As many rows per class as real ones; a share of them drawn from another class."""
    rows, labels = [], []
    for label in range(10):
        n = int((y_train == label).sum())
        sources = np.where(rng.rand(n) < off_class_share, rng.randint(0, 10, n), label)
        for source in np.unique(sources):
            rows.append(mixtures[source].sample((sources == source).sum())[0])
            labels.append(np.full((sources == source).sum(), label))
    return np.concatenate(rows).astype(np.float32), np.concatenate(labels)


generators = {"mixture": generate(0.0), "degraded mixture": generate(0.3)}

# %%
# Three fits per generator
# ------------------------
# Real rows only; real and synthetic rows without re-weighting (the unweighted twin,
# ``reweight=False``); the same with LiLAW; and real rows plus the synthetic rows that the
# LiLAW fit's ``label_issues_`` do not flag. All validate on the same real rows.
EPOCHS = 60
results, histories = {}, {}
real_only = LiLAWClassifier(max_epochs=EPOCHS, reweight=False, random_state=0)
real_only.fit(X_train, y_train, X_val=X_val, y_val=y_val)
results["real only"] = {"accuracy": real_only.score(X_test, y_test)}
for name, (X_syn, y_syn) in generators.items():
    X_all, y_all = np.concatenate([X_train, X_syn]), np.concatenate([y_train, y_syn])
    mask = np.repeat([False, True], [len(y_train), len(y_syn)])
    for method, reweight in (("+ synthetic", False), ("+ synthetic, LiLAW", True)):
        clf = LiLAWClassifier(max_epochs=EPOCHS, reweight=reweight, random_state=0)
        clf.fit(X_all, y_all, X_val=X_val, y_val=y_val, synthetic=mask)
        issues = clf.label_issues_
        results[f"{name} {method}"] = {
            "accuracy": clf.score(X_test, y_test),
            "mean weight, real": clf.history[-1, "mean_weight_real"],
            "mean weight, synthetic": clf.history[-1, "mean_weight_synthetic"],
            "flagged, real": issues.loc[~issues["synthetic"], "is_label_issue"].mean(),
            "flagged, synthetic": issues.loc[issues["synthetic"], "is_label_issue"].mean(),
        }
        histories[f"{name} {method}"] = clf.history
    # keep the synthetic rows whose labels the LiLAW fit believes, drop the flagged ones
    believed = ~(issues["synthetic"] & issues["is_label_issue"]).to_numpy()
    kept = LiLAWClassifier(max_epochs=EPOCHS, reweight=False, random_state=0)
    kept.fit(X_all[believed], y_all[believed], X_val=X_val, y_val=y_val)
    results[f"{name} + unflagged synthetic"] = {"accuracy": kept.score(X_test, y_test)}
table = pd.DataFrame(results).T
print(f"{len(y_train)} real training rows, {len(y_val)} real validation rows")
print(table.to_markdown(floatfmt=".3f"))

# %%
# The weights of the two kinds of rows, epoch by epoch
# ----------------------------------------------------
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(6, 3.5))
for name in generators:
    history = histories[f"{name} + synthetic, LiLAW"]
    for origin, style in (("real", "-"), ("synthetic", "--")):
        ax.plot(history[:, f"mean_weight_{origin}"], style, label=f"{name}: {origin} rows")
ax.set_xlabel("epoch")
ax.set_ylabel("mean LiLAW weight")
ax.legend()
fig.tight_layout()

# %%
# What it shows
# -------------
# Here the synthetic rows earn little: every model with them is within 0.015 of the
# real-only model's test accuracy, and LiLAW is within 0.01 of training on the same rows
# without re-weighting. LiLAW does not weigh the degraded generator's rows down: their
# mean weight stays within 0.05 of the real rows' (the weights favour hard rows here,
# and off-class rows are hard). What does tell the two generators apart is
# ``label_issues_``: it flags more than ten times as large a share of the degraded
# generator's rows as of the real rows, and none of the good generator's rows. Dropping
# the flagged rows does not raise the accuracy either. So read the weights and the
# flags to judge a generator, and keep synthetic rows only where a real validation or
# test score says they help; ``benchmarks/synthetic_data.py`` measures that over data
# sets, sizes and generators.
degraded = table.loc["degraded mixture + synthetic, LiLAW"]
print(
    f"degraded generator: {degraded['flagged, synthetic']:.1%} of its rows flagged, "
    f"{degraded['flagged, real']:.1%} of the real rows"
)
