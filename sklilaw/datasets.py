"""Data sets for tests, examples and fairness audits: UCI Adult and ECG5000.

The loaders read local copies of the original files from ``data_home`` or, when it is
not given, from the directory named by the environment variable ``SKLILAW_DATA``::

    <data_home>/adult/adult.data       UCI Adult, training part
    <data_home>/adult/adult.test       UCI Adult, test part
    <data_home>/adult/adult.names      its description (optional)
    <data_home>/ecg5000/ECG5000_TRAIN.txt   ECG5000, the UCR archive's training part
    <data_home>/ecg5000/ECG5000_TEST.txt    and its test part

Without local files, :func:`load_adult` downloads the same data set from OpenML (id 1590)
through :func:`fairlearn.datasets.fetch_adult`.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["load_adult", "load_ecg5000"]

DATA_ENV = "SKLILAW_DATA"

ADULT_FEATURES = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
]
ADULT_TARGET = "class"
ADULT_FILES = ("adult.data", "adult.test")
ECG5000_FILES = {"train": ("ECG5000_TRAIN.txt",), "test": ("ECG5000_TEST.txt",)}
ECG5000_FILES["all"] = ECG5000_FILES["train"] + ECG5000_FILES["test"]


def _data_dir(data_home):
    """``data_home``, else ``$SKLILAW_DATA``, else None."""
    folder = data_home if data_home is not None else os.environ.get(DATA_ENV)
    return Path(folder).expanduser() if folder else None


def _missing_data_message(what, layout, data_home):
    where = f"data_home={str(data_home)!r}" if data_home is not None else None
    if where is None and os.environ.get(DATA_ENV):
        where = f"{DATA_ENV}={os.environ[DATA_ENV]!r}"
    searched = f"Looked in {where}. " if where else f"Neither data_home nor {DATA_ENV} is set. "
    return (
        f"{what} not found. {searched}Provide local copies of the files: pass "
        f"data_home=DIR or set the environment variable {DATA_ENV}=DIR, where DIR "
        f"holds {layout}."
    )


def _header_rows(path):
    """1 when the file starts with a header line naming the columns, else 0."""
    with open(path) as file:
        return int(file.readline().startswith("age"))


def _read_adult_file(path):
    columns = [*ADULT_FEATURES, ADULT_TARGET]
    return pd.read_csv(
        path,
        header=None,
        names=columns,
        skiprows=_header_rows(path),
        skipinitialspace=True,
        na_values=["?"],
        keep_default_na=False,
        comment="|",  # the UCI test file's first line
    )


def _read_adult(folder):
    """The local UCI files as one frame (train, then test), with OpenML 1590's dtypes."""
    frame = pd.concat([_read_adult_file(folder / name) for name in ADULT_FILES])
    frame = frame.reset_index(drop=True)
    frame[ADULT_TARGET] = frame[ADULT_TARGET].str.rstrip(".")  # the test file's labels
    text = frame.select_dtypes(exclude="number").columns
    return frame.astype(dict.fromkeys(text, "category"))


def _adult_description(folder):
    names = folder / "adult.names"
    source = f"UCI Adult, read from {folder} (adult.data followed by adult.test)."
    return source + ("\n\n" + names.read_text() if names.exists() else "")


def _fetch_adult_online(data_home):
    """OpenML 1590 through fairlearn, or a FileNotFoundError that says what to do."""
    layout = "adult/adult.data and adult/adult.test (the UCI Adult files)"
    try:
        from fairlearn.datasets import fetch_adult

        bunch = fetch_adult(data_home=data_home, as_frame=True)
    except (ImportError, OSError) as exc:
        message = _missing_data_message("UCI Adult", layout, data_home)
        raise FileNotFoundError(
            f"{message} Downloading it from OpenML (fairlearn.datasets.fetch_adult) "
            f"failed too: {exc}"
        ) from exc
    frame = bunch.frame.rename(columns={bunch.target_names[0]: ADULT_TARGET})
    return frame[[*ADULT_FEATURES, ADULT_TARGET]], bunch.DESCR


def _sorted_categories(frame):
    """Categorical columns with their categories in sorted order."""
    categorical = frame.select_dtypes("category").columns
    return frame.assign(
        **{
            column: frame[column].cat.reorder_categories(sorted(frame[column].cat.categories))
            for column in categorical
        }
    )


def _as_arrays(frame, feature_names, target):
    """Features as floats (categories as their codes, missing as NaN) and the target."""
    data = frame[feature_names].copy()
    categories = {}
    for column in data.select_dtypes("category").columns:
        categories[column] = data[column].cat.categories.tolist()
        data[column] = data[column].cat.codes.replace(-1, np.nan)
    return data.to_numpy(dtype=np.float64), frame[target].to_numpy(), categories or None


def load_adult(data_home=None, *, as_frame=True, return_X_y=False):
    """Load UCI Adult (census income): 48,842 people, is their income above 50K?

    The training part (32,561 rows) followed by the test part (16,281 rows), as in
    OpenML data set 1590 (which :func:`fairlearn.datasets.fetch_adult` returns). The local
    files are read from ``data_home/adult/`` or ``$SKLILAW_DATA/adult/``; without them
    the data set is downloaded from OpenML, with ``data_home`` as the download cache.

    ==================  ===================================================
    Samples             48,842 (rows 0-32,560 train, 32,561-48,841 test)
    Features            14: 6 integer, 8 categorical (``category`` dtype)
    Missing values      as NaN, in ``workclass``, ``occupation``, ``native-country``
    Target              ``class``: ``'<=50K'`` (76%) or ``'>50K'`` (24%)
    Sensitive features  ``sex``, ``race`` (and ``age``)
    ==================  ===================================================

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder that holds ``adult/adult.data`` and ``adult/adult.test`` (the UCI files,
        with or without a header line; values separated by commas, ``?`` for missing
        values). ``None`` uses the environment variable ``SKLILAW_DATA``.
    as_frame : bool, default=True
        Return pandas objects (categorical columns as ``category`` dtype). Otherwise
        ``data`` is a float array with each categorical value replaced by its index in
        ``categories[column]`` (missing values as NaN), and ``target`` an object array.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (DataFrame of shape (48842, 14) or ndarray), ``target`` (Series named
        ``class`` or ndarray; ``'<=50K'`` or ``'>50K'``), ``frame`` (data and target,
        or None when ``as_frame=False``), ``feature_names`` (OpenML 1590's column
        names), ``target_names`` (``['class']``, the name of the target column, as in
        :func:`sklearn.datasets.fetch_openml`), ``categories`` (the categories of each
        categorical feature when ``as_frame=False``, else None) and ``DESCR``.
    (data, target) : tuple
        When ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        When there are no local files and the download fails (no network); the message
        says where to put the files.

    Examples
    --------
    >>> from sklilaw.datasets import load_adult
    >>> X, y = load_adult(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, y.value_counts().to_dict()  # doctest: +SKIP
    ((48842, 14), {'<=50K': 37155, '>50K': 11687})
    """
    folder = _data_dir(data_home)
    if folder is not None and all((folder / "adult" / name).is_file() for name in ADULT_FILES):
        frame, descr = _read_adult(folder / "adult"), _adult_description(folder / "adult")
    else:
        frame, descr = _fetch_adult_online(data_home)
    frame = _sorted_categories(frame)
    return _bunch(frame, ADULT_FEATURES, ADULT_TARGET, descr, as_frame, return_X_y)


def _bunch(frame, feature_names, target, descr, as_frame, return_X_y):
    if as_frame:
        data, y, categories = frame[feature_names], frame[target], None
    else:
        data, y, categories = _as_arrays(frame, feature_names, target)
    if return_X_y:
        return data, y
    return Bunch(
        data=data,
        target=y,
        frame=frame if as_frame else None,
        feature_names=list(feature_names),
        target_names=[target],
        categories=categories,
        DESCR=descr,
    )


def load_ecg5000(data_home=None, *, subset="train", as_frame=False, return_X_y=False):
    """Load ECG5000: heartbeats of 140 samples in 5 classes, the UCR archive's split.

    From the UCR time-series archive (BIDMC congestive heart failure database). The
    archive splits the 5,000 heartbeats into a training part of 500 and a test part of
    4,500; its papers train on the first and report accuracy on the second. Classes are
    imbalanced:

    ========  ======  ==================================
    subset    rows    heartbeats of classes 1-5
    ========  ======  ==================================
    train     500     292, 177, 10, 19, 2
    test      4,500   2,627, 1,590, 86, 175, 22
    all       5,000   train rows first, then test rows
    ========  ======  ==================================

    There is no online fallback: the files are read from ``data_home/ecg5000/`` or
    ``$SKLILAW_DATA/ecg5000/`` (``ECG5000_TRAIN.txt`` and ``ECG5000_TEST.txt``, one
    heartbeat per line: the class, then the 140 values, separated by whitespace).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder that holds ``ecg5000/ECG5000_TRAIN.txt`` and ``ecg5000/ECG5000_TEST.txt``.
        ``None`` uses the environment variable ``SKLILAW_DATA``.
    subset : {"train", "test", "all"}, default="train"
        The part to load, as in :func:`sklearn.datasets.fetch_20newsgroups`: the
        training part, the test part, or both (training rows first).
    as_frame : bool, default=False
        Return a DataFrame (columns ``t000`` to ``t139``) and a Series named ``class``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (float array of shape (n_heartbeats, 140) or DataFrame), ``target`` (int
        class labels 1-5), ``frame`` (or None when ``as_frame=False``),
        ``feature_names``, ``target_names`` (``['class']``), ``categories`` (None) and
        ``DESCR``.
    (data, target) : tuple
        When ``return_X_y=True``.

    Raises
    ------
    ValueError
        When ``subset`` is not one of ``"train"``, ``"test"``, ``"all"``.
    FileNotFoundError
        When a file of the subset is not there; the message names it and says where to
        put it.

    Examples
    --------
    >>> from sklilaw.datasets import load_ecg5000
    >>> X_train, y_train = load_ecg5000(return_X_y=True)  # doctest: +SKIP
    >>> X_test, y_test = load_ecg5000(subset="test", return_X_y=True)  # doctest: +SKIP
    >>> X_train.shape, X_test.shape  # doctest: +SKIP
    ((500, 140), (4500, 140))
    >>> np.bincount(y_train)[1:].tolist()  # doctest: +SKIP
    [292, 177, 10, 19, 2]
    """
    if subset not in ECG5000_FILES:
        raise ValueError(
            f"subset={subset!r} is not one of {list(ECG5000_FILES)}: 'train' is the UCR "
            "archive's training part, 'test' its test part, 'all' both."
        )
    folder = _data_dir(data_home)
    names = ECG5000_FILES[subset]
    missing = [
        name for name in names if folder is None or not (folder / "ecg5000" / name).is_file()
    ]
    if missing:
        layout = " and ".join(f"ecg5000/{name}" for name in missing)
        what = f"ECG5000 ({', '.join(missing)})"
        raise FileNotFoundError(
            _missing_data_message(what, f"{layout} (the UCR archive's files)", data_home)
        )
    paths = [folder / "ecg5000" / name for name in names]
    values = np.concatenate([np.loadtxt(path, ndmin=2) for path in paths])
    feature_names = [f"t{i:03d}" for i in range(values.shape[1] - 1)]
    frame = pd.DataFrame(values[:, 1:], columns=feature_names)
    frame["class"] = values[:, 0].astype(np.int64)
    parts = {"train": "training part", "test": "test part", "all": "training and test parts"}
    read = ", ".join(str(path) for path in paths)
    descr = f"ECG5000, the UCR archive's {parts[subset]}, read from {read}."
    return _bunch(frame, feature_names, "class", descr, as_frame, return_X_y)
