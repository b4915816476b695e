"""The networks sklilaw ships: the default MLP and an FCN for time series."""

import torch
from torch import nn


class MLP(nn.Sequential):
    """Fully connected ReLU network that outputs one logit per class.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer, as in :class:`sklearn.neural_network.MLPClassifier`.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    """

    def __init__(self, n_features, n_classes, hidden_layer_sizes=(100,), dropout=0.0):
        layers = []
        n_in = n_features
        for width in hidden_layer_sizes:
            layers += [nn.Linear(n_in, width), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            n_in = width
        layers.append(nn.Linear(n_in, n_classes))
        super().__init__(*layers)


def _block(n_in, n_out, kernel_size):
    """Convolution with 'same' padding, batch normalisation, ReLU.

    The padding is explicit, one more zero on the right for an even kernel size (as
    Keras pads), because ``Conv1d(padding="same")`` warns for even kernel sizes.
    """
    left = (kernel_size - 1) // 2
    return nn.Sequential(
        nn.ConstantPad1d((left, kernel_size - 1 - left), 0.0),
        nn.Conv1d(n_in, n_out, kernel_size),
        nn.BatchNorm1d(n_out),
        nn.ReLU(),
    )


class FCN(nn.Module):
    """Fully convolutional network for univariate time series, one logit per class.

    The baseline of Wang, Yan & Oates, "Time series classification from scratch with
    deep neural networks: a strong baseline" (IJCNN 2017): three convolutional blocks,
    each a 1-D convolution with 'same' padding, batch normalisation and a ReLU, then an
    average over time of the last block's channels and a linear layer to the logits.
    The global average makes the number of weights independent of the length of the
    series.

    Batch normalisation makes the output of a series depend on its batch in training
    mode; in evaluation mode (``module.eval()``, which ``LiLAWClassifier`` uses for its
    meta steps, validation and prediction) it uses the running statistics.

    Parameters
    ----------
    n_features : int
        Length of the series: the input, of shape ``(n, n_features)`` or
        ``(n, 1, n_features)``, is viewed as ``(n, 1, n_features)``, one channel.
        Multivariate series (several channels) are not supported.
    n_classes : int
        Number of output logits.
    channels : tuple of int, default=(128, 256, 128)
        Output channels of each convolution, the paper's widths by default.
    kernel_sizes : tuple of int, default=(8, 5, 3)
        Kernel size of each convolution, the paper's by default; as many as
        ``channels``.

    Examples
    --------
    >>> import torch
    >>> from sklilaw import FCN
    >>> net = FCN(n_features=140, n_classes=5, channels=(16, 32, 16))
    >>> net(torch.randn(4, 140)).shape
    torch.Size([4, 5])

    Inside the estimator, the network's arguments are parameters prefixed by
    ``module__``:

    >>> import numpy as np
    >>> from sklilaw import LiLAWClassifier
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 50)).astype(np.float32), rng.integers(3, size=60)
    >>> clf = LiLAWClassifier(
    ...     FCN, module__n_features=50, module__n_classes=3, module__channels=(8, 16, 8),
    ...     max_epochs=2, random_state=0,
    ... )
    >>> clf.fit(X, y).predict_proba(X).shape
    (60, 3)
    """

    def __init__(self, n_features, n_classes, channels=(128, 256, 128), kernel_sizes=(8, 5, 3)):
        super().__init__()
        if len(channels) != len(kernel_sizes):
            raise ValueError(
                f"channels={tuple(channels)} and kernel_sizes={tuple(kernel_sizes)} must "
                "have one entry per convolution each."
            )
        self.n_features = n_features
        blocks, n_in = [], 1
        for width, kernel_size in zip(channels, kernel_sizes, strict=True):
            blocks.append(_block(n_in, width, kernel_size))
            n_in = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(n_in, n_classes)

    def forward(self, x):
        """Logits of shape ``(n, n_classes)`` for series of shape ``(n, n_features)``.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features) or (n, 1, n_features)
            The series.

        Returns
        -------
        torch.Tensor of shape (n, n_classes)
            One logit per class.
        """
        features = self.blocks(x.view(len(x), 1, self.n_features))
        return self.head(torch.mean(features, dim=-1))
