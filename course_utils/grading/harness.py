"""What every grader shares: calling learner code safely, filling weights, comparing outputs.

Graders judge behaviour: the learner's layers and the reference's get identical weights (a
deterministic function of each variable's role and shape, never of layer names), then both are run
on the same inputs, with negative values, in inference and in training mode.
"""

from __future__ import annotations

import io
import signal
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from contextvars import ContextVar
from dataclasses import dataclass

import keras
import numpy as np

from course_utils.grading.learner_errors import describe_error, hint_for

PASSED = "All tests passed."
FAILED = "Test failed: "  # what `report` prints before the reason of a failure
RTOL = 1e-4
ATOL = 1e-5


class GradingFailure(Exception):
    """A check failed; the message is the hint shown to the learner (first line: the verdict)."""


class LearnerFailure(GradingFailure):
    """The learner's function raised. ``explained``: the message already holds a hint about the
    error itself, so no hint about the architecture should be added to it."""

    def __init__(self, message: str, error: BaseException, explained: bool):
        super().__init__(message)
        self.error = error
        self.explained = explained


class LearnerTimeout(GradingFailure):
    """The learner's function did not return within TIME_LIMIT_S: it is not called again (for a
    hint, say), which would make the learner wait the time limit once more."""


@dataclass
class _Check:
    """The check running now: whether it has called the learner's function yet."""

    learner_called: bool = False


_current_check: ContextVar[_Check | None] = ContextVar("current_check", default=None)


def report(check: Callable[[], None]) -> bool:
    """Run ``check``; print ``All tests passed.`` and return True, or print the hint and return
    False. Never raises for learner mistakes (an unexpected error becomes a failure too).

    What the learner's function prints on its first call in ``check`` (see `call_learner`) is
    shown before the verdict."""
    token = _current_check.set(_Check())
    try:
        check()
    except GradingFailure as failure:
        print(f"{FAILED}{failure}")
        return False
    except Exception as error:
        print(f"{FAILED}the check itself stopped with {type(error).__name__}: {error}")
        return False
    finally:
        _current_check.reset(token)
    print(PASSED)
    return True


# Seconds a learner's function may take before the check gives up on it (a build of ResNet-50
# takes a few seconds, ten times more on a slow machine).
TIME_LIMIT_S = 300


class _TimeLimitReached(BaseException):
    """Raised inside learner code by the alarm; a BaseException so that `except Exception` in
    learner code cannot swallow it."""


@contextmanager
def time_limit(seconds: float):
    """Interrupt the block after ``seconds`` with _TimeLimitReached (main thread on Unix only;
    elsewhere the block runs without a limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def interrupt(signum, frame):
        raise _TimeLimitReached

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call_learner(function: Callable, *args, what: str, signature: str):
    """``function(*args)`` with a time limit, its standard error (Keras's warnings) hidden.

    What the function prints on its first call in a check (`report`) is shown, under the line
    ``Your function printed:``, so that a learner who prints to debug sees it; the check's other
    calls, and calls outside a check, print nothing.

    Args:
        what: how the call is named to the learner, e.g. ``identity_block``.
        signature: the expected signature, e.g. ``identity_block(X, f, filters, stage, block)``.

    Returns:
        What the function returned.

    Raises:
        LearnerFailure: it raised; the message names the error, with a hint about that error
            where there is one.
        LearnerTimeout: it did not return within TIME_LIMIT_S seconds.
    """
    check = _current_check.get()
    show = check is not None and not check.learner_called
    if check is not None:
        check.learner_called = True
    printed = io.StringIO()
    try:
        with redirect_stdout(printed), redirect_stderr(io.StringIO()):
            with time_limit(TIME_LIMIT_S):
                return function(*args)
    except _TimeLimitReached:
        raise LearnerTimeout(
            f"{what} did not return within {TIME_LIMIT_S} seconds: look for a loop that never "
            "ends (a `while` whose condition never changes, or a function that calls itself)."
        ) from None
    except Exception as error:
        hint = hint_for(error, what, signature)
        message = f"{what} raised {describe_error(error)}"
        if hint:
            message += f"\nHint: {hint}"
        raise LearnerFailure(message, error, explained=hint is not None) from error
    finally:
        if show:
            show_printed(printed.getvalue())


# At most this much of what the learner's function printed is shown (a loop may print a lot).
SHOWN_LINES = 40


def show_printed(text: str) -> None:
    """Print ``text``, what the learner's function printed, indented under a heading; nothing if
    it is empty. More than SHOWN_LINES lines are cut, saying how many were left out."""
    lines = text.rstrip().splitlines()
    if not lines:
        return
    cut = len(lines) - SHOWN_LINES
    shown = lines[:SHOWN_LINES] + ([f"... ({cut} more lines)"] if cut > 0 else [])
    print("Your function printed:")
    print("\n".join(f"    {line}" for line in shown))


def as_model(inputs, outputs, what: str) -> keras.Model:
    """The functional model from ``inputs`` to the learner's ``outputs``, or GradingFailure."""
    if not isinstance(outputs, keras.KerasTensor):
        raise GradingFailure(
            f"{what} returned {type(outputs).__name__}, not a tensor. Return the block's output "
            "tensor X (the result of the last layer you applied) at the end of the function."
        )
    try:
        return keras.Model(inputs, outputs)
    except Exception as error:
        raise GradingFailure(
            f"{what} returned a tensor that does not come from its input X "
            f"({describe_error(error)}). Build every layer on X, the argument of the function."
        ) from error


def layers_of(model: keras.Model, kind: type) -> list:
    """The layers of ``model`` that are instances of ``kind``, in graph order."""
    return [layer for layer in model.layers if isinstance(layer, kind)]


def consumers(model: keras.Model, layer) -> list:
    """The layers of ``model`` that take ``layer``'s output as one of their inputs."""
    output = layer.output
    found = []
    for other in model.layers:
        try:
            inputs = keras.tree.flatten(other.input)
        except (AttributeError, ValueError):  # an input layer, or a layer called several times
            continue
        if any(tensor is output for tensor in inputs):
            found.append(other)
    return found


def weight_signature(model: keras.Model) -> Counter:
    """The multiset of (variable role, shape) of all of the model's weights."""
    return Counter((v.name, tuple(v.shape)) for v in model.weights)


def fill_weights(model: keras.Model) -> None:
    """Give every variable values that depend only on its role (kernel, gamma, ...) and shape.

    Two models with the same layers thus get the same weights, whatever the layers' names or
    creation order. Moving statistics are not the identity, so inference differs from training.
    """
    for variable in model.weights:
        variable.assign(fill_value(variable))


def fill_value(variable) -> np.ndarray:
    """The value `fill_weights` gives ``variable``: drawn from a seed made of its role and shape."""
    shape = tuple(variable.shape)
    seed = zlib.crc32(f"{variable.name}{shape}".encode())
    rng = np.random.default_rng(seed)
    low, high = _value_range(variable.name, shape)
    values = rng.random(shape, dtype=np.float32)  # float32 directly: ResNet-50 has 23.6M
    values *= high - low
    values += low
    return values.astype(variable.dtype, copy=False)


def filled_outputs(model: keras.Model, x: np.ndarray):
    """The model's inference output for ``x`` (NumPy; a list for several outputs) with every
    variable at its `fill_value`; the model's own values stay as they are."""
    trainable = [fill_value(v) for v in model.trainable_variables]
    non_trainable = [fill_value(v) for v in model.non_trainable_variables]
    result, _ = model.stateless_call(trainable, non_trainable, x, training=False)
    return _as_numpy(result)


def _value_range(role: str, shape: tuple) -> tuple[float, float]:
    if role == "kernel":
        fan_in = int(np.prod(shape[:-1]))
        fan_out = int(shape[-1] * np.prod(shape[:-2]))
        limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
        return -limit, limit
    ranges = {
        "bias": (-0.1, 0.1),
        "gamma": (0.5, 1.5),
        "beta": (-0.5, 0.5),
        "moving_mean": (-0.3, 0.3),
        "moving_variance": (0.5, 1.5),
    }
    return ranges.get(role, (-0.1, 0.1))


def outputs(model: keras.Model, x: np.ndarray, training: bool):
    """The model's output for ``x`` as NumPy, a list of arrays for a model of several outputs.

    BatchNormalization's moving statistics, which a call in training mode updates, are restored.
    """
    if not training:  # inference mode leaves the moving statistics as they are
        return _as_numpy(model(x, training=False))
    saved = [v.numpy() for v in model.non_trainable_weights]
    result = _as_numpy(model(x, training=True))
    for variable, value in zip(model.non_trainable_weights, saved, strict=True):
        variable.assign(value)
    return result


def _as_numpy(result):
    if isinstance(result, list | tuple):
        return [keras.ops.convert_to_numpy(r) for r in result]
    return keras.ops.convert_to_numpy(result)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shapes and values within the graders' float32 tolerance."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def outputs_in_both_modes(model: keras.Model, x: np.ndarray) -> dict[bool, np.ndarray]:
    """{training: output} for inference (False) and training (True) mode."""
    return {training: outputs(model, x, training) for training in (False, True)}


def agreement(ours: dict[bool, np.ndarray], theirs: dict[bool, np.ndarray]) -> dict[bool, bool]:
    """{training: outputs agree} of two ``outputs_in_both_modes`` results."""
    return {training: same(ours[training], theirs[training]) for training in ours}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def shape_text(shape: Sequence) -> str:
    return "(" + ", ".join("m" if d is None else str(d) for d in shape) + ")"
