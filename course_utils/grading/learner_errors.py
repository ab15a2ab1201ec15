"""What to tell a learner whose function raised: the error in a line, and a hint about that error
itself (a name that is not defined, a Keras 2 habit, a wrong signature, an exercise not yet
written) rather than about the architecture."""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import keras

MAX_MESSAGE = 400
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
KERAS_LAYER_NAMES = frozenset(name for name in dir(keras.layers) if name[:1].isupper())
# Other names the original assignment imported bare, with their import in this course.
OTHER_KERAS_NAMES = {
    "Model": "keras.Model",
    "Input": "layers.Input",
    "glorot_uniform": "keras.initializers.glorot_uniform",
    "load_model": "keras.models.load_model",
}


def is_learners(filename: str) -> bool:
    """Whether code of this file is the learner's own: not Keras's, not the course's."""
    return "keras" not in filename and not filename.startswith(_PACKAGE_DIR)


def learner_frames(error: BaseException) -> list[traceback.FrameSummary]:
    """The traceback's frames in the learner's own code."""
    return [f for f in traceback.extract_tb(error.__traceback__) if is_learners(f.filename)]


def describe_error(error: BaseException) -> str:
    """``TypeName: message`` with the learner's line: colour codes removed, a long message cut
    at a word, and no empty line text where the source is not available."""
    message = " ".join(_ANSI.sub("", str(error)).split())
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE].rsplit(" ", 1)[0] + " ..."
    frames = learner_frames(error)
    where = ""
    if frames:
        line = (frames[-1].line or "").strip()
        where = f" (at line {frames[-1].lineno}" + (f": {line})" if line else ")")
    return f"{type(error).__name__}{': ' + message if message else ''}{where}"


def hint_for(error: BaseException, what: str, signature: str) -> str | None:
    """A hint about the error itself, or None where the error says nothing specific.

    Args:
        error: what the learner's function raised.
        what: how the call is named to the learner, e.g. ``identity_block``.
        signature: the function's expected signature, e.g. ``identity_block(X, f, filters,
            stage, block)``.
    """
    name = signature.split("(", 1)[0]
    if isinstance(error, NotImplementedError):
        return (
            f"{name} is not written yet: replace `raise NotImplementedError` with your code "
            "between ### START CODE HERE ### and ### END CODE HERE ###, run that cell, then "
            "this one."
        )
    if isinstance(error, NameError) and getattr(error, "name", None):
        return _name_hint(error.name)
    if isinstance(error, TypeError):
        text = str(error)
        if "AveragePooling2D" in text and "pool_size" in text:
            return (
                "In Keras 3, AveragePooling2D has no default pool_size (Keras 2's was (2, 2)): "
                "write layers.AveragePooling2D((2, 2))."
            )
        if not learner_frames(error):  # raised by the call itself: the arguments do not fit
            return (
                f"{what} could not be called as the course calls it ({text}): define it as "
                f"`def {signature}:`."
            )
    return None


def _name_hint(name: str) -> str:
    if name in KERAS_LAYER_NAMES:
        return (
            f"`{name}` is not defined: this chapter imports Keras's layers as `layers`, so write "
            f"`layers.{name}(...)` (or add `from keras.layers import {name}` to your cell)."
        )
    if name in OTHER_KERAS_NAMES:
        full = OTHER_KERAS_NAMES[name]
        module, _, short = full.rpartition(".")
        return (
            f"`{name}` is not defined: write `{full}` (or add `from {module} import {short}` to "
            "your cell)."
        )
    return (
        f"`{name}` is not defined where it is used: check its spelling, and that it is assigned "
        "(or imported) before that line runs."
    )


def shapes_at_failure(error: BaseException) -> list[str]:
    """``X had shape (m, 8, 8, 512) at line 31`` for the tensor ``X`` of each learner frame of the
    traceback that holds one, innermost last."""
    found = []
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        code = frame.f_code
        tensor = frame.f_locals.get("X") if is_learners(code.co_filename) else None
        if isinstance(tensor, keras.KerasTensor):
            shape = "(" + ", ".join("m" if d is None else str(d) for d in tensor.shape) + ")"
            found.append(f"X had shape {shape} at line {tb.tb_lineno} of {code.co_name}")
        tb = tb.tb_next
    return found
