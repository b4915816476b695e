"""save_estimator / load_estimator: a fitted estimator in one safetensors file, no pickle."""

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from skorch.callbacks import ProgressBar
from skorch.exceptions import DeviceWarning
from torch import nn

from sklilaw import FocalLoss, LiLAWClassifier, load_estimator, save_estimator

FAST = dict(max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _round_trip(clf, tmp_path, **params):
    path = tmp_path / "model.safetensors"
    save_estimator(clf, path)
    return load_estimator(path, **params)


def test_a_loaded_estimator_predicts_exactly_as_the_saved_one(iris, tmp_path):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"], index=np.arange(150) * 3)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = LiLAWClassifier(**FAST, hidden_layer_sizes=(8, 4), module__dropout=0.1).fit(frame, labels)
    loaded = _round_trip(clf, tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(frame), clf.predict_proba(frame))
    np.testing.assert_array_equal(loaded.predict(frame), clf.predict(frame))
    assert loaded.predict(frame).dtype == clf.predict(frame).dtype
    assert (loaded.alpha_, loaded.beta_, loaded.delta_) == (clf.alpha_, clf.beta_, clf.delta_)
    assert loaded.get_params(deep=False) == clf.get_params(deep=False)
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    assert loaded.n_features_in_ == 4
    assert loaded.history == clf.history
    pd.testing.assert_frame_equal(loaded.label_issues_, clf.label_issues_)
    pd.testing.assert_frame_equal(loaded.difficulty(frame, labels), clf.difficulty(frame, labels))
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame.rename(columns={"a": "z"}))


def test_every_column_of_label_issues_and_what_noise_handling_kept_round_trip(iris, tmp_path):
    """The synthetic column of label_issues_ and best_params_ (the kept configuration)
    survive a save and a load, as do trainings_."""
    X, y = iris
    synthetic = np.arange(len(y)) % 5 == 0
    clf = LiLAWClassifier(**FAST, noise_handling="auto").fit(X, y, synthetic=synthetic)
    loaded = _round_trip(clf, tmp_path)
    assert loaded.label_issues_["synthetic"].tolist() == synthetic.tolist()
    pd.testing.assert_frame_equal(loaded.label_issues_, clf.label_issues_)
    pd.testing.assert_frame_equal(loaded.trainings_, clf.trainings_)
    assert loaded.best_params_ == clf.best_params_ and "early_stopping" in clf.best_params_
    assert type(loaded.criterion_.loss) is type(clf.criterion_.loss)
    assert loaded.get_params(deep=False) == clf.get_params(deep=False)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize(
    "index",
    [
        pd.date_range("2024-03-30", periods=150, freq="h", tz="Europe/Paris"),
        pd.MultiIndex.from_arrays([np.arange(150) % 3, np.arange(150)], names=["site", None]),
        pd.period_range("2000-01", periods=150, freq="M", name="month"),
    ],
    ids=["tz-aware-dates", "multiindex", "periods"],
)
def test_the_index_of_X_round_trips_whatever_its_kind(iris, tmp_path, index):
    X, y = iris
    frame = pd.DataFrame(X, columns=list("abcd"), index=index)
    clf = LiLAWClassifier(**FAST).fit(frame, y)
    pd.testing.assert_frame_equal(_round_trip(clf, tmp_path).label_issues_, clf.label_issues_)


def test_an_index_of_other_objects_is_named_as_the_problem(iris, tmp_path):
    X, y = iris
    frame = pd.DataFrame(X, columns=list("abcd"), index=[object() for _ in range(150)])
    clf = LiLAWClassifier(**FAST).fit(frame, y)
    with pytest.raises(ValueError, match="index of X .* neither numbers, strings, booleans nor"):
        save_estimator(clf, tmp_path / "model.safetensors")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_missing_folders_and_folders_are_refused_with_the_path(iris, tmp_path):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    with pytest.raises(FileNotFoundError, match="create it first.*nope"):
        save_estimator(clf, tmp_path / "nope" / "model.safetensors")
    with pytest.raises(IsADirectoryError, match="writes a file, not a folder"):
        save_estimator(clf, tmp_path)
    with pytest.raises(FileNotFoundError, match="No file to load.*missing.safetensors"):
        load_estimator(tmp_path / "missing.safetensors")
    with pytest.raises(IsADirectoryError, match="reads a file, not a folder"):
        load_estimator(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_header_nested_too_deep_is_a_value_error(iris, tmp_path):
    X, y = iris
    path = tmp_path / "model.safetensors"
    save_estimator(LiLAWClassifier(**FAST).fit(X, y), path)
    with safe_open(path, framework="pt") as file:
        metadata = file.metadata()
        tensors = {key: file.get_tensor(key) for key in file.keys()}
    for header in [
        metadata["estimator"][:-1] + ', "extra": ' + "[" * 100_000 + "]" * 100_000 + "}",
        json.dumps({**json.loads(metadata["estimator"]), "classes": 3}),
        "[1, 2]",
    ]:
        save_file(tensors, path, metadata={**metadata, "estimator": header})
        with pytest.raises(ValueError, match="malformed header|format version"):
            load_estimator(path)


def test_loading_onto_a_device_torch_cannot_use_is_named(iris, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA is usable here")
    X, y = iris
    path = tmp_path / "model.safetensors"
    save_estimator(LiLAWClassifier(**FAST).fit(X, y), path)
    with pytest.raises(ValueError, match="device='cuda' cannot be used with this torch"):
        load_estimator(path, device="cuda")


def test_a_model_loads_and_predicts_under_a_float64_default(iris, tmp_path):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_estimator(clf, path)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        proba = load_estimator(path).predict_proba(X)
    finally:
        torch.set_default_dtype(default)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-6)


def test_skops_stores_a_pipeline_and_a_meta_estimator_around_the_classifier(iris):
    """The fitted tables (label_issues_, trainings_) are held as arrays in the pickled
    state, which skops can store: a Pipeline, OneVsRest and Bagging round-trip."""
    from sklearn.ensemble import BaggingClassifier
    from sklearn.multiclass import OneVsRestClassifier

    skops_io = pytest.importorskip("skops.io")
    X, y = iris
    for model in [
        make_pipeline(StandardScaler(), LiLAWClassifier(**FAST)),
        OneVsRestClassifier(LiLAWClassifier(**FAST)),
        BaggingClassifier(LiLAWClassifier(**FAST), n_estimators=2, random_state=0),
    ]:
        model.fit(X, y)
        data = skops_io.dumps(model)
        loaded = skops_io.loads(data, trusted=skops_io.get_untrusted_types(data=data))
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    last = loaded.estimators_[0]
    pd.testing.assert_frame_equal(last.label_issues_, model.estimators_[0].label_issues_)
    pd.testing.assert_frame_equal(last.trainings_, model.estimators_[0].trainings_)
    unpickled = pickle.loads(pickle.dumps(last))
    pd.testing.assert_frame_equal(unpickled.label_issues_, last.label_issues_)


def test_training_continues_as_if_never_saved(iris, tmp_path):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    loaded = _round_trip(clf, tmp_path)  # the optimizer's state (Adam's moments) came along
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.alpha_ == clf.alpha_ and len(loaded.history) == 6


@pytest.mark.parametrize(
    "labels",
    [
        np.array([-7, 0, 12]),
        np.array([True, False, True]),
        np.array(["a", "b", "c"], dtype=object),
        np.array(
            [np.datetime64("2020-01-01"), np.datetime64("2021-01-01"), np.datetime64("2022-01-01")]
        ),
    ],
    ids=["negative-ints", "bools", "object-strings", "dates"],
)
def test_classes_keep_their_dtype(iris, tmp_path, labels):
    X, y = iris
    clf = LiLAWClassifier(**{**FAST, "max_epochs": 1}).fit(X, labels[y])
    loaded = _round_trip(clf, tmp_path)
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


class _Net(nn.Module):
    def __init__(self, width=5):
        super().__init__()
        self.hidden = nn.Linear(4, width)
        self.out = nn.Linear(width, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def test_a_custom_module_is_given_back_by_the_caller(iris, tmp_path):
    X, y = iris
    clf = LiLAWClassifier(_Net, module__width=6, criterion=FocalLoss, **FAST).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_estimator(clf, path)
    with pytest.raises(ValueError, match=r"module \(the class .*test_persistence._Net\)"):
        load_estimator(path)
    loaded = load_estimator(path, module=_Net)
    assert loaded.module_.hidden.out_features == 6  # module__width came from the file
    assert isinstance(loaded.criterion_.loss, FocalLoss)  # an allow-listed class
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="module given to load_estimator"):
        load_estimator(path, module=_Net, module__width=7)


def test_instances_callbacks_and_tensor_parameters(iris, tmp_path):
    X, y = iris
    weight = torch.tensor([1.0, 2.0, 0.5])
    clf = LiLAWClassifier(
        criterion=nn.CrossEntropyLoss(reduction="none"),
        callbacks=[ProgressBar()],
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        **FAST,
    ).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_estimator(clf, path)
    with pytest.raises(ValueError, match=r"criterion \(an instance of .*CrossEntropyLoss\)"):
        load_estimator(path, callbacks=None)
    loaded = load_estimator(path, criterion=nn.CrossEntropyLoss(reduction="none"), callbacks=None)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert (
        loaded.optimizer_.state_dict()["param_groups"]
        == clf.optimizer_.state_dict()["param_groups"]
    )

    weighted = LiLAWClassifier(criterion__weight=weight, **FAST).fit(X, y)
    loaded = _round_trip(weighted, tmp_path)
    assert torch.equal(loaded.get_params()["criterion__weight"], weight)
    np.testing.assert_array_equal(loaded.predict_proba(X), weighted.predict_proba(X))


def test_loading_leaves_torch_global_random_state_alone(iris, tmp_path):
    X, y = iris
    path = tmp_path / "model.safetensors"
    save_estimator(LiLAWClassifier(**FAST).fit(X, y), path)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    load_estimator(path)
    assert torch.equal(torch.rand(3), expected)


def test_only_fitted_lilaw_classifiers_are_saved(tmp_path):
    with pytest.raises(NotFittedError):
        save_estimator(LiLAWClassifier(), tmp_path / "model.safetensors")
    with pytest.raises(TypeError, match="LiLAWClassifier"):
        save_estimator(StandardScaler(), tmp_path / "model.safetensors")


# ------------------------------------------------------------------------- pipelines
def _times_two(X):
    return X * 2


def test_a_pipeline_round_trip_predicts_exactly_as_the_saved_one(iris, tmp_path):
    pytest.importorskip("skops")
    X, y = iris
    pipe = make_pipeline(StandardScaler(), LiLAWClassifier(**FAST)).fit(X, y)
    loaded = _round_trip(pipe, tmp_path)
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipe.steps]
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    assert loaded[-1].alpha_ == pipe[-1].alpha_
    loaded.fit(X, y)  # a loaded pipeline fits again like any other


def test_a_column_transformer_pipeline_on_adult_round_trips(tmp_path):
    pytest.importorskip("skops")
    folder = os.environ.get("SKLILAW_DATA")
    if not folder or not os.path.isfile(os.path.join(folder, "adult", "adult.test")):
        pytest.skip("needs UCI Adult: set SKLILAW_DATA to the folder that holds adult/")
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    from sklilaw.datasets import load_adult

    X, y = load_adult(return_X_y=True)
    X, y = X.iloc[:3000], y.iloc[:3000]
    features = ColumnTransformer(
        [
            ("numbers", StandardScaler(), ["age", "education-num", "hours-per-week"]),
            ("categories", OneHotEncoder(handle_unknown="ignore"), ["workclass", "education"]),
        ],
        sparse_threshold=0,
    )
    pipe = make_pipeline(features, LiLAWClassifier(**FAST)).fit(X, y)
    path = tmp_path / "adult.safetensors"
    save_estimator(pipe, path)
    with safe_open(path, framework="pt") as file:  # one file: tensors and data, no pickle
        assert set(file.metadata()) == {"format", "estimator", "pipeline"}
    loaded = load_estimator(path)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    pd.testing.assert_frame_equal(loaded[-1].label_issues_, pipe[-1].label_issues_)


def test_a_pipeline_with_untrusted_types_needs_them_named(iris, tmp_path):
    pytest.importorskip("skops")
    X, y = iris
    pipe = make_pipeline(FunctionTransformer(_times_two), LiLAWClassifier(**FAST)).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_estimator(pipe, path)
    with pytest.raises(ValueError, match="types that skops does not trust.*_times_two"):
        load_estimator(path)
    trusted = [name for name in _skops_untrusted(path)]
    loaded = load_estimator(path, trusted=trusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def _skops_untrusted(path):
    import base64

    import skops.io

    with safe_open(path, framework="pt") as file:
        data = base64.b64decode(file.metadata()["pipeline"])
    return skops.io.get_untrusted_types(data=data)


def test_only_pipelines_that_end_in_a_fitted_lilaw_classifier_are_saved(iris, tmp_path):
    X, y = iris
    path = tmp_path / "model.safetensors"
    with pytest.raises(TypeError, match="last step 'logisticregression' is a LogisticRegression"):
        save_estimator(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), path)
    with pytest.raises(NotFittedError):
        save_estimator(make_pipeline(StandardScaler(), LiLAWClassifier()), path)
    assert not path.exists()


# ----------------------------------------------------------------------- hostile files
class _Payload:
    """Unpickling this creates a directory: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


@pytest.mark.parametrize("writer", ["pickle", "torch.save", "pickle after a valid header"])
def test_a_file_carrying_a_pickle_is_refused_and_runs_no_code(iris, tmp_path, writer):
    X, y = iris
    path = tmp_path / "model.safetensors"
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Payload(marker))
    if writer == "pickle":
        path.write_bytes(payload)
    elif writer == "torch.save":
        torch.save({"module": _Payload(marker)}, path)
    else:  # a real file whose tensor bytes are replaced by a pickle
        save_estimator(LiLAWClassifier(**FAST).fit(X, y), path)
        data = path.read_bytes()
        header_end = 8 + int.from_bytes(data[:8], "little")
        path.write_bytes(data[:header_end] + payload)
    with pytest.raises(ValueError, match="safetensors|never unpickles"):
        load_estimator(path)
    assert not marker.exists()


def _rewrite(path, edit):
    with safe_open(path, framework="pt") as file:
        metadata = file.metadata()
        tensors = {k: file.get_tensor(k) for k in file.keys()}
    header = json.loads(metadata["estimator"])
    edit(header)
    save_file(tensors, path, metadata={**metadata, "estimator": json.dumps(header)})


def test_a_file_naming_a_class_outside_the_allow_list_is_refused(iris, tmp_path):
    X, y = iris
    path = tmp_path / "model.safetensors"
    save_estimator(LiLAWClassifier(**FAST).fit(X, y), path)
    _rewrite(path, lambda h: h["params"].update(criterion={"class": "os.system"}))
    with pytest.raises(ValueError, match="'os.system', which is not among the classes"):
        load_estimator(path)


def test_other_safetensors_files_are_refused(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_file({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="not one written by save_estimator"):
        load_estimator(path)


# ---------------------------------------------------------------------------- devices
@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the fallback without CUDA")
def test_a_model_saved_from_cuda_loads_on_the_cpu(iris, tmp_path):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    path = tmp_path / "model.safetensors"
    save_estimator(clf, path)
    _rewrite(path, lambda h: h.update(device="cuda:0"))  # as written by a CUDA fit
    with pytest.warns(DeviceWarning, match="no CUDA devices"):
        loaded = load_estimator(path)
    assert loaded.device == "cpu" and loaded.criterion_.meta_params.device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert load_estimator(path, device="cpu").device == "cpu"  # no warning when asked


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_fit_loads_on_the_cpu_and_on_cuda(iris, tmp_path):
    X, y = iris
    clf = LiLAWClassifier(**FAST, device="cuda").fit(X, y)
    path = tmp_path / "model.safetensors"
    save_estimator(clf, path)
    on_cuda = load_estimator(path)
    assert on_cuda.criterion_.meta_params.is_cuda
    np.testing.assert_array_equal(on_cuda.predict_proba(X), clf.predict_proba(X))
    on_cpu = load_estimator(path, device="cpu")
    np.testing.assert_allclose(on_cpu.predict_proba(X), clf.predict_proba(X), rtol=1e-5)
    assert on_cpu.alpha_ == clf.alpha_
