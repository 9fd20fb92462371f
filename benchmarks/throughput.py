"""Throughput of this engine against ``nbgrader autograde``, on one class.

The class: ``--students`` students, each submitting every assignment that
has hidden tests, with the demo class's mix (``tools/make_demo_class.py``):
correct notebooks, typical bugs, untouched stubs, and correct code with a
Python loop that loses the performance points. Both graders see the same
solution cells and the same hidden tests:

- **engine**: ``python -m autograder grade`` with ``--workers`` (default:
  the number of cores), each notebook in sandboxed workers forked from the
  warm template (isolation as the engine reports it);
- **nbgrader**: a temporary course whose source notebooks are the solutions
  plus one nbgrader hidden-test cell per hidden test function (its points
  from ``@graded``); a cell runs that test's cases in the kernel, on the
  notebook's own objects, through the engine's runner with an in-process
  stand-in for the worker (`LocalSession`). ``nbgrader generate_assignment``
  makes the release, each student's submission is that release with the
  student's solution cells, and ``nbgrader autograde`` grades them (one
  kernel per notebook, run after run, as nbgrader does).

Reported: wall-clock seconds per notebook for both, and the ratio. Usage::

    python -m benchmarks.throughput [--students 20] [--workers N]
        [--assignment A ...] [--nbgrader-threads T] [--keep DIR]

The engine gives each worker ``cores // workers`` torch threads. nbgrader's
kernels use torch's default (all cores) unless ``--nbgrader-threads`` says
otherwise; on a machine that other jobs load, one thread can be many times
faster than the default (OpenMP threads waiting on busy cores), so give
nbgrader its best setting before comparing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "submissions"
HIDDEN = REPO / "autograder" / "hidden"
#: Who student k imitates: 4 correct, 2 buggy, 1 untouched, 1 slow in 8.
MIX = [
    "alice_perfect",
    "bob_typical_bugs",
    "alice_perfect",
    "carol_untouched",
    "alice_perfect",
    "grace_python_loop",
    "bob_typical_bugs",
    "alice_perfect",
]
_LOADED: dict[str, Any] = {}


# -- inside the nbgrader kernel --------------------------------------------


class _TimeLimit(BaseException):
    """Raised by the alarm; not an Exception, so student code cannot catch
    it with ``except Exception``."""


def _alarm(signum, frame):
    raise _TimeLimit


class _Namespace:
    """Attribute access to a dict of globals (the worker's namespace proxy)."""

    def __init__(self, names: dict[str, Any]) -> None:
        self._names = names

    def __getattr__(self, name: str) -> Any:
        try:
            return self._names[name]
        except KeyError:
            raise NameError(f"name {name!r} is not defined") from None


class LocalSession:
    """What the hidden tests use of a `Session`, in the calling process."""

    def __init__(self, names: dict[str, Any]) -> None:
        self.names, self.call_timeout, self.kept = names, 30.0, None

    def namespace(self) -> _Namespace:
        return _Namespace(self.names)

    def timed(self, target, args, kwargs, timeout, repeat=1, backward=False):
        """Like the worker's timed call, with the same time limit (an alarm
        stands in for the grader killing the worker)."""
        import torch  # noqa: PLC0415

        from autograder import worker  # noqa: PLC0415
        from autograder.remote import StudentError  # noqa: PLC0415

        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            # a worker is a fresh process: gradients on, whatever the caller has
            with torch.enable_grad():
                start = time.perf_counter()
                for _ in range(repeat):
                    if backward:
                        result = worker._backward(target, list(args), kwargs, None)
                    else:
                        result = target(*args, **kwargs)
                seconds = time.perf_counter() - start
        except _TimeLimit:
            raise StudentError("timeout", "a timed call", f"{timeout:g} s") from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        digest = [0.0, 0.0]
        for leaf in worker._leaves(result):
            if hasattr(leaf, "detach"):
                values = leaf.detach().double()
                digest[0] += float(values.sum())
                digest[1] += float((values * values).sum())
        self.kept = result
        return seconds, digest

    def fetch(self, what: str) -> Any:
        kept, self.kept = self.kept, None
        return kept

    def backward(self, target, args, cotangent=None, timeout=None):
        import torch  # noqa: PLC0415

        from autograder import worker  # noqa: PLC0415

        with torch.enable_grad():
            return worker._backward(target, list(args), {}, cotangent)

    def count_operators(self, target, args) -> dict[str, int]:
        from autograder import worker  # noqa: PLC0415

        # the profiler logs to stderr, which would fail the nbgrader cell
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
                return worker._count_operators(target, list(args), {})
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def run_hidden_test(assignment: str, test: str, names: dict[str, Any]) -> None:
    """Run every case of hidden test ``module::function`` on the notebook's
    globals ``names``; raise (so nbgrader gives no points) unless all pass."""
    import importlib  # noqa: PLC0415

    from autograder.runner import load_assignment, run_cases  # noqa: PLC0415

    if assignment not in _LOADED:
        _LOADED[assignment] = load_assignment(HIDDEN / assignment)
    spec = _LOADED[assignment]
    reference: dict[str, Any] = {}
    for module in spec.reference:
        imported = importlib.import_module(module)
        reference.update({n: getattr(imported, n) for n in imported.__all__})
    cases = [c for c in spec.cases if c.id.split("[")[0] == test]
    ref = LocalSession(reference)
    # nbgrader fails a cell that writes to stderr; a worker's warnings do
    # not reach the engine's verdict either
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_cases(cases, LocalSession(names), lambda: ref, "cpu")
    failed = [f"{r.id}: {r.message}" for r in results if r.status != "passed"]
    if failed:
        raise AssertionError("\n".join(failed))


# -- building the class ----------------------------------------------------


def _tests(assignment: str) -> list[tuple[str, float]]:
    """(module::function, points) of every hidden test, in grading order."""
    from autograder.runner import load_assignment  # noqa: PLC0415

    points: dict[str, float] = {}
    for case in load_assignment(HIDDEN / assignment).cases:
        key = case.id.split("[")[0]
        points[key] = points.get(key, 0.0) + case.points
    return list(points.items())


def _answers(notebook: dict) -> dict[str, str]:
    return {
        c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
        for c in notebook["cells"]
        if c["metadata"].get("nbgrader", {}).get("solution")
    }


def _hidden_cell(assignment: str, test: str, points: float) -> dict:
    source = (
        "### BEGIN HIDDEN TESTS\n"
        f"import sys\nsys.path.insert(0, {str(REPO)!r})\n"
        "from benchmarks.throughput import run_hidden_test\n"
        f"run_hidden_test({assignment!r}, {test!r}, globals())\n"
        "### END HIDDEN TESTS"
    )
    grade_id = "hidden_" + test.replace("::", "__")
    meta = {"grade": True, "grade_id": grade_id, "locked": False}
    meta.update({"points": points, "schema_version": 3, "solution": False})
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": grade_id.replace("_", "-")[:64],
        "metadata": {"nbgrader": meta},
        "outputs": [],
        "source": source,
    }


def build_class(root: Path, assignments: list[str], students: int) -> list[str]:
    """The engine's class in ``root/engine`` and an nbgrader course in
    ``root/course``, with the same solution cells; returns the students."""
    names = [f"s{k:03d}_{MIX[k % len(MIX)].split('_')[0]}" for k in range(students)]
    course = root / "course"
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'gedl'\n"
        "c.Execute.timeout = 300\n"
    )
    for assignment in assignments:
        notebook = f"{assignment}.ipynb"
        source = json.loads((REPO / "solutions" / assignment / notebook).read_text())
        source["cells"] += [_hidden_cell(assignment, *t) for t in _tests(assignment)]
        (course / "source" / assignment).mkdir(parents=True)
        (course / "source" / assignment / notebook).write_text(json.dumps(source))
        _nbgrader(course, "generate_assignment", assignment, "--force")
        release = json.loads((course / "release" / assignment / notebook).read_text())
        for k, name in enumerate(names):
            demo = DEMO / MIX[k % len(MIX)] / assignment / notebook
            folder = root / "engine" / name / assignment
            folder.mkdir(parents=True)
            shutil.copyfile(demo, folder / notebook)
            answers = _answers(json.loads(demo.read_text()))
            submitted = json.loads(json.dumps(release))
            for cell in submitted["cells"]:
                grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
                if cell["metadata"].get("nbgrader", {}).get("solution"):
                    cell["source"] = answers[grade_id]
            target = course / "submitted" / name / assignment
            target.mkdir(parents=True)
            (target / notebook).write_text(json.dumps(submitted))
    return names


def _nbgrader(
    course: Path, *args: str, threads: int | None = None, check: bool = True
) -> float:
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    if threads:  # the kernels inherit it; torch reads it when it starts
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    with (course / "log.txt").open("a") as log:
        log.write(done.stderr)
    if check and done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


# -- measuring -------------------------------------------------------------


def grade_engine(root: Path, workers: int) -> float:
    command = [sys.executable, "-m", "autograder", "grade", str(root / "engine")]
    command += ["--out", str(root / "out"), "--workers", str(workers), "--quiet"]
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def engine_scores(root: Path) -> dict[tuple[str, str], tuple[float, str]]:
    scores = {}
    for path in (root / "out").glob("*/*/record.json"):
        record = json.loads(path.read_text())
        fraction = record["score"] / record["max_score"]
        scores[record["student"], record["assignment"]] = (
            fraction,
            record["isolation"],
        )
    return scores


def nbgrader_scores(course: Path) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook  # noqa: PLC0415

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                scores[sub.student.id, assignment.name] = sub.score / sub.max_score
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--assignment", action="append", dest="assignments")
    parser.add_argument(
        "--nbgrader-threads",
        type=int,
        default=None,
        help="torch threads in nbgrader's kernels (default: torch's, all cores)",
    )
    parser.add_argument("--keep", type=Path, help="build the class here and keep it")
    args = parser.parse_args(argv)
    assignments = args.assignments or sorted(
        p.parent.name for p in HIDDEN.glob("*/assignment.json")
    )
    root = args.keep or Path(tempfile.mkdtemp(prefix="gedl-throughput-"))
    try:
        names = build_class(root, assignments, args.students)
        notebooks = len(names) * len(assignments)
        engine = grade_engine(root, args.workers)
        nbgrader = sum(
            _nbgrader(
                root / "course",
                *("autograde", a, "--create", "--force"),
                threads=args.nbgrader_threads,
                check=False,  # it fails when any notebook fails; count those below
            )
            for a in assignments
        )
        report(names, assignments, engine, nbgrader, root, args.workers)
        threads = args.nbgrader_threads or "torch's default"
        print(f"nbgrader kernels: torch threads {threads}")
        print(f"{notebooks} notebooks ({len(names)} students × {assignments})")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def report(names, assignments, engine, nbgrader, root: Path, workers: int) -> None:
    notebooks = len(names) * len(assignments)
    ours, theirs = engine_scores(root), nbgrader_scores(root / "course")
    isolation = sorted({iso for _, iso in ours.values() if iso})
    log = (root / "course" / "log.txt").read_text()
    failed = log.count("There was an error processing assignment")
    print(f"nbgrader could not grade {failed} notebook(s) (see course/log.txt)")
    print(f"cores {os.cpu_count()}, engine workers {workers}; isolation {isolation}")
    print(f"{'grader':<10} {'seconds':>9} {'s/notebook':>11}")
    print(f"{'engine':<10} {engine:>9.1f} {engine / notebooks:>11.2f}")
    print(f"{'nbgrader':<10} {nbgrader:>9.1f} {nbgrader / notebooks:>11.2f}")
    print(f"engine throughput = {nbgrader / engine:.2f}× nbgrader's")
    print("mean score fraction per kind of student (engine / nbgrader):")
    for kind in sorted(set(MIX)):
        keys = [(n, a) for n in names for a in assignments if kind.startswith(n[5:])]
        if not keys:
            continue
        mine = sum(ours[k][0] for k in keys) / len(keys)
        nb = sum(theirs.get(k, 0.0) for k in keys) / len(keys)
        print(f"  {kind:<20} {mine:.2f} / {nb:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
