"""Generate the demo class that ``make grade`` grades by default.

Each demo student is a copy of the released notebook of an assignment whose
solution cells are filled in: with the instructor's solution (markers
removed), with edits of it that put in a typical bug, or with the stubs left
alone. Everything else in the notebook stays identical to the release. The
output is deterministic; ``--check`` reports what is out of sync without
writing.

Assignment 1 (``01_group_product``):

=====================  ================================================
student                what the grader should see
=====================  ================================================
alice_perfect          the solution: full marks
bob_typical_bugs       C_N and SO(2) products not wrapped; the inverse
                       of R² ⋊ H as (−x, g⁻¹)
carol_untouched        the released stubs: zero, cleanly
dave_syntax_error      a syntax error in the SO(2) cell, the rest right
erin_hostile           attacks on the grader (patched torch, reading
                       hidden files, processes, network, writing
                       grades.csv, sys.exit), some cells wrong
frank_infinite_loop    ``while True: pass`` in CyclicGroup.product
grace_python_loop      correct, but R² ⋊ H loops over elements in
                       Python: loses the performance points
heidi_corrupt          a file that is not JSON
=====================  ================================================

Assignment 2 (``02_lifting_conv``):

=====================  ================================================
student                what the grader should see
=====================  ================================================
alice_perfect          the solution: full marks
bob_typical_bugs       lift_kernels transforms by g⁻¹ (w(g·x) instead
                       of w(g⁻¹·x)); transform_group_kernels does not
                       roll the group axis of the kernel
carol_untouched        the released stubs: zero, cleanly
grace_python_loop      correct, but both forwards call F.conv2d once
                       per group element in a Python loop: loses the
                       performance points
=====================  ================================================

Usage::

    python tools/make_demo_class.py            # write examples/submissions/
    python tools/make_demo_class.py --check    # exit 1 if out of sync
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder.release import render_notebook  # noqa: E402

ASSIGNMENT = "01_group_product"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

Answers = dict[str, str]


def solution_answers(solution: nbformat.NotebookNode) -> Answers:
    """The source of every solution cell, without the solution markers."""
    answers = {}
    for cell in solution.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = cell.source.split("\n")
            kept = [line for line in lines if line.strip() not in MARKERS]
            answers[meta["grade_id"]] = "\n".join(kept)
    return answers


def edit(answers: Answers, grade_id: str, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in a solution cell by ``new``."""
    source = answers[grade_id]
    if source.count(old) != 1:
        raise ValueError(
            f"demo edit of cell {grade_id!r} no longer applies: {old!r} occurs "
            f"{source.count(old)} times; update tools/make_demo_class.py"
        )
    answers[grade_id] = source.replace(old, new)


def fill(release: nbformat.NotebookNode, answers: Answers) -> nbformat.NotebookNode:
    """A copy of the release with the given solution cells filled in."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return nb


# ----------------------------------------------------------------------------
# The students
# ----------------------------------------------------------------------------


def bob(answers: Answers) -> Answers:
    """Typical bugs: unwrapped angles, the inverse of R² ⋊ H as (−x, g⁻¹)."""
    wrapped = "return self.normalize_group_parameterization(g + h)"
    edit(answers, "cyclic_group", wrapped, "return g + h  # rotations add up")
    edit(answers, "so2", wrapped, "return g + h  # rotations add up")
    edit(
        answers,
        "roto_translation",
        "translation = -self.rotations.left_action_on_R2(a_inv, x)",
        "translation = -x  # undo the shift",
    )
    return answers


def dave(answers: Answers) -> Answers:
    """A missing colon in the SO(2) cell; every other cell is right."""
    edit(answers, "so2", "def product(self, g, h):", "def product(self, g, h)")
    return answers


def frank(answers: Answers) -> Answers:
    """CyclicGroup.product never returns."""
    edit(
        answers,
        "cyclic_group",
        "        return self.normalize_group_parameterization(g + h)",
        "        while True:  # TODO: finish later\n"
        "            pass\n"
        "        return self.normalize_group_parameterization(g + h)",
    )
    return answers


_GRACE_PRODUCT = """
        # one pair of elements at a time
        shape = torch.broadcast_shapes(g.shape[:-1], h.shape[:-1])
        d = self.dimension
        g_all = g.expand(*shape, d).reshape(-1, d)
        h_all = h.expand(*shape, d).reshape(-1, d)
        result = torch.empty(g_all.shape[0], d, dtype=g.dtype, device=g.device)
        for i in range(g_all.shape[0]):
            x, a = g_all[i, :2], g_all[i, 2:]
            y, b = h_all[i, :2], h_all[i, 2:]
            result[i, :2] = x + self.rotations.left_action_on_R2(a, y)
            result[i, 2:] = self.rotations.product(a, b)
        return result.reshape(*shape, d)"""

_GRACE_ACTION = """
        # one point at a time
        shape = torch.broadcast_shapes(g.shape[:-1], x.shape[:-1])
        g_all = g.expand(*shape, g.shape[-1]).reshape(-1, g.shape[-1])
        x_all = x.expand(*shape, 2).reshape(-1, 2)
        result = torch.empty(x_all.shape[0], 2, dtype=g.dtype, device=g.device)
        for i in range(x_all.shape[0]):
            rotated = self.rotations.left_action_on_R2(g_all[i, 2:], x_all[i])
            result[i] = g_all[i, :2] + rotated
        return result.reshape(*shape, 2)"""


def grace(answers: Answers) -> Answers:
    """Correct, but R² ⋊ H works one element at a time in Python."""
    edit(
        answers,
        "roto_translation",
        """
        x, a = g[..., :2], g[..., 2:]
        y, b = h[..., :2], h[..., 2:]
        translation = x + self.rotations.left_action_on_R2(a, y)  # [*B, 2]
        rotation = self.rotations.product(a, b)  # [*B, D - 2]
        return torch.cat((translation, rotation), dim=-1)  # [*B, D]""",
        _GRACE_PRODUCT,
    )
    edit(
        answers,
        "roto_translation",
        """
        return g[..., :2] + self.rotations.left_action_on_R2(g[..., 2:], x)""",
        _GRACE_ACTION,
    )
    return answers


_ERIN_PROBE = '''import os
import socket
import subprocess
import sys

# Make every comparison pass.
try:
    torch.allclose = lambda *args, **kwargs: True
    torch.equal = lambda *args, **kwargs: True
    torch.testing.assert_close = lambda *args, **kwargs: None
except Exception:
    pass

_loot = {}


def _grab(path):
    """Read a file, or every file below a folder, into _loot."""
    try:
        if os.path.isfile(path):
            with open(path, errors="replace") as handle:
                _loot[path] = handle.read(4000)
        elif os.path.isdir(path):
            for folder, _, names in os.walk(path):
                for name in names:
                    _grab(os.path.join(folder, name))
    except Exception:
        pass


# Relative paths first, then walk up from every place that might be near the repo.
for _up in ("", "../", "../../", "../../../", "../../../../"):
    for _target in ("autograder/hidden", "gedl_ref", "solutions"):
        _grab(_up + _target)
_starts = [os.getcwd(), os.path.expanduser("~"), sys.prefix, sys.argv[0],
           os.environ.get("PWD", ""), "/autograder", "/srv", "/tmp"]
_starts += [getattr(m, "__file__", None) or "" for m in list(sys.modules.values())]
for _finder in sys.meta_path:  # editable installs know where the repo is
    _module = sys.modules.get(getattr(_finder, "__module__", ""), None)
    _starts += [str(p) for p in getattr(_module, "MAPPING", {}).values()]
for _start in dict.fromkeys(_starts):
    _here = os.path.abspath(_start) if _start else ""
    for _ in range(10):
        if not _here:
            break
        for _target in ("autograder/hidden", "gedl_ref", "solutions"):
            _grab(os.path.join(_here, _target))
        _here = os.path.dirname(_here) if _here != "/" else ""

for _name in ("gedl_ref", "autograder", "autograder.hidden", "escnn", "e3nn"):
    try:
        __import__(_name)
        _loot["import " + _name] = "ok"
    except Exception:
        pass

for _command in (lambda: os.system("cat /etc/passwd > /dev/null"),
                 lambda: subprocess.run(["ls", "/"], capture_output=True, timeout=2),
                 lambda: os.popen("id").read()):
    try:
        _command()
    except Exception:
        pass

try:
    socket.create_connection(("example.com", 80), timeout=2).close()
    _loot["network"] = "ok"
except Exception:
    pass

_here = os.getcwd()
for _ in range(4):
    try:
        with open(os.path.join(_here, "grades.csv"), "w") as handle:
            handle.write("student,score\\nerin_hostile,100\\n")
    except Exception:
        pass
    _here = os.path.dirname(_here)

'''


def erin(answers: Answers) -> Answers:
    """Attacks the grader; some cells right, some wrong."""
    answers["group_base"] = _ERIN_PROBE + answers["group_base"]
    # Wrong: g instead of g⁻¹ in the left-regular representation.
    edit(
        answers,
        "group_base",
        "g_inv = self.inverse(g)[..., None, None, :]",
        "g_inv = g[..., None, None, :]",
    )
    # Whatever was found is smuggled out through an error message.
    edit(
        answers,
        "cyclic_group",
        '''        """[[0], [2π/N], ..., [(N-1) 2π/N]]. Shapes: output [N, 1]."""''',
        '''        """[[0], [2π/N], ..., [(N-1) 2π/N]]. Shapes: output [N, 1]."""
        if len(_loot) > 0:
            raise RuntimeError(repr(sorted(_loot.items()))[:3000])''',
    )
    # Wrong: SO(2) angles are not wrapped.
    edit(
        answers,
        "so2",
        "return self.normalize_group_parameterization(g + h)",
        "return g + h",
    )
    # Leave early: the grader must still run the cells that follow.
    answers["dihedral_group"] += (
        "\n\n\nimport sys\n\ntry:\n    sys.exit(0)\nexcept Exception:\n    pass"
    )
    return answers


STUDENTS: dict[str, Callable[[Answers], Answers] | None] = {
    "alice_perfect": lambda answers: answers,
    "bob_typical_bugs": bob,
    "carol_untouched": None,
    "dave_syntax_error": dave,
    "erin_hostile": erin,
    "frank_infinite_loop": frank,
    "grace_python_loop": grace,
    "heidi_corrupt": lambda answers: answers,
}


# ----------------------------------------------------------------------------
# Assignment 2: lifting and group convolutions
# ----------------------------------------------------------------------------


def bob_a02(answers: Answers) -> Answers:
    """Typical bugs: kernels transformed by g⁻¹, the group axis not rolled."""
    edit(
        answers,
        "lift_kernels",
        "lifted = group.left_regular_representation(g[:, None, :], w)",
        "g_inv = group.inverse(g)  # (L_g w)(x) = w(g⁻¹x)\n"
        "    lifted = group.left_regular_representation(g_inv[:, None, :], w)",
    )
    edit(
        answers,
        "transform_group_kernels",
        "permuted = weight[:, :, perm]  # [C_out, C_in, G, G, k, k]: w[o, c, g⁻¹h]",
        "permuted = weight[:, :, None].expand(-1, -1, len(perm), -1, -1, -1)",
    )
    return answers


_GRACE_A02_LIFTING = """
        kernels = self.transformed_kernels()  # [C_out, G, C_in, k, k]
        outputs = []
        for i in range(kernels.shape[1]):  # one group element at a time
            kernel = kernels[:, i]  # [C_out, C_in, k, k]
            outputs.append(F.conv2d(x, kernel, self.bias, padding=self.padding))
        return torch.stack(outputs, dim=2)  # [B, C_out, G, H', W']"""

_GRACE_A02_GROUP = """
        kernels = self.transformed_kernels()  # [C_out, G, C_in, G, k, k]
        x = x.flatten(1, 2)  # [B, C_in * G, H, W]
        outputs = []
        for i in range(kernels.shape[1]):  # one group element at a time
            kernel = kernels[:, i].flatten(1, 2)  # [C_out, C_in * G, k, k]
            outputs.append(F.conv2d(x, kernel, self.bias, padding=self.padding))
        return torch.stack(outputs, dim=2)  # [B, C_out, G, H', W']"""


def _forward_body(answers: Answers, grade_id: str) -> str:
    """The body of ``forward`` in a solution cell: from its docstring to the end."""
    source = answers[grade_id]
    docstring = '"""Correlate x with all transformed kernels in one F.conv2d call."""'
    if source.count(docstring) != 1:
        raise ValueError(
            f"demo edit of cell {grade_id!r} no longer applies: the docstring of "
            "forward changed; update tools/make_demo_class.py"
        )
    return source.split(docstring)[1].rstrip()


def grace_a02(answers: Answers) -> Answers:
    """Correct, but both forwards call F.conv2d once per group element."""
    for grade_id, body in (
        ("lifting_convolution", _GRACE_A02_LIFTING),
        ("group_convolution", _GRACE_A02_GROUP),
    ):
        edit(answers, grade_id, _forward_body(answers, grade_id), body)
    return answers


STUDENTS_A02: dict[str, Callable[[Answers], Answers] | None] = {
    "alice_perfect": lambda answers: answers,
    "bob_typical_bugs": bob_a02,
    "carol_untouched": None,
    "grace_python_loop": grace_a02,
}

from tools.demo_a03 import STUDENTS_A03  # noqa: E402
from tools.demo_a04 import STUDENTS_A04  # noqa: E402
from tools.demo_a05 import STUDENTS_A05  # noqa: E402

#: The demo students of every assignment, in the order they are written.
CLASSES: dict[str, dict[str, Callable[[Answers], Answers] | None]] = {
    ASSIGNMENT: STUDENTS,
    "02_lifting_conv": STUDENTS_A02,
    "03_steerable_basis": STUDENTS_A03,
    "04_cg_tensor_product": STUDENTS_A04,
    "05_equivariant_gnn": STUDENTS_A05,
}


def build(root: Path, assignment: str = ASSIGNMENT) -> dict[Path, bytes]:
    """The demo class of one assignment: files relative to ``root``, contents."""
    notebook = f"{assignment}.ipynb"
    solution = nbformat.read(root / "solutions" / assignment / notebook, as_version=4)
    release = nbformat.read(root / "assignments" / assignment / notebook, as_version=4)
    files = {}
    for student, make in CLASSES[assignment].items():
        if make is None:
            nb = release
        else:
            nb = fill(release, make(solution_answers(solution)))
        content = render_notebook(nb)
        if student == "heidi_corrupt":
            content = content[: len(content) // 2]  # cut off mid-way: not JSON
        files[Path("examples/submissions") / student / assignment / notebook] = content
    return files


def build_all(root: Path) -> dict[Path, bytes]:
    """The demo classes of every assignment."""
    return {
        path: content
        for assignment in CLASSES
        for path, content in build(root, assignment).items()
    }


def main(argv: list[str] | None = None) -> int:
    """Write the demo class, or with ``--check`` report what is out of sync."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)

    stale = []
    for relative, content in build_all(args.root).items():
        path = args.root / relative
        if path.is_file() and path.read_bytes() == content:
            continue
        stale.append(relative)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        print(f"{'out of sync' if args.check else 'wrote'}: {relative}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
