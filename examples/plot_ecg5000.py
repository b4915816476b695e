"""
ECG5000 heartbeats with a 1-D CNN and augmentations
===================================================

Classify heartbeats of the UCR archive's ECG5000 data set (the 500 beats of its
training part, 140 samples each) with a small 1-D convolutional network that augments
its input during training, once with LiLAW's re-weighting and once without.

The data is read from ``$SKLILAW_DATA/ecg5000/ECG5000_TRAIN.txt``; there is no online
fallback, so :func:`sklilaw.datasets.load_ecg5000` raises ``FileNotFoundError`` without
it.
"""

# %%
# The data
# --------
# Five classes, very imbalanced. A class with fewer than ``MIN_BEATS`` beats is
# dropped: a stratified test split and the classifier's stratified validation split
# each need beats of every class, and a class of one or two beats cannot be tested
# in any meaningful way. The printout shows which classes that removes.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split
from torch import nn

from sklilaw import LiLAWClassifier
from sklilaw.datasets import load_ecg5000

MIN_BEATS = 5
X, y = load_ecg5000(return_X_y=True)
classes, counts = np.unique(y, return_counts=True)
print("beats per class:", dict(zip(classes.tolist(), counts.tolist(), strict=True)))
kept = classes[counts >= MIN_BEATS]
print(f"dropped classes with fewer than {MIN_BEATS} beats:", classes[counts < MIN_BEATS].tolist())
X, y = X[np.isin(y, kept)], y[np.isin(y, kept)]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
print("test beats per class:", pd.Series(y_test).value_counts().sort_index().to_dict())


# %%
# A 1-D CNN that augments its own input
# -------------------------------------
# Two simple time-series augmentations, drawn afresh for every beat of every training
# batch: *scaling* multiplies the whole beat by a random factor around 1, *jitter*
# adds Gaussian noise to every sample. They run only when the module is in training
# mode (``self.training``). ``LiLAWClassifier`` switches the module to evaluation mode
# for its meta step (the forward pass on a validation batch that updates alpha, beta
# and delta), for the per-epoch validation loss and for prediction, so all of these
# see the clean beats; only the training batches are augmented.
class ECGNet(nn.Module):
    def __init__(self, n_classes, length=140, channels=16, jitter=0.05, scaling=0.1):
        super().__init__()
        self.jitter = jitter
        self.scaling = scaling
        self.features = nn.Sequential(
            nn.Conv1d(1, channels, kernel_size=7, padding=3),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(channels, 2 * channels, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool1d(2),
        )
        self.classifier = nn.Linear(2 * channels * (length // 4), n_classes)

    def augment(self, x):
        factor = 1 + self.scaling * torch.randn(len(x), 1, device=x.device)
        return x * factor + self.jitter * torch.randn_like(x)

    def forward(self, x):
        if self.training:
            x = self.augment(x)
        return self.classifier(self.features(x.unsqueeze(1)).flatten(start_dim=1))


# %%
# One beat of each class, and what the augmentations make of the first one (drawn
# with the module's own ``augment``).
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.5), constrained_layout=True)
for label in kept:
    left.plot(X_train[y_train == label][0], label=f"class {label}")
left.set_title("one training beat per class")
left.legend()
beat = torch.tensor(X_train[:1], dtype=torch.float32)
right.plot(beat[0], color="black", linewidth=2.5, label="clean")
torch.manual_seed(0)
for copy in range(3):
    label = "augmented" if copy == 0 else None
    right.plot(ECGNet(len(kept)).augment(beat)[0], linewidth=0.8, label=label)
right.set_title("three augmented copies (jitter and scaling)")
right.legend()

# %%
# With and without re-weighting
# -----------------------------
# The unweighted twin is the same estimator with ``warmup_epochs=max_epochs``: every
# epoch trains on the plain mean loss, without meta steps. Both start from the same
# initial weights, use the same validation split, and draw their augmentations from
# the same seeded random state; their training batches are shuffled alike in the
# first epoch only, as LiLAW's meta batches draw their shuffles from the same seeded
# generator as the training batches.
EPOCHS = 60
params = dict(
    module=ECGNet, module__n_classes=len(kept), max_epochs=EPOCHS, batch_size=64, random_state=0
)
models = {
    "unweighted": LiLAWClassifier(**params, warmup_epochs=EPOCHS),
    "LiLAW": LiLAWClassifier(**params),
}
rows, predictions = {}, {}
for name, model in models.items():
    predicted = predictions[name] = model.fit(X_train, y_train).predict(X_test)
    recalls = recall_score(y_test, predicted, labels=kept, average=None)
    rows[name] = {
        "accuracy": accuracy_score(y_test, predicted),
        "balanced accuracy": balanced_accuracy_score(y_test, predicted),
        **{f"recall, class {label}": r for label, r in zip(kept, recalls, strict=True)},
    }
scores = pd.DataFrame(rows)
print(scores.round(3).to_markdown())
lilaw = models["LiLAW"]
print(f"learned alpha={lilaw.alpha_:.3f}, beta={lilaw.beta_:.3f}, delta={lilaw.delta_:.3f}")
disagree = predictions["LiLAW"] != predictions["unweighted"]
print(f"the two models predict differently for {disagree.sum()} of {len(y_test)} test beats")
gap = np.abs(lilaw.predict_proba(X_test) - models["unweighted"].predict_proba(X_test)).max()
print(f"largest difference between their predicted probabilities: {gap:.3f}")

# %%
# Reading the result
# ------------------
# The last two lines say whether the re-weighting changed any test prediction, and
# how far apart the two networks' probabilities are. This is one split and one seed
# of a small data set. The rare classes have only a few test beats each (printed
# above), so one beat more or less classified correctly moves their recall, and the
# balanced accuracy (the mean recall over the classes), by many points, while the
# overall accuracy is dominated by the two large classes. A comparison of the two
# models needs repeated splits and seeds; this example shows how to set one up. The
# difficulty here is the class imbalance more than noisy labels: ``fit(X, y,
# sample_weight=...)`` multiplies each sample's LiLAW weight, e.g. by balanced class
# weights, which this example does not do.
fig, ax = plt.subplots(figsize=(8, 3.5), constrained_layout=True)
recalls = scores.filter(like="recall", axis=0)
positions = np.arange(len(recalls))
ax.bar(positions - 0.2, recalls["unweighted"], width=0.4, label="unweighted", color="tab:gray")
ax.bar(positions + 0.2, recalls["LiLAW"], width=0.4, label="LiLAW", color="tab:blue")
ax.set_xticks(positions, [f"class {label}" for label in kept])
ax.set_ylabel("recall on the test beats")
ax.set_title("ECG5000: recall per class")
ax.legend()
