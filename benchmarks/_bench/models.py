"""The networks of the benchmarks, and how they are built and fitted from a seed."""

import math

import torch
from sklearn.neural_network import MLPClassifier
from torch import nn

from sklilaw import FCN
from sklilaw.baselines import plain_skorch


class SmallCNN(nn.Module):
    """A small CNN for square single-channel images given as flat rows of pixels.

    ``x.view(-1, 1, side, side)``, two 3x3 convolutions (``channels``) with ReLU, a 2x2
    max-pool, a hidden layer of ``hidden`` units, one logit per class.
    """

    def __init__(self, n_features=64, n_classes=10, channels=(16, 32), hidden=64):
        super().__init__()
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(f"n_features={n_features} is not a square image.")
        self.side = side
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * (side // 2) ** 2, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.head(self.features(x.view(-1, 1, self.side, self.side)))


class BenchFCN(FCN):
    """``sklilaw.FCN`` at the width the noisy-label benchmark can afford.

    The paper's 128, 256 and 128 channels divided by four. Measured with LiLAW on
    ECG5000's 500 training heartbeats, one CPU thread, seeds 0-2: 0.15 s per epoch
    against 1.2 s at the full width, and a clean test accuracy after 50 epochs of 0.928
    against 0.937 (medians).
    """

    CHANNELS = (32, 64, 32)

    def __init__(self, n_features, n_classes, channels=CHANNELS, kernel_sizes=(8, 5, 3)):
        super().__init__(n_features, n_classes, channels, kernel_sizes)


def softmax(logits):
    """skorch ``predict_nonlinearity`` for losses other than cross-entropy."""
    return torch.softmax(logits, dim=-1)


def seeded_module(seed, cls, *args, **kwargs):
    """``cls(*args, **kwargs)``, a fresh network whose initial weights are drawn from ``seed``."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return cls(*args, **kwargs)


class SeededSkorch:
    """``sklilaw.baselines.plain_skorch(module, **params)``, fitted after ``manual_seed(seed)``.

    The seed draws the batch shuffling of ``fit`` (a torch random state of its own, so
    the global one is left as it was). Only ``fit``, ``predict`` and ``predict_proba`` are
    used by the benchmarks; the skorch net is ``net``.
    """

    def __init__(self, module, seed, **params):
        self.seed = seed
        self.net = plain_skorch(module, **params)

    def fit(self, X, y):
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            self.net.fit(X, y)
        return self

    def predict(self, X):
        return self.net.predict(X)

    def predict_proba(self, X):
        return self.net.predict_proba(X)


def fixed_epochs_mlp_classifier(hidden_layer_sizes, *, lr, weight_decay, batch_size, epochs,
                                seed):  # fmt: skip
    """scikit-learn's MLPClassifier with Adam for exactly ``epochs`` epochs.

    It trains on the rows it is given, validates on nothing and never stops early; its
    ``alpha`` (L2 penalty) stands in for Adam's weight decay.
    """
    return MLPClassifier(
        hidden_layer_sizes,
        solver="adam",
        learning_rate_init=lr,
        alpha=weight_decay,
        batch_size=batch_size,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,
        tol=0.0,
        random_state=seed,
    )
