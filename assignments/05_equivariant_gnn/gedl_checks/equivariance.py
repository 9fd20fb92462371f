"""Measure how equivariant a map is, element by element.

A map ``f`` is equivariant when transforming its input transforms its output:

    f(ρ_in(g) x) = ρ_out(g) f(x)    for every group element g.

:func:`check_equivariance` measures, for each element ``g``, the relative error

    err(g) = ||f(ρ_in(g) x) - ρ_out(g) f(x)|| / ||ρ_out(g) f(x)||

(Frobenius norms over all entries, in float64) and compares it with a
tolerance. A zero map, or a map that ignores its input, is trivially
equivariant, so the check also puts a floor under the output: ``||f(x)||``
must not be negligible next to ``||x||`` and, when a second input ``x'`` is
given, ``f(x')`` must differ from ``f(x)``.

The same helper serves the public checks in the notebooks and the hidden
tests of the grader. It needs nothing but torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["EquivarianceReport", "assert_equivariant", "check_equivariance"]

#: Denominators are never smaller than this, so a zero output gives no NaN.
_TINY = 1e-30
#: At most this many notes (NaN, shape mismatches) are kept in a report.
_MAX_NOTES = 5


@dataclass
class EquivarianceReport:
    """What :func:`check_equivariance` measured.

    Attributes:
        labels: one label per group element, e.g. ``"g=(1.571)"``.
        errors: the relative error per element (``inf`` where the output was
            NaN or inf, or the two sides had different shapes).
        tolerance: the largest relative error that passes.
        output_norm: ``||f(x)||``.
        output_change: ``||f(x) - f(x_other)||`` when a second input was
            given, else None.
        floor: the relative floor: the output must satisfy
            ``||f(x)|| > floor * ||x||`` and, when ``x_other`` was given,
            ``||f(x) - f(x_other)|| > floor * ||f(x)||``.
        input_norm: ``||x||``.
        notes: what went wrong besides a large error (NaN, shapes).
    """

    labels: list[str]
    errors: list[float]
    tolerance: float
    output_norm: float
    output_change: float | None
    floor: float
    input_norm: float = 1.0
    notes: list[str] = field(default_factory=list)

    @property
    def output_is_negligible(self) -> bool:
        """True when ``||f(x)||`` is at or below ``floor * ||x||``."""
        return self.output_norm <= self.floor * max(self.input_norm, _TINY)

    @property
    def output_is_constant(self) -> bool:
        """True when ``f(x')`` was given and barely differs from ``f(x)``."""
        if self.output_change is None:
            return False
        return self.output_change <= self.floor * self.output_norm

    @property
    def failures(self) -> list[int]:
        """Indices of the elements whose error exceeds the tolerance."""
        return [i for i, e in enumerate(self.errors) if not e <= self.tolerance]

    @property
    def ok(self) -> bool:
        """True when every error is within tolerance and the output is alive."""
        return (
            not self.failures
            and math.isfinite(self.output_norm)
            and not self.output_is_negligible
            and not self.output_is_constant
        )

    @property
    def worst(self) -> tuple[str, float]:
        """The label and error of the element with the largest error."""
        i = max(range(len(self.errors)), key=lambda j: _sort_key(self.errors[j]))
        return self.labels[i], self.errors[i]

    def message(self, what: str) -> str:
        """One paragraph saying whether ``what`` is equivariant, and why not.

        Args:
            what: the map under test, e.g. ``"the lifting convolution"``.
        """
        label, error = self.worst
        n, failed = len(self.errors), len(self.failures)
        formula = "||f(g·x) - g·f(x)|| / ||g·f(x)||"
        if failed:
            parts = [
                f"{what} is not equivariant: {failed} of {n} group elements fail; "
                f"the worst is {label}, where {formula} = {_number(error)}, "
                f"above the tolerance {self.tolerance:.1e}."
            ]
        else:
            parts = [
                f"{what} is equivariant within the tolerance {self.tolerance:.1e} "
                f"on all {n} group elements (largest relative error "
                f"{_number(error)}, at {label})."
            ]
        parts += self.notes
        if not math.isfinite(self.output_norm):
            parts.append("f(x) itself contains NaN or inf.")
        elif self.output_is_negligible:
            parts.append(
                f"But the output is (almost) zero (||f(x)|| = "
                f"{self.output_norm:.2e}, not above {self.floor:.0e}·||x|| = "
                f"{self.floor * self.input_norm:.2e}): a zero map would pass this "
                "check, so it does not count."
            )
        elif self.output_is_constant:
            parts.append(
                f"But the output does not depend on the input (||f(x) - f(x')|| "
                f"= {self.output_change:.2e}, not above {self.floor:.0e}·||f(x)||): "
                "a constant map would pass this check, so it does not count."
            )
        return " ".join(parts)


def check_equivariance(
    fn: Callable[[Any], Any],
    elements: Iterable[Any],
    act_in: Callable[[Any, Any], Any],
    act_out: Callable[[Any, Any], Any],
    x: Any,
    *,
    tolerance: float,
    floor: float = 1e-6,
    x_other: Any = None,
    labels: Sequence[str] | None = None,
) -> EquivarianceReport:
    """Measure ``f(ρ_in(g) x) = ρ_out(g) f(x)`` for each group element ``g``.

    Args:
        fn: the map ``f``.
        elements: the group elements to test: a sequence, or a tensor whose
            first axis runs over the elements.
        act_in: ``act_in(g, x)`` is ``ρ_in(g) x``.
        act_out: ``act_out(g, y)`` is ``ρ_out(g) y``.
        x: the input; a tensor, or a tuple / list / dict of tensors.
        tolerance: the largest relative error that passes.
        floor: relative floor under the output (see :class:`EquivarianceReport`).
        x_other: a second input, different from ``x``; when given, the check
            also fails for a map whose output does not depend on its input.
        labels: one label per element; by default the element's parameters.

    Returns:
        The report; ``report.ok`` says whether the check passed and
        ``report.message(what)`` says why in words.

    Raises:
        ValueError: when there are no elements or the labels do not match.
        TypeError: when an input or output holds something other than tensors.

    Example:
        >>> f = torch.arange(9.0).reshape(3, 3)
        >>> rot = lambda k, t: torch.rot90(t, k, dims=(-2, -1))
        >>> check_equivariance(torch.square, range(4), rot, rot, f,
        ...                    tolerance=1e-12).errors
        [0.0, 0.0, 0.0, 0.0]
    """
    elements = list(elements)
    if not elements:
        raise ValueError("elements is empty: give at least one group element")
    if labels is None:
        labels = [_label(g) for g in elements]
    elif len(labels) != len(elements):
        raise ValueError(
            f"got {len(labels)} labels for {len(elements)} elements; "
            "give one label per element"
        )

    notes: list[str] = []
    y = fn(x)
    y64 = _flatten(y, "fn(x)")
    output_norm = _norm(y64)
    input_norm = _norm(_flatten(x, "x"))
    output_change = None
    if x_other is not None:
        other = _flatten(fn(x_other), "fn(x_other)")
        output_change = _distance(y64, other, "f(x) and f(x')", notes)

    errors = []
    for g, label in zip(elements, labels, strict=True):
        lhs = _flatten(fn(act_in(g, x)), "fn(act_in(g, x))")
        rhs = _flatten(act_out(g, y), "act_out(g, fn(x))")
        difference = _distance(lhs, rhs, f"f(g·x) and g·f(x) at {label}", notes)
        if math.isfinite(difference):
            errors.append(difference / max(_norm(rhs), _TINY))
        else:
            errors.append(math.inf)
    return EquivarianceReport(
        labels=list(labels),
        errors=errors,
        tolerance=tolerance,
        output_norm=output_norm,
        output_change=output_change,
        floor=floor,
        input_norm=input_norm,
        notes=notes,
    )


def assert_equivariant(
    fn: Callable[[Any], Any],
    elements: Iterable[Any],
    act_in: Callable[[Any, Any], Any],
    act_out: Callable[[Any, Any], Any],
    x: Any,
    *,
    tolerance: float,
    what: str = "the map",
    floor: float = 1e-6,
    x_other: Any = None,
    labels: Sequence[str] | None = None,
) -> EquivarianceReport:
    """Run :func:`check_equivariance` and raise when it fails.

    Args: as :func:`check_equivariance`, plus ``what``, the name of the map
    used in the message.

    Returns:
        The report, when the check passed.

    Raises:
        AssertionError: with ``report.message(what)`` when the check failed.
    """
    __tracebackhide__ = True  # pytest: show the caller, not this helper
    report = check_equivariance(
        fn,
        elements,
        act_in,
        act_out,
        x,
        tolerance=tolerance,
        floor=floor,
        x_other=x_other,
        labels=labels,
    )
    if not report.ok:
        raise AssertionError(report.message(what))
    return report


def _flatten(value: Any, name: str) -> list[torch.Tensor]:
    """The tensors of a (nested) tuple / list / dict, detached, in float64."""
    if isinstance(value, torch.Tensor):
        wide = torch.complex128 if value.is_complex() else torch.float64
        return [value.detach().to(wide)]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flatten(item, name)]
    if isinstance(value, dict):
        return [t for key in sorted(value, key=str) for t in _flatten(value[key], name)]
    raise TypeError(
        f"{name} should be a tensor (or a tuple / list / dict of tensors), "
        f"got {type(value).__name__}"
    )


def _norm(tensors: list[torch.Tensor]) -> float:
    """Frobenius norm of all entries of all tensors (NaN if any is NaN)."""
    total = sum(float(torch.linalg.vector_norm(t)) ** 2 for t in tensors)
    return math.sqrt(total)


def _distance(
    a: list[torch.Tensor], b: list[torch.Tensor], what: str, notes: list[str]
) -> float:
    """``||a - b||``, or inf (with a note) for NaN, inf or mismatched shapes."""
    shapes_a = [tuple(t.shape) for t in a]
    shapes_b = [tuple(t.shape) for t in b]
    if shapes_a != shapes_b:
        _note(notes, f"The shapes of {what} differ: {shapes_a} vs {shapes_b}.")
        return math.inf
    if not all(bool(torch.isfinite(t).all()) for t in (*a, *b)):
        _note(notes, f"NaN or inf in {what}.")
        return math.inf
    return _norm([s - t for s, t in zip(a, b, strict=True)])


def _note(notes: list[str], note: str) -> None:
    if len(notes) < _MAX_NOTES and note not in notes:
        notes.append(note)


def _label(g: Any) -> str:
    """Default label of a group element: its parameters, rounded."""
    if isinstance(g, torch.Tensor):
        values = g.detach().reshape(-1).tolist()
        return "g=(" + ", ".join(_number(float(v), 4) for v in values) + ")"
    return f"g={g!r}"


def _number(value: float, digits: int = 3) -> str:
    """A float in a short form; NaN and inf spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf"
    return f"{value:.{digits}g}"


def _sort_key(error: float) -> float:
    return math.inf if math.isnan(error) else error
