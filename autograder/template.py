"""The warm worker template: a process that forks workers on request.

Started once per grading run (``python -m autograder.template FD``), it
imports torch and the worker code, then waits on its control socket. Each
request carries a JSON config and one file descriptor, the new worker's end
of its channel to the grader; the template forks, the child becomes the
worker (`autograder.worker.serve`) and the template answers with its pid.
A fork costs milliseconds where a fresh interpreter with torch costs seconds.

The template never initialises CUDA or runs a torch operation, so that its
children start from a clean state. It reaps its children and answers
``status`` requests with their exit codes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys

import numpy  # noqa: F401 - preloaded for the workers
import torch  # noqa: F401 - preloaded for the workers

from autograder import worker

__all__ = ["main"]

_MAX_CONFIG = 1 << 26


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(argv[0]))
    statuses: dict[int, int] = {}
    while True:
        ready, _, _ = select.select([control], [], [], 0.5)
        _reap(statuses)
        if not ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, _MAX_CONFIG, 1)
        except OSError:
            return 0
        if not message:
            return 0
        request = json.loads(message)
        if request["op"] == "status":
            _reap(statuses)
            pid = int(request["pid"])
            reply = {"pid": pid, "status": statuses.pop(pid, None)}
        else:
            reply = {"pid": _fork(control, fds[0], request["config"])}
        control.sendall(json.dumps(reply).encode() + b"\n")


def _fork(control: socket.socket, fd: int, config: dict) -> int:
    pid = os.fork()
    if pid == 0:
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        code = 0
        try:
            worker.serve(fd, config)
        except BaseException:  # noqa: BLE001 - the worker's death is reported
            code = 70
        os._exit(code)
    os.close(fd)
    return pid


def _reap(statuses: dict[int, int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        statuses[pid] = os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
