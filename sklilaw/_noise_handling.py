"""The trainings of one fit, and the guard that keeps the best of them.

A fit trains once, as configured, unless it handles label noise: ``label_issues_refit``
trains once more on the data that the first training's ``label_issues_`` change, and
``noise_handling='auto'`` trains a few recipes and refits the best. Every training after
the first uses the first one's validation rows, which no training fits on, and replaces
the model kept so far only if it scores at least as well there: a refit or a recipe that
does worse (a refit that pruned away a class's signal, say) is rolled back.
"""

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._label_issues import MIN_KEPT_PER_CLASS, rows_to_keep
from ._rollback import unchanged_on_failure
from ._streaming import class_indices, row_weights


class Recipe(NamedTuple):
    """How one training departs from the estimator's parameters."""

    name: str
    robust_loss: bool = False  # GeneralizedCrossEntropy instead of ``criterion``
    early_stopping: bool = False  # early stopping whatever ``early_stopping`` says


AS_CONFIGURED = Recipe("as configured")
# noise_handling='auto' trains these, keeps the best, and refits it without its label
# issues: early stopping stops before the network memorises wrong labels, and the
# robust loss bounds their pull; which one helps depends on the noise
AUTO_RECIPES = (
    Recipe("early stopping", early_stopping=True),
    Recipe("GCE + early stopping", robust_loss=True, early_stopping=True),
)
AUTO_REFIT = "prune"
RECIPES = {recipe.name: recipe for recipe in (AS_CONFIGURED, *AUTO_RECIPES)}


class Training(NamedTuple):
    """What one training of a fit leaves for the trainings after it."""

    train_rows: np.ndarray  # positions in X of the rows trained on
    valid_rows: np.ndarray  # positions in X of the validation rows (empty with X_val)
    validation_accuracy: float
    epochs: int


class _Rejected(Exception):
    """The training scored below the model kept so far: roll it back."""


class _Interrupted(Exception):
    """Ctrl-C arrived during a later training: roll it back."""


def validation_accuracy(fit_data, valid_logits):
    """Accuracy of the fitted model, whose output on the fit's validation rows is
    ``valid_logits``, by the rows' sample weights."""
    predicted = valid_logits.argmax(dim=1).numpy()
    weights = row_weights(fit_data.meta)
    correct = predicted == class_indices(fit_data.valid)
    if weights.sum() > 0:
        return float(np.average(correct, weights=weights))
    return float(correct.mean())


def check_noise_handling(estimator, *, continuing):
    """Errors for combinations of parameters that noise handling cannot honour."""
    if estimator.noise_handling is None:
        return
    if estimator.label_issues_refit is not None:
        raise ValueError(
            "noise_handling='auto' chooses its own refit; leave label_issues_refit=None "
            f"(got {estimator.label_issues_refit!r})."
        )
    if continuing:
        raise ValueError(
            "noise_handling='auto' trains from scratch; it cannot continue a fitted model "
            "with warm_start=True (use partial_fit to train the kept model further)."
        )


def refit_plan(mode, issues, kept, sample_weight, *, warn):
    """The split and sample weights of a refit after the training ``kept``.

    The validation rows stay those of ``kept``; its training rows lose their flagged
    rows (``'prune'``, keeping at least ``MIN_KEPT_PER_CLASS`` of each class, with a
    warning where a class needs flagged rows for that) or have their sample weight
    multiplied by their ``label_quality`` (``'downweight'``). ``warn`` asks for the
    warning.

    Returns
    -------
    split : tuple of ndarray
        Training and validation rows, positions in ``X``, in the order of ``X``: the
        refit is the fit of those training rows with those validation rows as ``X_val``.
    sample_weight : ndarray or None
    """
    trained = issues.iloc[kept.train_rows]
    if mode == "prune":
        keep = rows_to_keep(trained, MIN_KEPT_PER_CLASS)
        short = _classes_kept_short(trained, keep)
        if short and warn:
            warnings.warn(
                f"label issues refit: {short} flagged as label issues; pruning keeps the "
                f"{MIN_KEPT_PER_CLASS} rows of highest label_quality of such a class "
                "(or all of a smaller one).",
                UserWarning,
                stacklevel=4,
            )
        return (np.sort(kept.train_rows[keep]), np.sort(kept.valid_rows)), sample_weight
    quality = np.ones(len(issues))
    flagged = trained["is_label_issue"].to_numpy(dtype=bool)
    quality[kept.train_rows] = np.where(flagged, trained["label_quality"].to_numpy(), 1.0)
    if sample_weight is not None:
        quality = quality * np.asarray(sample_weight, dtype=np.float64)
    return (np.sort(kept.train_rows), np.sort(kept.valid_rows)), quality


def _classes_kept_short(trained, keep):
    """'class c: 8 of 10 training rows' for the classes where pruning kept flagged rows."""
    kept = np.zeros(len(trained), dtype=bool)
    kept[keep] = True
    flagged = trained["is_label_issue"].to_numpy(dtype=bool)
    parts = []
    for label, rows in trained.groupby("given_label", sort=True, observed=True).indices.items():
        if (kept[rows] & flagged[rows]).any():
            parts.append(f"class {label}: {flagged[rows].sum()} of {len(rows)} training rows")
    return "; ".join(parts)


def fit_trainings(estimator, arguments, *, reset, interrupt):
    """Run the trainings of one ``fit`` and keep the best; set ``trainings_``.

    Parameters
    ----------
    estimator : LiLAWClassifier
        The estimator to fit.
    arguments : FitArguments
        The data arguments as given to ``fit``.
    reset : bool
        Whether the first training starts afresh.
    interrupt : InterruptWatch
        Ctrl-C ends the fit with the model kept so far.
    """
    sample_weight = arguments.sample_weight
    auto = estimator.noise_handling == "auto"
    recipes = AUTO_RECIPES if auto else (AS_CONFIGURED,)
    refit = AUTO_REFIT if auto else estimator.label_issues_refit
    log = []
    kept = kept_recipe = None

    def challenge(name, recipe, split, weights):
        nonlocal kept, kept_recipe
        if interrupt.caught:
            return
        training = None
        try:
            with unchanged_on_failure(estimator, continuing=False):
                training = estimator._fit(
                    # the split is given: no strata
                    arguments._replace(sample_weight=weights, sensitive_features=None),
                    reset=True,
                    classes=estimator.classes_,
                    split=split,
                    recipe=recipe,
                )
                if interrupt.caught:
                    raise _Interrupted
                if training.validation_accuracy < kept.validation_accuracy:
                    raise _Rejected
        except _Interrupted:
            warnings.warn(
                f"Training {name!r} was interrupted (Ctrl-C): the model of "
                f"{log[-1]['training']!r} is kept.",
                UserWarning,
                stacklevel=4,
            )
            return
        except _Rejected:
            log.append(_log_row(name, training, kept=False))
            if not auto:
                warnings.warn(
                    f"The {name} scored {training.validation_accuracy:.3f} on the "
                    f"{len(split[1]) or 'given'} validation rows, below the first training's "
                    f"{kept.validation_accuracy:.3f}: the first training's model is kept "
                    "(see trainings_).",
                    UserWarning,
                    stacklevel=4,
                )
            return
        log.append(_log_row(name, training, kept=True))
        kept, kept_recipe = training, recipe

    first = recipes[0]
    kept = estimator._fit(arguments, reset=reset, recipe=first)
    kept_recipe = first
    log.append(_log_row(first.name, kept, kept=True))
    split = (kept.train_rows, kept.valid_rows)
    for recipe in recipes[1:]:
        challenge(recipe.name, recipe, split, sample_weight)
    if refit is not None:
        if interrupt.caught:
            warnings.warn(
                f"Training was interrupted (Ctrl-C): the refit ({refit}) is skipped, the "
                "interrupted model kept.",
                UserWarning,
                stacklevel=3,
            )
        else:
            issues = estimator.label_issues_
            refit_split, weights = refit_plan(refit, issues, kept, sample_weight, warn=not auto)
            name = f"refit ({refit})" if not auto else f"{kept_recipe.name}, refit ({refit})"
            challenge(name, kept_recipe, refit_split, weights)
            estimator.label_issues_ = issues
    frame = pd.DataFrame(log)
    frame["kept"] = frame.index == frame.index[frame["kept"]].max()
    estimator.trainings_ = frame


def _log_row(name, training, *, kept):
    return {
        "training": name,
        "validation_accuracy": training.validation_accuracy,
        "n_train_rows": len(training.train_rows),
        "epochs": training.epochs,
        "kept": kept,
    }
