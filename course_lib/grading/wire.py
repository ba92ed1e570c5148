"""Plain-data encoding of values that cross between a student's kernel and the grader.

Only data crosses: None, bool, int, float, complex, str, lists, tuples, dicts with string keys and
numeric/bool numpy arrays. Anything else (functions, custom objects, object arrays) is rejected
with ``WireError``. Decoding never runs code (no pickle), so a hostile kernel cannot reach into the
grader's process by what it sends back.

The checks call ``roundtrip`` on every student result even when the student's function runs in the
same process (under nbval), so a result behaves identically in a notebook and in the batch grader.
"""

from __future__ import annotations

import base64
import json

import numpy as np

_ALLOWED_KINDS = "biufc"  # bool, int, unsigned, float, complex
MAX_BYTES = 64 * 2**20


class WireError(ValueError):
    """A value that cannot cross as plain data."""


class StudentError(Exception):
    """An exception raised by student code in another process (the grader's kernel), as it crossed:
    the name of its type and its message."""

    def __init__(self, type_name, message):
        self.type_name, self.message = type_name, message
        super().__init__(f"{type_name}: {message}")


def _encode(obj):
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, int | float):
        if isinstance(obj, float) and not np.isfinite(obj):
            return {"__float__": repr(obj)}
        return obj
    if isinstance(obj, complex):
        return {"__complex__": [obj.real, obj.imag]}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in _ALLOWED_KINDS:
            raise WireError(f"arrays of dtype {obj.dtype} cannot be graded; return numbers")
        data = np.ascontiguousarray(obj)
        return {"__ndarray__": base64.b64encode(data.tobytes()).decode("ascii"),
                "dtype": data.dtype.str, "shape": list(data.shape)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise WireError("only dicts with string keys can be graded")
        if any(k.startswith("__") for k in obj):
            raise WireError("dict keys may not start with '__'")
        return {k: _encode(v) for k, v in obj.items()}
    raise WireError(f"a value of type {type(obj).__name__} cannot be graded; return numbers or arrays")


def _decode(obj):
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__ndarray__" in obj:
        dtype = np.dtype(obj["dtype"])
        if dtype.kind not in _ALLOWED_KINDS:
            raise WireError(f"refusing array dtype {dtype}")
        raw = base64.b64decode(obj["__ndarray__"], validate=True)
        return np.frombuffer(raw, dtype=dtype).reshape(obj["shape"]).copy()
    if "__tuple__" in obj:
        return tuple(_decode(v) for v in obj["__tuple__"])
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__complex__" in obj:
        return complex(*obj["__complex__"])
    return {k: _decode(v) for k, v in obj.items()}


def dumps(obj) -> str:
    """Encode plain data as a JSON string."""
    text = json.dumps(_encode(obj))
    if len(text) > MAX_BYTES:
        raise WireError(f"value too large to grade ({len(text)} bytes > {MAX_BYTES})")
    return text


def loads(text: str):
    """Decode a string made by ``dumps``; raises WireError on anything else."""
    if len(text) > MAX_BYTES:
        raise WireError(f"value too large to grade ({len(text)} bytes > {MAX_BYTES})")
    try:
        return _decode(json.loads(text))
    except WireError:
        raise
    except Exception as exc:  # malformed JSON, bad base64, wrong shape: all just "not data"
        raise WireError(f"malformed value: {exc}") from None


def roundtrip(obj):
    """What the grader would receive for ``obj``."""
    return loads(dumps(obj))
