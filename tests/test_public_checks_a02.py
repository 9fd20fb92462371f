"""The public checks of assignment 2 (lifting and group convolutions).

The checks must pass on the reference (``gedl_ref.conv``), fail with a
specific message on typical mistakes, and the notebooks must run: the
solution from top to bottom (experiment included), the released stubs through
their setup cells. The solution must also agree with the reference, given the
same weights.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import notebook_runner as nr
import pytest
import torch
import torch.nn.functional as F

from gedl_checks.a02_conv import (
    CheckFailed,
    check_group_convolution,
    check_group_kernel_permutation,
    check_group_pooling,
    check_lift_kernels,
    check_lifting_convolution,
    check_transform_group_kernels,
)

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_lifting_conv"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / NOTEBOOK
RELEASED = ROOT / "assignments" / ASSIGNMENT / NOTEBOOK
CHECK_TITLES = [
    "✓ lift_kernels",
    "✓ LiftingConvolution",
    "✓ group_kernel_permutation",
    "✓ transform_group_kernels",
    "✓ GroupConvolution",
    "✓ GroupPooling",
]


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


@pytest.fixture
def ref():
    """The reference layers and groups (imported here: they are the ground truth)."""
    import gedl_ref.conv
    import gedl_ref.groups

    class Reference:
        conv = gedl_ref.conv
        CyclicGroup = gedl_ref.groups.CyclicGroup
        DihedralGroup = gedl_ref.groups.DihedralGroup

        @staticmethod
        def lift_kernels(group, weight):
            c_out, c_in, k, _ = weight.shape
            layer = gedl_ref.conv.LiftingConvolution(group, c_in, c_out, k)
            return _kernels_of(layer, weight)

        @staticmethod
        def transform_group_kernels(group, weight):
            c_out, c_in, _, k, _ = weight.shape
            layer = gedl_ref.conv.GroupConvolution(group, c_in, c_out, k)
            return _kernels_of(layer, weight)

        @staticmethod
        def group_kernel_permutation(group):
            """Read g⁻¹h off the kernels of a 1×1 weight holding h at h."""
            g = group.order
            weight = torch.arange(g, dtype=torch.float64).reshape(1, 1, g, 1, 1)
            kernels = Reference.transform_group_kernels(group, weight)
            return kernels[0, :, 0, :, 0, 0].round().long()  # [G, G]

    return Reference


def _kernels_of(layer, weight):
    """The reference's transformed kernels of ``weight`` (differentiable in it)."""
    layer = layer.to(weight.dtype)
    del layer.weight
    layer.weight = weight
    return layer.transformed_kernels()


def _run_all(ref, lift=None, lifting=None, perm=None, transform=None, gconv=None):
    groups = (ref.CyclicGroup, ref.DihedralGroup)
    lifting = lifting or ref.conv.LiftingConvolution
    gconv = gconv or ref.conv.GroupConvolution
    check_lift_kernels(lift or ref.lift_kernels, *groups)
    check_lifting_convolution(lifting, *groups)
    check_group_kernel_permutation(perm or ref.group_kernel_permutation, *groups)
    check_transform_group_kernels(transform or ref.transform_group_kernels, *groups)
    check_group_convolution(gconv, *groups)
    check_group_pooling(ref.conv.GroupPooling, lifting, gconv, *groups)


def _stacked_bias(layer):
    """The bias repeated for every group element, or None."""
    if layer.bias is None:
        return None
    return layer.bias.repeat_interleave(layer.group.order)  # [C_out·G]


def _failure(check, *args) -> str:
    with pytest.raises(CheckFailed) as info:
        check(*args)
    return str(info.value)


# ----------------------------------------------------------------------------
# The checks pass on the reference
# ----------------------------------------------------------------------------


def test_checks_pass_on_reference(ref, capsys):
    _run_all(ref)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == CHECK_TITLES
    assert all(line.endswith("checks passed)") for line in lines)


# ----------------------------------------------------------------------------
# Broken implementations fail with a specific message
# ----------------------------------------------------------------------------


def _inverse_order(group) -> list[int]:
    """Index of g⁻¹ for every g, in the order of group.elements()."""
    n, order = group.rotation_order, group.order
    return [(i if i >= n else -i % n) for i in range(order)]


def test_lift_kernels_with_g_instead_of_inverse(ref):
    def lift_kernels(group, weight):
        return ref.lift_kernels(group, weight)[:, _inverse_order(group)]

    message = _failure(
        check_lift_kernels, lift_kernels, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith(
        "lift_kernels, C_4 (odd k): the kernel at g = rotation by 90°"
    )
    assert "rotated the wrong way; use g⁻¹, not g" in message


def test_lift_kernels_without_transforming(ref):
    def lift_kernels(group, weight):
        return weight[:, None].expand(-1, group.order, -1, -1, -1)

    message = _failure(
        check_lift_kernels, lift_kernels, ref.CyclicGroup, ref.DihedralGroup
    )
    assert "it is the untransformed weight: transform w by every g" in message


def test_lifting_forward_with_g_instead_of_inverse(ref):
    class Lifting(ref.conv.LiftingConvolution):
        def forward(self, x):
            kernels = self.transformed_kernels()[:, _inverse_order(self.group)]
            k = self.kernel_size
            out = F.conv2d(
                x, kernels.reshape(-1, self.in_channels, k, k), padding=k // 2
            )
            return out.unflatten(1, (self.out_channels, self.group.order))

    message = _failure(
        check_lifting_convolution, Lifting, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith("LiftingConvolution, known values:")
    assert "at g = rotation by 90° should be 1 at (row, column) = (4, 4)" in message
    assert "use g⁻¹, not g" in message


def test_lifting_as_convolution_instead_of_correlation(ref):
    class Flipped(ref.conv.LiftingConvolution):
        def forward(self, x):
            kernels = torch.flip(self.transformed_kernels(), dims=(-2, -1))
            k = self.kernel_size
            bias = _stacked_bias(self)
            out = F.conv2d(
                x, kernels.reshape(-1, self.in_channels, k, k), bias, padding=k // 2
            )
            return out.unflatten(1, (self.out_channels, self.group.order))

    message = _failure(
        check_lifting_convolution, Flipped, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith("LiftingConvolution, known values:")
    assert "at g = e should be 1 at (row, column) = (4, 2)" in message
    assert "the kernel is flipped: F.conv2d computes a correlation" in message


@pytest.mark.parametrize("kind", ["lifting", "group"])
def test_asymmetric_padding(ref, kind):
    """All padding on the bottom and right: right shapes, output off-centre."""
    base = {
        "lifting": ref.conv.LiftingConvolution,
        "group": ref.conv.GroupConvolution,
    }[kind]

    class Padded(base):
        def forward(self, x):
            k, p = self.kernel_size, self.kernel_size // 2
            if x.ndim == 5:
                x = x.flatten(1, 2)
            kernels = self.transformed_kernels().reshape(-1, x.shape[1], k, k)
            bias = _stacked_bias(self)
            out = F.conv2d(F.pad(x, (0, 2 * p, 0, 2 * p)), kernels, bias)
            return out.unflatten(1, (self.out_channels, self.group.order))

    check = {"lifting": check_lifting_convolution, "group": check_group_convolution}
    message = _failure(check[kind], Padded, ref.CyclicGroup, ref.DihedralGroup)
    assert ", centred output: the response of " in message
    assert "is off-centre by (rows, columns) = (-1, -1) pixels" in message
    assert "pad kernel_size // 2 on every side" in message


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_same_padding_with_even_kernels(ref):
    class Same(ref.conv.LiftingConvolution):
        def forward(self, x):
            k = self.kernel_size
            kernels = self.transformed_kernels().reshape(-1, self.in_channels, k, k)
            out = F.conv2d(x, kernels, padding="same")
            return out.unflatten(1, (self.out_channels, self.group.order))

    message = _failure(
        check_lifting_convolution, Same, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith("LiftingConvolution, output shapes: ")
    assert "LiftingConvolution(kernel_size=4) on an input [2, 2, 9, 12]" in message
    assert "should have shape [2, 3, 4, 10, 13], got [2, 3, 4, 9, 12]" in message
    assert "pad kernel_size // 2 on every side" in message


def _not_rolled(ref, group, weight):
    """Kernels L_g w(h, ·) with the group axis h left in place."""
    c_out, c_in, g, k, _ = weight.shape
    flat = weight.reshape(c_out, c_in * g, k, k)
    return ref.lift_kernels(group, flat).reshape(c_out, g, c_in, g, k, k)


def test_group_axis_not_rolled(ref):
    def transform(group, weight):
        return _not_rolled(ref, group, weight)

    message = _failure(
        check_transform_group_kernels, transform, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith(
        "transform_group_kernels, C_4 (odd k): the kernel at g = rotation by 90°"
    )
    assert "is wrong: the group axis must be rolled, not interpolated" in message


def test_group_conv_forward_not_rolled_is_not_equivariant(ref):
    class NotRolled(ref.conv.GroupConvolution):
        def forward(self, x):
            k, c_in = self.kernel_size, self.in_channels * self.group.order
            kernels = _not_rolled(ref, self.group, self.weight)
            bias = _stacked_bias(self)
            out = F.conv2d(
                x.flatten(1, 2), kernels.reshape(-1, c_in, k, k), bias, padding=k // 2
            )
            return out.unflatten(1, (self.out_channels, self.group.order))

    message = _failure(
        check_group_convolution, NotRolled, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith("GroupConvolution, rot90 (odd k): GroupConvolution(C_4")
    assert "is not equivariant: 3 of 4 group elements fail" in message
    assert re.search(r"= \d\.\d+(e-\d+)?, above the tolerance 1\.0e-09", message)
    assert "the group axis must be rolled, not interpolated" in message


def test_group_axis_permuted_by_gh(ref):
    def transform(group, weight):
        gh = ref.group_kernel_permutation(group)[_inverse_order(group)]  # [G, G]
        permuted = weight[:, :, gh].transpose(1, 2)  # [C_out, G, C_in, G, k, k]
        g = group.elements(dtype=weight.dtype)
        return group.left_regular_representation(g[:, None, None, :], permuted)

    message = _failure(
        check_transform_group_kernels, transform, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith(
        "transform_group_kernels, C_4 (odd k): the kernel at g = rotation by 90°"
    )
    assert "the group axis is permuted by h -> gh; it must be h -> g⁻¹h" in message


def test_permutation_with_gh(ref):
    def table(group):
        inverse = _inverse_order(group)
        return ref.group_kernel_permutation(group)[inverse]  # row g -> row g⁻¹

    message = _failure(
        check_group_kernel_permutation, table, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith("group_kernel_permutation, C_4: ")
    assert "holds the index of g·h; it must be the index of g⁻¹h" in message


def test_permutation_as_float(ref):
    def table(group):
        return ref.group_kernel_permutation(group).double()

    message = _failure(
        check_group_kernel_permutation, table, ref.CyclicGroup, ref.DihedralGroup
    )
    assert "should have dtype torch.long" in message


def test_python_loop_over_the_group(ref):
    class Loop(ref.conv.LiftingConvolution):
        def forward(self, x):
            kernels = self.transformed_kernels()
            outputs = [
                F.conv2d(x, kernels[:, i], self.bias, padding=self.kernel_size // 2)
                for i in range(kernels.shape[1])
            ]
            return torch.stack(outputs, dim=2)

    message = _failure(
        check_lifting_convolution, Loop, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith(
        "LiftingConvolution, one F.conv2d call: LiftingConvolution.forward made 4 "
        "calls to F.conv2d for a group with 4 elements; expected exactly 1"
    )


def test_extra_persistent_buffer(ref):
    class Buffered(ref.conv.LiftingConvolution):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.register_buffer("elements", self.group.elements())

    message = _failure(
        check_lifting_convolution, Buffered, ref.CyclicGroup, ref.DihedralGroup
    )
    assert message.startswith("LiftingConvolution, parameters: ")
    assert "state_dict() should hold exactly ['bias', 'weight']" in message


def test_pooling_over_the_wrong_axis(ref):
    class WrongAxis(ref.conv.GroupPooling):
        def forward(self, x):
            return x.amax(dim=1)

    message = _failure(
        check_group_pooling,
        WrongAxis,
        ref.conv.LiftingConvolution,
        ref.conv.GroupConvolution,
        ref.CyclicGroup,
        ref.DihedralGroup,
    )
    assert message.startswith('GroupPooling, shapes: GroupPooling("max")')
    assert "should have shape [2, 3, 5, 6], got [2, 4, 5, 6]" in message


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
    groups = (ns["CyclicGroup"], ns["DihedralGroup"])
    cases = [
        (check_lift_kernels, ("lift_kernels",), "lift_kernels"),
        (
            check_lifting_convolution,
            ("LiftingConvolution",),
            "LiftingConvolution.transformed_kernels",
        ),
        (
            check_group_kernel_permutation,
            ("group_kernel_permutation",),
            "group_kernel_permutation",
        ),
        (
            check_transform_group_kernels,
            ("transform_group_kernels",),
            "transform_group_kernels",
        ),
        (
            check_group_convolution,
            ("GroupConvolution",),
            "GroupConvolution.transformed_kernels",
        ),
        (
            check_group_pooling,
            ("GroupPooling", "LiftingConvolution", "GroupConvolution"),
            "GroupPooling.forward",
        ),
    ]
    for check, names, missing in cases:
        message = _failure(check, *(ns[name] for name in names), *groups)
        assert message == (
            f"not implemented yet: {missing}. Replace the `raise NotImplementedError()`"
            " line with your code and run this cell again."
        )


# ----------------------------------------------------------------------------
# The notebooks: metadata, stubs, agreement with the reference, running them
# ----------------------------------------------------------------------------

SETUP_IDS = ["setup_imports", "setup_signals", "setup_groups"]
SOLUTION_IDS = [
    "lift_kernels",
    "lifting_convolution",
    "group_kernel_permutation",
    "transform_group_kernels",
    "group_convolution",
    "group_pooling",
]


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


def test_release_keeps_signatures_and_parameters_but_no_solution():
    solution = nbformat.read(SOLUTION, as_version=4)
    released = nbformat.read(RELEASED, as_version=4)
    pairs = [
        (ours.source, theirs.source)
        for ours, theirs in zip(solution.cells, released.cells, strict=True)
        if ours.metadata.get("nbgrader", {}).get("solution")
    ]
    assert len(pairs) == len(SOLUTION_IDS)
    for ours, theirs in pairs:
        inside, outside, in_solution = set(), [], False
        for line in ours.split("\n"):
            if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
                in_solution = "BEGIN" in line
                continue
            if in_solution:
                inside.add(line.strip())
            else:
                outside.append(line)
        kept = [
            line
            for line in theirs.split("\n")
            if line.strip() not in ("# YOUR CODE HERE", "raise NotImplementedError()")
        ]
        assert kept == outside  # signatures, docstrings, __init__ unchanged
        secret = inside - {line.strip() for line in outside} - {""}
        assert not secret & {line.strip() for line in theirs.split("\n")}
    text = RELEASED.read_text()
    assert "BEGIN SOLUTION" not in text and "F.conv2d(" not in text


def test_stubs_construct_and_load_reference_weights(ref):
    ns = _exec_cells(RELEASED)
    cases = [
        ("LiftingConvolution", ns["CyclicGroup"](4), ref.CyclicGroup(4)),
        ("GroupConvolution", ns["DihedralGroup"](4), ref.DihedralGroup(4)),
    ]
    for name, group, ref_group in cases:
        for bias in (True, False):
            reference = getattr(ref.conv, name)(ref_group, 2, 3, 5, bias=bias)
            stub = ns[name](group, 2, 3, 5, bias=bias)
            stub.load_state_dict(reference.state_dict())  # strict
            assert torch.equal(stub.weight, reference.weight)
        with pytest.raises(NotImplementedError):
            stub.transformed_kernels()
    assert ns["GroupPooling"]().mode == "max"
    with pytest.raises(ValueError, match="max"):
        ns["GroupPooling"]("sum")


@pytest.mark.parametrize(
    ("group_name", "n", "tolerance"),
    [
        ("CyclicGroup", 4, 1e-12),
        ("DihedralGroup", 4, 1e-12),
        # The reference rounds its 45° interpolation matrices to float32.
        ("CyclicGroup", 8, 1e-6),
    ],
    ids=["C4", "D4", "C8"],
)
@pytest.mark.parametrize("kernel_size", [3, 4], ids=["odd", "even"])
def test_solution_agrees_with_reference(ref, group_name, n, tolerance, kernel_size):
    ns = _exec_cells(SOLUTION)
    group, ref_group = ns[group_name](n), getattr(ref, group_name)(n)
    g = ref_group.order
    for name, shape in (
        ("LiftingConvolution", (2, 3, 9, 8)),
        ("GroupConvolution", (2, 3, g, 9, 8)),
    ):
        reference = getattr(ref.conv, name)(ref_group, 3, 4, kernel_size).double()
        with torch.no_grad():
            reference.bias.normal_()
        solution = ns[name](group, 3, 4, kernel_size).double()
        solution.load_state_dict(reference.state_dict())
        x = torch.randn(*shape, dtype=torch.float64)
        expected = reference(x).detach()
        got = solution(x).detach()
        assert got.shape == expected.shape
        assert (got - expected).abs().max() <= tolerance * expected.abs().max()
    y = torch.randn(2, 3, g, 5, 5)
    for mode in ("max", "mean"):
        assert torch.equal(ns["GroupPooling"](mode)(y), ref.conv.GroupPooling(mode)(y))


def test_solution_notebook_runs_top_to_bottom(kernel_env):
    folder = kernel_env / "solution"
    folder.mkdir()
    nb = nr.execute(nbformat.read(SOLUTION, as_version=4), folder)
    errors = {nr.grade_id(c) or c.get("id"): nr.errors(c) for c in nb.cells}
    assert {k: v for k, v in errors.items() if v} == {}
    checks = [
        nr.printed(cell).strip()
        for cell in nb.cells
        if (nr.grade_id(cell) or "").startswith("check")
    ]
    assert [line.split(":")[0] for line in checks] == CHECK_TITLES

    # The experiment: the G-CNN is as accurate on rotated shapes as on upright.
    printed = nr.printed(
        next(c for c in nb.cells if c.get("id") == "demo-experiment-train")
    )
    found = re.search(r"C4 G-CNN .*: upright ([\d.]+)%, rotated ([\d.]+)%", printed)
    assert found is not None, printed
    upright, rotated = float(found.group(1)), float(found.group(2))
    assert upright > 90
    assert abs(upright - rotated) <= 0.5  # invariant up to float rounding


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
        "CheckFailed: not implemented yet: lift_kernels. Replace the "
        "`raise NotImplementedError()` line with your code and run this cell again."
    ]
