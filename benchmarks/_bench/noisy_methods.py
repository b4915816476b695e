"""``noisy_labels.py``'s methods, what it measures of a fitted model, and its fits."""

import sys

import numpy as np
import pandas as pd
from cleanlab.classification import CleanLearning
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from tqdm.auto import tqdm

from _bench.common import load_1min, rotated, timed
from _bench.models import SeededSkorch, seeded_module, softmax
from _bench.noisy_data import DATASETS, add_noise, skip_reason, split
from sklilaw import MLP, GeneralizedCrossEntropy, LiLAWClassifier

VALIDATION_FRACTION = 0.15
PATIENCE = 10  # epochs without improvement of valid_loss, for both early-stopping rows
CV_FOLDS = 5


def skorch_net(data, n_features, epochs, seed, **params):
    """Plain skorch on the data set's network, seeded: initial weights, split, batches."""
    module = seeded_module(seed, data.module or MLP, n_features, data.n_classes)
    train_split = ValidSplit(VALIDATION_FRACTION, stratified=True, random_state=seed)
    return SeededSkorch(module, seed, max_epochs=epochs, train_split=train_split, **params)


def lilaw(data, n_features, epochs, seed, **params):
    """``LiLAWClassifier`` with the package defaults, the data set's module, and ``params``.

    Without early stopping unless ``params`` asks for it: the paper's method trains a fixed
    number of epochs, and the rows of this benchmark were measured so (the package's
    default has stopped early since).
    """
    params.setdefault("early_stopping", False)
    if data.module is not None:
        n_classes = data.n_classes
        params = dict(
            module=data.module,
            module__n_features=n_features,
            module__n_classes=n_classes,
            **params,
        )
    return LiLAWClassifier(max_epochs=epochs, random_state=seed, **params)


def clean_learning(data, n_features, epochs, seed):
    wrapper = lilaw(data, n_features, epochs, seed, reweight=False)
    return CleanLearning(clf=wrapper, seed=seed, cv_n_folds=CV_FOLDS)


PLAIN = "plain skorch"
PLAIN_EARLY_STOPPING = "plain skorch + early stopping"
# the configuration the README recommends for noisy labels (sklilaw/_demo.py), and the
# largest gap in median test accuracy to the best method that still counts as a tie
RECOMMENDED = "noise_handling='auto'"
TIE = 0.01
EARLY_STOPPING = {"early_stopping": True, "n_iter_no_change": PATIENCE}
# name -> factory(data, n_features, epochs, seed) -> unfitted estimator
METHODS = {
    PLAIN: lambda d, f, e, s: skorch_net(d, f, e, s),
    PLAIN_EARLY_STOPPING: lambda d, f, e, s: skorch_net(
        d, f, e, s, callbacks=[EarlyStopping(patience=PATIENCE, load_best=True)]
    ),
    "GCE (q=0.7)": lambda d, f, e, s: skorch_net(
        d,
        f,
        e,
        s,
        criterion=GeneralizedCrossEntropy,
        criterion__q=0.7,
        criterion__reduction="mean",
        predict_nonlinearity=softmax,
    ),
    "unweighted twin": lambda d, f, e, s: lilaw(d, f, e, s, reweight=False),
    "unweighted twin + early stopping": lambda d, f, e, s: lilaw(
        d, f, e, s, reweight=False, **EARLY_STOPPING
    ),
    "LiLAW": lambda d, f, e, s: lilaw(d, f, e, s),
    # the authors' code: weights differentiated through the softmax, one unweighted epoch
    "LiLAW (authors' gradient, warm-up 1)": lambda d, f, e, s: lilaw(
        d, f, e, s, detach_weights=False, warmup_epochs=1
    ),
    "LiLAW + early stopping": lambda d, f, e, s: lilaw(d, f, e, s, **EARLY_STOPPING),
    "LiLAW + GCE": lambda d, f, e, s: lilaw(d, f, e, s, criterion=GeneralizedCrossEntropy),
    "LiLAW + refit (prune)": lambda d, f, e, s: lilaw(d, f, e, s, label_issues_refit="prune"),
    "LiLAW + refit (downweight)": lambda d, f, e, s: lilaw(
        d, f, e, s, label_issues_refit="downweight"
    ),
    "LiLAW + early stopping + refit (prune)": lambda d, f, e, s: lilaw(
        d, f, e, s, label_issues_refit="prune", **EARLY_STOPPING
    ),
    "LiLAW + GCE + early stopping + refit (prune)": lambda d, f, e, s: lilaw(
        d, f, e, s, criterion=GeneralizedCrossEntropy, label_issues_refit="prune", **EARLY_STOPPING
    ),
    RECOMMENDED: lambda d, f, e, s: lilaw(
        d, f, e, s, noise_handling="auto", n_iter_no_change=PATIENCE
    ),
    "cleanlab CleanLearning": clean_learning,
}
# the rows of the weight table (they learn alpha, beta, delta) and rows left out of the
# detection tables (their label_issues_ is the first training's, i.e. another row's)
WEIGHTED = (
    "LiLAW",
    "LiLAW (authors' gradient, warm-up 1)",
    "LiLAW + early stopping",
    "LiLAW + GCE",
)
REFIT = (
    "LiLAW + refit (prune)",
    "LiLAW + refit (downweight)",
    "LiLAW + early stopping + refit (prune)",
    "LiLAW + GCE + early stopping + refit (prune)",
    RECOMMENDED,
)


# --------------------------------------------------------------------------- metrics
def test_metrics(model, split_):
    proba = np.asarray(model.predict_proba(split_.X_test), dtype=np.float64)
    predicted = np.asarray(model.predict(split_.X_test))
    y = split_.y_test
    if proba.shape[1] == 2:
        auroc = roc_auc_score(y, proba[:, 1])
    else:
        auroc = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    return {
        "accuracy": accuracy_score(y, predicted),
        "balanced_accuracy": balanced_accuracy_score(y, predicted),
        "macro_f1": f1_score(y, predicted, average="macro"),
        "auroc": auroc,
    }


def label_issue_table(model):
    """The method's per-training-row verdict (cleanlab's columns), or None."""
    if isinstance(model, CleanLearning):
        return model.label_issues_df
    return getattr(model, "label_issues_", None)


def detection_metrics(issues, flipped):
    """How well ``label_quality`` and ``is_label_issue`` find the flipped rows."""
    quality = issues["label_quality"].to_numpy(dtype=np.float64)
    flagged = issues["is_label_issue"].to_numpy(dtype=bool)
    if len(quality) != len(flipped):
        raise ValueError(f"{len(quality)} label-issue rows for {len(flipped)} training rows")
    n_flipped = int(flipped.sum())
    n_flagged = int(flagged.sum())
    hits = int((flagged & flipped).sum())
    result = {"flagged_share": n_flagged / len(flipped)}
    if n_flipped:
        lowest = np.argsort(quality, kind="stable")[:n_flipped]
        result.update(
            detection_auroc=roc_auc_score(flipped, -quality),
            precision_at_k=float(flipped[lowest].mean()),
            issue_precision=hits / n_flagged if n_flagged else np.nan,
            issue_recall=hits / n_flipped,
        )
    return result


def weight_statistics(issues, flipped):
    """``label_issues_``'s LiLAW weight and difficulty of training rows, clean vs flipped.

    For the rows the network trained on, ``label_issues_`` gives the LiLAW weight
    (``lilaw_weight``) and its dominant component (``difficulty``) of the row's class
    probabilities averaged over the epochs of training, under the final ``alpha, beta,
    delta`` (see ``LiLAWClassifier.label_issues_``). Rows of the internal validation split
    (judged by the fitted model instead) are left out.
    """
    if "lilaw_weight" not in issues:
        return {}
    trained = ~issues["in_validation"].to_numpy(dtype=bool)
    weight = issues["lilaw_weight"].to_numpy(dtype=np.float64)
    category = issues["difficulty"].astype(str).to_numpy()
    clean, noisy = trained & ~flipped, trained & flipped
    return {
        "weight_clean": weight[clean].mean(),
        "weight_flipped": weight[noisy].mean() if noisy.any() else np.nan,
        "moderate_share": float((category[trained] == "moderate").mean()),
        "easy_share_clean": float((category[clean] == "easy").mean()),
        "hard_share_flipped": float((category[noisy] == "hard").mean()) if noisy.any() else np.nan,
    }


def meta_parameters(model):
    """LiLAW's learned alpha, beta, delta (after a refit: the second training's)."""
    if isinstance(model, LiLAWClassifier):
        return {"alpha": model.alpha_, "beta": model.beta_, "delta": model.delta_}
    return {}


def epochs_run(model):
    net = model.net if isinstance(model, SeededSkorch) else model
    if isinstance(net, CleanLearning):
        net = net.clf
    trainings = getattr(net, "trainings_", None)
    if trainings is not None:
        return int(trainings["epochs"].sum())  # of all the fit's trainings
    return len(net.history)


def kept_training(model):
    """The name of the training whose model a LiLAW fit kept (see ``trainings_``)."""
    trainings = getattr(model, "trainings_", None)
    if trainings is None:
        return None
    return trainings.loc[trainings["kept"], "training"].item()


# --------------------------------------------------------------------------- running
def run_cell(data, split_, noise, seed, epochs, methods, rotation):
    """Fit every method on one data set / noise setting / seed; one record per method.

    The methods are fitted in their order rotated by ``rotation``.
    """
    y_noisy, flipped = add_noise(noise, split_.X_train, split_.y_train, seed)
    y_noisy = np.asarray(y_noisy, dtype=np.int64)
    n_features = split_.X_train.shape[1]
    records = []
    for method in rotated(methods, rotation):
        model = METHODS[method](data, n_features, epochs, seed)
        load = load_1min()
        seconds = timed(model.fit, split_.X_train, y_noisy)
        record = {
            "dataset": data.name,
            "noise": noise,
            "seed": seed,
            "method": method,
            "fit_s": seconds,
            "load_1min": load,
            "epochs_run": epochs_run(model),
            "kept_training": kept_training(model),
            "n_train": len(y_noisy),
            "n_features": n_features,
            "n_flipped": int(flipped.sum()),
            "n_samples": len(data.y),
            "n_classes": data.n_classes,
            "description": data.description,
            **test_metrics(model, split_),
            **meta_parameters(model),
        }
        issues = label_issue_table(model)
        if issues is not None:
            record.update(detection_metrics(issues, flipped))
            record.update(weight_statistics(issues, flipped))
        records.append(record)
    plain_s = next(r["fit_s"] for r in records if r["method"] == PLAIN)
    for record in records:
        record["time_ratio"] = record["fit_s"] / plain_s
    return records


def warm_up(data, split_, methods):
    """One untimed 1-epoch fit of every method, so that torch's lazy set-up is not timed."""
    n_features = split_.X_train.shape[1]
    for method in methods:
        METHODS[method](data, n_features, 1, 0).fit(split_.X_train, split_.y_train)


def run(args):
    """Fit every method in every cell of ``args``; one row per fit."""
    cells = []
    datasets = {}
    for name in args.datasets:
        datasets[name] = DATASETS[name](args)
        for seed in args.seeds:
            for noise in args.noise:
                if skip_reason(noise, datasets[name].n_classes) is None:
                    cells.append((name, seed, noise))
    records = []
    progress = tqdm(cells, desc="cells", file=sys.stderr, disable=args.quiet)
    current, warmed = None, set()
    for index, (name, seed, noise) in enumerate(progress):
        progress.set_postfix_str(f"{name} seed {seed} {noise}")
        if current is None or current[0] != (name, seed):
            current = (name, seed), split(datasets[name], seed)  # one split in memory
        if name not in warmed:
            warm_up(datasets[name], current[1], args.methods)
            warmed.add(name)
        records += run_cell(
            datasets[name], current[1], noise, seed, args.epochs, args.methods, index
        )
    return pd.DataFrame.from_records(records)
