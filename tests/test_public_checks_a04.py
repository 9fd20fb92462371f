"""The public checks of assignment 4 (SO(3) irreps and the tensor product).

The checks must pass on the reference (``gedl_ref.so3``,
``gedl_ref.tensor_product``), fail with a specific message on typical
mistakes, and the notebooks must run: the solution from top to bottom
(figures included), the released stubs through their setup cells. The
solution must also agree with the reference.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import notebook_runner as nr
import pytest
import torch

from gedl_checks.a04_tensor_product import (
    CheckFailed,
    check_clebsch_gordan,
    check_so3_generators,
    check_spherical_harmonics,
    check_tensor_product,
    check_wigner_D,
)
from gedl_ref import so3
from gedl_ref import tensor_product as ref_tp

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "04_cg_tensor_product"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / NOTEBOOK
RELEASED = ROOT / "assignments" / ASSIGNMENT / NOTEBOOK
CHECK_TITLES = [
    "✓ so3_generators",
    "✓ wigner_D",
    "✓ clebsch_gordan",
    "✓ spherical_harmonics",
    "✓ FullyConnectedTensorProduct",
]
SETUP_IDS = ["setup_imports", "setup_so3"]
SOLUTION_IDS = [
    "so3_generators",
    "wigner_D",
    "clebsch_gordan",
    "spherical_harmonics",
    "tensor_product",
]


def ref_harmonics(l, x, normalize=True, normalization="component"):
    """The reference with the notebook's signature (one degree, component)."""
    return so3.spherical_harmonics(l, x, normalize, normalization)


def _run_all(**overrides):
    fns = {
        "generators": so3.so3_generators,
        "wigner": so3.wigner_D,
        "cg": so3.clebsch_gordan,
        "sh": ref_harmonics,
        "tp": ref_tp.FullyConnectedTensorProduct,
    }
    fns.update(overrides)
    check_so3_generators(fns["generators"])
    check_wigner_D(fns["wigner"])
    check_clebsch_gordan(fns["cg"], fns["wigner"])
    check_spherical_harmonics(fns["sh"], fns["wigner"])
    check_tensor_product(fns["tp"], fns["wigner"])


def _failure(check, *args) -> str:
    with pytest.raises(CheckFailed) as info:
        check(*args)
    return str(info.value)


def test_checks_pass_on_reference(capsys):
    _run_all()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == CHECK_TITLES
    assert all(line.endswith("checks passed)") for line in lines)


# ----------------------------------------------------------------------------
# Broken implementations fail with a specific message
# ----------------------------------------------------------------------------


def _exec_cells(path: Path, edit: tuple[str, str, str] | None = None) -> dict:
    """Run the setup and solution cells of a notebook in a fresh namespace,
    with ``edit = (cell, old, new)`` applied to one solution cell."""
    namespace: dict = {"__name__": "__main__"}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (
            meta.get("solution") or meta.get("grade_id", "").startswith("setup")
        ):
            source = cell.source
            if edit and meta["grade_id"] == edit[0]:
                assert source.count(edit[1]) == 1
                source = source.replace(edit[1], edit[2])
            exec(compile(source, f"<cell {meta['grade_id']}>", "exec"), namespace)
    return namespace


def test_clockwise_generators():
    def generators(l):
        return -so3.so3_generators(l)

    message = _failure(check_so3_generators, generators)
    assert message.startswith("so3_generators, l = 1: cross products:")
    assert "the rotations turn clockwise" in message


def test_generators_of_permuted_axes():
    def generators(l):
        return so3.so3_generators(l)[[2, 1, 0]]

    message = _failure(check_so3_generators, generators)
    assert "in the wrong order: L_x = Q^†(-iJ_y)Q" in message


def test_complex_generators():
    def generators(l):
        return so3.so3_generators(l).to(torch.complex128)

    message = _failure(check_so3_generators, generators)
    assert "is complex (torch.complex128)" in message


def test_transposed_wigner_D():
    def wigner(l, a, b, c):
        return so3.wigner_D(l, a, b, c).transpose(-1, -2)

    message = _failure(check_wigner_D, wigner)
    assert message.startswith("wigner_D, l = 1: D(R) = R:")
    assert "D is transposed" in message


def test_wigner_D_with_swapped_axes():
    ns = _exec_cells(
        SOLUTION,
        (
            "wigner_D",
            "exp(alpha, L[1]) @ exp(beta, L[0]) @ exp(gamma, L[1])",
            "exp(alpha, L[0]) @ exp(beta, L[1]) @ exp(gamma, L[0])",
        ),
    )
    message = _failure(check_wigner_D, ns["wigner_D"])
    assert "the Euler axes are swapped" in message


def test_wigner_D_with_reversed_angles():
    def wigner(l, a, b, c):
        return so3.wigner_D(l, c, b, a)

    message = _failure(check_wigner_D, wigner)
    assert "the angles are applied in reverse order" in message


def test_clebsch_gordan_with_flipped_sign():
    def cg(l1, l2, l3):
        return so3.clebsch_gordan(l1, l2, l3) * (-1) ** (l1 + l2 + l3)

    message = _failure(check_clebsch_gordan, cg, so3.wigner_D)
    assert "clebsch_gordan(1, 1, 1) is -ε/√6" in message


def test_clebsch_gordan_not_normalised():
    def cg(l1, l2, l3):
        return so3.clebsch_gordan(l1, l2, l3) * (l1 + 1)

    message = _failure(check_clebsch_gordan, cg, so3.wigner_D)
    assert message.startswith("clebsch_gordan, known values") or "norm" in message


def test_clebsch_gordan_in_the_complex_basis():
    ns = _exec_cells(
        SOLUTION,
        (
            "clebsch_gordan",
            'torch.einsum("ia,jb,kc,ijk->abc", Q1, Q2, Q3.conj(), C).real',
            "C.real",
        ),
    )
    message = _failure(check_clebsch_gordan, ns["clebsch_gordan"], so3.wigner_D)
    assert message.startswith("clebsch_gordan, ")


def test_clebsch_gordan_without_selection_rule():
    def cg(l1, l2, l3):
        if l3 > l1 + l2:
            return torch.zeros(2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1, dtype=torch.float64)
        return so3.clebsch_gordan(l1, l2, l3)

    message = _failure(check_clebsch_gordan, cg, so3.wigner_D)
    assert "should raise ValueError" in message


def test_harmonics_with_reversed_m():
    def sh(l, x, normalize=True, normalization="component"):
        return ref_harmonics(l, x, normalize, normalization).flip(-1)

    message = _failure(check_spherical_harmonics, sh, so3.wigner_D)
    assert "the m order is reversed" in message


def test_harmonics_with_odd_sign_flipped():
    def sh(l, x, normalize=True, normalization="component"):
        return ref_harmonics(l, x, normalize, normalization) * (-1) ** l

    message = _failure(check_spherical_harmonics, sh, so3.wigner_D)
    assert "the sign is off for odd l" in message


def test_harmonics_ignoring_normalize():
    def sh(l, x, normalize=True, normalization="component"):
        return ref_harmonics(l, x, True, normalization)

    message = _failure(check_spherical_harmonics, sh, so3.wigner_D)
    assert message.startswith("spherical_harmonics, homogeneous:")


def test_harmonics_with_wrong_norm_normalisation():
    def sh(l, x, normalize=True, normalization="component"):
        if normalization == "norm":
            normalization = "integral"
        return ref_harmonics(l, x, normalize, normalization)

    message = _failure(check_spherical_harmonics, sh, so3.wigner_D)
    assert "with normalization='norm' should be 1" in message


RULE = "if abs(l1 - l2) <= l3 <= l1 + l2 and p3 == p1 * p2"
ALPHA = "alpha = math.sqrt((2 * l3 + 1) / fan_in[c])"


def test_tensor_product_ignoring_parity():
    ns = _exec_cells(
        SOLUTION, ("tensor_product", RULE, "if abs(l1 - l2) <= l3 <= l1 + l2")
    )
    message = _failure(
        check_tensor_product, ns["FullyConnectedTensorProduct"], so3.wigner_D
    )
    assert message.startswith("FullyConnectedTensorProduct, selection rules:")
    assert "parity is ignored" in message


def test_tensor_product_without_path_normalisation():
    ns = _exec_cells(
        SOLUTION, ("tensor_product", ALPHA, "alpha = math.sqrt(2 * l3 + 1)")
    )
    message = _failure(
        check_tensor_product, ns["FullyConnectedTensorProduct"], so3.wigner_D
    )
    assert "divide by sqrt(Σ over ALL paths into the block" in message


def test_tensor_product_without_irrep_normalisation():
    ns = _exec_cells(
        SOLUTION, ("tensor_product", ALPHA, "alpha = math.sqrt(1 / fan_in[c])")
    )
    message = _failure(
        check_tensor_product, ns["FullyConnectedTensorProduct"], so3.wigner_D
    )
    assert "the factor sqrt(2 l_out + 1) = √3 is missing" in message


def test_tensor_product_with_wrong_coefficients_is_not_equivariant():
    ns = _exec_cells(SOLUTION)
    good = ns["clebsch_gordan"]

    def cg(l1, l2, l3):  # the m order of the output reversed, for l3 >= 2
        return good(l1, l2, l3).flip(-1) if l3 >= 2 else good(l1, l2, l3)

    ns["clebsch_gordan"] = cg
    message = _failure(
        check_tensor_product, ns["FullyConnectedTensorProduct"], so3.wigner_D
    )
    assert message.startswith("FullyConnectedTensorProduct, equivariance:")
    assert "is not equivariant" in message


# ----------------------------------------------------------------------------
# The notebooks
# ----------------------------------------------------------------------------


def test_stubs_report_not_implemented():
    ns = _exec_cells(RELEASED)
    cases = [
        (check_so3_generators, (ns["so3_generators"],), "so3_generators"),
        (check_wigner_D, (ns["wigner_D"],), "wigner_D"),
        (check_clebsch_gordan, (ns["clebsch_gordan"], so3.wigner_D), "clebsch_gordan"),
        (
            check_spherical_harmonics,
            (ns["spherical_harmonics"], so3.wigner_D),
            "spherical_harmonics",
        ),
        (
            check_tensor_product,
            (ns["FullyConnectedTensorProduct"], so3.wigner_D),
            "FullyConnectedTensorProduct.__init__",
        ),
    ]
    for check, args, missing in cases:
        assert _failure(check, *args) == (
            f"not implemented yet: {missing}. Replace the `raise NotImplementedError()`"
            " line with your code and run this cell again."
        )


def test_notebook_metadata_contract():
    nb = nbformat.read(SOLUTION, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    kinds: dict[str, list[str]] = {"setup": [], "check": [], "solution": []}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for banned in ("gedl_ref", "autograder", "import e3nn", "from e3nn"):
            assert banned not in cell.source
        meta = cell.metadata.get("nbgrader", {})
        if not meta:
            assert "### BEGIN SOLUTION" not in cell.source
            continue
        assert meta["schema_version"] == 3 and meta["grade"] is False
        if meta["solution"]:
            assert not meta["locked"] and "### BEGIN SOLUTION" in cell.source
            kinds["solution"].append(meta["grade_id"])
        elif meta["grade_id"].startswith("setup"):
            assert meta["locked"] and "gedl_checks" not in cell.source
            kinds["setup"].append(meta["grade_id"])
        else:
            assert meta["grade_id"].startswith("check_") and meta["locked"]
            kinds["check"].append(meta["grade_id"])
    assert kinds["setup"] == SETUP_IDS
    assert kinds["solution"] == SOLUTION_IDS
    assert kinds["check"] == [f"check_{name}" for name in SOLUTION_IDS]


def test_release_keeps_signatures_but_no_solution():
    solution = nbformat.read(SOLUTION, as_version=4)
    released = nbformat.read(RELEASED, as_version=4)
    pairs = [
        (ours.source, theirs.source)
        for ours, theirs in zip(solution.cells, released.cells, strict=True)
        if ours.metadata.get("nbgrader", {}).get("solution")
    ]
    assert len(pairs) == len(SOLUTION_IDS)
    for ours, theirs in pairs:
        outside, in_solution = [], False
        for line in ours.split("\n"):
            if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
                in_solution = "BEGIN" in line
                continue
            if not in_solution:
                outside.append(line)
        kept = [
            line
            for line in theirs.split("\n")
            if line.strip() not in ("# YOUR CODE HERE", "raise NotImplementedError()")
        ]
        assert kept == outside  # signatures, docstrings, parsing of irreps kept
    text = RELEASED.read_text()
    assert "BEGIN SOLUTION" not in text
    code = "\n".join(theirs for _, theirs in pairs)
    for leaked in ("index_add(", "matrix_exp(", "racah(", "torch.einsum("):
        assert leaked not in code


def test_solution_agrees_with_reference():
    ns = _exec_cells(SOLUTION)
    angles = torch.rand(3, 5, dtype=torch.float64) * 6
    for l in range(5):
        assert (ns["so3_generators"](l) - so3.so3_generators(l)).abs().max() < 1e-12
        D = ns["wigner_D"](l, *angles)
        assert (D - so3.wigner_D(l, *angles)).abs().max() < 1e-12
    for l1, l2, l3 in ((1, 1, 2), (2, 3, 4), (4, 4, 8), (3, 2, 1)):
        C = ns["clebsch_gordan"](l1, l2, l3)
        assert (C - so3.clebsch_gordan(l1, l2, l3)).abs().max() < 1e-12
    x = torch.randn(7, 3, dtype=torch.float64)
    for normalization in ("component", "norm", "integral"):
        for normalize in (True, False):
            got = ns["spherical_harmonics"](4, x, normalize, normalization)
            expected = so3.spherical_harmonics(4, x, normalize, normalization)
            assert (got - expected).abs().max() <= 1e-12 * expected.abs().max()
    irreps = ("2x0e + 1x1o + 1x2e", "1x0e + 1x1o + 1x1e", "1x0e + 2x1o + 1x1e + 1x2o")
    reference = ref_tp.FullyConnectedTensorProduct(*irreps).double()
    layer = ns["FullyConnectedTensorProduct"](*irreps).double()
    layer.load_state_dict(reference.state_dict())  # strict: only the weight
    x, y = (
        torch.randn(4, 10, dtype=torch.float64),
        torch.randn(4, 7, dtype=torch.float64),
    )
    with torch.no_grad():
        expected = reference(x, y)
        assert (layer(x, y) - expected).abs().max() <= 1e-12 * expected.abs().max()


def test_solution_notebook_runs_top_to_bottom(kernel_env):
    folder = kernel_env / "solution"
    shutil.copytree(ROOT / "gedl_checks", folder / "gedl_checks")
    nb = nr.execute(nbformat.read(SOLUTION, as_version=4), folder)
    errors = {nr.grade_id(c) or c.get("id"): nr.errors(c) for c in nb.cells}
    assert {k: v for k, v in errors.items() if v} == {}
    checks = [
        nr.printed(cell).strip()
        for cell in nb.cells
        if (nr.grade_id(cell) or "").startswith("check")
    ]
    assert [line.split(":")[0] for line in checks] == CHECK_TITLES
    printed = nr.printed(next(c for c in nb.cells if c.get("id") == "demo-conditional"))
    assert float(printed.split("largest entry ")[1].split()[0]) < 1e-10


def test_released_stubs_run_to_first_check(kernel_env):
    folder = kernel_env / "release"
    shutil.copytree(ROOT / "assignments" / ASSIGNMENT, folder)
    nb = nbformat.read(folder / NOTEBOOK, as_version=4)
    first_check = next(
        i for i, c in enumerate(nb.cells) if (nr.grade_id(c) or "").startswith("check")
    )
    nb.cells = nb.cells[: first_check + 1]
    nb = nr.execute(nb, folder)
    for cell in nb.cells[:first_check]:
        assert nr.errors(cell) == [], nr.grade_id(cell)
    assert nr.errors(nb.cells[first_check]) == [
        "CheckFailed: not implemented yet: so3_generators. Replace the "
        "`raise NotImplementedError()` line with your code and run this cell again."
    ]
