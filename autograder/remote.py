"""The grader's side of a worker: start it, talk to it, stop it.

`WorkerTemplate` is the warm template: a multiprocessing fork server that has
imported torch and the worker code once; each `Session` forks a fresh worker
from it, loads one submission (or the reference) into it, and exposes the
worker's objects through `Remote` proxies:

    student = session.namespace()
    group = student.CyclicGroup(4)          # a Remote: the object stays there
    out = group.product(g, h)               # tensors travel, as CPU tensors

Whatever the worker does (raise, hang, die, send garbage) surfaces here as a
`StudentError` whose message a student can read; a dead worker is replaced
on the next request, so a crash costs only the test that caused it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autograder import protocol
from autograder.sandbox import SCRATCH_PREFIX, Limits

__all__ = [
    "CellReport",
    "Remote",
    "Session",
    "StudentError",
    "WorkerTemplate",
]

log = logging.getLogger(__name__)


class StudentError(Exception):
    """Something the submission did, described for the student.

    Attributes:
        kind: ``error`` (it raised), ``not_attempted`` (a bare
            NotImplementedError, the stub), ``missing`` (a name is not
            defined), ``timeout``, ``skipped`` (it timed out before),
            ``crashed`` or ``protocol``.
        what: the expression that was evaluated, e.g. ``CyclicGroup(4).product``.
    """

    def __init__(self, kind: str, what: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.what, self.detail = kind, what, detail

    def __str__(self) -> str:
        return describe(self.kind, self.what, self.detail)


def describe(kind: str, what: str, detail: str) -> str:
    if kind == "not_attempted":
        return f"not attempted: `{what}` still raises NotImplementedError"
    if kind == "missing":
        return f"`{what}` is not defined in your notebook ({detail})"
    if kind == "timeout":
        return f"`{what}` did not finish within {detail}; it was stopped"
    if kind == "skipped":
        return f"`{what}` was not run: {detail}"
    if kind == "crashed":
        return f"your code ended the worker process during `{what}` ({detail})"
    if kind == "protocol":
        return f"`{what}` returned something the grader cannot read ({detail})"
    return f"`{what}` raised {detail}"


@dataclass
class CellReport:
    """How one graded cell of a submission ran when loaded."""

    id: str
    ok: bool
    message: str = ""


class WorkerTemplate:
    """The warm, pre-imported process from which workers are forked.

    One per grading run; thread-safe. See `autograder.template`.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> float:
        """Start the template now; returns the seconds it took."""
        start = time.perf_counter()
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            self._ask({"op": "status", "pid": 0})
        return time.perf_counter() - start

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "autograder.template", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self._control = ours
        self._reader = ours.makefile("rb")

    def _ask(self, request: dict[str, Any], fds: list[int] = ()) -> dict[str, Any]:
        socket.send_fds(self._control, [json.dumps(request).encode()], list(fds))
        line = self._reader.readline()
        if not line:
            raise RuntimeError("the worker template died")
        return json.loads(line)

    def spawn(self, config: dict[str, Any]) -> tuple[int, protocol.Channel]:
        """Fork a worker with ``config``; returns its pid and channel."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            reply = self._ask({"op": "fork", "config": config}, [theirs.fileno()])
        theirs.close()
        return int(reply["pid"]), protocol.Channel(ours)

    def exit_status(self, pid: int) -> int | None:
        """The worker's exit code (negative: killed by that signal), if known."""
        with self._lock:
            return self._ask({"op": "status", "pid": pid}).get("status")

    def close(self) -> None:
        if self._process is not None:
            self._control.close()
            self._process.kill()
            self._process.wait()
            self._process = None


class Session:
    """One submission (or the reference) loaded in a worker.

    Args:
        template: where workers come from.
        cells: the graded cells, ``[{"id", "source"}]`` in order.
        reference: modules whose ``__all__`` the worker exposes instead.
        device: ``cpu`` or ``cuda``.
        limits: the sandbox's limits.
        threads: torch threads in the worker.
        call_timeout: default wall-clock limit of one request, seconds.
        load_timeout: limit for running all cells once.
    """

    def __init__(
        self,
        template: WorkerTemplate,
        *,
        cells: list[dict[str, str]] | None = None,
        reference: str | list[str] | None = None,
        device: str = "cpu",
        limits: Limits | None = None,
        threads: int = 1,
        call_timeout: float = 10.0,
        load_timeout: float = 60.0,
    ) -> None:
        self.template = template
        self.cells = list(cells or [])
        self.device, self.threads = device, threads
        self.reference = reference
        self.limits = limits or Limits()
        self.call_timeout, self.load_timeout = call_timeout, load_timeout
        self.skipped: dict[str, str] = {}
        self.struck: dict[str, float] = {}
        self.cell_reports: list[CellReport] = []
        self.isolation = ""
        self.epoch = 0
        self.restarts = 0
        self._pid: int | None = None
        self._scratch = ""
        self._conn: protocol.Channel | None = None
        self._killed = False
        self._next = 0

    # -- life cycle -------------------------------------------------------

    def start(self) -> list[CellReport]:
        """Fork a worker and run the cells; a cell that kills or hangs the
        worker is reported and left out, and the load is retried."""
        while True:
            culprit = self._try_start()
            if culprit is None:
                return self.cell_reports
            self.skipped[culprit[0]] = culprit[1]

    def _try_start(self) -> tuple[str, str] | None:
        self.close()
        cells = [c for c in self.cells if c["id"] not in self.skipped]
        config = {
            "cells": cells,
            "reference": self.reference,
            "device": self.device,
            "threads": self.threads,
            "limits": dataclasses.asdict(self.limits),
        }
        self._pid, self._conn = self.template.spawn(config)
        self.epoch += 1
        running = None
        deadline = time.monotonic() + self.load_timeout
        while True:
            try:
                frame = self._conn.recv(max(0.0, deadline - time.monotonic()))
                message = protocol.decode(frame)
            except TimeoutError:
                self.close()
                if running is None:
                    raise StudentError(
                        "timeout", "loading the notebook", "its limit"
                    ) from None
                return running, f"ran longer than {self.load_timeout:.0f} s"
            except (EOFError, OSError, protocol.ProtocolError):
                status = self._exit_status()
                self.close()
                if running is None:
                    raise StudentError("crashed", "loading", status) from None
                return running, f"ended the worker ({status})"
            if "cell_start" in message:
                running = str(message["cell_start"])
                continue
            self._ready(message)
            return None

    def _ready(self, message: dict[str, Any]) -> None:
        self.isolation = str(message.get("isolation", ""))
        self._scratch = str(message.get("scratch", ""))
        ran = {}
        for cell in message.get("cells", []):
            detail = ""
            if not cell.get("ok"):
                detail = format_error(cell)
            ran[str(cell.get("id"))] = CellReport(
                str(cell.get("id")), bool(cell.get("ok")), detail
            )
        self.cell_reports = [
            ran.get(c["id"])
            or CellReport(c["id"], False, self.skipped.get(c["id"], "did not run"))
            for c in self.cells
        ]

    def close(self) -> None:
        """Stop the worker (and anything it started in its process group)."""
        if self._pid is None:
            return
        for kill in (os.killpg, os.kill):
            try:
                kill(self._pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._conn.close()
        self._pid = self._conn = None
        _remove_scratch(self._scratch)
        self._scratch = ""

    def _exit_status(self) -> str:
        """Why the worker is gone, in words (it closed its channel)."""
        code = None
        for _ in range(20):
            code = self.template.exit_status(self._pid)
            if code is not None:
                break
            time.sleep(0.05)
        if code is None:
            return "it stopped answering"
        if code < 0:
            name = signal.Signals(-code).name
            oom = -code in (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS)
            return f"killed by {name}" + (", out of memory?" if oom else "")
        return f"it exited with status {code}"

    # -- requests ---------------------------------------------------------

    def namespace(self) -> Remote:
        """The notebook's global namespace, as a proxy."""
        return Remote(self, None, "", self.epoch)

    def request(self, what: str, timeout: float | None = None, **fields: Any) -> Any:
        """Send one request and return the decoded value, or raise StudentError.

        A function that timed out once is not called again in this session:
        later calls fail at once, so one infinite loop costs one time limit,
        not one per test.
        """
        key = _function_key(what)
        if key in self.struck:
            raise StudentError(
                "skipped",
                what,
                f"`{key}` did not finish within "
                f"{self.struck[key]:g} s in an earlier test",
            )
        if self._pid is None:
            self.restarts += 1
            self.start()
        self._next += 1
        fields["id"] = self._next
        timeout = self.call_timeout if timeout is None else timeout
        frame = protocol.encode(fields, _tensor_to_numpy)
        deadline = time.monotonic() + timeout
        strike = fields.get("op") != "timed"  # a slow timed call is slow, not stuck
        try:
            self._conn.send(frame, timeout)
            frame = self._conn.recv(max(0.0, deadline - time.monotonic()))
            reply = protocol.decode(frame, _to_torch)
        except TimeoutError:
            self.close()
            if strike:
                self.struck[_function_key(what)] = timeout
            raise StudentError("timeout", what, f"{timeout:g} s") from None
        except (EOFError, OSError):
            status = self._exit_status()
            self.close()
            raise StudentError("crashed", what, status) from None
        except protocol.ProtocolError as error:
            self.close()
            raise StudentError("protocol", what, str(error)) from None
        if reply.get("id") != self._next:
            self.close()
            raise StudentError("protocol", what, "a reply out of turn")
        if "error" in reply:
            raise _student_error(what, reply["error"])
        return reply.get("ok")

    def timed(
        self, target: Remote, args: tuple, kwargs: dict, timeout: float, **extra: Any
    ):
        """Call ``target`` and time the round trip; returns (seconds, digest).

        The worker synchronises the device and digests the result before it
        answers, so the time covers the whole computation; the result stays
        in the worker until `fetch`.
        """
        start = time.perf_counter()
        digest = self._invoke("timed", target, args, kwargs, timeout, **extra)
        return time.perf_counter() - start, digest

    def backward(
        self, target: Remote, args: tuple, cotangent=None, timeout=None
    ) -> dict[str, Any]:
        """Forward and backward of ``sum(target(*args) * cotangent)`` in the
        worker; returns ``output``, ``input_grads`` and ``param_grads`` (by
        parameter name; None where no gradient arrived)."""
        what = f"{target._what}(...) and its backward pass"
        target._check_epoch()
        return self.request(
            what,
            timeout,
            op="backward",
            backward=True,
            target=target._handle,
            args=[_unwrap(a) for a in args],
            kwargs={},
            cotangent=cotangent,
        )

    def count_operators(self, target: Remote, args: tuple) -> dict[str, int]:
        """ATen operators (name → count) that one call of ``target`` ran."""
        target._check_epoch()
        counts = self.request(
            f"{target._what}(...)",
            None,
            op="profile",
            target=target._handle,
            args=[_unwrap(a) for a in args],
            kwargs={},
        )
        if not isinstance(counts, dict):
            raise StudentError("protocol", target._what, "no operator counts")
        return {str(k): int(v) for k, v in counts.items() if isinstance(v, int)}

    def fetch(self, what: str) -> Any:
        return self.wrap(self.request(what, op="fetch"), what)

    def _invoke(self, op, target, args, kwargs, timeout=None, what=None, **extra):
        target._check_epoch()
        return self.request(
            what or target._what,
            timeout,
            op=op,
            target=target._handle,
            args=list(_unwrap(a) for a in args),
            kwargs={k: _unwrap(v) for k, v in kwargs.items()},
            **extra,
        )

    def wrap(self, value: Any, what: str) -> Any:
        """Turn handles in a reply into proxies."""
        if isinstance(value, protocol.Handle):
            return Remote(self, value, what, self.epoch)
        if isinstance(value, list):
            return [self.wrap(v, f"{what}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return tuple(self.wrap(v, f"{what}[{i}]") for i, v in enumerate(value))
        if isinstance(value, dict):
            return {k: self.wrap(v, f"{what}[{k!r}]") for k, v in value.items()}
        return value


class Remote:
    """A proxy for an object living in a worker.

    Attribute access and calls are requests; tensors passed in are sent to
    the worker's device, tensors returned come back as CPU tensors.
    """

    __slots__ = ("_session", "_handle", "_what", "_epoch")

    def __init__(self, session: Session, handle, what: str, epoch: int) -> None:
        self._session, self._handle, self._what = session, handle, what
        self._epoch = epoch

    def _check_epoch(self) -> None:
        if self._handle is not None and self._epoch != self._session.epoch:
            raise StudentError(
                "crashed",
                self._what,
                "the worker was restarted after an earlier failure",
            )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        what = f"{self._what}.{name}" if self._what else name
        self._check_epoch()
        value = self._session.request(what, op="get", target=self._handle, name=name)
        return self._session.wrap(value, what)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        what = f"{self._what}({_show_args(args, kwargs)})"
        value = self._session._invoke("call", self, args, kwargs, what=what)
        return self._session.wrap(value, what)

    def __repr__(self) -> str:
        return f"<remote {self._what or 'namespace'}>"


def _remove_scratch(folder: str) -> None:
    """Delete a worker's own scratch folder (never anything else)."""
    path = Path(folder)
    if path.name.startswith(SCRATCH_PREFIX) and path.parent == Path(
        tempfile.gettempdir()
    ):
        shutil.rmtree(path, ignore_errors=True)


def _function_key(what: str) -> str:
    """``CyclicGroup(4).product(tensor[3])`` → ``CyclicGroup.product``."""
    previous = None
    while previous != what:
        previous, what = what, _ARGUMENTS.sub("", what)
    return what


_ARGUMENTS = re.compile(r"\([^()]*\)")


def _show_args(args: tuple, kwargs: dict) -> str:
    def show(value: Any) -> str:
        if isinstance(value, torch.Tensor):
            return f"tensor{list(value.shape)}"
        if isinstance(value, Remote):
            return value._what
        text = repr(value)
        return text if len(text) <= 20 else text[:17] + "..."

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _unwrap(value: Any) -> Any:
    if isinstance(value, Remote):
        value._check_epoch()
        return value._handle
    if isinstance(value, (list, tuple)):
        items = [_unwrap(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _tensor_to_numpy(value: Any) -> np.ndarray | None:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().resolve_conj().resolve_neg().contiguous().numpy()
    return None


def _to_torch(array: np.ndarray, was_tensor: bool) -> Any:
    """Arrays from a worker become CPU tensors (copies: the frame is freed)."""
    copy = np.array(array, copy=True)
    return torch.from_numpy(copy) if was_tensor else copy


def _student_error(what: str, error: Any) -> StudentError:
    if not isinstance(error, dict):
        return StudentError("protocol", what, "a malformed error report")
    if error.get("not_attempted"):
        return StudentError("not_attempted", what, "")
    if error.get("type") == "NameError" and error.get("where") is None:
        return StudentError("missing", what, "check the name and that its cell runs")
    return StudentError("error", what, format_error(error))


def format_error(error: dict[str, Any]) -> str:
    """``ValueError: message (cell `x`, line 3, in f: code)`` from a report."""
    text = f"{error.get('type', 'an exception')}: {error.get('message', '')}".rstrip(
        ": "
    )
    where = error.get("where")
    if isinstance(where, dict) and where.get("cell"):
        place = f"cell `{where['cell']}`, line {where.get('line')}"
        if where.get("function") and where["function"] != "<module>":
            place += f", in {where['function']}"
        if where.get("code"):
            place += f": {where['code']}"
        text += f" ({place})"
    return text
