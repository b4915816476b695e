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
  applies the clamps ``alpha >= 1`` and ``delta >= beta`` (:func:`meta_update_if_finite`
  the same without waiting for the device to say whether the step was finite).

The meta parameters are held in one tensor of shape ``(3,)`` in the order
``(alpha, beta, delta)``.
"""

from typing import NamedTuple

import numpy as np
import torch

ALPHA, BETA, DELTA = 0, 1, 2
# a sample's difficulty category is its dominant weight component, in Weights' order
CATEGORIES = np.array(["easy", "moderate", "hard"])


class Weights(NamedTuple):
    """The three LiLAW weight components of a batch, one value per sample.

    Parameters
    ----------
    easy : torch.Tensor of shape (n_samples,)
        ``W_alpha = sigmoid(alpha * a - m)``.
    moderate : torch.Tensor of shape (n_samples,)
        ``W_delta = exp(-(delta * a - m) ** 2 / 2)``.
    hard : torch.Tensor of shape (n_samples,)
        ``W_beta = sigmoid(-(beta * a - m))``.
    """

    easy: torch.Tensor
    moderate: torch.Tensor
    hard: torch.Tensor

    @property
    def total(self):
        """The loss weight ``W_alpha + W_delta + W_beta``, in ``(0, 3)``."""
        return self.easy + self.moderate + self.hard


def class_probabilities(logits, *, keep_graph=False):
    """Softmax over the classes, in float32 or wider, without a graph by default.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_classes)
        Raw scores of the model.
    keep_graph : bool, default=False
        Keep the graph to ``logits``: the authors' code differentiates the loss weights
        through the softmax (see ``LiLAWLoss``'s ``detach_weights``).

    Returns
    -------
    torch.Tensor of shape (n_samples, n_classes)
    """
    with torch.set_grad_enabled(keep_graph and torch.is_grad_enabled()):
        if logits.dtype in (torch.float16, torch.bfloat16):
            logits = logits.float()
        return torch.softmax(logits, dim=1)


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
        Computed in float32 or wider and without a graph: the meta step never
        differentiates through them.
    """
    return label_and_max(class_probabilities(logits), target)


def label_and_max(probabilities, target):
    """``(a, m)`` from class probabilities: that of the observed label and the largest."""
    p_label = probabilities.gather(1, target.view(-1, 1)).view(-1)
    return p_label, probabilities.amax(dim=1)


def _float32(*tensors):
    """The tensors, those in half precision upcast to float32.

    LiLAW's statistics are a few values per sample, cheap to keep in float32 whatever the
    precision of the network's forward pass.
    """
    return [t.float() if t.dtype in (torch.float16, torch.bfloat16) else t for t in tensors]


def _autocast_off(tensor):
    """Autocast disabled on ``tensor``'s device: under it on CUDA, ``torch.mv`` would run
    in float16."""
    return torch.autocast(tensor.device.type, enabled=False)


def _margins(p_label, p_max, meta_params):
    """``(alpha * a - m, beta * a - m, delta * a - m)`` as one tensor of shape (3, n)."""
    return torch.addcmul(-p_max, meta_params.view(3, 1), p_label)


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
    p_label, p_max, meta_params = _float32(p_label, p_max, meta_params)
    with _autocast_off(p_label):
        return _weights_of_margins(_margins(p_label, p_max, meta_params))


def _weights_of_margins(margins):
    return Weights(
        easy=torch.sigmoid(margins[ALPHA]),
        moderate=torch.exp(-0.5 * margins[DELTA].square()),
        hard=torch.sigmoid(-margins[BETA]),
    )


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
    p_label, p_max, losses, meta_params = _float32(p_label, p_max, losses, meta_params)
    with _autocast_off(p_label):
        margins = _margins(p_label, p_max, meta_params)
        weights = _weights_of_margins(margins)
        d_weights = torch.stack(
            [
                weights.easy * (1 - weights.easy),
                -weights.hard * (1 - weights.hard),
                -weights.moderate * margins[DELTA],
            ]
        )
        # mean_i(dW/dp(i) * a_i * l_i) for the three parameters at once; a sample with
        # a_i == 0 adds exactly nothing, even with a loss of inf (0 * inf would be NaN)
        scaled_losses = torch.where(p_label > 0, p_label * losses.detach(), 0.0)
        return torch.mv(d_weights, scaled_losses) / len(losses)


def meta_update_if_finite(meta_params, grad, lr, weight_decay):
    """:func:`meta_update` without a synchronisation: the step is taken only if finite.

    The same step and clamps, in place, but a step that would make a parameter infinite
    or NaN leaves ``meta_params`` as they were instead of raising, and the answer stays a
    tensor on their device: a training loop on a GPU can read it once per epoch rather
    than wait for it after every batch.

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
    torch.Tensor of dtype bool, shape ()
        Whether the step was finite, and so taken.
    """
    with torch.no_grad():
        # p - lr * (g + wd * p) == p * (1 - lr * wd) - lr * g
        if abs(lr) > torch.finfo(meta_params.dtype).max:
            raise ValueError(f"The meta learning rate {lr} overflows {meta_params.dtype}.")
        stepped = (meta_params * (1 - lr * weight_decay)).sub_(grad, alpha=lr)
        finite = torch.isfinite(stepped).all()
        stepped[ALPHA].clamp_(min=1.0)
        stepped[DELTA].clamp_(min=stepped[BETA])
        # one copy: an interrupt leaves the old or the new values
        meta_params.copy_(torch.where(finite, stepped, meta_params))
    return finite


def meta_update(meta_params, grad, lr, weight_decay):
    """One gradient-descent step on ``(alpha, beta, delta)``, in place, then the clamps.

    ``p -= lr * (grad + weight_decay * p)``, then ``alpha = max(alpha, 1)`` and
    ``delta = max(delta, beta)``. A step that would make a parameter infinite or NaN
    (a non-finite gradient, or a learning rate so large that the step overflows) raises
    a ``ValueError`` and leaves ``meta_params`` as they were.

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
    if not meta_update_if_finite(meta_params, grad, lr, weight_decay):
        stepped = meta_params * (1 - lr * weight_decay) - lr * grad
        raise ValueError(
            f"The meta step would make (alpha, beta, delta) non-finite: "
            f"{stepped.tolist()} from {meta_params.tolist()} with gradient "
            f"{grad.tolist()}, lr={lr}, weight_decay={weight_decay}. A non-finite "
            "gradient comes from non-finite losses or model outputs on the validation "
            "batch; a finite one from a meta learning rate too large."
        )
    return meta_params
