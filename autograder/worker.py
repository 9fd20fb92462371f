"""The worker: runs a submission's code and answers the grader's requests.

A worker is forked from a warm template (torch already imported), confines
itself (`autograder.sandbox`), runs the graded cells of one notebook (or
exposes the reference library), reports how each cell went, then serves
requests until its connection closes. It decides nothing: it only computes
what it is asked and sends back values (`autograder.protocol`).

Requests (``op``): ``get`` a name or attribute, ``call`` an object, ``timed``
a call followed by a device synchronisation and a digest of the result (the
result is kept for ``fetch``), ``release`` handles.
"""

from __future__ import annotations

import importlib
import io
import linecache
import os
import re
import sys
import traceback
from typing import Any

import numpy as np
import torch

from autograder import protocol, sandbox

__all__ = ["cell_filename", "serve"]

_MAGIC = re.compile(r"^(\s*)([%!].*)$")
_MAX_MESSAGE = 600


def cell_filename(cell_id: str) -> str:
    """The pseudo file name under which a notebook cell is compiled."""
    return f"<cell {cell_id}>"


class _CappedText(io.TextIOBase):
    """Where student prints go: kept small, never shown to the grader's terminal."""

    def __init__(self, cap: int = 1 << 16) -> None:
        self.cap, self.size = cap, 0

    def write(self, text: str) -> int:
        self.size = min(self.cap, self.size + len(text))
        return len(text)


def serve(fd: int, config: dict[str, Any]) -> None:
    """Entry point of a worker process, forked by the template.

    Args:
        fd: the worker's end of its channel to the grader.
        config: what to load (``cells`` or ``reference``), ``device``,
            ``threads``, ``seed`` and the sandbox's ``limits`` as a dict.
    """
    conn = protocol.Channel.from_fd(fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = _CappedText()
    torch.set_num_threads(max(1, int(config.get("threads", 1))))
    torch.manual_seed(int(config.get("seed", 0)))
    np.random.seed(int(config.get("seed", 0)))
    device = torch.device(config.get("device", "cpu"))
    if device.type == "cuda":
        torch.cuda.init()
        torch.empty(1, device=device)

    namespace: dict[str, Any] = {"__name__": "__main__"}
    allow = frozenset()
    reference = config.get("reference") or []
    for name in [reference] if isinstance(reference, str) else reference:
        module = importlib.import_module(name)
        namespace.update({key: getattr(module, key) for key in module.__all__})
        allow = frozenset(["gedl_ref"])
    limits = sandbox.Limits(**config.get("limits", {}))
    isolation, scratch = sandbox.confine(limits, allow_imports=allow)
    if not config.get("reference"):
        for name in [m for m in sys.modules if m.split(".")[0] == "autograder"]:
            sys.modules.pop(name, None)

    cells = []
    for cell in config.get("cells", []):
        conn.send(protocol.encode({"cell_start": cell["id"]}))
        cells.append(_run_cell(cell, namespace))
    ready = {"ready": True, "cells": cells, "isolation": isolation, "scratch": scratch}
    conn.send(protocol.encode(ready))
    _Server(conn, namespace, device).loop()


def _run_cell(cell: dict[str, str], namespace: dict[str, Any]) -> dict[str, Any]:
    """Execute one cell; report success or the error it raised."""
    filename = cell_filename(cell["id"])
    lines = [_MAGIC.sub(r"\1pass  # \2", line) for line in cell["source"].splitlines()]
    source = "\n".join(lines) + "\n"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(compile(source, filename, "exec"), namespace)
    except BaseException as error:  # noqa: BLE001 - student code may raise anything
        return {"id": cell["id"], "ok": False, **describe_error(error)}
    return {"id": cell["id"], "ok": True}


def describe_error(error: BaseException) -> dict[str, Any]:
    """Type, message and innermost student line of an exception, for feedback."""
    where = None
    if isinstance(error, SyntaxError) and str(error.filename).startswith("<cell "):
        where = {"cell": error.filename[6:-1], "line": error.lineno, "function": ""}
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith("<cell "):
            where = {
                "cell": frame.filename[6:-1],
                "line": frame.lineno,
                "function": frame.name,
                "code": (frame.line or "")[:200],
            }
    try:
        message = str(error)[:_MAX_MESSAGE]
    except Exception:  # noqa: BLE001 - a hostile __str__
        message = "<message could not be read>"
    not_attempted = type(error) is NotImplementedError and not message.strip()
    return {
        "type": type(error).__name__[:100],
        "message": message,
        "where": where,
        "not_attempted": not_attempted,
    }


def _to_numpy(value: Any) -> np.ndarray | None:
    if isinstance(value, torch.Tensor):
        value = value.detach().to("cpu").resolve_conj().resolve_neg()
        if value.dtype == torch.bfloat16:
            value = value.float()
        return value.contiguous().numpy()
    return None


class _Server:
    def __init__(self, conn, namespace: dict[str, Any], device: torch.device):
        self.conn, self.namespace, self.device = conn, namespace, device
        self.handles: dict[int, Any] = {}
        self.next_id = 1
        self.kept: Any = None

    def loop(self) -> None:
        while True:
            try:
                frame = self.conn.recv()
            except (EOFError, OSError, protocol.ProtocolError):
                os._exit(0)
            request = protocol.decode(frame, self._from_numpy)
            try:
                reply = {"ok": self._dispatch(request)}
            except BaseException as error:  # noqa: BLE001 - report, keep serving
                reply = {"error": describe_error(error)}
            reply["id"] = request.get("id")
            try:
                payload = protocol.encode(self._export(reply), _to_numpy)
            except BaseException as error:  # noqa: BLE001
                failure = {"type": "ProtocolError", "message": str(error)[:200]}
                payload = protocol.encode({"id": request.get("id"), "error": failure})
            self.conn.send(payload)

    def _from_numpy(self, array: np.ndarray, was_tensor: bool) -> Any:
        copy = array.copy()
        return torch.from_numpy(copy) if was_tensor else copy

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, protocol.DType):
            return getattr(torch, value.name)
        if isinstance(value, protocol.Handle):
            if value.id not in self.handles:
                raise LookupError(f"object {value.id} was released")
            return self.handles[value.id]
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self._resolve(v) for k, v in value.items()}
        return value

    def _dispatch(self, request: dict[str, Any]) -> Any:
        op = request.get("op")
        if op == "get":
            return self._get(request.get("target"), str(request["name"]))
        if op in ("call", "timed", "backward"):
            timed = op == "timed"
            device = self.device if timed else torch.device("cpu")
            function = self._resolve(request["target"])
            args = _to_device(self._resolve(request.get("args", [])), device)
            kwargs = _to_device(self._resolve(request.get("kwargs", {})), device)
            cotangent = _to_device(request.get("cotangent"), device)
            repeat = max(1, min(int(request.get("repeat", 1)), 1000)) if timed else 1
            for _ in range(repeat):  # amortise the request's own cost
                if request.get("backward"):
                    result = _backward(function, args, kwargs, cotangent)
                else:
                    result = function(*args, **kwargs)
            return self._digest_and_keep(result) if timed else result
        if op == "profile":
            function = self._resolve(request["target"])
            args = self._resolve(request.get("args", []))
            return _count_operators(
                function, args, self._resolve(request.get("kwargs", {}))
            )
        if op == "fetch":
            kept, self.kept = self.kept, None
            return kept
        if op == "release":
            for handle in request.get("handles", []):
                self.handles.pop(int(handle), None)
            return None
        raise ValueError(f"unknown request {op!r}")

    def _get(self, target: Any, name: str) -> Any:
        if target is None:
            if name not in self.namespace:
                raise NameError(f"name {name!r} is not defined")
            return self.namespace[name]
        return getattr(self._resolve(target), name)

    def _digest_and_keep(self, result: Any) -> list[float]:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        tensors = [t for t in _leaves(result) if isinstance(t, torch.Tensor)]
        digest = [0.0, 0.0]
        for tensor in tensors:
            values = tensor.detach().to(torch.float64)
            digest[0] += float(values.sum())
            digest[1] += float((values * values).sum())
        self.kept = result
        return digest

    def _export(self, value: Any) -> Any:
        """Replace what cannot travel by handles; scalars by Python scalars."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (torch.Tensor, np.ndarray)):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, torch.dtype):
            return value
        if isinstance(value, torch.device):
            return str(value)
        if isinstance(value, torch.Size):
            return tuple(value)
        if isinstance(value, (list, tuple)) and len(value) <= 10_000:
            exported = [self._export(v) for v in value]
            return tuple(exported) if isinstance(value, tuple) else exported
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {k: self._export(v) for k, v in value.items()}
        handle = self.next_id
        self.next_id += 1
        self.handles[handle] = value
        return protocol.Handle(handle, type(value).__name__[:100])


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, list):
        return [_to_device(v, device) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


def _backward(function, args: list, kwargs: dict, cotangent) -> dict[str, Any]:
    """Forward, then backward of sum(output * cotangent); returns the output
    and the gradients of the float tensor inputs and of the parameters."""
    module = function if isinstance(function, torch.nn.Module) else None
    module = module or getattr(function, "__self__", None)
    params = (
        list(module.named_parameters()) if isinstance(module, torch.nn.Module) else []
    )
    for _, param in params:
        param.grad = None
    args = [
        a.detach().requires_grad_()
        if isinstance(a, torch.Tensor) and a.is_floating_point()
        else a
        for a in args
    ]
    output = function(*args, **kwargs)
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"expected a tensor output, got {type(output).__name__}")
    if not output.requires_grad:
        raise RuntimeError("the output does not depend on any input or parameter")
    weight = torch.ones_like(output) if cotangent is None else cotangent
    (output * weight).sum().backward()
    return {
        "output": output.detach(),
        "input_grads": [a.grad if isinstance(a, torch.Tensor) else None for a in args],
        "param_grads": {name: param.grad for name, param in params},
    }


def _count_operators(function, args: list, kwargs: dict) -> dict[str, int]:
    """How many times each ATen operator ran during one call (torch's profiler
    sees every route to an operator: F.conv2d, torch.conv2d, nn.Conv2d, ...)."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.no_grad(), torch.profiler.profile(activities=activities) as prof:
        function(*args, **kwargs)
    counts: dict[str, int] = {}
    for event in prof.events():
        counts[event.name] = counts.get(event.name, 0) + 1
    return counts


def _leaves(value: Any):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value
