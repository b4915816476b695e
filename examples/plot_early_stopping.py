"""
Early stopping, and a clean validation set
==========================================

With ``early_stopping=True``, :class:`sklilaw.LiLAWClassifier` stops training when the
loss on its validation data has not improved for ``n_iter_no_change`` epochs and
restores the network of the best epoch. That validation data also feeds LiLAW's meta
steps. By default it is carved out of the training data, so with noisy labels it is
noisy too; ``fit(X, y, X_val=..., y_val=...)`` replaces it with a validation set of
your own, for instance a small set of labels that were checked by hand. This example
trains on the digits with 40% of the training labels flipped and compares the two.
"""

# %%
# Noisy training labels and a small clean set
# -------------------------------------------
# A quarter of the data is the test set. Of the rest, 15% plays the part of a set
# whose labels were checked (kept clean); the other 85% get 40% symmetric label noise.
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklilaw import LiLAWClassifier
from sklilaw.noise import symmetric_label_noise

X, y = load_digits(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, stratify=y, random_state=0)
X_train, X_clean, y_train, y_clean = train_test_split(
    X_rest, y_rest, test_size=0.15, stratify=y_rest, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_clean, X_test = (scaler.transform(part) for part in (X_train, X_clean, X_test))
y_noisy, flipped = symmetric_label_noise(y_train, 0.4, random_state=0)
print(
    f"{len(y_noisy)} noisy training labels ({flipped.sum()} flipped), "
    f"{len(y_clean)} clean validation labels, {len(y_test)} test labels"
)

# %%
# Three fits
# ----------
# All three allow up to ``MAX_EPOCHS`` epochs. The first trains for all of them
# (``early_stopping=False``: the paper's fixed number of epochs). The
# other two stop after ``n_iter_no_change=10`` epochs without a decrease of the
# validation loss by more than ``tol``: one on the validation split carved out of the
# noisy training data (15% of it, with noisy labels), one on the clean set given as
# ``X_val, y_val``, which then also serves the meta steps, and leaves all the noisy
# rows for training.
MAX_EPOCHS = 100
params = dict(max_epochs=MAX_EPOCHS, random_state=0)
stopping = dict(early_stopping=True, n_iter_no_change=10)
fits = {
    "no early stopping": LiLAWClassifier(**params, early_stopping=False).fit(X_train, y_noisy),
    "early stopping, carved noisy split": LiLAWClassifier(**params, **stopping).fit(
        X_train, y_noisy
    ),
    "early stopping, clean X_val": LiLAWClassifier(**params, **stopping).fit(
        X_train, y_noisy, X_val=X_clean, y_val=y_clean
    ),
}

# %%
# What each fit did
# -----------------
# The history has one row per epoch that ran; ``valid_loss_best`` marks the epochs
# that improved on the best validation loss so far (by any amount), so the last
# marked epoch is the best one. Early stopping restored the network of the best
# epoch by ``tol``, which is the same or an earlier one; the first fit keeps the
# network of its last epoch. The test labels are clean.
rows = {}
for name, model in fits.items():
    history = model.history
    best_epochs = [row["epoch"] for row in history if row["valid_loss_best"]]
    rows[name] = {
        "epochs run": len(history),
        "best epoch": best_epochs[-1],
        "best valid_loss": min(history[:, "valid_loss"]),
        "test accuracy": model.score(X_test, y_test),
        "alpha": model.alpha_,
        "beta": model.beta_,
        "delta": model.delta_,
    }
print(pd.DataFrame(rows).T.round(3).to_markdown())

# %%
# The loss curves
# ---------------
# ``train_loss`` is the LiLAW-weighted training loss (each sample's loss times its
# weight, in (0, 3)); ``valid_loss`` is the plain mean loss on the validation data, so
# the two are not on the same scale. The carved split's ``valid_loss`` is measured
# against noisy labels and the clean set's against clean ones, so they cannot be
# compared with each other either: each only says when its own fit stopped improving.
# The dotted line marks the best epoch.
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8), sharex=True, constrained_layout=True)
for ax, (name, model), row in zip(axes, fits.items(), rows.values(), strict=True):
    epochs = model.history[:, "epoch"]
    ax.plot(epochs, model.history[:, "train_loss"], label="train_loss (weighted)")
    ax.plot(epochs, model.history[:, "valid_loss"], label="valid_loss")
    ax.axvline(row["best epoch"], color="gray", linestyle=":")
    ax.set_title(name)
    ax.set_xlabel("epoch")
axes[0].set_ylabel("loss")
axes[0].legend()
