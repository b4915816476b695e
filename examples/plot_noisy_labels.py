"""
Noisy labels on the digits, and the label issues LiLAW finds
============================================================

Flip 40% of the training labels of the digits data to another class, train the same
network with and without LiLAW's re-weighting, and score both on clean test labels.
Then look at ``label_issues_``: which training labels the fit flags as likely wrong, how
many of them are the injected errors, how LiLAW weighted them, and what training once
more without them (``label_issues_refit='prune'``) gives.
"""

# %%
# Inject label noise
# ------------------
# :func:`sklilaw.noise.symmetric_label_noise` flips exactly 40% of the training labels,
# each to a different class drawn uniformly, and returns which ones it flipped. The test
# labels stay clean.
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklilaw import LiLAWClassifier
from sklilaw.noise import symmetric_label_noise
from sklilaw.plotting import plot_difficulty

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
y_noisy, flipped = symmetric_label_noise(y_train, 0.4, random_state=0)
print(f"{flipped.sum()} of {len(y_noisy)} training labels flipped")

# %%
# With and without re-weighting
# -----------------------------
# The unweighted twin is the same estimator with ``reweight=False``: every
# epoch is a warm-up epoch, trained on the plain mean loss without meta steps. Both
# models get the same network, initial weights and validation split (15% of the noisy
# training data, held out for the meta steps), and the same batches in the first
# epoch. Later batches are shuffled differently: LiLAW's meta batches draw their
# shuffles from the same seeded generator as the training batches.
EPOCHS = 50
lilaw = LiLAWClassifier(max_epochs=EPOCHS, random_state=0).fit(X_train, y_noisy)
unweighted = LiLAWClassifier(max_epochs=EPOCHS, reweight=False, random_state=0)
unweighted.fit(X_train, y_noisy)
for name, model in {"unweighted": unweighted, "LiLAW": lilaw}.items():
    print(f"{name:>10}: test accuracy {model.score(X_test, y_test):.3f}")
print(f"learned alpha={lilaw.alpha_:.3f}, beta={lilaw.beta_:.3f}, delta={lilaw.delta_:.3f}")

# %%
# This is one split and one seed. Over three seeds and several kinds and rates of
# label noise, the project's benchmark (``docs/noisy_labels.md``) finds LiLAW no
# better than plain training on the digits with this MLP.

# %%
# The label issues found
# ----------------------
# ``label_issues_`` has one row per training row. Rows the network trained on are
# judged by their class probabilities averaged over the epochs of training (recorded
# during the training passes, at no extra cost), rows of the validation split by the
# fitted model's out-of-sample probabilities; ``is_label_issue`` applies confident
# learning's per-class thresholds to them. Since the flips are known here, the flags
# can be checked: precision is the share of flagged labels that were flipped, recall
# the share of flipped labels that were flagged. The unweighted twin records the same
# columns, so both are shown.
print(lilaw.label_issues_.head().round(3).to_markdown())


def found(model):
    flagged = model.label_issues_["is_label_issue"].to_numpy()
    hits = (flagged & flipped).sum()
    return {
        "flagged": flagged.sum(),
        "flipped among them": hits,
        "precision": hits / flagged.sum(),
        "recall": hits / flipped.sum(),
    }


issues = pd.DataFrame({"unweighted": found(unweighted), "LiLAW": found(lilaw)}).T
print(issues.round(3).to_markdown())

# %%
# How LiLAW weights them
# ----------------------
# ``difficulty`` gives each training sample's weight under the fitted model, with its
# noisy label, and the category of the weight component that dominates it. The tables
# count the categories and describe the weights of the flipped and the clean labels.
# With the learned parameters, a sample gets a larger weight when the model gives its
# observed label a low probability than when it gives it a high one, and flipped
# labels get low probabilities: in this run they get larger weights than the clean
# ones, not smaller (the benchmark finds the same in every noisy setting). So the
# weights do tell the two apart, but the wrong way round against label noise: they
# give the flipped labels more influence on training, not less. What can take them
# out of training is the flags of ``label_issues_`` (see the refit below). The left
# panel splits every category by those flags, the right one by the truth (there,
# "flagged" marks the injected flips).
flagged = lilaw.label_issues_["is_label_issue"].to_numpy()
frame = lilaw.difficulty(X_train, y_noisy)
print(pd.crosstab(frame["difficulty"], flipped, colnames=["flipped"]).to_markdown())
print(
    frame.groupby(flipped)["lilaw_weight"].describe().rename_axis("flipped").round(3).to_markdown()
)
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4), sharey=True, constrained_layout=True)
plot_difficulty(frame, is_label_issue=flagged, ax=left)
left.set_title("split by label_issues_ flags")
plot_difficulty(frame, is_label_issue=flipped, ax=right)
right.set_title("split by the injected flips")

# %%
# Train again without the flagged labels
# --------------------------------------
# ``label_issues_refit='prune'`` fits twice: once on all the data to find the label
# issues, then from scratch on the training rows not flagged. The refit validates on
# the first fit's validation rows (never pruned), and its model is kept only if its
# log-loss there is at most as high (otherwise a warning says so); ``trainings_`` shows
# both. ``label_issues_`` keeps the first fit's verdict.
pruned = LiLAWClassifier(max_epochs=EPOCHS, label_issues_refit="prune", random_state=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    pruned.fit(X_train, y_noisy)
for warning in caught:
    print(warning.message)
print(pruned.trainings_.to_string(index=False))
trained = ~pruned.label_issues_["in_validation"].to_numpy()
kept = trained & ~pruned.label_issues_["is_label_issue"].to_numpy()
print(
    f"second fit on {kept.sum()} of {trained.sum()} training rows, of which "
    f"{(kept & flipped).sum()} still have a flipped label "
    f"({(kept & flipped).sum() / kept.sum():.1%}, down from {flipped.mean():.1%})"
)
print(f"LiLAW, pruned: test accuracy {pruned.score(X_test, y_test):.3f}")

# %%
# The three models' test accuracies side by side.
scores = {
    "unweighted": unweighted.score(X_test, y_test),
    "LiLAW": lilaw.score(X_test, y_test),
    "LiLAW, pruned": pruned.score(X_test, y_test),
}
fig, ax = plt.subplots(figsize=(5, 3), constrained_layout=True)
ax.bar(list(scores), list(scores.values()), color=["tab:gray", "tab:blue", "tab:green"])
ax.set_ylim(min(scores.values()) - 0.1, 1.0)
ax.set_ylabel("accuracy on clean test labels")
ax.set_title(f"digits, {flipped.mean():.0%} of training labels flipped")
for position, score in enumerate(scores.values()):
    ax.annotate(f"{score:.3f}", (position, score), ha="center", va="bottom")
