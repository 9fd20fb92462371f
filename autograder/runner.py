"""Collects the hidden tests of an assignment and runs them on a submission.

Hidden tests are plain functions (see `autograder.grading`); the runner
expands ``pytest.mark.parametrize`` marks into cases, splits each test's
points equally across its cases, resolves fixtures by argument name, and
turns every outcome into a `CaseResult`. It never lets an exception out: a
test that cannot run is a failed case with a message.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import itertools
import json
import logging
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from autograder.grading import CATEGORIES, Feedback, Perf
from autograder.remote import Session, StudentError

__all__ = ["Assignment", "Case", "CaseResult", "load_assignment", "run_cases"]

log = logging.getLogger(__name__)


@dataclass
class Case:
    """One graded check: a test function with one set of parameters."""

    id: str
    name: str
    category: str
    points: float
    function: Callable
    params: dict[str, Any]
    timeout: float | None


@dataclass
class CaseResult:
    id: str
    name: str
    category: str
    points: float
    max_points: float
    status: str  # passed, partial, failed, not_attempted
    message: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Assignment:
    """An assignment as the grader knows it (from its hidden folder)."""

    name: str
    title: str
    notebook: str
    reference: list[str]  # modules whose __all__ the reference worker exposes
    cases: list[Case]
    fingerprint: str

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cases)


def load_assignment(hidden_dir: Path) -> Assignment:
    """Import the hidden tests of one assignment folder."""
    config = json.loads((hidden_dir / "assignment.json").read_text())
    digest = hashlib.sha256()
    for path in sorted(hidden_dir.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    cases: list[Case] = []
    sys.path.insert(0, str(hidden_dir))  # for the folder's shared helpers
    try:
        for path in sorted(hidden_dir.glob("test_*.py")):
            module = _import(path, f"gedl_hidden.{hidden_dir.name}.{path.stem}")
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("test_") and hasattr(function, "__gedl__"):
                    cases.extend(_expand(path.stem, name, function))
    finally:
        sys.path.remove(str(hidden_dir))
    # Performance last: its long calls should not disturb the other checks.
    order = {category: i for i, category in enumerate(CATEGORIES)}
    cases.sort(key=lambda c: (c.function.__code__.co_firstlineno, c.id))
    cases.sort(key=lambda c: (order[c.category], c.id.split("::")[0]))
    return Assignment(
        name=hidden_dir.name,
        title=config.get("title", hidden_dir.name),
        notebook=config.get("notebook", f"{hidden_dir.name}.ipynb"),
        reference=_as_list(config["reference"]),
        cases=cases,
        fingerprint=digest.hexdigest()[:16],
    )


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _expand(module: str, name: str, function: Callable) -> list[Case]:
    meta = function.__gedl__
    grids = []
    for mark in reversed(getattr(function, "pytestmark", [])):
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], list(mark.args[1])
        names = (
            [n.strip() for n in names.split(",")] if isinstance(names, str) else names
        )
        ids = mark.kwargs.get("ids") or [_show(v) for v in values]
        rows = [
            dict(zip(names, v if len(names) > 1 else (v,), strict=True)) for v in values
        ]
        grids.append(list(zip(ids, rows, strict=True)))
    combos = list(itertools.product(*grids)) or [()]
    share = meta["points"] / len(combos)
    doc = (inspect.getdoc(function) or name).splitlines()[0]
    cases = []
    for combo in combos:
        label = "-".join(str(i) for i, _ in combo)
        params = {k: v for _, row in combo for k, v in row.items()}
        case_id = f"{module}::{name}" + (f"[{label}]" if label else "")
        readable = doc + (f" [{label}]" if label else "")
        cases.append(
            Case(
                case_id,
                readable,
                meta["category"],
                share,
                function,
                params,
                meta["timeout"],
            )
        )
    return cases


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(_show(v) for v in value)
    return str(value)


def run_cases(
    cases: list[Case],
    session: Session,
    reference: Callable[[], Session],
    device: str,
) -> list[CaseResult]:
    """Run every case against the loaded submission."""
    return [_run_case(case, session, reference, device) for case in cases]


def _run_case(case: Case, session: Session, reference, device: str) -> CaseResult:
    feedback = Feedback()
    seed = zlib.crc32(case.id.encode())
    fixtures = {
        "student": session.namespace,
        "session": lambda: session,
        "rng": lambda: torch.Generator().manual_seed(seed),
        "feedback": lambda: feedback,
        "device": lambda: device,
        "perf": lambda: Perf(session, reference, device, feedback),
    }
    result = CaseResult(case.id, case.name, case.category, 0.0, case.points, "failed")
    start = time.perf_counter()
    previous_timeout = session.call_timeout
    if case.timeout:
        session.call_timeout = case.timeout
    try:
        arguments = dict(case.params)
        for name in inspect.signature(case.function).parameters:
            if name not in arguments:
                arguments[name] = fixtures[name]()
        fraction = case.function(**arguments)
        fraction = 1.0 if fraction is None else min(1.0, max(0.0, float(fraction)))
        result.points = case.points * fraction
        result.status = "passed" if fraction == 1.0 else "partial"
        if result.status == "partial" and feedback.performance:
            result.message = feedback.performance.get("message", "")
    except StudentError as error:
        result.status = "not_attempted" if error.kind == "not_attempted" else "failed"
        result.message = str(error)
    except AssertionError as error:
        result.message = str(error) or "a check failed"
    except Exception as error:  # noqa: BLE001 - the student's output broke a check
        log.warning("%s: unexpected %r", case.id, error, exc_info=True)
        result.message = (
            "the grader could not check your output "
            f"({type(error).__name__}: {str(error)[:200]})"
        )
    finally:
        session.call_timeout = previous_timeout
    result.seconds = time.perf_counter() - start
    result.data = {
        "equivariance": feedback.equivariance,
        "performance": feedback.performance,
    }
    return result
