"""One safetensors file per fitted estimator: bounded, checked loading.

Unlike pickle, loading runs no code from the file: it is a standard
safetensors file whose tensors are the weights of the torch module and whose
string metadata header holds JSON (the parameters, fitted attributes and
training history of the estimator's state, see ``_state``), a format
version and a checksum. This module knows the file format only; the
estimator's ``__setstate__`` checks what the state says.

Layout of the metadata header (every value is a string)::

    format          "sklearn_slstm.<class name>", e.g.
                    "sklearn_slstm.StackedLSTMRegressor"
    format_version  "3"
    library_version version of sklearn_slstm that wrote the file
    params          JSON of get_params(deep=False), without ``callbacks``
    fitted          JSON of the fitted attributes
    history         JSON of the skorch net's training history
    checksum        "sha256:<64 hex digits>", or "hmac-sha256:<64 hex
                    digits>" for a file saved with a key

The checksum is the SHA-256 (or HMAC-SHA256) of every byte of the file,
computed with its own 64 hex digits written as zeros. An unkeyed checksum
detects corruption (a truncated, damaged or partly overwritten file), not
deliberate tampering: anyone who edits the file can recompute it. Only a
secret key makes an edit detectable.

Format versions 1 and 2 were development versions that were never
released; they do not load.
"""

import contextlib
import hashlib
import hmac
import json
import os
import re
import stat
import tempfile
import warnings
from pathlib import Path

import numpy as np

FORMAT_VERSION = "3"

# The largest file load reads, checked before reading it.
MAX_FILE_SIZE = 2**30
# Limits on each JSON entry, checked before it is parsed: the nesting depth
# and the number of values (an empty list or object costs ~60 bytes of
# memory for 3 bytes of file).
MAX_JSON_DEPTH = 32
MAX_JSON_VALUES = 2_000_000
# JSON integers beyond int64 are refused (torch cannot take them).
_MAX_INT_DIGITS = 19

# Metadata entries holding JSON.
_JSON_ENTRIES = ("params", "fitted", "history")

_SHA256 = "sha256"
_HMAC = "hmac-sha256"
_CHECKSUM = re.compile(rf"({_SHA256}|{_HMAC}):([0-9a-f]{{64}})")
_ZEROS = "0" * 64

_RANDOM_STATE_TAG = "__numpy_random_state__"

_INSTALL_HINT = 'pip install "sklearn-slstm[safetensors]"'


def format_name(estimator_class):
    """The ``format`` entry of the files of ``estimator_class``."""
    return f"sklearn_slstm.{estimator_class.__name__}"


def save_state(state, path, *, key=None, estimator_class):
    """Write the state of a fitted estimator (see ``_state``) to one file.

    The parameters, fitted attributes and history are stored as JSON, the
    weights as tensors; the optimizer state and other attributes are not
    stored. An existing file is replaced atomically. With ``key``, the
    checksum is an HMAC-SHA256 keyed with it.
    """
    safetensors_numpy = _import_safetensors()
    key = _check_key(key)
    entries = {
        "params": _dumps(state["params"], "the parameters"),
        "fitted": _dumps(state["fitted"], "the fitted attributes"),
        "history": _dumps_history(state["history"]),
    }
    checksum = f"{_HMAC if key is not None else _SHA256}:{_ZEROS}"
    metadata = {
        "format": format_name(estimator_class),
        "format_version": FORMAT_VERSION,
        "library_version": state["sklearn_slstm_version"],
        **entries,
        "checksum": checksum,
    }
    tensors = {
        name: np.ascontiguousarray(array) for name, array in state["weights"].items()
    }
    data = bytearray(safetensors_numpy.save(tensors, metadata=metadata))
    span = _checksum_span(data, checksum)
    if span is None:  # safetensors wrote the header in an unexpected way
        raise RuntimeError("Cannot locate the checksum in the safetensors header.")
    data[span[0] : span[1]] = _digest(data, span, key).encode()
    _write_atomically(path, data)


def load_state(path, *, key=None, estimator_class):
    """Read the state written by :func:`save_state`, checking the file.

    Returns the state as ``_state`` describes it, without ``optimizer`` and
    ``other``. The contents are bounded and typed here as far as the format
    goes (file type and size, safetensors layout, checksum or key, JSON
    depth, size and integers); the estimator's ``__setstate__`` checks the
    rest. Every malformed file raises a ``ValueError``, and so does a file
    of another estimator class than ``estimator_class``.
    """
    safetensors_numpy = _import_safetensors()
    key = _check_key(key)
    data = _read_regular_file(path)
    try:
        tensors = safetensors_numpy.load(data)
    except Exception as exc:
        # safetensors raises its own SafetensorError, and numpy may raise
        # others on dtypes it lacks (bfloat16): all mean a bad file here.
        raise ValueError(
            f"{path} is not a valid safetensors file (it may be empty, "
            f"truncated or corrupted): {exc}"
        ) from exc
    metadata = _read_metadata(data, path, estimator_class)
    _check_header(metadata, path, estimator_class)
    _verify_checksum(data, metadata["checksum"], key, path)
    params = _parse_json(metadata["params"], "params", path)
    if not isinstance(params, dict):
        raise ValueError(f"{path}: the 'params' entry is not a JSON object.")
    if params.get("callbacks") is not None:
        raise ValueError(f"{path} stores callbacks, which cannot be loaded safely.")
    params.setdefault("callbacks", None)
    return {
        "sklearn_slstm_version": metadata.get("library_version", "unknown"),
        # JSON has no tuples: sequences come back as lists.
        "params": {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in params.items()
        },
        "fitted": _parse_json(metadata["fitted"], "fitted", path),
        "history": _parse_json(metadata["history"], "history", path),
        "weights": tensors,
    }


def _check_key(key):
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes | bytearray):
        raise TypeError(f"key must be bytes or str, got {type(key).__name__}.")
    if not key:
        raise ValueError("key must not be empty.")
    return bytes(key)


def _checksum_span(data, checksum):
    """Where the 64 hex digits of ``checksum`` lie in the file's header.

    None unless the header holds ``"checksum":"<checksum>"`` exactly once.
    """
    header_end = 8 + int.from_bytes(data[:8], "little")
    needle = f'"checksum":"{checksum}"'.encode()
    start = data.find(needle, 8, header_end)
    if start < 0 or data.find(needle, start + 1, header_end) >= 0:
        return None
    end = start + len(needle) - 1
    return end - 64, end


def _digest(data, span, key):
    """SHA-256, or HMAC-SHA256 with ``key``, of ``data`` with ``span`` zeroed."""
    digest = hmac.new(key, digestmod="sha256") if key is not None else hashlib.sha256()
    view = memoryview(data)
    digest.update(view[: span[0]])
    digest.update(_ZEROS.encode())
    digest.update(view[span[1] :])
    return digest.hexdigest()


def _verify_checksum(data, checksum, key, path):
    match = _CHECKSUM.fullmatch(checksum) if isinstance(checksum, str) else None
    span = match and _checksum_span(data, checksum)
    if not span:
        raise ValueError(f"{path}: the checksum entry of the header is malformed.")
    keyed = match.group(1) == _HMAC
    if keyed and key is None:
        raise ValueError(
            f"{path} was saved with a key: pass the same key to load it "
            "(load(path, key=...))."
        )
    if not keyed and key is not None:
        raise ValueError(
            f"{path} was saved without a key, so it cannot be authenticated with "
            "one: load it without key=, or save it again with the key."
        )
    if not hmac.compare_digest(_digest(data, span, key), match.group(2)):
        if keyed:
            raise ValueError(
                f"{path} does not match its key: the key is wrong, or the file "
                "was modified after it was saved."
            )
        raise ValueError(
            f"{path} does not match the checksum stored in it: the file was "
            "corrupted after it was saved."
        )


def _read_regular_file(path):
    """The bytes of ``path``: a regular file (or a link to one) of bounded size.

    A FIFO, device or folder is refused before any byte is read, and without
    blocking: a FIFO opens at once in non-blocking mode.
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(_not_regular(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as file:
        # The path may have changed since the first look.
        size = os.fstat(descriptor).st_size
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise ValueError(_not_regular(path))
        if size > MAX_FILE_SIZE:
            raise ValueError(
                f"{path} has {size} bytes; load reads files of at most "
                f"{MAX_FILE_SIZE} bytes (1 GiB)."
            )
        data = file.read(size + 1)
    if len(data) != size:
        raise ValueError(f"{path} changed size while it was read.")
    return data


def _not_regular(path):
    return (
        f"{path} is not a regular file (it is a folder, FIFO, socket or "
        "device): load reads regular files only."
    )


def _write_atomically(path, data):
    """Write ``data`` to ``path``: afterwards it holds the old file or the new.

    The bytes go to a temporary file in the same folder, are flushed to disk,
    and the temporary file then replaces ``path`` in one rename. A failed or
    killed save leaves an existing file untouched and, unless the process
    was killed, no temporary file behind.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file private; give it a new file's usual mode.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # Make the rename itself durable (POSIX; folders cannot be opened on
    # Windows, where there is nothing to do).
    with contextlib.suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _umask():
    """The process's umask (reading it means setting it, then restoring it)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _import_safetensors():
    try:
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError(
            "Saving and loading an estimator of sklearn_slstm needs the optional "
            f"dependency safetensors: {_INSTALL_HINT}"
        ) from exc
    return safetensors.numpy


def _to_json(value):
    """``json.dumps`` fallback for numpy values and RandomState instances."""
    if isinstance(value, np.random.RandomState):
        kind, keys, position, has_gauss, cached_gaussian = value.get_state()
        return {
            _RANDOM_STATE_TAG: [
                kind,
                keys.tolist(),
                int(position),
                int(has_gauss),
                float(cached_gaussian),
            ]
        }
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _from_json(obj):
    """``json.loads`` object hook undoing the RandomState encoding of _to_json."""
    if _RANDOM_STATE_TAG not in obj:
        return obj
    value = obj[_RANDOM_STATE_TAG]
    if not (
        len(obj) == 1
        and isinstance(value, list)
        and len(value) == 5
        and value[0] == "MT19937"
        and isinstance(value[1], list)
        and len(value[1]) == 624
        and all(_is_int(key, 0, 2**32 - 1) for key in value[1])
        and _is_int(value[2], 0, 624)
        and _is_int(value[3], 0, 1)
        and isinstance(value[4], float | int)
    ):
        raise ValueError(
            "a random state is not an MT19937 state of 624 keys in [0, 2**32), "
            "a position in [0, 624], a flag and a number"
        )
    kind, keys, position, has_gauss, cached_gaussian = value
    state = np.random.RandomState()
    state.set_state(
        (kind, np.asarray(keys, np.uint32), position, has_gauss, cached_gaussian)
    )
    return state


def _is_int(value, low, high):
    return (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    )


def _bounded_int(text):
    """``json.loads`` integer parser: int64 at most, as torch takes."""
    if len(text.lstrip("-")) > _MAX_INT_DIGITS or not (
        -(2**63) <= (value := int(text)) < 2**63
    ):
        raise ValueError(f"the integer {text[:30]}... is beyond 64 bits")
    return value


def _dumps(value, what):
    try:
        return json.dumps(value, default=_to_json)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Cannot save {what} as JSON: {exc}") from exc


def _dumps_history(history):
    """The history as JSON; without batch records if load would refuse them."""
    text = _dumps(history, "the training history")
    if _json_shape(text)[1] <= MAX_JSON_VALUES:
        return text
    warnings.warn(
        "The training history is too long to save whole: its per-batch records "
        f"hold more than {MAX_JSON_VALUES} values, the most load reads. They "
        "are left out of the file; the per-epoch records are saved.",
        UserWarning,
        stacklevel=4,
    )
    return _dumps(
        [{**epoch, "batches": []} for epoch in history], "the training history"
    )


def _json_shape(text):
    """Nesting depth and number of values of a JSON text, without parsing it.

    Inside strings, brackets and commas do not count; a backslash escapes
    the next character, as in JSON. Works through the text in chunks so
    that memory stays small.
    """
    # Replacing each escape by two plain bytes leaves only real quotes.
    raw = re.sub(rb"\\.", b"__", text.encode("utf-8", "surrogatepass"), flags=re.S)
    codes = np.frombuffer(raw, np.uint8)
    inside, depth, max_depth, n_values = 0, 0, 0, 1
    chunk = 1 << 22
    for start in range(0, codes.size, chunk):
        part = codes[start : start + chunk]
        in_string = np.bitwise_xor.accumulate((part == ord('"')).view(np.uint8))
        in_string ^= inside
        inside = int(in_string[-1])
        outside = in_string == 0
        opens = outside & ((part == ord("[")) | (part == ord("{")))
        closes = outside & ((part == ord("]")) | (part == ord("}")))
        levels = np.cumsum(opens.astype(np.int32) - closes, dtype=np.int64) + depth
        max_depth = max(max_depth, int(levels.max()))
        depth = int(levels[-1])
        n_values += int(opens.sum()) + int((outside & (part == ord(","))).sum())
    return max_depth, n_values


def _parse_json(text, entry, path):
    """Parse the JSON entry ``entry`` within the limits; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"{path}: the {entry!r} entry of the header is not text.")
    depth, n_values = _json_shape(text)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(
            f"{path}: the {entry!r} entry is nested {depth} levels deep; at most "
            f"{MAX_JSON_DEPTH} load."
        )
    if n_values > MAX_JSON_VALUES:
        raise ValueError(
            f"{path}: the {entry!r} entry holds about {n_values} values; at most "
            f"{MAX_JSON_VALUES} load."
        )
    try:
        return json.loads(text, object_hook=_from_json, parse_int=_bounded_int)
    except (ValueError, TypeError, OverflowError, IndexError, RecursionError) as exc:
        raise ValueError(
            f"{path}: the {entry!r} entry of the header is not valid: {exc}"
        ) from exc


def _read_metadata(data, path, estimator_class):
    """The ``__metadata__`` of a safetensors header that the parser accepted."""
    header_size = int.from_bytes(data[:8], "little")
    header = _parse_json(data[8 : 8 + header_size].decode("utf-8"), "header", path)
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or "format" not in metadata:
        raise ValueError(
            f"{path} is a safetensors file but was not written by "
            f"{estimator_class.__name__}.save: its header has no 'format' entry."
        )
    return metadata


def _check_header(metadata, path, estimator_class):
    """Check the format name, version and entries."""
    expected = format_name(estimator_class)
    if metadata["format"] != expected:
        raise ValueError(
            f"{path} holds format {metadata['format']!r:.80}, not {expected!r}: "
            f"it was not written by {estimator_class.__name__}.save."
        )
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        writer = metadata.get("library_version", "an unknown version")
        raise ValueError(
            f"{path} has format version {version!r:.20} (written by sklearn_slstm "
            f"{writer!s:.20}), but this version of sklearn_slstm reads format "
            f"version {FORMAT_VERSION} only; load it with the version that wrote "
            "it, or a newer one."
        )
    required = (*_JSON_ENTRIES, "library_version", "checksum")
    missing = [name for name in required if name not in metadata]
    if missing:
        raise ValueError(f"{path}: the header lacks the entries {missing}.")
