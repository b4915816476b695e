"""sklilaw.datasets: UCI Adult (local files or OpenML through fairlearn) and ECG5000."""

import os
from pathlib import Path
from urllib.error import URLError

import fairlearn.datasets
import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from sklilaw.datasets import ADULT_FEATURES, load_adult, load_ecg5000

NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def _shared_data(*files):
    """``$SKLILAW_DATA`` if it holds ``files``, else skip the test saying why."""
    folder = os.environ.get("SKLILAW_DATA")
    if not folder:
        pytest.skip("SKLILAW_DATA is not set: it names the folder with adult/ and ecg5000/")
    missing = [name for name in files if not (Path(folder) / name).is_file()]
    if missing:
        pytest.skip(f"SKLILAW_DATA={folder} lacks {missing}")
    return Path(folder)


@pytest.fixture(scope="module")
def adult():
    _shared_data("adult/adult.data", "adult/adult.test")
    return load_adult()


@pytest.fixture
def no_network(monkeypatch):
    """fairlearn's download fails as it does offline."""

    def offline(**kwargs):
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(fairlearn.datasets, "fetch_adult", offline)


def test_adult_is_openml_1590(adult):
    X, y = adult.data, adult.target
    assert X.shape == (48842, 14)
    assert list(X.columns) == ADULT_FEATURES == adult.feature_names
    assert y.name == "class" and adult.target_names == ["class"]
    assert y.value_counts().to_dict() == {"<=50K": 37155, ">50K": 11687}  # no trailing "."
    assert list(y.cat.categories) == ["<=50K", ">50K"]
    assert (X[NUMERIC].dtypes == np.int64).all()
    categorical = [name for name in ADULT_FEATURES if name not in NUMERIC]
    assert all(isinstance(X[name].dtype, pd.CategoricalDtype) for name in categorical)
    assert X.isna().sum()[lambda s: s > 0].to_dict() == {
        "workclass": 2799,
        "occupation": 2809,
        "native-country": 857,
    }
    assert "?" not in X["workclass"].cat.categories
    assert adult.frame.columns[-1] == "class" and adult.frame.shape == (48842, 15)
    assert adult.categories is None and "Adult" in adult.DESCR


def test_adult_train_part_comes_first(adult):
    # adult.data has 32,561 rows and starts with a 39-year-old State-gov employee;
    # adult.test starts with a 25-year-old
    assert adult.data.loc[0, ["age", "workclass"]].tolist() == [39, "State-gov"]
    assert adult.data.loc[32561, "age"] == 25


def test_adult_as_arrays(adult):
    bunch = load_adult(as_frame=False)
    assert bunch.data.shape == (48842, 14) and bunch.data.dtype == np.float64
    assert bunch.frame is None
    sex = ADULT_FEATURES.index("sex")
    codes = bunch.data[:, sex].astype(int)
    assert (np.asarray(bunch.categories["sex"])[codes] == adult.data["sex"].to_numpy()).all()
    workclass = ADULT_FEATURES.index("workclass")
    assert np.isnan(bunch.data[:, workclass]).sum() == 2799
    assert set(bunch.target) == {"<=50K", ">50K"}
    X, y = load_adult(as_frame=False, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)


def test_adult_data_home_argument_wins_over_the_environment(monkeypatch):
    folder = _shared_data("adult/adult.data", "adult/adult.test")
    monkeypatch.setenv("SKLILAW_DATA", "/nonexistent")
    X, y = load_adult(data_home=folder, return_X_y=True)
    assert len(X) == len(y) == 48842


UCI_ROW = "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, "


def test_adult_reads_the_original_uci_files(tmp_path, no_network):
    # UCI's own files: no header line; the test file opens with a "|1x3 ..." line
    (tmp_path / "adult").mkdir()
    (tmp_path / "adult" / "adult.data").write_text(
        UCI_ROW + "White, Male, 2174, 0, 40, United-States, <=50K\n"
        "50, ?, 83311, Bachelors, 13, Married-civ-spouse, ?, Husband, White, Female, 0, 0, "
        "13, ?, >50K\n\n"
    )
    (tmp_path / "adult" / "adult.test").write_text(
        "|1x3 Cross validator\n" + UCI_ROW + "Black, Female, 0, 0, 40, Cuba, >50K.\n"
    )
    X, y = load_adult(data_home=tmp_path, return_X_y=True)
    assert X.shape == (3, 14)
    assert y.tolist() == ["<=50K", ">50K", ">50K"]
    assert X["workclass"].isna().tolist() == [False, True, False]
    assert list(X["sex"].cat.categories) == ["Female", "Male"]
    assert X["age"].tolist() == [39, 50, 39]


def test_adult_offline_without_files_says_how_to_provide_them(tmp_path, monkeypatch, no_network):
    monkeypatch.delenv("SKLILAW_DATA", raising=False)
    with pytest.raises(FileNotFoundError) as excinfo:
        load_adult()
    message = str(excinfo.value)
    assert "Neither data_home nor SKLILAW_DATA is set" in message
    assert "adult/adult.data and adult/adult.test" in message
    assert "Name or service not known" in message
    with pytest.raises(FileNotFoundError, match=f"Looked in data_home='{tmp_path}'"):
        load_adult(data_home=tmp_path)


def test_adult_online_fallback_goes_through_fairlearn(tmp_path, monkeypatch):
    monkeypatch.delenv("SKLILAW_DATA", raising=False)
    row = {name: [1] if name in NUMERIC else ["x"] for name in ADULT_FEATURES}
    frame = pd.DataFrame({**row, "class": [">50K"]}).astype(
        {name: "category" for name in [*ADULT_FEATURES, "class"] if name not in NUMERIC}
    )
    calls = []

    def fetch_adult(**kwargs):
        calls.append(kwargs)
        return Bunch(frame=frame, target_names=["class"], DESCR="OpenML 1590")

    monkeypatch.setattr(fairlearn.datasets, "fetch_adult", fetch_adult)
    bunch = load_adult(data_home=tmp_path)
    assert calls == [{"data_home": tmp_path, "as_frame": True}]
    assert list(bunch.data.columns) == ADULT_FEATURES
    assert bunch.target.tolist() == [">50K"] and bunch.DESCR == "OpenML 1590"


ECG5000_FILES = ("ecg5000/ECG5000_TRAIN.txt", "ecg5000/ECG5000_TEST.txt")


@pytest.mark.parametrize(
    ("subset", "counts"),
    [
        ("train", [292, 177, 10, 19, 2]),
        ("test", [2627, 1590, 86, 175, 22]),
        ("all", [2919, 1767, 96, 194, 24]),
    ],
)
def test_ecg5000_subsets(subset, counts):
    folder = _shared_data(*ECG5000_FILES)
    X, y = load_ecg5000(data_home=folder, subset=subset, return_X_y=True)
    assert X.shape == (sum(counts), 140) and X.dtype == np.float64
    assert np.bincount(y).tolist() == [0, *counts]


def test_ecg5000_all_is_train_then_test():
    folder = _shared_data(*ECG5000_FILES)
    X_train, y_train = load_ecg5000(data_home=folder, return_X_y=True)
    X_test, y_test = load_ecg5000(data_home=folder, subset="test", return_X_y=True)
    bunch = load_ecg5000(data_home=folder, subset="all")
    np.testing.assert_array_equal(bunch.data, np.concatenate([X_train, X_test]))
    np.testing.assert_array_equal(bunch.target, np.concatenate([y_train, y_test]))
    assert "training and test parts" in bunch.DESCR


def test_ecg5000_as_frame():
    folder = _shared_data(*ECG5000_FILES)
    X, y = load_ecg5000(data_home=folder, subset="test", return_X_y=True)
    bunch = load_ecg5000(data_home=folder, subset="test", as_frame=True)
    assert bunch.frame.shape == (4500, 141) and bunch.target.name == "class"
    np.testing.assert_array_equal(bunch.data.to_numpy(), X)
    assert bunch.feature_names[0] == "t000" and bunch.feature_names[-1] == "t139"
    assert "test part" in bunch.DESCR


def test_ecg5000_rejects_an_unknown_subset(tmp_path):
    with pytest.raises(
        ValueError, match=r"subset='TRAIN' is not one of \['train', 'test', 'all'\]"
    ):
        load_ecg5000(data_home=tmp_path, subset="TRAIN")


def test_ecg5000_missing_file_says_which_and_where_it_goes(tmp_path, monkeypatch):
    (tmp_path / "ecg5000").mkdir()
    (tmp_path / "ecg5000" / "ECG5000_TRAIN.txt").write_text("1 0.5 -0.5\n2 0.1 0.2\n")
    X, y = load_ecg5000(data_home=tmp_path, return_X_y=True)
    assert X.shape == (2, 2) and y.tolist() == [1, 2]
    for subset in ("test", "all"):
        with pytest.raises(FileNotFoundError) as excinfo:
            load_ecg5000(data_home=tmp_path, subset=subset)
        message = str(excinfo.value)
        assert message.startswith("ECG5000 (ECG5000_TEST.txt) not found")
        assert f"Looked in data_home='{tmp_path}'" in message
        assert "ecg5000/ECG5000_TEST.txt" in message and "ECG5000_TRAIN" not in message
    monkeypatch.delenv("SKLILAW_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="Neither data_home nor SKLILAW_DATA is set"):
        load_ecg5000(subset="all")
