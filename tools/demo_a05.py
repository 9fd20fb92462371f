"""Demo students of assignment 5 (``05_equivariant_gnn``).

=====================  ================================================
student                what the grader should see
=====================  ================================================
alice_perfect          the solution: full marks
bob_typical_bugs       the coordinate update moves x along the absolute
                       positions x_i instead of x_i − x_j (not
                       translation equivariant); messages averaged
                       instead of summed
carol_untouched        the released stubs: zero, cleanly
grace_python_loop      correct, but the layer builds dense N × N
                       tensors over all pairs of nodes: loses the
                       performance points
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


def bob_a05(answers: Answers) -> Answers:
    """Typical bugs: absolute positions in the update, mean of messages."""
    _edit(
        answers,
        "egnn_layer",
        "x_new = x + scatter_mean(diff * self.coord_mlp(m), i, n)  # [N, 3]",
        "x_new = x + scatter_mean(x[i] * self.coord_mlp(m), i, n)  # [N, 3]",
    )
    _edit(
        answers,
        "egnn_layer",
        "m_i = scatter_sum(m, i, n)  # [N, hidden]",
        "m_i = scatter_mean(m, i, n)  # [N, hidden]",
    )
    return answers


_SPARSE = """n = h.shape[0]
        j, i = edge_index  # source, target
        diff = x[i] - x[j]  # [E, 3]"""

_DENSE = """n = h.shape[0]
        j, i = edge_index  # source, target
        # every pair of nodes, masked by the adjacency matrix
        adj = torch.zeros(n, n, 1, dtype=h.dtype, device=h.device)
        adj[i, j] = 1.0
        a = torch.zeros(n, n, self.edge_dim, dtype=h.dtype, device=h.device)
        if self.edge_dim:
            a[i, j] = edge_attr
        diff = x[:, None, :] - x[None, :, :]  # [N, N, 3]
        dist2 = (diff * diff).sum(-1, keepdim=True)  # [N, N, 1]
        parts = [h[:, None].expand(n, n, -1), h[None].expand(n, n, -1), dist2, a]
        m = self.edge_mlp(torch.cat(parts, dim=-1)) * adj  # [N, N, hidden]
        if self.attention:
            m = m * torch.sigmoid(self.att_mlp(m))
        if self.normalize:
            diff = diff / (dist2.sqrt() + self.norm_constant)
        degree = adj.sum(1).clamp(min=1)  # [N, 1]
        x_new = x + (diff * self.coord_mlp(m) * adj).sum(1) / degree
        if self.velocity:
            x_new = x_new + self.vel_mlp(h) * v
        h_new = self.node_mlp(torch.cat([h, m.sum(1)], dim=-1))
        if self.residual:
            h_new = h + h_new
        return h_new, x_new"""


def grace_a05(answers: Answers) -> Answers:
    """Correct, but dense: every pair of nodes, masked by adjacency."""
    source = answers["egnn_layer"]
    start = source.index(_SPARSE)
    end = source.index("return h_new, x_new", start) + len("return h_new, x_new")
    _edit(answers, "egnn_layer", source[start:end], _DENSE)
    return answers


STUDENTS_A05: dict[str, Callable[[Answers], Answers] | None] = {
    "alice_perfect": lambda answers: answers,
    "bob_typical_bugs": bob_a05,
    "carol_untouched": None,
    "grace_python_loop": grace_a05,
}
