"""The wire format: round trips, and refusal of malformed or hostile frames."""

from __future__ import annotations

import json
import pickle
import struct

import numpy as np
import pytest
import torch

from autograder import protocol


def _frame(body, blobs=(), raw=b""):
    head = json.dumps({"body": body, "blobs": list(blobs)}).encode()
    return struct.pack("<Q", len(head)) + head + raw


def test_round_trip_keeps_values_and_types():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    message = {
        "a": array,
        "t": (1, 2.5, "x", None, True),
        "nested": [{"k": array[:1]}],
        "h": protocol.Handle(7, "CyclicGroup"),
        "nan": float("nan"),
        "dtype": torch.float64,
    }
    back = protocol.decode(protocol.encode(message))
    assert np.array_equal(back["a"], array) and back["a"].dtype == np.float32
    assert back["t"] == (1, 2.5, "x", None, True)
    assert np.array_equal(back["nested"][0]["k"], array[:1])
    assert back["h"] == protocol.Handle(7, "CyclicGroup")
    assert np.isnan(back["nan"])
    assert back["dtype"] == protocol.DType("float64")


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 2, 5)])
def test_empty_arrays_round_trip(shape):
    """A correct answer can be empty (a basis with no elements)."""
    message = {"empty": np.zeros(shape, dtype=np.float64), "after": np.ones(2)}
    back = protocol.decode(protocol.encode(message))
    assert back["empty"].shape == shape and back["empty"].dtype == np.float64
    assert np.array_equal(back["after"], np.ones(2))


def test_tensors_are_flagged():
    def to_numpy(value):
        return value.numpy() if isinstance(value, torch.Tensor) else None

    frame = protocol.encode({"x": torch.ones(2)}, to_numpy)
    seen = []
    protocol.decode(frame, lambda array, was_tensor: seen.append(was_tensor))
    assert seen == [True]


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b"\x01", id="shorter-than-header"),
        pytest.param(struct.pack("<Q", 999) + b"{}", id="header-past-end"),
        pytest.param(struct.pack("<Q", 3) + b"{x}", id="not-json"),
        pytest.param(_frame({}, [["object", [1]]], b"12345678"), id="object-dtype"),
        pytest.param(_frame({}, [["float64", [4]]], b"\0" * 8), id="blob-too-short"),
        pytest.param(_frame({}, [["uint8", [1]]], b"\0\0"), id="trailing-bytes"),
        pytest.param(_frame({"x": {"$a": 3}}), id="array-ref-out-of-range"),
        pytest.param(_frame({"x": {"$f": "1e999"}}), id="bad-special-float"),
        pytest.param(_frame({"x": {"$zz": 1}}), id="unknown-tag"),
        pytest.param(_frame([1, 2]), id="body-not-dict"),
        pytest.param(_frame({"x": {"$dt": "object"}}), id="bad-dtype-name"),
        pytest.param(_frame({}, [["float32", [-1]]]), id="negative-shape"),
    ],
)
def test_malformed_frames_are_refused(frame):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(frame)


def test_deep_nesting_is_refused():
    body = {}
    for _ in range(100):
        body = {"x": [body]}
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(_frame(body))


def test_pickles_are_data_not_code():
    class Boom:
        def __reduce__(self):
            return (print, ("pickle was loaded",))

    with pytest.raises(protocol.ProtocolError):
        protocol.decode(pickle.dumps(Boom()))
    with pytest.raises(protocol.ProtocolError):
        protocol.encode({"x": Boom()})
