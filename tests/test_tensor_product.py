"""Tests of gedl_ref.tensor_product: equivariance, parity, selection rules,
bilinearity, normalisation, weights, and the fused engine against the formula.

Exactness tests run in float64 (errors ~1e-14, tolerance 1e-10 relative to the
output's scale). float32 equivariance gets a tolerance that grows with l:
Wigner-D entries and coefficients are O(1) but each output sums O(M1·M2·mul)
products, so the rounding error grows with the size of the contraction.
"""

from __future__ import annotations

import math

import pytest
import torch

import gedl_ref.tensor_product as tpm
from gedl_ref.so3 import Irreps, clebsch_gordan, random_rotation
from gedl_ref.tensor_product import (
    FullyConnectedTensorProduct,
    Linear,
    TensorProduct,
    _BlockEngine,
)

TOL = 1e-10

# (irreps_in1, irreps_in2, irreps_out) with l up to 4 and both parities
CASES = {
    "scalars-vectors": ("3x0e + 2x1o", "2x0e + 1x1o", "2x0e + 2x1o + 1x1e"),
    "up-to-l2": ("2x0e + 2x1o + 2x2e", "1x0e + 1x1o + 1x2e", "2x0e + 2x1o + 2x2e"),
    "up-to-l4": ("2x1o + 2x3o + 1x4e", "1x1o + 1x2e", "2x2e + 2x3o + 2x4e + 1x5o"),
    "pseudo": ("2x1e + 1x0o", "1x1o + 1x0o", "2x0o + 2x1o + 1x1e + 1x2o"),
}


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Seed the global generator, which initialises the layers' weights."""
    torch.manual_seed(0)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = TOL) -> None:
    err = (a - b).abs().max().item()
    assert err <= tol * max(1.0, b.abs().max().item()), f"max error {err:.3g}"


def _uvu(irreps_in1: str, irreps_in2: str, irreps_out: str, **kwargs) -> TensorProduct:
    """Every allowed ``uvu`` path (output multiplicity = input-1 multiplicity)."""
    in1, in2, out = Irreps(irreps_in1), Irreps(irreps_in2), Irreps(irreps_out)
    instructions = [
        (a, b, c, "uvu", True)
        for a, (m1, ir1) in enumerate(in1)
        for b, (_, ir2) in enumerate(in2)
        for c, (m3, ir3) in enumerate(out)
        if ir3 in ir1 * ir2 and m1 == m3
    ]
    return TensorProduct(in1, in2, out, instructions, **kwargs)


def _layer(mode: str, case: str, **kwargs) -> TensorProduct:
    in1, in2, out = CASES[case]
    if mode == "uvw":
        return FullyConnectedTensorProduct(in1, in2, out, **kwargs)
    return _uvu(in1, in2, out, **kwargs)


def _inputs(tp: TensorProduct, batch: int, gen: torch.Generator, dtype=torch.float64):
    x = torch.randn(batch, tp.irreps_in1.dim, generator=gen, dtype=dtype)
    y = torch.randn(batch, tp.irreps_in2.dim, generator=gen, dtype=dtype)
    return x, y


def _naive(tp: TensorProduct, x: torch.Tensor, y: torch.Tensor, weight=None):
    """The defining formula, path by path with einsum: an independent check."""
    views = tp.weight_views(weight)
    outs = [x.new_zeros(x.shape[0], b.mul, b.ir.dim) for b in tp.irreps_out]
    s1, s2 = tp.irreps_in1.slices(), tp.irreps_in2.slices()
    for ins, w in zip(tp.instructions, views, strict=True):
        b1, b2 = tp.irreps_in1[ins.i_in1], tp.irreps_in2[ins.i_in2]
        l3 = tp.irreps_out[ins.i_out].ir.l
        C = clebsch_gordan(b1.ir.l, b2.ir.l, l3, dtype=x.dtype)
        xa = x[:, s1[ins.i_in1]].reshape(-1, b1.mul, b1.ir.dim)
        yb = y[:, s2[ins.i_in2]].reshape(-1, b2.mul, b2.ir.dim)
        w = torch.ones(ins.path_shape, dtype=x.dtype) if w is None else w
        z = "z" if w.ndim == len(ins.path_shape) + 1 else ""
        if ins.connection_mode == "uvw":
            term = torch.einsum(f"{z}uvw,ijk,zui,zvj->zwk", w, C, xa, yb)
        else:
            term = torch.einsum(f"{z}uv,ijk,zui,zvj->zuk", w, C, xa, yb)
        outs[ins.i_out] += ins.alpha * term
    return torch.cat([o.flatten(1) for o in outs], dim=1)


# ----------------------------------------------------------------------------
# Equivariance
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", ["uvw", "uvu"])
@pytest.mark.parametrize("improper", [False, True], ids=["rotation", "improper"])
def test_equivariance_float64(mode, case, improper, gen):
    tp = _layer(mode, case).double()
    x, y = _inputs(tp, 16, gen)
    out = tp(x, y)
    assert out.abs().max() > 0.1  # a zero map would pass trivially
    for R in random_rotation(4, generator=gen):
        R = -R if improper else R
        D1, D2, Do = (
            i.D_from_matrix(R) for i in (tp.irreps_in1, tp.irreps_in2, tp.irreps_out)
        )
        _close(tp(x @ D1.T, y @ D2.T), out @ Do.T)


@pytest.mark.parametrize("mode", ["uvw", "uvu"])
def test_equivariance_float32(mode, gen):
    """Relative error below 1e-5 · (lmax + 1): float32 rounding, growing with l."""
    tp = _layer(mode, "up-to-l4")
    x, y = _inputs(tp, 64, gen, torch.float32)
    R = random_rotation(generator=gen)
    D1, D2, Do = (
        i.D_from_matrix(R).float()
        for i in (tp.irreps_in1, tp.irreps_in2, tp.irreps_out)
    )
    out = tp(x, y)
    err = (tp(x @ D1.T, y @ D2.T) - out @ Do.T).abs().max()
    assert err <= 1e-5 * (tp.irreps_out.lmax + 1) * out.abs().max()


# ----------------------------------------------------------------------------
# The engine against the formula; weights
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", ["uvw", "uvu"])
@pytest.mark.parametrize("irrep_normalization", ["component", "norm"])
@pytest.mark.parametrize("path_normalization", ["element", "path"])
def test_fused_engine_matches_the_formula(
    mode, case, irrep_normalization, path_normalization, gen
):
    tp = _layer(
        mode,
        case,
        irrep_normalization=irrep_normalization,
        path_normalization=path_normalization,
    ).double()
    x, y = _inputs(tp, 9, gen)
    _close(tp(x, y), _naive(tp, x, y))


@pytest.mark.parametrize("mode", ["uvw", "uvu"])
def test_per_sample_weights(mode, gen):
    """shared_weights=False: each sample uses its own row of weights."""
    tp = _layer(mode, "up-to-l2", shared_weights=False).double()
    assert tp.weight is None
    x, y = _inputs(tp, 5, gen)
    w = torch.randn(5, tp.weight_numel, dtype=torch.float64, generator=gen)
    out = tp(x, y, w)
    _close(out, _naive(tp, x, y, w))
    shared = _layer(mode, "up-to-l2", internal_weights=False).double()
    for b in range(5):
        _close(out[b], shared(x[b], y[b], w[b]))


def test_paths_without_weights(gen):
    tp = TensorProduct(
        "2x1o", "1x1o", "2x0e + 2x1e", [(0, 0, 0, "uvu", False), (0, 0, 1, "uvu", True)]
    ).double()
    assert tp.weight_numel == 2
    x, y = _inputs(tp, 4, gen)
    _close(tp(x, y), _naive(tp, x, y))
    # 1o x 1o -> 0e without weight is the scaled dot product of each copy
    dots = (x.view(4, 2, 3) * y.view(4, 1, 3)).sum(-1) / math.sqrt(3)
    _close(tp(x, y)[:, :2], dots)


def test_broadcasting_batch_axes(gen):
    tp = _layer("uvw", "scalars-vectors").double()
    x = torch.randn(3, 1, tp.irreps_in1.dim, dtype=torch.float64, generator=gen)
    y = torch.randn(1, 4, tp.irreps_in2.dim, dtype=torch.float64, generator=gen)
    out = tp(x, y)
    assert out.shape == (3, 4, tp.irreps_out.dim)
    _close(out[2, 1], tp(x[2, 0], y[0, 1]))


def test_weight_layout_is_row_major_per_path():
    tp = FullyConnectedTensorProduct("2x0e", "3x0e", "4x0e")
    assert tp.weight_numel == 2 * 3 * 4
    (view,) = tp.weight_views()
    assert view.shape == (2, 3, 4)
    assert view[1, 2, 3] == tp.weight[1 * 12 + 2 * 4 + 3]


def test_float32_layer_keeps_float64_accuracy_after_double(gen):
    """The coefficients are kept in float64: .double() loses nothing."""
    tp = _layer("uvw", "up-to-l4")  # built under float32
    x, y = _inputs(tp, 4, gen)
    _close(tp.double()(x, y), _naive(tp, x, y))


def test_gradients(gen):
    tp = _layer("uvu", "scalars-vectors", shared_weights=False).double()
    x, y = _inputs(tp, 3, gen)
    w = torch.randn(3, tp.weight_numel, dtype=torch.float64, generator=gen)
    inputs = tuple(t.requires_grad_() for t in (x, y, w))
    assert torch.autograd.gradcheck(tp, inputs)


# ----------------------------------------------------------------------------
# The block engine (shared uvw weights) against the group engine
# ----------------------------------------------------------------------------

EXACT = 1e-12


def _engines(tp: TensorProduct, x, y):
    """``(block engine, group engine)`` outputs on ``[z, dim]`` inputs."""
    w = tp.weight
    return _BlockEngine.apply(x, y, w, tp), tp._contract(x, y, w)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("irrep_normalization", ["component", "norm"])
@pytest.mark.parametrize("path_normalization", ["element", "path"])
def test_block_engine_equals_group_engine(
    case, irrep_normalization, path_normalization, gen
):
    tp = _layer(
        "uvw",
        case,
        irrep_normalization=irrep_normalization,
        path_normalization=path_normalization,
    ).double()
    assert tp._use_blocks
    x, y = _inputs(tp, 7, gen)
    with torch.no_grad():
        blocks, groups = _engines(tp, x, y)
        _close(blocks, groups, EXACT)
        _close(tp(x, y), _naive(tp, x, y), EXACT)


def test_block_engine_meets_both_sides():
    """The weights meet ``x`` in some paths and ``y`` in others: both branches
    of the block engine are covered by the equality tests above."""
    sides = {
        path.side
        for case in CASES
        for block in _layer("uvw", case)._block_plan
        for path in block.paths
    }
    assert sides == {0, 1}


def test_block_engine_paths_without_weights(gen):
    tp = TensorProduct(
        "2x1o + 1x2e",
        "1x1o",
        "2x0e + 3x1e + 2x1o",
        [(0, 0, 0, "uvw", False), (0, 0, 1, "uvw", True), (1, 0, 2, "uvw", False)],
    ).double()
    assert tp._use_blocks
    x, y = _inputs(tp, 5, gen)
    leaves = [x.requires_grad_(), y.requires_grad_(), tp.weight]
    grad_out = torch.randn(5, tp.irreps_out.dim, dtype=torch.float64, generator=gen)
    outs = _engines(tp, x, y)
    _close(outs[0], _naive(tp, x, y), EXACT)
    grads = [torch.autograd.grad((out * grad_out).sum(), leaves) for out in outs]
    for g_blocks, g_groups in zip(*grads, strict=True):
        _close(g_blocks, g_groups, EXACT)


def test_block_engine_without_any_weights(gen):
    """No path has weights: the empty weight vector's dtype does not matter."""
    tp = TensorProduct(
        "2x1o",
        "1x1o",
        "1x0e + 1x2e",
        [(0, 0, 0, "uvw", False), (0, 0, 1, "uvw", False)],
    )
    assert tp.weight_numel == 0 and tp._use_blocks
    x, y = _inputs(tp, 4, gen)  # float64; the layer was built under float32
    leaves = [x.requires_grad_(), y.requires_grad_()]
    out = tp(x, y)
    _close(out, _naive(tp, x, y), EXACT)
    grads = torch.autograd.grad(out.sum(), leaves)
    reference = torch.autograd.grad(
        tp._contract(x, y, tp._get_weight(None)).sum(), leaves
    )
    for a, b in zip(grads, reference, strict=True):
        _close(a, b, EXACT)


def test_block_engine_unreached_output_block_is_zero(gen):
    """An output block that no path reaches is exactly zero (the engine
    writes every other block and fills this one)."""
    tp = FullyConnectedTensorProduct("2x0e + 1x1o", "1x0e", "2x1e + 1x0e + 2x1o")
    tp = tp.double()
    assert tp._use_blocks
    for _ in range(3):  # fresh memory may hold anything
        x, y = _inputs(tp, 9, gen)
        out = tp(x, y)
        assert torch.equal(out[:, :6], torch.zeros(9, 6, dtype=torch.float64))
        _close(out, _naive(tp, x, y), EXACT)


@pytest.mark.parametrize("case", ["scalars-vectors", "up-to-l4", "pseudo"])
def test_block_engine_gradients_equal_group_engine(case, gen):
    tp = _layer("uvw", case).double()
    x, y = _inputs(tp, 5, gen)
    grad_out = torch.randn(5, tp.irreps_out.dim, dtype=torch.float64, generator=gen)
    leaves = [x.requires_grad_(), y.requires_grad_(), tp.weight]
    grads = [
        torch.autograd.grad((out * grad_out).sum(), leaves)
        for out in _engines(tp, x, y)
    ]
    for g_blocks, g_groups in zip(*grads, strict=True):
        _close(g_blocks, g_groups, EXACT)


def test_block_engine_partial_gradients(gen):
    """Only the inputs that ask for a gradient get one."""
    tp = _layer("uvw", "up-to-l2").double()
    x, y = _inputs(tp, 4, gen)
    tp.weight.requires_grad_(False)
    out = tp(x.requires_grad_(), y)
    (gx,) = torch.autograd.grad(out.sum(), [x])
    reference = torch.autograd.grad(tp._contract(x, y, tp.weight).sum(), [x])[0]
    _close(gx, reference, EXACT)


def test_block_engine_gradcheck_and_second_derivatives(gen):
    """First derivatives by finite differences; the backward is differentiable
    (``create_graph``), so second derivatives too."""
    tp = _layer("uvw", "scalars-vectors").double()
    x, y = _inputs(tp, 3, gen)
    inputs = (x.requires_grad_(), y.requires_grad_(), tp.weight)
    assert torch.autograd.gradcheck(lambda *t: _BlockEngine.apply(*t, tp), inputs)
    assert torch.autograd.gradgradcheck(lambda *t: _BlockEngine.apply(*t, tp), inputs)


@pytest.mark.parametrize("batch", [0, 1, 6, 7, 10], ids=lambda b: f"batch{b}")
def test_block_engine_chunks(batch, gen, monkeypatch):
    """Chunks of 3 samples: exact multiples, a short last chunk, empty batch;
    forward and backward."""
    tp = _layer("uvw", "up-to-l2").double()
    budget = 3 * 8 * tp._block_floats  # 3 float64 samples per chunk
    monkeypatch.setitem(tpm.BLOCK_ENGINE_CHUNK_BYTES, "cpu", budget)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert tp._chunk_size(torch.zeros((), dtype=torch.float64)) == 3
    x, y = _inputs(tp, batch, gen)
    leaves = [x.requires_grad_(), y.requires_grad_(), tp.weight]
    out = tp(x, y)
    reference = tp._contract(x, y, tp.weight)
    assert out.shape == reference.shape == (batch, tp.irreps_out.dim)
    torch.testing.assert_close(out, reference, rtol=EXACT, atol=EXACT)
    grad_out = torch.randn(out.shape, dtype=torch.float64, generator=gen)
    ours = torch.autograd.grad((out * grad_out).sum(), leaves)
    theirs = torch.autograd.grad((reference * grad_out).sum(), leaves)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=EXACT, atol=EXACT)


def test_engine_choice(gen, monkeypatch):
    """The block engine for shared uvw weights, with or without gradients;
    the group engine everywhere else."""
    tp = _layer("uvw", "up-to-l2").double()
    calls = []
    apply = _BlockEngine.apply
    monkeypatch.setattr(_BlockEngine, "apply", lambda *a: calls.append(1) or apply(*a))
    x, y = _inputs(tp, 4, gen)
    tp(x, y)  # the weights require gradients
    with torch.no_grad():
        tp(x, y)
    assert calls == [1, 1]
    assert not _layer("uvw", "up-to-l2", shared_weights=False)._use_blocks
    assert not _layer("uvu", "up-to-l2")._use_blocks
    big = FullyConnectedTensorProduct("64x1o + 64x2e", "64x1o + 64x2e", "64x2e")
    assert not big._use_blocks  # its spread matrices would be too large


# ----------------------------------------------------------------------------
# Algebra: bilinearity, selection rules, parity, normalisation
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["uvw", "uvu"])
def test_bilinear(mode, gen):
    tp = _layer(mode, "up-to-l2").double()
    x1, y1 = _inputs(tp, 6, gen)
    x2, y2 = _inputs(tp, 6, gen)
    a, b = 0.7, -1.3
    _close(tp(a * x1 + b * x2, y1), a * tp(x1, y1) + b * tp(x2, y1))
    _close(tp(x1, a * y1 + b * y2), a * tp(x1, y1) + b * tp(x1, y2))
    w = tp.weight.detach()
    _close(tp(x1, y1, 2.5 * w), 2.5 * tp(x1, y1))


def test_fully_connected_paths_obey_selection_rules():
    tp = FullyConnectedTensorProduct("1x1o + 1x2e", "1x1o", "1x0e + 1x1e + 1x1o + 1x3o")
    paths = {
        (str(tp.irreps_in1[i.i_in1].ir), str(tp.irreps_out[i.i_out].ir))
        for i in tp.instructions
    }
    # 1o x 1o -> 0e, 1e; 2e x 1o -> 1o, 3o (2o is absent from the output)
    assert paths == {("1o", "0e"), ("1o", "1e"), ("2e", "1o"), ("2e", "3o")}


@pytest.mark.parametrize(
    "path",
    [("1x1o", "1x1o", "1x1o"), ("1x0e", "1x1o", "1x2o"), ("1x2e", "1x0e", "1x2o")],
    ids=["parity", "triangle", "parity-scalar"],
)
def test_forbidden_paths_are_rejected(path):
    with pytest.raises(ValueError, match="selection rule"):
        TensorProduct(*path, [(0, 0, 0, "uvw", True)])


def test_unsupported_mode_and_bad_inputs():
    with pytest.raises(NotImplementedError, match="not supported"):
        TensorProduct("1x0e", "1x0e", "1x0e", [(0, 0, 0, "uuu", True)])
    with pytest.raises(ValueError, match="uvu"):
        TensorProduct("2x0e", "1x0e", "3x0e", [(0, 0, 0, "uvu", True)])
    tp = FullyConnectedTensorProduct("1x0e", "1x1o", "1x1o")
    with pytest.raises(ValueError, match=r"x must be \[\.\.\., 1\]"):
        tp(torch.randn(2, 3), torch.randn(2, 3))
    with pytest.raises(ValueError, match="shared weights"):
        tp(torch.randn(2, 1), torch.randn(2, 3), torch.randn(2, 1))


@pytest.mark.parametrize("path_normalization", ["element", "path"])
def test_normalisation_constants(path_normalization):
    """α² = (2 l3 + 1) / fan-in, e3nn's formula, on a hand-worked example.

    Output 0e gets two paths: 2x0e ⊗ 3x0e (fan-in 6) and 2x1o ⊗ 1x1o (fan-in 2).
    """
    tp = FullyConnectedTensorProduct(
        "2x0e + 2x1o", "3x0e + 1x1o", "1x0e", path_normalization=path_normalization
    )
    alphas = sorted(round(i.alpha**2, 12) for i in tp.instructions)
    if path_normalization == "element":
        assert alphas == [round(1 / 8, 12)] * 2
    else:
        assert alphas == sorted([round(1 / 12, 12), round(1 / 4, 12)])


@pytest.mark.parametrize("irrep_normalization", ["component", "norm"])
def test_output_variance_is_normalised(irrep_normalization, gen):
    """With unit-variance inputs and weights the output has unit second moment.

    "component": E[out_k²] = 1 for every component; "norm": inputs with
    E|x_irrep|² = 1 give E|out_irrep|² = 1. Monte Carlo over 4000 samples and
    20 weight draws: the estimate's relative standard error is a few percent,
    so the tolerance is 15 %.
    """
    in1, in2, out = "4x0e + 4x1o + 4x2e", "2x0e + 2x1o + 2x2e", "3x0e + 3x1o + 3x2e"
    moments = []
    for _ in range(20):
        tp = FullyConnectedTensorProduct(
            in1, in2, out, irrep_normalization=irrep_normalization
        ).double()
        x, y = _inputs(tp, 200, gen)
        if irrep_normalization == "norm":
            x, y = (
                _per_irrep_unit_norm(tp.irreps_in1, x),
                _per_irrep_unit_norm(tp.irreps_in2, y),
            )
        o = tp(x, y)
        if irrep_normalization == "component":
            moments.append((o**2).mean())
        else:
            moments.append(_irrep_norms2(tp.irreps_out, o).mean())
    assert abs(torch.stack(moments).mean().item() - 1) < 0.15


def _per_irrep_unit_norm(irreps: Irreps, x: torch.Tensor) -> torch.Tensor:
    parts = []
    for block, s in zip(irreps, irreps.slices(), strict=True):
        parts.append(
            (
                x[:, s].view(-1, block.mul, block.ir.dim) / math.sqrt(block.ir.dim)
            ).flatten(1)
        )
    return torch.cat(parts, dim=1)


def _irrep_norms2(irreps: Irreps, x: torch.Tensor) -> torch.Tensor:
    parts = []
    for block, s in zip(irreps, irreps.slices(), strict=True):
        parts.append((x[:, s].view(-1, block.mul, block.ir.dim) ** 2).sum(-1))
    return torch.cat(parts, dim=1)


# ----------------------------------------------------------------------------
# Linear
# ----------------------------------------------------------------------------

LINEAR_IN, LINEAR_OUT = "3x0e + 2x1o + 1x1o + 2x2e + 1x0o", "2x0e + 3x1o + 1x1e + 2x2e"


@pytest.mark.parametrize("improper", [False, True], ids=["rotation", "improper"])
def test_linear_is_equivariant(improper, gen):
    lin = Linear(LINEAR_IN, LINEAR_OUT).double()
    x = torch.randn(8, lin.irreps_in.dim, dtype=torch.float64, generator=gen)
    R = random_rotation(generator=gen)
    R = -R if improper else R
    out = lin(x)
    assert out.abs().max() > 0.1
    D_in, D_out = lin.irreps_in.D_from_matrix(R), lin.irreps_out.D_from_matrix(R)
    _close(lin(x @ D_in.T), out @ D_out.T)
    # 1e has no input copies: its block is zero
    assert lin(x)[:, 11:14].abs().max() == 0


@pytest.mark.parametrize("path_normalization", ["element", "path"])
def test_linear_equals_the_product_with_a_constant_scalar(path_normalization, gen):
    """Linear(x) = FullyConnectedTensorProduct(x, 1) under the same weights."""
    lin = Linear(LINEAR_IN, LINEAR_OUT, path_normalization=path_normalization)
    tp = FullyConnectedTensorProduct(
        LINEAR_IN, "0e", LINEAR_OUT, path_normalization=path_normalization
    )
    assert lin.weight_numel == tp.weight_numel
    with torch.no_grad():
        tp.weight.copy_(lin.weight)
    lin, tp = lin.double(), tp.double()
    x = torch.randn(6, lin.irreps_in.dim, dtype=torch.float64, generator=gen)
    _close(lin(x), tp(x, torch.ones(6, 1, dtype=torch.float64)))


def test_linear_per_sample_weights(gen):
    lin = Linear(LINEAR_IN, LINEAR_OUT, shared_weights=False).double()
    shared = Linear(LINEAR_IN, LINEAR_OUT, internal_weights=False).double()
    x = torch.randn(4, lin.irreps_in.dim, dtype=torch.float64, generator=gen)
    w = torch.randn(4, lin.weight_numel, dtype=torch.float64, generator=gen)
    out = lin(x, w)
    for b in range(4):
        _close(out[b], shared(x[b], w[b]))
    with pytest.raises(ValueError, match="external weights"):
        lin(x)
