"""Generate the student release of every assignment from ``solutions/``.

For each source notebook ``solutions/NN_topic/NN_topic.ipynb`` this writes
``assignments/NN_topic/NN_topic.ipynb`` with nbgrader's own preprocessors,
used directly as Python objects (no nbgrader app, database or config):

- ``LockCells`` marks locked and solution cells undeletable / read-only;
- ``ClearSolutions`` replaces every ``### BEGIN SOLUTION`` ... ``### END
  SOLUTION`` region by ``raise NotImplementedError()``;
- ``ClearOutput`` drops outputs and execution counts;
- ``ClearHiddenTests`` and ``ClearMarkScheme`` drop hidden-test and
  mark-scheme regions;
- ``ComputeChecksums`` records nbgrader's checksum of each graded or locked
  cell, as ``nbgrader generate_assignment`` would;
- ``CheckCellMetadata`` validates the nbgrader metadata.

It also copies the public checks an assignment uses (the shared modules of
``gedl_checks/``, its own ``aNN_*.py`` and what they import) into
``assignments/NN_topic/gedl_checks/``, so that a released folder is
self-contained and carries no other assignment's checks. Files are written
deterministically (sorted keys, trailing newline): running the release twice
gives identical bytes, and ``release(root, check=True)`` reports any file
that is out of sync without writing anything.

Usage::

    python -m autograder.release            # regenerate assignments/
    python -m autograder.release --check    # exit 1 if assignments/ is stale
"""

from __future__ import annotations

import argparse
import copy
import logging
import re
from pathlib import Path

import nbformat

__all__ = ["main", "release", "release_notebook", "render_notebook"]

log = logging.getLogger(__name__)

#: Source folders look like ``solutions/01_group_product``.
_ASSIGNMENT_DIR = re.compile(r"^\d\d_[A-Za-z0-9_]+$")
#: The package of public checks shipped with every assignment.
_CHECKS = "gedl_checks"
#: Cell metadata left behind by Jupyter or nbclient that a release must not keep.
_VOLATILE_METADATA = {"collapsed", "scrolled", "execution", "ExecuteTime"}


def _preprocessors() -> list:
    """nbgrader's preprocessors, in the order generate_assignment runs them."""
    # Imported here: nbgrader is slow to import and only the release needs it.
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    return [
        LockCells(),
        ClearSolutions(),
        ClearOutput(remove_metadata_fields=_VOLATILE_METADATA),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
        CheckCellMetadata(),
    ]


def release_notebook(
    source: nbformat.NotebookNode,
) -> nbformat.NotebookNode:
    """Return the student version of a source notebook (the input is unchanged).

    Args:
        source: a notebook with nbgrader metadata and solution markers.

    Returns:
        A new notebook without solutions, outputs or hidden tests.
    """
    nb = copy.deepcopy(source)
    resources: dict = {}
    for preprocessor in _preprocessors():
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


def render_notebook(nb: nbformat.NotebookNode) -> bytes:
    """Serialise a notebook deterministically: sorted keys, trailing newline."""
    text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


def _planned_files(root: Path) -> dict[Path, bytes]:
    """Every file of the release, relative to ``root``, with its content."""
    checks = {
        path.relative_to(root / _CHECKS): path.read_bytes()
        for path in sorted((root / _CHECKS).rglob("*.py"))
        if "__pycache__" not in path.parts
    }
    files: dict[Path, bytes] = {}
    for folder in sorted((root / "solutions").iterdir()):
        if not folder.is_dir() or not _ASSIGNMENT_DIR.match(folder.name):
            continue
        source_path = folder / f"{folder.name}.ipynb"
        if not source_path.is_file():
            log.warning("skipping %s: it has no %s", folder, source_path.name)
            continue
        source = nbformat.read(source_path, as_version=nbformat.NO_CONVERT)
        target = Path("assignments") / folder.name
        files[target / source_path.name] = render_notebook(release_notebook(source))
        for relative in _checks_for(folder.name, checks):
            files[target / _CHECKS / relative] = checks[relative]
    return files


def _checks_for(assignment: str, checks: dict[Path, bytes]) -> list[Path]:
    """The public-check files an assignment folder ships: the shared modules
    (``__init__``, ``runner``, ``equivariance``), its own ``aNN_*.py`` and
    every check module those import, so no folder carries the others'."""
    number = assignment[:2]
    own = re.compile(r"^a\d\d_")
    wanted = [
        path for path in checks if not own.match(path.name) or path.name[1:3] == number
    ]
    seen = set(wanted)
    while wanted:
        source = checks[wanted.pop()].decode("utf-8")
        for name in re.findall(rf"^from {_CHECKS}\.(\w+) import", source, re.M):
            path = Path(f"{name}.py")
            if path in checks and path not in seen:
                seen.add(path)
                wanted.append(path)
    return sorted(seen)


def _stale_files(root: Path, planned: dict[Path, bytes]) -> list[Path]:
    """Public-check files in the release that no longer have a source."""
    stale = []
    for folder in sorted({path.parts[1] for path in planned}):
        checks_dir = root / "assignments" / folder / _CHECKS
        if not checks_dir.is_dir():
            continue
        for path in sorted(checks_dir.rglob("*.py")):
            relative = path.relative_to(root)
            if "__pycache__" not in path.parts and relative not in planned:
                stale.append(relative)
    return stale


def release(root: Path, check: bool = False) -> list[str]:
    """Generate (or, with ``check``, verify) ``assignments/`` from ``solutions/``.

    Args:
        root: the repository root (holding ``solutions/``, ``gedl_checks/``
            and ``assignments/``).
        check: when True, write nothing and report what is out of sync.

    Returns:
        With ``check``: one human-readable line per file that is missing,
        different or stale; an empty list means the release is in sync.
        Without: one line per file written or removed.
    """
    root = Path(root)
    planned = _planned_files(root)
    changes = []
    for relative, content in planned.items():
        path = root / relative
        if path.is_file() and path.read_bytes() == content:
            continue
        if check:
            state = "differs from" if path.exists() else "is missing from"
            changes.append(f"{relative} {state} what solutions/ and {_CHECKS}/ give")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        log.info("wrote %s", relative)
        changes.append(f"wrote {relative}")

    for relative in _stale_files(root, planned):
        if check:
            changes.append(f"{relative} is stale: {_CHECKS}/ has no such file")
            continue
        (root / relative).unlink()
        log.info("removed %s", relative)
        changes.append(f"removed {relative}")
    return changes


def main(argv: list[str] | None = None) -> int:
    """Command line: regenerate the release, or check it with ``--check``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder.release",
        description="Generate assignments/ from solutions/ and gedl_checks/.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit with status 1 if assignments/ is out of sync",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parents[1],
        help="repository root (default: the checkout holding this file)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")

    changes = release(args.root, check=args.check)
    if args.check:
        for line in changes:
            print(line)
        if changes:
            print("assignments/ is out of sync: run `make release`")
            return 1
        print("assignments/ is in sync with solutions/")
        return 0
    for line in changes:
        print(line)
    print(f"release: {len(changes)} file(s) changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
