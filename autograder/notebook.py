"""From a submitted notebook to the code the worker runs.

The program is built from the instructor's copy of the assignment (the
released notebook): in its order, every locked setup cell (``grade_id``
starting with ``setup``) comes from the instructor's copy, every solution
cell from the student's copy with the same ``grade_id``. Everything else in
the student's notebook (check cells, extra cells, edited locked cells) is
ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["NotebookError", "Program", "build_program", "read_notebook"]

_MAX_NOTEBOOK = 32 << 20


class NotebookError(ValueError):
    """The submission cannot be read as a notebook; the message says why."""


@dataclass
class Program:
    """The graded cells, in order, and what was noticed while building them."""

    cells: list[dict[str, str]]
    notes: list[str] = field(default_factory=list)


def read_notebook(path: Path) -> dict[str, Any]:
    """Parse an ``.ipynb`` file, with a clear error for anything else."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise NotebookError(f"{path.name} cannot be opened: {error.strerror}") from None
    if size > _MAX_NOTEBOOK:
        raise NotebookError(f"{path.name} is {size >> 20} MiB; the limit is 32 MiB")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookError(
            f"{path.name} is not a valid notebook (JSON error: {error}); "
            "re-download it from Jupyter with File → Save and submit again"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"{path.name} is JSON but has no list of cells")
    return data


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(s) for s in source)
    return str(source)


def _grade_id(cell: Any) -> str | None:
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return None
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    if not isinstance(nbgrader, dict):
        return None
    grade_id = nbgrader.get("grade_id")
    return str(grade_id) if grade_id else None


def build_program(instructor: dict[str, Any], student: dict[str, Any]) -> Program:
    """The cells to run: instructor's setup cells, student's solution cells."""
    answers: dict[str, str] = {}
    for cell in student["cells"]:
        grade_id = _grade_id(cell)
        if grade_id and grade_id not in answers:
            answers[grade_id] = _source(cell)
    program = Program(cells=[])
    for cell in instructor["cells"]:
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        nbgrader = cell["metadata"]["nbgrader"]
        if grade_id.startswith("setup"):
            program.cells.append({"id": grade_id, "source": _source(cell)})
        elif nbgrader.get("solution"):
            if grade_id in answers:
                program.cells.append({"id": grade_id, "source": answers[grade_id]})
            else:
                program.notes.append(
                    f"cell `{grade_id}` is missing from your notebook (was it deleted "
                    "or its metadata lost?); what it defines counts as not done"
                )
    return program
