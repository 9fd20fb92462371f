"""The public checks of assignment 3 (steerable basis and convolution).

The checks must pass on the reference (``gedl_ref.steerable``), fail with a
specific message on typical mistakes, and the notebooks must run: the
solution from top to bottom (figures included), the released stubs through
their setup cells. The solution must also agree with the reference.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import nbformat
import notebook_runner as nr
import pytest
import torch

from gedl_checks.a03_steerable import (
    CheckFailed,
    check_fourier_transform,
    check_harmonic_basis,
    check_inverse_fourier_transform,
    check_irrep,
    check_pair_basis,
    check_steerable_basis,
    check_steerable_convolution,
)
from gedl_ref import steerable as ref
from gedl_ref import steerable_irreps as ref_irreps

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "03_steerable_basis"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / NOTEBOOK
RELEASED = ROOT / "assignments" / ASSIGNMENT / NOTEBOOK
CHECK_TITLES = [
    "✓ irrep",
    "✓ fourier_transform",
    "✓ inverse_fourier_transform",
    "✓ harmonic_basis",
    "✓ pair_basis",
    "✓ steerable_basis",
    "✓ SteerableConvolution",
]
SETUP_IDS = ["setup_imports", "setup_signals", "setup_fields"]
SOLUTION_IDS = [
    "irrep",
    "fourier_transform",
    "inverse_fourier_transform",
    "harmonic_basis",
    "pair_basis",
    "steerable_basis",
    "steerable_convolution",
]


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


class RefLayer(ref.SteerableConvolution):
    """The reference layer with the notebook's ``basis`` buffer."""

    @property
    def basis(self) -> torch.Tensor:
        basis = ref.steerable_basis(
            self.type_in, self.type_out, self.kernel_size, self.group_order
        )
        return basis.to(self.weight.dtype)


def _run_all(**overrides):
    fns = {
        "irrep": ref_irreps.irrep,
        "fourier": ref_irreps.fourier_transform,
        "inverse": ref_irreps.inverse_fourier_transform,
        "harmonic": ref.harmonic_basis,
        "pair": ref.pair_basis,
        "steerable": ref.steerable_basis,
        "layer": RefLayer,
    }
    fns.update(overrides)
    rep = ref_irreps.type_representation
    check_irrep(fns["irrep"])
    check_fourier_transform(fns["fourier"])
    check_inverse_fourier_transform(fns["inverse"], fns["fourier"])
    check_harmonic_basis(fns["harmonic"], fns["irrep"])
    check_pair_basis(fns["pair"], fns["irrep"])
    check_steerable_basis(fns["steerable"], rep)
    check_steerable_convolution(fns["layer"], rep)


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


def test_transposed_irrep():
    def irrep(k, theta, group_order=None):
        return ref_irreps.irrep(k, theta, group_order).transpose(-1, -2)

    message = _failure(check_irrep, irrep)
    assert message.startswith("irrep, known values: irrep(1, π/2) is [[0, 1], [-1, 0]]")
    assert "it is transposed" in message


def test_irrep_ignoring_the_frequency():
    def irrep(k, theta, group_order=None):
        return ref_irreps.irrep(k, theta / max(k, 1), group_order)

    message = _failure(check_irrep, irrep)
    assert "multiply the angle by k" in message


def test_unnormalised_fourier_transform():
    def fourier(f, n):
        return ref_irreps.fourier_transform(f, n) * math.sqrt(n)

    message = _failure(check_fourier_transform, fourier)
    assert message.startswith("fourier_transform, known values:")
    assert "not normalised" in message


def test_fourier_sine_first():
    def fourier(f, n):
        out = ref_irreps.fourier_transform(f, n)
        order = list(range(n))
        for k in range(1, (n - 1) // 2 + 1):
            order[2 * k - 1], order[2 * k] = 2 * k, 2 * k - 1
        return out[..., order]

    message = _failure(check_fourier_transform, fourier)
    assert "the sine coefficient comes before the cosine" in message


def test_inverse_without_transpose():
    def inverse(f_hat, n):
        return f_hat @ ref_irreps.fourier_matrix(n, f_hat.dtype).T

    message = _failure(
        check_inverse_fourier_transform, inverse, ref_irreps.fourier_transform
    )
    assert message.startswith("inverse_fourier_transform, ")


def test_harmonic_basis_without_sum_frequencies():
    def harmonic(m, n, phi, top, group_order=None):
        basis = ref.harmonic_basis(m, n, phi, top, group_order)
        if basis.shape[1] == basis.shape[2] == 2:  # keep the difference family
            count = len(ref._aliases(n - m, top, group_order))
            return basis[: 2 * count]
        return basis

    message = _failure(check_harmonic_basis, harmonic, ref_irreps.irrep)
    assert message.startswith(
        "harmonic_basis, shapes: harmonic_basis(1, 2, phi [3, 5], L=3) should have "
        "shape [4, 2, 2, 3, 5], got [2, 2, 2, 3, 5]"
    )
    assert "two for the sum b = n + m = 3" in message


def test_harmonic_basis_with_the_wrong_sign():
    def harmonic(m, n, phi, top, group_order=None):
        return ref.harmonic_basis(m, n, -phi, top, group_order)  # frequency m - n

    message = _failure(check_harmonic_basis, harmonic, ref_irreps.irrep)
    assert message.startswith("harmonic_basis, constraint: the solutions for 0 -> 1")
    assert "a ≡ n - m (output minus input), not m - n" in message


def test_harmonic_basis_without_aliasing():
    def harmonic(m, n, phi, top, group_order=None):
        """Only the frequencies n - m, |n - m| and n + m themselves."""
        a = ref._harmonics(m, n, top, group_order)[0]
        keep = (a == n - m) | (a == abs(n - m)) | (a == n + m)
        return ref.harmonic_basis(m, n, phi, top, group_order)[keep]

    message = _failure(check_harmonic_basis, harmonic, ref_irreps.irrep)
    assert message.startswith(
        "harmonic_basis, sizes: 1 -> 1 with L = 2 (C_4) should have 6 solutions, got 4"
    )
    assert "(aliasing)" in message


def test_pair_basis_without_origin_masking():
    def pair(m, n, points, k, group_order=None):
        basis = ref.pair_basis(m, n, points, k, group_order)
        r = points.norm(dim=-1)
        if not (r < 1e-9).any() or not basis.numel():
            return basis
        phi = torch.zeros_like(r)
        # what atan2(0, 0) = 0 gives: the angular value at φ = 0 times the ring
        unmasked = []
        for radius, sigma, top in ref.ring_parameters(k):
            ang = ref.harmonic_basis(m, n, phi, top, group_order)
            unmasked.append(ang * torch.exp(-((r - radius) ** 2) / (2 * sigma**2)))
        return torch.where(r < 1e-9, torch.cat(unmasked), basis)

    message = _failure(check_pair_basis, pair, ref_irreps.irrep)
    assert message.startswith("pair_basis, origin: 0 -> 1")
    assert "use the average of each angular solution over the circle" in message


def test_steerable_basis_without_change_of_basis():
    def steerable(type_in, type_out, k, group_order=None):
        def expand(field_type):
            return [
                f
                for x in field_type
                for f in ref_irreps.field_frequencies(x, group_order)
            ]

        return ref.steerable_basis(expand(type_in), expand(type_out), k, group_order)

    message = _failure(check_steerable_basis, steerable, ref_irreps.type_representation)
    assert message.startswith("steerable_basis, rot90 constraint: type ['regular', 1]")
    assert "change of basis Q = Fᵀ" in message


def test_layer_with_one_conv_per_output_channel():
    class PerChannel(RefLayer):
        def forward(self, x):
            kernel = self.kernel()
            outs = [
                torch.nn.functional.conv2d(x, kernel[o : o + 1], padding=1)
                for o in range(kernel.shape[0])
            ]
            return torch.cat(outs, dim=1)

    message = _failure(
        check_steerable_convolution, PerChannel, ref_irreps.type_representation
    )
    assert "forward made 8 calls to F.conv2d; expected exactly 1" in message


def test_layer_without_padding():
    class Unpadded(RefLayer):
        def forward(self, x):
            return torch.nn.functional.conv2d(x, self.kernel())

    message = _failure(
        check_steerable_convolution, Unpadded, ref_irreps.type_representation
    )
    assert message.startswith("SteerableConvolution, one F.conv2d call: layer(x")
    assert "should have shape [2, 8, 7, 6]" in message


# ----------------------------------------------------------------------------
# The notebooks
# ----------------------------------------------------------------------------


def _exec_cells(path: Path) -> dict:
    """Run the setup and solution cells of a notebook in a fresh namespace."""
    namespace: dict = {"__name__": "__main__"}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (
            meta.get("solution") or meta.get("grade_id", "").startswith("setup")
        ):
            exec(compile(cell.source, f"<cell {meta['grade_id']}>", "exec"), namespace)
    return namespace


def test_stubs_report_not_implemented():
    ns = _exec_cells(RELEASED)
    rep = ns["type_representation"]
    cases = [
        (check_irrep, (ns["irrep"],), "irrep"),
        (check_fourier_transform, (ns["fourier_transform"],), "fourier_transform"),
        (
            check_inverse_fourier_transform,
            (ns["inverse_fourier_transform"], ns["fourier_transform"]),
            "inverse_fourier_transform",
        ),
        (check_harmonic_basis, (ns["harmonic_basis"], ns["irrep"]), "harmonic_basis"),
        (check_pair_basis, (ns["pair_basis"], ns["irrep"]), "pair_basis"),
        (check_steerable_basis, (ns["steerable_basis"], rep), "steerable_basis"),
        (
            check_steerable_convolution,
            (ns["SteerableConvolution"], rep),
            "steerable_basis",
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
        assert "gedl_ref" not in cell.source and "autograder" not in cell.source
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
        assert kept == outside  # signatures, docstrings, __init__ unchanged
    text = RELEASED.read_text()
    assert "BEGIN SOLUTION" not in text and "F.conv2d(x, self.kernel()" not in text


@pytest.mark.parametrize(
    "type_in, type_out, group_order",
    [([0, 1, 2], [1, 3, 0], None), (["regular", 1], [0, "regular"], 4)],
    ids=["SO2", "C4"],
)
def test_solution_agrees_with_reference(type_in, type_out, group_order):
    ns = _exec_cells(SOLUTION)
    theta = torch.rand(4, dtype=torch.float64) * 7
    for k in range(3):
        assert torch.allclose(ns["irrep"](k, theta), ref_irreps.irrep(k, theta))
    f = torch.randn(3, 6, dtype=torch.float64)
    assert torch.allclose(
        ns["fourier_transform"](f, 6), ref_irreps.fourier_transform(f, 6)
    )
    expected = ref.steerable_basis(type_in, type_out, 5, group_order)
    got = ns["steerable_basis"](type_in, type_out, 5, group_order)
    assert got.shape == expected.shape
    assert (got - expected).abs().max() <= 1e-12
    reference = ref.SteerableConvolution(type_in, type_out, 5, group_order).double()
    layer = ns["SteerableConvolution"](type_in, type_out, 5, group_order).double()
    layer.load_state_dict(reference.state_dict())  # strict: only the weight
    x = torch.randn(2, reference.in_channels, 9, 8, dtype=torch.float64)
    with torch.no_grad():
        assert (layer(x) - reference(x)).abs().max() <= 1e-12 * reference(x).abs().max()


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
    printed = nr.printed(next(c for c in nb.cells if c.get("id") == "demo-fields"))
    error_45 = float(
        printed.split("relative error of the rotated output field ")[1][:5]
    )
    assert error_45 < 0.05


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
        "CheckFailed: not implemented yet: irrep. Replace the "
        "`raise NotImplementedError()` line with your code and run this cell again."
    ]
