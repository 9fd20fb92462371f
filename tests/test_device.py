"""``--device``: ``auto`` without a GPU grades on the CPU and says why in
every report; ``cuda`` without a GPU stops before grading."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import ASSIGNMENT, grade

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason="a GPU is present: auto picks it"
)

STUDENT = "carol_untouched"


@pytest.mark.slow
def test_auto_falls_back_to_the_cpu_and_says_so_everywhere(copy_class, tmp_path):
    out = tmp_path / "grades"
    run = grade(copy_class(STUDENT), out, "--assignment", ASSIGNMENT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "on cpu (no CUDA device)" in run.stdout
    folder = out / STUDENT / ASSIGNMENT
    results = json.loads((folder / "results.json").read_text())
    assert results["output"].startswith("Device: cpu (no CUDA device).")
    assert "Device: cpu (no CUDA device)." in (folder / "feedback.html").read_text()
    assert json.loads((folder / "record.json").read_text())["device"] == "cpu"


def test_cuda_without_a_gpu_exits_2_before_grading(copy_class, tmp_path):
    out = tmp_path / "grades"
    run = grade(copy_class(STUDENT), out, "--device", "cuda")
    assert run.returncode == 2
    assert "--device cuda was asked for, but no CUDA device is visible" in run.stderr
    assert not out.exists()


@pytest.mark.slow
def test_explicit_cpu_has_no_fallback_note(copy_class, tmp_path):
    out = tmp_path / "grades"
    run = grade(copy_class(STUDENT), out, "--assignment", ASSIGNMENT, "--device", "cpu")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "no CUDA device" not in run.stdout
    results = json.loads((out / STUDENT / ASSIGNMENT / "results.json").read_text())
    assert results["output"].startswith("Device: cpu. ")
