"""The public checks of assignment 1 and the shared equivariance helper.

The checks must pass on the reference (``gedl_ref``), fail with a specific
message on typical mistakes, and the notebooks must run: the solution from
top to bottom, the released stubs through their setup cells.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import nbformat
import notebook_runner as nr
import pytest
import torch

from gedl_checks import EquivarianceReport, assert_equivariant, check_equivariance
from gedl_checks.a01_groups import (
    CheckFailed,
    check_cyclic_group,
    check_dihedral_group,
    check_left_regular_representation,
    check_roto_translation,
    check_so2,
)

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_group_product"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


@pytest.fixture
def ref():
    """The reference groups (imported here: they are the ground truth)."""
    import gedl_ref.groups

    return gedl_ref.groups


# ----------------------------------------------------------------------------
# The checks pass on the reference
# ----------------------------------------------------------------------------


def test_checks_pass_on_reference(ref, capsys):
    check_cyclic_group(ref.CyclicGroup)
    check_so2(ref.SO2)
    check_dihedral_group(ref.DihedralGroup)
    check_roto_translation(
        ref.RotoTranslationGroup, ref.CyclicGroup, ref.SO2, ref.DihedralGroup
    )
    check_left_regular_representation(
        ref.CyclicGroup, ref.SO2, ref.DihedralGroup, ref.RotoTranslationGroup
    )
    lines = capsys.readouterr().out.splitlines()
    titles = [line.split(":")[0] for line in lines]
    assert titles == [
        "✓ C_4",
        "✓ C_7",
        "✓ SO(2)",
        "✓ D_4",
        "✓ D_5",
        "✓ R² ⋊ C_4",
        "✓ R² ⋊ SO(2)",
        "✓ R² ⋊ D_4",
        "✓ left-regular representation",
    ]
    assert all(line.endswith("checks passed)") for line in lines)


# ----------------------------------------------------------------------------
# The checks fail with a specific message on broken implementations
# ----------------------------------------------------------------------------


def _failure(check, *classes) -> str:
    with pytest.raises(CheckFailed) as info:
        check(*classes)
    return str(info.value)


def test_unwrapped_so2_product(ref):
    class UnwrappedSO2(ref.SO2):
        def product(self, g, h):
            return g + h

    message = _failure(check_so2, UnwrappedSO2)
    assert message == (
        "SO(2), known values: angles must be wrapped mod 2π: product(3π/2, π) "
        "gave 7.854, expected a value in [0, 2π)"
    )


def test_remainder_that_rounds_up_to_two_pi(ref):
    class NaiveSO2(ref.SO2):
        def normalize_group_parameterization(self, g):
            return torch.remainder(g, 2 * math.pi)

    message = _failure(check_so2, NaiveSO2)
    assert "wrapping" in message
    assert "normalize_group_parameterization(θ=-0.000) in torch.float32" in message
    assert "expected a value in [0, 2π)" in message


def test_unwrapped_cyclic_product(ref):
    class UnwrappedC(ref.CyclicGroup):
        def product(self, g, h):
            return g + h

    message = _failure(check_cyclic_group, UnwrappedC)
    assert message.startswith("C_4, known values: product(θ=1.571, θ=4.712)")
    assert "should be exactly the identity θ=0.000, got θ=6.283" in message
    assert "angles must be wrapped mod 2π" in message


def test_cyclic_product_wrapped_but_not_snapped(ref):
    class UnsnappedC(ref.CyclicGroup):
        def product(self, g, h):
            return torch.remainder(g + h, 2 * math.pi)

    message = _failure(check_cyclic_group, UnsnappedC)
    assert "exactly" in message
    assert "snap the angle to the grid: k = round(θ·N/2π) mod N" in message
    assert "wrapped mod 2π" not in message


def test_dihedral_product_without_sign(ref):
    class CommutingD(ref.DihedralGroup):
        def product(self, g, h):
            theta = g[..., 0] + h[..., 0]
            s = torch.remainder(g[..., 1] + h[..., 1], 2)
            return self.normalize_group_parameterization(torch.stack((theta, s), -1))

    message = _failure(check_dihedral_group, CommutingD)
    assert message.startswith("D_4, reflections: product(m, r)")
    assert "(a, s)(b, t) = (a + (-1)^s b, s xor t)" in message


def test_wrong_semidirect_inverse(ref):
    class WrongInverse(ref.RotoTranslationGroup):
        def inverse(self, g):
            h_inv = self.rotations.inverse(g[..., 2:])
            return torch.cat((-g[..., :2], h_inv), dim=-1)

    message = _failure(check_roto_translation, WrongInverse, ref.CyclicGroup, ref.SO2)
    assert message.startswith("R² ⋊ C_4, known values: inverse((x=(1.000, 2.000)")
    assert "(x, g)⁻¹ is (−g⁻¹·x, g⁻¹), not (−x, g⁻¹)" in message


def test_direct_instead_of_semidirect_product(ref):
    class DirectProduct(ref.RotoTranslationGroup):
        def product(self, g, h):
            rotation = self.rotations.product(g[..., 2:], h[..., 2:])
            return torch.cat((g[..., :2] + h[..., :2], rotation), dim=-1)

    message = _failure(check_roto_translation, DirectProduct, ref.CyclicGroup, ref.SO2)
    assert "rotate y by g before adding it" in message


def test_stub_reports_not_implemented(ref):
    class CyclicGroup:
        def __init__(self, order):
            self.order = order
            self.dimension = 1

        def identity(self, dtype=None, device=None):
            raise NotImplementedError()

    message = _failure(check_cyclic_group, CyclicGroup)
    assert message.startswith("not implemented yet: CyclicGroup.identity.")


def test_stub_in_base_class_names_the_base_class(ref):
    class GroupBase:
        def left_regular_representation(self, g, f):
            raise NotImplementedError()

    class StubC(GroupBase, ref.CyclicGroup):
        pass

    message = _failure(
        check_left_regular_representation,
        StubC,
        ref.SO2,
        ref.DihedralGroup,
        ref.RotoTranslationGroup,
    )
    assert message.startswith(
        "not implemented yet: GroupBase.left_regular_representation."
    )


def test_clockwise_left_regular_representation(ref):
    class Clockwise(ref.CyclicGroup):
        def left_regular_representation(self, g, f):
            return super().left_regular_representation(self.inverse(g), f)

    message = _failure(
        check_left_regular_representation,
        Clockwise,
        ref.SO2,
        ref.DihedralGroup,
        ref.RotoTranslationGroup,
    )
    assert message.startswith("left-regular representation, rotation by 90°:")
    assert "rotated clockwise" in message


def test_unexpected_error_is_chained(ref):
    class Broken(ref.SO2):
        def inverse(self, g):
            raise RuntimeError("shape mismatch somewhere")

    with pytest.raises(CheckFailed) as info:
        check_so2(Broken)
    assert "your code raised RuntimeError: shape mismatch somewhere" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


# ----------------------------------------------------------------------------
# check_equivariance
# ----------------------------------------------------------------------------


def _rot(k, f):
    return torch.rot90(f, int(k), dims=(-2, -1))


@pytest.fixture
def image():
    gen = torch.Generator().manual_seed(0)
    return torch.rand(2, 5, 5, generator=gen), torch.rand(2, 5, 5, generator=gen)


def test_exactly_equivariant_map_has_zero_error(image):
    x, x_other = image
    report = check_equivariance(
        torch.square, range(4), _rot, _rot, x, tolerance=1e-12, x_other=x_other
    )
    assert report.errors == [0.0, 0.0, 0.0, 0.0]
    assert report.ok
    assert report.labels == ["g=0", "g=1", "g=2", "g=3"]
    assert "is equivariant" in report.message("squaring")


def test_elements_along_first_axis_of_a_tensor(image):
    x, _ = image
    report = check_equivariance(
        torch.square,
        torch.tensor([[1.0], [2.0]]),
        lambda g, f: _rot(g, f),
        lambda g, f: _rot(g, f),
        x,
        tolerance=1e-12,
    )
    assert report.labels == ["g=(1)", "g=(2)"]
    assert report.ok


def test_non_equivariant_map_is_caught(image):
    x, x_other = image
    mask = torch.arange(25.0).reshape(5, 5)
    report = check_equivariance(
        lambda f: f * mask, range(4), _rot, _rot, x, tolerance=1e-6, x_other=x_other
    )
    assert not report.ok
    assert report.errors[0] == 0.0
    assert report.failures == [1, 2, 3]
    label, error = report.worst
    assert error == max(report.errors) > 0.1
    message = report.message("the masked map")
    assert message.startswith("the masked map is not equivariant: 3 of 4")
    assert f"the worst is {label}" in message


def test_zero_map_does_not_count(image):
    x, _ = image
    report = check_equivariance(
        torch.zeros_like, range(4), _rot, _rot, x, tolerance=1e-6
    )
    assert report.errors == [0.0] * 4
    assert not report.ok
    assert "a zero map would pass this check, so it does not count" in report.message(
        "f"
    )


def test_constant_map_needs_second_input(image):
    x, x_other = image
    constant = torch.ones_like
    without = check_equivariance(constant, range(4), _rot, _rot, x, tolerance=1e-6)
    assert without.ok  # a constant image is rotation invariant
    report = check_equivariance(
        constant, range(4), _rot, _rot, x, tolerance=1e-6, x_other=x_other
    )
    assert report.output_change == 0.0
    assert not report.ok
    assert "a constant map would pass this check" in report.message("f")


def test_nan_output_fails_and_says_nan(image):
    x, _ = image
    report = check_equivariance(
        lambda f: f / 0 * 0, range(2), _rot, _rot, x, tolerance=1e-6
    )
    assert report.errors == [math.inf, math.inf]
    assert not report.ok
    assert "NaN" in report.message("f")


def test_shape_mismatch_fails(image):
    x, _ = image
    report = check_equivariance(
        lambda f: f[..., :3, :], [1], _rot, _rot, x, tolerance=1e-6
    )
    assert report.errors == [math.inf]
    assert "shapes" in report.message("f")


def test_tuple_outputs(image):
    x, x_other = image
    report = check_equivariance(
        lambda f: (f, 2 * f),
        range(4),
        _rot,
        lambda k, ys: tuple(_rot(k, y) for y in ys),
        x,
        tolerance=1e-12,
        x_other=x_other,
    )
    assert report.ok


def test_assert_equivariant_raises_with_message(image):
    x, _ = image
    mask = torch.arange(25.0).reshape(5, 5)
    with pytest.raises(AssertionError, match="the masked map is not equivariant"):
        assert_equivariant(
            lambda f: f * mask,
            range(4),
            _rot,
            _rot,
            x,
            tolerance=1e-6,
            what="the masked map",
        )
    report = assert_equivariant(torch.square, range(4), _rot, _rot, x, tolerance=0)
    assert isinstance(report, EquivarianceReport)


def test_bad_arguments():
    with pytest.raises(ValueError, match="elements is empty"):
        check_equivariance(torch.square, [], _rot, _rot, torch.ones(2, 2), tolerance=1)
    with pytest.raises(ValueError, match="labels"):
        check_equivariance(
            torch.square, [1], _rot, _rot, torch.ones(2, 2), tolerance=1, labels=[]
        )
    with pytest.raises(TypeError, match="should be a tensor"):
        check_equivariance(
            lambda f: "no", [1], _rot, _rot, torch.ones(2, 2), tolerance=1
        )


# ----------------------------------------------------------------------------
# The notebooks run
# ----------------------------------------------------------------------------


def test_solution_notebook_runs_top_to_bottom(kernel_env):
    folder = kernel_env / "solution"
    folder.mkdir()
    source = ROOT / "solutions" / ASSIGNMENT / NOTEBOOK
    nb = nr.execute(nbformat.read(source, as_version=4), folder)
    errors = {nr.grade_id(c) or c.get("id"): nr.errors(c) for c in nb.cells}
    assert {k: v for k, v in errors.items() if v} == {}
    printed = "".join(
        out.get("text", "")
        for cell in nb.cells
        if (nr.grade_id(cell) or "").startswith("check")
        for out in cell.outputs
    )
    assert printed.count("✓") == 9


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
        "CheckFailed: not implemented yet: CyclicGroup.identity. Replace the "
        "`raise NotImplementedError()` line with your code and run this cell again."
    ]
