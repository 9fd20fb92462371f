"""The Gradescope autograder zip, run in a simulated ``/autograder`` layout.

Each run unpacks the zip into ``ROOT/source``, puts a notebook into
``ROOT/submission`` and runs ``run_autograder`` as Gradescope would (as the
current user, with this environment's Python instead of ``setup.sh``'s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import ASSIGNMENT, SOLUTION

from autograder import gradescope

TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "tags"}


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> Path:
    return gradescope.build(ASSIGNMENT, tmp_path_factory.mktemp("dist"))


@pytest.fixture
def layout(zip_path):
    """An empty ``/autograder`` with the zip unpacked into ``source/``.

    It lies outside ``/tmp`` where possible (a worker running as root gets a
    private ``/tmp``, which would hide the layout whatever the engine does)
    and is readable by every user, so only the sandbox keeps workers out.
    """
    base = "/var/tmp" if os.access("/var/tmp", os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="gedl-gradescope-test-", dir=base))
    root.chmod(0o755)
    for name in ("source", "submission", "results"):
        (root / name).mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def run_autograder(root: Path) -> dict:
    done = subprocess.run(
        [str(root / "source" / "run_autograder")],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "GEDL_GRADESCOPE_ROOT": str(root),
            "GEDL_PYTHON": sys.executable,
        },
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


def check_schema(results: dict) -> None:
    """Gradescope's results.json: top-level score and a list of tests."""
    assert isinstance(results["score"], float | int)
    assert isinstance(results["output"], str)
    assert results["visibility"] in gradescope.VISIBILITIES
    for test in results["tests"]:
        assert TEST_KEYS <= test.keys()
        assert test["status"] in ("passed", "failed")
        assert 0 <= test["score"] <= test["max_score"] + 1e-9
        assert test["visibility"] == "after_published"
    total = sum(test["score"] for test in results["tests"])
    assert results["score"] == pytest.approx(total, abs=1e-3)


def test_zip_holds_what_gradescope_needs_and_only_this_assignment(zip_path):
    names = set(zipfile.ZipFile(zip_path).namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= names
    assert f"assignments/{ASSIGNMENT}/{ASSIGNMENT}.ipynb" in names
    assert f"autograder/hidden/{ASSIGNMENT}/assignment.json" in names
    assert "gedl_ref/__init__.py" in names and "autograder/engine.py" in names
    hidden = {n.split("/")[2] for n in names if n.startswith("autograder/hidden/")}
    assert hidden == {ASSIGNMENT}
    assert not any(n.startswith("solutions/") for n in names)
    requirements = zipfile.ZipFile(zip_path).read("requirements.txt").decode()
    assert "torch==2.13.0" in requirements.splitlines()


def test_zip_is_deterministic(zip_path, tmp_path):
    again = gradescope.build(ASSIGNMENT, tmp_path)
    assert again.read_bytes() == zip_path.read_bytes()


@pytest.mark.slow
def test_solution_gets_full_marks(layout):
    shutil.copyfile(SOLUTION, layout / "submission" / "my_work.ipynb")
    results = run_autograder(layout)
    check_schema(results)
    full = sum(test["max_score"] for test in results["tests"])
    assert full > 0
    assert results["score"] == pytest.approx(full)
    assert "expected the name" in results["output"]


_ATTACK = """
import os as _os

_leaks = []
for _path in {reads!r}:
    try:
        with open(_path) as _file:
            _file.read(1)
        _leaks.append("read " + _path)
    except Exception:
        pass
for _folder in {folders!r}:
    try:
        if _os.listdir(_folder):
            _leaks.append("listed " + _folder)
    except Exception:
        pass
try:
    with open({results!r}, "w") as _file:
        _file.write('{{"score": 1000, "tests": []}}')
    _leaks.append("wrote results.json")
except Exception:
    pass
if _leaks:
    CyclicGroup = None
    raise RuntimeError("LEAKED " + "; ".join(_leaks))
"""


@pytest.mark.slow
def test_student_code_cannot_read_hidden_tests_or_write_results(layout):
    source = layout / "source"
    attack = _ATTACK.format(
        reads=[
            str(source / "autograder" / "hidden" / ASSIGNMENT / "test_groups.py"),
            str(source / "gedl_ref" / "groups.py"),
            str(source / "gradescope.json"),
            str(layout / "submission" / f"{ASSIGNMENT}.ipynb"),
        ],
        folders=[str(source), str(layout / "submission")],
        results=str(layout / "results" / "results.json"),
    )
    hostile = json.loads(SOLUTION.read_text())
    for cell in hostile["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "cyclic_group":
            cell["source"] = "".join(cell["source"]) + "\n" + attack
    (layout / "submission" / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(hostile))

    results = run_autograder(layout)

    check_schema(results)
    assert "LEAKED" not in json.dumps(results)
    assert "cyclic_group` failed" not in results["output"]
    failed = [t["name"] for t in results["tests"] if t["status"] != "passed"]
    correctness = [t for t in results["tests"] if "performance" not in t["tags"]]
    assert all(t["status"] == "passed" for t in correctness), failed


@pytest.mark.slow
def test_missing_notebook_scores_zero_with_a_message(layout):
    (layout / "submission" / "notes.txt").write_text("forgot the notebook")
    results = run_autograder(layout)
    assert results["score"] == 0
    assert f"upload {ASSIGNMENT}.ipynb" in results["output"]
