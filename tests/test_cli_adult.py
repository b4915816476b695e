"""The Adult audit behind ``sklilaw fairness`` and ``benchmarks/fairness_adult.py``."""

import os

import numpy as np
import pytest
from _threads import torch_threads

from sklilaw._cli._adult import (
    LABEL_QUALITY_METHODS,
    REDUCTION,
    THRESHOLDS,
    noisy_training_labels,
    run_audit,
    summarize_audit,
    summarize_label_quality,
)


@pytest.fixture(scope="module")
def adult_home():
    folder = os.environ.get("SKLILAW_DATA")
    if not folder or not os.path.isfile(os.path.join(folder, "adult", "adult.test")):
        pytest.skip("needs UCI Adult: set SKLILAW_DATA to the folder that holds adult/")
    return folder


# fairlearn 0.15's ThresholdOptimizer sets a Series value with .at, which pandas 3 deprecates
FAIRLEARN_AT = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


def test_audit_label_noise_flips_what_it_says():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 500)
    sex = rng.choice(["Female", "Male"], 500)
    assert noisy_training_labels(y, sex, "none", 0) is y
    women = noisy_training_labels(y, sex, "women-40", 0)
    changed = women != y
    assert changed.sum() == round(0.4 * ((sex == "Female") & (y == 1)).sum())
    assert (sex[changed] == "Female").all() and (y[changed] == 1).all()
    assert (noisy_training_labels(y, sex, "sym-20", 0) != y).sum() == 100
    with pytest.raises(ValueError, match="label_noise must be 'none', 'sym-R' or 'women-R'"):
        noisy_training_labels(y, sex, "men-20", 0)


@FAIRLEARN_AT
def test_fairlearn_mitigations_of_lilaw_shrink_its_parity_gap(adult_home):
    with torch_threads(1):  # small networks: more threads only wait for each other
        results = run_audit(
            methods=["LiLAW", THRESHOLDS, REDUCTION],
            seeds=[0],
            max_epochs=3,
            sensitive=["sex", "race"],
            data_home=adult_home,
            n_samples=4000,
            progress=False,
        )
    tables = summarize_audit(results)
    by_sex = tables["sex"][1]["demographic_parity_difference"]
    assert by_sex["LiLAW"] > 0.1
    # both constrain parity by the first sensitive column, on the training rows
    assert by_sex[THRESHOLDS] < by_sex["LiLAW"] / 2
    assert by_sex[REDUCTION] < by_sex["LiLAW"] / 2
    assert list(tables["race"][1].index) == ["LiLAW", THRESHOLDS, REDUCTION]
    # the mitigations leave no label_issues_ of their own to judge the labels by
    quality = summarize_label_quality(results)["sex"]
    assert set(quality.index.unique("method")) == {"LiLAW"}
    assert THRESHOLDS not in LABEL_QUALITY_METHODS and REDUCTION not in LABEL_QUALITY_METHODS


@FAIRLEARN_AT
def test_mitigated_predictions_are_seeded(adult_home):
    def parity_gaps():
        results = run_audit(
            methods=[THRESHOLDS],
            seeds=[3],
            max_epochs=2,
            data_home=adult_home,
            n_samples=3000,
            progress=False,
        )
        return results[results["metric"] != "fit_seconds"]["value"].to_numpy()

    np.testing.assert_array_equal(parity_gaps(), parity_gaps())
