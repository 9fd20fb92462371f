"""gedl's grading engine.

Student code runs in sandboxed worker processes (`autograder.worker`); the
parent process (`autograder.engine`) holds the hidden tests and the reference,
talks to workers through `autograder.protocol` (JSON and raw arrays, never
pickle) and computes every verdict itself.

This package's `__init__` imports nothing: the worker template preloads
`autograder.worker`, and nothing hidden may ride along with it.
"""

__all__: list[str] = []
