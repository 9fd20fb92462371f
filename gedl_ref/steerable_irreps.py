"""Real irreducible representations of SO(2) and C_N, and the Fourier transform.

An element of SO(2) or C_N is an angle ``theta`` (a tensor ``[...]``; for C_N
``theta = 2πj / N``). ``group_order`` is ``N`` for C_N and ``None`` for SO(2).

Irreps, by their frequency ``k >= 0`` (for C_N, ``0 <= k <= N // 2``):

    ψ_0(θ) = [[1]]                                   (trivial, 1 × 1)
    ψ_k(θ) = R(kθ) = [[cos kθ, −sin kθ],
                      [sin kθ,  cos kθ]]             (2 × 2)
    ψ_{N/2}(θ) = [[cos(Nθ / 2)]] = [[(−1)^j]]        (C_N, N even: 1 × 1)

The regular representation of C_N acts on signals ``f[j]`` on the group
(``f[j]`` at the element ``r_j``, ``θ_j = 2πj / N``) by the left shift
``(ρ_reg(r_a) f)[j] = f[j − a]``.

The Fourier transform ``f̂ = F f`` maps such a signal to its coefficients on
the irreps of frequencies ``0, 1, ..., N // 2`` (``N`` numbers in all), in
that order; within a 2-dimensional irrep first the cosine, then the sine:

    F[0, j]         = 1 / √N
    F[(k, cos), j]  = √(2 / N) cos(k θ_j),   F[(k, sin), j] = √(2 / N) sin(k θ_j)
    F[N / 2, j]     = (−1)^j / √N            (N even)

``F`` is orthogonal (so ``F⁻¹ = Fᵀ``, and ``||F f|| = ||f||``), and it
block-diagonalises the regular representation:

    F ρ_reg(g) Fᵀ = ⊕_k ψ_k(g),   i.e.  ρ_reg(g) = Q (⊕_k ψ_k(g)) Qᵀ,  Q = Fᵀ.

A *field type* is a list of fields, each an irrep frequency (an ``int``) or
the string ``"regular"`` (C_N only); its representation is the direct sum of
the fields' representations, in order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "field_dimension",
    "field_frequencies",
    "fourier_matrix",
    "fourier_transform",
    "inverse_fourier_transform",
    "irrep",
    "irrep_dimension",
    "regular_representation",
    "type_dimension",
    "type_representation",
]

#: A field: an irrep frequency, or "regular" (the regular representation of C_N).
Field = int | str


def _check_order(group_order: object) -> int | None:
    """Return ``group_order`` if it is None (SO(2)) or a positive int (C_N)."""
    if group_order is None:
        return None
    if isinstance(group_order, bool) or not isinstance(group_order, int):
        raise TypeError(
            f"group_order must be None (SO(2)) or a positive int N (C_N), got "
            f"{group_order!r}"
        )
    if group_order < 1:
        raise ValueError(f"group_order must be a positive int, got {group_order}")
    return group_order


def _check_frequency(frequency: object, group_order: int | None) -> int:
    """Return ``frequency`` if it labels an irrep of the group."""
    if isinstance(frequency, bool) or not isinstance(frequency, int):
        raise TypeError(f"an irrep frequency must be an int, got {frequency!r}")
    top = math.inf if group_order is None else group_order // 2
    if not 0 <= frequency <= top:
        group = "SO(2)" if group_order is None else f"C_{group_order}"
        bound = "k >= 0" if group_order is None else f"0 <= k <= {int(top)}"
        raise ValueError(f"{group} has irreps of frequencies {bound}, got {frequency}")
    return frequency


def irrep_dimension(frequency: int, group_order: int | None = None) -> int:
    """Dimension of the irrep ψ_k: 1 for k = 0 and for k = N / 2, else 2.

    Example:
        >>> irrep_dimension(0), irrep_dimension(3), irrep_dimension(2, 4)
        (1, 2, 1)
    """
    group_order = _check_order(group_order)
    k = _check_frequency(frequency, group_order)
    return 1 if k == 0 or (group_order is not None and 2 * k == group_order) else 2


def irrep(frequency: int, theta: Tensor, group_order: int | None = None) -> Tensor:
    """The matrices ψ_k(θ) of the irrep of frequency ``k``.

    ``[[1]]`` for ``k = 0``, ``[[cos kθ]]`` for ``k = N / 2`` (C_N, N even),
    else the rotation ``R(kθ) = [[cos kθ, −sin kθ], [sin kθ, cos kθ]]``.

    Shapes:
        theta: ``[...]``, output: ``[..., d, d]`` with ``d = irrep_dimension(k)``.

    Example:
        >>> (irrep(1, torch.tensor(math.pi / 2)).round() + 0.0).tolist()
        [[0.0, -1.0], [1.0, 0.0]]
    """
    if irrep_dimension(frequency, group_order) == 1:
        return torch.cos(frequency * theta)[..., None, None]  # [..., 1, 1]
    c, s = torch.cos(frequency * theta), torch.sin(frequency * theta)  # [...]
    rows = (torch.stack((c, -s), dim=-1), torch.stack((s, c), dim=-1))
    return torch.stack(rows, dim=-2)  # [..., 2, 2]


def regular_representation(theta: Tensor, group_order: int) -> Tensor:
    """Permutation matrices of the regular representation of C_N.

    ``(ρ_reg(r_a) f)[i] = f[i − a]``, so ``ρ[i, j] = 1`` iff ``j = i − a mod N``
    with ``a = round(θ N / 2π)``.

    Shapes:
        theta: ``[...]``, output: ``[..., N, N]`` (dtype of theta)
    """
    n = _check_order(group_order)
    if n is None:
        raise ValueError("the regular representation needs a finite group_order")
    a = torch.round(theta * (n / (2 * math.pi))).long()  # [...]
    i = torch.arange(n, device=theta.device)
    source = torch.remainder(i - a[..., None], n)  # [..., N]
    return torch.nn.functional.one_hot(source, n).to(theta.dtype)  # [..., N, N]


def fourier_matrix(
    group_order: int, dtype: torch.dtype | None = None, device=None
) -> Tensor:
    """The orthogonal Fourier matrix ``F`` of C_N (see the module docstring).

    Rows: the irreps of frequencies ``0, ..., N // 2`` in order (cosine row,
    then sine row, for the 2-dimensional ones); columns: the elements
    ``θ_j = 2πj / N``.

    Shapes:
        output: ``[N, N]``
    """
    n = _check_order(group_order)
    if n is None:
        raise ValueError("the Fourier matrix needs a finite group_order")
    dtype = dtype or torch.get_default_dtype()
    theta = torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)  # [N]
    rows = []
    for k in range(n // 2 + 1):
        if irrep_dimension(k, n) == 1:
            rows.append(torch.cos(k * theta) / math.sqrt(n))
        else:
            scale = math.sqrt(2 / n)
            rows += [scale * torch.cos(k * theta), scale * torch.sin(k * theta)]
    return torch.stack(rows).to(dtype=dtype, device=device)  # [N, N]


def fourier_transform(f: Tensor, group_order: int) -> Tensor:
    """Regular → irreps: ``f̂ = F f`` on the last axis.

    Shapes:
        f: ``[..., N]``, output: ``[..., N]``
    """
    return f @ fourier_matrix(group_order, f.dtype, f.device).T  # [..., N]


def inverse_fourier_transform(f_hat: Tensor, group_order: int) -> Tensor:
    """Irreps → regular: ``f = Fᵀ f̂`` on the last axis.

    Shapes:
        f_hat: ``[..., N]``, output: ``[..., N]``
    """
    return f_hat @ fourier_matrix(group_order, f_hat.dtype, f_hat.device)


def field_frequencies(field: Field, group_order: int | None = None) -> list[int]:
    """The irrep frequencies of a field: ``[k]``, or ``[0, ..., N // 2]``."""
    group_order = _check_order(group_order)
    if field == "regular":
        if group_order is None:
            raise ValueError(
                'SO(2) has no finite regular representation: "regular" fields '
                "need group_order=N; use irrep frequencies for SO(2)"
            )
        return list(range(group_order // 2 + 1))
    return [_check_frequency(field, group_order)]


def field_dimension(field: Field, group_order: int | None = None) -> int:
    """Dimension of a field: ``N`` for a regular one, else of its irrep."""
    return sum(
        irrep_dimension(k, group_order) for k in field_frequencies(field, group_order)
    )


def type_dimension(field_type: Sequence[Field], group_order: int | None = None) -> int:
    """Dimension of a field type: the sum of its fields' dimensions."""
    if isinstance(field_type, (str, int)) or not len(field_type):
        raise ValueError(
            f"a field type is a non-empty list of fields, got {field_type!r}"
        )
    return sum(field_dimension(f, group_order) for f in field_type)


def type_representation(
    field_type: Sequence[Field], theta: Tensor, group_order: int | None = None
) -> Tensor:
    """The block-diagonal matrices ``⊕_fields ρ_field(θ)``.

    Shapes:
        theta: ``[...]``, output: ``[..., D, D]`` with ``D = type_dimension``.
    """
    blocks = []
    for field in field_type:
        if field == "regular":
            blocks.append(regular_representation(theta, group_order))
        else:
            blocks.append(
                irrep(_check_frequency(field, group_order), theta, group_order)
            )
    size = type_dimension(field_type, group_order)
    out = theta.new_zeros(*theta.shape, size, size)  # [..., D, D]
    start = 0
    for block in blocks:
        d = block.shape[-1]
        out[..., start : start + d, start : start + d] = block
        start += d
    return out
