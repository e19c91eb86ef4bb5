"""Loading files made by someone else: keys, crafted files and random damage.

Each crafted file of issue 11 has a test here: it must be refused with a
``ValueError`` (or an ``OSError`` for the path itself) quickly, never with a
RecursionError, OverflowError, IndexError or an error from torch, and never
by reading without bound or blocking.
"""

import contextlib
import json
import os
import threading
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import InconsistentVersionWarning

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine
from sklearn_slstm._persistence import (
    _ZEROS,
    MAX_FILE_SIZE,
    MAX_JSON_DEPTH,
    _checksum_span,
    _digest,
)

safetensors = pytest.importorskip("safetensors")
safetensors_torch = pytest.importorskip("safetensors.torch")

FAST = {"hidden_layer_sizes": (4,), "max_iter": 1, "random_state": 0}
KEY = b"a secret key"


@pytest.fixture(scope="module")
def data():
    return make_damped_sine(n_samples=40, n_timesteps=8, n_outputs=2, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return StackedLSTMRegressor(**FAST).fit(X, y)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.safetensors"
    fitted.save(path)
    return path


@pytest.fixture(scope="module")
def signed(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("signed") / "model.safetensors"
    fitted.save(path, key=KEY)
    return path


def _resign(data, key=None):
    """``data`` with its checksum recomputed, as anyone can for an unkeyed one."""
    header_size = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8 : 8 + header_size])["__metadata__"]
    old = metadata["checksum"]
    new = f"{'hmac-sha256' if key else 'sha256'}:{_ZEROS}"
    data = bytearray(data)
    span = _checksum_span(data, old)
    data[span[0] - len(old) + 64 : span[1]] = new.encode()
    span = _checksum_span(data, new)
    data[span[0] : span[1]] = _digest(data, span, key).encode()
    return bytes(data)


def _forge(source, target, edit, key=None):
    """Rewrite a saved file with ``edit(metadata, tensors)``, re-checksummed."""
    with safetensors.safe_open(source, framework="pt") as f:
        metadata = dict(f.metadata())
        tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    edit(metadata, tensors)
    metadata["checksum"] = f"{'hmac-sha256' if key else 'sha256'}:{_ZEROS}"
    data = bytearray(safetensors_torch.save(tensors, metadata=metadata))
    span = _checksum_span(data, metadata["checksum"])
    data[span[0] : span[1]] = _digest(data, span, key).encode()
    target.write_bytes(bytes(data))
    return target


def _edit_json(entry, change):
    def edit(metadata, tensors):
        value = json.loads(metadata[entry])
        change(value)
        metadata[entry] = json.dumps(value)

    return edit


def _set(key, value):
    return lambda mapping: mapping.__setitem__(key, value)


def _add_to_head_bias(metadata, tensors):
    tensors["head.bias"] = tensors["head.bias"] + 100


# --- keys ---------------------------------------------------------------------


def test_edited_unkeyed_file_loads_a_checksum_is_no_signature(
    data, fitted, saved, tmp_path
):
    # What the docs say: without a key, whoever edits the file can recompute
    # the checksum. This edit shifts every prediction.
    forged = _forge(saved, tmp_path / "forged.safetensors", _add_to_head_bias)
    loaded = StackedLSTMRegressor.load(forged)
    shift = loaded.predict(data[0]) - fitted.predict(data[0])
    assert np.abs(shift).min() > 1


def test_keyed_file_detects_the_same_edit(data, fitted, signed, tmp_path):
    np.testing.assert_array_equal(
        StackedLSTMRegressor.load(signed, key=KEY).predict(data[0]),
        fitted.predict(data[0]),
    )
    # Edited and re-signed without the key (any other key).
    forged = _forge(
        signed, tmp_path / "forged.safetensors", _add_to_head_bias, key=b"guess"
    )
    with pytest.raises(ValueError, match="does not match its key"):
        StackedLSTMRegressor.load(forged, key=KEY)
    # Edited and given an unkeyed checksum instead.
    stripped = _forge(signed, tmp_path / "stripped.safetensors", _add_to_head_bias)
    with pytest.raises(ValueError, match="saved without a key"):
        StackedLSTMRegressor.load(stripped, key=KEY)


def test_key_must_match_the_way_the_file_was_saved(saved, signed):
    with pytest.raises(ValueError, match="saved with a key: pass the same key"):
        StackedLSTMRegressor.load(signed)
    with pytest.raises(ValueError, match="does not match its key"):
        StackedLSTMRegressor.load(signed, key=b"another key")
    with pytest.raises(ValueError, match="saved without a key"):
        StackedLSTMRegressor.load(saved, key=KEY)
    # A str key is its UTF-8 bytes.
    StackedLSTMRegressor.load(signed, key=KEY.decode())


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [(b"", ValueError, "must not be empty"), (42, TypeError, "bytes or str")],
)
def test_bad_keys_raise(fitted, signed, tmp_path, key, error, message):
    with pytest.raises(error, match=message):
        fitted.save(tmp_path / "model.safetensors", key=key)
    assert not (tmp_path / "model.safetensors").exists()
    with pytest.raises(error, match=message):
        StackedLSTMRegressor.load(signed, key=key)


@pytest.mark.parametrize(
    "field", ["format", "format_version", "library_version", "checksum"]
)
def test_checksum_covers_the_header_fields(saved, tmp_path, field):
    # Swap one character of the field's value for another, keeping its
    # length, without recomputing the checksum.
    data = saved.read_bytes()
    header_size = int.from_bytes(data[:8], "little")
    value = json.loads(data[8 : 8 + header_size])["__metadata__"][field]
    needle = f'"{field}":"{value}"'.encode()
    start = data.index(needle) + len(needle) - 2
    old = data[start : start + 1]
    new = b"1" if old != b"1" else b"2"
    path = tmp_path / "edited.safetensors"
    path.write_bytes(data[:start] + new + data[start + 1 :])
    with pytest.raises(ValueError, match="checksum|format"):
        StackedLSTMRegressor.load(path)


def test_checksum_covers_the_header_layout(saved, tmp_path):
    # The padding of the header (spaces) is read too: any change is caught.
    data = saved.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    assert data[header_end - 1 : header_end] in (b" ", b"}")
    if data[header_end - 1 : header_end] != b" ":
        pytest.skip("this header has no padding")
    path = tmp_path / "edited.safetensors"
    path.write_bytes(data[: header_end - 1] + b"\t" + data[header_end:])
    with pytest.raises(ValueError, match="checksum"):
        StackedLSTMRegressor.load(path)


# --- the crafted files of the issue -----------------------------------------


CRAFTED = {
    "50,000 one-unit layers": (
        _edit_json("params", _set("hidden_layer_sizes", [1] * 50_000)),
        "at most 64 layers",
    ),
    "units beyond the limit": (
        _edit_json("params", _set("hidden_layer_sizes", [2**20])),
        "at most 64 layers of 65536 units",
    ),
    "JSON nested 5,000 deep in params": (
        lambda metadata, tensors: metadata.update(params="[" * 5000 + "]" * 5000),
        "nested 5000 levels deep",
    ),
    "JSON nested 5,000 deep in history": (
        lambda metadata, tensors: metadata.update(
            history="[" + '{"a": ' * 5000 + "1" + "}" * 5000 + "]"
        ),
        "nested 5001 levels deep",
    ),
    "JSON nested just beyond the limit": (
        lambda metadata, tensors: metadata.update(
            history="[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
        ),
        f"nested {MAX_JSON_DEPTH + 1} levels deep",
    ),
    "integer 10**30 in the layer sizes": (
        _edit_json("params", _set("hidden_layer_sizes", [10**30])),
        "beyond 64 bits",
    ),
    "integer 10**30 in the batch size": (
        _edit_json("params", _set("batch_size", 10**30)),
        "beyond 64 bits",
    ),
    "integer 10**30 as time steps": (
        _edit_json("fitted", _set("n_features_in_", 10**30)),
        "beyond 64 bits",
    ),
    "2**62 time steps": (
        _edit_json("fitted", _set("n_features_in_", 2**62)),
        r"n_features_in_ is 4611686018427387904, outside \[1, 1048576\]",
    ),
    "2**40 channels": (
        _edit_json("fitted", _set("_n_channels", 2**40)),
        r"_n_channels is 1099511627776, outside",
    ),
    "random state key out of range": (
        _edit_json(
            "params",
            _set(
                "random_state",
                {"__numpy_random_state__": ["MT19937", [2**40] * 624, 0, 0, 0.0]},
            ),
        ),
        "not an MT19937 state",
    ),
    "random state position out of range": (
        _edit_json(
            "params",
            _set(
                "random_state",
                {"__numpy_random_state__": ["MT19937", [1] * 624, 10**6, 0, 0.0]},
            ),
        ),
        "not an MT19937 state",
    ),
    "random state of too few keys": (
        _edit_json(
            "params",
            _set(
                "random_state",
                {"__numpy_random_state__": ["MT19937", [1] * 3, 0, 0, 0.0]},
            ),
        ),
        "not an MT19937 state",
    ),
    "NaN weights": (
        lambda metadata, tensors: tensors["head.bias"].fill_(float("nan")),
        r"the weights \['head.bias'\] hold NaN or infinite values",
    ),
    "infinite weights": (
        lambda metadata, tensors: tensors["head.weight"].fill_(float("inf")),
        r"the weights \['head.weight'\] hold NaN or infinite values",
    ),
    "15 MB history of empty records": (
        lambda metadata, tensors: metadata.update(
            history="[" + ",".join(["{}"] * 5_000_000) + "]"
        ),
        "holds about 10000001 values; at most 2000000 load",
    ),
    "history of nested values": (
        lambda metadata, tensors: metadata.update(history='[{"a": [1, 2]}]'),
        "training history holds an entry 'a'",
    ),
    "weights in float64": (
        lambda metadata, tensors: tensors.update(
            {"head.bias": tensors["head.bias"].double()}
        ),
        "mismatched.*float64",
    ),
    "weights in bfloat16": (
        lambda metadata, tensors: tensors.update(
            {"head.bias": tensors["head.bias"].bfloat16()}
        ),
        "not a valid safetensors file|mismatched",
    ),
}


@pytest.mark.parametrize("case", CRAFTED)
def test_crafted_files_raise_value_error(saved, tmp_path, case):
    edit, message = CRAFTED[case]
    path = _forge(saved, tmp_path / "crafted.safetensors", edit)
    with pytest.raises(ValueError, match=message):
        StackedLSTMRegressor.load(path)


def test_symlink_to_dev_zero_is_refused_without_reading(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    link = tmp_path / "model.safetensors"
    link.symlink_to("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        StackedLSTMRegressor.load(link)


def test_symlink_to_a_regular_file_loads(data, fitted, saved, tmp_path):
    link = tmp_path / "link.safetensors"
    link.symlink_to(saved)
    np.testing.assert_array_equal(
        StackedLSTMRegressor.load(link).predict(data[0]), fitted.predict(data[0])
    )


def test_fifo_is_refused_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    errors = []

    def load():
        try:
            StackedLSTMRegressor.load(fifo)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=30)
    if thread.is_alive():
        # Unblock the reader so that the process can end, then fail.
        with open(fifo, "wb"):
            pass
        pytest.fail("load blocked on a FIFO")
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    assert "not a regular file" in str(errors[0])


def test_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a regular file"):
        StackedLSTMRegressor.load(tmp_path)


def test_file_above_the_size_cap_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as file:
        file.truncate(MAX_FILE_SIZE + 1)  # sparse: no byte is written
    with pytest.raises(ValueError, match=f"at most {MAX_FILE_SIZE} bytes"):
        StackedLSTMRegressor.load(path)


def test_missing_file_raises_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        StackedLSTMRegressor.load(tmp_path / "absent.safetensors")


# --- random damage --------------------------------------------------------------


@pytest.fixture(scope="module")
def original(data, fitted, saved):
    return saved.read_bytes(), fitted.predict(data[0])


def _load_or_value_error(content, expected, X, path):
    path.write_bytes(content)
    try:
        with warnings.catch_warnings():
            # A damaged library version is a version mismatch: it warns.
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            loaded = StackedLSTMRegressor.load(path)
    except ValueError:
        return
    np.testing.assert_array_equal(loaded.predict(X), expected)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mutations=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
        min_size=1,
        max_size=4,
    ),
    cut=st.one_of(st.none(), st.floats(0, 1)),
    resign=st.booleans(),
)
def test_damaged_files_load_equal_or_raise_value_error(
    original, data, tmp_path, mutations, cut, resign
):
    """Any damage: an equal model or a ValueError, never another error.

    With ``resign``, the damage stays in the header and the checksum is
    recomputed, so that the checks of the contents meet it too.
    """
    content, expected = original
    header_end = 8 + int.from_bytes(content[:8], "little")
    damaged = bytearray(content)
    for position, byte in mutations:
        index = (
            8 + int(position * (header_end - 8))
            if resign
            else int(position * len(content))
        )
        damaged[index] = byte
    if resign:
        # Unless the checksum itself was damaged.
        with contextlib.suppress(Exception):
            damaged = bytearray(_resign(bytes(damaged)))
    if cut is not None:
        damaged = damaged[: int(cut * len(damaged))]
    _load_or_value_error(bytes(damaged), expected, data[0], tmp_path / "m.st")


def test_torch_rng_is_untouched_by_a_refused_file(saved, tmp_path):
    state = torch.get_rng_state()
    path = _forge(
        saved,
        tmp_path / "crafted.safetensors",
        lambda metadata, tensors: tensors["head.bias"].fill_(float("nan")),
    )
    with pytest.raises(ValueError, match="NaN"):
        StackedLSTMRegressor.load(path)
    assert torch.equal(torch.get_rng_state(), state)
