"""How every public check runs and speaks to the student.

A check is a list of named properties, each a function that returns nothing
when the property holds and calls :func:`fail` with a message written for the
student when it does not. :func:`run` tries them in order, stops at the first
failure and raises :class:`CheckFailed` with the property's name; when all
hold it prints one line. An error raised by the student's code becomes a
message naming the exception, and a stub that still raises
``NotImplementedError`` becomes "not implemented yet: <the method>".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn

__all__ = ["CheckFailed", "Failure", "fail", "guard", "not_implemented", "run"]


class CheckFailed(AssertionError):
    """A public check failed; the message says which property and why."""


class Failure(Exception):
    """One property failed; the message is written for the student."""


def fail(message: str) -> NoReturn:
    """Stop the current property with ``message``."""
    raise Failure(message)


def guard(title: str, name: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; turn any error into a :class:`CheckFailed` for the student."""
    try:
        return fn()
    except Failure as failure:
        raise CheckFailed(f"{title}, {name}: {failure}") from None
    except NotImplementedError as error:
        raise CheckFailed(not_implemented(error)) from None
    except Exception as error:
        raise CheckFailed(
            f"{title}, {name}: your code raised {type(error).__name__}: {error} "
            "(the traceback above shows where)"
        ) from error


def run(title: str, checks: Sequence[tuple[str, Callable[[], None]]]) -> None:
    """Run property checks in order, stop at the first failure, print a line."""
    for name, check in checks:
        guard(title, name, check)
    names = ", ".join(name for name, _ in checks)
    print(f"✓ {title}: {names} ({len(checks)} checks passed)")


def not_implemented(error: NotImplementedError) -> str:
    """Name the function or method that still raises NotImplementedError."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = "a function"
    if tb is not None:
        frame = tb.tb_frame
        name = frame.f_code.co_name
        owner = frame.f_locals.get("self")
        if owner is not None:
            defined_in = type(owner).__name__
            for cls in type(owner).__mro__:
                function = cls.__dict__.get(name)
                if getattr(function, "__code__", None) is frame.f_code:
                    defined_in = cls.__name__
                    break
            name = f"{defined_in}.{name}"
    detail = f" ({error})" if str(error) else ""
    return (
        f"not implemented yet: {name}{detail}. Replace the "
        "`raise NotImplementedError()` line with your code and run this cell "
        "again."
    )
