"""Random streams of a fit that a later fit can continue exactly.

The batch shuffling, the meta batches (a :class:`Cycle` over the validation data) and
torch's own random numbers are saved in a :class:`RandomStreams` after every epoch and
restored at the start of a resumed fit (``partial_fit``, ``warm_start``, a loaded
checkpoint), so that fit(10 epochs) equals fit(5) + resume(5).
"""

import threading
from contextlib import contextmanager

import torch
from torch import nn

# torch has one global random generator per process, which initialisation, dropout and a
# module's own sampling draw from: seeded fits (and loads) in threads take turns with it
TORCH_RANDOM_LOCK = threading.RLock()


@contextmanager
def seeded_torch(seed, device):
    """Run the block with torch's random generators forked and seeded with ``seed``.

    ``seed=None`` leaves torch's global random state to the caller, as it is.
    """
    if seed is None:
        yield
        return
    device = torch.device(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with TORCH_RANDOM_LOCK, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class Cycle:
    """Loop over ``iterable`` forever, re-iterating (and so re-shuffling) each pass.

    Remembers the state of ``generator`` (which shuffles the batches) at the start of the
    pass in progress and how many batches the pass has given, so that a later fit can
    :meth:`resume` the pass where this one stopped.
    """

    def __init__(self, iterable, generator):
        self.iterable = iterable
        self.generator = generator
        self.pass_start, self.drawn, self._batches = None, 0, None

    def __next__(self):
        if self._batches is None:
            self.pass_start = self.generator.get_state()
            self.drawn, self._batches = 0, iter(self.iterable)
        batch = next(self._batches, None)
        if batch is None:
            if self.drawn == 0:
                raise ValueError(
                    "The validation data give no meta batch (is iterator_train__drop_last "
                    "dropping a batch larger than the validation split?)."
                )
            self._batches = None
            return next(self)
        self.drawn += 1
        return batch

    def resume(self, pass_start, drawn):
        """Draw again the first ``drawn`` batches of the pass that began at ``pass_start``.

        The generator is left in the state it had before.
        """
        end = self.generator.get_state()
        self.generator.set_state(pass_start)
        self.pass_start, self.drawn, self._batches = pass_start, 0, iter(self.iterable)
        while self.drawn < drawn and next(self._batches, None) is not None:
            self.drawn += 1
        self.generator.set_state(end)


class RandomStreams(nn.Module):
    """Where a fit left its random streams, for a later fit to continue them exactly.

    Buffers, so that they travel in the criterion's state dict: skorch's ``Checkpoint``
    and ``LoadInitState``, ``save_params(f_criterion=...)``, pickles and
    ``save_estimator`` keep them.
    """

    def __init__(self):
        super().__init__()
        size = torch.get_rng_state().numel()
        self.register_buffer("saved", torch.tensor(False))
        self.register_buffer("split_seed", torch.tensor(0))
        # generator states: of the batch shuffling, of torch's (dropout, ...), and of the
        # batch shuffling when the meta pass in progress began, with its batches drawn
        self.register_buffer("shuffle", torch.zeros(size, dtype=torch.uint8))
        self.register_buffer("torch_random", torch.zeros(size, dtype=torch.uint8))
        self.register_buffer("meta_pass_start", torch.zeros(size, dtype=torch.uint8))
        self.register_buffer("meta_pass_drawn", torch.tensor(0))

    def save(self, shuffle_generator, meta_batches):
        """Note the streams' positions at the end of an epoch."""
        self.shuffle.copy_(shuffle_generator.get_state())
        self.torch_random.copy_(torch.get_rng_state())
        if meta_batches.pass_start is not None:
            self.meta_pass_start.copy_(meta_batches.pass_start)
        self.meta_pass_drawn.fill_(meta_batches.drawn)
        self.saved.fill_(True)

    def restore(self, shuffle_generator, meta_batches, torch_random):
        """Put the streams where :meth:`save` noted them; torch's own if ``torch_random``."""
        shuffle_generator.set_state(self.shuffle.cpu())
        if self.meta_pass_drawn:
            meta_batches.resume(self.meta_pass_start.cpu(), int(self.meta_pass_drawn))
        if torch_random:
            torch.set_rng_state(self.torch_random.cpu())
