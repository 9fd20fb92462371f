"""Everything the engine writes: per submission and for the class.

Per student and assignment, in ``OUT/<student>/<assignment>/``:
``feedback.html`` (self-contained, no script, no network), ``results.json``
(Gradescope's schema) and ``record.json`` (the engine's own record, written
last: its presence marks the submission as done). For the class:
``grades.csv``, ``tests.csv`` (pass rate per test), ``gradebook.db``
(nbgrader's gradebook), and the instructor's view in ``class/`` (see
`autograder.overview`). Every file is written atomically.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "write_class_reports", "write_submission"]

log = logging.getLogger(__name__)

CATEGORIES = ("correctness", "equivariance", "performance")


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_submission(
    folder: Path, submission, assignment, record: str, asdict: Callable
) -> None:
    atomic_write(folder / "feedback.html", feedback_html(submission, assignment))
    atomic_write(folder / "results.json", json.dumps(gradescope(submission), indent=1))
    atomic_write(folder / record, json.dumps(asdict(submission), indent=1))


def _summary_lines(submission) -> list[str]:
    note = getattr(submission, "device_note", "")
    lines = [f"Device: {submission.device}" + (f" ({note})." if note else ".")]
    if submission.device == "cpu":
        lines[0] += " Performance was measured on the CPU (no GPU was used)."
    lines += list(submission.notes)
    lines += [
        f"cell `{c['id']}` failed: {c['message']}"
        for c in submission.cells
        if not c["ok"]
    ]
    return lines


def gradescope(submission) -> dict[str, Any]:
    """Gradescope's ``results.json`` for one submission."""
    tests = []
    for number, case in enumerate(submission.cases, 1):
        tests.append(
            {
                "name": case.name,
                "number": str(number),
                "score": round(case.points, 4),
                "max_score": round(case.max_points, 4),
                "status": "passed" if case.status == "passed" else "failed",
                "output": case.message or "passed",
                "tags": [case.category],
                "visibility": "visible",
            }
        )
    return {
        "score": round(submission.score, 4),
        "execution_time": round(submission.seconds, 2),
        "output": "\n".join(_summary_lines(submission)),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_class_reports(
    out: Path, submissions: list, assignments: dict, gradebook: bool = True
) -> None:
    """``grades.csv``, ``tests.csv``, ``class/`` and (when ``gradebook``) nbgrader's
    gradebook, which costs seconds: nbgrader starts alembic and commits
    row by row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["student", "assignment", "score", "max_score", *CATEGORIES, "status", "device"]
    )
    for sub in sorted(submissions, key=lambda s: (s.student, s.assignment)):
        cats = sub.by_category()
        writer.writerow(
            [
                sub.student,
                sub.assignment,
                f"{sub.score:.4f}",
                f"{sub.max_score:.4f}",
                *(f"{cats.get(c, (0.0, 0.0))[0]:.4f}" for c in CATEGORIES),
                sub.status,
                sub.device,
            ]
        )
    atomic_write(out / "grades.csv", buffer.getvalue())
    atomic_write(out / "tests.csv", _pass_rates(submissions))
    from autograder import overview  # noqa: PLC0415 - it imports this module

    overview.write(out, submissions)
    if not gradebook:
        return
    try:
        from autograder import gradebook as nbgrader_gradebook  # noqa: PLC0415

        nbgrader_gradebook.write(out / "gradebook.db", submissions, assignments)
    except ImportError as error:
        log.warning("nbgrader is not installed; no gradebook written (%s)", error)


def pass_rates(submissions: list) -> list[tuple[str, str, int, int]]:
    counts: dict[tuple[str, str], list[int]] = {}
    for sub in submissions:
        for case in sub.cases:
            pair = counts.setdefault((sub.assignment, case.id), [0, 0])
            pair[0] += case.status == "passed"
            pair[1] += 1
    return [(a, t, p, n) for (a, t), (p, n) in sorted(counts.items())]


def _pass_rates(submissions: list) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["assignment", "test", "passed", "submissions", "pass_rate"])
    for assignment, test, passed, total in pass_rates(submissions):
        writer.writerow([assignment, test, passed, total, f"{passed / total:.3f}"])
    return buffer.getvalue()


# -- the feedback page -----------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1f;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem}
.score{font-size:2rem;font-weight:600} .muted{color:#666}
table{border-collapse:collapse;width:100%} td,th{padding:.35rem .5rem;
border-bottom:1px solid #ddd;vertical-align:top;text-align:left}
.passed{color:#137333} .failed{color:#b3261e} .partial{color:#9a6700}
.not_attempted{color:#666} .msg{white-space:pre-wrap;font-size:.92rem}
.note{background:#fff4e5;border-left:4px solid #f0a020;padding:.5rem .8rem;
margin:.4rem 0}
svg text{font-family:system-ui,sans-serif;font-size:11px}
"""

_STATUS = {
    "passed": "✔ passed",
    "partial": "◐ partial",
    "failed": "✘ failed",
    "not_attempted": "○ not attempted",
}


def feedback_html(submission, assignment) -> str:
    """The student's feedback page: score, notes, every test, and plots."""
    e = html.escape
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        f"<title>{e(assignment.title)}: feedback for {e(submission.student)}</title>",
        f"<style>{_STYLE}</style><body>",
        f"<h1>{e(assignment.title)}</h1>",
        f"<p class=muted>Feedback for <b>{e(submission.student)}</b></p>",
        f"<p class=score>{submission.score:.2f} / {submission.max_score:.2f}</p>",
    ]
    cats = submission.by_category()
    parts.append(
        "<p>"
        + " · ".join(
            f"{e(c)}: {cats[c][0]:.2f} / {cats[c][1]:.2f}"
            for c in CATEGORIES
            if c in cats
        )
        + "</p>"
    )
    for line in _summary_lines(submission):
        parts.append(f"<div class=note>{e(line)}</div>")
    for category in CATEGORIES:
        cases = [c for c in submission.cases if c.category == category]
        if not cases:
            continue
        parts.append(f"<h2>{e(category.capitalize())}</h2><table>")
        parts.append("<tr><th>check</th><th>points</th><th>result</th></tr>")
        for case in cases:
            parts.append(
                f"<tr><td>{e(case.name)}<div class='msg muted'>{e(case.message)}</div>"
                f"{_plots(case.data)}</td>"
                f"<td>{case.points:.2f}&nbsp;/&nbsp;{case.max_points:.2f}</td>"
                f"<td class={case.status}>{_STATUS.get(case.status, e(case.status))}"
                "</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _plots(data: dict[str, Any]) -> str:
    svgs = [equivariance_svg(p) for p in data.get("equivariance") or []]
    if data.get("performance"):
        svgs.append(performance_svg(data["performance"]))
    return "".join(svgs)


def equivariance_svg(plot: dict[str, Any]) -> str:
    """Bars of relative error per group element (log scale) against the
    tolerance line; bars over the tolerance are red."""
    e = html.escape
    errors, labels, tol = plot["errors"], plot["labels"], plot["tolerance"]
    width, height, left, bottom = 520, 180, 60, 40
    lo, hi = -17, 1

    def y(value: float) -> float:
        exponent = hi if not math.isfinite(value) else math.log10(max(value, 1e-17))
        exponent = min(max(exponent, lo), hi)
        return 10 + (hi - exponent) / (hi - lo) * (height - bottom - 10)

    step = (width - left - 10) / max(1, len(errors))
    out = [
        f"<svg width={width} height={height} role=img aria-label='{e(plot['title'])}'>"
    ]
    out.append(
        f"<text x={left} y=9>{e(plot['title'])}: relative error per element</text>"
    )
    for k in range(lo, hi + 1, 4):
        out.append(f"<text x=4 y={y(10.0**k) + 4:.1f}>1e{k}</text>")
    base = height - bottom
    for i, (err, label) in enumerate(zip(errors, labels, strict=True)):
        x = left + i * step
        colour = "#b3261e" if not err <= tol else "#137333"
        top = y(err)
        out.append(
            f"<rect x={x + 2:.1f} y={top:.1f} width={max(step - 4, 1):.1f} "
            f"height={max(base - top, 1):.1f} fill='{colour}'><title>{e(label)}: "
            f"{err:.3g}</title></rect>"
        )
        if len(errors) <= 16:
            out.append(f"<text x={x + 2:.1f} y={base + 14}>{e(label[:10])}</text>")
    ty = y(tol)
    out.append(
        f"<line x1={left} x2={width - 10} y1={ty:.1f} y2={ty:.1f} "
        "stroke='#444' stroke-dasharray='4 3'/>"
    )
    out.append(f"<text x={width - 120} y={ty - 4:.1f}>tolerance {tol:.0e}</text>")
    out.append("</svg>")
    return "".join(out)


def performance_svg(perf: dict[str, Any]) -> str:
    """Two bars: the reference's and the student's median time."""
    e = html.escape
    ref, student = perf["reference_s"], perf["student_s"]
    scale = max(ref * perf["half_ratio"], student if math.isfinite(student) else 0)
    width = 400

    def bar(value: float) -> float:
        return 300 * min(value, scale) / scale if math.isfinite(value) else 300

    rows = [("reference", ref, "#5f6368"), ("yours", student, "#1a73e8")]
    out = [
        f"<svg width={width} height=78 role=img aria-label='performance'>",
        f"<text x=0 y=10>{e(perf['what'])} on {e(perf['device'])}: "
        f"ratio {perf['ratio']:.2f}× (full points ≤ {perf['full_ratio']:g}×)</text>",
    ]
    for i, (name, value, colour) in enumerate(rows):
        y = 20 + 26 * i
        shown = f"{value * 1e3:.1f} ms" if math.isfinite(value) else "timed out"
        out.append(
            f"<text x=0 y={y + 13}>{name}</text><rect x=70 y={y} "
            f"width={bar(value):.1f} height=18 fill='{colour}'/>"
            f"<text x={75 + bar(value):.1f} y={y + 13}>{shown}</text>"
        )
    out.append("</svg>")
    return "".join(out)
