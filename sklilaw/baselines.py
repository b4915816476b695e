"""Peers that LiLAW is compared with, set up the way :class:`LiLAWClassifier` is."""

import torch
from skorch import NeuralNetClassifier
from torch import nn


def plain_skorch(module, *, max_epochs=100, train_split=None, **params):
    """skorch's ``NeuralNetClassifier`` with LiLAWClassifier's defaults and no re-weighting.

    Cross-entropy, Adam with ``lr=1e-3`` and weight decay ``1e-4``, batches of 128,
    shuffled training batches, no printed log. It takes float32 ``X`` and ``y`` as class
    indices ``0..n_classes-1``, as skorch does.

    Parameters
    ----------
    module : torch.nn.Module instance or class
        The network (skorch semantics: a class takes ``module__*`` in ``params``).
    max_epochs : int, default=100
        Number of epochs.
    train_split : callable or None, default=None
        skorch's validation split, e.g. ``skorch.dataset.ValidSplit(0.15, stratified=True)``
        or ``skorch.helper.predefined_split(dataset)``; ``None`` trains on all data.
    **params
        Any other ``NeuralNetClassifier`` parameter, overriding the above.

    Returns
    -------
    skorch.NeuralNetClassifier
        Unfitted.
    """
    defaults = dict(
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        optimizer__weight_decay=1e-4,
        batch_size=128,
        iterator_train__shuffle=True,
        verbose=0,
    )
    return NeuralNetClassifier(
        module, max_epochs=max_epochs, train_split=train_split, **{**defaults, **params}
    )
