"""gedl_ref.so3 and gedl_ref.tensor_product against e3nn, value by value.

e3nn is a test and benchmark dependency only (never importable by student
code); without it this module is skipped. e3nn computes in
``torch.get_default_dtype()``, so a fixture switches the default to float64
for each test and restores it afterwards. Both libraries are then exact to
float64 rounding (~1e-15 relative); the tolerance is 1e-10 of the scale.
"""

from __future__ import annotations

import pytest
import torch

from gedl_ref.so3 import (
    Irrep,
    Irreps,
    angles_to_matrix,
    clebsch_gordan,
    random_rotation,
    spherical_harmonics,
    wigner_D,
    wigner_D_from_matrix,
)
from gedl_ref.tensor_product import (
    FullyConnectedTensorProduct,
    Linear,
    TensorProduct,
)

o3 = pytest.importorskip(
    "e3nn.o3", reason="e3nn is not installed (pip install e3nn): agreement not checked"
)

TOL = 1e-10


@pytest.fixture(autouse=True)
def _float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    err = (a - b).abs().max().item()
    assert err <= TOL * max(1.0, b.abs().max().item()), f"max error {err:.3g}"


@pytest.mark.parametrize("normalization", ["component", "norm", "integral"])
@pytest.mark.parametrize("normalize", [True, False])
def test_spherical_harmonics(normalization, normalize, gen):
    """Every degree e3nn implements (0..11)."""
    x = torch.randn(50, 3, generator=gen)
    ls = list(range(12))
    _close(
        spherical_harmonics(ls, x, normalize, normalization),
        o3.spherical_harmonics(ls, x, normalize, normalization),
    )


@pytest.mark.parametrize("l", range(9))
def test_wigner_D(l, gen):
    a, b, c = 2 * torch.pi * torch.rand(3, 10, generator=gen)
    _close(wigner_D(l, a, b, c), o3.wigner_D(l, a, b, c))
    R = random_rotation(10, generator=gen)
    _close(wigner_D_from_matrix(l, R), o3.Irrep(l, 1).D_from_matrix(R))
    _close(angles_to_matrix(a, b, c), o3.angles_to_matrix(a, b, c))


@pytest.mark.parametrize("ir", ["0e", "0o", "1o", "1e", "2o", "3e"])
def test_irrep_D_with_parity(ir, gen):
    R = random_rotation(5, generator=gen)
    for Q in (R, -R):
        _close(Irrep.parse(ir).D_from_matrix(Q), o3.Irrep(ir).D_from_matrix(Q))


def test_clebsch_gordan():
    for l1 in range(6):
        for l2 in range(6):
            for l3 in range(abs(l1 - l2), l1 + l2 + 1):
                _close(clebsch_gordan(l1, l2, l3), o3.wigner_3j(l1, l2, l3))


def test_irreps_strings():
    for text in ["16x0e + 8x1o + 4x2e", "1o + 2x3e + 0x1o", "5x0o+1x7e"]:
        ours, theirs = Irreps(text), o3.Irreps(text)
        assert ours.dim == theirs.dim
        assert str(ours) == str(theirs)


FC_CASES = [
    ("2x0e + 2x1o + 2x2e", "1x0e + 1x1o + 2x2e", "3x0e + 2x1o + 2x2e + 1x1e"),
    ("1x1o + 2x3o + 1x4e", "2x1o + 1x2e", "2x2e + 1x3o + 2x4e + 1x5o + 1x0e"),
]


@pytest.mark.parametrize("case", range(len(FC_CASES)))
@pytest.mark.parametrize("irrep_normalization", ["component", "norm"])
@pytest.mark.parametrize("path_normalization", ["element", "path"])
def test_fully_connected_tensor_product(
    case, irrep_normalization, path_normalization, gen
):
    """Same irreps, same flat weight vector (the layouts agree path by path)."""
    kwargs = {
        "irrep_normalization": irrep_normalization,
        "path_normalization": path_normalization,
    }
    ours = FullyConnectedTensorProduct(*FC_CASES[case], **kwargs)
    theirs = o3.FullyConnectedTensorProduct(*FC_CASES[case], **kwargs)
    assert [i[:4] for i in ours.instructions] == [i[:4] for i in theirs.instructions]
    assert ours.weight_numel == theirs.weight_numel
    with torch.no_grad():
        theirs.weight.copy_(ours.weight)
    _same_weight_views(ours, theirs, None)
    x = torch.randn(20, ours.irreps_in1.dim, generator=gen)
    y = torch.randn(20, ours.irreps_in2.dim, generator=gen)
    _close(ours(x, y), theirs(x, y))


@pytest.mark.parametrize("irrep_normalization", ["component", "norm"])
@pytest.mark.parametrize("path_normalization", ["element", "path"])
@pytest.mark.parametrize("shared", [True, False], ids=["shared", "per-sample"])
def test_depthwise_tensor_product(irrep_normalization, path_normalization, shared, gen):
    in1 = Irreps("4x0e + 4x1o + 4x2e + 2x3o")
    in2 = Irreps("2x0e + 1x1o + 1x2e + 1x3o")
    out = Irreps("4x0e + 4x1o + 4x2e + 4x1e + 2x3o")
    instructions = [
        (a, b, c, "uvu", True)
        for a, (m1, ir1) in enumerate(in1)
        for b, (_, ir2) in enumerate(in2)
        for c, (m3, ir3) in enumerate(out)
        if ir3 in ir1 * ir2 and m1 == m3
    ]
    kwargs = {
        "irrep_normalization": irrep_normalization,
        "path_normalization": path_normalization,
        "shared_weights": shared,
        "internal_weights": False,
    }
    ours = TensorProduct(in1, in2, out, instructions, **kwargs)
    theirs = o3.TensorProduct(str(in1), str(in2), str(out), instructions, **kwargs)
    assert ours.weight_numel == theirs.weight_numel
    shape = (ours.weight_numel,) if shared else (20, ours.weight_numel)
    w = torch.randn(shape, generator=gen)
    x = torch.randn(20, in1.dim, generator=gen)
    y = torch.randn(20, in2.dim, generator=gen)
    _same_weight_views(ours, theirs, w)
    _close(ours(x, y, w), theirs(x, y, w))


def _same_weight_views(ours, theirs, weight) -> None:
    """The weight mapping, path by path: the same flat vector gives every
    instruction the same ``[mul1, mul2(, mul3)]`` block in both libraries, and
    the same normalisation constant."""
    pairs = zip(ours.weight_views(weight), theirs.weight_views(weight), strict=True)
    for mine, other in pairs:
        assert mine.shape == other.shape
        assert torch.equal(mine, other)
    for mine, other in zip(ours.instructions, theirs.instructions, strict=True):
        assert mine[:4] == tuple(other[:4])
        assert abs(mine.alpha - other.path_weight) < 1e-12


@pytest.mark.parametrize("path_normalization", ["element", "path"])
def test_linear(path_normalization, gen):
    irreps_in, irreps_out = "3x0e + 2x1o + 1x1o + 2x2e + 1x0o", "2x0e + 3x1o + 2x2e"
    ours = Linear(irreps_in, irreps_out, path_normalization=path_normalization)
    theirs = o3.Linear(irreps_in, irreps_out, path_normalization=path_normalization)
    assert ours.weight_numel == theirs.weight_numel
    with torch.no_grad():
        theirs.weight.copy_(ours.weight)
    x = torch.randn(10, ours.irreps_in.dim, generator=gen)
    _close(ours(x), theirs(x))
