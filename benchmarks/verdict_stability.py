"""Are performance verdicts stable? Grade the same submissions several times.

Copies the demo students whose performance tests matter (a correct one and
one with a Python loop or a dense layer) for every assignment into a
temporary class, grades it ``--runs`` times with ``python -m autograder
grade --force`` on ``--device``, and prints, per performance case, the
points of every run and the range of the measured ratios. It exits 1 when
any case's points differ between runs.

    python -m benchmarks.verdict_stability [--runs 5] [--device auto|cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "submissions"
STUDENTS = ("alice_perfect", "grace_python_loop")


def _performance_cases(out: Path) -> dict[str, tuple[float, float | None]]:
    """``student/assignment::case`` -> (points, ratio) of every performance case."""
    cases = {}
    for record in sorted(out.glob("*/*/record.json")):
        data = json.loads(record.read_text())
        where = f"{record.parts[-3]}/{record.parts[-2]}"
        for case in data["cases"]:
            if case["category"] != "performance":
                continue
            perf = (case.get("data") or {}).get("performance") or {}
            cases[f"{where}::{case['id']}"] = (case["points"], perf.get("ratio"))
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="gedl-stability-") as tmp:
        submissions = Path(tmp) / "class"
        for student in STUDENTS:
            shutil.copytree(DEMO / student, submissions / student)
        runs = []
        for run in range(args.runs):
            out = Path(tmp) / f"out{run}"
            command = [sys.executable, "-m", "autograder", "grade", str(submissions)]
            command += ["--out", str(out), "--device", args.device, "--quiet"]
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
            runs.append(_performance_cases(out))
            print(f"run {run + 1}/{args.runs}: {len(runs[-1])} performance cases")

    unstable = 0
    print(f"\n{'case':<80} points per run   ratio range")
    for case in runs[0]:
        points = [r[case][0] for r in runs]
        ratios = [r[case][1] for r in runs if r[case][1] is not None]
        span = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
        same = len(set(points)) == 1
        unstable += not same
        mark = "" if same else "   <- differs"
        shown = " ".join(f"{p:g}" for p in points)
        print(f"{case[-80:]:<80} {shown:<16} {span}{mark}")
    print(f"\n{unstable} of {len(runs[0])} cases changed their points between runs")
    return 1 if unstable else 0


if __name__ == "__main__":
    sys.exit(main())
