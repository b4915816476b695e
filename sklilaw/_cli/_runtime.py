"""How the command line runs torch: its threads, and its start-up paid before timed fits."""

import contextlib

import numpy as np
import torch

from .._classifier import LiLAWClassifier


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``n`` torch threads, then restore the caller's setting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def warm_up_torch():
    """Fit a tiny LiLAWClassifier once, untimed.

    The first fit of a process pays torch's lazy initialisation (about a second on a
    CPU), which would otherwise be charged to whichever method is timed first.
    """
    X = np.random.RandomState(0).rand(64, 4).astype(np.float32)
    LiLAWClassifier(max_epochs=2, random_state=0).fit(X, np.arange(64) % 2)
