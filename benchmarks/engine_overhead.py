"""What grading a notebook costs beyond its own tests.

Grades N copies of the solution notebook with one worker and reports, per
notebook: wall time, time inside the hidden tests, and the difference (the
engine's own cost: fork a worker, load the cells, start the reference
worker); and what a run costs once, whatever its size (start the worker
template, import the hidden tests, write the class reports and the
gradebook).
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from autograder import engine
from autograder.remote import Session, WorkerTemplate
from autograder.sandbox import Limits

ASSIGNMENT = "01_group_product"


def measure(copies: int = 4) -> dict[str, float]:
    solution = engine.REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        submissions = Path(tmp) / "submissions"
        for i in range(copies):
            folder = submissions / f"student{i:02d}" / ASSIGNMENT
            folder.mkdir(parents=True)
            shutil.copy(solution, folder / solution.name)
        start = time.perf_counter()
        run = engine.grade_class(
            submissions, Path(tmp) / "out", workers=1, device="cpu", progress=False
        )
        wall = time.perf_counter() - start
        per_notebook = [s.seconds for s in run.submissions]
        in_tests = [sum(c.seconds for c in s.cases) for s in run.submissions]
        cells = json.loads(solution.read_text())
    own = [a - b for a, b in zip(per_notebook, in_tests, strict=True)]
    return {
        "notebooks": copies,
        "wall_s": wall,
        "per_notebook_s": statistics.median(per_notebook),
        "in_tests_s": statistics.median(in_tests),
        "engine_per_notebook_s": statistics.median(own),
        "worker_fork_and_load_s": _load_seconds(cells),
        "template_start_s": run.template_seconds,
        "once_per_run_s": wall - sum(per_notebook),
    }


def _load_seconds(notebook: dict, repeats: int = 5) -> float:
    """Fork a worker and run the solution's graded cells (median)."""
    from autograder.notebook import build_program

    program = build_program(notebook, notebook)
    template = WorkerTemplate()
    template.warm_up()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session = Session(template, cells=program.cells, limits=Limits())
        session.start()
        times.append(time.perf_counter() - start)
        session.close()
    template.close()
    return statistics.median(times)


def main() -> None:
    figures = measure()
    print("engine cost per notebook (assignment 1, solution, 1 worker, cpu)")
    for key, value in figures.items():
        print(
            f"  {key:<24} {value:8.3f}"
            if isinstance(value, float)
            else f"  {key:<24} {value:8d}"
        )


if __name__ == "__main__":
    main()
