"""Every example in examples/ runs and shows what its prose says; the README's quickstart runs.

Each example runs once, with runpy; the checks read the objects it leaves in its globals.
"""

import math
import os
import re
import runpy
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
from fairlearn.metrics import demographic_parity_difference
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score

from sklilaw import FCN, MLP

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.fixture(autouse=True)
def _no_windows():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


# the files an example reads from $SKLILAW_DATA, by what its source calls to read them
LOCAL_DATA = {
    "load_adult": [Path("adult", "adult.test")],
    "load_ecg5000": [Path("ecg5000", "ECG5000_TRAIN.txt"), Path("ecg5000", "ECG5000_TEST.txt")],
    '"tabular"': [Path("tabular", "wa_churn.csv")],
}


def _skip_without_data(path):
    """Examples that load UCI Adult or ECG5000 read them from $SKLILAW_DATA (CI has no
    network, and ECG5000 has no online source)."""
    folder = os.environ.get("SKLILAW_DATA", "")
    source = path.read_text()
    for loader, files in LOCAL_DATA.items():
        missing = [str(name) for name in files if not Path(folder, name).is_file()]
        if loader in source and missing:
            pytest.skip(f"{path.name} needs {missing}: set SKLILAW_DATA to the folder with them")


def _dominant_component(frame):
    """The category ``difficulty`` should give: the largest of the three weight components."""
    components = frame[["w_easy", "w_moderate", "w_hard"]]
    return components.idxmax(axis=1).str.removeprefix("w_")


def _carved_split_share(model, n_samples):
    """Whether ``model`` held out ``validation_fraction`` of its rows for the meta steps."""
    held_out = model.label_issues_["in_validation"].sum()
    return held_out == math.ceil(model.validation_fraction * n_samples)


def _mean_log_loss(model, X, y):
    """The plain cross-entropy of ``model`` on ``(X, y)``, as the history's valid_loss."""
    proba = model.predict_proba(X)
    return -np.mean(np.log(proba[np.arange(len(y)), np.searchsorted(model.classes_, y)]))


def _flipped_exactly(y, y_noisy, flipped, rate):
    return flipped.sum() == round(rate * len(y)) and np.array_equal(y != y_noisy, flipped)


def check_quickstart(g):
    clf = g["clf"]
    # "With module=None it trains an MLP sized from the data"
    assert isinstance(clf.module_, MLP)
    assert clf.module_[0].in_features == g["X"].shape[1]
    assert clf.module_[-1].out_features == len(np.unique(g["y"]))
    # "skorch's history keeps their value at the end of each epoch"
    assert len(clf.history) == clf.max_epochs
    assert all(np.isfinite(clf.history[:, name]).all() for name in ("alpha", "beta", "delta"))
    # "the category of the dominant one"
    assert (g["frame"]["difficulty"].astype(str) == _dominant_component(g["frame"])).all()


def check_digits_cnn(g):
    cnn, history = g["cnn"], g["history"]
    # "holds out 15% of the training images for its meta steps, as with any module"
    assert _carved_split_share(cnn, len(g["y_train"]))
    # the module's arguments are estimator parameters: set, cloned, used
    assert clone(cnn).get_params()["module__channels"] == 16
    assert cnn.module_.features[0].out_channels == 16
    # "the history holds their values at the end of each epoch"; "The clamps keep
    # alpha >= 1 and delta >= beta"
    assert len(history) == cnn.max_epochs
    assert (history["alpha"] >= 1).all() and (history["delta"] >= history["beta"]).all()
    # "the weight component that dominates"
    assert (g["frame"]["difficulty"].astype(str) == _dominant_component(g["frame"])).all()
    # "The images with the lowest label_quality are the ones the network disagrees with most"
    hardest = g["hardest"]
    assert len(hardest) == 8 and (hardest["predicted"] != hardest["label"]).all()


def check_early_stopping(g):
    fits, rows, max_epochs = g["fits"], g["rows"], g["MAX_EPOCHS"]
    assert _flipped_exactly(g["y_train"], g["y_noisy"], g["flipped"], 0.4)
    plain = fits["no early stopping"]
    carved = fits["early stopping, carved noisy split"]
    clean = fits["early stopping, clean X_val"]
    # "The first trains for all of them", and keeps the network of its last epoch
    assert rows["no early stopping"]["epochs run"] == max_epochs
    in_split = plain.label_issues_["in_validation"].to_numpy()
    loss = _mean_log_loss(plain, g["X_train"][in_split], g["y_noisy"][in_split])
    assert loss == pytest.approx(plain.history[-1, "valid_loss"], rel=1e-4)
    # the other two stop after n_iter_no_change epochs without improvement by tol and
    # restore the network of that best epoch
    in_split = carved.label_issues_["in_validation"].to_numpy()
    validation = {
        "early stopping, carved noisy split": (g["X_train"][in_split], g["y_noisy"][in_split]),
        "early stopping, clean X_val": (g["X_clean"], g["y_clean"]),
    }
    for name, (X_val, y_val) in validation.items():
        model = fits[name]
        assert len(model.history) < max_epochs
        best = dict(model.callbacks_)["early_stopping"].best_epoch_
        assert best == len(model.history) - g["stopping"]["n_iter_no_change"]
        assert best <= rows[name]["best epoch"]  # "the same or an earlier one"
        best_loss = model.history[best - 1, "valid_loss"]
        assert _mean_log_loss(model, X_val, y_val) == pytest.approx(best_loss, rel=1e-4)
    # the carved split is 15% of the noisy rows; the clean set "leaves all the noisy rows
    # for training"
    assert _carved_split_share(carved, len(g["y_noisy"]))
    assert not clean.label_issues_["in_validation"].any()


def check_ecg5000(g):
    models, y_train = g["models"], g["y_train"]
    # "train on its training part (500 beats of 140 samples) and score on its test part
    # (4,500 beats)"
    assert g["X_train"].shape == (500, 140) and len(g["y_test"]) == 4500
    assert all(len(model.label_issues_) == 500 for model in models.values())
    # the network is sklilaw.FCN, a quarter of the paper's width, with "about a
    # sixteenth of the weights"
    for model in models.values():
        assert isinstance(model.module_, FCN)
        assert [block[1].out_channels for block in model.module_.blocks] == [32, 64, 32]
    full = sum(p.numel() for p in FCN(140, 5).parameters())
    narrow = sum(p.numel() for p in models["LiLAW"].module_.parameters())
    assert 12 < full / narrow < 20
    # "use the same validation split", which "leaves both" beats of the smallest class
    # in the training part
    splits = [model.label_issues_["in_validation"].to_numpy() for model in models.values()]
    assert np.array_equal(*splits)
    smallest = g["counts"]["training beats"].idxmin()
    assert (y_train == smallest).sum() == 2 and not splits[0][y_train == smallest].any()
    # "14 training steps per epoch of the 425 beats left for training, instead of 4"
    n_train = (~splits[0]).sum()
    batch_size = models["LiLAW"].batch_size
    assert (n_train, math.ceil(n_train / batch_size), math.ceil(n_train / 128)) == (425, 14, 4)
    # the unweighted twin takes no meta steps: its alpha, beta, delta never move
    for name in ("alpha", "beta", "delta"):
        assert np.ptp(models["unweighted"].history[:, name]) == 0
        assert np.ptp(models["LiLAW"].history[:, name]) > 0
    # prediction runs the module in evaluation mode: batch norm's running averages, so
    # "a test beat's prediction does not depend on the other beats it is predicted with"
    for model in models.values():
        proba = model.predict_proba(g["X_test"])
        np.testing.assert_allclose(model.predict_proba(g["X_test"][7:9]), proba[7:9], atol=1e-6)


def check_fairness_audit(g):
    result, table = g["result"], g["table"]
    # the default models, then the mitigations
    assert list(result.reports)[:3] == [
        "plain skorch",
        "LiLAWClassifier()",
        "LiLAWClassifier(noise_handling='auto')",
    ]
    # "scores them by group on a held-out quarter"
    assert result.n_rows == math.ceil(0.25 * len(table))
    assert list(g["best"].by_group.index) == [0, 1]
    # "'Yes' (left) is the positive label"
    assert result.pos_label == "Yes"
    # "Senior customers leave more often"; "a demographic-parity difference near 0.2";
    # the mitigation brings it "close to 0", the smallest of all models', "at some accuracy"
    rates = table.groupby("senior_citizen")["churn"].apply(lambda y: (y == "Yes").mean())
    assert rates[1] > rates[0]
    dp = result.summary["demographic_parity_difference"]
    assert 0.15 < dp[result.best_model] < 0.25
    assert dp.idxmin() == g["mitigated"] and dp[g["mitigated"]] < 0.03
    assert result.summary.loc[g["mitigated"], "accuracy"] < result.summary["accuracy"].max()
    # "each with its 95% bootstrap interval"
    assert g["best"].confidence_level == 0.95
    # "the share of labels it flags per group" on the training rows: the senior customers'
    # "intervals of the flagged share do not overlap" with the younger customers'
    quality = result.label_quality.by_group
    assert quality.loc["overall", "rows"] == len(table) - result.n_rows
    assert quality.loc["1", "flagged share lower"] > quality.loc["0", "flagged share upper"]
    assert g["path"].stat().st_size > 10_000  # the figures are in the file


def check_fairness_adult(g):
    lilaw, X_train, y_train = g["lilaw"], g["X_train"], g["y_train"]
    assert (len(y_train), len(g["y_test"])) == (5000, 3000)
    # "sex and race stay in the DataFrame for the audit but are not among" the features
    transformers = lilaw[0].transformers_
    used = {
        column for name, _, columns in transformers if name != "remainder" for column in columns
    }
    assert {"sex", "race"} <= set(X_train.columns) and not used & {"sex", "race"}
    assert all(how == "drop" for name, how, _ in transformers if name == "remainder")
    # "sensitive_features in fit only stratifies LiLAW's internal validation split (the
    # meta batches) by label x sex": each cell has its share of the split, to a row
    in_split = lilaw[-1].label_issues_["in_validation"].to_numpy()
    cells = pd.crosstab(y_train.to_numpy(), X_train["sex"].to_numpy())
    held_out = pd.crosstab(y_train.to_numpy()[in_split], X_train["sex"].to_numpy()[in_split])
    expected = cells * in_split.sum() / len(y_train)
    assert ((held_out - expected).abs() <= 1).all().all()
    # "The positive label is the estimator's classes_[-1], here '>50K'"
    assert lilaw.classes_[-1] == ">50K" and g["report"].pos_label == ">50K"
    # "With n_boot, ... 95% intervals"
    intervals = g["report"].to_frame()
    assert g["report"].confidence_level == 0.95
    assert intervals[["lower", "upper"]].notna().any().all()
    # "a model that selects fewer people overall also has a smaller demographic-parity
    # difference"
    table = g["table"]
    selection = table.loc[("selection_rate", "overall")]
    parity = table.loc[("demographic_parity_difference", "across groups")]
    assert (selection.idxmin(), selection.idxmax()) == (parity.idxmin(), parity.idxmax())
    # "Several sensitive columns give one group per combination of their values"
    by_group = g["intersections"].by_group
    combinations = g["X_test"].groupby(["sex", "race"], observed=True).size()
    assert by_group.index.names == ["sex", "race"]
    assert by_group["count"].dropna().to_dict() == combinations.to_dict()
    # "scores a model by its balanced accuracy minus its demographic-parity difference"
    search, X_test, y_test = g["search"], g["X_test"], g["y_test"]
    # "the search chooses between LiLAW and no re-weighting": by the fairness score
    results = search.cv_results_
    assert list(results["param_lilawclassifier__reweight"]) == [True, False]
    assert results["mean_test_fair"][search.best_index_] == max(results["mean_test_fair"])
    predicted = search.predict(X_test)
    parity = demographic_parity_difference(
        y_test == ">50K", predicted == ">50K", sensitive_features=X_test["sex"]
    )
    fair = balanced_accuracy_score(y_test, predicted) - parity
    assert search.score(X_test, y_test) == pytest.approx(fair)


def check_grid_search(g):
    search, X_train = g["search"], g["X_train"]
    # "make_pipeline names the steps after their classes in lower case"
    assert list(g["pipeline"].named_steps) == ["standardscaler", "lilawclassifier"]
    # "Eight candidates, each fitted on three folds"
    assert len(search.cv_results_["params"]) == 8
    assert (
        sum(key.startswith("split") and key.endswith("_test_score") for key in search.cv_results_)
        == 3
    )
    # "then the best one is refitted on the whole training set"
    assert len(search.best_estimator_[-1].label_issues_) == len(X_train)
    # the table is sorted by rank, the best candidate first
    assert g["table"]["rank"].is_monotonic_increasing and g["table"]["rank"].iloc[0] == 1
    assert g["table"]["mean accuracy"].iloc[0] == pytest.approx(search.best_score_)


def check_linear_probing(g):
    models, results, pretrained_body = g["models"], g["results"], g["pretrained_body"]
    # "150 images (about 30 per class)"
    assert len(g["y_train"]) == 150
    assert (np.abs(np.bincount(g["y_train"])[5:] - 30) <= 1).all()
    # linear probing trains only the head; the other two train every weight
    head = models["linear probing"].module_.head
    head_weights = sum(p.numel() for p in head.parameters())
    assert head_weights == g["WIDTH"] * 5 + 5
    assert results.loc["linear probing", "trainable weights"] == head_weights
    every_weight = sum(p.numel() for p in models["full fine-tuning"].module_.parameters())
    assert (results.drop("linear probing")["trainable weights"] == every_weight).all()
    # "linear probing kept the pretrained body unchanged"; full fine-tuning trained a copy
    assert g["unchanged"]
    tuned = models["full fine-tuning"].module_.body.state_dict()
    assert not all(torch.equal(tuned[k], v) for k, v in pretrained_body.state_dict().items())
    assert pretrained_body is g["pretrain"].module_.body


def check_noisy_labels(g):
    lilaw, unweighted, pruned, flipped = g["lilaw"], g["unweighted"], g["pruned"], g["flipped"]
    # "flips exactly 40% of the training labels"
    assert _flipped_exactly(g["y_train"], g["y_noisy"], flipped, 0.4)
    # "every epoch is a warm-up epoch, trained on the plain mean loss without meta steps"
    for name in ("alpha", "beta", "delta"):
        assert np.ptp(unweighted.history[:, name]) == 0
        assert np.ptp(lilaw.history[:, name]) > 0
    # "The unweighted twin records the same columns"
    assert list(unweighted.label_issues_.columns) == list(lilaw.label_issues_.columns)
    # the flags beat chance: more of the flagged labels are flipped than of all labels
    assert (g["issues"]["precision"] > flipped.mean()).all()
    # "flipped labels get low probabilities: in this run they get larger weights than
    # the clean ones"
    frame = g["frame"]
    assert frame["label_quality"][flipped].mean() < frame["label_quality"][~flipped].mean()
    assert frame["lilaw_weight"][flipped].mean() > frame["lilaw_weight"][~flipped].mean()
    # "label_issues_ keeps the first fit's verdict": the first fit is `lilaw`'s twin
    assert pruned.label_issues_.equals(lilaw.label_issues_)
    # the second fit's rows hold fewer flipped labels than the whole training set
    kept = g["kept"]
    assert (kept & flipped).sum() / kept.sum() < flipped.mean()
    # "trainings_ shows both", and which model is kept
    assert pruned.trainings_["n_train_rows"].tolist()[1] == kept.sum()
    assert pruned.trainings_["kept"].sum() == 1


def check_fairness_mitigation(g):
    table = g["table"]
    dp = table["DP difference"].astype(float)
    mitigated = ["LiLAW + ExponentiatedGradient", "LiLAW + ThresholdOptimizer"]
    # "Both mitigations shrink LiLAW's demographic-parity difference, and the bootstrap
    # intervals of the mitigated models lie below the unmitigated one's"
    low = float(table.loc["LiLAW", "DP difference, 95% interval"].split(" to ")[0])
    for name in mitigated:
        assert dp[name] < dp["LiLAW"]
        assert float(table.loc[name, "DP difference, 95% interval"].split(" to ")[1]) < low
        # "They pay for it in accuracy and balanced accuracy, and the equalized-odds
        # difference ... grows"
        for metric in ("accuracy", "balanced accuracy"):
            assert table.loc[name, metric] < table.loc["LiLAW", metric]
        assert table.loc[name, "EO difference"] > table.loc["LiLAW", "EO difference"]
    # "The reduction costs several LiLAW fits"
    assert len(g["reduction"].predictors_) > 2
    # the walls plain skorch hits are printed, not hidden
    assert isinstance(g["skorch_net"].predict_proba(g["A_test"][:2])[0, 0], np.float32)


def check_synthetic_data(g):
    table = g["table"]
    accuracy = table["accuracy"]
    # "every model with them is within 0.015 of the real-only model's test accuracy"
    assert (accuracy.drop("real only") - accuracy["real only"]).abs().max() <= 0.015
    for name in g["generators"]:
        lilaw, plain = table.loc[f"{name} + synthetic, LiLAW"], table.loc[f"{name} + synthetic"]
        # "LiLAW is within 0.01 of training on the same rows without re-weighting"
        assert abs(lilaw["accuracy"] - plain["accuracy"]) <= 0.01
        # without re-weighting, every weight is 1
        assert plain["mean weight, real"] == plain["mean weight, synthetic"] == 1.0
    degraded = table.loc["degraded mixture + synthetic, LiLAW"]
    # "their mean weight stays within 0.05 of the real rows'"
    assert abs(degraded["mean weight, synthetic"] - degraded["mean weight, real"]) < 0.05
    # "flags more than ten times as large a share of the degraded generator's rows as of
    # the real rows, and none of the good generator's rows"
    assert degraded["flagged, synthetic"] > 10 * degraded["flagged, real"]
    assert table.loc["mixture + synthetic, LiLAW", "flagged, synthetic"] == 0
    # "Dropping the flagged rows does not raise the accuracy either"
    assert accuracy["degraded mixture + unflagged synthetic"] <= accuracy["real only"] + 0.015
    # the validation rows are real: given as X_val, held out before the generators
    assert len(g["y_val"]) == 21 and not g["issues"]["in_validation"].any()


CHECKS = {
    "plot_digits_cnn.py": check_digits_cnn,
    "plot_early_stopping.py": check_early_stopping,
    "plot_ecg5000.py": check_ecg5000,
    "plot_fairness_adult.py": check_fairness_adult,
    "plot_fairness_audit.py": check_fairness_audit,
    "plot_fairness_mitigation.py": check_fairness_mitigation,
    "plot_grid_search.py": check_grid_search,
    "plot_linear_probing.py": check_linear_probing,
    "plot_noisy_labels.py": check_noisy_labels,
    "plot_quickstart.py": check_quickstart,
    "plot_synthetic_data.py": check_synthetic_data,
}


def test_every_example_has_its_checks():
    assert sorted(CHECKS) == [path.name for path in EXAMPLES]


# fairlearn 0.15's reductions use pandas in ways that pandas 3 deprecates
_FAIRLEARN_PANDAS = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, marks=_FAIRLEARN_PANDAS)
        if path.name == "plot_fairness_mitigation.py"
        else path
        for path in EXAMPLES
    ],
    ids=lambda p: p.name,
)
def test_example_shows_what_its_prose_says(path, capsys):
    _skip_without_data(path)
    example_globals = runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out  # each example reports what it found
    CHECKS[path.name](example_globals)


def test_readme_quickstart_runs(capsys):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has a Python quickstart"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert "difficulty" in capsys.readouterr().out  # the difficulty table was printed
