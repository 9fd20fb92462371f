"""The worker's confinement, probed from inside a worker."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from autograder.engine import REPO
from autograder.remote import Session, StudentError, WorkerTemplate
from autograder.sandbox import Limits

PROBES = textwrap.dedent(
    """
    import os, socket, subprocess, importlib

    def attempt(action):
        try:
            action()
        except BaseException as error:
            return type(error).__name__
        return "allowed"

    def read(path):
        return attempt(lambda: open(path).read())

    def listing(path):
        return attempt(lambda: os.listdir(path))

    def write(path):
        return attempt(lambda: open(path, "w").write("x"))

    def run(command):
        return attempt(lambda: subprocess.run(command, check=False))

    def system(command):
        return attempt(lambda: os.system(command))

    def connect():
        return attempt(lambda: socket.create_connection(("127.0.0.1", 9), 1))

    def load(name):
        return attempt(lambda: importlib.import_module(name))

    def kill_parent():
        return attempt(lambda: os.kill(os.getppid(), 9))

    def scratch_write():
        return write("scratch-ok")  # the working folder is the scratch folder
    """
)


@pytest.fixture(scope="module", params=[True, False], ids=["full", "audit-only"])
def worker(request, tmp_path_factory):
    """A worker with the probes loaded; once with every layer of the sandbox,
    once with the audit hook alone (what a non-root instructor gets)."""
    secret = tmp_path_factory.mktemp("secret")
    (secret / "answers.txt").write_text("42")
    template = WorkerTemplate()
    hidden = [str(REPO / "autograder"), str(REPO / "gedl_ref"), str(secret)]
    session = Session(
        template,
        cells=[{"id": "probes", "source": PROBES}],
        limits=Limits(hidden=hidden, namespaces=request.param),
    )
    session.start()
    yield session, secret
    session.close()
    template.close()


def test_isolation_level_is_reported(worker):
    session, _ = worker
    assert session.isolation.endswith("audit hook")
    full = session.limits.namespaces and os.geteuid() == 0
    assert session.isolation.startswith("namespaces") == full


@pytest.mark.parametrize(
    "path",
    [
        "autograder/hidden/01_group_product/test_groups.py",
        "gedl_ref/groups.py",
        "autograder/engine.py",
    ],
)
def test_hidden_files_cannot_be_read(worker, path):
    session, _ = worker
    assert session.namespace().read(str(REPO / path)) != "allowed"


def test_hidden_folders_cannot_be_listed_or_read(worker):
    session, secret = worker
    ns = session.namespace()
    assert ns.read(str(secret / "answers.txt")) != "allowed"
    assert ns.listing(str(REPO / "autograder" / "hidden")) != "allowed"


def test_no_writes_outside_scratch(worker, tmp_path):
    session, _ = worker
    ns = session.namespace()
    target = tmp_path / "grades.csv"
    assert ns.write(str(REPO / "grades.csv")) != "allowed"
    assert ns.write(str(target)) != "allowed"
    assert ns.scratch_write() == "allowed"
    assert not (REPO / "grades.csv").exists()
    assert not target.exists()


def test_forged_frames_cost_only_the_call(worker):
    """Student code that writes its own bytes into the channel gets a
    protocol error for that call; the grader stays intact."""
    session, _ = worker
    forge = (
        "import os\n"
        "def forge():\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        "            os.write(fd, b'\\x05' + b'\\x00' * 7 + b'{bad}')\n"
        "        except OSError:\n"
        "            pass\n"
        "    return 1\n"
    )
    forger = Session(session.template, cells=[{"id": "f", "source": forge}])
    try:
        forger.start()
        with pytest.raises(StudentError) as caught:
            forger.namespace().forge()
        assert caught.value.kind in ("protocol", "crashed")
    finally:
        forger.close()


def test_no_processes_network_or_signals(worker):
    session, _ = worker
    ns = session.namespace()
    assert ns.run(["true"]) != "allowed"
    assert ns.system("true") != "allowed"
    assert ns.connect() != "allowed"
    assert ns.kill_parent() != "allowed"


@pytest.mark.parametrize(
    "name", ["gedl_ref", "gedl_ref.groups", "autograder.engine", "e3nn", "escnn"]
)
def test_forbidden_imports(worker, name):
    session, _ = worker
    assert session.namespace().load(name) in ("SandboxViolation", "ModuleNotFoundError")


def test_allowed_imports_still_work(worker):
    session, _ = worker
    assert session.namespace().load("colorsys") == "allowed"
    assert session.namespace().load("gedl_checks.equivariance") == "allowed"


def test_hang_is_stopped_and_worker_replaced(tmp_path):
    template = WorkerTemplate()
    cells = [
        {
            "id": "c",
            "source": "def spin():\n    while True:\n        pass\n"
            "def ok():\n    return 3\n",
        }
    ]
    session = Session(template, cells=cells, call_timeout=1.0)
    try:
        session.start()
        with pytest.raises(StudentError) as caught:
            session.namespace().spin()
        assert caught.value.kind == "timeout"
        assert session.namespace().ok() == 3
        assert session.restarts == 1
    finally:
        session.close()
        template.close()


def test_cell_that_kills_the_worker_is_skipped():
    template = WorkerTemplate()
    cells = [
        {"id": "fine", "source": "x = 1"},
        {"id": "exit", "source": "import os\nos._exit(0)"},
        {"id": "later", "source": "y = 2"},
    ]
    session = Session(template, cells=cells)
    try:
        reports = session.start()
        assert [r.ok for r in reports] == [True, False, True]
        assert "ended the worker" in reports[1].message
        assert session.namespace().y == 2
    finally:
        session.close()
        template.close()


def test_memory_blow_up_costs_only_the_call():
    template = WorkerTemplate()
    cells = [
        {
            "id": "c",
            "source": "def hog():\n    return bytearray(8 << 30)\n"
            "def ok():\n    return 5\n",
        }
    ]
    session = Session(template, cells=cells, limits=Limits(memory_bytes=3 << 30))
    try:
        session.start()
        with pytest.raises(StudentError) as caught:
            session.namespace().hog()
        assert "MemoryError" in str(caught.value)
        assert session.namespace().ok() == 5
    finally:
        session.close()
        template.close()


def test_repo_path_exists():
    assert (REPO / "autograder" / "hidden").is_dir()
    assert Path(__file__).resolve().is_relative_to(REPO)
