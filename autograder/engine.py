"""Grades a class: every student's submission of every assignment.

For each (student, assignment) the engine builds the program from the
notebook, loads it into a fresh sandboxed worker, runs the hidden tests, and
writes the results atomically. A submission already graded with the same
notebook, tests and device is skipped (unless ``force``), so a rerun after a
crash finishes the work without losing or doubling anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from autograder import report
from autograder.notebook import NotebookError, build_program, read_notebook
from autograder.remote import Session, StudentError, WorkerTemplate
from autograder.runner import Assignment, CaseResult, load_assignment, run_cases
from autograder.sandbox import Limits

__all__ = [
    "REPO",
    "GradeRun",
    "GraderFailure",
    "Submission",
    "grade_class",
    "resolve_device",
]

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
HIDDEN = Path(__file__).resolve().parent / "hidden"
RECORD = "record.json"
RECORD_VERSION = 1
NO_CUDA = "no CUDA device"


class GraderFailure(RuntimeError):
    """The grader itself failed on some submissions (the others are graded)."""


@dataclass
class Submission:
    """The graded outcome of one student's notebook for one assignment."""

    student: str
    assignment: str
    status: str  # graded, missing, unreadable
    score: float
    max_score: float
    device: str
    fingerprint: str
    cases: list[CaseResult] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    isolation: str = ""
    seconds: float = 0.0
    device_note: str = ""  # why this device, when --device auto chose it

    def by_category(self) -> dict[str, tuple[float, float]]:
        totals: dict[str, list[float]] = {}
        for case in self.cases:
            pair = totals.setdefault(case.category, [0.0, 0.0])
            pair[0] += case.points
            pair[1] += case.max_points
        return {k: (v[0], v[1]) for k, v in totals.items()}


@dataclass
class GradeRun:
    """Everything one call of `grade_class` produced."""

    submissions: list[Submission]
    assignments: dict[str, Assignment]
    device: str
    graded: int
    skipped: int
    seconds: float
    template_seconds: float = 0.0
    device_note: str = ""


def resolve_device(device: str) -> str:
    """``auto`` → cuda when available, else cpu; ``cuda`` without one fails."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"--device must be auto, cpu or cuda, not {device!r}")
    has_cuda = torch.cuda.is_available()
    if device == "cuda" and not has_cuda:
        raise ValueError("--device cuda was asked for, but no CUDA device is visible")
    if device == "auto":
        if not has_cuda:
            log.info("no CUDA device: performance tests run on the CPU")
        return "cuda" if has_cuda else "cpu"
    return device


def available_assignments() -> list[str]:
    return sorted(p.parent.name for p in HIDDEN.glob("*/assignment.json"))


def grade_class(
    submissions: Path,
    out: Path,
    *,
    assignments: list[str] | None = None,
    workers: int | None = None,
    device: str = "auto",
    force: bool = False,
    progress: bool = True,
    hidden: list[Path] | None = None,
) -> GradeRun:
    """Grade every student folder under ``submissions`` into ``out``.

    ``hidden`` names folders the workers may not see besides the engine's,
    the reference, the solutions, the submissions and ``out`` (Gradescope's
    layout adds its own).
    """
    start = time.perf_counter()
    asked, device = device, resolve_device(device)
    device_note = NO_CUDA if asked == "auto" and device == "cpu" else ""
    if not submissions.is_dir():
        raise ValueError(f"submissions folder {submissions} does not exist")
    known = available_assignments()
    wanted = assignments or known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; known: {known}")
    loaded = {name: load_assignment(HIDDEN / name) for name in wanted}
    students = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    present = {
        a for a in wanted if any((submissions / s / a).is_dir() for s in students)
    }
    jobs = [(s, a) for s in students for a in wanted if a in present or assignments]
    workers = max(1, workers or os.cpu_count() or 1)
    out.mkdir(parents=True, exist_ok=True)

    template = WorkerTemplate()
    grader = _Grader(
        submissions,
        out,
        loaded,
        device,
        template,
        workers,
        hidden=hidden or [],
        device_note=device_note,
    )
    results: dict[tuple[str, str], Submission] = {}
    failures: list[tuple[str, str]] = []
    todo = []
    for job in jobs:
        done = None if force else grader.finished(*job)
        if done is not None:
            results[job] = done
        else:
            todo.append(job)
    bar = tqdm(
        total=len(jobs),
        initial=len(results),
        unit="notebook",
        disable=not progress,
        desc="grading",
        dynamic_ncols=True,
    )
    try:
        if todo:
            grader.template_seconds = template.warm_up()
        with ThreadPoolExecutor(max_workers=min(workers, max(1, len(todo)))) as pool:
            futures = {pool.submit(grader.grade, *job): job for job in todo}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    results[job] = future.result()
                except Exception:
                    log.exception("grading %s/%s failed in the grader", *job)
                    failures.append(job)
                bar.update()
    finally:
        bar.close()
        template.close()
    ordered = [results[job] for job in jobs if job in results]
    everything = _all_records(out, known)
    for name in {s.assignment for s in everything} - set(loaded):
        loaded[name] = load_assignment(HIDDEN / name)
    fresh = bool(todo) or not (out / "gradebook.db").exists()
    report.write_class_reports(out, everything, loaded, gradebook=fresh)
    if failures:
        names = ", ".join(f"{s}/{a}" for s, a in failures)
        raise GraderFailure(f"the grader failed on {names}; see the log above")
    return GradeRun(
        ordered,
        loaded,
        device,
        len(todo),
        len(jobs) - len(todo),
        time.perf_counter() - start,
        grader.template_seconds,
        device_note,
    )


class _Grader:
    def __init__(
        self,
        submissions,
        out,
        assignments,
        device,
        template,
        workers,
        hidden=(),
        device_note="",
    ):
        self.submissions, self.out = submissions, out
        self.assignments, self.device = assignments, device
        self.template = template
        self.threads = max(1, (os.cpu_count() or 1) // workers)
        self.template_seconds = 0.0
        self.device_note = device_note
        hidden = [
            str(REPO / "autograder"),
            str(REPO / "gedl_ref"),
            str(REPO / "solutions"),
            str(submissions.resolve()),
            str(out.resolve()),
            *(str(Path(h).resolve()) for h in hidden),
        ]
        self.limits = Limits(hidden=hidden)
        if device == "cuda":
            self.limits.memory_bytes = None

    def notebook_path(self, student: str, assignment: str) -> Path | None:
        folder = self.submissions / student / assignment
        expected = folder / self.assignments[assignment].notebook
        if expected.is_file():
            return expected
        found = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        return found[0] if len(found) == 1 else None

    def fingerprint(self, student: str, assignment: str) -> str:
        digest = hashlib.sha256()
        path = self.notebook_path(student, assignment)
        digest.update(path.read_bytes() if path else b"<missing>")
        digest.update(self.assignments[assignment].fingerprint.encode())
        digest.update(f"{self.device}:{RECORD_VERSION}".encode())
        return digest.hexdigest()[:24]

    def finished(self, student: str, assignment: str) -> Submission | None:
        """The record of an earlier run, if it graded this very notebook."""
        record = _read_record(self.out / student / assignment / RECORD)
        if record and record.fingerprint == self.fingerprint(student, assignment):
            return record
        return None

    def grade(self, student: str, assignment: str) -> Submission:
        start = time.perf_counter()
        submission = self._grade(student, assignment)
        submission.seconds = time.perf_counter() - start
        report.write_submission(
            self.out / student / assignment,
            submission,
            self.assignments[assignment],
            RECORD,
            asdict,
        )
        return submission

    def _grade(self, student: str, assignment: str) -> Submission:
        spec = self.assignments[assignment]
        base = Submission(
            student,
            assignment,
            "graded",
            0.0,
            spec.max_score,
            self.device,
            self.fingerprint(student, assignment),
            device_note=self.device_note,
        )
        path = self.notebook_path(student, assignment)
        if path is None:
            base.status = "missing"
            base.notes.append(
                f"no notebook found; expected {assignment}/{spec.notebook}"
            )
            base.cases = _all_failed(spec, "no notebook was submitted")
            return base
        try:
            instructor = read_notebook(
                REPO / "assignments" / assignment / spec.notebook
            )
            program = build_program(instructor, read_notebook(path))
        except NotebookError as error:
            base.status = "unreadable"
            base.notes.append(str(error))
            base.cases = _all_failed(
                spec, "your notebook could not be read (see above)"
            )
            return base
        base.notes.extend(program.notes)
        session = self._session(cells=program.cells)
        references: list[Session] = []

        def reference() -> Session:
            if not references:
                references.append(self._session(reference=spec.reference))
                references[0].start()
            return references[0]

        try:
            try:
                cells = session.start()
            except StudentError as error:
                base.notes.append(f"your notebook could not be loaded: {error}")
                base.cases = _all_failed(spec, "your notebook could not be loaded")
                return base
            base.isolation = session.isolation
            base.cells = [asdict(c) for c in cells]
            base.cases = run_cases(spec.cases, session, reference, self.device)
        finally:
            session.close()
            for ref in references:
                ref.close()
        base.score = round(sum(c.points for c in base.cases), 6)
        return base

    def _session(self, **kwargs) -> Session:
        return Session(
            self.template,
            device=self.device,
            limits=self.limits,
            threads=self.threads,
            **kwargs,
        )


def _read_record(path: Path) -> Submission | None:
    try:
        data = json.loads(path.read_text())
        data["cases"] = [CaseResult(**c) for c in data["cases"]]
        return Submission(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _all_records(out: Path, known: list[str]) -> list[Submission]:
    """Every finished submission in ``out``, from this run or earlier ones, so
    that class reports never lose grades given before (another assignment,
    a student no longer in the folder)."""
    found = []
    for path in sorted(out.glob(f"*/*/{RECORD}")):
        if path.parent.name in known and (record := _read_record(path)):
            found.append(record)
    return found


def _all_failed(spec: Assignment, message: str) -> list[CaseResult]:
    return [
        CaseResult(c.id, c.name, c.category, 0.0, c.points, "failed", message)
        for c in spec.cases
    ]
