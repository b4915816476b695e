"""Saving and loading a fitted LiLAWClassifier without pickle: safetensors plus JSON.

One ``.safetensors`` file holds every tensor (the module's and the criterion's state,
which carries ``alpha, beta, delta``, and the optimizer's state) and, in its metadata,
one JSON document with the rest: constructor parameters that are plain data,
``classes_``, ``n_features_in_``, ``feature_names_in_``, the history and
``label_issues_``. Loading parses JSON and raw tensor bytes only, so a file can carry
no code. Classes are stored by name and resolved only from a fixed allow-list (torch's
losses and optimizers, sklilaw's losses and iterators, ``DataLoader``), looked up in a
dictionary and never imported; anything else, a custom module first of all, is given
back to :func:`load_estimator` by the caller.
"""

import base64
import errno
import json
import os
import tempfile
from contextlib import contextmanager
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from skorch.history import History
from skorch.utils import get_map_location
from torch import nn

from ._batches import TensorBatches
from ._classifier import LiLAWClassifier
from ._label_issues import LABEL_ISSUE_COLUMNS
from ._loss import FocalLoss, GeneralizedCrossEntropy
from ._random_streams import TORCH_RANDOM_LOCK
from ._validation import check_device
from ._weighting import CATEGORIES

FORMAT = "sklilaw.LiLAWClassifier"
FORMAT_VERSION = 2


def _dotted(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _allowed_classes():
    losses = [
        c
        for c in vars(nn.modules.loss).values()
        if isinstance(c, type)
        and issubclass(c, nn.Module)
        and c.__module__ == nn.modules.loss.__name__
    ]
    optimizers = [
        c
        for c in vars(torch.optim).values()
        if isinstance(c, type) and issubclass(c, torch.optim.Optimizer)
    ]
    extra = [FocalLoss, GeneralizedCrossEntropy, TensorBatches, torch.utils.data.DataLoader]
    return {_dotted(c): c for c in [*losses, *optimizers, *extra]}


_ALLOWED = _allowed_classes()


class _Unstorable(Exception):
    """A value that neither JSON nor the allow-list of classes can hold."""


def _encode(value, tensors, key):
    """JSON form of a parameter value; tensors go to ``tensors`` under ``key``.

    Tuples, dicts, allowed classes and tensors are tagged so that they decode to what
    they were; a dict is always tagged, so no user dict can pass for a tag.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, list):
        return [_encode(v, tensors, f"{key}.{i}") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, tensors, f"{key}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v, tensors, f"{key}.{k}") for k, v in value.items()}}
    if isinstance(value, type) and _ALLOWED.get(_dotted(value)) is value:
        return {"class": _dotted(value)}
    if isinstance(value, torch.Tensor):
        tensors[key] = value
        return {"tensor": key}
    raise _Unstorable


def _decode(value, tensors):
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    ((tag, content),) = value.items()
    if tag == "tuple":
        return tuple(_decode(v, tensors) for v in content)
    if tag == "dict":
        return {k: _decode(v, tensors) for k, v in content.items()}
    if tag == "class":
        if content not in _ALLOWED:
            raise ValueError(
                f"The file names the class {content!r}, which is not among the classes "
                "load_estimator resolves (torch's losses and optimizers, sklilaw's losses "
                "and iterators, DataLoader); pass the parameter to load_estimator instead."
            )
        return _ALLOWED[content]
    if tag == "tensor":
        return tensors[content]
    raise ValueError(f"Unknown tag {tag!r} in the file's parameters.")


def _describe(value):
    if isinstance(value, type):
        return f"the class {_dotted(value)}"
    return f"an instance of {_dotted(type(value))}"


def _encode_array(array, what):
    """JSON form of a 1-d array of labels, names or index values, keeping its dtype."""
    array = np.asarray(array)
    if array.dtype.kind in "mM":
        return {"dtype": array.dtype.str, "values": array.view("i8").tolist()}
    if array.dtype.kind in "biufU":
        return {"dtype": array.dtype.str, "values": array.tolist()}
    if array.dtype == object:
        scalars = (str, bool, np.bool_, Integral, Real)
        if all(isinstance(v, scalars) for v in array):
            return {"dtype": "|O", "values": [_encode(v, {}, "") for v in array]}
    raise ValueError(
        f"{what} holds values of dtype {array.dtype} that are neither numbers, strings, "
        "booleans nor dates, which a JSON file cannot hold."
    )


def _decode_array(encoded):
    dtype = np.dtype(encoded["dtype"])
    if dtype.kind in "mM":
        return np.array(encoded["values"], dtype="i8").view(dtype)
    return np.array(encoded["values"], dtype=dtype)


def _cpu_copy(tensor):
    # own, contiguous CPU copies: safetensors refuses shared or strided storage, and a
    # CPU file loads on any machine
    return tensor.detach().to("cpu").clone(memory_format=torch.contiguous_format)


def _state_tensors(prefix, state_dict):
    return {f"{prefix}.{k}": v for k, v in state_dict.items()}


def _prefixed(tensors, prefix):
    start = len(prefix) + 1
    return {k[start:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def _optimizer_state(optimizer, tensors):
    state = optimizer.state_dict()
    extra = {}
    try:
        for param, values in state["state"].items():
            for name, value in values.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.state.{param}.{name}"] = value
                else:  # e.g. LBFGS's counters and lists of tensors
                    key = f"optimizer.extra.{param}.{name}"
                    extra.setdefault(str(param), {})[name] = _encode(value, tensors, key)
        groups = _encode(state["param_groups"], tensors, "optimizer.groups")
    except _Unstorable as exc:
        raise ValueError(
            f"The state of the optimizer {type(optimizer).__name__} holds a value that "
            "neither a tensor file nor JSON can hold."
        ) from exc
    return {"param_groups": groups, "extra": extra}


def _load_optimizer_state(optimizer, encoded, tensors):
    state = {}
    for key, tensor in _prefixed(tensors, "optimizer.state").items():
        param, name = key.split(".", 1)
        state.setdefault(int(param), {})[name] = tensor
    for param, values in encoded["extra"].items():
        state.setdefault(int(param), {}).update(
            {name: _decode(value, tensors) for name, value in values.items()}
        )
    groups = _decode(encoded["param_groups"], tensors)
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def _label_issues(frame, classes, tensors):
    """``label_issues_`` as tensors, one per column of :data:`LABEL_ISSUE_COLUMNS` (labels
    as class indices, difficulties as category codes); its columns and index as JSON."""
    for name in frame.columns:
        kind, values = LABEL_ISSUE_COLUMNS[name], frame[name]
        if kind == "flag":
            array = values.to_numpy(bool)
        elif kind == "number":
            array = values.to_numpy(np.float64)
        elif kind == "label":
            array = np.searchsorted(classes, values.to_numpy())
        else:  # difficulty
            array = values.cat.codes.to_numpy(np.int8)
        tensors[f"label_issues.{name}"] = torch.tensor(array)
    return {"columns": frame.columns.tolist(), "index": _encode_index(frame.index)}


def _encode_index(index):
    """JSON form of the index of ``X`` (which labels ``label_issues_``' rows): a range,
    values (numbers, strings, booleans, dates), time-zone-aware dates, periods, or
    several levels of those."""
    name = _encode(index.name, {}, "") if not isinstance(index, pd.MultiIndex) else None
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": name}
    if isinstance(index, pd.MultiIndex):
        return {
            "levels": [_encode_index(level) for level in index.levels],
            "codes": [codes.tolist() for codes in index.codes],
            "names": [_encode(level_name, {}, "") for level_name in index.names],
        }
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return {"utc": index.asi8.tolist(), "tz": str(index.tz), "unit": index.unit, "name": name}
    if isinstance(index, pd.PeriodIndex):
        return {"periods": index.asi8.tolist(), "freq": index.freqstr, "name": name}
    values = _encode_array(index.to_numpy(), "The index of X (it labels label_issues_' rows)")
    return {"values": values, "dtype": str(index.dtype), "name": name}


def _decode_index(encoded):
    if "levels" in encoded:
        return pd.MultiIndex(
            levels=[_decode_index(level) for level in encoded["levels"]],
            codes=encoded["codes"],
            names=encoded["names"],
        )
    name = encoded["name"]
    if "range" in encoded:
        return pd.RangeIndex(*encoded["range"], name=name)
    if "utc" in encoded:
        utc = pd.DatetimeIndex(np.array(encoded["utc"], dtype=f"datetime64[{encoded['unit']}]"))
        return utc.tz_localize("UTC").tz_convert(encoded["tz"]).rename(name)
    if "periods" in encoded:
        return pd.PeriodIndex.from_ordinals(encoded["periods"], freq=encoded["freq"], name=name)
    return pd.Index(_decode_array(encoded["values"]), dtype=encoded["dtype"], name=name)


def _load_label_issues(encoded, classes, tensors):
    arrays = {k: v.numpy() for k, v in _prefixed(tensors, "label_issues").items()}
    columns = {}
    for name in encoded["columns"]:
        kind, array = LABEL_ISSUE_COLUMNS[name], arrays[name]
        if kind == "label":
            array = classes[array]
        elif kind == "difficulty":
            array = pd.Categorical.from_codes(array, categories=CATEGORIES)
        columns[name] = array
    return pd.DataFrame(columns, index=_decode_index(encoded["index"]))


def save_estimator(estimator, path):
    """Save a fitted :class:`LiLAWClassifier`, or a ``Pipeline`` ending in one, without pickle.

    The file is a safetensors file: the module's, the criterion's (``alpha``,
    ``beta``, ``delta``) and the optimizer's tensors, plus JSON metadata with the
    constructor parameters that are plain data (numbers, strings, tuples, lists, dicts,
    tensors, and classes from torch's losses and optimizers or sklilaw), ``classes_``,
    ``n_features_in_``, ``feature_names_in_``, the history, ``label_issues_``,
    ``trainings_`` and ``best_params_``. Other
    parameters (a custom module class or instance, callbacks, a ``RandomState``)
    are recorded by name only and must be passed to :func:`load_estimator`.

    A ``Pipeline`` whose last step is a LiLAWClassifier is saved to the same kind of
    file: the classifier as above, the other steps with `skops
    <https://skops.readthedocs.io>`_' safe persistence (``pip install skops``), which
    stores scikit-learn objects as data, not as pickles.

    Parameters
    ----------
    estimator : LiLAWClassifier or sklearn.pipeline.Pipeline
        A fitted estimator, or a fitted pipeline whose last step is one.
    path : str or os.PathLike
        The file to write (by convention with the suffix ``.safetensors``).

    Returns
    -------
    None
    """
    path = _file_to_write(path)
    metadata = {"format": FORMAT}
    if isinstance(estimator, Pipeline):
        metadata["pipeline"], estimator = _pipeline_steps(estimator)
    if not isinstance(estimator, LiLAWClassifier):
        raise TypeError(
            "save_estimator saves a LiLAWClassifier or a Pipeline that ends in one, got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    tensors = {
        **_state_tensors("module", estimator.module_.state_dict()),
        **_state_tensors("criterion", estimator.criterion_.state_dict()),
    }
    params, required = {}, {}
    for name, value in estimator.get_params(deep=False).items():
        if name == "device":
            continue
        try:
            params[name] = _encode(value, tensors, f"params.{name}")
        except _Unstorable:
            required[name] = _describe(value)
    classes = estimator.classes_
    header = {
        "format_version": FORMAT_VERSION,
        "params": params,
        "required": required,
        "device": str(estimator.device),
        "classes": _encode_array(classes, "classes_"),
        "n_features_in": estimator.n_features_in_,
        "feature_names_in": (
            _encode_array(estimator.feature_names_in_, "feature_names_in_")
            if hasattr(estimator, "feature_names_in_")
            else None
        ),
        "optimizer": _optimizer_state(estimator.optimizer_, tensors),
        "label_issues": (
            _label_issues(estimator.label_issues_, classes, tensors)
            if hasattr(estimator, "label_issues_")
            else None
        ),
        "trainings": (
            estimator.trainings_.to_dict(orient="list")
            if hasattr(estimator, "trainings_")
            else None
        ),
    }
    try:
        header["best_params"] = _encode(
            getattr(estimator, "best_params_", {}), tensors, "best_params"
        )
    except _Unstorable as exc:
        raise ValueError(
            f"best_params_ {estimator.best_params_} holds a value that a file cannot hold."
        ) from exc
    try:
        header["history"] = estimator.history.to_list()
        metadata["estimator"] = json.dumps(header)
    except TypeError as exc:
        raise ValueError(
            f"The estimator's history holds a value that JSON cannot store ({exc}); "
            "callbacks should record plain Python numbers."
        ) from exc
    _write_atomically(path, {k: _cpu_copy(v) for k, v in tensors.items()}, metadata)


def _file_to_write(path):
    """``path`` as a Path, refused before any work if it is a folder or its folder is
    missing (``IsADirectoryError``, ``FileNotFoundError``, both ``OSError``)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, "save_estimator writes a file, not a folder", str(path)
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(
            errno.ENOENT,
            "save_estimator writes into an existing folder; create it first",
            str(path.parent),
        )
    return path


def _write_atomically(path, tensors, metadata):
    """Write the file next to ``path``, then move it there: a failure leaves no half file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        save_file(tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _skops():
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "Saving and loading a Pipeline needs skops for its scikit-learn steps: "
            "pip install skops."
        ) from exc
    return skops.io


def _pipeline_steps(pipeline):
    """The pipeline without its LiLAWClassifier as skops data (base64), and the classifier."""
    *steps, (name, last) = pipeline.steps
    if not isinstance(last, LiLAWClassifier):
        raise TypeError(
            f"save_estimator saves a Pipeline whose last step is a LiLAWClassifier; its last "
            f"step {name!r} is a {type(last).__name__}."
        )
    check_is_fitted(last)
    skeleton = Pipeline([*steps, (name, "passthrough")], memory=pipeline.memory)
    return base64.b64encode(_skops().dumps(skeleton)).decode("ascii"), last


def _rebuild_pipeline(encoded, classifier, trusted, path):
    skops = _skops()
    data = base64.b64decode(encoded)
    untrusted = [t for t in skops.get_untrusted_types(data=data) if t not in (trusted or [])]
    if untrusted:
        raise ValueError(
            f"{path} holds a pipeline with types that skops does not trust by default: "
            f"{untrusted}. If you trust the file, pass them: load_estimator(path, "
            f"trusted={untrusted!r})."
        )
    skeleton = skops.loads(data, trusted=trusted)
    name = skeleton.steps[-1][0]
    skeleton.steps[-1] = (name, classifier)
    return skeleton


def _read(path):
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, "load_estimator reads a file, not a folder", str(path)
        )
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "No file to load", str(path))
    try:
        with safe_open(path, framework="pt", device="cpu") as file:
            metadata = file.metadata() or {}
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except SafetensorError as exc:
        raise ValueError(
            f"{path} is not a safetensors file ({exc}). load_estimator reads only files "
            "written by save_estimator and never unpickles: a pickle or torch.save file "
            "is refused."
        ) from exc
    if metadata.get("format") != FORMAT or "estimator" not in metadata:
        raise ValueError(f"{path} is a safetensors file, but not one written by save_estimator.")
    with _malformed(path):
        header = json.loads(metadata["estimator"])
    if not isinstance(header, dict) or header.get("format_version") != FORMAT_VERSION:
        version = header.get("format_version") if isinstance(header, dict) else None
        raise ValueError(
            f"{path} has format version {version}; this version of sklilaw reads version "
            f"{FORMAT_VERSION}."
        )
    return header, tensors, metadata.get("pipeline")


@contextmanager
def _malformed(path):
    """A header that does not parse, or holds what save_estimator never writes (wrong
    types, missing keys, nesting deep enough to exhaust the stack): a ValueError."""
    try:
        yield
    except (KeyError, TypeError, IndexError, AttributeError, RecursionError) as exc:
        raise ValueError(
            f"{path} has a malformed header ({type(exc).__name__}: {exc}); it was not "
            "written by save_estimator, or was changed since."
        ) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} has a header that is not JSON ({exc}).") from None


def _load_state(module, what, tensors):
    try:
        module.load_state_dict(_prefixed(tensors, what))
    except RuntimeError as exc:
        raise ValueError(
            f"The saved {what} state does not fit the {what} built from the parameters "
            f"(is the module given to load_estimator the one that was saved?): {exc}"
        ) from exc


def load_estimator(path, *, trusted=None, **params):
    """Load a :class:`LiLAWClassifier`, or a Pipeline, written by :func:`save_estimator`.

    Nothing in the file is unpickled or imported: a file that is not a safetensors
    file written by :func:`save_estimator` (a pickle, say) is refused with a
    ``ValueError``. The estimator comes back fitted, with the module's and the
    optimizer's state, ``alpha_``, ``beta_``, ``delta_``, ``classes_`` (with its
    dtype), the history and ``label_issues_``; its predictions equal the saved
    estimator's, and ``partial_fit`` or ``warm_start=True`` continue its training.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_estimator`.
    trusted : list of str, default=None
        For a saved Pipeline: types beyond those skops trusts by default (scikit-learn's
        and NumPy's) that its steps may hold, e.g. your own transformer; the error
        without them names them.
    **params
        Constructor parameters. Those the file could not hold must be given (the
        error names them), e.g. ``module=MyModule`` for a custom module class (with its
        ``module__*`` arguments read from the file) or ``callbacks=None``; others
        replace the saved values. Without ``device``, the estimator goes to the device
        it was saved from if that is available, else to the CPU (with skorch's
        ``DeviceWarning``).

    Returns
    -------
    LiLAWClassifier or sklearn.pipeline.Pipeline
        The fitted estimator, or the fitted pipeline that ends in it.
    """
    header, tensors, pipeline = _read(path)
    with _malformed(path):
        required = dict(header["required"])
        saved = {k: _decode(v, tensors) for k, v in header["params"].items()}
        best_params = _decode(header["best_params"], tensors)
        classes = _decode_array(header["classes"])
        n_features_in = int(header["n_features_in"])
        names = header["feature_names_in"]
        feature_names_in = None if names is None else _decode_array(names)
        history = History(header["history"])
        label_issues = header["label_issues"]
        if label_issues is not None:
            label_issues = _load_label_issues(label_issues, classes, tensors)
        trainings = header["trainings"]
        trainings = None if trainings is None else pd.DataFrame(trainings)
        device = str(header["device"])
    missing = {k: v for k, v in required.items() if k not in params}
    if missing:
        listed = ", ".join(f"{k} ({v})" for k, v in missing.items())
        raise ValueError(
            f"{path} was saved with parameters that a file cannot hold: {listed}. Pass "
            f"them to load_estimator, e.g. load_estimator(path, {next(iter(missing))}=...)."
        )
    if "device" not in params:
        params["device"] = str(get_map_location(device))
    check_device(params["device"])
    estimator = LiLAWClassifier(**{**saved, **params})
    # the model was trained with best_params_ (the configuration noise handling kept):
    # built from them, its criterion and callbacks are those of the saved model
    model = estimator._with_params(best_params) if best_params else estimator
    model._classes = classes
    model.n_features_in_ = n_features_in
    if feature_names_in is not None:
        model.feature_names_in_ = feature_names_in
    torch_device = torch.device(model.device)
    # the initial weights are overwritten: leave torch's global random state as it was
    devices = [torch_device.index or 0] if torch_device.type == "cuda" else []
    with TORCH_RANDOM_LOCK, torch.random.fork_rng(devices=devices):
        model.initialize()
    _load_state(model.module_, "module", tensors)
    _load_state(model.criterion_, "criterion", tensors)
    with _malformed(path):
        _load_optimizer_state(model.optimizer_, header["optimizer"], tensors)
    model.history = history
    if model is not estimator:
        estimator._take_fitted_state(model)
    estimator.best_params_ = best_params
    if label_issues is not None:
        estimator.label_issues_ = label_issues
    if trainings is not None:
        estimator.trainings_ = trainings
    if pipeline is not None:
        return _rebuild_pipeline(pipeline, estimator, trusted, path)
    return estimator
