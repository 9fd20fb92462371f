"""Demo students of assignment 4 (``04_cg_tensor_product``).

=====================  ================================================
student                what the grader should see
=====================  ================================================
alice_perfect          the solution: full marks
bob_typical_bugs       wigner_D returns the transpose D(R)ᵀ = D(R⁻¹);
                       the tensor product ignores parity (paths such as
                       1o ⊗ 1o -> 1o): fails the improper rotations
carol_untouched        the released stubs: zero, cleanly
grace_python_loop      correct, but forward adds the paths into the
                       bilinear form one at a time in a Python loop:
                       loses the structural performance points
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


def bob_a04(answers: Answers) -> Answers:
    """Typical bugs: a transposed Wigner-D, parity ignored in the paths."""
    _edit(
        answers,
        "wigner_D",
        "return exp(alpha, L[1]) @ exp(beta, L[0]) @ exp(gamma, L[1])",
        "D = exp(alpha, L[1]) @ exp(beta, L[0]) @ exp(gamma, L[1])\n"
        "    return D.transpose(-1, -2)  # rows are the rotated basis vectors",
    )
    _edit(
        answers,
        "tensor_product",
        "if abs(l1 - l2) <= l3 <= l1 + l2 and p3 == p1 * p2",
        "if abs(l1 - l2) <= l3 <= l1 + l2",
    )
    return answers


def grace_a04(answers: Answers) -> Answers:
    """Correct, but forward builds the bilinear form path by path."""
    _edit(
        answers,
        "tensor_product",
        "T = T.index_add(0, self.entries, values).view(dim1 * dim2, dim3)",
        "for p in range(len(self.instructions)):  # one path at a time\n"
        "            mine = self.path_of_entry == p\n"
        "            T = T.index_add(0, self.entries[mine], values[mine])\n"
        "        T = T.view(dim1 * dim2, dim3)",
    )
    _edit(
        answers,
        "tensor_product",
        'self.register_buffer("entries", torch.cat(entries), persistent=False)',
        'self.register_buffer("entries", torch.cat(entries), persistent=False)\n'
        "        owner = [torch.full_like(e, p) for p, e in enumerate(entries)]\n"
        '        self.register_buffer("path_of_entry", torch.cat(owner), '
        "persistent=False)",
    )
    return answers


STUDENTS_A04: dict[str, Callable[[Answers], Answers] | None] = {
    "alice_perfect": lambda answers: answers,
    "bob_typical_bugs": bob_a04,
    "carol_untouched": None,
    "grace_python_loop": grace_a04,
}
