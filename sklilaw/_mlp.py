"""The default module: a multilayer perceptron sized from the data at fit time."""

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
