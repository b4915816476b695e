"""One training in progress: what LiLAW's skorch hooks share while it runs.

skorch calls the estimator's hooks (``train_step``, ``on_epoch_end``, ...) with fixed
signatures; what one training's hooks share, the shuffling generator, the endless meta
batches, the per-sample statistics behind ``label_issues_``, is one :class:`TrainingRun`
that exists only while the training runs (generators and iterators cannot be pickled).
This module also holds the small skorch pieces of a training: the default callbacks and
the fast switch between training and evaluation mode.
"""

import contextlib

import torch
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog

from ._random_streams import Cycle


class _QuietPrintLog(PrintLog):
    """skorch's ``PrintLog``, which builds no table when it would print nothing."""

    def on_epoch_end(self, net, **kwargs):
        if self.sink is not print or net.verbose:
            super().on_epoch_end(net, **kwargs)


def default_callbacks():
    """skorch's default callbacks, the validation accuracy recorded as ``valid_acc``.

    The accuracy of each validation batch is recorded as it is computed, and averaged
    over the epoch as the losses are: no epoch keeps the validation outputs whole.
    """
    return [
        ("epoch_timer", EpochTimer()),
        ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ("valid_loss", PassthroughScoring(name="valid_loss")),
        ("valid_acc", PassthroughScoring(name="valid_acc", lower_is_better=False)),
        ("print_log", _QuietPrintLog()),
    ]


@contextlib.contextmanager
def gradients_on():
    """Gradients recorded in the block, whatever the caller's mode: a fit inside
    ``torch.no_grad()`` or ``torch.inference_mode()`` trains as any other."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


class PassValues:
    """The values recorded per batch in one pass over the batches, read at its end.

    Each batch's loss, mean LiLAW weight, validation accuracy and whether its meta step
    was taken are written into one tensor on the device as they are computed, and read
    back to Python together at the end of the pass: one wait for the device per pass,
    not per batch. One tensor rather than a few per batch: hundreds of small tensors kept
    alive through a pass fragment the C heap that the large per-batch outputs come from,
    and the peak memory of a fit with many classes can more than double.

    Parameters
    ----------
    batches : iterable
        The batches of the pass; their number, where ``len`` gives it, sizes the tensor,
        which otherwise grows as the pass goes.
    device : str or torch.device
        Where the values are computed.
    """

    KEYS = ("train_loss", "valid_loss", "valid_acc", "lilaw_weight", "meta_step_taken")

    def __init__(self, batches, device):
        try:
            n_batches = len(batches)
        except TypeError:  # an iterable dataset without a length
            n_batches = 64
        self._values = torch.empty((max(n_batches, 1), len(self.KEYS)), device=device)
        self._recorded = []

    def new_batch(self):
        """Start the values of the next batch."""
        if len(self._recorded) == len(self._values):
            self._values = torch.cat([self._values, torch.empty_like(self._values)])
        self._recorded.append(set())

    def record(self, key, value):
        """Record ``value`` (a 0-d tensor, a bool or a number) as the current batch's
        ``key``, without waiting for the device."""
        self._values[len(self._recorded) - 1, self.KEYS.index(key)] = value
        self._recorded[-1].add(key)

    def read(self):
        """The recorded values of each batch, as dicts of Python numbers
        (``meta_step_taken`` a bool), read from the device at once."""
        rows = self._values[: len(self._recorded)].tolist()
        return [
            {
                key: bool(value) if key == "meta_step_taken" else value
                for key, value in zip(self.KEYS, row, strict=True)
                if key in recorded
            }
            for row, recorded in zip(rows, self._recorded, strict=True)
        ]


def implements(handler):
    """Whether the callback's bound method ``handler`` is not skorch's no-op."""
    return getattr(handler, "__func__", None) is not getattr(Callback, handler.__name__, None)


def modules_to_switch(tops):
    """Every module under ``tops`` (the estimator's modules and criteria), or None if one
    of them overrides ``train``: then only ``train`` itself switches them correctly."""
    modules = [
        module for top in tops if isinstance(top, torch.nn.Module) for module in top.modules()
    ]
    if any(type(module).train is not torch.nn.Module.train for module in modules):
        return None
    return modules


class TrainingRun:
    """The state that one training's skorch hooks share, for as long as it runs.

    Parameters
    ----------
    shuffle : torch.Generator
        Shuffles the training batches and the passes over the meta batches.
    statistics : SampleStatistics
        The per-sample sums behind ``label_issues_``.
    modules : list of torch.nn.Module or None
        The modules to switch between training and evaluation mode without
        ``nn.Module.train``'s recursion; None: switch through ``train``.

    Attributes
    ----------
    meta_batches : Cycle or None
        The endless meta batches; set by :meth:`cycle_meta_batches` once the run is the
        estimator's, whose ``get_iterator`` shuffles with :attr:`shuffle`.
    pass_values : PassValues or None
        The per-batch values of the pass over the batches in progress.
    resume_pending : bool
        Whether the first epoch is still to continue the random streams that an earlier
        fit saved.
    """

    def __init__(self, shuffle, statistics, modules):
        self.shuffle = shuffle
        self.statistics = statistics
        self.modules = modules
        self.meta_batches = None
        self.pass_values = None
        self.resume_pending = True

    def cycle_meta_batches(self, batches):
        """Loop over ``batches`` (one pass over the meta rows) for the whole training."""
        self.meta_batches = Cycle(batches, self.shuffle)
