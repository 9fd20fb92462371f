"""Confinement of a worker process, applied before any student code runs.

Two layers, the strongest available:

1. Operating system (when the worker starts as root, as in CI and in
   Gradescope's containers): a private mount and network namespace in which
   the hidden folders are covered by empty read-only tmpfs mounts and no
   network interface is up, a private ``/tmp``, then a drop to an
   unprivileged user so that nothing else can be written, killed or read
   beyond what every user may read.
2. Python (always): resource limits, and an audit hook (PEP 578; it cannot be
   removed once installed) that refuses reads of hidden paths, writes outside
   the scratch folder, new processes, sockets, signals, native libraries and
   imports of the libraries that would do the assignment.

Warning:
    Without root, only layer 2 applies. An audit hook is not a complete
    sandbox: native code already loaded can still be reached. The grader does
    not rely on the worker for any verdict, so a breach can corrupt only the
    submission's own outputs; it cannot change how they are judged.
"""

from __future__ import annotations

import ctypes
import dataclasses
import importlib.util
import os
import resource
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SCRATCH_PREFIX", "Limits", "SandboxViolation", "confine"]

_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY = 0x1
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_NOBODY = 65534

SCRATCH_PREFIX = "gedl-worker-"
BLOCKED_IMPORTS = frozenset(["gedl_ref", "autograder", "e3nn", "escnn", "e2cnn"])
#: Packages of this repository that a worker may import (the public checks).
_SHARED_PACKAGES = ("gedl_checks",)

_BLOCKED_EVENTS = frozenset(
    [
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
        "subprocess.Popen",
        "pty.spawn",
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.getaddrinfo",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.call_function",
        "ctypes.cdata",
        "ctypes.addressof",
        "ctypes.string_at",
        "ctypes.set_errno",
        "os.chmod",
        "os.chown",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "os.setxattr",
        "os.removexattr",
        "shutil.chown",
        "sys.setprofile",
        "sys.settrace",
        "sys.remote_exec",
        "mmap.__new__",
        "resource.setrlimit",
        "resource.prlimit",
        "cpython.remove_audit_hook",
    ]
)
_WRITE_EVENTS = frozenset(["os.remove", "os.rename", "os.rmdir", "os.mkdir"])


class SandboxViolation(PermissionError):
    """Raised inside the worker when student code does what it may not."""


@dataclass
class Limits:
    """What a worker may use.

    Attributes:
        memory_bytes: address-space limit (CPU workers only; CUDA maps more
            virtual memory than it uses, so GPU workers are watched instead).
        cpu_seconds: CPU time before the kernel stops the process; the
            grader's wall-clock limit per call usually fires first.
        file_bytes: largest file the worker may write (in its scratch folder).
        hidden: folders the worker may neither read nor list.
        scratch: the only folder the worker may write to.
        namespaces: use layer 1 when running as root (tests turn it off to
            check layer 2 alone).
    """

    memory_bytes: int | None = 6 << 30
    cpu_seconds: int = 900
    file_bytes: int = 64 << 20
    hidden: list[str] = field(default_factory=list)
    scratch: str = "/tmp"
    namespaces: bool = True


def confine(
    limits: Limits, *, allow_imports: frozenset[str] = frozenset()
) -> tuple[str, str]:
    """Confine the calling process for good.

    Returns the isolation achieved, in words, and the folder the worker may
    write to: ``/tmp`` when it is a private tmpfs, else a fresh folder
    (named with `SCRATCH_PREFIX`) that the grader removes afterwards.

    Call it after the libraries the worker needs are imported and before any
    student code runs. ``allow_imports`` exempts packages (the reference
    worker imports gedl_ref).
    """
    os.setpgid(0, 0)
    level = "audit hook"
    if limits.namespaces and os.geteuid() == 0 and _namespaces(limits):
        level = "namespaces + unprivileged user + audit hook"
    else:
        # No private /tmp: write only to a folder of this worker's own.
        limits = dataclasses.replace(
            limits, scratch=tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=limits.scratch)
        )
        os.chdir(limits.scratch)
    _rlimits(limits)
    blocked = BLOCKED_IMPORTS - allow_imports
    sys.meta_path.insert(0, _ImportBlocker(blocked))
    sys.addaudithook(_make_hook(limits, blocked))
    return level, limits.scratch


class _ImportBlocker:
    """Refuses blocked packages on every import path, ``importlib`` included
    (the audit hook's ``import`` event only sees import statements)."""

    def __init__(self, blocked: frozenset[str]) -> None:
        self.blocked = blocked

    def find_spec(self, name: str, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            raise SandboxViolation(f"importing {name} is not allowed when graded")
        return None


def _namespaces(limits: Limits) -> bool:
    """Private mounts and network, hidden folders covered, then drop root."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS | _CLONE_NEWNET) != 0:
        return False
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    for folder in limits.hidden:
        if os.path.isdir(folder):
            target = os.fsencode(folder)
            flags = _MS_RDONLY
            if libc.mount(b"tmpfs", target, b"tmpfs", flags, b"size=4k") != 0:
                return False
    os.makedirs(limits.scratch, exist_ok=True)
    # What the worker imports from may itself live below the folder that
    # becomes a private /tmp (a checkout or a venv in /tmp): hold on to those
    # folders by file descriptor and bind them back once /tmp is covered.
    below = [p for p in _needed_paths() if p.is_relative_to(limits.scratch)]
    held = [os.open(path, os.O_PATH | os.O_DIRECTORY) for path in below]
    scratch = os.fsencode(limits.scratch)
    try:
        if libc.mount(b"tmpfs", scratch, b"tmpfs", 0, b"size=256m,mode=1777") != 0:
            return False
        for path, fd in zip(below, held, strict=True):
            os.makedirs(path, mode=0o755, exist_ok=True)
            source = os.fsencode(f"/proc/self/fd/{fd}")
            if libc.mount(source, os.fsencode(path), None, _MS_BIND | _MS_REC, None):
                return False
    finally:
        for fd in held:
            os.close(fd)
    if not _expose(libc, limits.scratch):
        return False
    os.setgroups([])
    os.setgid(_NOBODY)
    os.setuid(_NOBODY)
    os.chdir(limits.scratch)
    return True


def _needed_paths() -> list[Path]:
    """Folders the worker must still import from once it is unprivileged:
    the standard library, ``sys.path``, and the packages a worker may import
    that an editable install maps from outside ``sys.path``."""
    paths = {Path(os.__file__).resolve().parent}
    paths.update(Path(p).resolve() for p in sys.path if p and os.path.isdir(p))
    for name in _SHARED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            paths.update(Path(p).resolve() for p in spec.submodule_search_locations)
    return sorted(paths)


def _closed_ancestor(path: Path) -> Path | None:
    """The outermost folder above ``path`` that other users cannot enter."""
    for folder in reversed(path.parents):
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


def _expose(libc, scratch: str) -> bool:
    """Make the interpreter's own folders reachable for the unprivileged user.

    A Python installed under a private home (pyenv in root's home) cannot import
    its standard library once the worker drops root. Inside the worker's
    mount namespace, such a closed folder is covered by an empty tmpfs and
    only the needed folders are bound back into it, so the rest of the home
    stays out of sight.
    """
    plan: dict[Path, list[Path]] = {}
    for path in _needed_paths():
        closed = _closed_ancestor(path)
        if closed is not None:
            plan.setdefault(closed, []).append(path)
    for n, (closed, paths) in enumerate(plan.items()):
        stages = []
        for i, path in enumerate(paths):
            stage = os.path.join(scratch, ".gedl-stage", f"{n}-{i}")
            os.makedirs(stage)
            if (
                libc.mount(
                    os.fsencode(path),
                    os.fsencode(stage),
                    None,
                    _MS_BIND | _MS_REC,
                    None,
                )
                != 0
            ):
                return False
            stages.append(stage)
        if libc.mount(b"tmpfs", os.fsencode(closed), b"tmpfs", 0, b"mode=755") != 0:
            return False
        for path, stage in zip(paths, stages, strict=True):
            os.makedirs(path, exist_ok=True)
            if (
                libc.mount(
                    os.fsencode(stage),
                    os.fsencode(path),
                    None,
                    _MS_BIND | _MS_REC,
                    None,
                )
                != 0
            ):
                return False
    return True


def _rlimits(limits: Limits) -> None:
    def lower(kind: int, value: int) -> None:
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))

    lower(resource.RLIMIT_CORE, 0)
    lower(resource.RLIMIT_CPU, limits.cpu_seconds)
    lower(resource.RLIMIT_FSIZE, limits.file_bytes)
    lower(resource.RLIMIT_NPROC, 512)
    if limits.memory_bytes:
        lower(resource.RLIMIT_AS, limits.memory_bytes)


def _make_hook(limits: Limits, blocked_imports: frozenset[str]):
    hidden = tuple(os.path.realpath(h) + os.sep for h in limits.hidden)
    scratch = os.path.realpath(limits.scratch) + os.sep

    def resolve(path) -> str:
        if isinstance(path, int):
            return ""
        try:
            return os.path.realpath(os.fsdecode(path)) + os.sep
        except (TypeError, ValueError):
            return ""

    def is_hidden(path) -> bool:
        resolved = resolve(path)
        return bool(resolved) and resolved.startswith(hidden)

    def hook(event: str, args: tuple) -> None:
        if event == "import":
            top = str(args[0]).split(".")[0]
            if top in blocked_imports:
                raise SandboxViolation(f"importing {top} is not allowed when graded")
        elif event == "open":
            path, mode = args[0], args[1]
            if is_hidden(path):
                raise SandboxViolation(f"reading {path} is not allowed")
            writes = isinstance(mode, str) and any(c in mode for c in "wax+")
            if isinstance(mode, int):
                writes = bool(mode & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writes and not resolve(path).startswith(scratch):
                raise SandboxViolation(f"writing {path} is not allowed")
        elif event in ("os.listdir", "os.scandir", "os.chdir"):
            if args and is_hidden(args[0]):
                raise SandboxViolation(f"listing {args[0]} is not allowed")
        elif event in _WRITE_EVENTS:
            if args and not resolve(args[0]).startswith(scratch):
                raise SandboxViolation(f"{event} outside the scratch folder")
        elif event in _BLOCKED_EVENTS or event.startswith("os.exec"):
            raise SandboxViolation(f"{event} is not allowed when graded")

    return hook
