"""``overhead.py``'s floor: minimal hand-written PyTorch training loops.

They do what a fit has to do and nothing else: shuffled mini-batches sliced from tensors,
a forward and backward pass, an Adam step, and at the end of every epoch one pass over
the validation rows for the validation loss and accuracy (what every fit of the package
reports). The LiLAW loop adds exactly LiLAW's arithmetic, with the package's own
functions: the weights of the training batch, then a gradient-free forward pass of a
validation batch in evaluation mode, the closed-form meta-gradient and the clamped
update. No callbacks, history, checks or bookkeeping.
"""

import torch
import torch.nn.functional as F

from sklilaw import (
    LiLAWClassifier,
    label_probabilities,
    lilaw_weights,
    meta_gradient,
    meta_update_if_finite,
)

_DEFAULTS = LiLAWClassifier().get_params()
META_LR, META_WEIGHT_DECAY = _DEFAULTS["meta_lr"], _DEFAULTS["meta_weight_decay"]
INITIAL_META = tuple(_DEFAULTS[name] for name in ("alpha_init", "beta_init", "delta_init"))


def floor_fit(module, data, *, epochs, batch_size, lr, weight_decay, seed, lilaw, device="cpu"):
    """Train ``module`` on ``data`` (a ``Split``); LiLAW's arithmetic when ``lilaw``.

    The data moves to ``device`` once; batches are indexed there, and nothing waits for
    the device within an epoch. Returns the module and the per-epoch validation loss and
    accuracy.
    """
    module.to(device)
    X, y = torch.as_tensor(data.X_fit, device=device), torch.as_tensor(data.y_fit, device=device)
    X_val = torch.as_tensor(data.X_val, device=device)
    y_val = torch.as_tensor(data.y_val, device=device)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay, fused=True)
    shuffle = torch.Generator().manual_seed(seed)
    meta = torch.tensor(INITIAL_META, device=device)
    meta_order, meta_start = torch.randperm(len(y_val), generator=shuffle).to(device), 0
    history = []
    for _ in range(epochs):
        module.train()
        for batch in torch.randperm(len(y), generator=shuffle).to(device).split(batch_size):
            logits = module(X[batch])
            losses = F.cross_entropy(logits, y[batch], reduction="none")
            if lilaw:
                p_label, p_max = label_probabilities(logits, y[batch])
                losses = losses * lilaw_weights(p_label, p_max, meta).total
            optimizer.zero_grad()
            losses.mean().backward()
            optimizer.step()
            if lilaw:
                if meta_start >= len(y_val):
                    order = torch.randperm(len(y_val), generator=shuffle)
                    meta_order, meta_start = order.to(device), 0
                rows = meta_order[meta_start : meta_start + batch_size]
                meta_start += batch_size
                module.eval()
                with torch.no_grad():
                    logits = module(X_val[rows])
                    p_label, p_max = label_probabilities(logits, y_val[rows])
                    losses = F.cross_entropy(logits, y_val[rows], reduction="none")
                    grad = meta_gradient(p_label, p_max, losses, meta)
                meta_update_if_finite(meta, grad, META_LR, META_WEIGHT_DECAY)
                module.train()
        module.eval()
        with torch.no_grad():
            logits = module(X_val)
            loss = F.cross_entropy(logits, y_val).item()
            history.append((loss, (logits.argmax(1) == y_val).float().mean().item()))
    return module, history
