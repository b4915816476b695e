"""
Linear probing and full fine-tuning of a pretrained network
===========================================================

LiLAW re-weights the loss of any network, including one that starts from pretrained
weights. Here a small MLP body is pretrained on the digits 0-4, then given a new head
for the digits 5-9 and trained again with :class:`sklilaw.LiLAWClassifier` in two ways:
*linear probing*, where ``skorch.callbacks.Freezer`` freezes the
pretrained body and only the head learns, and *full fine-tuning*, where every weight
learns. A network trained from scratch on the digits 5-9 is the reference.
"""

# %%
# A body and a head
# -----------------
# ``BodyAndHead`` copies the body it is given, so every fit starts from the same
# pretrained weights and leaves the original untouched, and adds a freshly initialised
# linear head. The same class serves for pretraining and for the transfer.
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Freezer
from torch import nn

from sklilaw import LiLAWClassifier


class BodyAndHead(nn.Module):
    def __init__(self, body, n_features, n_classes):
        super().__init__()
        self.body = copy.deepcopy(body)
        self.head = nn.Linear(n_features, n_classes)

    def forward(self, x):
        return self.head(self.body(x))


WIDTH = 64
torch.manual_seed(0)
body = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, WIDTH), nn.ReLU())

# %%
# Pretrain on the digits 0-4
# --------------------------
# The scaler is fitted on the pretraining data and reused for the new task, as a
# pretrained model's preprocessing would be.
X, y = load_digits(return_X_y=True)
source = y < 5
scaler = StandardScaler().fit(X[source])
X = scaler.transform(X)
pretrain = LiLAWClassifier(
    BodyAndHead,
    module__body=body,
    module__n_features=WIDTH,
    module__n_classes=5,
    max_epochs=30,
    random_state=0,
)
pretrain.fit(X[source], y[source])
pretrained_body = pretrain.module_.body
print(
    f"pretraining on {source.sum()} images of 0-4: validation accuracy "
    f"{pretrain.history[-1, 'valid_acc']:.3f}"
)

# %%
# The new task: digits 5-9
# ------------------------
# A small training set on purpose, 150 images (about 30 per class), of which
# ``LiLAWClassifier`` holds out 15% for its meta steps; the rest of the images of 5-9
# are the test set.
X_target, y_target = X[~source], y[~source]
X_train, X_test, y_train, y_test = train_test_split(
    X_target, y_target, train_size=150, stratify=y_target, random_state=0
)
print(f"{len(y_train)} training and {len(y_test)} test images of 5-9")

# %%
# Three ways to train on it
# -------------------------
# ``Freezer("body.*")`` matches the parameters whose names start with ``body.`` and
# sets ``requires_grad=False`` on them before the first training step, so neither the
# optimizer nor LiLAW's weighted loss changes them: only the head's weights learn.
# Callbacks are passed as in skorch. All three use a learning rate of 0.01, ten times
# the default, for these short trainings on few images. ``random_state`` fixes the
# head's initialisation, the validation split and the batches, the same for all three.
transfer = dict(
    module__n_features=WIDTH,
    module__n_classes=5,
    lr=1e-2,
    max_epochs=40,
    batch_size=32,
    random_state=0,
)
models = {
    "from scratch": LiLAWClassifier(BodyAndHead, module__body=body, **transfer),
    "linear probing": LiLAWClassifier(
        BodyAndHead, module__body=pretrained_body, callbacks=[Freezer("body.*")], **transfer
    ),
    "full fine-tuning": LiLAWClassifier(BodyAndHead, module__body=pretrained_body, **transfer),
}
rows = {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    trainable = sum(p.numel() for p in model.module_.parameters() if p.requires_grad)
    rows[name] = {
        "test accuracy": model.score(X_test, y_test),
        "fit seconds": time.perf_counter() - start,
        "trainable weights": trainable,
        "alpha": model.alpha_,
        "beta": model.beta_,
        "delta": model.delta_,
    }
results = pd.DataFrame(rows).T
print(results.round(3).to_markdown())

# %%
# ``from scratch`` starts from ``body``, the randomly initialised copy that was never
# trained. To check that linear probing left the pretrained body as it was:
probe = models["linear probing"].module_.body.state_dict()
unchanged = all(torch.equal(probe[k], v) for k, v in pretrained_body.state_dict().items())
print(f"linear probing kept the pretrained body unchanged: {unchanged}")

# %%
# Compare
# -------
# The linear probe is the most constrained of the three: a linear function of
# features that were learned to tell 0-4 apart. The table above shows what that costs
# on 5-9 here, and whether starting the full network from the pretrained weights
# helps over starting from random ones. Freezing saves the gradients and optimizer
# updates of the body's weights; with a network this small, and single timed runs on
# a shared machine, the fit times are noisy.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5), constrained_layout=True)
positions = np.arange(len(results))
colors = ["tab:gray", "tab:orange", "tab:blue"]
left.bar(positions, results["test accuracy"], color=colors)
left.set_xticks(positions, results.index)
left.set_ylim(results["test accuracy"].min() - 0.1, 1.0)
left.set_ylabel("test accuracy on 5-9")
for name, color in zip(models, colors, strict=True):
    history = models[name].history
    right.plot(history[:, "epoch"], history[:, "valid_acc"], color=color, label=name)
right.set_xlabel("epoch")
right.set_ylabel("accuracy on the validation split")
right.legend()
fig.suptitle("digits 5-9 from 150 training images")
