"""Learner code for the grader tests: the reference exercises with mistakes edited in, and the
grader's verdict on them."""

from __future__ import annotations

import contextlib
import io
import itertools
import linecache

import keras
from keras import layers
from keras.initializers import glorot_uniform

from course_utils import grading, resnet

_CELLS = itertools.count(1)

GRADER_OF = {
    "identity_block": "check_identity_block",
    "convolutional_block": "check_convolutional_block",
    "ResNet50": "check_resnet50",
}


def edit(source: str, replacements) -> str:
    """``source`` with each (old, new) of ``replacements`` replaced; each old occurs once."""
    for old, new in replacements:
        assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times"
        source = source.replace(old, new)
    return source


def define(source: str, function: str):
    """Run an exercise cell's ``source`` as a chapter would (its imports, the reference blocks)
    and return the function it defines."""
    namespace = {
        "keras": keras,
        "layers": layers,
        "glorot_uniform": glorot_uniform,
        "RESNET50_STAGES": resnet.RESNET50_STAGES,
        "identity_block": resnet.identity_block,
        "convolutional_block": resnet.convolutional_block,
    }
    # As IPython does for a cell: the source is kept in linecache under a name of its own, so
    # that tracebacks and inspect.getsource see it.
    filename = f"<learner-cell-{next(_CELLS)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[function]


def grade(function: str, implementation) -> tuple[bool, str]:
    """(result, printed text) of the grader of ``function`` on ``implementation``."""
    keras.backend.clear_session()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = getattr(grading, GRADER_OF[function])(implementation)
    return result, printed.getvalue()
