"""Requests beyond plain calls: modules, state dicts, backward passes, timing."""

from __future__ import annotations

import pytest
import torch

from autograder.grading import Feedback, GradingFailure, Perf
from autograder.remote import Session, WorkerTemplate

CELLS = [
    {
        "id": "model",
        "source": (
            "import torch\n"
            "class Scale(torch.nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.weight = torch.nn.Parameter(torch.ones(3))\n"
            "        self.unused = torch.nn.Parameter(torch.ones(1))\n"
            "    def forward(self, x):\n"
            "        return x * self.weight\n"
            "def square(x):\n"
            "    return x * x\n"
        ),
    }
]


@pytest.fixture(scope="module")
def session():
    template = WorkerTemplate()
    session = Session(template, cells=CELLS)
    session.start()
    yield session
    session.close()
    template.close()


def test_state_dict_travels(session):
    module = session.namespace().Scale()
    module.load_state_dict(
        {"weight": torch.tensor([1.0, 2.0, 3.0]), "unused": torch.zeros(1)}
    )
    out = module(torch.ones(2, 3))
    assert torch.equal(out, torch.tensor([[1.0, 2.0, 3.0]] * 2))


def test_backward_returns_gradients(session):
    module = session.namespace().Scale()
    x = torch.tensor([[1.0, 2.0, 3.0]])
    result = session.backward(module, (x,), cotangent=torch.tensor([[1.0, 0.0, 2.0]]))
    assert torch.equal(result["output"], x)
    assert torch.equal(result["input_grads"][0], torch.tensor([[1.0, 0.0, 2.0]]))
    assert torch.equal(result["param_grads"]["weight"], torch.tensor([1.0, 0.0, 6.0]))
    assert result["param_grads"]["unused"] is None


def test_timed_call_is_checked_against_expected(session):
    perf = Perf(session, lambda: session, "cpu", Feedback(), repeats=2)

    def inputs(rep):
        return (torch.arange(1000.0) + rep,)

    fraction = perf.compare(
        "square", lambda ns: ns.square, inputs, lambda args: args[0] ** 2, atol=1e-6
    )
    assert fraction == 1.0
    assert perf.feedback.performance["ratio"] > 0
    with pytest.raises(GradingFailure, match="is wrong"):
        perf.compare(
            "square", lambda ns: ns.square, inputs, lambda args: args[0] ** 3, atol=1e-6
        )


def test_timed_backward(session):
    perf = Perf(session, lambda: session, "cpu", Feedback(), repeats=1)
    fraction = perf.compare(
        "Scale",
        lambda ns: ns.Scale(),
        lambda rep: (torch.ones(4, 3),),
        lambda args: args[0],
        atol=0.0,
        backward=True,
    )
    assert fraction == 1.0


def test_python_loop_is_slower(session):
    """The same name, vectorised in the 'reference', a loop in the student's."""
    loop = Session(
        session.template,
        cells=[
            {
                "id": "s",
                "source": (
                    "import torch\n"
                    "def square(x):\n"
                    "    return torch.stack([v * v for v in x])\n"
                ),
            }
        ],
    )
    loop.start()
    try:
        perf = Perf(
            loop,
            lambda: session,
            "cpu",
            Feedback(),
            repeats=3,
            full_ratio=2.0,
            half_ratio=4.0,
        )
        with pytest.raises(GradingFailure, match="slower than the reference"):
            perf.compare(
                "square",
                lambda ns: ns.square,
                lambda rep: (torch.arange(20000.0),),
                lambda args: args[0] ** 2,
                atol=1e-3,
            )
        assert perf.feedback.performance["ratio"] > 4.0
    finally:
        loop.close()
