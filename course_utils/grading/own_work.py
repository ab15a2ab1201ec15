"""Is the function handed to a grader the learner's own code? It must not be the course's
reference (`course_utils.resnet`, `course_utils.training.batchnorm` for chapter 5's
`fix_and_train`, `course_utils.training.mirror_finetune` for chapter 6's `random_mirror`,
`course_utils.grad_cam` for chapter 7's `grad_cam_map`, or
`course_utils.variants` for chapter 9's blocks), nor a thin wrapper that calls
the reference of the same name."""

from __future__ import annotations

import functools
import types
from collections.abc import Callable

from course_utils import grad_cam, resnet, variants
from course_utils.grading.harness import GradingFailure
from course_utils.training import batchnorm, mirror_finetune

MAX_DEPTH = 4  # how deep the learner's own helper functions are followed
LIBRARIES = {"course_utils", "keras", "tensorflow", "numpy"}
REFERENCE_MODULES = (resnet, batchnorm, mirror_finetune, grad_cam, variants)


def require_own_function(function, name: str) -> None:
    """Raise GradingFailure unless ``function`` is a function and the learner's own ``name``
    (`reference_problem`)."""
    if not callable(function):
        raise GradingFailure(f"{name} is {type(function).__name__}, not a function.")
    problem = reference_problem(function, name)
    if problem:
        raise GradingFailure(problem)


def reference_problem(function: Callable, name: str) -> str | None:
    """Why ``function`` is not the learner's own ``name``, or None when it is.

    Follows what the function calls by name: its globals, the modules it reaches through
    attributes, its closure and default arguments, and, up to MAX_DEPTH levels, the learner's own
    helper functions and lambdas.
    """
    module = next(m for m in REFERENCE_MODULES if hasattr(m, name))
    reference = getattr(module, name)
    where = f"{module.__name__}.{name}"
    if _unwrap(function) is reference:
        return (
            f"{name} is the course's reference implementation ({where}), not your own code: "
            f"write {name} yourself in the exercise cell, without importing it."
        )
    if _calls(function, reference, name, MAX_DEPTH, set()):
        return (
            f"{name} calls the course's reference implementation ({where}) instead of building "
            f"the layers itself: write {name} yourself in the exercise cell."
        )
    return None


def _unwrap(function):
    while isinstance(function, functools.partial):
        function = function.func
    return getattr(function, "__func__", function)


def _calls(function, reference, name: str, depth: int, seen: set[int]) -> bool:
    function = _unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None or id(function) in seen or depth < 0:
        return False
    seen.add(id(function))
    namespace = getattr(function, "__globals__", {})
    reachable = [namespace.get(n) for n in _names(code)]
    reachable += [cell.cell_contents for cell in (function.__closure__ or ()) if _filled(cell)]
    reachable += list(function.__defaults__ or ()) + list((function.__kwdefaults__ or {}).values())
    for value in reachable:
        if _unwrap(value) is reference:
            return True
        if isinstance(value, types.ModuleType) and getattr(value, name, None) is reference:
            if name in _names(code):
                return True
        if isinstance(value, types.FunctionType | functools.partial) and _learners(value):
            if _calls(value, reference, name, depth - 1, seen):
                return True
    return False


def _learners(function) -> bool:
    """False for the functions of the course and of the libraries it builds on."""
    module = getattr(_unwrap(function), "__module__", None) or ""
    return module.split(".")[0] not in LIBRARIES


def _names(code: types.CodeType) -> set[str]:
    """Every global or attribute name the code and its nested functions use."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names(constant)
    return names


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True
