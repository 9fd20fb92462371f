"""What hidden tests are written with.

A hidden test is a function in ``autograder/hidden/<assignment>/test_*.py``
marked with `graded`, whose arguments are fixtures the runner provides:

- ``student``: the submission's namespace in its worker (`Remote`);
- ``session``: its `Session` (for backward passes);
- ``rng``: a `torch.Generator` seeded from the test's id;
- ``perf``: `Perf`, to time the student against the reference;
- ``feedback``: `Feedback`, to attach data (plots) to the test's report;
- ``device``: the device performance tests run on (``cpu`` or ``cuda``).

A test passes by returning None, earns part of its points by returning a
fraction in [0, 1], and fails by raising `GradingFailure` (or
AssertionError) with a message for the student. A `StudentError` raised by
the submission's code fails it too, with the error's own message.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from autograder.remote import Remote, Session, StudentError

__all__ = [
    "CATEGORIES",
    "Feedback",
    "GradingFailure",
    "Perf",
    "as_tensor",
    "assert_close",
    "graded",
]

CATEGORIES = ("correctness", "equivariance", "performance")


class GradingFailure(AssertionError):
    """A failed check, with a message written for the student."""


def graded(points: float, category: str, timeout: float | None = None):
    """Mark a hidden test: its points (shared by its parametrized cases) and
    its category; ``timeout`` overrides the per-call limit in seconds."""
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {CATEGORIES}, not {category!r}")
    if not points > 0:
        raise ValueError(f"points must be positive, got {points!r}")

    def mark(function: Callable) -> Callable:
        function.__gedl__ = {"points": points, "category": category, "timeout": timeout}
        return pytest.mark.gedl(points=points, category=category)(function)

    return mark


def as_tensor(
    value: Any, what: str, shape: tuple[int, ...] | None = None, dtype=None
) -> torch.Tensor:
    """Check that a student's output is a tensor of the expected shape/dtype."""
    if not isinstance(value, torch.Tensor):
        kind = "an object" if isinstance(value, Remote) else type(value).__name__
        raise GradingFailure(f"{what} should return a torch.Tensor, got {kind}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise GradingFailure(
            f"{what} returned shape {list(value.shape)}, expected {list(shape)}"
        )
    if dtype is not None and value.dtype != dtype:
        raise GradingFailure(f"{what} returned dtype {value.dtype}, expected {dtype}")
    return value


def assert_close(
    actual: Any,
    expected: torch.Tensor,
    what: str,
    *,
    atol: float,
    rtol: float = 0.0,
    hint: str = "",
) -> None:
    """``|actual - expected| <= atol + rtol * |expected|`` everywhere.

    The message names the worst entry (its index, both values) and the hint.
    """
    actual = as_tensor(actual, what, shape=tuple(expected.shape))
    a, e = actual.to(torch.float64), expected.to(torch.float64)
    if torch.isnan(a).any() and not torch.isnan(e).any():
        raise GradingFailure(f"{what} returned NaN. {hint}".strip())
    excess = (a - e).abs() - (atol + rtol * e.abs())
    excess = torch.where(torch.isnan(excess), torch.inf, excess)
    if (excess <= 0).all():
        return
    worst = int(torch.argmax(excess.flatten()))
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), e.shape))
    raise GradingFailure(
        f"{what} is wrong at index {list(index)}: got {a[index].item():.6g}, "
        f"expected {e[index].item():.6g} (tolerance {atol:g} + {rtol:g}·|expected|"
        f"; {int((excess > 0).sum())} of {e.numel()} entries off). {hint}".strip()
    )


@dataclass
class Feedback:
    """Data a test attaches to its report: plots on the feedback page."""

    equivariance: list[dict[str, Any]] = field(default_factory=list)
    performance: dict[str, Any] | None = None

    def add_equivariance(self, title: str, report) -> None:
        """Record an `EquivarianceReport` (errors per group element)."""
        self.equivariance.append(
            {
                "title": title,
                "labels": list(report.labels),
                "errors": [float(e) for e in report.errors],
                "tolerance": float(report.tolerance),
            }
        )


@dataclass
class Perf:
    """Times a student's function against the reference's, in one run.

    Both run in identical, freshly forked workers on the same device; every
    repetition draws fresh inputs, times the reference and the student one
    after the other on the same inputs (so both see the same machine load),
    and checks the student's output. The score is the ratio of medians.
    """

    student: Session
    reference: Callable[[], Session]
    device: str
    feedback: Feedback
    repeats: int = 5
    full_ratio: float = 4.0
    half_ratio: float = 16.0
    max_seconds: float = 10.0

    def compare(
        self,
        what: str,
        build: Callable[[Remote], Remote],
        make_inputs: Callable[[int], tuple],
        expected: Callable[[tuple], torch.Tensor],
        *,
        atol: float,
        backward: bool = False,
        repeat: int = 1,
    ) -> float:
        """Time ``build(namespace)(*make_inputs(rep))`` in both workers.

        Args:
            what: a readable name of the operation, for the report.
            build: picks the callable from a namespace, e.g.
                ``lambda ns: ns.SE2().product``.
            make_inputs: the inputs of repetition ``rep`` (fresh each time).
            expected: the correct output for those inputs, computed here.
            atol: tolerance of the output check.
            backward: time the forward and the backward pass of
                ``sum(output)`` (gradients of inputs and parameters).
            repeat: calls per timed request, on the same inputs, so that
                fast operations are not drowned by the cost of the request;
                times are per call.

        Returns:
            The fraction of the points earned (1, 0.5 or 0).
        """
        ref_session = self.reference()
        ref_fn = build(ref_session.namespace())
        student_fn = build(self.student.namespace())
        ref_times, student_times = [], []
        extra: dict[str, Any] = {"repeat": repeat}
        if backward:
            extra["backward"] = True
        for rep in range(self.repeats + 1):
            args = make_inputs(rep)
            ref_time, _ = ref_session.timed(ref_fn, args, {}, 60.0, **extra)
            limit = max(self.max_seconds, 20 * ref_time)
            try:
                student_time, digest = self.student.timed(
                    student_fn, args, {}, limit, **extra
                )
            except StudentError as error:
                if error.kind == "timeout":
                    self._record(what, [ref_time], [math.inf])
                    raise GradingFailure(
                        f"{what} took longer than {limit:.1f} s on {self.device} "
                        f"where the reference takes {ref_time:.3f} s: vectorise it "
                        "(no Python loop over elements)"
                    ) from None
                raise
            self._check(what, digest, expected(args), atol, backward)
            if rep:
                ref_times.append(ref_time / repeat)
                student_times.append(student_time / repeat)
        ratio = self._record(what, ref_times, student_times)
        if ratio <= self.full_ratio:
            return 1.0
        message = (
            f"{what} is {ratio:.1f}× slower than the reference on {self.device} "
            f"(median {statistics.median(student_times) * 1e3:.1f} ms against "
            f"{statistics.median(ref_times) * 1e3:.1f} ms; full points up to "
            f"{self.full_ratio:g}×, half up to {self.half_ratio:g}×)"
        )
        if ratio <= self.half_ratio:
            self.feedback.performance["message"] = message
            return 0.5
        raise GradingFailure(message)

    def _check(self, what, digest, expected: torch.Tensor, atol: float, backward):
        kept = self.student.fetch(what)
        output = kept.get("output") if backward and isinstance(kept, dict) else kept
        assert_close(output, expected, what, atol=atol)
        mine = [0.0, 0.0]
        for leaf in _leaves(kept):
            if isinstance(leaf, torch.Tensor):
                values = leaf.to(torch.float64)
                mine[0] += float(values.sum())
                mine[1] += float((values * values).sum())
        ok = isinstance(digest, list) and len(digest) == 2
        if not ok or any(
            not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
            for a, b in zip(mine, digest, strict=True)
        ):
            raise GradingFailure(
                f"{what}: the output read after the timed call differs from the "
                "one computed during it"
            )

    def _record(self, what: str, ref_times: list, student_times: list) -> float:
        ref = statistics.median(ref_times)
        student = statistics.median(student_times)
        ratio = student / ref if ref > 0 else math.inf
        self.feedback.performance = {
            "what": what,
            "device": self.device,
            "reference_s": ref,
            "student_s": student,
            "ratio": ratio,
            "full_ratio": self.full_ratio,
            "half_ratio": self.half_ratio,
        }
        return ratio


def _leaves(value: Any):
    """The leaves of a nested value, in the worker's order (see its digest)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value
