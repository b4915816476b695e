"""The LiLAW method as plain torch functions, to be read against ``LILAW.md``.

Everything here works on tensors and knows nothing about skorch or scikit-learn:

* :func:`label_probabilities` turns logits and observed labels into ``a = s[y]`` and
  ``m = max(s)``;
* :func:`lilaw_weights` gives the three weight components ``W_alpha`` (easy),
  ``W_delta`` (moderate) and ``W_beta`` (hard);
* :func:`meta_gradient` is the closed-form gradient of ``mean(w_i * l_i)`` with respect
  to ``(alpha, beta, delta)``; it needs no graph through the network, because ``a``,
  ``m`` and ``l_i`` do not depend on the three scalars;
* :func:`meta_update` takes the plain gradient-descent step with weight decay and then
  applies the clamps ``alpha >= 1`` and ``delta >= beta``.

The meta parameters are held in one tensor of shape ``(3,)`` in the order
``(alpha, beta, delta)``.
"""

from typing import NamedTuple

import torch

ALPHA, BETA, DELTA = 0, 1, 2


class Weights(NamedTuple):
    """The three LiLAW weight components of a batch, one value per sample."""

    easy: torch.Tensor
    moderate: torch.Tensor
    hard: torch.Tensor

    @property
    def total(self):
        """The loss weight ``W_alpha + W_delta + W_beta``, in ``(0, 3)``."""
        return self.easy + self.moderate + self.hard


def label_probabilities(logits, target):
    """Return ``(a, m)``: the softmax probability of the observed label and the largest.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_classes)
        Raw scores of the model.
    target : torch.Tensor of shape (n_samples,)
        Observed (possibly wrong) labels as class indices.

    Returns
    -------
    p_label, p_max : torch.Tensor of shape (n_samples,)
        Computed in float32 or wider and without a graph: LiLAW never differentiates
        through them.
    """
    with torch.no_grad():
        logits = logits.detach()
        if logits.dtype in (torch.float16, torch.bfloat16):
            logits = logits.float()
        probabilities = torch.softmax(logits, dim=1)
        p_label = probabilities.gather(1, target.long().view(-1, 1)).squeeze(1)
        p_max = probabilities.max(dim=1).values
    return p_label, p_max


def lilaw_weights(p_label, p_max, meta_params):
    """Return the three weight components of every sample.

    ``W_alpha = sigmoid(alpha * a - m)``, ``W_beta = sigmoid(-(beta * a - m))`` and
    ``W_delta = exp(-(delta * a - m) ** 2 / 2)``.

    Parameters
    ----------
    p_label, p_max : torch.Tensor of shape (n_samples,)
        ``a`` and ``m`` from :func:`label_probabilities`.
    meta_params : torch.Tensor of shape (3,)
        ``(alpha, beta, delta)``.

    Returns
    -------
    Weights
        ``easy`` (``W_alpha``), ``moderate`` (``W_delta``) and ``hard`` (``W_beta``).
    """
    alpha, beta, delta = meta_params[ALPHA], meta_params[BETA], meta_params[DELTA]
    easy = torch.sigmoid(alpha * p_label - p_max)
    hard = torch.sigmoid(-(beta * p_label - p_max))
    moderate = torch.exp(-((delta * p_label - p_max) ** 2) / 2)
    return Weights(easy=easy, moderate=moderate, hard=hard)


def meta_gradient(p_label, p_max, losses, meta_params):
    """Closed-form gradient of ``mean(w_i * l_i)`` with respect to ``(alpha, beta, delta)``.

    ``dW_alpha/dalpha = W_alpha (1 - W_alpha) a``,
    ``dW_beta/dbeta = -W_beta (1 - W_beta) a`` and
    ``dW_delta/ddelta = -W_delta (delta a - m) a``; each is multiplied by the sample's
    loss and averaged over the batch.

    Parameters
    ----------
    p_label, p_max : torch.Tensor of shape (n_samples,)
        ``a`` and ``m`` of the validation batch.
    losses : torch.Tensor of shape (n_samples,)
        Per-sample losses ``l_i`` of the validation batch (no graph needed).
    meta_params : torch.Tensor of shape (3,)
        ``(alpha, beta, delta)``.

    Returns
    -------
    torch.Tensor of shape (3,)
        ``(dL/dalpha, dL/dbeta, dL/ddelta)``.
    """
    weights = lilaw_weights(p_label, p_max, meta_params)
    delta = meta_params[DELTA]
    d_alpha = weights.easy * (1 - weights.easy) * p_label
    d_beta = -weights.hard * (1 - weights.hard) * p_label
    d_delta = -weights.moderate * (delta * p_label - p_max) * p_label
    per_sample = torch.stack([d_alpha, d_beta, d_delta]) * losses.detach()
    return per_sample.mean(dim=1)


def meta_update(meta_params, grad, lr, weight_decay):
    """One gradient-descent step on ``(alpha, beta, delta)``, in place, then the clamps.

    ``p -= lr * (grad + weight_decay * p)``, then ``alpha = max(alpha, 1)`` and
    ``delta = max(delta, beta)``.

    Parameters
    ----------
    meta_params : torch.Tensor of shape (3,)
        ``(alpha, beta, delta)``, updated in place.
    grad : torch.Tensor of shape (3,)
        From :func:`meta_gradient`.
    lr, weight_decay : float
        The meta learning rate and weight decay.

    Returns
    -------
    torch.Tensor
        ``meta_params``, for chaining.
    """
    with torch.no_grad():
        meta_params.sub_(lr * (grad + weight_decay * meta_params))
        meta_params[ALPHA].clamp_(min=1.0)
        meta_params[DELTA] = torch.maximum(meta_params[DELTA], meta_params[BETA])
    return meta_params
