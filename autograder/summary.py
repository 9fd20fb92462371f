"""The summary printed at the end of a grading run."""

from __future__ import annotations

from pathlib import Path

from autograder.report import pass_rates

__all__ = ["render"]


def render(run, out: Path, shown: int = 12) -> str:
    """Scores per student, pass rate per test, and where the files are."""
    lines = [
        f"graded {run.graded} notebook(s), reused {run.skipped} finished, "
        f"in {run.seconds:.1f} s on {run.device}"
        + (f" ({run.device_note})" if run.device_note else ""),
        "",
        f"{'student':<24} {'assignment':<22} {'score':>13}  status",
    ]
    for sub in run.submissions:
        score = f"{sub.score:.2f}/{sub.max_score:.2f}"
        lines.append(
            f"{sub.student:<24} {sub.assignment:<22} {score:>13}  {sub.status}"
        )
    lines += ["", "pass rate per test (hardest first):"]
    rates = sorted(pass_rates(run.submissions), key=lambda r: (r[2] / r[3], r[1]))
    for _, test, passed, total in rates:
        lines.append(f"  {passed:>3}/{total:<3} {test}")
    lines += [
        "",
        f"grades: {out / 'grades.csv'}; feedback: {out}/<student>/<assignment>/",
        f"class overview (hardest tests, scores, slowest): {out / 'class'}/",
    ]
    return "\n".join(lines)
