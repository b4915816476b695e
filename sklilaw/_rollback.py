"""A fit either completes or leaves the estimator as it was; Ctrl-C seen through skorch."""

import copy
import signal
import threading
from contextlib import contextmanager

import torch


def _cpu_copy(state):
    """A copy of a (nested) state dict with every tensor copied to the CPU."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {key: _cpu_copy(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu_copy(value) for value in state)
    return copy.deepcopy(state)


@contextmanager
def restored_on_failure(estimator, *, trained_in_place=(), continuing=False):
    """Put ``estimator`` back exactly as it was if the block raises: never half-fitted.

    The attributes are put back from a shallow copy: a fit that starts afresh builds new
    module, optimizer, criterion and history objects, so the previous ones are kept by
    reference and nothing is copied. What the fit changes in place is restored from
    copies taken before the block: the state dicts of ``trained_in_place`` (copied to
    the CPU, so that the block's peak memory on the device does not grow) and, when the
    fit continues, the history (deep-copied).

    Parameters
    ----------
    estimator : LiLAWClassifier
        The estimator about to be fitted.
    trained_in_place : sequence of torch.nn.Module or torch.optim.Optimizer, default=()
        The torch objects the block trains in place: the module, optimizer and criterion
        of a fit that continues, or a module given as an instance.
    continuing : bool, default=False
        Whether the block appends to the fitted history.
    """
    attributes = vars(estimator).copy()
    states = [(obj, _cpu_copy(obj.state_dict())) for obj in trained_in_place]
    history = copy.deepcopy(estimator.history_) if continuing else None
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
