"""Running notebooks in a real Jupyter kernel, for the tests that need it.

The kernel is this interpreter (``kernel_env`` in conftest.py writes a
``python3`` kernel spec for it into a temporary ``JUPYTER_PATH``), so a
notebook sees exactly the packages the tests see.
"""

from __future__ import annotations

from pathlib import Path

import nbformat


def execute(nb: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in ``folder``, errors recorded, not raised."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return nb


def errors(cell) -> list[str]:
    """The errors a cell raised, as ``"Name: message"``."""
    return [
        f"{out['ename']}: {out['evalue']}"
        for out in cell.get("outputs", [])
        if out["output_type"] == "error"
    ]


def printed(cell) -> str:
    """What a cell printed."""
    return "".join(out.get("text", "") for out in cell.get("outputs", []))


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")
