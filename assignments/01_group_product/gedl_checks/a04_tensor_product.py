"""Public checks of assignment 4: generators of so(3), Wigner-D matrices,
Clebsch–Gordan coefficients, spherical harmonics and the tensor product.

Each check takes what the notebook defines and tests properties that every
correct implementation has:

- known values: ``L_a v = e_a × v`` and ``D^1(R) = R`` for ``l = 1``;
  ``C^{110} = I / √3`` and ``C^{111} = ε / √6``; ``Y^1(x) = √3 x̂`` and
  ``Y^l(ŷ) = √(2l + 1) e_{m=0}``; the outputs of one-path tensor products;
- the Lie algebra (commutators, Casimir), orthogonality and the
  homomorphism ``D(R1 R2) = D(R1) D(R2)``;
- equivariance, measured with the notebook's own ``wigner_D``: of the
  coefficients, of the harmonics, and of the layer under rotations and
  improper rotations (parity);
- selection rules, normalisations and bilinearity.

They never compare with a reference implementation. A failed check raises
:class:`CheckFailed` whose message names the property, the size of the error
and a hint; a passed check prints one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from gedl_checks.equivariance import check_equivariance
from gedl_checks.runner import CheckFailed, fail, run

__all__ = [
    "CheckFailed",
    "check_clebsch_gordan",
    "check_so3_generators",
    "check_spherical_harmonics",
    "check_tensor_product",
    "check_wigner_D",
]

_SEED = 20260404
#: float64: matrix exponentials and sums of a few hundred O(1) terms.
_TIGHT = 1e-9

# ----------------------------------------------------------------------------
# Helpers (rotations written here, independently of the notebook)
# ----------------------------------------------------------------------------


def _gen(salt: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(_SEED + salt)


def _randn(*shape: int, salt: int = 0) -> Tensor:
    return torch.randn(*shape, generator=_gen(salt), dtype=torch.float64)


def _axis_rotation(axis: int, angle: Tensor) -> Tensor:
    """Counter-clockwise rotations about axis 0 (x), 1 (y) or 2 (z): [..., 3, 3]."""
    c, s = angle.cos(), angle.sin()
    R = torch.zeros(*angle.shape, 3, 3, dtype=angle.dtype)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., axis, axis] = 1
    R[..., i, i], R[..., j, j] = c, c
    R[..., i, j], R[..., j, i] = -s, s
    return R


def _yxy(alpha: Tensor, beta: Tensor, gamma: Tensor) -> Tensor:
    return _axis_rotation(1, alpha) @ _axis_rotation(0, beta) @ _axis_rotation(1, gamma)


def _angles(R: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Y-X-Y Euler angles of rotation matrices."""
    y = R[..., :, 1]
    beta = torch.acos(y[..., 1].clamp(-1, 1))
    alpha = torch.atan2(y[..., 0], y[..., 2])
    rest = (_axis_rotation(1, alpha) @ _axis_rotation(0, beta)).transpose(-1, -2) @ R
    gamma = torch.atan2(rest[..., 0, 2], rest[..., 0, 0])
    return alpha, beta, gamma


def _rotations(count: int, salt: int) -> Tensor:
    """Haar-random rotations [count, 3, 3], float64."""
    q, r = torch.linalg.qr(_randn(count, 3, 3, salt=salt))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[..., None, :]
    return q * torch.linalg.det(q)[:, None, None]


def _gap(got: Tensor, expected: Tensor) -> float:
    """Largest |difference|, relative to the largest |entry| of ``expected``."""
    scale = max(float(expected.detach().abs().max()), 1e-30)
    return float((got.detach().double() - expected.double()).abs().max()) / scale


def _tensor(what: str, out: Any, shape: tuple, dtype: torch.dtype | None) -> Tensor:
    if not isinstance(out, Tensor):
        fail(f"{what} should return a torch.Tensor, got {type(out).__name__}")
    if out.is_complex():
        fail(
            f"{what} is complex ({out.dtype}): everything here lives in the real "
            "basis; carry complex quantities over with change_of_basis and take "
            "the real part"
        )
    if tuple(out.shape) != tuple(shape):
        fail(f"{what} should have shape {list(shape)}, got {list(out.shape)}")
    if dtype is not None and out.dtype != dtype:
        fail(f"{what} should have dtype {dtype}, got {out.dtype}")
    if not torch.isfinite(out).all():
        fail(f"{what} contains NaN or inf")
    return out


def _D(wigner_D: Callable, l: int, R: Tensor) -> Tensor:
    return wigner_D(l, *_angles(R))


# ----------------------------------------------------------------------------
# Generators
# ----------------------------------------------------------------------------


def check_so3_generators(so3_generators: Callable) -> None:
    """Check ``so3_generators(l)`` -> ``[3, M, M]``."""
    run(
        "so3_generators",
        [
            ("shapes", lambda: _generator_shapes(so3_generators)),
            ("l = 1: cross products", lambda: _generators_l1(so3_generators)),
            ("antisymmetric", lambda: _generators_antisymmetric(so3_generators)),
            ("commutators", lambda: _generators_commute(so3_generators)),
            ("Casimir", lambda: _generators_casimir(so3_generators)),
        ],
    )


def _generator_shapes(so3_generators: Callable) -> None:
    for l in range(4):
        _tensor(
            f"so3_generators({l})", so3_generators(l), (3, 2 * l + 1, 2 * l + 1), None
        )


def _generators_l1(so3_generators: Callable) -> None:
    L = so3_generators(1).double()
    eye = torch.eye(3, dtype=torch.float64)
    cross = torch.stack(
        [torch.linalg.cross(eye[a].expand(3, 3), eye).T for a in range(3)]
    )
    if _gap(L, cross) <= _TIGHT:
        return
    if _gap(L, -cross) <= _TIGHT:
        fail(
            "for l = 1 you return -(v ↦ e_a × v): the rotations turn clockwise. "
            "L_a must generate the counter-clockwise rotation about axis a "
            "(check the signs ±i of the map from J to L)"
        )
    for order in ([0, 2, 1], [2, 1, 0], [1, 0, 2], [1, 2, 0], [2, 0, 1]):
        if _gap(L, cross[order]) <= _TIGHT:
            fail(
                f"for l = 1 your generators are those of the axes {order} (x=0, y=1, "
                "z=2) in the wrong order: L_x = Q^†(-iJ_y)Q, L_y = Q^†(iJ_z)Q, "
                "L_z = Q^†(iJ_x)Q"
            )
    fail(
        "for l = 1 the generators must be the matrices of v ↦ e_a × v in the "
        f"basis (x, y, z): L_x = {cross[0].tolist()}, got {L[0].tolist()}. Is the "
        "change of basis applied as Q^† L Q (not Q L Q^†)?"
    )


def _generators_antisymmetric(so3_generators: Callable) -> None:
    for l in range(5):
        L = so3_generators(l).double()
        if _gap(L.transpose(-1, -2), -L) > _TIGHT:
            fail(f"so3_generators({l}) is not antisymmetric: Lᵀ ≠ -L")


def _generators_commute(so3_generators: Callable) -> None:
    for l in range(1, 5):
        L = so3_generators(l).double()
        for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
            commutator = L[a] @ L[b] - L[b] @ L[a]
            if _gap(commutator, L[c]) > _TIGHT:
                sign = " (it is -L_c: the sign of J_y or of one map is off)"
                fail(
                    f"l = {l}: [L_{'xyz'[a]}, L_{'xyz'[b]}] should be "
                    f"L_{'xyz'[c]}"
                    + (sign if _gap(commutator, -L[c]) <= _TIGHT else "")
                )


def _generators_casimir(so3_generators: Callable) -> None:
    for l in range(5):
        L = so3_generators(l).double()
        casimir = (L @ L).sum(0)
        expected = -l * (l + 1) * torch.eye(2 * l + 1, dtype=torch.float64)
        if _gap(casimir, expected) > _TIGHT and l:
            fail(
                f"l = {l}: L_x² + L_y² + L_z² should be -l(l+1) I = {-l * (l + 1)} I; "
                "check the ladder coefficients sqrt(l(l+1) - m(m+1))"
            )


# ----------------------------------------------------------------------------
# Wigner-D
# ----------------------------------------------------------------------------


def check_wigner_D(wigner_D: Callable) -> None:
    """Check ``wigner_D(l, alpha, beta, gamma)`` -> ``[..., M, M]``."""
    run(
        "wigner_D",
        [
            ("shapes", lambda: _wigner_shapes(wigner_D)),
            ("l = 1: D(R) = R", lambda: _wigner_l1(wigner_D)),
            ("orthogonal", lambda: _wigner_orthogonal(wigner_D)),
            ("homomorphism", lambda: _wigner_homomorphism(wigner_D)),
        ],
    )


def _wigner_shapes(wigner_D: Callable) -> None:
    a, b, c = _randn(3, 4, 2)
    for l in (0, 2):
        _tensor(
            f"wigner_D({l}, [4, 2] angles)",
            wigner_D(l, a, b, c),
            (4, 2, 2 * l + 1, 2 * l + 1),
            torch.float64,
        )
    _tensor(
        "wigner_D(1, float32 angles)",
        wigner_D(1, a.float(), b.float(), c.float()),
        (4, 2, 3, 3),
        torch.float32,
    )


def _wigner_l1(wigner_D: Callable) -> None:
    a, b, c = _randn(3, 6, salt=1)
    got = wigner_D(1, a, b, c).double()
    expected = _yxy(a, b, c)
    if _gap(got, expected) <= _TIGHT:
        return
    mistakes = [
        (expected.transpose(-1, -2), "D is transposed (D(R) = Rᵀ = R⁻¹)"),
        (
            _axis_rotation(0, a) @ _axis_rotation(1, b) @ _axis_rotation(0, c),
            "the Euler axes are swapped: it is R_x(α) R_y(β) R_x(γ), the "
            "convention is R_y(α) R_x(β) R_y(γ)",
        ),
        (
            _axis_rotation(1, c) @ _axis_rotation(0, b) @ _axis_rotation(1, a),
            "the angles are applied in reverse order: exp(γL_y) exp(βL_x) exp(αL_y)",
        ),
        (_yxy(-a, -b, -c), "every angle has the wrong sign"),
    ]
    for candidate, explanation in mistakes:
        if _gap(got, candidate) <= 1e-6:
            fail(f"wigner_D(1, α, β, γ) should be R_y(α) R_x(β) R_y(γ): {explanation}")
    fail(
        "wigner_D(1, α, β, γ) should be the rotation matrix R_y(α) R_x(β) R_y(γ) "
        f"(largest relative error {_gap(got, expected):.3g}); check "
        "so3_generators(1) first"
    )


def _wigner_orthogonal(wigner_D: Callable) -> None:
    a, b, c = _randn(3, 5, salt=2)
    for l in range(5):
        D = wigner_D(l, a, b, c).double()
        eye = torch.eye(2 * l + 1, dtype=torch.float64).expand_as(D)
        if _gap(D @ D.transpose(-1, -2), eye) > _TIGHT:
            fail(f"D^{l} is not orthogonal: D Dᵀ ≠ I")
        if (torch.linalg.det(D) - 1).abs().max() > 1e-6:
            fail(f"det D^{l} should be +1")


def _wigner_homomorphism(wigner_D: Callable) -> None:
    R1, R2 = _rotations(6, salt=3), _rotations(6, salt=4)
    for l in range(5):
        D12 = _D(wigner_D, l, R1 @ R2).double()
        D1D2 = _D(wigner_D, l, R1).double() @ _D(wigner_D, l, R2).double()
        if _gap(D12, D1D2) > _TIGHT:
            fail(
                f"D^{l}(R1 R2) = D^{l}(R1) D^{l}(R2) fails (relative error "
                f"{_gap(D12, D1D2):.3g}): a representation must be a homomorphism"
            )


# ----------------------------------------------------------------------------
# Clebsch–Gordan coefficients
# ----------------------------------------------------------------------------


def _triples(top: int) -> list[tuple[int, int, int]]:
    return [
        (l1, l2, l3)
        for l1 in range(top + 1)
        for l2 in range(top + 1)
        for l3 in range(abs(l1 - l2), min(l1 + l2, top) + 1)
    ]


def check_clebsch_gordan(clebsch_gordan: Callable, wigner_D: Callable) -> None:
    """Check ``clebsch_gordan(l1, l2, l3)`` -> ``[M1, M2, M3]``."""
    run(
        "clebsch_gordan",
        [
            ("shapes", lambda: _cg_shapes(clebsch_gordan)),
            ("known values", lambda: _cg_values(clebsch_gordan)),
            ("norm 1", lambda: _cg_norm(clebsch_gordan)),
            ("equivariance", lambda: _cg_equivariance(clebsch_gordan, wigner_D)),
            ("orthogonality", lambda: _cg_orthogonality(clebsch_gordan)),
        ],
    )


def _cg_shapes(clebsch_gordan: Callable) -> None:
    for l1, l2, l3 in ((0, 0, 0), (1, 2, 3), (2, 1, 1)):
        dims = (2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1)
        _tensor(
            f"clebsch_gordan({l1}, {l2}, {l3})",
            clebsch_gordan(l1, l2, l3),
            dims,
            torch.float64,
        )
    try:
        clebsch_gordan(1, 1, 3)
    except ValueError:
        return
    fail(
        "clebsch_gordan(1, 1, 3) should raise ValueError: 3 > 1 + 1 breaks the "
        "selection rule"
    )


def _cg_values(clebsch_gordan: Callable) -> None:
    eye = torch.eye(3, dtype=torch.float64) / math.sqrt(3)
    got = clebsch_gordan(1, 1, 0)[..., 0]
    if _gap(got, eye) > _TIGHT:
        if _gap(got, -eye) <= _TIGHT:
            fail(
                "clebsch_gordan(1, 1, 0) is -I/√3: the sign convention is "
                "C^{110} = +I/√3"
            )
        fail(
            f"clebsch_gordan(1, 1, 0)[:, :, 0] should be I/√3 (the dot product), "
            f"got {got.tolist()}"
        )
    epsilon = torch.zeros(3, 3, 3, dtype=torch.float64)
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        epsilon[i, j, k], epsilon[j, i, k] = 1, -1
    got = clebsch_gordan(1, 1, 1)
    if _gap(got, epsilon / math.sqrt(6)) > _TIGHT:
        if _gap(got, -epsilon / math.sqrt(6)) <= _TIGHT:
            fail(
                "clebsch_gordan(1, 1, 1) is -ε/√6: the sign convention (e3nn's) "
                "is +ε/√6, C[x, y, z] > 0; check the phase of the complex coefficients"
            )
        fail("clebsch_gordan(1, 1, 1) should be ε_ijk / √6 (the cross product)")


def _cg_norm(clebsch_gordan: Callable) -> None:
    for triple in _triples(3):
        norm = float(clebsch_gordan(*triple).double().norm())
        if abs(norm - 1) > 1e-9:
            fail(f"clebsch_gordan{triple} has Frobenius norm {norm:.6g}; scale it to 1")


def _cg_equivariance(clebsch_gordan: Callable, wigner_D: Callable) -> None:
    R = _rotations(4, salt=5)
    for l1, l2, l3 in _triples(3):
        C = clebsch_gordan(l1, l2, l3).double()
        D1, D2, D3 = (_D(wigner_D, l, R).double() for l in (l1, l2, l3))
        rotated = torch.einsum("ijk,ria,rjb,rkc->rabc", C, D1, D2, D3)
        gap = _gap(rotated, C.expand_as(rotated))
        if gap > _TIGHT:
            real = ""
            if _gap(C.flip(0, 1, 2), C) > _TIGHT:
                real = (
                    "; is it carried to the real basis with Q1, Q2 and conj(Q3), in "
                    "the order m = -l..l?"
                )
            fail(
                f"C^{{{l1}{l2}{l3}}} is not invariant: Σ C[i,j,k] D1[i,a] D2[j,b] "
                f"D3[k,c] differs from C[a,b,c] by {gap:.3g}{real}"
            )


def _cg_orthogonality(clebsch_gordan: Callable) -> None:
    for l1, l2 in ((1, 1), (1, 2), (2, 2)):
        blocks = [
            clebsch_gordan(l1, l2, l3).double()
            for l3 in range(abs(l1 - l2), l1 + l2 + 1)
        ]
        U = torch.cat([C.flatten(0, 1) * math.sqrt(C.shape[-1]) for C in blocks], -1)
        eye = torch.eye(U.shape[0], dtype=torch.float64)
        if _gap(U.T @ U, eye) > _TIGHT:
            fail(
                f"for l1 = {l1}, l2 = {l2}: Σ_ij C^{{l3}}[i,j,k] C^{{l3'}}[i,j,k'] "
                "should be δ_{l3 l3'} δ_{k k'} / (2 l3 + 1)"
            )


# ----------------------------------------------------------------------------
# Spherical harmonics
# ----------------------------------------------------------------------------


def check_spherical_harmonics(
    spherical_harmonics: Callable, wigner_D: Callable
) -> None:
    """Check ``spherical_harmonics(l, x, normalize, normalization)`` -> ``[..., M]``."""
    sh = spherical_harmonics
    run(
        "spherical_harmonics",
        [
            ("shapes", lambda: _sh_shapes(sh)),
            ("known values", lambda: _sh_values(sh)),
            ("normalisation", lambda: _sh_normalisation(sh)),
            ("homogeneous", lambda: _sh_homogeneous(sh)),
            ("equivariance", lambda: _sh_equivariance(sh, wigner_D)),
            ("parity", lambda: _sh_parity(sh)),
        ],
    )


def _sh_shapes(sh: Callable) -> None:
    x = _randn(4, 5, 3)
    for l in (0, 1, 3):
        _tensor(
            f"spherical_harmonics({l}, x [4, 5, 3])",
            sh(l, x),
            (4, 5, 2 * l + 1),
            torch.float64,
        )
    _tensor(
        "spherical_harmonics(2, float32 x)", sh(2, x.float()), (4, 5, 5), torch.float32
    )


def _sh_values(sh: Callable) -> None:
    x = _randn(7, 3, salt=6)
    unit = x / x.norm(dim=-1, keepdim=True)
    got = sh(0, x)
    if _gap(got, torch.ones_like(got)) > _TIGHT:
        fail(
            "spherical_harmonics(0, x) should be 1 everywhere (component normalisation)"
        )
    got = sh(1, x)
    expected = math.sqrt(3) * unit
    if _gap(got, expected) > _TIGHT:
        if _gap(got, -expected) <= _TIGHT:
            fail(
                "Y^1(x) is -√3 x̂: the sign is off for odd l; Y^l(ŷ) has a "
                "positive m = 0 entry"
            )
        if _gap(got, expected.flip(-1)) <= _TIGHT:
            fail(
                "Y^1(x) is √3 (z, y, x): the m order is reversed; it runs "
                "m = -l..l and Y^1 = √3 (x, y, z)"
            )
        fail(
            f"Y^1(x) should be √3 x / |x| = {expected[0].tolist()}, "
            f"got {got[0].tolist()}"
        )
    y_hat = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    for l in range(5):
        expected = torch.zeros(2 * l + 1, dtype=torch.float64)
        expected[l] = math.sqrt(2 * l + 1)
        got = sh(l, y_hat)
        if _gap(got, expected) > _TIGHT:
            hint = (
                " (it is the negative: fix the sign of the step)"
                if _gap(got, -expected) <= _TIGHT
                else ""
            )
            fail(
                f"Y^{l}(ŷ) should be √{2 * l + 1} e_(m=0) = {expected.tolist()}, "
                f"got {got.tolist()}{hint}"
            )


def _sh_normalisation(sh: Callable) -> None:
    x = _randn(9, 3, salt=7)
    for l in range(5):
        expected = {
            "component": math.sqrt(2 * l + 1),
            "norm": 1.0,
            "integral": math.sqrt((2 * l + 1) / (4 * math.pi)),
        }
        for name, value in expected.items():
            norms = sh(l, x, True, name).double().norm(dim=-1)
            if (norms - value).abs().max() > 1e-9 * max(value, 1):
                fail(
                    f"|Y^{l}(x)| with normalization={name!r} should be {value:.6g} on "
                    f"the unit sphere, got {float(norms[0]):.6g}"
                )


def _sh_homogeneous(sh: Callable) -> None:
    x = _randn(6, 3, salt=8)
    r = x.norm(dim=-1, keepdim=True)
    for l in range(5):
        got = sh(l, x, False)
        expected = r**l * sh(l, x, True)
        if _gap(got, expected) > _TIGHT:
            fail(
                f"with normalize=False, Y^{l}(x) should be the polynomial |x|^{l} "
                f"Y^{l}(x/|x|); do not project x on the sphere then"
            )


def _sh_equivariance(sh: Callable, wigner_D: Callable) -> None:
    R = _rotations(5, salt=9)
    x = _randn(8, 3, salt=10)
    for l in range(5):
        D = _D(wigner_D, l, R).double()
        report = check_equivariance(
            lambda points, l=l: sh(l, points),
            range(len(R)),
            lambda g, points: points @ R[g].T,
            lambda g, y, D=D: y @ D[g].T,
            x,
            tolerance=_TIGHT,
            labels=[f"R{g}" for g in range(len(R))],
        )
        if not report.ok:
            fail(
                report.message(f"spherical_harmonics({l}, x) with your wigner_D ({l})")
            )


def _sh_parity(sh: Callable) -> None:
    x = _randn(6, 3, salt=11)
    for l in range(5):
        if _gap(sh(l, -x), (-1) ** l * sh(l, x)) > _TIGHT:
            fail(
                f"Y^{l}(-x) should be (-1)^{l} Y^{l}(x): the harmonics have "
                "parity (-1)^l"
            )


# ----------------------------------------------------------------------------
# The tensor product
# ----------------------------------------------------------------------------


def _parse(irreps: str) -> list[tuple[int, int, int]]:
    blocks = []
    for term in irreps.replace(" ", "").split("+"):
        mul, _, ir = term.rpartition("x")
        blocks.append((int(mul or 1), int(ir[:-1]), 1 if ir[-1] == "e" else -1))
    return blocks


def _irreps_D(wigner_D: Callable, irreps: str, Q: Tensor) -> Tensor:
    """The block-diagonal matrix of the orthogonal matrix Q on these irreps."""
    sign = float(torch.linalg.det(Q).sign())
    blocks = []
    for mul, l, p in _parse(irreps):
        D = _D(wigner_D, l, Q * sign).double() * (p if sign < 0 else 1)
        blocks += [D] * mul
    return torch.block_diag(*blocks)


def _paths(irreps1: str, irreps2: str, irreps_out: str, parity: bool = True) -> int:
    return sum(
        m1 * m2 * m3
        for m1, l1, p1 in _parse(irreps1)
        for m2, l2, p2 in _parse(irreps2)
        for m3, l3, p3 in _parse(irreps_out)
        if abs(l1 - l2) <= l3 <= l1 + l2 and (p3 == p1 * p2 or not parity)
    )


def _layer(cls: Callable, irreps1: str, irreps2: str, irreps_out: str) -> Any:
    torch.manual_seed(_SEED)
    layer = cls(irreps1, irreps2, irreps_out).double()
    weight = getattr(layer, "weight", None)
    if not isinstance(weight, torch.nn.Parameter) or weight.ndim != 1:
        fail(
            "the layer should hold its weights as one nn.Parameter `weight` "
            "[weight_numel]"
        )
    return layer


def _set_weight(layer: Any, value: Tensor) -> None:
    with torch.no_grad():
        layer.weight.copy_(value)


def check_tensor_product(cls: Callable, wigner_D: Callable) -> None:
    """Check ``FullyConnectedTensorProduct(irreps_in1, irreps_in2, irreps_out)``."""
    run(
        "FullyConnectedTensorProduct",
        [
            ("selection rules", lambda: _tp_paths(cls)),
            ("known values", lambda: _tp_values(cls)),
            ("normalisation", lambda: _tp_normalisation(cls)),
            ("bilinear", lambda: _tp_bilinear(cls)),
            ("equivariance", lambda: _tp_equivariance(cls, wigner_D)),
            ("gradients", lambda: _tp_gradients(cls)),
        ],
    )


_IN1, _IN2 = "2x0e + 1x1o + 1x2e", "1x0e + 1x1o + 1x1e"
_OUT = "1x0e + 1x0o + 2x1o + 1x1e + 1x2e + 1x2o + 1x3o"


def _tp_paths(cls: Callable) -> None:
    layer = _layer(cls, _IN1, _IN2, _OUT)
    got = int(layer.weight.numel())
    expected = _paths(_IN1, _IN2, _OUT)
    if got == expected:
        return
    if got == _paths(_IN1, _IN2, _OUT, parity=False):
        fail(
            f"{_IN1} ⊗ {_IN2} -> {_OUT} has {got} weights, expected {expected}: "
            "parity is ignored; a path needs p_out = p1 · p2 as well as "
            "|l1 - l2| <= l_out <= l1 + l2"
        )
    fail(
        f"{_IN1} ⊗ {_IN2} -> {_OUT} has {got} weights, expected {expected} "
        "(mul1 · mul2 · mul_out for every path with |l1 - l2| <= l_out <= l1 + l2 "
        "and p_out = p1 · p2)"
    )


def _tp_values(cls: Callable) -> None:
    x, y = _randn(5, 3, salt=12), _randn(5, 3, salt=13)
    layer = _layer(cls, "1x1o", "1x1o", "1x0e")
    _set_weight(layer, torch.tensor([2.0], dtype=torch.float64))
    got = _tensor("1x1o ⊗ 1x1o -> 1x0e", layer(x, y), (5, 1), torch.float64)
    expected = 2 * (x * y).sum(-1, keepdim=True) / math.sqrt(3)
    if _gap(got, expected) > _TIGHT:
        fail(
            "with weight w = 2, 1x1o ⊗ 1x1o -> 1x0e should be w (x · y) / √3 "
            f"(α = 1, C^{{110}} = I/√3): expected {expected[0].item():.6g}, got "
            f"{got[0].item():.6g}"
        )
    layer = _layer(cls, "1x1o", "1x1o", "1x1e")
    _set_weight(layer, torch.tensor([2.0], dtype=torch.float64))
    got = _tensor("1x1o ⊗ 1x1o -> 1x1e", layer(x, y), (5, 3), torch.float64)
    expected = 2 * torch.linalg.cross(x, y) / math.sqrt(2)
    if _gap(got, expected) > _TIGHT:
        hint = ""
        if _gap(got, expected / math.sqrt(3)) <= _TIGHT:
            hint = ": the factor sqrt(2 l_out + 1) = √3 is missing from α"
        fail(
            "with weight w = 2, 1x1o ⊗ 1x1o -> 1x1e should be w (x × y) / √2 "
            f"(α = √3, C^{{111}} = ε/√6){hint}"
        )


def _tp_normalisation(cls: Callable) -> None:
    """Two paths into one output block: α² = (2 l_out + 1) / Σ mul1 · mul2."""
    layer = _layer(cls, "3x0e + 1x1o", "1x0e + 1x1o", "1x0e")
    weight = torch.tensor([1.0, 0.5, -1.0, 2.0], dtype=torch.float64)  # 3 + 1 paths
    _set_weight(layer, weight)
    x, y = _randn(4, 6, salt=14), _randn(4, 4, salt=15)
    scalars = (x[:, :3] @ weight[:3])[:, None] * y[:, :1]
    dots = weight[3] * (x[:, 3:] * y[:, 1:]).sum(-1, keepdim=True) / math.sqrt(3)
    expected = (scalars + dots) / 2  # fan-in 3 · 1 + 1 · 1 = 4
    got = _tensor(
        "3x0e + 1x1o ⊗ 1x0e + 1x1o -> 1x0e", layer(x, y), (4, 1), torch.float64
    )
    if _gap(got, expected) <= _TIGHT:
        return
    if _gap(got, 2 * expected) <= _TIGHT:
        fail(
            "two paths (fan-in 3 · 1 and 1 · 1) into one 0e block: the output is "
            "2× too large; divide by sqrt(Σ over ALL paths into the block of "
            "mul1 · mul2) = √4"
        )
    fail(
        "3x0e + 1x1o ⊗ 1x0e + 1x1o -> 1x0e with weights [1, 0.5, -1 | 2] is wrong: "
        "α = sqrt((2 l_out + 1) / Σ_paths mul1 mul2) = 1/2 for both paths, and the "
        "weights are [mul1, mul2, mul_out] per path, in path order"
    )


def _tp_bilinear(cls: Callable) -> None:
    layer = _layer(cls, _IN1, _IN2, _OUT)
    x1, x2 = _randn(3, 10, salt=16), _randn(3, 10, salt=17)
    y1, y2 = _randn(3, 7, salt=18), _randn(3, 7, salt=19)
    with torch.no_grad():
        got = layer(2 * x1 - x2, y1 + 3 * y2)
        expected = (
            2 * layer(x1, y1) + 6 * layer(x1, y2) - layer(x2, y1) - 3 * layer(x2, y2)
        )
    _tensor("layer(x [3, 10], y [3, 7])", got, (3, 28), torch.float64)
    if _gap(got, expected) > _TIGHT:
        fail(
            "the layer must be linear in x and in y (a bilinear map, no bias, "
            "no nonlinearity)"
        )


def _tp_equivariance(cls: Callable, wigner_D: Callable) -> None:
    layer = _layer(cls, _IN1, _IN2, _OUT)
    R = _rotations(3, salt=20)
    Q = torch.cat([R, -R[:2]])  # rotations, then improper rotations
    labels = ["R0", "R1", "R2", "-R0", "-R1"]
    D = [[_irreps_D(wigner_D, irreps, q) for q in Q] for irreps in (_IN1, _IN2, _OUT)]
    x, y = _randn(4, 10, salt=21), _randn(4, 7, salt=22)
    with torch.no_grad():
        report = check_equivariance(
            lambda xy: layer(*xy),
            range(len(Q)),
            lambda g, xy: (xy[0] @ D[0][g].T, xy[1] @ D[1][g].T),
            lambda g, out: out @ D[2][g].T,
            (x, y),
            tolerance=_TIGHT,
            x_other=(_randn(4, 10, salt=23), y),
            labels=labels,
        )
    if report.ok:
        return
    improper = report.failures and min(report.failures) >= 3
    hint = (
        " Only the improper rotations fail: a path must respect parity, "
        "p_out = p1 · p2."
        if improper
        else ""
    )
    fail(report.message("FullyConnectedTensorProduct") + hint)


def _tp_gradients(cls: Callable) -> None:
    layer = _layer(cls, _IN1, _IN2, _OUT)
    x = _randn(2, 10, salt=24).requires_grad_()
    layer(x, _randn(2, 7, salt=25)).square().sum().backward()
    if layer.weight.grad is None or not layer.weight.grad.abs().sum() > 0:
        fail("no gradient reached `weight`: build the output from self.weight")
    if x.grad is None or not x.grad.abs().sum() > 0:
        fail("no gradient reached the input x")
