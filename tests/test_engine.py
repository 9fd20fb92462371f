"""The grading engine end to end, through the real command line, on the
bundled demo class: each student's outcome, every output file, reruns."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ASSIGNMENT, REPO, grade

MAX = 70.0
DEMO = REPO / "examples" / "submissions"
STUDENTS = sorted(p.name for p in DEMO.iterdir())
ASSIGNMENTS = sorted({p.name for p in DEMO.glob("*/*") if p.is_dir()})


def _rows(path):
    """grades.csv as {(student, assignment): row}."""
    with open(path, newline="") as handle:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(handle)}


def _row(path, student, assignment=ASSIGNMENT):
    return _rows(path)[(student, assignment)]


def test_grading_completes_and_exits_zero(demo_run):
    assert demo_run.returncode == 0, demo_run.stderr[-2000:]
    jobs = len(STUDENTS) * len(ASSIGNMENTS)
    assert f"graded {jobs} notebook(s)" in demo_run.stdout
    assert "pass rate per test" in demo_run.stdout


def test_every_student_and_assignment_has_a_row(demo_run):
    rows = _rows(demo_run.out / "grades.csv")
    assert set(rows) == {(s, a) for s in STUDENTS for a in ASSIGNMENTS}
    assert {"alice_perfect", "erin_hostile", "heidi_corrupt"} <= set(STUDENTS)
    for (student, assignment), row in rows.items():
        submitted = (DEMO / student / assignment).is_dir()
        assert (row["status"] != "missing") == submitted, (student, assignment)
        if not submitted:
            assert float(row["score"]) == 0


def test_every_demo_assignment_has_a_perfect_and_an_empty_student(demo_run):
    for assignment in ASSIGNMENTS:
        alice = demo_run.record("alice_perfect", assignment)
        assert alice["score"] == pytest.approx(alice["max_score"]), assignment
        assert demo_run.record("carol_untouched", assignment)["score"] == 0


def test_grades_csv(demo_run):
    rows = {
        s: r
        for (s, a), r in _rows(demo_run.out / "grades.csv").items()
        if a == ASSIGNMENT
    }
    header = list(next(iter(rows.values())))
    assert header[:4] == ["student", "assignment", "score", "max_score"]
    assert {"correctness", "equivariance", "performance"} <= set(header)
    for row in rows.values():
        parts = sum(
            float(row[c]) for c in ("correctness", "equivariance", "performance")
        )
        assert parts == pytest.approx(float(row["score"]), abs=1e-3)
        assert float(row["max_score"]) == MAX
        assert row["device"] == "cpu"


def test_perfect_student_gets_full_marks(demo_run):
    record = demo_run.record("alice_perfect")
    failed = [
        (c["id"], c["message"]) for c in record["cases"] if c["status"] != "passed"
    ]
    assert failed == []
    assert record["score"] == pytest.approx(MAX)


def test_typical_bugs_are_named(demo_run):
    bob = demo_run.record("bob_typical_bugs")
    assert 0 < bob["score"] < MAX
    inverse = demo_run.case(
        "bob_typical_bugs", "test_groups::test_inverse_matches_reference[SE2]"
    )
    assert inverse["status"] == "failed"
    assert "(−g⁻¹·x, g⁻¹)" in inverse["message"]
    wrapped = demo_run.case(
        "bob_typical_bugs", "test_groups::test_angles_wrapped[f64-SO2]"
    )
    assert "wrapped mod 2π" in wrapped["message"]


def test_untouched_stub_scores_zero_as_not_attempted(demo_run):
    carol = demo_run.record("carol_untouched")
    assert carol["score"] == 0
    statuses = {c["status"] for c in carol["cases"]}
    assert statuses == {"not_attempted"}
    assert all("not attempted" in c["message"] for c in carol["cases"])
    assert all(cell["ok"] for cell in carol["cells"])


def test_syntax_error_costs_only_its_cell(demo_run):
    dave = demo_run.record("dave_syntax_error")
    broken = [c for c in dave["cells"] if not c["ok"]]
    assert [c["id"] for c in broken] == ["so2"]
    assert "SyntaxError" in broken[0]["message"]
    so2 = demo_run.case(
        "dave_syntax_error", "test_groups::test_product_matches_reference[SO2]"
    )
    assert "`SO2` is not defined" in so2["message"]
    c4 = demo_run.case(
        "dave_syntax_error", "test_groups::test_product_matches_reference[C4]"
    )
    assert c4["status"] == "passed"


def test_hostile_student_gains_nothing(demo_run):
    erin = demo_run.record("erin_hostile")
    assert erin["score"] < MAX
    assert erin["isolation"].endswith("audit hook")
    stray = [
        REPO / "grades.csv",
        REPO.parent / "grades.csv",
        REPO / "autograder" / "grades.csv",
    ]
    assert not any(p.exists() for p in stray)
    page = (demo_run.out / "erin_hostile" / ASSIGNMENT / "feedback.html").read_text()
    assert "def test_" not in page and "Traceback" not in page
    # Erin's elements() raises whatever her cells managed to read or import
    # ("loot"); it passing proves that nothing was read.
    elements = demo_run.case(
        "erin_hostile", "test_groups::test_identity_and_elements_exist"
    )
    assert elements["status"] == "passed", elements["message"]


def test_infinite_loop_costs_one_time_limit(demo_run):
    frank = demo_run.record("frank_infinite_loop")
    assert frank["seconds"] < 90
    product = demo_run.case(
        "frank_infinite_loop", "test_groups::test_product_matches_reference[C4]"
    )
    assert "did not finish" in product["message"] or "was not run" in product["message"]
    so2 = demo_run.case(
        "frank_infinite_loop", "test_groups::test_product_matches_reference[SO2]"
    )
    assert so2["status"] == "passed"


@pytest.mark.parametrize(
    "assignment", [a for a in ASSIGNMENTS if (DEMO / "grace_python_loop" / a).is_dir()]
)
def test_python_loop_loses_only_performance_points(demo_run, assignment):
    grace = _row(demo_run.out / "grades.csv", "grace_python_loop", assignment)
    alice = _row(demo_run.out / "grades.csv", "alice_perfect", assignment)
    # She keeps at most the structural points her loop does not touch.
    assert float(alice["performance"]) > 0.0
    assert float(grace["performance"]) <= 0.3 * float(alice["performance"])
    assert float(grace["correctness"]) == float(alice["correctness"])
    assert float(grace["equivariance"]) == float(alice["equivariance"])


def test_corrupt_notebook_gets_a_clear_message(demo_run):
    heidi = demo_run.record("heidi_corrupt")
    assert heidi["status"] == "unreadable"
    assert heidi["score"] == 0
    assert "not a valid notebook" in heidi["notes"][0]


def test_results_json_follows_gradescope_schema(demo_run):
    for student in ("alice_perfect", "bob_typical_bugs", "heidi_corrupt"):
        data = json.loads(
            (demo_run.out / student / ASSIGNMENT / "results.json").read_text()
        )
        assert isinstance(data["score"], float | int)
        assert data["tests"], student
        for test in data["tests"]:
            assert {
                "name",
                "score",
                "max_score",
                "status",
                "output",
                "visibility",
            } <= set(test)
            assert test["status"] in ("passed", "failed")
            assert 0 <= test["score"] <= test["max_score"] + 1e-9
        total = sum(t["score"] for t in data["tests"])
        assert total == pytest.approx(data["score"], abs=1e-3)


def test_feedback_pages(demo_run):
    for student in ("alice_perfect", "bob_typical_bugs", "grace_python_loop"):
        page = (demo_run.out / student / ASSIGNMENT / "feedback.html").read_text()
        assert "<svg" in page  # plots: error per group element, speed ratio
        assert "http" not in page.replace("http-equiv", "")  # readable offline
        assert "Traceback" not in page and "autograder/hidden" not in page
        assert "Device: cpu" in page
    bob = (demo_run.out / "bob_typical_bugs" / ASSIGNMENT / "feedback.html").read_text()
    assert "(−g⁻¹·x, g⁻¹)" in bob


def test_gradebook_opens_in_nbgrader(demo_run):
    from nbgrader.api import Gradebook

    os.environ["PATH"] = (
        os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    )
    rows = _rows(demo_run.out / "grades.csv")
    with Gradebook(f"sqlite:///{demo_run.out / 'gradebook.db'}") as gb:
        scores = {(s, a): gb.find_submission(a, s).score for s, a in rows}
    assert scores == {k: pytest.approx(float(r["score"])) for k, r in rows.items()}


def test_rerun_skips_finished_work_and_changes_nothing(demo_run):
    before = (demo_run.out / "grades.csv").read_bytes()
    again = grade(REPO / "examples" / "submissions", demo_run.out)
    assert again.returncode == 0
    jobs = len(STUDENTS) * len(ASSIGNMENTS)
    assert f"graded 0 notebook(s), reused {jobs} finished" in again.stdout
    assert (demo_run.out / "grades.csv").read_bytes() == before


def test_resume_after_kill_gives_the_same_grades(demo_run, copy_class, tmp_path):
    students = ("alice_perfect", "bob_typical_bugs", "carol_untouched", "heidi_corrupt")
    submissions = copy_class(*students)
    out = tmp_path / "grades"
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(submissions),
        "--out",
        str(out),
        "--quiet",
        "--workers",
        "1",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not list(out.glob("*/*/record.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list(out.glob("*/*/record.json")))
    jobs = len(students) * len(ASSIGNMENTS)
    assert 1 <= done_before < jobs
    assert not (out / "grades.csv").exists()

    resumed = grade(submissions, out, "--workers", "1")
    assert resumed.returncode == 0
    assert f"reused {done_before} finished" in resumed.stdout
    mine, clean = _rows(out / "grades.csv"), _rows(demo_run.out / "grades.csv")
    assert len(mine) == jobs
    assert mine == {key: clean[key] for key in mine}
    assert not list(out.rglob(".*.tmp")) and not list(out.rglob(".record.json.*"))


def test_force_regrades(copy_class, tmp_path):
    submissions = copy_class("carol_untouched")
    out = tmp_path / "grades"
    assert grade(submissions, out).returncode == 0
    forced = grade(submissions, out, "--force")
    assert f"graded {len(ASSIGNMENTS)} notebook(s), reused 0" in forced.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--device", "cuda"], "no CUDA device"),
        (["--assignment", "99_nothing"], "unknown assignment"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
    ids=["cuda-without-gpu", "unknown-assignment", "zero-workers"],
)
def test_bad_arguments_exit_2_with_a_message(copy_class, tmp_path, args, message):
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("a GPU is present: --device cuda is valid here")
    run = grade(copy_class("carol_untouched"), tmp_path / "out", *args)
    assert run.returncode == 2
    assert message in run.stderr


def test_missing_submissions_folder(tmp_path):
    run = grade(tmp_path / "nowhere", tmp_path / "out")
    assert run.returncode == 2 and "does not exist" in run.stderr
