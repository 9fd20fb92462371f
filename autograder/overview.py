"""The instructor's view of a class, written after every grading run.

In ``OUT/class/``:

- ``tests.csv``: pass rate and mean points per hidden test across the class,
  hardest first (the test most students fail is the first row);
- ``scores.csv``: the score distribution, per assignment, in bins of a tenth
  of the maximum, with the mean and median on every row;
- ``slowest.csv``: every submission by grading time, slowest first, with the
  test that took longest;
- ``overview.svg``: the same three views as plots (needs matplotlib; the
  CSVs are written without it).

Every file is derived from the submissions' records, so it covers earlier
runs too, and is rewritten atomically.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import statistics
from pathlib import Path

from autograder.report import atomic_write

__all__ = ["hardest_tests", "plot", "score_bins", "slowest", "write"]

log = logging.getLogger(__name__)

BINS = 10
SHOWN = 15


def hardest_tests(submissions: list) -> list[dict]:
    """One row per (assignment, test): pass rate, hardest first."""
    rows: dict[tuple[str, str], dict] = {}
    for sub in submissions:
        for case in sub.cases:
            row = rows.setdefault(
                (sub.assignment, case.id),
                {
                    "assignment": sub.assignment,
                    "test": case.id,
                    "name": case.name,
                    "category": case.category,
                    "passed": 0,
                    "submissions": 0,
                    "points": 0.0,
                    "max_points": case.max_points,
                },
            )
            row["passed"] += case.status == "passed"
            row["submissions"] += 1
            row["points"] += case.points
    for row in rows.values():
        row["pass_rate"] = row["passed"] / row["submissions"]
        row["mean_points"] = row.pop("points") / row["submissions"]
    return sorted(rows.values(), key=lambda r: (r["pass_rate"], r["test"]))


def score_bins(submissions: list) -> list[dict]:
    """Per assignment, how many submissions scored in each tenth of the max
    (the last bin includes full marks)."""
    by_assignment: dict[str, list[float]] = {}
    maxima: dict[str, float] = {}
    for sub in submissions:
        by_assignment.setdefault(sub.assignment, []).append(sub.score)
        maxima[sub.assignment] = sub.max_score
    rows = []
    for assignment, scores in sorted(by_assignment.items()):
        top = maxima[assignment] or 1.0
        counts = [0] * BINS
        for score in scores:
            counts[min(BINS - 1, math.floor(BINS * score / top))] += 1
        for k, count in enumerate(counts):
            rows.append(
                {
                    "assignment": assignment,
                    "from": top * k / BINS,
                    "to": top * (k + 1) / BINS,
                    "submissions": count,
                    "mean": statistics.fmean(scores),
                    "median": statistics.median(scores),
                    "max_score": top,
                }
            )
    return rows


def slowest(submissions: list) -> list[dict]:
    """Every submission by grading time, slowest first."""
    rows = []
    for sub in submissions:
        worst = max(sub.cases, key=lambda c: c.seconds, default=None)
        rows.append(
            {
                "student": sub.student,
                "assignment": sub.assignment,
                "seconds": sub.seconds,
                "status": sub.status,
                "score": sub.score,
                "slowest_test": worst.id if worst else "",
                "slowest_test_seconds": worst.seconds if worst else 0.0,
            }
        )
    return sorted(rows, key=lambda r: (-r["seconds"], r["student"], r["assignment"]))


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _csv(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [f"{row[c]:.4f}" if isinstance(row[c], float) else row[c] for c in columns]
        )
    return buffer.getvalue()


def write(out: Path, submissions: list) -> None:
    """Write ``out/class/``: the three CSVs and, with matplotlib, the plot."""
    folder = out / "class"
    tests, bins = hardest_tests(submissions), score_bins(submissions)
    slow = slowest(submissions)
    for name, rows in (("tests", tests), ("scores", bins), ("slowest", slow)):
        columns = list(rows[0]) if rows else ["assignment"]
        atomic_write(folder / f"{name}.csv", _csv(rows, columns))
    if not submissions:
        return
    try:
        svg = plot(tests, bins, slow)
    except ImportError as error:
        log.warning("matplotlib is not installed; no class plot (%s)", error)
        return
    atomic_write(folder / "overview.svg", svg)


def plot(tests: list[dict], bins: list[dict], slow: list[dict]) -> str:
    """Three panels as one SVG: the hardest tests, the score distribution per
    assignment, the slowest submissions. Deterministic for the same data."""
    import matplotlib  # noqa: PLC0415 - optional, and slow to import

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    # stable ids (same data, same file); text stays text (searchable, small)
    style = {"svg.hashsalt": "gedl", "svg.fonttype": "none"}
    with matplotlib.rc_context(style):
        figure = plt.figure(figsize=(18, 6), layout="constrained")
        _panels(figure, tests, bins, slow)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    return buffer.getvalue()


def _panels(figure, tests: list[dict], bins: list[dict], slow: list[dict]) -> None:
    left, middle, right = figure.subplots(1, 3)
    hardest = tests[:SHOWN][::-1]
    left.barh(
        [f"{r['assignment'][:2]} {_short(r['test'])}" for r in hardest],
        [100 * r["pass_rate"] for r in hardest],
        color="#b3261e",
    )
    left.set_xlim(0, 100)
    left.set_xlabel("students passing (%)")
    left.set_title(f"The {len(hardest)} hardest tests")
    left.tick_params(axis="y", labelsize=7)

    names = sorted({r["assignment"] for r in bins})
    width = 100 / BINS / max(1, len(names))
    for i, assignment in enumerate(names):
        counts = [r["submissions"] for r in bins if r["assignment"] == assignment]
        lefts = [100 * k / BINS + i * width for k in range(len(counts))]
        middle.bar(lefts, counts, width=width, align="edge", label=assignment)
    middle.set_xlim(0, 100)
    middle.yaxis.get_major_locator().set_params(integer=True)
    middle.set_xlabel("score (% of the maximum)")
    middle.set_ylabel("submissions")
    middle.set_title("Score distribution")
    middle.legend(fontsize=8)

    shown = slow[:SHOWN][::-1]
    right.barh(
        [f"{r['student']} / {r['assignment']}" for r in shown],
        [r["seconds"] for r in shown],
        color="#1a73e8",
    )
    right.set_xlabel("seconds to grade")
    right.set_title(f"The {len(shown)} slowest submissions")
    right.tick_params(axis="y", labelsize=7)
