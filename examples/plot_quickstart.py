"""
Quickstart: LiLAW on the digits
===============================

Fit a :class:`sklilaw.LiLAWClassifier` in a scikit-learn pipeline, look at how LiLAW's
three meta parameters move during training, and at which training samples it finds
hard.
"""

# %%
# Fit in a pipeline
# -----------------
# ``LiLAWClassifier`` is a scikit-learn classifier: it goes into a ``Pipeline`` like
# any other. With ``module=None`` it trains an MLP sized from the data.
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklilaw import LiLAWClassifier
from sklilaw.plotting import plot_difficulty, plot_meta_params, plot_weight_landscape

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model = make_pipeline(StandardScaler(), LiLAWClassifier(max_epochs=40, random_state=0))
model.fit(X_train, y_train)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")

# %%
# The meta parameters over training
# ---------------------------------
# After every training mini-batch, alpha, beta and delta take one gradient step on a
# validation mini-batch; skorch's history keeps their value at the end of each epoch.
clf = model[-1]
plot_meta_params(clf)

# %%
# The weights they define
# -----------------------
# Each weight component over the probability of the observed label and the largest
# probability, at the learned values.
plot_weight_landscape(clf.alpha_, clf.beta_, clf.delta_)

# %%
# Per-sample difficulty
# ---------------------
# ``difficulty`` gives each sample's probabilities, its three weight components and the
# category of the dominant one.
frame = clf.difficulty(model[0].transform(X_train), y_train)
print(frame["difficulty"].value_counts())
print(frame.sort_values("label_quality").head())
plot_difficulty(frame)
