"""Public checks of assignment 3: irreps, the Fourier transform on C_N, the
steerable kernel basis and the steerable convolution.

Each check takes what the notebook defines and tests properties that every
correct implementation has:

- a few known values (ψ_1(90°), the Fourier coefficients of a delta on C_4,
  the basis sizes of escnn's construction for a 5 × 5 kernel);
- homomorphism and orthogonality of the irreps; Plancherel, round trip and
  the block-diagonalisation of the regular representation;
- the kernel constraint ``k(g x) = ρ_out(g) k(x) ρ_in(g)⁻¹`` at random points
  and angles, built with the notebook's own ``irrep``, and exactly on the
  pixel grid for 90°; linear independence of the basis;
- the layer: parameters, one ``F.conv2d`` call, the kernel as a combination
  of the basis, exact rot90 equivariance.

They never compare with a reference implementation. A failed check raises
:class:`CheckFailed` whose message names the property, the size of the error
and a hint; a passed check prints one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from gedl_checks.a02_conv import _CountConv2d, _expect_tensor, _fail, _gap, _run
from gedl_checks.equivariance import check_equivariance
from gedl_checks.runner import CheckFailed

__all__ = [
    "CheckFailed",
    "check_fourier_transform",
    "check_harmonic_basis",
    "check_inverse_fourier_transform",
    "check_irrep",
    "check_pair_basis",
    "check_steerable_basis",
    "check_steerable_convolution",
]

_SEED = 20240903
#: float64 identities between a few trigonometric terms.
_TIGHT = 1e-10
#: escnn's basis sizes for SO(2), k = 5: 0→0, 0→1, 1→1, 1→2, 2→2, 2→3.
_SIZES_K5 = {(0, 0): 3, (0, 1): 4, (1, 1): 10, (1, 2): 4, (2, 2): 6, (2, 3): 4}

_ALIAS_HINT = (
    "for C_N every frequency a ≡ n ∓ m (mod N) with |a| <= L solves the "
    "constraint (aliasing), e.g. a = n - m - N"
)
_SUM_HINT = (
    "a 2 × 2 pair also has the sum-frequency solutions R(bφ)M and R(bφ)JM "
    "with b ≡ n + m"
)
_SIGN_HINT = (
    "check the frequency: a ≡ n - m (output minus input), not m - n, and "
    "b ≡ n + m; the elements are cos(aφ) S + sin(aφ) J S"
)
_ORIGIN_HINT = (
    "at the origin (r = 0) φ is undefined: use the average of each angular "
    "solution over the circle (0 for frequency a ≠ 0)"
)
_REGULAR_HINT = (
    "a regular field needs the change of basis Q = Fᵀ on the irreps basis: "
    "Q_out K Q_inᵀ, with Q from inverse_fourier_transform"
)


def _generator(salt: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(_SEED + salt)


def _randn(*shape: int, salt: int = 0) -> Tensor:
    return torch.randn(*shape, generator=_generator(salt), dtype=torch.float64)


def _angles(group_order: int | None, salt: int = 0) -> Tensor:
    """Random angles (SO(2)) or all elements of C_N, float64."""
    if group_order is None:
        u = torch.rand(5, generator=_generator(salt), dtype=torch.float64)
        return u * 2 * math.pi
    return torch.arange(group_order, dtype=torch.float64) * (2 * math.pi / group_order)


def _label(group_order: int | None) -> str:
    return "SO(2)" if group_order is None else f"C_{group_order}"


def _rotation(alpha: Tensor) -> Tensor:
    """``R(α)`` for angles ``[...]`` -> ``[..., 2, 2]``."""
    c, s = torch.cos(alpha), torch.sin(alpha)
    return torch.stack((torch.stack((c, -s), -1), torch.stack((s, c), -1)), -2)


def _rotate_points(theta: Tensor, points: Tensor) -> Tensor:
    """Points ``[..., 2]`` rotated by every angle ``[T]`` -> ``[T, ..., 2]``."""
    matrix = _rotation(theta)  # [T, 2, 2]
    return torch.einsum("tij,...j->t...i", matrix, points)


# ----------------------------------------------------------------------------
# irrep
# ----------------------------------------------------------------------------


def check_irrep(irrep: Callable) -> None:
    """Check ``irrep(k, theta, group_order)`` -> ``[..., d, d]``."""
    _run(
        "irrep",
        [
            ("shapes", lambda: _check_irrep_shapes(irrep)),
            ("known values", lambda: _check_irrep_values(irrep)),
            ("homomorphism", lambda: _check_irrep_homomorphism(irrep)),
            ("orthogonal", lambda: _check_irrep_orthogonal(irrep)),
        ],
    )


def _check_irrep_shapes(irrep: Callable) -> None:
    theta = _randn(3, 4)
    for k, order, d in ((0, None, 1), (2, None, 2), (1, 4, 2), (2, 4, 1), (1, 3, 2)):
        _expect_tensor(
            f"irrep({k}, theta [3, 4], group_order={order})",
            irrep(k, theta, order),
            (3, 4, d, d),
            torch.float64,
            hint="d = 1 for k = 0 and for k = N / 2, else 2; keep theta's dtype",
        )


def _check_irrep_values(irrep: Callable) -> None:
    quarter = torch.tensor(math.pi / 2, dtype=torch.float64)
    expected = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    got = irrep(1, quarter, None)
    if _gap(got, expected) > _TIGHT:
        if _gap(got, expected.T) <= _TIGHT:
            _fail(
                "irrep(1, π/2) is [[0, 1], [-1, 0]], the clockwise rotation: it "
                "is transposed; ψ_k(θ) = [[cos kθ, -sin kθ], [sin kθ, cos kθ]]"
            )
        _fail(f"irrep(1, π/2) should be [[0, -1], [1, 0]], got {got.tolist()}")
    got = irrep(2, torch.tensor(math.pi / 4, dtype=torch.float64), None)
    if _gap(got, expected) > _TIGHT:
        _fail(
            "irrep(2, π/4) should be the rotation by 2 · 45° = 90°, "
            f"[[0, -1], [1, 0]], got {got.tolist()}: multiply the angle by k"
        )
    theta = torch.arange(4, dtype=torch.float64) * (math.pi / 2)
    got = irrep(2, theta, 4).reshape(-1)
    sign = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    if _gap(got, sign) > _TIGHT:
        _fail(
            f"irrep(2, θ_j, group_order=4) should be (-1)^j = [1, -1, 1, -1] for "
            f"j = 0..3 (the 1-dimensional irrep cos(Nθ/2)), got {got.tolist()}"
        )


def _check_irrep_homomorphism(irrep: Callable) -> None:
    a, b = _randn(6, salt=1), _randn(6, salt=2)
    for k, order in ((0, None), (1, None), (3, None), (1, 5), (2, 5), (1, 6)):
        if order is not None:
            a = torch.round(a * order / (2 * math.pi)) * (2 * math.pi / order)
            b = torch.round(b * order / (2 * math.pi)) * (2 * math.pi / order)
        product = irrep(k, a, order) @ irrep(k, b, order)
        gap = _gap(irrep(k, a + b, order), product)
        if gap > _TIGHT:
            _fail(
                f"ψ_{k}(a + b) = ψ_{k}(a) ψ_{k}(b) fails for {_label(order)} "
                f"(relative error {gap:.3g}); a representation must be a "
                "homomorphism"
            )


def _check_irrep_orthogonal(irrep: Callable) -> None:
    theta = _randn(7, salt=3)
    for k in (1, 2, 5):
        rho = irrep(k, theta, None)
        gram = rho @ rho.transpose(-1, -2)
        eye = torch.eye(2, dtype=torch.float64).expand_as(gram)
        if _gap(gram, eye) > _TIGHT:
            _fail(f"ψ_{k}(θ) is not orthogonal: ψ ψᵀ ≠ I")


# ----------------------------------------------------------------------------
# Fourier transform
# ----------------------------------------------------------------------------


def check_fourier_transform(fourier_transform: Callable) -> None:
    """Check ``fourier_transform(f, N)`` -> ``[..., N]``."""
    _run(
        "fourier_transform",
        [
            ("shapes", lambda: _check_fourier_shapes(fourier_transform)),
            ("known values", lambda: _check_fourier_values(fourier_transform)),
            ("Plancherel", lambda: _check_plancherel(fourier_transform)),
            (
                "block-diagonalises the regular representation",
                lambda: _check_block_diagonal(fourier_transform),
            ),
        ],
    )


def _check_fourier_shapes(fourier_transform: Callable) -> None:
    for n in (1, 4, 5):
        _expect_tensor(
            f"fourier_transform(f [2, 3, {n}], {n})",
            fourier_transform(_randn(2, 3, n), n),
            (2, 3, n),
            torch.float64,
            hint="transform the last axis and keep the leading ones",
        )


def _check_fourier_values(fourier_transform: Callable) -> None:
    delta = torch.eye(4, dtype=torch.float64)
    got = fourier_transform(delta, 4)
    r = 1 / math.sqrt(2)
    expected = torch.tensor(
        [
            [0.5, r, 0.0, 0.5],
            [0.5, 0.0, r, -0.5],
            [0.5, -r, 0.0, 0.5],
            [0.5, 0, -r, -0.5],
        ],
        dtype=torch.float64,
    )
    if _gap(got, expected) <= _TIGHT:
        return
    if (
        _gap(got, 2 * expected) <= _TIGHT
        or _gap(got, expected * math.sqrt(2)) <= _TIGHT
    ):
        _fail("the coefficients are not normalised: use 1/√N and √(2/N)")
    swapped = expected[:, [0, 2, 1, 3]]
    if _gap(got, swapped) <= _TIGHT:
        _fail("the sine coefficient comes before the cosine; order (cos, sin)")
    _fail(
        "the transform of the deltas on C_4 (rows: f = e_0, ..., e_3) should be "
        f"{[[round(v, 4) for v in row] for row in expected.tolist()]}, got "
        f"{[[round(v, 4) for v in row] for row in got.tolist()]}: order the "
        "coefficients f̂_0, (f̂_1 cos, f̂_1 sin), ..., f̂_(N/2)"
    )


def _check_plancherel(fourier_transform: Callable) -> None:
    for n in (3, 6, 7):
        f = _randn(5, n, salt=n)
        ratio = fourier_transform(f, n).norm(dim=-1) / f.norm(dim=-1)
        if (ratio - 1).abs().max() > _TIGHT:
            _fail(
                f"||f̂|| / ||f|| should be 1 (an orthogonal transform), got "
                f"{float(ratio.mean()):.4g} on C_{n}: normalise with 1/√N (k = 0, "
                "N/2) and √(2/N) (the cos/sin pairs)"
            )


def _check_block_diagonal(fourier_transform: Callable) -> None:
    for n in (5, 6):
        f = _randn(3, n, salt=10 + n)
        shifted = torch.roll(f, 1, dims=-1)  # ρ_reg(r_1) f: f[j - 1]
        f_hat, got = fourier_transform(f, n), fourier_transform(shifted, n)
        alpha = torch.tensor(2 * math.pi / n, dtype=torch.float64)
        expected = f_hat.clone()
        for k in range(1, (n - 1) // 2 + 1):
            pair = slice(2 * k - 1, 2 * k + 1)
            expected[:, pair] = f_hat[:, pair] @ _rotation(k * alpha).T
        if n % 2 == 0:
            expected[:, -1] = -f_hat[:, -1]
        gap = _gap(got, expected)
        if gap > _TIGHT:
            _fail(
                f"shifting a signal on C_{n} by one step, f[j] -> f[j - 1], should "
                "rotate each pair (f̂_k cos, f̂_k sin) by R(2πk/N) (and flip the "
                f"sign of f̂_(N/2)); it is off by {gap:.3g}: use cos(kθ_j) and "
                "sin(kθ_j) with θ_j = 2πj/N"
            )


def check_inverse_fourier_transform(
    inverse_fourier_transform: Callable, fourier_transform: Callable
) -> None:
    """Check ``inverse_fourier_transform(f_hat, N)`` against the round trips."""

    def round_trips() -> None:
        for n in (1, 2, 4, 7, 8):
            f = _randn(4, n, salt=20 + n)
            back = inverse_fourier_transform(fourier_transform(f, n), n)
            _expect_tensor(f"inverse_fourier_transform(f̂ [4, {n}])", back, (4, n))
            if _gap(back, f) > _TIGHT:
                _fail(f"inverse(fourier(f)) ≠ f on C_{n} (error {_gap(back, f):.3g})")
            again = fourier_transform(inverse_fourier_transform(f, n), n)
            if _gap(again, f) > _TIGHT:
                _fail(f"fourier(inverse(f̂)) ≠ f̂ on C_{n}")

    def constant() -> None:
        f_hat = torch.tensor([2.0, 0.0, 0.0, 0.0], dtype=torch.float64)
        got = inverse_fourier_transform(f_hat, 4)
        expected = torch.ones(4, dtype=torch.float64)
        if _gap(got, expected) > _TIGHT:
            _fail(
                f"the signal with f̂ = [2, 0, 0, 0] on C_4 is the constant "
                f"2 / √4 = 1, got {got.tolist()}"
            )

    _run(
        "inverse_fourier_transform",
        [("known values", constant), ("round trip", round_trips)],
    )


# ----------------------------------------------------------------------------
# harmonic_basis
# ----------------------------------------------------------------------------

#: (m, n, L, N) -> number of angular solutions
_HARMONIC_COUNTS = {
    (0, 0, 2, None): 1,
    (0, 1, 2, None): 2,
    (2, 0, 2, None): 2,
    (1, 1, 2, None): 4,
    (1, 2, 2, None): 2,
    (1, 2, 3, None): 4,
    (0, 2, 2, 4): 2,
    (2, 2, 2, 4): 1,
    (1, 1, 2, 4): 6,
    (0, 1, 3, 4): 4,
    (3, 3, 3, 8): 4,
    (1, 2, 3, 6): 6,
}


def check_harmonic_basis(harmonic_basis: Callable, irrep: Callable) -> None:
    """Check ``harmonic_basis(m, n, phi, L, N)`` -> ``[E, d_out, d_in, ...]``."""
    _run(
        "harmonic_basis",
        [
            ("shapes", lambda: _check_harmonic_shapes(harmonic_basis)),
            ("constraint", lambda: _check_harmonic_constraint(harmonic_basis, irrep)),
            ("sizes", lambda: _check_harmonic_counts(harmonic_basis)),
            ("independent", lambda: _check_harmonic_independent(harmonic_basis)),
        ],
    )


def _check_harmonic_shapes(harmonic_basis: Callable) -> None:
    phi = _randn(3, 5)
    got = harmonic_basis(1, 2, phi, 3, None)
    _expect_tensor(
        "harmonic_basis(1, 2, phi [3, 5], L=3)",
        got,
        (4, 2, 2, 3, 5),
        hint="two for the difference a = n - m = 1, two for the sum b = n + m = 3",
    )
    got = harmonic_basis(0, 0, phi, 0, 4)
    _expect_tensor("harmonic_basis(0, 0, phi [3, 5], L=0, C_4)", got, (1, 1, 1, 3, 5))
    got = harmonic_basis(0, 1, phi, 0, None)
    _expect_tensor(
        "harmonic_basis(0, 1, phi [3, 5], L=0)",
        got,
        (0, 2, 1, 3, 5),
        hint="no solution has frequency 0 here: return an empty [0, 2, 1, ...]",
    )


def _check_harmonic_constraint(harmonic_basis: Callable, irrep: Callable) -> None:
    phi = _randn(11, salt=5) * 3
    for order in (None, 4, 5, 8):
        theta = _angles(order, salt=6)  # [T]
        freqs = range(4) if order is None else range(order // 2 + 1)
        for m in freqs:
            for n in freqs:
                basis = harmonic_basis(m, n, phi, 3, order)  # [E, do, di, Φ]
                moved = harmonic_basis(m, n, phi[None] + theta[:, None], 3, order)
                rhs = torch.einsum(
                    "tpo,boiz,tiq->bpqtz",
                    irrep(n, theta, order),
                    basis,
                    irrep(m, theta, order).transpose(-1, -2),
                )
                if basis.shape[0] and _gap(moved, rhs) > _TIGHT:
                    _fail(
                        f"the solutions for {m} -> {n} ({_label(order)}) break "
                        f"k(φ + θ) = ψ_n(θ) k(φ) ψ_m(θ)⁻¹ (relative error "
                        f"{_gap(moved, rhs):.3g}); {_SIGN_HINT}"
                    )


def _check_harmonic_counts(harmonic_basis: Callable) -> None:
    phi = _randn(4)
    for (m, n, top, order), expected in _HARMONIC_COUNTS.items():
        got = harmonic_basis(m, n, phi, top, order).shape[0]
        if got == expected:
            continue
        hint = _SUM_HINT if got < expected and order is None else _ALIAS_HINT
        if order is None and got > expected:
            hint = "only frequencies with |a| <= L count, each once"
        _fail(
            f"{m} -> {n} with L = {top} ({_label(order)}) should have {expected} "
            f"solutions, got {got}; {hint}"
        )


def _check_harmonic_independent(harmonic_basis: Callable) -> None:
    phi = torch.linspace(0, 2 * math.pi, 25, dtype=torch.float64)[:-1]
    for m, n, order in ((1, 1, None), (1, 2, 4), (0, 1, 3), (2, 1, 8)):
        basis = harmonic_basis(m, n, phi, 3, order).flatten(1)
        if int(torch.linalg.matrix_rank(basis)) < basis.shape[0]:
            _fail(
                f"the solutions for {m} -> {n} ({_label(order)}) are linearly "
                "dependent: a frequency is listed twice"
            )


# ----------------------------------------------------------------------------
# pair_basis
# ----------------------------------------------------------------------------


def check_pair_basis(pair_basis: Callable, irrep: Callable) -> None:
    """Check ``pair_basis(m, n, points, k, N)`` -> ``[B, d_out, d_in, ...]``."""
    _run(
        "pair_basis",
        [
            ("sizes (k = 5)", lambda: _check_pair_sizes(pair_basis)),
            ("constraint", lambda: _check_pair_constraint(pair_basis, irrep)),
            ("origin", lambda: _check_pair_origin(pair_basis, irrep)),
            ("rings", lambda: _check_pair_rings(pair_basis)),
        ],
    )


def _grid(k: int) -> Tensor:
    """The centred k × k pixel grid (x right, y up), float64 ``[k, k, 2]``."""
    c = torch.arange(k, dtype=torch.float64) - (k - 1) / 2
    return torch.stack(torch.broadcast_tensors(c[None, :], -c[:, None]), dim=-1)


def _check_pair_sizes(pair_basis: Callable) -> None:
    for (m, n), expected in _SIZES_K5.items():
        got = _expect_tensor(
            f"pair_basis({m}, {n}, pixel_grid(5, 5), 5)",
            pair_basis(m, n, _grid(5), 5, None),
        )
        if got.shape[0] != expected or tuple(got.shape[3:]) != (5, 5):
            _fail(
                f"{m} -> {n}, k = 5: expected {expected} elements [.., 5, 5], got "
                f"shape {list(got.shape)}; three rings (radius 0: frequency 0 "
                "only; radii 1 and 2: |a| <= 2)"
            )


def _check_pair_constraint(pair_basis: Callable, irrep: Callable) -> None:
    points = torch.rand(30, 2, generator=_generator(7), dtype=torch.float64) - 0.5
    points = points * 5
    for order in (None, 4, 6):
        theta = _angles(order, salt=8)
        freqs = range(3) if order is None else range(order // 2 + 1)
        for m in freqs:
            for n in freqs:
                basis = pair_basis(m, n, points, 5, order)  # [B, do, di, 30]
                moved = pair_basis(m, n, _rotate_points(theta, points), 5, order)
                rhs = torch.einsum(
                    "tpo,boiz,tiq->bpqtz",
                    irrep(n, theta, order),
                    basis,
                    irrep(m, theta, order).transpose(-1, -2),
                )
                if basis.shape[0] and _gap(moved, rhs) > _TIGHT:
                    _fail(
                        f"{m} -> {n} ({_label(order)}) breaks k(g x) = "
                        f"ψ_n(g) k(x) ψ_m(g)⁻¹ at random points (relative error "
                        f"{_gap(moved, rhs):.3g}): multiply the angular solutions "
                        "by the radial profile only, with φ = atan2(y, x)"
                    )


def _check_pair_origin(pair_basis: Callable, irrep: Callable) -> None:
    quarter = torch.tensor(math.pi / 2, dtype=torch.float64)
    for m, n in ((0, 1), (1, 1), (1, 2)):
        basis = pair_basis(m, n, _grid(5), 5, None)  # [B, do, di, 5, 5]
        centre = basis[..., 2, 2]  # [B, do, di]
        rotated = irrep(n, quarter) @ centre @ irrep(m, quarter).T
        scale = float(basis.abs().max())
        if float((centre - rotated).abs().max()) > _TIGHT * scale:
            _fail(
                f"{m} -> {n}: the kernel at the centre pixel must satisfy "
                f"k(0) = ψ_n(g) k(0) ψ_m(g)⁻¹, but it does not; {_ORIGIN_HINT}"
            )


def _check_pair_rings(pair_basis: Callable) -> None:
    basis = pair_basis(0, 0, _grid(5), 5, None)[:, 0, 0]  # [3, 5, 5]
    expected_centre = torch.tensor(
        [1.0, math.exp(-1 / 0.72), math.exp(-4 / 0.32)], dtype=torch.float64
    )
    got = basis[:, 2, 2]
    if _gap(got, expected_centre) > 1e-9:
        _fail(
            "the three 0 -> 0 elements at the centre should be "
            f"{expected_centre.tolist()} (rings at radii 0, 1, 2 with σ = 0.005, "
            f"0.6, 0.4), got {got.tolist()}: exp(-(r - radius)² / (2σ²)), rings "
            "in the order of ring_parameters"
        )


# ----------------------------------------------------------------------------
# steerable_basis
# ----------------------------------------------------------------------------


def check_steerable_basis(
    steerable_basis: Callable, type_representation: Callable
) -> None:
    """Check ``steerable_basis(type_in, type_out, k, N)``.

    The result is ``[P, D_out, D_in, k, k]``.
    """
    _run(
        "steerable_basis",
        [
            ("shapes", lambda: _check_basis_shapes(steerable_basis)),
            ("blocks", lambda: _check_basis_blocks(steerable_basis)),
            (
                "rot90 constraint",
                lambda: _check_basis_rot90(steerable_basis, type_representation),
            ),
            ("independent", lambda: _check_basis_independent(steerable_basis)),
        ],
    )


def _check_basis_shapes(steerable_basis: Callable) -> None:
    got = steerable_basis([0, 1], [1, 2], 5, None)
    size = 4 + 10 + 4 + 4  # 0→1, 1→1, 0→2 (a = 2: one pair per ring), 1→2
    _expect_tensor(
        "steerable_basis([0, 1], [1, 2], 5)",
        got,
        (size, 4, 3, 5, 5),
        torch.float64,
        hint="one block per (output field, input field) pair, in float64",
    )


def _check_basis_blocks(steerable_basis: Callable) -> None:
    got = steerable_basis([0, 1], [1, 2], 5, None)
    blocks = [((0, 2), (0, 1), 4), ((0, 2), (1, 3), 10), ((2, 4), (0, 1), 4)]
    start = 0
    for rows, cols, count in blocks:
        part = got[start : start + count]
        outside = part.clone()
        outside[:, rows[0] : rows[1], cols[0] : cols[1]] = 0
        if outside.abs().max() > 0 or part.abs().max() == 0:
            _fail(
                f"elements {start}..{start + count - 1} should live in rows "
                f"{rows[0]}..{rows[1] - 1} and columns {cols[0]}..{cols[1] - 1}; "
                "order the blocks by output field, then input field"
            )
        start += count


def _check_basis_rot90(
    steerable_basis: Callable, type_representation: Callable
) -> None:
    quarter = torch.tensor(math.pi / 2, dtype=torch.float64)
    for field_type, order in (([0, 1, 2], None), ([0, 1, 2], 4), (["regular", 1], 4)):
        basis = steerable_basis(field_type, field_type, 5, order)
        rho = type_representation(field_type, quarter, order)
        lhs = torch.rot90(basis, -1, dims=(-2, -1))  # k(r x) on the grid
        rhs = torch.einsum("po,boixy,qi->bpqxy", rho, basis, rho)
        if _gap(lhs, rhs) > _TIGHT:
            hint = _REGULAR_HINT if "regular" in field_type else _SIGN_HINT
            _fail(
                f"type {field_type} ({_label(order)}): k(r x) ≠ ρ(r) k(x) ρ(r)ᵀ "
                f"for r = 90° on the pixel grid (relative error "
                f"{_gap(lhs, rhs):.3g}); {hint}"
            )


def _check_basis_independent(steerable_basis: Callable) -> None:
    basis = steerable_basis(["regular"], ["regular"], 5, 4).flatten(1)
    if int(torch.linalg.matrix_rank(basis)) < basis.shape[0]:
        _fail("the basis between regular fields of C_4 is linearly dependent")


# ----------------------------------------------------------------------------
# SteerableConvolution
# ----------------------------------------------------------------------------


def check_steerable_convolution(
    SteerableConvolution: type, type_representation: Callable
) -> None:
    """Check the layer ``[B, D_in, H, W] -> [B, D_out, H, W]``."""
    title = "SteerableConvolution"

    def build(type_in, type_out, k, order):
        return SteerableConvolution(type_in, type_out, k, order).double()

    _run(
        title,
        [
            ("parameters", lambda: _check_layer_parameters(build)),
            ("kernel", lambda: _check_layer_kernel(build)),
            ("one F.conv2d call", lambda: _check_layer_one_conv(build)),
            ("rot90", lambda: _check_layer_rot90(build, type_representation)),
        ],
    )


def _check_layer_parameters(build: Callable) -> None:
    layer = build([0, 1], ["regular"], 5, 4)
    keys = sorted(layer.state_dict())
    if keys != ["weight"]:
        _fail(f"state_dict() should hold exactly ['weight'], got {keys}")


def _check_layer_kernel(build: Callable) -> None:
    layer = build([0, 1], ["regular", 2], 5, 4)
    kernel = _expect_tensor(
        "layer.kernel()", layer.kernel(), (4 + 1, 3, 5, 5), torch.float64
    )
    expected = torch.einsum("p,poixy->oixy", layer.weight.detach(), layer.basis)
    if _gap(kernel, expected) > _TIGHT:
        _fail("kernel() should be Σ_p weight[p] · basis[p]")
    if not kernel.requires_grad:
        _fail("kernel() must be differentiable in the weight (no .detach())")


def _check_layer_one_conv(build: Callable) -> None:
    layer = build(["regular"], ["regular"] * 2, 3, 4)
    x = _randn(2, 4, 7, 6)
    with _CountConv2d() as counter:
        out = layer(x)
    _expect_tensor("layer(x [2, 4, 7, 6])", out, (2, 8, 7, 6))
    if counter.calls != 1:
        _fail(f"forward made {counter.calls} calls to F.conv2d; expected exactly 1")


def _check_layer_rot90(build: Callable, type_representation: Callable) -> None:
    quarter = torch.tensor(math.pi / 2, dtype=torch.float64)
    for type_in, type_out, order in (
        ([0, 1], [1, 2, 0], None),
        (["regular"], ["regular", 1], 4),
    ):
        layer = build(type_in, type_out, 5, order)
        rho_in = type_representation(type_in, quarter, order)
        rho_out = type_representation(type_out, quarter, order)

        def act(rho):
            def apply(turns, f):
                moved = f
                for _ in range(turns):
                    moved = torch.einsum("pq,bqhw->bphw", rho, moved)
                    moved = torch.rot90(moved, 1, dims=(-2, -1))
                return moved

            return apply

        x = _randn(1, layer.in_channels, 11, 12, salt=30)
        report = check_equivariance(
            lambda f, layer=layer: layer(f),
            [1, 2, 3],
            act(rho_in),
            act(rho_out),
            x,
            tolerance=1e-9,
            x_other=_randn(1, layer.in_channels, 11, 12, salt=31),
            labels=["90°", "180°", "270°"],
        )
        if not report.ok:
            _fail(
                report.message(f"SteerableConvolution({type_in}, {type_out})")
                + " Hint: pad kernel_size // 2 on every side; the kernel is "
                "Σ_p weight[p] basis[p] with the basis of steerable_basis"
            )
