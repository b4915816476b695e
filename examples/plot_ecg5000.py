"""
ECG5000 heartbeats with a fully convolutional network
=====================================================

Classify the heartbeats of the UCR archive's ECG5000 data set as the archive intends:
train on its training part (500 beats of 140 samples) and score on its test part
(4,500 beats). The network is :class:`sklilaw.FCN`, the fully convolutional network of
Wang, Yan & Oates (2017), here narrower than the paper's so that the example runs in
seconds; it is trained once with LiLAW's re-weighting and once without.

The data is read from ``$SKLILAW_DATA/ecg5000/`` (``ECG5000_TRAIN.txt`` and
``ECG5000_TEST.txt``); there is no online fallback, so
:func:`sklilaw.datasets.load_ecg5000` raises ``FileNotFoundError`` without them.
"""

# %%
# The data
# --------
# Five classes, very imbalanced in both parts: the printout shows how many beats of
# each class there are. The smallest class has 2 training beats; the classifier's
# stratified validation split (15% of the training beats, for the meta steps) leaves
# both of them in the training part.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score

from sklilaw import FCN, LiLAWClassifier
from sklilaw.datasets import load_ecg5000

X_train, y_train = load_ecg5000(return_X_y=True)
X_test, y_test = load_ecg5000(subset="test", return_X_y=True)
classes = np.unique(y_train)
counts = pd.DataFrame(
    {
        "training beats": pd.Series(y_train).value_counts(),
        "test beats": pd.Series(y_test).value_counts(),
    }
).sort_index()
print(counts.to_markdown())

fig, ax = plt.subplots(figsize=(8, 3.5), constrained_layout=True)
for label in classes:
    ax.plot(X_train[y_train == label][0], label=f"class {label}")
ax.set_xlabel("sample")
ax.set_title("one training beat per class")
ax.legend()

# %%
# The network
# -----------
# :class:`~sklilaw.FCN` views each row of 140 values as a one-channel series and
# applies three convolutions (kernel sizes 8, 5 and 3, 'same' padding), each followed
# by batch normalisation and a ReLU, then averages each channel over time and maps the
# averages to one logit per class. The paper uses 128, 256 and 128 channels; a quarter
# of them leaves about a sixteenth of the weights (printed below), as the two inner
# convolutions' weights grow with the product of their channel counts. The network's
# arguments are estimator parameters, prefixed by ``module__``.
#
# Batch normalisation normalises with the statistics of the training batch in training
# mode and with running averages in evaluation mode. ``LiLAWClassifier`` switches the
# module to evaluation mode for its meta step (the forward pass on a validation batch
# that updates alpha, beta and delta), for the per-epoch validation loss and for
# prediction, so a test beat's prediction does not depend on the other beats it is
# predicted with.
CHANNELS = (32, 64, 32)
for channels in [(128, 256, 128), CHANNELS]:
    n_weights = sum(p.numel() for p in FCN(X_train.shape[1], len(classes), channels).parameters())
    print(f"FCN with {channels} channels: {n_weights} weights")

# %%
# With and without re-weighting
# -----------------------------
# The unweighted twin is the same estimator with ``reweight=False``: every
# epoch trains on the plain mean loss, without meta steps. Both start from the same
# initial weights and use the same validation split; their training batches are
# shuffled alike in the first epoch only, as LiLAW's meta batches draw their shuffles
# from the same seeded generator as the training batches. Batches of 32 instead of the
# default 128 make 14 training steps per epoch of the 425 beats left for training,
# instead of 4.
EPOCHS = 60
params = dict(
    module=FCN,
    module__n_features=X_train.shape[1],
    module__n_classes=len(classes),
    module__channels=CHANNELS,
    max_epochs=EPOCHS,
    batch_size=32,
    random_state=0,
)
models = {
    "unweighted": LiLAWClassifier(**params, reweight=False),
    "LiLAW": LiLAWClassifier(**params),
}
rows, predictions = {}, {}
for name, model in models.items():
    predicted = predictions[name] = model.fit(X_train, y_train).predict(X_test)
    recalls = recall_score(y_test, predicted, labels=classes, average=None)
    rows[name] = {
        "accuracy": accuracy_score(y_test, predicted),
        "balanced accuracy": balanced_accuracy_score(y_test, predicted),
        **{f"recall, class {label}": r for label, r in zip(classes, recalls, strict=True)},
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
# The table gives each model's accuracy on the 4,500 test beats, its balanced
# accuracy (the mean recall over the five classes) and its recall per class; the last
# two lines say how many test predictions the re-weighting changed and how far apart
# the two networks' probabilities are. This is one seed and a short training of a
# narrow network, on the archive's labels with no noise injected: it shows what the
# re-weighting does to a training on clean labels, not how it copes with noisy ones
# (the noisy-label benchmark measures that). The overall accuracy is dominated by the two
# large classes; the three rare classes have only 10, 19 and 2 training beats (the
# table at the top), so their recall rests on very few examples to learn from. The
# difficulty here is the class imbalance more than noisy labels: ``fit(X, y,
# sample_weight=...)`` multiplies each sample's LiLAW weight, e.g. by balanced class
# weights, which this example does not do.
fig, ax = plt.subplots(figsize=(8, 3.5), constrained_layout=True)
recalls = scores.filter(like="recall", axis=0)
positions = np.arange(len(recalls))
ax.bar(positions - 0.2, recalls["unweighted"], width=0.4, label="unweighted", color="tab:gray")
ax.bar(positions + 0.2, recalls["LiLAW"], width=0.4, label="LiLAW", color="tab:blue")
ax.set_xticks(positions, [f"class {label}" for label in classes])
ax.set_ylabel("recall on the test beats")
ax.set_title("ECG5000: recall per class")
ax.legend()
