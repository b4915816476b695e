"""A fit either completes or leaves the estimator as it was; Ctrl-C seen through skorch."""

import copy
import signal
import threading
from contextlib import contextmanager

import torch
from torch import nn


def _cpu_copy(state):
    """A copy of a (nested) state dict with every tensor copied to the CPU."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {key: _cpu_copy(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu_copy(value) for value in state)
    return copy.deepcopy(state)


def _trained_in_place(estimator, continuing):
    """The torch objects that a fit changes in place rather than building anew."""
    objects = []
    if continuing:
        objects += [estimator.module_, estimator.optimizer_, estimator.criterion_]
    # a module or criterion given as an instance is trained as it is, even by a new fit
    for given in (estimator.module, estimator.criterion):
        if isinstance(given, nn.Module) and all(given is not seen for seen in objects):
            objects.append(given)
    return objects


@contextmanager
def unchanged_on_failure(estimator, *, continuing):
    """Restore ``estimator`` exactly if the block raises: never half-fitted.

    The attributes are restored from a shallow copy. What training changes in place, the
    module, optimizer and criterion of a fit that continues (``partial_fit``,
    ``warm_start``) and a module given as an instance, is restored from a copy of its
    state dict taken on the CPU before the block, so that the block's peak memory on the
    device does not grow; the history (which skorch clears in place) from a deep copy.

    Parameters
    ----------
    estimator : LiLAWClassifier
        The estimator about to be fitted.
    continuing : bool
        Whether the fit goes on from the fitted module, optimizer and history.
    """
    attributes = vars(estimator).copy()
    states = [
        (obj, _cpu_copy(obj.state_dict())) for obj in _trained_in_place(estimator, continuing)
    ]
    history = copy.deepcopy(estimator.history_)
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(attributes)
        for obj, state in states:
            obj.load_state_dict(state)
        if history is not None:
            vars(estimator)["history_"] = history
        raise


class InterruptWatch:
    """Notes whether Ctrl-C (SIGINT) arrived while the block ran.

    skorch ends training quietly on ``KeyboardInterrupt``, which is also how its
    ``EarlyStopping`` stops a fit; only the signal tells a user's interrupt apart. Signals
    reach the main thread only, so elsewhere nothing is watched. The handler notes the
    signal and passes it on to the one it replaced (Python's default raises
    ``KeyboardInterrupt``); an ignored or default-action SIGINT is left alone.
    """

    def __init__(self):
        self.caught = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.caught = True
        self._previous(signum, frame)

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
