"""sklilaw: LiLAW (Lightweight Learnable Adaptive Weighting) for scikit-learn, on skorch."""

from . import datasets, fairness
from ._accelerate import AcceleratedLiLAWClassifier
from ._classifier import LiLAWClassifier
from ._data import TensorBatches
from ._fcn import FCN
from ._loss import FocalLoss, GeneralizedCrossEntropy, LiLAWLoss
from ._mlp import MLP
from ._oversampling import OversampledClassifier
from ._persistence import load_estimator, save_estimator
from ._weighting import Weights, label_probabilities, lilaw_weights, meta_gradient, meta_update

__version__ = "0.1.0.dev0"

__all__ = [
    "AcceleratedLiLAWClassifier",
    "FCN",
    "FocalLoss",
    "GeneralizedCrossEntropy",
    "LiLAWClassifier",
    "LiLAWLoss",
    "MLP",
    "OversampledClassifier",
    "TensorBatches",
    "Weights",
    "datasets",
    "fairness",
    "label_probabilities",
    "lilaw_weights",
    "load_estimator",
    "meta_gradient",
    "meta_update",
    "save_estimator",
]
