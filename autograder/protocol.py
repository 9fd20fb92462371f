"""The wire format between the grader and its workers.

A frame is one bytes message: an 8-byte little-endian header length, a UTF-8
JSON header, then the raw bytes of every array the header names. Values are
JSON trees in which arrays, tuples, dicts and handles are tagged objects:

- ``{"$a": i, "t": bool}``: blob ``i`` of the frame (``t``: it was a tensor);
- ``{"$dt": name}``: a torch dtype (decoded as `DType`);
- ``{"$t": [...]}``: a tuple; ``{"$d": [[key, value], ...]}``: a dict with str
  keys; ``{"$h": id, "type": name}``: an object that stays in the worker.

Decoding never unpickles and never evaluates anything: dtypes come from a
whitelist and every blob's size is checked against its shape. Both sides use
this module; only the grader's side has to be safe against a hostile peer.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Channel",
    "DTYPES",
    "DType",
    "Handle",
    "ProtocolError",
    "decode",
    "encode",
]

DTYPES = frozenset(
    [
        "bool",
        "uint8",
        "int8",
        "int16",
        "int32",
        "int64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    ]
)
_MAX_DEPTH = 32
_HEADER = struct.Struct("<Q")


class ProtocolError(ValueError):
    """A frame that does not follow the format (from a broken or hostile peer)."""


@dataclass(frozen=True)
class Handle:
    """A reference to an object that lives in the worker."""

    id: int
    type: str


@dataclass(frozen=True)
class DType:
    """A torch dtype by name (``float32``); the worker turns it back."""

    name: str


def _dtype_name(value: Any) -> str | None:
    if type(value).__name__ == "dtype" and type(value).__module__ == "torch":
        return str(value).removeprefix("torch.")
    return None


def encode(header: dict[str, Any], to_numpy=None) -> bytes:
    """Serialise ``header`` (a JSON tree whose leaves may be arrays) to a frame.

    Args:
        header: the message; values may nest lists, tuples, dicts with str
            keys, numpy arrays, `Handle` and whatever ``to_numpy`` accepts.
        to_numpy: optional ``obj -> np.ndarray | None`` for array-like leaves
            (the worker passes one that detaches torch tensors).
    """
    blobs: list[np.ndarray] = []

    def tag(value: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ProtocolError("value nested too deeply to send")
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"$f": repr(value)}
        if isinstance(value, Handle):
            return {"$h": value.id, "type": value.type}
        if isinstance(value, DType):
            return {"$dt": value.name}
        if (name := _dtype_name(value)) is not None:
            return {"$dt": name}
        is_tensor = False
        if not isinstance(value, np.ndarray) and to_numpy is not None:
            array = to_numpy(value)
            if array is not None:
                value, is_tensor = array, True
        if isinstance(value, np.ndarray):
            if value.dtype.name not in DTYPES:
                raise ProtocolError(f"arrays of dtype {value.dtype} cannot be sent")
            blobs.append(np.ascontiguousarray(value))
            return {"$a": len(blobs) - 1, "t": is_tensor}
        if isinstance(value, tuple):
            return {"$t": [tag(v, depth + 1) for v in value]}
        if isinstance(value, list):
            return [tag(v, depth + 1) for v in value]
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise ProtocolError("only dicts with str keys can be sent")
            return {"$d": [[k, tag(v, depth + 1)] for k, v in value.items()]}
        raise ProtocolError(f"cannot send a value of type {type(value).__name__}")

    body = tag(header, 0)
    meta = [[b.dtype.name, list(b.shape)] for b in blobs]
    head = json.dumps({"body": body, "blobs": meta}).encode()
    # An empty array has no bytes (and memoryview cannot cast a zero shape).
    data = [memoryview(b).cast("B") if b.size else b"" for b in blobs]
    return b"".join([_HEADER.pack(len(head)), head, *data])


def decode(frame: bytes, from_numpy=None) -> dict[str, Any]:
    """Parse a frame made by `encode`.

    Args:
        frame: the bytes received.
        from_numpy: optional ``(array, was_tensor) -> value`` applied to each
            array (the grader turns them into CPU tensors).

    Raises:
        ProtocolError: the frame is malformed; nothing of it is used.
    """
    view = memoryview(frame)
    if len(view) < _HEADER.size:
        raise ProtocolError("frame shorter than its header")
    (n_head,) = _HEADER.unpack_from(view)
    start = _HEADER.size + n_head
    if start > len(view):
        raise ProtocolError("frame header length exceeds the frame")
    try:
        head = json.loads(bytes(view[_HEADER.size : start]))
        body, meta = head["body"], head["blobs"]
    except (ValueError, KeyError, TypeError) as error:
        raise ProtocolError(f"frame header is not valid: {error}") from None
    arrays = _read_blobs(view, start, meta)

    def untag(value: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        if isinstance(value, list):
            return [untag(v, depth + 1) for v in value]
        if not isinstance(value, dict):
            return value
        if "$a" in value:
            index = value["$a"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise ProtocolError("array reference out of range")
            array = arrays[index]
            return from_numpy(array, bool(value.get("t"))) if from_numpy else array
        if "$f" in value:
            if value["$f"] not in ("nan", "inf", "-inf"):
                raise ProtocolError("bad special float")
            return float(value["$f"])
        if "$dt" in value:
            if value["$dt"] not in DTYPES | {"bfloat16"}:
                raise ProtocolError("unknown dtype")
            return DType(value["$dt"])
        if "$h" in value:
            if not isinstance(value["$h"], int):
                raise ProtocolError("bad handle")
            return Handle(value["$h"], str(value.get("type", "object")))
        if "$t" in value:
            return tuple(untag(v, depth + 1) for v in _list(value["$t"]))
        if "$d" in value:
            pairs = _list(value["$d"])
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise ProtocolError("bad dict encoding")
            return {str(k): untag(v, depth + 1) for k, v in pairs}
        raise ProtocolError("unknown tagged value")

    result = untag(body, 0)
    if not isinstance(result, dict):
        raise ProtocolError("a frame's body must be a dict")
    return result


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise ProtocolError("expected a list")
    return value


def _read_blobs(view: memoryview, start: int, meta: Any) -> list[np.ndarray]:
    arrays = []
    offset = start
    for entry in _list(meta):
        try:
            dtype_name, shape = entry
            shape = tuple(int(n) for n in shape)
        except (TypeError, ValueError):
            raise ProtocolError("bad array description") from None
        if dtype_name not in DTYPES or any(n < 0 for n in shape):
            raise ProtocolError(f"array of dtype {dtype_name!r} refused")
        dtype = np.dtype(dtype_name)
        nbytes = dtype.itemsize * math.prod(shape)
        if offset + nbytes > len(view):
            raise ProtocolError("array bytes run past the end of the frame")
        flat = np.frombuffer(view[offset : offset + nbytes], dtype=dtype)
        arrays.append(flat.reshape(shape))
        offset += nbytes
    if offset != len(view):
        raise ProtocolError("trailing bytes after the last array")
    return arrays


class Channel:
    """Frames over a stream socket: an 8-byte length, then the frame.

    Reading has a deadline for the whole frame, not per chunk, so a peer that
    announces a frame and sends it slowly, or never, costs at most the
    timeout; and a length over ``max_bytes`` is refused before anything is
    allocated.
    """

    def __init__(self, sock: socket.socket, max_bytes: int = 512 << 20) -> None:
        self.sock, self.max_bytes = sock, max_bytes

    @classmethod
    def from_fd(cls, fd: int) -> Channel:
        return cls(socket.socket(fileno=fd))

    def send(self, frame: bytes, timeout: float | None = None) -> None:
        """Send one frame; a peer that stops reading raises TimeoutError."""
        self.sock.settimeout(timeout)
        self.sock.sendall(_HEADER.pack(len(frame)) + frame)  # TimeoutError

    def recv(self, timeout: float | None = None) -> bytes:
        """One frame. Raises TimeoutError, EOFError, or ProtocolError."""
        deadline = None if timeout is None else time.monotonic() + timeout
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if size > self.max_bytes:
            raise ProtocolError(f"a frame of {size} bytes is over the limit")
        return self._read(size, deadline)

    def _read(self, size: int, deadline: float | None) -> bytes:
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no complete frame in time")
                self.sock.settimeout(left)
            n = self.sock.recv_into(view[got:], size - got)  # TimeoutError
            if n == 0:
                raise EOFError("the peer closed the channel")
            got += n
        return bytes(buffer)

    def close(self) -> None:
        self.sock.close()
