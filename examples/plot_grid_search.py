"""
Pipelines and grid search
=========================

:class:`sklilaw.LiLAWClassifier` is a scikit-learn estimator, so it can be tuned like
any other: put it after a ``StandardScaler`` in a ``Pipeline`` and let ``GridSearchCV``
cross-validate LiLAW's meta learning rate together with the network's width and the
model's learning rate. To keep the example quick the grid is small, the networks train
for 15 epochs, and the search uses 3 folds of the digits data.
"""

# %%
# The pipeline
# ------------
# Parameters of a pipeline step are addressed as ``<step name>__<parameter>``;
# ``make_pipeline`` names the steps after their classes in lower case.
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklilaw import LiLAWClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
pipeline = make_pipeline(StandardScaler(), LiLAWClassifier(max_epochs=15, random_state=0))
print(list(pipeline.named_steps))

# %%
# The search
# ----------
# Eight candidates, each fitted on three folds, then the best one is refitted on the
# whole training set. ``meta_lr`` is the step size of the meta updates of alpha, beta
# and delta; ``lr`` that of the network's Adam optimizer. Each fit carves its own
# validation split for the meta steps out of the fold's training part, so the
# cross-validation scores are measured on rows that the meta steps never saw.
grid = {
    "lilawclassifier__meta_lr": [0.01, 0.1],
    "lilawclassifier__hidden_layer_sizes": [(32,), (128,)],
    "lilawclassifier__lr": [1e-3, 1e-2],
}
search = GridSearchCV(pipeline, grid, cv=3)
start = time.perf_counter()
search.fit(X_train, y_train)
print(
    f"{len(search.cv_results_['params'])} candidates x 3 folds in "
    f"{time.perf_counter() - start:.1f} s"
)

# %%
# The cross-validation results
# ----------------------------
# ``cv_results_`` has one row per candidate: its parameters, its mean and standard
# deviation of accuracy over the folds, and its rank.
results = pd.DataFrame(search.cv_results_)
columns = {
    "param_lilawclassifier__meta_lr": "meta_lr",
    "param_lilawclassifier__hidden_layer_sizes": "hidden_layer_sizes",
    "param_lilawclassifier__lr": "lr",
    "mean_test_score": "mean accuracy",
    "std_test_score": "std",
    "mean_fit_time": "fit seconds",
    "rank_test_score": "rank",
}
table = results[list(columns)].rename(columns=columns).sort_values("rank")
print(table.round(3).to_markdown(index=False))

# %%
# The best candidate, refitted on the whole training set, scored on the held-out test
# set:
print("best parameters:", search.best_params_)
print(f"best mean cross-validation accuracy: {search.best_score_:.3f}")
print(f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.3f}")
best = search.best_estimator_[-1]
print(f"its learned alpha={best.alpha_:.3f}, beta={best.beta_:.3f}, delta={best.delta_:.3f}")

# %%
# Which parameters matter
# -----------------------
# The same scores with the candidates that differ only in ``meta_lr`` side by side:
# the difference between the two columns is what the meta step size changes, the
# differences between rows what the network's width and learning rate change.
by_meta_lr = table.pivot_table(
    index=["hidden_layer_sizes", "lr"], columns="meta_lr", values="mean accuracy"
)
print(by_meta_lr.add_prefix("meta_lr=").reset_index().round(3).to_markdown(index=False))

# %%
# One bar per candidate, with its spread over the folds, the best on top.
labels = [
    f"meta_lr={row['meta_lr']}, {row['hidden_layer_sizes']}, lr={row['lr']}"
    for _, row in table.iterrows()
]
fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
positions = np.arange(len(table))
ax.barh(positions, table["mean accuracy"], xerr=table["std"], color="tab:blue")
ax.set_yticks(positions, labels)
ax.invert_yaxis()  # the best candidate on top
ax.set_xlim(table["mean accuracy"].min() - 0.05, 1.0)
ax.set_xlabel("mean cross-validation accuracy (3 folds)")
ax.set_title("GridSearchCV over a LiLAW pipeline")
