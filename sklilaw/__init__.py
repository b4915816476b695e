"""sklilaw: LiLAW (Lightweight Learnable Adaptive Weighting) for scikit-learn, on skorch."""

import importlib

from . import datasets
from ._accelerate import AcceleratedLiLAWClassifier
from ._batches import TensorBatches
from ._classifier import LiLAWClassifier
from ._loss import FocalLoss, GeneralizedCrossEntropy, LiLAWLoss
from ._networks import FCN, MLP
from ._oversampling import OversampledClassifier
from ._persistence import load_estimator, save_estimator
from ._preprocessing import tabular_preprocessor
from ._weighting import (
    Weights,
    label_probabilities,
    lilaw_weights,
    meta_gradient,
    meta_update,
    meta_update_if_finite,
)

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
    "meta_update_if_finite",
    "save_estimator",
    "tabular_preprocessor",
]


def __getattr__(name):
    # sklilaw.fairness imports fairlearn: only when it is first used
    if name == "fairness":
        return importlib.import_module(".fairness", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
