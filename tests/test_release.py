"""The student release: in sync with solutions/, and giving nothing away."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from test_release_all import _meta
from test_release_all import _solution_only_lines as _solution_lines

from autograder.release import main, release

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_group_product"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / NOTEBOOK
RELEASED = ROOT / "assignments" / ASSIGNMENT / NOTEBOOK
SOLUTION_IDS = [
    "group_base",
    "cyclic_group",
    "so2",
    "dihedral_group",
    "roto_translation",
]
#: Lines that only a solution contains; none may reach the students.
DISTINCTIVE_SOLUTION_LINES = [
    "k = torch.remainder(k, self.order).abs()  # abs: -0. -> 0.",
    "return torch.where(theta < 2 * math.pi, theta, 0.0)",
    "translation = -self.rotations.left_action_on_R2(a_inv, x)",
    "moved = self.left_action_on_R2(g_inv, p)  # [*S, H, W, 2]",
    "theta = a + (1 - 2 * s) * b",
]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.fixture
def tmp_repo(tmp_path):
    """A copy of the parts of the repository that the release reads."""
    for name in ("solutions", "gedl_checks", "assignments"):
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def test_release_is_in_sync():
    assert release(ROOT, check=True) == []


def test_main_check_exits_zero_when_in_sync(capsys):
    assert main(["--check", "--root", str(ROOT)]) == 0
    assert "in sync" in capsys.readouterr().out


def test_release_is_deterministic(tmp_repo):
    shutil.rmtree(tmp_repo / "assignments")
    written = release(tmp_repo)
    assert f"wrote assignments/{ASSIGNMENT}/{NOTEBOOK}" in written
    first = (tmp_repo / "assignments" / ASSIGNMENT / NOTEBOOK).read_bytes()
    assert first.endswith(b"}\n")
    assert release(tmp_repo) == []
    assert (tmp_repo / "assignments" / ASSIGNMENT / NOTEBOOK).read_bytes() == first
    assert first == RELEASED.read_bytes()


def test_check_reports_changes_and_writes_nothing(tmp_repo):
    target = tmp_repo / "assignments" / ASSIGNMENT / NOTEBOOK
    target.write_text(target.read_text().replace("Assignment 1", "Assignment one"))
    stale = tmp_repo / "assignments" / ASSIGNMENT / "gedl_checks" / "old_checks.py"
    stale.write_text("")
    (tmp_repo / "assignments" / ASSIGNMENT / "gedl_checks" / "a01_groups.py").unlink()

    before = target.read_bytes()
    differences = release(tmp_repo, check=True)
    assert sorted(differences) == sorted(
        [
            f"assignments/{ASSIGNMENT}/{NOTEBOOK} differs from what solutions/ and "
            "gedl_checks/ give",
            f"assignments/{ASSIGNMENT}/gedl_checks/a01_groups.py is missing from what "
            "solutions/ and gedl_checks/ give",
            f"assignments/{ASSIGNMENT}/gedl_checks/old_checks.py is stale: "
            "gedl_checks/ has no such file",
        ]
    )
    assert target.read_bytes() == before and stale.exists()
    assert main(["--check", "--root", str(tmp_repo)]) == 1

    release(tmp_repo)
    assert not stale.exists()
    assert release(tmp_repo, check=True) == []


def test_release_contains_no_solution():
    text = RELEASED.read_text()
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN MARK SCHEME" not in text
    released_lines = {
        line.strip()
        for cell in _read(RELEASED).cells
        for line in cell.source.split("\n")
    }
    solution_lines = _solution_lines(_read(SOLUTION))
    for line in DISTINCTIVE_SOLUTION_LINES:
        assert line in solution_lines  # still a solution line: the test is meaningful
        assert line not in released_lines
    assert len(solution_lines) > 40
    assert sorted(solution_lines & released_lines) == []


def test_release_has_no_outputs():
    for cell in _read(RELEASED).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_solution_cells_are_kept_and_other_cells_unchanged():
    solution, released = _read(SOLUTION), _read(RELEASED)
    assert [c.get("id") for c in solution.cells] == [
        c.get("id") for c in released.cells
    ]
    solution_ids = [
        _meta(c)["grade_id"] for c in solution.cells if _meta(c).get("solution")
    ]
    released_ids = [
        _meta(c)["grade_id"] for c in released.cells if _meta(c).get("solution")
    ]
    assert solution_ids == released_ids == SOLUTION_IDS
    for ours, theirs in zip(solution.cells, released.cells, strict=True):
        if not _meta(ours).get("solution"):
            assert ours.source == theirs.source


def test_notebook_metadata_contract():
    nb = _read(SOLUTION)
    assert nb.metadata.kernelspec.name == "python3"
    kinds = {"setup": [], "check": [], "solution": []}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert "gedl_ref" not in cell.source and "autograder" not in cell.source
        meta = _meta(cell)
        if not meta:
            continue
        grade_id = meta["grade_id"]
        assert meta["schema_version"] == 3 and meta["grade"] is False
        if meta["solution"]:
            assert not meta["locked"]
            assert "### BEGIN SOLUTION" in cell.source
            kinds["solution"].append(grade_id)
        elif grade_id.startswith("setup"):
            assert meta["locked"] and "gedl_checks" not in cell.source
            kinds["setup"].append(grade_id)
        else:
            assert grade_id.startswith(("check_", "demo_")) and meta["locked"]
            kinds[grade_id.split("_")[0]].append(grade_id)
    assert kinds["setup"] == ["setup_imports", "setup_signals"]
    assert kinds["solution"] == SOLUTION_IDS
    assert len(kinds["check"]) == 5


def _exec_cells(nb: nbformat.NotebookNode) -> dict:
    """Run the setup and solution cells of a notebook in a fresh namespace."""
    namespace: dict = {"__name__": "__main__"}
    for cell in nb.cells:
        meta = _meta(cell)
        if cell.cell_type == "code" and (
            meta.get("solution") or meta.get("grade_id", "").startswith("setup")
        ):
            exec(compile(cell.source, f"<cell {meta['grade_id']}>", "exec"), namespace)
    return namespace


def test_stubs_construct_and_raise_not_implemented():
    import torch

    ns = _exec_cells(_read(RELEASED))
    groups = {
        "CyclicGroup": ns["CyclicGroup"](4),
        "SO2": ns["SO2"](),
        "DihedralGroup": ns["DihedralGroup"](4),
        "RotoTranslationGroup": ns["SE2"](),
    }
    assert groups["CyclicGroup"].order == 4 and groups["CyclicGroup"].dimension == 1
    assert (
        groups["DihedralGroup"].order == 8
        and groups["RotoTranslationGroup"].order is None
    )
    not_stubs = []
    for name, group in groups.items():
        g = torch.zeros(group.dimension)
        calls = [
            ("identity", ()),
            ("product", (g, g)),
            ("inverse", (g,)),
            ("normalize_group_parameterization", (g,)),
            ("left_action_on_R2", (g, torch.zeros(2))),
            ("matrix_representation", (g,)),
            ("left_regular_representation", (g, torch.zeros(3, 3))),
        ]
        for method, args in calls:
            with contextlib.suppress(NotImplementedError):
                getattr(group, method)(*args)
                not_stubs.append(f"{name}.{method}")
    assert not_stubs == []


def test_solution_cells_work_without_markers():
    """The solution cells, run as code, give a working SE(2)."""
    import torch

    ns = _exec_cells(_read(SOLUTION))
    se2 = ns["SE2"]()
    g = torch.tensor([1.0, 2.0, torch.pi / 2])
    assert torch.allclose(se2.product(g, se2.inverse(g)), torch.zeros(3), atol=1e-6)


def test_released_checks_are_identical_to_source():
    source = {
        p.relative_to(ROOT / "gedl_checks"): p.read_bytes()
        for p in (ROOT / "gedl_checks").rglob("*.py")
    }
    shipped_dir = ROOT / "assignments" / ASSIGNMENT / "gedl_checks"
    shipped = {
        p.relative_to(shipped_dir): p.read_bytes() for p in shipped_dir.rglob("*.py")
    }
    # Assignment 1 ships the shared modules and its own checks, nothing else.
    expected = {"__init__.py", "runner.py", "equivariance.py", "a01_groups.py"}
    assert {str(p) for p in shipped} == expected
    assert shipped == {p: source[p] for p in shipped}
    for content in source.values():
        assert b"gedl_ref" not in content.replace(b"never carries", b"")
        assert b"import autograder" not in content


def _demo_class_module():
    path = ROOT / "tools" / "make_demo_class.py"
    spec = importlib.util.spec_from_file_location("make_demo_class", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_class_is_in_sync_and_keeps_release_cells():
    files = _demo_class_module().build(ROOT)
    assert len(files) == 8
    released = _read(RELEASED)
    for relative, content in files.items():
        assert (ROOT / relative).read_bytes() == content, relative
        student = relative.parts[2]
        if student == "heidi_corrupt":
            with pytest.raises(json.JSONDecodeError):
                json.loads(content)
            continue
        nb = nbformat.reads(content.decode(), as_version=4)
        for ours, theirs in zip(nb.cells, released.cells, strict=True):
            if not _meta(theirs).get("solution"):
                assert ours == theirs, (student, _meta(theirs).get("grade_id"))
            if ours.cell_type == "code":
                assert ours.outputs == []
                assert "BEGIN SOLUTION" not in ours.source
                if student != "dave_syntax_error":
                    compile(ours.source, student, "exec")
