"""Fixtures shared by the test suite: seeded generators, and grading runs of
whole classes through the real command line (each run once per session)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01_group_product"
SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = REPO / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


@dataclass
class GradeRun:
    out: Path
    returncode: int
    stdout: str
    stderr: str

    def record(self, student: str, assignment: str = ASSIGNMENT) -> dict:
        return json.loads((self.out / student / assignment / "record.json").read_text())

    def case(self, student: str, case_id: str, assignment: str = ASSIGNMENT) -> dict:
        cases = {c["id"]: c for c in self.record(student, assignment)["cases"]}
        return cases[case_id]


def grade(submissions: Path, out: Path, *extra: str, timeout: float = 900) -> GradeRun:
    """Run ``python -m autograder grade`` as a user would."""
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(submissions),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return GradeRun(out, done.returncode, done.stdout, done.stderr)


def with_cell(notebook: dict, cell: str, old: str, new: str) -> dict:
    """A copy of ``notebook`` with ``old`` replaced once in cell ``cell``."""
    copy = json.loads(json.dumps(notebook))
    for c in copy["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade_id") == cell:
            source = "".join(c["source"])
            if source.count(old) != 1:
                raise ValueError(f"{old!r} occurs {source.count(old)} times in {cell}")
            c["source"] = source.replace(old, new)
            return copy
    raise ValueError(f"no cell {cell}")


def place(
    folder: Path, student: str, notebook: dict | bytes, name=None, assignment=ASSIGNMENT
) -> None:
    target = folder / student / assignment
    target.mkdir(parents=True)
    path = target / (name or f"{assignment}.ipynb")
    if isinstance(notebook, bytes):
        path.write_bytes(notebook)
    else:
        path.write_text(json.dumps(notebook))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> GradeRun:
    """The bundled demo class, graded once."""
    out = tmp_path_factory.mktemp("demo") / "grades"
    return grade(REPO / "examples" / "submissions", out)


@pytest.fixture(scope="session")
def solution_notebook() -> dict:
    return json.loads(SOLUTION.read_text())


@pytest.fixture(scope="session")
def copy_class(tmp_path_factory):
    def copy(*students: str) -> Path:
        folder = tmp_path_factory.mktemp("class") / "submissions"
        for student in students:
            shutil.copytree(
                REPO / "examples" / "submissions" / student, folder / student
            )
        return folder

    return copy


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A python3 kernel spec for this interpreter, found before any other."""
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (gedl tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    return tmp_path
