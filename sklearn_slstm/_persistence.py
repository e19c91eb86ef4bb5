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
import math
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
# The largest safetensors header, as safetensors itself limits it.
MAX_HEADER_SIZE = 100_000_000
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
# The longest value of a checksum entry: "hmac-sha256:" and 64 hex digits.
_CHECKSUM_LIMIT = len(_HMAC) + 65

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
    span = _checksum_digits(data, path)
    if span is None:  # safetensors wrote the header in an unexpected way
        raise RuntimeError("Cannot locate the checksum in the safetensors header.")
    data[span[0] : span[1]] = _digest(data, span, key).encode()
    _write_atomically(path, data)


def load_state(path, *, key=None, estimator_class):
    """Read the state written by :func:`save_state`, checking the file.

    Returns the state as ``_state`` describes it, without ``optimizer`` and
    ``other``. The contents are bounded and typed here as far as the format
    goes (file type and size, format name and version, checksum or key,
    safetensors layout, JSON depth, size and integers); the estimator's
    ``__setstate__`` checks the rest. Every malformed file raises a
    ``ValueError``, and so does a file of another estimator class than
    ``estimator_class``.

    The checksum (or key) is verified over the raw bytes before anything in
    the header is parsed: only a few linear searches for the format name,
    format version and checksum come first. The weights are numpy views of
    the one buffer the file was read into, so that loading holds a single
    copy of them.
    """
    _import_safetensors()
    key = _check_key(key)
    header, buffer = _read_regular_file(path)
    _check_raw_header(header, path, estimator_class)
    _verify_checksum(header, buffer, key, path)
    metadata, layout = _parse_header(header, path, estimator_class)
    tensors = _tensors_from_buffer(layout, buffer, path)
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


def _checksum_digits(data, path):
    """Where the 64 hex digits of the checksum lie in a file's bytes, or None.

    ``data`` starts with the file's header (the tensors' bytes may follow);
    the entry is found as :func:`_raw_entry` finds it, in the header only.
    """
    header_end = 8 + int.from_bytes(data[:8], "little")
    span = _raw_entry(bytes(data[:header_end]), "checksum", path, limit=_CHECKSUM_LIMIT)
    return None if span is None else (span[1] - 64, span[1])


def _digest(data, span, key, rest=b""):
    """SHA-256, or HMAC-SHA256 with ``key``, of ``data`` with ``span`` zeroed.

    ``rest`` is digested after ``data``: load reads the header and the
    tensors' bytes into separate buffers, and digests them as one file.
    """
    digest = hmac.new(key, digestmod="sha256") if key is not None else hashlib.sha256()
    view = memoryview(data)
    digest.update(view[: span[0]])
    digest.update(_ZEROS.encode())
    digest.update(view[span[1] :])
    digest.update(rest)
    return digest.hexdigest()


def _raw_entry(header, name, path, *, limit):
    """The string value of the metadata entry ``name``, found without parsing.

    ``header`` is the file's first bytes: the 8 bytes of the header size,
    then the header's JSON. safetensors writes the metadata compactly, so
    the entry reads ``"name":"value"``; in valid JSON that text can only be
    a key with a string value, because a quote inside a string is escaped.
    Two linear searches, no copy of the header. Returns None if the entry is
    absent; raises a ``ValueError`` if it occurs twice, or its value holds
    escapes or runs past ``limit`` bytes. The header is parsed (and the
    value checked again) only after the checksum: see :func:`load_state`.
    """
    needle = f'"{name}":"'.encode()
    start = header.find(needle, 8)
    if start < 0:
        return None
    start += len(needle)
    end = header.find(b'"', start, start + limit + 1)
    if (
        header.find(needle, start) >= 0
        or end < 0
        or header.find(b"\\", start, end) >= 0
    ):
        raise ValueError(f"{path}: the {name!r} entry of the header is malformed.")
    return start, end


def _check_raw_header(header, path, estimator_class):
    """Check the format name and version before the checksum.

    The checksum that :func:`_verify_checksum` checks is the one of format
    version 3: a file of another version (or none) is refused by its
    version, as :func:`_check_header` does once the header is parsed.
    """
    span = _raw_entry(header, "format", path, limit=200)
    if span is None:
        raise ValueError(
            f"{path} was not written by {estimator_class.__name__}.save: its "
            "header has no 'format' entry."
        )
    metadata = {"format": header[span[0] : span[1]].decode("utf-8", "replace")}
    for name in ("format_version", "library_version"):
        span = _raw_entry(header, name, path, limit=200)
        if span is not None:
            metadata[name] = header[span[0] : span[1]].decode("utf-8", "replace")
    _check_format(metadata, path, estimator_class)


def _verify_checksum(header, buffer, key, path):
    """Check the checksum (or key) of the file read as ``header + buffer``.

    Runs before the header is parsed, so that a damaged file, or with a key
    any file not saved with it, costs one pass over its bytes to refuse.
    """
    span = _raw_entry(header, "checksum", path, limit=_CHECKSUM_LIMIT)
    if span is None:
        raise ValueError(f"{path}: the header lacks the entries ['checksum'].")
    match = _CHECKSUM.fullmatch(header[span[0] : span[1]].decode("ascii", "replace"))
    if not match:
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
    digits = (span[1] - 64, span[1])
    if not hmac.compare_digest(_digest(header, digits, key, buffer), match.group(2)):
        if keyed:
            raise ValueError(
                f"{path} does not match its key: the key is wrong, or the file "
                "was modified after it was saved."
            )
        raise ValueError(
            f"{path} does not match the checksum stored in it: the file was "
            "truncated or corrupted after it was saved."
        )


def _read_regular_file(path):
    """The header and tensor bytes of ``path``, a regular file of bounded size.

    Returns ``(header, buffer)``: the bytes of the header size and the
    header, and a ``bytearray`` of the tensors' bytes, which become the
    loaded weights without a copy. A FIFO, device or folder is refused
    before any byte is read, and without blocking: a FIFO opens at once in
    non-blocking mode. A header size beyond the file is refused before
    anything of that size is allocated.
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
        prefix = file.read(8)
        if len(prefix) < 8:
            raise ValueError(
                _not_safetensors(path, f"it has {len(prefix)} bytes, fewer than 8")
            )
        header_size = int.from_bytes(prefix, "little")
        if header_size > min(size - 8, MAX_HEADER_SIZE):
            raise ValueError(
                _not_safetensors(
                    path,
                    f"its header size {header_size} is beyond the file's "
                    f"{size} bytes or the {MAX_HEADER_SIZE} bytes of a header",
                )
            )
        # Read into place: concatenating would copy the header.
        header = bytearray(8 + header_size)
        header[:8] = prefix
        with memoryview(header) as view:
            n_header = file.readinto(view[8:])
        buffer = bytearray(size - len(header))
        n_read = file.readinto(buffer) if n_header == header_size else -1
        if n_read != len(buffer) or file.read(1):
            raise ValueError(f"{path} changed size while it was read.")
    return header, buffer


def _not_safetensors(path, reason):
    return (
        f"{path} is not a valid safetensors file (it may be empty, truncated or "
        f"corrupted): {reason}."
    )


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

    ``text`` is a str or a bytes-like object. Inside strings, brackets and
    commas do not count; a backslash escapes the next character, as in
    JSON. One linear pass in chunks, so that memory stays a few times the
    chunk, whatever the text holds (escapes included).
    """
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    codes = np.frombuffer(text, np.uint8)
    inside, run, depth, max_depth, n_values = 0, 0, 0, 0, 1
    chunk = 1 << 20
    index = np.arange(chunk, dtype=np.int32)
    for start in range(0, codes.size, chunk):
        part = codes[start : start + chunk]
        backslash = part == ord("\\")
        # The length of the run of backslashes ending at each byte (0 at
        # other bytes), continuing the previous chunk's run: a byte is
        # escaped when the run just before it is odd.
        last_other = np.maximum.accumulate(np.where(backslash, -1, index[: part.size]))
        runs = index[: part.size] - last_other
        runs[last_other < 0] += run
        escaped = np.empty(part.size, bool)
        escaped[0] = run & 1
        escaped[1:] = runs[:-1] & 1
        run = int(runs[-1])
        quotes = (part == ord('"')) & ~escaped
        in_string = np.bitwise_xor.accumulate(quotes.view(np.uint8))
        in_string ^= inside
        inside = int(in_string[-1])
        outside = (in_string == 0) & ~escaped
        opens = outside & ((part == ord("[")) | (part == ord("{")))
        closes = outside & ((part == ord("]")) | (part == ord("}")))
        levels = np.cumsum(opens.astype(np.int32) - closes, dtype=np.int64) + depth
        max_depth = max(max_depth, int(levels.max()))
        depth = int(levels[-1])
        n_values += int(opens.sum()) + int((outside & (part == ord(","))).sum())
    return max_depth, n_values


def _parse_json(text, entry, path, *, object_hook=_from_json):
    """Parse the JSON entry ``entry`` within the limits; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"{path}: the {entry!r} entry of the header is not text.")
    _check_json_shape(text, entry, path)
    return _loads(text, entry, path, object_hook)


def _check_json_shape(text, entry, path):
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


def _loads(text, entry, path, object_hook):
    try:
        return json.loads(text, object_hook=object_hook, parse_int=_bounded_int)
    except (ValueError, TypeError, OverflowError, IndexError, RecursionError) as exc:
        raise ValueError(
            f"{path}: the {entry!r} entry of the header is not valid: {exc}"
        ) from exc


def _parse_header(header, path, estimator_class):
    """Parse the checked ``header``: its metadata, and the tensors' layout.

    The metadata's format entries are checked again, now parsed. ``header``
    (a bytearray) is emptied once decoded, so that its bytes, the decoded
    text and the parsed entries are never all held at once.
    """
    with memoryview(header) as view, view[8:] as body:
        _check_json_shape(body, "header", path)
        try:
            text = str(body, "utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path}: the 'header' entry of the header is not valid: {exc}"
            ) from exc
    del header[:]
    parsed = _loads(text, "header", path, None)
    del text
    metadata = parsed.pop("__metadata__", None) if isinstance(parsed, dict) else None
    if not isinstance(metadata, dict) or "format" not in metadata:
        raise ValueError(
            f"{path} was not written by {estimator_class.__name__}.save: its "
            "header has no 'format' entry."
        )
    _check_header(metadata, path, estimator_class)
    return metadata, parsed


# The numpy dtypes of safetensors' dtype names (little-endian, as stored).
_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}
_MAX_DIMENSIONS = 32


def _tensors_from_buffer(layout, buffer, path):
    """The tensors that ``layout`` (the parsed header) places in ``buffer``.

    Checks the layout as safetensors does: every tensor's dtype, shape and
    byte range, the ranges covering the buffer exactly, without overlap.
    The arrays are views of ``buffer``, not copies.
    """
    ranges = []
    for name, info in layout.items():
        if not (
            isinstance(info, dict) and set(info) == {"dtype", "shape", "data_offsets"}
        ):
            raise ValueError(
                _not_safetensors(path, f"the entry {name!r:.60} is not a tensor")
            )
        dtype = _DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
        shape, offsets = info["shape"], info["data_offsets"]
        if dtype is None:
            raise ValueError(
                _not_safetensors(
                    path,
                    f"the tensor {name!r:.60} has the unsupported dtype "
                    f"{info['dtype']!r:.20}",
                )
            )
        if not (
            isinstance(shape, list)
            and len(shape) <= _MAX_DIMENSIONS
            and all(_is_int(size, 0, len(buffer)) for size in shape)
            and isinstance(offsets, list)
            and len(offsets) == 2
            and all(_is_int(offset, 0, len(buffer)) for offset in offsets)
            and offsets[1] - offsets[0] == math.prod(shape) * np.dtype(dtype).itemsize
        ):
            raise ValueError(
                _not_safetensors(
                    path,
                    f"the shape or byte range of the tensor {name!r:.60} is "
                    "invalid, or beyond the file",
                )
            )
        ranges.append((offsets[0], offsets[1], name, dtype, tuple(shape)))
    ranges.sort()
    position = 0
    for begin, end, *_ in ranges:
        if begin != position:
            break
        position = end
    if position != len(buffer):
        raise ValueError(
            _not_safetensors(
                path, "the tensors' byte ranges do not cover its data exactly"
            )
        )
    tensors = {}
    for begin, _, name, dtype, shape in ranges:
        count = math.prod(shape)
        array = (
            np.frombuffer(buffer, dtype, count=count, offset=begin).reshape(shape)
            if count
            else np.empty(shape, dtype)
        )
        # torch needs aligned memory; a file from save is aligned.
        tensors[name] = (
            array if array.ctypes.data % array.itemsize == 0 else array.copy()
        )
    return tensors


def _check_header(metadata, path, estimator_class):
    """Check the format name, version and entries of the parsed metadata."""
    _check_format(metadata, path, estimator_class)
    required = (*_JSON_ENTRIES, "library_version", "checksum")
    missing = [name for name in required if name not in metadata]
    if missing:
        raise ValueError(f"{path}: the header lacks the entries {missing}.")


def _check_format(metadata, path, estimator_class):
    """Check the format name and version."""
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
