"""Property-based fuzzing of fit / predict / predict_proba / difficulty with hostile input.

Every generated case either works, or raises a ValueError or TypeError, before training
and leaving the estimator unfitted, whose message names a problem the case really has.
Run with ``-s`` to see how many cases ran and which errors they raised.
"""

import math
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sklilaw import LiLAWClassifier

FLOAT32_MAX = float(np.finfo(np.float32).max)
SPECIALS = [None, "nan", "inf", "huge", "tiny", "large"]
X_KINDS = [
    "float64",
    "float32",
    "float16",
    "int",
    "bool",
    "object",
    "nullable",
    "categorical-numbers",
    "categorical-strings",
    "csr",
    "csc",
]
Y_KINDS = [
    "int",
    "negative",
    "str",
    "object-str",
    "bool",
    "mixed",
    "float",
    "float-nan",
    "category",
    "nullable-int",
    "str-with-none",
]

# kind -> (pattern of the message, whether the case has that problem)
ERRORS = {
    "NaN in X": (r"Input X contains NaN", lambda c: c["nan"]),
    "inf in X": (r"Input X contains infinity", lambda c: c["inf"]),
    "X beyond float32": (r"too large for float32", lambda c: c["huge"]),
    "strings in X": (
        r"could not convert string to float|Unable to convert",
        lambda c: c["strings"],
    ),
    "NaN in y": (r"Input y contains NaN", lambda c: c["y_missing"]),
    "missing labels": (r"y contains missing labels", lambda c: c["y_missing"]),
    "mixed labels": (r"y mixes string labels", lambda c: c["y_kind"] == "mixed"),
    "continuous labels": (r"Unknown label type: continuous", lambda c: c["y_kind"] == "float"),
    "class of 1 sample": (r"has only 1 sample", lambda c: c["min_count"] == 1),
    "split too small": (
        r"stratified split needs at least",
        lambda c: min(c["n_val"], c["n_samples"] - c["n_val"]) < c["n_classes"],
    ),
}


@st.composite
def cases(draw):
    y_kind = draw(st.sampled_from(Y_KINDS))
    n_classes = 2 if y_kind == "bool" else draw(st.sampled_from([2, 3, 5, 12]))
    counts = draw(st.lists(st.integers(2, 8), min_size=n_classes, max_size=n_classes))
    if draw(st.sampled_from([False] * 4 + [True])):  # a class of a single sample
        counts[0] = 1
    n_features = draw(st.integers(1, 4))
    y_index = np.repeat(np.arange(n_classes), counts)
    n = len(y_index)
    validation_fraction = draw(st.sampled_from([0.15, 0.5]))
    values = draw(arrays(np.float64, (n, n_features), elements=st.floats(-5, 5, width=32)))
    special = draw(st.sampled_from([None] * 4 + SPECIALS))
    row, col = draw(st.integers(0, n - 1)), draw(st.integers(0, n_features - 1))
    values[row, col] = {
        None: values[row, col],
        "nan": np.nan,
        "inf": -np.inf,
        "huge": 1e300,
        "tiny": 1e-300,
        "large": 1e30,
    }[special]
    x_kind = draw(st.sampled_from(X_KINDS))
    X, values = _make_X(values, x_kind)
    y, y_missing = _make_y(y_index, y_kind, draw(st.integers(0, n - 1)))
    numbers = np.asarray(values, dtype=np.float64)
    case = dict(
        x_kind=x_kind,
        y_kind=y_kind,
        special=special,
        n_classes=n_classes,
        min_count=min(counts),
        n_samples=n,
        validation_fraction=validation_fraction,
        n_val=math.ceil(validation_fraction * n),
        nan=bool(np.isnan(numbers).any()),
        inf=bool(np.isinf(numbers).any()),
        huge=bool((np.abs(numbers[np.isfinite(numbers)]) > FLOAT32_MAX).any()),
        strings=x_kind == "categorical-strings",
        y_missing=y_missing,
    )
    return X, y, case


def _make_X(values, kind):
    """X of the given kind, and the numbers it stands for (NaN where a value is missing)."""
    missing = np.isnan(values)
    if kind in ("float64", "csr", "csc"):
        X = values if kind == "float64" else getattr(sp, f"{kind}_matrix")(values)
    elif kind in ("float32", "float16"):
        with np.errstate(over="ignore"):  # values beyond the dtype become inf, as intended
            X = values.astype(kind)
        values = X.astype(np.float64)
    elif kind == "int":
        values = np.nan_to_num(np.round(values), posinf=2**62, neginf=-(2**62))
        values = np.clip(values, -(2**62), 2**62)
        X = values.astype(np.int64)
        values = X.astype(np.float64)
    elif kind == "bool":
        X = values > 0
        values = X.astype(np.float64)
    elif kind == "object":  # numbers of mixed Python types, None where missing
        X = np.array(
            [[None if np.isnan(v) else int(v) if v.is_integer() else v for v in r] for r in values],
            dtype=object,
        )
    elif kind == "nullable":
        X = pd.DataFrame(
            {
                f"f{j}": pd.array(np.where(missing[:, j], None, values[:, j]), dtype="Float64")
                for j in range(values.shape[1])
            }
        )
        X["flag"] = pd.array(values[:, 0] > 0, dtype="boolean")
        values = np.c_[values, values[:, 0] > 0]
    else:
        categories = np.round(np.nan_to_num(values[:, 0]))
        if kind == "categorical-strings":
            categories = np.array([f"level {v:.0f}" for v in categories])
        X = pd.DataFrame({"c": pd.Categorical(categories)})
        for j in range(1, values.shape[1]):
            X[f"f{j}"] = values[:, j]
        # what the estimator reads from column c: the categories' numbers (an infinity
        # became the largest float64), nothing numeric for strings
        shown = categories if kind == "categorical-numbers" else np.zeros(len(values))
        values = np.c_[shown, values[:, 1:]]
    return X, values


def _make_y(index, kind, where):
    """Labels of the given kind for class indices; and whether one label is missing."""
    if kind == "int":
        return index * 3 + 1, False
    if kind == "negative":
        return -index - 5, False
    if kind == "bool":
        return index.astype(bool), False
    if kind in ("str", "object-str"):
        labels = np.array([f"class {i}" for i in index])
        return (labels.astype(object) if kind == "object-str" else labels), False
    if kind == "mixed":
        return np.array([i if i % 2 else f"class {i}" for i in index], dtype=object), False
    if kind == "float":
        return index + 0.5, False
    if kind == "float-nan":
        y = index.astype(np.float64)
        y[where] = np.nan
        return y, True
    if kind == "category":
        return pd.Series(pd.Categorical([f"c{i}" for i in index])), False
    if kind == "nullable-int":
        return pd.Series(pd.array(index, dtype="Int64")), False
    y = np.array([f"class {i}" for i in index], dtype=object)
    y[where] = None
    return y, True


SEEN = Counter()


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    total = sum(SEEN.values())
    print(f"\nfuzzed {total} cases: " + ", ".join(f"{k}: {v}" for k, v in SEEN.most_common()))


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_fit_predict_and_difficulty_work_or_name_the_problem(case):
    X, y, info = case
    clf = LiLAWClassifier(
        max_epochs=2,
        batch_size=8,
        hidden_layer_sizes=(8,),
        validation_fraction=info["validation_fraction"],
        random_state=0,
    )
    try:
        clf.fit(X, y)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        kinds = [k for k, (pattern, _) in ERRORS.items() if re.search(pattern, message)]
        assert kinds, f"unexpected error for {info}: {type(exc).__name__}: {message}"
        assert ERRORS[kinds[0]][1](info), f"{kinds[0]} raised, but {info}"
        with pytest.raises(NotFittedError):
            check_is_fitted(clf)
        assert clf.history_ is None  # refused before training started
        SEEN[kinds[0]] += 1
        return
    must_fail = [k for k in ("nan", "inf", "huge", "strings", "y_missing") if info[k]]
    assert not must_fail, f"fit accepted {must_fail}: {info}"
    assert info["y_kind"] not in ("mixed", "float") and info["min_count"] > 1
    classes = clf.classes_
    assert len(classes) == info["n_classes"]
    predicted = clf.predict(X)
    assert np.isin(predicted, classes).all() and len(predicted) == len(y)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    frame = clf.difficulty(X, y)
    assert np.isfinite(frame[["label_quality", "p_max", "lilaw_weight"]].to_numpy()).all()
    assert frame["lilaw_weight"].between(0, 3, inclusive="neither").all()
    SEEN["fitted"] += 1


# ------------------------------------------------------- regressions the fuzzing found
def _iris_like():
    rng = np.random.RandomState(0)
    return rng.normal(size=(40, 3)), np.repeat([0, 1], 20)


@pytest.mark.parametrize(
    "make_X",
    [
        lambda X: np.where(np.arange(X.size).reshape(X.shape) == 4, 1e300, X),
        lambda X: sp.csr_matrix(np.where(np.arange(X.size).reshape(X.shape) == 4, -1e39, X)),
        lambda X: pd.DataFrame(np.where(np.arange(X.size).reshape(X.shape) == 4, 1e300, X)).astype(
            "Float64"
        ),
    ],
    ids=["float64", "sparse", "nullable"],
)
def test_values_beyond_float32_are_refused_before_training(make_X):
    X, y = _iris_like()
    clf = LiLAWClassifier(max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match="Input X contains values too large for float32"):
        clf.fit(make_X(X), y)  # they used to become inf in the network, failing mid-training
    assert clf.history_ is None
    clf.fit(X, y)
    with pytest.raises(ValueError, match="too large for float32"):
        clf.predict_proba(make_X(X))  # used to give NaN probabilities
    with pytest.raises(ValueError, match="Input X_val contains values too large"):
        clf.fit(X, y, X_val=make_X(X), y_val=y)


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.array(["a", None], dtype=object), r"y contains missing labels .* at rows \[20"),
        (np.array(["a", np.nan], dtype=object), r"y contains missing labels .* at rows \[20"),
        (np.array(["a", 3], dtype=object), r"y mixes string labels .*\(int, str\)"),
    ],
    ids=["None", "NaN", "str-and-int"],
)
def test_missing_and_mixed_labels_are_named(labels, message):
    X, y = _iris_like()
    clf = LiLAWClassifier(max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match=message):  # used to be a TypeError from a sort
        clf.fit(X, labels[y])
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    clf.fit(X, np.array(["a", "b"])[y])
    with pytest.raises(ValueError, match=message.replace("y ", "y_val ", 1)):
        clf.fit(X, np.array(["a", "b"])[y], X_val=X, y_val=labels[y])
    with pytest.raises(ValueError, match=message):
        clf.difficulty(X, labels[y])
