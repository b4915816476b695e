"""Losses: the LiLAW-weighted loss (which carries alpha, beta, delta), focal and GCE."""

import torch
from torch import nn
from torch.nn import functional as F

from ._weighting import (
    ALPHA,
    BETA,
    DELTA,
    class_probabilities,
    label_and_max,
    label_probabilities,
    lilaw_weights,
    meta_gradient,
    meta_update,
    meta_update_if_finite,
)


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


class FocalLoss(nn.Module):
    """Multiclass focal loss on logits, ``-(1 - p_y) ** gamma * log(p_y)``.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter; ``gamma=0`` is the cross-entropy.
    reduction : {'none', 'mean', 'sum'}, default='none'
        LiLAW needs ``'none'`` (one loss per sample).
    """

    def __init__(self, gamma=2.0, reduction="none"):
        super().__init__()
        _check_reduction(reduction)
        self.gamma = gamma
        self.reduction = reduction

    def forward(self, logits, target):
        """The focal loss of each sample, reduced by ``reduction``.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw scores of the model.
        target : torch.Tensor of shape (n_samples,)
            Class indices.

        Returns
        -------
        torch.Tensor
            Shape (n_samples,) with ``reduction='none'``, else a scalar.
        """
        log_p = F.log_softmax(logits, dim=1).gather(1, target.long().view(-1, 1)).squeeze(1)
        return _reduce(-((1 - log_p.exp()) ** self.gamma) * log_p, self.reduction)


class GeneralizedCrossEntropy(nn.Module):
    """Generalized cross-entropy on logits, ``(1 - p_y ** q) / q`` (Zhang and Sabuncu, 2018).

    A loss robust to label noise: it tends to the cross-entropy as ``q -> 0`` and is
    the mean absolute error of the probabilities at ``q = 1``.

    Parameters
    ----------
    q : float in (0, 1], default=0.7
        Robustness parameter.
    reduction : {'none', 'mean', 'sum'}, default='none'
        LiLAW needs ``'none'`` (one loss per sample).
    """

    def __init__(self, q=0.7, reduction="none"):
        super().__init__()
        if not 0 < q <= 1:
            raise ValueError(f"q must be in (0, 1], got {q}")
        _check_reduction(reduction)
        self.q = q
        self.reduction = reduction

    def forward(self, logits, target):
        """The generalized cross-entropy of each sample, reduced by ``reduction``.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw scores of the model.
        target : torch.Tensor of shape (n_samples,)
            Class indices.

        Returns
        -------
        torch.Tensor
            Shape (n_samples,) with ``reduction='none'``, else a scalar.
        """
        log_p = F.log_softmax(logits, dim=1).gather(1, target.long().view(-1, 1)).squeeze(1)
        return _reduce((1 - torch.exp(self.q * log_p)) / self.q, self.reduction)


class LiLAWLoss(nn.Module):
    """A per-sample loss re-weighted by LiLAW, holding ``alpha``, ``beta``, ``delta``.

    The three meta parameters are a buffer, not a parameter: they are saved with the
    module's ``state_dict`` (so skorch's ``save_params(f_criterion=...)`` and the
    ``Checkpoint`` callback keep them) but no optimizer of the model ever sees them.
    They change only through :meth:`meta_step`. The class has no skorch in it and can
    drive a plain PyTorch loop:

    >>> import torch
    >>> from torch import nn
    >>> from sklilaw import LiLAWLoss
    >>> model = nn.Linear(4, 3)
    >>> optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    >>> criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"))
    >>> X, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    >>> X_val, y_val = torch.randn(8, 4), torch.randint(0, 3, (8,))
    >>> optimizer.zero_grad()
    >>> criterion(model(X), y).backward()
    >>> optimizer.step()
    >>> with torch.no_grad():
    ...     criterion.meta_step(model(X_val), y_val, lr=0.01, weight_decay=0.01)
    tensor(True)
    >>> criterion.alpha != 2.0
    True

    Parameters
    ----------
    loss : torch.nn.Module
        A loss that returns one value per sample (``reduction='none'``).
    alpha, beta, delta : float, default=2.0
        Initial values of the meta parameters.
    detach_weights : bool, default=True
        Treat the loss weights as constants in the network's gradient, the usual
        convention of re-weighting: the gradient is ``mean(w_i * dl_i)``. ``False``
        computes them from the softmax with its graph, as the authors' code does: the
        gradient is then ``mean(w_i * dl_i + l_i * dw_i)``, whose second term pushes the
        network to lower the weights of high-loss samples. ``alpha, beta, delta`` get no
        gradient either way.
    """

    def __init__(self, loss, alpha=2.0, beta=2.0, delta=2.0, *, detach_weights=True):
        super().__init__()
        self.loss = loss
        self.detach_weights = detach_weights
        self.register_buffer("meta_params", torch.tensor([alpha, beta, delta], dtype=torch.float32))

    @property
    def alpha(self):
        """Current ``alpha`` (easy samples), as a float."""
        return float(self.meta_params[ALPHA])

    @property
    def beta(self):
        """Current ``beta`` (hard samples), as a float."""
        return float(self.meta_params[BETA])

    @property
    def delta(self):
        """Current ``delta`` (moderate samples), as a float."""
        return float(self.meta_params[DELTA])

    def per_sample_loss(self, logits, target):
        """The wrapped loss, checked to give one value per sample.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw scores of the model.
        target : torch.Tensor of shape (n_samples,)
            Class indices.

        Returns
        -------
        torch.Tensor of shape (n_samples,)
        """
        if logits.dtype in (torch.float16, torch.bfloat16):
            # as autocast computes losses: in float32, from half-precision logits
            logits = logits.float()
        losses = self.loss(logits, target)
        if losses.shape != target.shape:
            raise ValueError(
                f"The criterion must return one loss per sample (shape {tuple(target.shape)}),"
                f" but returned shape {tuple(losses.shape)}; construct it with "
                "reduction='none'."
            )
        return losses

    def weights(self, logits, target, *, probabilities=None):
        """LiLAW's weight components for a batch, with ``alpha, beta, delta`` held fixed.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw scores of the model.
        target : torch.Tensor of shape (n_samples,)
            Class indices.
        probabilities : torch.Tensor of shape (n_samples, n_classes), default=None
            The softmax of ``logits`` without a graph, when already computed; used only
            with ``detach_weights``.

        Returns
        -------
        Weights
            One value per sample in each component; with a graph to ``logits`` unless
            ``detach_weights``.
        """
        if not self.detach_weights:
            probabilities = class_probabilities(logits, keep_graph=True)
        elif probabilities is None:
            probabilities = class_probabilities(logits)
        p_label, p_max = label_and_max(probabilities, target)
        return lilaw_weights(p_label, p_max, self.meta_params)

    def forward(self, logits, target):
        """The LiLAW-weighted mean loss, ``mean(w_i * l_i)``.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw scores of the model.
        target : torch.Tensor of shape (n_samples,)
            Class indices.

        Returns
        -------
        torch.Tensor
            A scalar; gradients flow through the losses, and through the weights unless
            ``detach_weights``.
        """
        losses = self.per_sample_loss(logits, target)
        return (self.weights(logits, target).total * losses).mean()

    @torch.no_grad()
    def meta_step(
        self,
        logits,
        target,
        sample_weight=None,
        *,
        lr,
        weight_decay,
        reduce_gradient=None,
        check_finite=True,
    ):
        """One meta step of ``alpha, beta, delta`` on a validation batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            The (updated) model's output on the validation batch; no graph is needed.
        target : torch.Tensor of shape (n_samples,)
            Validation labels as class indices.
        sample_weight : torch.Tensor of shape (n_samples,), default=None
            Multiplies each sample's loss.
        lr, weight_decay : float
            Meta learning rate and meta weight decay.
        reduce_gradient : callable, default=None
            For data-parallel training, where every process holds some rows of the
            batch: called with a tensor of shape (4,), this process's meta-gradient
            summed over its rows (three values) and its number of rows, it returns that
            tensor summed over the processes (e.g. with ``torch.distributed.all_reduce``,
            whose default is the sum). The step then takes the mean over all the rows of
            all the processes, so that ``alpha, beta, delta`` stay the same on every
            process and are those of one process on the whole batch, however unevenly
            the rows are shared out.
        check_finite : bool, default=True
            Raise a ``ValueError`` for a step that would make a parameter non-finite
            (:func:`~sklilaw.meta_update`). ``False`` skips such a step and says so in the
            returned tensor instead, without a synchronisation of the device
            (:func:`~sklilaw.meta_update_if_finite`).

        Returns
        -------
        torch.Tensor of dtype bool, shape ()
            Whether the step was taken (always true with ``check_finite``).
        """
        losses = self.per_sample_loss(logits, target).float()
        if sample_weight is not None:
            losses = losses * sample_weight
        p_label, p_max = label_probabilities(logits, target)
        grad = meta_gradient(p_label, p_max, losses, self.meta_params)
        if reduce_gradient is not None:
            n_rows = len(losses)
            summed = reduce_gradient(torch.cat([grad * n_rows, grad.new_tensor([n_rows])]))
            grad = summed[:3] / summed[3]
        if check_finite:
            meta_update(self.meta_params, grad, lr, weight_decay)
            return torch.tensor(True, device=self.meta_params.device)
        return meta_update_if_finite(self.meta_params, grad, lr, weight_decay)
