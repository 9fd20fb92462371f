"""Public checks of the gedl assignments.

Each assignment folder ships a copy of this package; the check cells of the
notebook call it. It tests properties that every correct solution has (group
axioms, equivariance, shapes, a few known values) and never carries a
reference implementation. It needs nothing but torch.

Modules:
    equivariance: :func:`check_equivariance`, the helper shared with the
        hidden tests of the grader.
    runner: how checks run and word their failures (:class:`CheckFailed`).
    a01_groups: the checks of assignment 1 (groups and representations).
    a02_conv: the checks of assignment 2 (lifting and group convolutions).
    a03_steerable: the checks of assignment 3 (irreps, Fourier transform,
        steerable basis and convolution).
    a04_tensor_product: the checks of assignment 4 (SO(3) irreps, the
        Clebsch–Gordan tensor product).
    a05_egnn: the checks of assignment 5 (EGNN and a steerable layer).
"""

from gedl_checks.equivariance import (
    EquivarianceReport,
    assert_equivariant,
    check_equivariance,
)

__all__ = ["EquivarianceReport", "assert_equivariant", "check_equivariance"]
