"""Irreducible representations of SO(3) and O(3): irreps, Wigner-D matrices,
real Clebsch–Gordan coefficients and real spherical harmonics.

Every convention is e3nn's (version 0.5 and later), so that any value can be
checked against the library the course recommends:

* **Basis.** An irrep of degree ``l`` acts on ``R^M``, ``M = 2l + 1``, in the
  real basis ordered ``m = -l, ..., l``. For ``l = 1`` this basis is
  ``(x, y, z)`` and ``D^1(R) = R``: a vector is a ``1o``.
* **Euler angles** are Y-X-Y: ``R(α, β, γ) = R_y(α) R_x(β) R_y(γ)``, and
  ``D^l(α, β, γ) = exp(α L_y) exp(β L_x) exp(γ L_y)`` with ``L_x, L_y, L_z``
  the real generators of ``so(3)`` in degree ``l`` (``L^1_a`` generates the
  counter-clockwise rotation about axis ``a``). The y axis is the
  quantisation axis: ``exp(α L_y)`` only mixes ``m`` with ``-m``.
* **Parity.** ``Irrep(l, p)`` with ``p = +1`` ("e", even) or ``-1`` ("o",
  odd). An improper rotation ``R`` (``det R = -1``) acts as
  ``p · D^l(-R)``; the inversion ``-I`` acts as ``p``. Vectors are ``1o``,
  pseudovectors ``1e``, spherical harmonics of degree ``l`` have parity
  ``(-1)^l``.
* **Clebsch–Gordan coefficients** ``C[i, j, k]`` (``[M1, M2, M3]``) are the
  real, equivariant ones,
  ``Σ_ijk C[i,j,k] D1[i,a] D2[j,b] D3[k,c] = C[a,b,c]``, with Frobenius norm
  1 and e3nn's sign (the complex Condon–Shortley coefficients carried to the
  real basis through the change of basis ``Q_l`` below, which includes a
  factor ``(-i)^l`` that makes them real). They vanish unless
  ``|l1 - l2| <= l3 <= l1 + l2``.
* **Spherical harmonics** ``Y^l(x)`` are homogeneous polynomials of degree
  ``l`` with ``Y^l(R x) = D^l(R) Y^l(x)``, ``Y^1(x) ∝ x`` and
  ``Y^l(ŷ) ∝ e_{m=0}`` with a positive coefficient. Normalisations on the unit
  sphere: ``"component"`` ``|Y^l|² = 2l + 1``, ``"norm"`` ``|Y^l| = 1``,
  ``"integral"`` ``∫ (Y^l_m)² = 1`` (component divided by ``sqrt(4π)``).

Irreps are written as strings, ``"16x0e + 8x1o + 4x2e"``: a feature vector of
these irreps is a tensor ``[..., 16·1 + 8·3 + 4·5]``, each block laid out
multiplicity-major (``[mul, M]`` flattened), blocks in the order written.

Public API:

    Irrep(l, p), Irrep.parse("1o"), MulIrrep(mul, ir), Irreps("8x0e + 4x1o")
    so3_generators(l)                      [3, M, M], (L_x, L_y, L_z)
    angles_to_matrix(α, β, γ), matrix_to_angles(R), random_rotation(...)
    wigner_D(l, α, β, γ), wigner_D_from_matrix(l, R)
    clebsch_gordan(l1, l2, l3)             [M1, M2, M3]
    spherical_harmonics(ls, x, normalize, normalization)

Shapes use the project's axis letters: ``...`` batch, ``M = 2l + 1``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from fractions import Fraction
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "Irrep",
    "Irreps",
    "MulIrrep",
    "angles_to_matrix",
    "clebsch_gordan",
    "matrix_to_angles",
    "random_rotation",
    "so3_generators",
    "spherical_harmonics",
    "wigner_D",
    "wigner_D_from_matrix",
]

SH_NORMALIZATIONS = ("component", "norm", "integral")


# ----------------------------------------------------------------------------
# Irreps
# ----------------------------------------------------------------------------

_IRREP = re.compile(r"^\s*(\d+)\s*([eoy])\s*$")
_MUL_IRREP = re.compile(r"^\s*(?:(\d+)\s*x\s*)?(\d+\s*[eoy])\s*$")


class Irrep(NamedTuple):
    """An irrep of O(3): degree ``l >= 0`` and parity ``p`` in {+1, -1}.

    ``Irrep.parse("2e")`` is ``Irrep(2, 1)``; ``"1o"`` is ``Irrep(1, -1)``;
    ``"ly"`` is the parity of the spherical harmonics, ``(-1)^l``.

    >>> Irrep.parse("1o"), Irrep(2, 1).dim, str(Irrep(3, -1))
    (Irrep(l=1, p=-1), 5, '3o')
    """

    l: int
    p: int

    @classmethod
    def parse(cls, text: str) -> Irrep:
        """The irrep written as ``"<l><e|o|y>"``."""
        match = _IRREP.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"an irrep is written like '0e', '1o' or '2y', got {text!r}"
            )
        l = int(match.group(1))
        p = {"e": 1, "o": -1, "y": (-1) ** l}[match.group(2)]
        return cls(l, p)

    @property
    def dim(self) -> int:
        """``M = 2l + 1``."""
        return 2 * self.l + 1

    def __str__(self) -> str:
        return f"{self.l}{'e' if self.p == 1 else 'o'}"

    def __mul__(self, other: Irrep) -> list[Irrep]:  # type: ignore[override]
        """The irreps in the tensor product: ``|l1 - l2| <= l <= l1 + l2``."""
        p = self.p * other.p
        return [Irrep(l, p) for l in range(abs(self.l - other.l), self.l + other.l + 1)]

    def D_from_matrix(self, R: Tensor) -> Tensor:
        """The representation of an orthogonal matrix ``R`` (rotation or not).

        ``D(R) = p^k D^l(det(R) R)`` with ``k = 1`` for improper ``R``.

        Shapes:
            R: ``[..., 3, 3]``, output: ``[..., M, M]``
        """
        det = torch.linalg.det(R).sign()
        D = wigner_D_from_matrix(self.l, R * det[..., None, None])
        if self.p == 1:
            return D
        return D * det[..., None, None]


def _irrep(value: Irrep | str | tuple[int, int]) -> Irrep:
    if isinstance(value, str):
        return Irrep.parse(value)
    l, p = value
    if isinstance(l, bool) or not isinstance(l, int) or l < 0 or p not in (-1, 1):
        raise ValueError(f"an irrep needs an int l >= 0 and p in (1, -1), got {value}")
    return Irrep(l, p)


class MulIrrep(NamedTuple):
    """``mul`` copies of the irrep ``ir``, e.g. ``8x1o``."""

    mul: int
    ir: Irrep

    @property
    def dim(self) -> int:
        return self.mul * self.ir.dim

    def __str__(self) -> str:
        return f"{self.mul}x{self.ir}"


class Irreps(tuple):
    """A direct sum of irreps with multiplicities, e.g. ``"16x0e + 8x1o"``.

    A tuple of :class:`MulIrrep`. Accepts a string, an :class:`Irrep`, another
    ``Irreps`` or an iterable of ``(mul, irrep)`` pairs. Blocks are kept in the
    order given (no sorting, no merging).

    >>> irreps = Irreps("16x0e + 8x1o + 4x2e")
    >>> irreps.dim, irreps.num_irreps, str(irreps)
    (60, 28, '16x0e+8x1o+4x2e')
    >>> irreps.slices()[1]
    slice(16, 40, None)
    """

    def __new__(cls, irreps: object = ()) -> Irreps:
        if isinstance(irreps, Irreps):
            return super().__new__(cls, irreps)
        if isinstance(irreps, Irrep):
            return super().__new__(cls, [MulIrrep(1, irreps)])
        if isinstance(irreps, str):
            return super().__new__(cls, _parse_irreps(irreps))
        if not isinstance(irreps, Iterable):
            raise TypeError(f"cannot read irreps from {irreps!r}")
        blocks = []
        for item in irreps:
            if isinstance(item, (str, Irrep)):
                mul, ir = 1, _irrep(item)
            else:
                mul, ir = item
                ir = _irrep(ir)
            if isinstance(mul, bool) or not isinstance(mul, int) or mul < 0:
                raise ValueError(f"a multiplicity must be an int >= 0, got {mul!r}")
            blocks.append(MulIrrep(mul, ir))
        return super().__new__(cls, blocks)

    @property
    def dim(self) -> int:
        """Total dimension ``Σ mul · (2l + 1)``."""
        return sum(block.dim for block in self)

    @property
    def num_irreps(self) -> int:
        return sum(block.mul for block in self)

    @property
    def ls(self) -> list[int]:
        """The degree of every copy, in order."""
        return [block.ir.l for block in self for _ in range(block.mul)]

    @property
    def lmax(self) -> int:
        if len(self) == 0:
            raise ValueError("empty irreps have no lmax")
        return max(block.ir.l for block in self)

    def slices(self) -> list[slice]:
        """The slice of the feature axis that holds each block."""
        out, start = [], 0
        for block in self:
            out.append(slice(start, start + block.dim))
            start += block.dim
        return out

    def __add__(self, other: object) -> Irreps:
        return Irreps(tuple(self) + tuple(Irreps(other)))

    def __mul__(self, other: object) -> Irreps:  # type: ignore[override]
        if isinstance(other, bool) or not isinstance(other, int):
            raise TypeError(f"Irreps * int repeats the blocks, got {other!r}")
        return Irreps(tuple(self) * other)

    def __str__(self) -> str:
        return "+".join(str(block) for block in self)

    def __repr__(self) -> str:
        return f"Irreps('{self}')"

    def D_from_matrix(self, R: Tensor) -> Tensor:
        """Block-diagonal representation of orthogonal matrices ``R``.

        Shapes:
            R: ``[..., 3, 3]``, output: ``[..., dim, dim]``
        """
        D = R.new_zeros(*R.shape[:-2], self.dim, self.dim)
        for block, s in zip(self, self.slices(), strict=True):
            d = block.ir.D_from_matrix(R)
            for u in range(block.mul):
                a = s.start + u * block.ir.dim
                D[..., a : a + block.ir.dim, a : a + block.ir.dim] = d
        return D

    @classmethod
    def spherical_harmonics(cls, lmax: int, p: int = -1) -> Irreps:
        """``1x0e + 1x1o + ... + 1x(lmax)`` with parity ``p^l``."""
        return cls([(1, (l, p**l)) for l in range(lmax + 1)])


def _parse_irreps(text: str) -> list[MulIrrep]:
    if text.strip() == "":
        return []
    blocks = []
    for part in text.split("+"):
        match = _MUL_IRREP.match(part)
        if match is None:
            raise ValueError(
                f"irreps are written like '16x0e + 8x1o + 2e', got {text!r} "
                f"(cannot read {part.strip()!r})"
            )
        mul = int(match.group(1)) if match.group(1) is not None else 1
        blocks.append(MulIrrep(mul, Irrep.parse(match.group(2).replace(" ", ""))))
    return blocks


# ----------------------------------------------------------------------------
# Lie algebra, change of basis, rotations
# ----------------------------------------------------------------------------


@functools.cache
def _real_to_complex(l: int) -> Tensor:
    """``Q_l`` with ``v_complex = Q_l @ v_real`` (complex128, ``[M, M]``).

    Rows: complex basis ``|l, m>``, ``m = -l..l``; columns: the real basis.
    The real vector for ``m > 0`` combines ``|±m>`` with ``(-1)^m / √2`` and
    ``i (-1)^m / √2``, for ``m < 0`` with ``1 / √2`` and ``-i / √2``; the
    whole matrix carries e3nn's phase ``(-i)^l``.
    """
    Q = torch.zeros(2 * l + 1, 2 * l + 1, dtype=torch.complex128)
    r = 1 / math.sqrt(2)
    Q[l, l] = 1
    for m in range(1, l + 1):
        sign = (-1) ** m
        Q[l - m, l + m] = r
        Q[l - m, l - m] = -1j * r
        Q[l + m, l + m] = sign * r
        Q[l + m, l - m] = 1j * sign * r
    return (-1j) ** l * Q


@functools.cache
def _complex_generators(l: int) -> Tensor:
    """Anti-Hermitian generators ``(-i J_y, i J_z, i J_x)`` for e3nn's (x, y, z).

    ``J_z = diag(m)`` and ``J_± |m> = sqrt(l(l+1) - m(m±1)) |m±1>``
    (Condon–Shortley). Shapes: ``[3, M, M]`` complex128.
    """
    m = torch.arange(-l, l + 1, dtype=torch.float64)
    up = torch.sqrt(l * (l + 1) - m[:-1] * (m[:-1] + 1))
    J_plus = torch.diag(up, diagonal=-1).to(torch.complex128)
    J_minus = J_plus.T
    J_x = (J_plus + J_minus) / 2
    J_y = (J_plus - J_minus) / 2j
    J_z = torch.diag(m).to(torch.complex128)
    return torch.stack([-1j * J_y, 1j * J_z, 1j * J_x])


@functools.cache
def _so3_generators(l: int) -> Tensor:
    Q = _real_to_complex(l)
    L = Q.conj().T @ _complex_generators(l) @ Q
    assert L.imag.abs().max() < 1e-12
    return L.real.contiguous()


def so3_generators(
    l: int, dtype: torch.dtype | None = None, device: torch.device | None = None
) -> Tensor:
    """Real generators ``(L_x, L_y, L_z)`` of ``so(3)`` in degree ``l``.

    ``D^l(exp(θ [n]_×)) = exp(θ Σ_a n_a L_a)``; for ``l = 1`` they are the
    matrices of ``v ↦ e_a × v``. Antisymmetric, with
    ``[L_x, L_y] = L_z`` (cyclically).

    Shapes:
        output: ``[3, M, M]``
    """
    _check_degree(l, "l")
    return _so3_generators(l).to(dtype=dtype or torch.float64, device=device)


def _check_degree(l: object, name: str) -> int:
    if isinstance(l, bool) or not isinstance(l, int) or l < 0:
        raise ValueError(f"{name} must be an int >= 0, got {l!r}")
    return l


def _rotation_y(angle: Tensor) -> Tensor:
    c, s, o, z = angle.cos(), angle.sin(), torch.ones_like(angle), angle * 0
    return torch.stack([c, z, s, z, o, z, -s, z, c], -1).unflatten(-1, (3, 3))


def _rotation_x(angle: Tensor) -> Tensor:
    c, s, o, z = angle.cos(), angle.sin(), torch.ones_like(angle), angle * 0
    return torch.stack([o, z, z, z, c, -s, z, s, c], -1).unflatten(-1, (3, 3))


def angles_to_matrix(alpha: Tensor, beta: Tensor, gamma: Tensor) -> Tensor:
    """``R = R_y(α) R_x(β) R_y(γ)`` (counter-clockwise rotations).

    Shapes:
        alpha, beta, gamma: ``[...]`` (broadcast), output: ``[..., 3, 3]``
    """
    alpha, beta, gamma = torch.broadcast_tensors(alpha, beta, gamma)
    return _rotation_y(alpha) @ _rotation_x(beta) @ _rotation_y(gamma)


def matrix_to_angles(R: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Y-X-Y Euler angles of rotation matrices: the inverse of angles_to_matrix.

    ``R ŷ = (sin α sin β, cos β, cos α sin β)`` gives ``α`` and ``β ∈ [0, π]``;
    ``γ`` is read from ``R_x(β)ᵀ R_y(α)ᵀ R = R_y(γ)``.

    Shapes:
        R: ``[..., 3, 3]``, outputs: ``[...]`` each
    """
    if R.shape[-2:] != (3, 3):
        raise ValueError(f"R must have shape [..., 3, 3], got {tuple(R.shape)}")
    y = R[..., :, 1]  # [..., 3], the image of ŷ
    beta = torch.acos(y[..., 1].clamp(-1, 1))
    alpha = torch.atan2(y[..., 0], y[..., 2])
    rest = (_rotation_y(alpha) @ _rotation_x(beta)).transpose(-1, -2) @ R
    gamma = torch.atan2(rest[..., 0, 2], rest[..., 0, 0])
    return alpha, beta, gamma


def random_rotation(
    *shape: int,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """Haar-random rotation matrices (uniform unit quaternions).

    Shapes:
        output: ``[*shape, 3, 3]``
    """
    q = torch.randn(*shape, 4, generator=generator, dtype=dtype)
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    R = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    return torch.stack([torch.stack(row, -1) for row in R], -2)


# ----------------------------------------------------------------------------
# Wigner-D
# ----------------------------------------------------------------------------


def _exp_y(l: int, angle: Tensor) -> Tensor:
    """``exp(θ L_y)`` in closed form: a rotation by ``|m| θ`` in each ±m plane.

    ``L_y`` couples ``m`` with ``-m`` only, and ``L_y² = -m²`` on that plane,
    so ``exp(θ L_y) = diag(cos |m| θ) + diag(sin |m| θ / |m|) L_y``.

    Shapes:
        angle: ``[...]``, output: ``[..., M, M]``
    """
    L = _so3_generators(l)[1].to(dtype=angle.dtype, device=angle.device)
    m = torch.arange(-l, l + 1, dtype=angle.dtype, device=angle.device).abs()
    theta = angle[..., None] * m  # [..., M]
    scale = torch.where(m > 0, theta.sin() / m.clamp(min=1), torch.zeros_like(theta))
    return torch.diag_embed(theta.cos()) + scale[..., :, None] * L


def wigner_D(l: int, alpha: Tensor, beta: Tensor, gamma: Tensor) -> Tensor:
    """``D^l(α, β, γ) = exp(α L_y) exp(β L_x) exp(γ L_y)``, the matrix of
    ``R_y(α) R_x(β) R_y(γ)`` in the irrep of degree ``l``.

    ``exp(θ L_y)`` is written in closed form; ``exp(β L_x)`` is a matrix
    exponential (exact to float rounding). Orthogonal, and a homomorphism:
    ``D(R1 R2) = D(R1) D(R2)``.

    Shapes:
        alpha, beta, gamma: ``[...]`` (broadcast), output: ``[..., M, M]``
    """
    _check_degree(l, "l")
    alpha, beta, gamma = torch.broadcast_tensors(alpha, beta, gamma)
    if not alpha.is_floating_point():
        raise TypeError(f"angles must be floating tensors, got {alpha.dtype}")
    L_x = _so3_generators(l)[0].to(dtype=beta.dtype, device=beta.device)
    middle = torch.matrix_exp(beta[..., None, None] * L_x)
    return _exp_y(l, alpha) @ middle @ _exp_y(l, gamma)


def wigner_D_from_matrix(l: int, R: Tensor) -> Tensor:
    """``D^l(R)`` for rotation matrices ``R`` (``det R = +1``).

    For orthogonal matrices with a reflection use ``Irrep.D_from_matrix``.

    Shapes:
        R: ``[..., 3, 3]``, output: ``[..., M, M]``
    """
    return wigner_D(l, *matrix_to_angles(R))


# ----------------------------------------------------------------------------
# Clebsch–Gordan coefficients
# ----------------------------------------------------------------------------


def _complex_cg(l1: int, m1: int, l2: int, m2: int, l3: int) -> float:
    """``<l1 m1; l2 m2 | l3 (m1 + m2)>`` (Condon–Shortley), Racah's formula.

    All factorials are exact integers; the result is rounded once.
    """
    m3 = m1 + m2
    f = math.factorial
    pre = Fraction(
        (2 * l3 + 1) * f(l3 + l1 - l2) * f(l3 - l1 + l2) * f(l1 + l2 - l3),
        f(l1 + l2 + l3 + 1),
    ) * (f(l3 + m3) * f(l3 - m3) * f(l1 - m1) * f(l1 + m1) * f(l2 - m2) * f(l2 + m2))
    low = max(0, l2 - l3 - m1, l1 - l3 + m2)
    high = min(l1 + l2 - l3, l1 - m1, l2 + m2)
    total = Fraction(0)
    for k in range(low, high + 1):
        den = (
            f(k)
            * f(l1 + l2 - l3 - k)
            * f(l1 - m1 - k)
            * f(l2 + m2 - k)
            * f(l3 - l2 + m1 + k)
            * f(l3 - l1 - m2 + k)
        )
        total += Fraction((-1) ** k, den)
    # sqrt of a fraction, exact up to one rounding of each factor
    return float(total) * math.sqrt(pre.numerator) / math.sqrt(pre.denominator)


@functools.cache
def _clebsch_gordan(l1: int, l2: int, l3: int) -> Tensor:
    C = torch.zeros(2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1, dtype=torch.complex128)
    for m1 in range(-l1, l1 + 1):
        for m2 in range(max(-l2, -l3 - m1), min(l2, l3 - m1) + 1):
            C[l1 + m1, l2 + m2, l3 + m1 + m2] = _complex_cg(l1, m1, l2, m2, l3)
    Q1, Q2, Q3 = (_real_to_complex(l) for l in (l1, l2, l3))
    C = torch.einsum("ia,jb,kc,ijk->abc", Q1, Q2, Q3.conj(), C)  # [M1, M2, M3]
    assert C.imag.abs().max() < 1e-12
    C = C.real
    return (C / C.norm()).contiguous()


def clebsch_gordan(
    l1: int,
    l2: int,
    l3: int,
    dtype: torch.dtype | None = None,
    device: torch.device | None = None,
) -> Tensor:
    """Real Clebsch–Gordan coefficients ``C^{l1 l2 l3}`` (e3nn's ``wigner_3j``).

    The unique (up to sign) tensor with
    ``Σ_ijk C[i,j,k] D1[i,a] D2[j,b] D3[k,c] = C[a,b,c]`` for every rotation
    and ``Σ C² = 1``. Computed once per ``(l1, l2, l3)`` in float64 from the
    exact complex coefficients and cached. Raises ``ValueError`` when the
    selection rule ``|l1 - l2| <= l3 <= l1 + l2`` fails (the coefficients
    would vanish). Default dtype: float64.

    Shapes:
        output: ``[2 l1 + 1, 2 l2 + 1, 2 l3 + 1]``
    """
    for name, l in (("l1", l1), ("l2", l2), ("l3", l3)):
        _check_degree(l, name)
    if not abs(l1 - l2) <= l3 <= l1 + l2:
        raise ValueError(
            f"no coupling of l1={l1} and l2={l2} into l3={l3}: the selection rule "
            "is |l1 - l2| <= l3 <= l1 + l2"
        )
    return _clebsch_gordan(l1, l2, l3).to(dtype=dtype or torch.float64, device=device)


# ----------------------------------------------------------------------------
# Spherical harmonics
# ----------------------------------------------------------------------------


@functools.cache
def _sh_step(l: int) -> Tensor:
    """``c_l C^{1, l, l+1}`` with ``Y^{l+1}(x) = c_l Σ C[i,j,k] x_i Y^l_j(x)``.

    ``c_l > 0`` is fixed by the component normalisation at ``ŷ``:
    ``Y^l(ŷ) = sqrt(2l + 1) e_{m=0}``. Shapes: ``[3, M_l, M_{l+1}]`` float64.
    """
    C = _clebsch_gordan(1, l, l + 1)
    value = C[1, l, l + 1] * math.sqrt(2 * l + 1)  # at ŷ: x = e_1, Y^l = √(2l+1) e_l
    assert value > 0
    return C * (math.sqrt(2 * l + 3) / value)


def spherical_harmonics(
    ls: int | Iterable[int] | Irreps | str,
    x: Tensor,
    normalize: bool,
    normalization: str = "integral",
) -> Tensor:
    """Real spherical harmonics ``Y^l(x)`` for every ``l`` in ``ls``, concatenated.

    Built by the recurrence ``Y^{l+1}(x) = c_l C^{1,l,l+1}(x, Y^l(x))`` from
    ``Y^0 = 1``: a homogeneous polynomial of degree ``l`` in ``x``, so with
    ``normalize=False`` ``Y^l(x) = |x|^l Y^l(x / |x|)``. Equivariant:
    ``Y^l(R x) = D^l(R) Y^l(x)``, and ``Y^l(-x) = (-1)^l Y^l(x)``. Identical to
    ``e3nn.o3.spherical_harmonics`` (any ``l``, no upper bound).

    Args:
        ls: the degrees (an int, a list, or irreps such as ``"0e + 1o + 2e"``
            whose parities must be ``(-1)^l``).
        x: points in R^3.
        normalize: project ``x`` on the unit sphere first (zero stays zero).
        normalization: ``"component"`` (``|Y^l|² = 2l + 1`` on the sphere),
            ``"norm"`` (``|Y^l| = 1``) or ``"integral"``
            (``∫_{S²} (Y^l_m)² = 1``).

    Shapes:
        x: ``[..., 3]``, output: ``[..., Σ (2l + 1)]``
    """
    degrees = _sh_degrees(ls)
    if normalization not in SH_NORMALIZATIONS:
        raise ValueError(
            f"normalization must be one of {SH_NORMALIZATIONS}, got {normalization!r}"
        )
    if not isinstance(x, Tensor) or x.shape[-1:] != (3,):
        raise ValueError("x must be a tensor [..., 3]")
    if normalize:
        x = torch.nn.functional.normalize(x, dim=-1)

    Y = [torch.ones_like(x[..., :1])]  # [..., 1]
    for l in range(max(degrees)):
        step = _sh_step(l).to(dtype=x.dtype, device=x.device)
        outer = x[..., :, None] * Y[-1][..., None, :]  # [..., 3, M_l]
        Y.append(outer.flatten(-2) @ step.flatten(0, 1))  # [..., M_{l+1}]

    out = []
    for l in degrees:
        if normalization == "norm":
            out.append(Y[l] / math.sqrt(2 * l + 1))
        elif normalization == "integral":
            out.append(Y[l] / math.sqrt(4 * math.pi))
        else:
            out.append(Y[l])
    return torch.cat(out, dim=-1)


def _sh_degrees(ls: object) -> list[int]:
    if isinstance(ls, (str, Irreps)):
        irreps = Irreps(ls)
        for block in irreps:
            if block.ir.p != (-1) ** block.ir.l:
                raise ValueError(
                    f"spherical harmonics of degree {block.ir.l} have parity "
                    f"{'e' if block.ir.l % 2 == 0 else 'o'}, got {block.ir}"
                )
        return [block.ir.l for block in irreps for _ in range(block.mul)]
    degrees = [ls] if isinstance(ls, int) else list(ls)  # type: ignore[arg-type]
    if not degrees:
        raise ValueError("ls must name at least one degree")
    for l in degrees:
        _check_degree(l, "every degree in ls")
    return degrees
