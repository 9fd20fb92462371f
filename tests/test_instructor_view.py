"""The instructor's view in ``OUT/class/``: hardest tests, score
distribution, slowest submissions, and their plot."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ASSIGNMENT, grade

from autograder import overview
from autograder.runner import CaseResult

STUDENTS = ("alice_perfect", "bob_typical_bugs", "carol_untouched")
BOB_FAILS = "test_groups::test_inverse_matches_reference[SE2]"


def read(path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def small_class(copy_class, tmp_path_factory):
    out = tmp_path_factory.mktemp("view") / "grades"
    run = grade(copy_class(*STUDENTS), out, "--assignment", ASSIGNMENT)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


@pytest.mark.slow
def test_tests_csv_lists_the_hardest_test_first(small_class):
    rows = read(small_class.out / "class" / "tests.csv")
    rates = [float(r["pass_rate"]) for r in rows]
    assert rates == sorted(rates)
    assert {r["submissions"] for r in rows} == {str(len(STUDENTS))}
    # alice passes it, bob and carol do not: a third of the class
    bob = next(r for r in rows if r["test"] == BOB_FAILS)
    assert int(bob["passed"]) == 1 and float(bob["pass_rate"]) == pytest.approx(
        1 / 3, abs=1e-4
    )
    assert {"name", "category", "mean_points"} <= rows[0].keys()


@pytest.mark.slow
def test_scores_csv_is_the_score_distribution(small_class):
    rows = read(small_class.out / "class" / "scores.csv")
    assert len(rows) == overview.BINS
    assert sum(int(r["submissions"]) for r in rows) == len(STUDENTS)
    grades = {r["student"]: r for r in read(small_class.out / "grades.csv")}
    top = float(grades["alice_perfect"]["max_score"])
    # alice's full marks fall in the last bin, carol's zero in the first
    assert int(rows[-1]["submissions"]) >= 1 and int(rows[0]["submissions"]) >= 1
    assert float(rows[-1]["to"]) == pytest.approx(top)
    mean = sum(float(g["score"]) for g in grades.values()) / len(STUDENTS)
    assert float(rows[0]["mean"]) == pytest.approx(mean, abs=1e-3)


@pytest.mark.slow
def test_slowest_csv_orders_submissions_by_grading_time(small_class):
    rows = read(small_class.out / "class" / "slowest.csv")
    assert sorted(r["student"] for r in rows) == sorted(STUDENTS)
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds == sorted(seconds, reverse=True) and min(seconds) > 0
    for row in rows:
        assert float(row["slowest_test_seconds"]) <= float(row["seconds"])


@pytest.mark.slow
def test_overview_svg_shows_three_panels(small_class):
    svg = (small_class.out / "class" / "overview.svg").read_text()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    for title in ("hardest tests", "Score distribution", "slowest submissions"):
        assert title in svg
    assert "alice_perfect / 01_group_product" in svg


def _submission(student: str, score: float, seconds: float, passed: list[bool]):
    cases = [
        CaseResult(f"t{i}", f"test {i}", "correctness", float(ok), 1.0, status)
        for i, ok in enumerate(passed)
        for status in ["passed" if ok else "failed"]
    ]
    return SimpleNamespace(
        student=student,
        assignment="a",
        score=score,
        max_score=2.0,
        seconds=seconds,
        status="graded",
        cases=cases,
    )


def test_summaries_from_records():
    subs = [
        _submission("x", 2.0, 1.0, [True, True]),
        _submission("y", 1.0, 3.0, [True, False]),
        _submission("z", 0.0, 2.0, [False, False]),
    ]
    hardest = overview.hardest_tests(subs)
    assert [(r["test"], r["passed"]) for r in hardest] == [("t1", 1), ("t0", 2)]
    counts = Counter()
    for row in overview.score_bins(subs):
        counts[row["from"]] += row["submissions"]
    assert counts == Counter({0.0: 1, 1.0: 1, 1.8: 1})
    assert [r["student"] for r in overview.slowest(subs)] == ["y", "z", "x"]


def test_plot_is_deterministic():
    subs = [_submission("x", 2.0, 1.0, [True]), _submission("y", 0.0, 2.0, [False])]
    views = (
        overview.hardest_tests(subs),
        overview.score_bins(subs),
        overview.slowest(subs),
    )
    assert overview.plot(*views) == overview.plot(*views)


@pytest.mark.slow
def test_nbgrader_export_reads_the_gradebook(small_class, tmp_path):
    target = tmp_path / "export.csv"
    scripts = str(Path(sys.executable).parent)
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export"]
        + [f"--db=sqlite:///{small_class.out / 'gradebook.db'}", f"--to={target}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": scripts + os.pathsep + os.environ["PATH"]},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    exported = {r["student_id"]: r for r in read(target)}
    grades = {r["student"]: r for r in read(small_class.out / "grades.csv")}
    assert sorted(exported) == sorted(STUDENTS)
    for student, row in exported.items():
        assert row["assignment"] == ASSIGNMENT
        assert float(row["raw_score"]) == pytest.approx(
            float(grades[student]["score"]), abs=1e-3
        )
        assert float(row["max_score"]) == pytest.approx(
            float(grades[student]["max_score"]), abs=1e-3
        )
