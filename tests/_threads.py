"""torch's thread count pinned for a block, for tests that compare fits bit for bit."""

from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n_threads):
    """torch on ``n_threads`` intra-op threads within the block, restored afterwards.

    How torch splits a sum over its threads changes the order of its float additions,
    and so the last bits of a fit: fits compared bit for bit run on the same number of
    threads, wherever they run.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
