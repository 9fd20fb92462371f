"""Demo students of assignment 3 (``03_steerable_basis``).

=====================  ================================================
student                what the grader should see
=====================  ================================================
alice_perfect          the solution: full marks
bob_typical_bugs       irrep is the clockwise (transposed) rotation;
                       harmonic_basis forgets the sum-frequency
                       solutions R(bφ)M, b = n + m
carol_untouched        the released stubs: zero, cleanly
grace_python_loop      correct, but kernel() adds the basis elements
                       up one at a time in a Python loop: loses the
                       performance points (not timed)
=====================  ================================================

``tools/make_demo_class.py`` lists these students in its ``CLASSES``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.make_demo_class import Answers


def _edit(answers: Answers, grade_id: str, old: str, new: str) -> None:
    """``make_demo_class.edit``, imported when used (that module imports this one)."""
    from tools.make_demo_class import edit

    edit(answers, grade_id, old, new)


def bob_a03(answers: Answers) -> Answers:
    """Typical bugs: a clockwise ψ_k, no sum-frequency solutions."""
    _edit(
        answers,
        "irrep",
        "top = torch.stack((cos, -sin), dim=-1)  # [..., 2]\n"
        "    bottom = torch.stack((sin, cos), dim=-1)  # [..., 2]",
        "top = torch.stack((cos, sin), dim=-1)  # [..., 2]\n"
        "    bottom = torch.stack((-sin, cos), dim=-1)  # [..., 2]",
    )
    _edit(
        answers,
        "harmonic_basis",
        "        if d_in == d_out == 2:\n"
        "            families.append((frequencies(n + m), (M, J @ M)))\n",
        "",
    )
    return answers


def grace_a03(answers: Answers) -> Answers:
    """Correct, but kernel() loops over the basis elements in Python."""
    _edit(
        answers,
        "steerable_convolution",
        "kernel = self.weight @ basis.flatten(1)  # [D_out · D_in · k · k]\n"
        "        return kernel.view(basis.shape[1:])  # [D_out, D_in, k, k]",
        "kernel = torch.zeros_like(basis[0])\n"
        "        for p in range(basis.shape[0]):  # one basis element at a time\n"
        "            kernel = kernel + self.weight[p] * basis[p]\n"
        "        return kernel",
    )
    return answers


STUDENTS_A03: dict[str, Callable[[Answers], Answers] | None] = {
    "alice_perfect": lambda answers: answers,
    "bob_typical_bugs": bob_a03,
    "carol_untouched": None,
    "grace_python_loop": grace_a03,
}
