"""
A CNN on the 8x8 digit images
=============================

:class:`sklilaw.LiLAWClassifier` trains any PyTorch module that maps a batch of ``X``
to one logit per class. Here it is a small convolutional network on the digits data,
whose rows are 8x8 images flattened to 64 pixels: the module reshapes them itself.
After training we look at how LiLAW moved its three meta parameters, and at the
training images it weights as hardest.
"""

# %%
# The module
# ----------
# ``X`` reaches the module as a float32 tensor of shape ``(batch, 64)``; ``view``
# turns it back into one-channel 8x8 images. Two 3x3 convolutions, a 2x2 max-pool
# and a linear layer give the logits. The constructor's arguments are estimator
# parameters, ``module__channels`` and ``module__n_classes``, so they can be set,
# cloned and grid-searched like any other.
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from sklilaw import LiLAWClassifier
from sklilaw.plotting import plot_meta_params


class SmallCNN(nn.Module):
    def __init__(self, channels=16, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(2 * channels * 4 * 4, n_classes)

    def forward(self, x):
        images = x.view(-1, 1, 8, 8)
        return self.classifier(self.features(images).flatten(start_dim=1))


# %%
# Fit
# ---
# The pixel values (0 to 16) are divided by 16. ``LiLAWClassifier`` holds out 15% of
# the training images for its meta steps, as with any module.
X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
cnn = LiLAWClassifier(
    SmallCNN, module__channels=16, module__n_classes=10, max_epochs=30, random_state=0
)
cnn.fit(X_train, y_train)
n_weights = sum(p.numel() for p in cnn.module_.parameters())
print(f"{n_weights} network weights; test accuracy {cnn.score(X_test, y_test):.3f}")

# %%
# The meta parameters
# -------------------
# After every training mini-batch, alpha, beta and delta take one gradient step on a
# mini-batch of the validation split; the history holds their values at the end of
# each epoch. The clamps keep ``alpha >= 1`` and ``delta >= beta``.
columns = ["epoch", "alpha", "beta", "delta", "mean_weight"]
history = pd.DataFrame(cnn.history[:, columns], columns=columns)
print(history[history["epoch"] % 5 == 0].round(3).to_markdown(index=False))
print(f"learned alpha={cnn.alpha_:.3f}, beta={cnn.beta_:.3f}, delta={cnn.delta_:.3f}")
plot_meta_params(cnn)

# %%
# The hardest training images
# ---------------------------
# ``difficulty`` scores each training image under the fitted network: the probability
# of its label (``label_quality``), its weight and the weight component that dominates. The
# images with the lowest ``label_quality`` are the ones the network disagrees with most.
frame = cnn.difficulty(X_train, y_train)
print(frame["difficulty"].value_counts().to_dict())
hardest = frame.nsmallest(8, "label_quality")
predicted = cnn.predict(X_train[hardest.index])
hardest = hardest.assign(label=y_train[hardest.index], predicted=predicted)
print(
    hardest[["label", "predicted", "label_quality", "p_max", "lilaw_weight", "difficulty"]]
    .round(3)
    .to_markdown()
)

fig, axes = plt.subplots(1, 8, figsize=(12, 2.2), constrained_layout=True)
for ax, row, guess in zip(axes, hardest.index, predicted, strict=True):
    ax.imshow(X_train[row].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"label {y_train[row]}\npredicted {guess}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("training images with the lowest probability of their label")
