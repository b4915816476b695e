"""Fit times that measure the fit: torch's one-time start-up paid before the clock starts."""

import numpy as np

from ._classifier import LiLAWClassifier


def warm_up_torch():
    """Fit a tiny LiLAWClassifier once, untimed.

    The first fit of a process pays torch's lazy initialisation (about a second on a
    CPU), which would otherwise be charged to whichever method is timed first.
    """
    X = np.random.RandomState(0).rand(64, 4).astype(np.float32)
    LiLAWClassifier(max_epochs=2, random_state=0).fit(X, np.arange(64) % 2)
